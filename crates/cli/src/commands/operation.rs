//! `concordat operation`: read operations and their role history as of any moment.

use super::{As, Global, acting, describe, source};
use clap::Subcommand;
use concordat_domain::time::Timestamp;
use concordat_server::tasking;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum OperationCommand {
    /// List the operations your organisation has held a role in.
    #[command(after_help = "Example:\n  concordat operation list --as nca.tasking")]
    List {
        #[command(flatten)]
        who: As,
    },
    /// Show an operation: its role history, the roles at a moment, and its outcomes.
    #[command(
        after_help = "Example:\n  concordat operation show ID --as nca.tasking --as-of 2026-11-01T09:00:00Z"
    )]
    Show {
        #[command(flatten)]
        who: As,
        /// The operation's identifier.
        id: String,
        /// The moment to read the roles at (RFC 3339); now if absent.
        #[arg(long)]
        as_of: Option<String>,
    },
}

pub async fn run(global: &Global, command: OperationCommand) -> anyhow::Result<ExitCode> {
    match command {
        OperationCommand::List { who } => {
            let (app, me) = acting(global, &who.username).await?;
            let found = tasking::operations(&app, &me).await.map_err(describe)?;
            if found.is_empty() {
                println!("No operations.");
            }
            for op in found {
                let lead = op.lead.map(|l| l.to_string()).unwrap_or_default();
                println!("{}  {:<32} lead {}", op.id, op.code_name, lead);
            }
        }
        OperationCommand::Show { who, id, as_of } => {
            let (app, me) = acting(global, &who.username).await?;
            let as_of = match as_of {
                None => Timestamp::now(),
                Some(text) => serde_json::from_value(serde_json::Value::String(text))
                    .map_err(|_| anyhow::anyhow!("--as-of: is not an RFC 3339 date and time"))?,
            };
            let id = id
                .parse()
                .map_err(|_| anyhow::anyhow!("id: is not an operation identifier"))?;
            let op = tasking::visible_operation(&app, &me, id)
                .await
                .map_err(describe)?;
            concordat_server::reads::record_read(
                &app,
                &me,
                &source(),
                "operation",
                op.id,
                "operation",
            )
            .await
            .map_err(describe)?;
            println!("{}  {}", op.id, op.code_name);
            println!(
                "  threat areas {}; strands {}",
                op.threat_areas,
                op.strands
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !op.capabilities.is_empty() {
                println!("  capabilities {}", op.capabilities.join(", "));
            }
            println!("  role history:");
            for span in &op.roles.0 {
                println!("    {span} — {}", span.reason);
            }
            match op.roles.as_of(as_of) {
                Some(roles) => println!("  roles as of {as_of}: {roles}"),
                None => println!("  no roles as of {as_of}: the operation had not begun"),
            }
            for o in &op.outcomes {
                println!(
                    "  outcome {}: {} — {} arrests, {} charges",
                    o.outcome.occurred_at,
                    o.outcome
                        .disruption
                        .map(|d| d.as_str())
                        .unwrap_or("no disruption graded"),
                    o.outcome.arrests,
                    o.outcome.charges
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
