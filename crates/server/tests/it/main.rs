//! Story tests: a real server on a random port over a fresh, migrated store, driven
//! over HTTP. Every story runs on SQLite and on PostgreSQL.

mod helpers;

mod api_errors;
mod audit;
mod briefing;
mod browser;
mod deconfliction;
mod directions;
mod events;
mod fuzz_findings;
mod handling;
mod matrix;
mod metrics;
mod notifications;
mod pages;
mod pages_admin;
mod pages_dec;
mod pages_ops;
mod pages_requests;
mod registry;
mod sign_in;
mod sso;
mod tasking;
mod tokens;
mod totp;
mod users;
