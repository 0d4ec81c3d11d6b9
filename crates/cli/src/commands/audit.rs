//! `concordat audit verify`: walk the hash chain and report the first break.

use super::{Global, open_store};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every entry of the audit log against the one before it. Exits with 1 and
    /// names the first broken entry if the log was tampered with.
    #[command(
        after_help = "Example:\n  concordat audit verify --database-url postgres://concordat@db/concordat"
    )]
    Verify,
}

pub async fn run(global: &Global, command: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify = command;
    let store = open_store(global).await?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(
        "{spinner} checked {pos} entries ({per_sec})",
    )?);
    let report = store
        .verify_audit_chain(|checked| bar.set_position(u64::try_from(checked).unwrap_or(0)))
        .await?;
    bar.finish_and_clear();
    store.close().await;
    match report.first_break {
        None => {
            println!(
                "The audit log is intact: {} entries, head {}.",
                report.checked, report.head
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(found) => {
            println!(
                "The audit log is BROKEN at entry {}: {}.",
                found.seq, found.reason
            );
            println!(
                "{} entries before it are sound (last sound head {}).",
                report.checked, report.head
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
