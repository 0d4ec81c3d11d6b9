//! `concordat org`: read the partner registry.

use super::{Global, open_store};
use clap::Subcommand;
use concordat_domain::registry::{OrganisationKind, RocuRegion};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List organisations.
    #[command(
        after_help = "Examples:\n  concordat org list\n  concordat org list --kind rocu\n  concordat org list --region north-west"
    )]
    List {
        /// Only organisations of this kind (e.g. territorial-police, rocu, island-force).
        #[arg(long)]
        kind: Option<String>,
        /// Only organisations in this ROCU region (e.g. north-west, london).
        #[arg(long)]
        region: Option<String>,
    },
}

pub async fn run(global: &Global, command: OrgCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    let OrgCommand::List { kind, region } = command;
    let kind = kind
        .as_deref()
        .map(str::parse::<OrganisationKind>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let region = region
        .as_deref()
        .map(str::parse::<RocuRegion>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let orgs: Vec<_> = store
        .organisations()
        .await?
        .into_iter()
        .filter(|o| kind.is_none_or(|k| o.kind == k))
        .filter(|o| region.is_none_or(|r| o.region == Some(r)))
        .collect();
    println!("{:<30} {:<26} {:<26} NAME", "CODE", "KIND", "REGION");
    for o in &orgs {
        let region = o.region.map(|r| r.name()).unwrap_or("-");
        println!("{:<30} {:<26} {:<26} {}", o.code, o.kind, region, o.name);
    }
    println!("{} organisation(s)", orgs.len());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
