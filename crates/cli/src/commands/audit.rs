//! `concordat audit verify`: walk the hash chain and report the first break.
//! `concordat audit who-saw KIND:ID`: who read or changed a record, when, and how.

use super::{Global, open_store};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every entry of the audit log against the one before it. Exits with 1 and
    /// names the first broken entry if the log was tampered with.
    ///
    /// It prints the head as SEQ:HASH: publish that outside the database (in the
    /// tasking group's minutes, say) and pass it back with --anchor later, to show that
    /// no entry up to it was removed from the end.
    #[command(
        after_help = "Example:\n  concordat audit verify --database-url postgres://concordat@db/concordat\n  concordat audit verify --anchor 1042:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )]
    Verify {
        /// An earlier head, as SEQ:HASH, that the log must still contain.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Who read or changed a record, when, from where and through what, from the audit
    /// log (oldest first).
    #[command(
        after_help = "Example:\n  concordat audit who-saw request:01a2127d-1ff3-7227-ba8a-76304104b336"
    )]
    WhoSaw {
        /// The record, as KIND:ID (kinds: request, operation, subject, registration,
        /// hit, direction, user, ...).
        record: String,
    },
}

pub async fn run(global: &Global, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { anchor } => verify(global, anchor.as_deref()).await,
        AuditCommand::WhoSaw { record } => who_saw(global, &record).await,
    }
}

async fn who_saw(global: &Global, record: &str) -> anyhow::Result<ExitCode> {
    let Some((kind, id)) = record
        .split_once(':')
        .filter(|(k, i)| !k.is_empty() && !i.is_empty())
    else {
        anyhow::bail!("record: give it as KIND:ID, e.g. request:01a2127d-...");
    };
    let store = open_store(global).await?;
    let mut entries = vec![];
    let mut before = None;
    loop {
        let page = store
            .audit_entries(&concordat_store::AuditFilter {
                record_kind: Some(kind.to_owned()),
                record_id: Some(id.to_owned()),
                actor_id: None,
                before_seq: before,
                limit: 500,
            })
            .await?;
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        entries.extend(page);
    }
    store.close().await;
    if entries.is_empty() {
        println!("The audit log has nothing about {kind}:{id}.");
        return Ok(ExitCode::SUCCESS);
    }
    entries.sort_by_key(|e| e.seq);
    let readers: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter(|e| e.action == "record.read")
        .map(|e| e.actor_name.as_str())
        .collect();
    println!(
        "{} entries about {kind}:{id}; read by: {}",
        entries.len(),
        if readers.is_empty() {
            "nobody".to_owned()
        } else {
            readers.into_iter().collect::<Vec<_>>().join(", ")
        }
    );
    for e in &entries {
        let view = serde_json::from_str::<serde_json::Value>(&e.detail)
            .ok()
            .and_then(|d| d["view"].as_str().map(str::to_owned))
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        println!(
            "{}  {:<28} {:<24} from {}{view}",
            e.at,
            e.action,
            if e.actor_name.is_empty() {
                &e.actor_kind
            } else {
                &e.actor_name
            },
            if e.source.is_empty() { "-" } else { &e.source },
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify(global: &Global, anchor: Option<&str>) -> anyhow::Result<ExitCode> {
    let anchor = anchor
        .map(|text| {
            text.split_once(':')
                .and_then(|(seq, hash)| {
                    Some((
                        seq.parse::<i64>().ok()?,
                        concordat_domain::audit::ChainHash::from_hex(hash)?,
                    ))
                })
                .ok_or_else(|| {
                    anyhow::anyhow!("--anchor: give it as SEQ:HASH, as `audit verify` printed it")
                })
        })
        .transpose()?;
    let store = open_store(global).await?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template(
        "{spinner} checked {pos} entries ({per_sec})",
    )?);
    let report = store
        .verify_audit_chain_against(anchor, |checked| {
            bar.set_position(u64::try_from(checked).unwrap_or(0))
        })
        .await?;
    bar.finish_and_clear();
    store.close().await;
    match report.first_break {
        None => {
            println!(
                "The audit log is intact: {} entries, head {}:{}.",
                report.checked, report.last_seq, report.head
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
