//! `concordat org`: read the partner registry, and set how an organisation's people
//! must sign in.

use super::{Global, actor, describe, open_store, source};
use clap::Subcommand;
use concordat_domain::registry::{OrgCode, OrganisationKind, RocuRegion};
use concordat_domain::totp::SignInPolicy;
use concordat_server::accounts;
use concordat_store::Store;
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
    /// Set how an organisation's people must sign in. Requiring a security code takes
    /// effect at once: people without one can only set one up until they have.
    #[command(
        name = "sign-in-policy",
        after_help = "Example:\n  concordat org sign-in-policy mps --require-totp true"
    )]
    SignInPolicy {
        /// The organisation's code (see `concordat org list`).
        code: String,
        /// Whether everyone must give a security code from an authenticator app.
        #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
        require_totp: bool,
    },
}

pub async fn run(global: &Global, command: OrgCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    match command {
        OrgCommand::List { kind, region } => list(&store, kind, region).await?,
        OrgCommand::SignInPolicy { code, require_totp } => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("CODE: {e}"))?;
            let policy = SignInPolicy { require_totp };
            accounts::set_sign_in_policy(
                &store,
                actor("org sign-in-policy"),
                &source(),
                &code,
                policy,
            )
            .await
            .map_err(|e| match e {
                concordat_server::error::AppError::NotFound => {
                    anyhow::anyhow!("there is no organisation `{code}`")
                }
                other => describe(other),
            })?;
            if require_totp {
                println!("{code} now requires a security code at sign-in.");
            } else {
                println!("{code} no longer requires a security code at sign-in.");
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn list(store: &Store, kind: Option<String>, region: Option<String>) -> anyhow::Result<()> {
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
    Ok(())
}
