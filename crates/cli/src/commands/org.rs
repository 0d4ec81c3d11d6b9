//! `concordat org`: read the partner registry, set how an organisation's people must
//! sign in, and manage its outgoing webhooks.

use super::{Global, actor, describe, open_store, source};
use clap::Subcommand;
use concordat_domain::notification::{NoticeKinds, WebhookId, WebhookUrl};
use concordat_domain::registry::{OrgCode, OrganisationKind, RocuRegion};
use concordat_domain::totp::SignInPolicy;
use concordat_server::error::AppError;
use concordat_server::{accounts, webhooks};
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
    /// Manage an organisation's outgoing webhooks: notices about OFFICIAL records,
    /// POSTed as JSON and signed with HMAC-SHA256 (see the README).
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Make a webhook; prints its signing secret, which is shown only now.
    #[command(
        after_help = "Example:\n  concordat org webhook add mps --url https://alerts.mps.example/concordat --kinds request-received,deconfliction-hit\n\nKinds: request-received, request-decided, request-overdue, request-expired,\ndirection-issued, deconfliction-hit."
    )]
    Add {
        /// The organisation's code (see `concordat org list`).
        code: String,
        /// Where to deliver: an http or https URL.
        #[arg(long)]
        url: String,
        /// Which notices to deliver, comma-separated.
        #[arg(long)]
        kinds: String,
    },
    /// List an organisation's webhooks, removed ones included (never their secrets).
    #[command(after_help = "Example:\n  concordat org webhook list mps")]
    List {
        /// The organisation's code.
        code: String,
    },
    /// Remove a webhook: nothing more is sent to it, and what was pending fails.
    #[command(after_help = "Example:\n  concordat org webhook remove mps 0192f0c4-...")]
    Remove {
        /// The organisation's code.
        code: String,
        /// The webhook's identifier (see `concordat org webhook list`).
        id: String,
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
        OrgCommand::Webhook(command) => webhook(&store, command).await?,
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

fn org_code(code: &str) -> anyhow::Result<OrgCode> {
    OrgCode::parse(code).map_err(|e| anyhow::anyhow!("CODE: {e}"))
}

/// Says "no such organisation" or "no such webhook" for a not-found, and describes
/// anything else.
fn not_found_as(what: String) -> impl Fn(AppError) -> anyhow::Error {
    move |e| match e {
        AppError::NotFound => anyhow::anyhow!("{what}"),
        other => describe(other),
    }
}

async fn webhook(store: &Store, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { code, url, kinds } => {
            let code = org_code(&code)?;
            let url =
                WebhookUrl::parse(&url).map_err(|e| anyhow::anyhow!("--url: {}", e.message))?;
            let kinds = NoticeKinds::parse_list(&kinds)
                .map_err(|e| anyhow::anyhow!("--kinds: {}", e.message))?;
            let (hook, secret) = webhooks::create(
                store,
                actor("org webhook add"),
                &source(),
                &code,
                url,
                kinds,
            )
            .await
            .map_err(not_found_as(format!("there is no organisation `{code}`")))?;
            println!(
                "Webhook {} for {code}: {} ({})",
                hook.id, hook.url, hook.kinds
            );
            println!("Signing secret (shown only now; give it to the receiver):");
            println!("{}", secret.expose());
        }
        WebhookCommand::List { code } => {
            let code = org_code(&code)?;
            store
                .organisation(&code)
                .await
                .map_err(|_| anyhow::anyhow!("there is no organisation `{code}`"))?;
            let hooks = store.webhooks(&code).await?;
            println!("{:<36} {:<8} {:<40} URL", "ID", "STATE", "KINDS");
            for hook in &hooks {
                let state = if hook.disabled_at.is_some() {
                    "removed"
                } else {
                    "active"
                };
                println!(
                    "{:<36} {:<8} {:<40} {}",
                    hook.id,
                    state,
                    hook.kinds.to_string(),
                    hook.url
                );
            }
            println!("{} webhook(s)", hooks.len());
        }
        WebhookCommand::Remove { code, id } => {
            let code = org_code(&code)?;
            let id: WebhookId = id
                .parse()
                .map_err(|_| anyhow::anyhow!("ID: `{id}` is not a webhook identifier"))?;
            webhooks::remove(store, actor("org webhook remove"), &source(), &code, id)
                .await
                .map_err(not_found_as(format!("{code} has no webhook {id}")))?;
            println!("Webhook {id} of {code} is removed.");
        }
    }
    Ok(())
}
