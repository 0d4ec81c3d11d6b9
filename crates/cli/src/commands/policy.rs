//! `concordat policy`: check a Commitment-test policy file, and replay past decisions
//! against it to see what would change.

use super::{Global, describe, open_store};
use clap::Subcommand;
use concordat_server::rules::Rules;
use concordat_server::{AppState, ServerConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file; errors name the line and column.
    #[command(after_help = "Example:\n  concordat policy check policy-2026.2.toml")]
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Re-evaluate every decided request against the policy given with --policy,
    /// with the facts as they stood when it was decided, and report what would change.
    #[command(after_help = "Example:\n  concordat policy replay --policy policy-2026.2.toml")]
    Replay,
}

pub async fn run(global: &Global, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check { file } => {
            let rules = Rules::load(Some(&file)).map_err(anyhow::Error::msg)?;
            println!(
                "{}: policy version {} is valid.",
                file.display(),
                rules.policy.version()
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Replay => {
            let Some(file) = &global.policy else {
                anyhow::bail!("--policy: name the policy file to replay past decisions against");
            };
            let rules = Rules::load(Some(file)).map_err(anyhow::Error::msg)?;
            let policy = rules.policy.clone();
            let store = open_store(global).await?;
            let state = AppState::new(store.clone(), ServerConfig::default(), rules);
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} decisions replayed")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let lines = concordat_server::tasking::replay(&state, &policy, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await
            .map_err(describe)?;
            bar.finish_and_clear();
            let changed: Vec<_> = lines.iter().filter(|l| !l.changes.is_empty()).collect();
            println!(
                "Replayed {} decided requests against policy {}: {} would change.",
                lines.len(),
                policy.version(),
                changed.len()
            );
            for line in &changed {
                println!(
                    "{}  {} (decided under {})",
                    line.request, line.title, line.recorded_version
                );
                for change in &line.changes {
                    println!("    {change}");
                }
                if line.decision_would_depart {
                    println!("    the decision taken would now depart from the recommendation");
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
