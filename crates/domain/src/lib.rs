//! Concordat's domain: the types and rules of the operating model in *The NCA Commitment
//! to Working in Partnership with UK Operational Partners* (cited as ¶ and Annex).
//!
//! This crate does no I/O. Every value of its public types is valid by construction
//! ("parse, don't validate"): the server and the store turn outside input into these
//! types once, at the boundary, and nothing downstream re-checks it. Rules that come
//! from the source document cite their paragraph next to the code that implements them.
#![warn(missing_docs)]

pub mod audit;
pub mod briefing;
pub mod decision;
pub mod deconfliction;
pub mod direction;
pub mod events;
pub mod handling;
pub mod notification;
pub mod operation;
pub mod people;
pub mod policy;
pub mod registry;
pub mod sso;
pub mod subject;
pub mod tasking;
mod text;
pub mod threat;
pub mod time;
pub mod totp;
