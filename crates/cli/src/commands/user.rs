//! `concordat user`: add, list, disable and enable accounts; reset a second factor.

use super::{Global, actor, describe, open_store, source};
use clap::{Args, Subcommand};
use concordat_domain::people::{Clearance, DgAuthority, DisplayName, Roles, UserStatus, Username};
use concordat_domain::registry::OrgCode;
use concordat_server::accounts::{self, AccountRequest};
use concordat_store::{Store, UserFilter};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account with a one-time password.
    #[command(
        after_help = "Example:\n  concordat user add --username j.smith --name \"DS Jane Smith\" --organisation mps --roles tasking-officer,viewer --clearance sc"
    )]
    Add(AddArgs),
    /// List accounts.
    #[command(after_help = "Example:\n  concordat user list --organisation mps")]
    List {
        /// Only this organisation's accounts.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Disable an account: it can no longer sign in, and its sessions end.
    #[command(after_help = "Example:\n  concordat user disable j.smith")]
    Disable {
        /// The account's username.
        username: String,
    },
    /// Enable a disabled account.
    #[command(after_help = "Example:\n  concordat user enable j.smith")]
    Enable {
        /// The account's username.
        username: String,
    },
    /// Reset an account's two-factor sign-in (a lost authenticator): they sign in with
    /// their password alone and can set up a new security code.
    #[command(
        name = "reset-totp",
        after_help = "Example:\n  concordat user reset-totp j.smith"
    )]
    ResetTotp {
        /// The account's username.
        username: String,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Sign-in name.
    #[arg(long)]
    username: String,
    /// Name shown to others.
    #[arg(long)]
    name: String,
    /// Organisation code (see `concordat org list`).
    #[arg(long)]
    organisation: String,
    /// Comma-separated roles: administrator, tasking-officer, case-officer, analyst,
    /// group-chair, senior-decision-maker, viewer.
    #[arg(long)]
    roles: String,
    /// Vetting level: bpss, ctc, sc or dv.
    #[arg(long)]
    clearance: String,
    /// Give a national agency senior decision-maker the Director General's delegated authority.
    #[arg(long)]
    dg_authority: bool,
}

fn field<T>(flag: &str, r: Result<T, concordat_domain::people::FieldError>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("--{flag}: {}", e.message))
}

pub async fn run(global: &Global, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    match command {
        UserCommand::Add(args) => {
            let request = AccountRequest {
                username: field("username", Username::parse(&args.username))?,
                display_name: field("name", DisplayName::parse(&args.name))?,
                organisation: OrgCode::parse(&args.organisation)
                    .map_err(|e| anyhow::anyhow!("--organisation: {e}"))?,
                roles: field("roles", Roles::parse_list(&args.roles))?,
                clearance: field("clearance", args.clearance.parse::<Clearance>())?,
                dg_authority: if args.dg_authority {
                    DgAuthority::Delegated
                } else {
                    DgAuthority::None
                },
            };
            let (user, password) =
                accounts::create_user(&store, actor("user add"), &source(), request)
                    .await
                    .map_err(describe)?;
            println!(
                "Created {} ({}) in {}.",
                user.username, user.id, user.organisation
            );
            println!("One-time password: {}", password.expose());
            println!("Pass it on securely; it must be changed at first sign-in.");
        }
        UserCommand::List { organisation } => {
            let organisation = organisation
                .as_deref()
                .map(OrgCode::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--organisation: {e}"))?;
            let users = store.users(&UserFilter { organisation }).await?;
            println!(
                "{:<20} {:<28} {:<10} {:<8} {:<9} {:<5} ROLES",
                "USERNAME", "ORGANISATION", "STATUS", "CLEARED", "DG", "2FA"
            );
            for u in &users {
                println!(
                    "{:<20} {:<28} {:<10} {:<8} {:<9} {:<5} {}",
                    u.username,
                    u.organisation,
                    u.status,
                    u.clearance,
                    u.dg_authority,
                    if u.totp_enabled { "on" } else { "off" },
                    u.roles
                );
            }
            println!("{} account(s)", users.len());
        }
        UserCommand::Disable { username } => {
            set_status(&store, &username, UserStatus::Disabled, "user disable").await?;
            println!(
                "Disabled {username}; their sessions have ended and their tokens no longer work."
            );
        }
        UserCommand::Enable { username } => {
            set_status(&store, &username, UserStatus::Active, "user enable").await?;
            println!("Enabled {username}.");
        }
        UserCommand::ResetTotp { username } => {
            let user = find(&store, &username).await?;
            accounts::reset_totp(&store, actor("user reset-totp"), &source(), user.id)
                .await
                .map_err(describe)?;
            println!(
                "Reset two-factor sign-in for {}; they can set up a new security code.",
                user.username
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The account named `username`, or an error saying there is none.
pub async fn find(store: &Store, username: &str) -> anyhow::Result<concordat_domain::people::User> {
    let name = field("username", Username::parse(username))?;
    store
        .user_by_username(&name)
        .await?
        .map(|u| u.user)
        .ok_or_else(|| anyhow::anyhow!("there is no user `{name}`"))
}

async fn set_status(
    store: &Store,
    username: &str,
    status: UserStatus,
    command: &str,
) -> anyhow::Result<()> {
    let user = find(store, username).await?;
    accounts::set_status(store, actor(command), &source(), user.id, status)
        .await
        .map_err(describe)?;
    Ok(())
}
