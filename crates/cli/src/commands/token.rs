//! `concordat token`: issue, list and revoke API tokens.

use super::user::find;
use super::{Global, actor, describe, open_store, source};
use clap::Subcommand;
use concordat_domain::time::Timestamp;
use concordat_server::accounts;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token that acts with a user's access; prints its secret once.
    #[command(
        after_help = "Example:\n  concordat token create --username j.smith --name reporting --expires-in 90d"
    )]
    Create {
        /// Whose token it is.
        #[arg(long)]
        username: String,
        /// A name to recognise it by.
        #[arg(long)]
        name: String,
        /// How long until it expires (e.g. `30d`, `12h`); never, if absent.
        #[arg(long)]
        expires_in: Option<humantime::Duration>,
    },
    /// List a user's tokens.
    #[command(after_help = "Example:\n  concordat token list --username j.smith")]
    List {
        /// Whose tokens.
        #[arg(long)]
        username: String,
    },
    /// Revoke a token at once.
    #[command(after_help = "Example:\n  concordat token revoke 0192f3c4-...")]
    Revoke {
        /// The token's identifier (from `token list`).
        id: uuid::Uuid,
    },
}

pub async fn run(global: &Global, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    match command {
        TokenCommand::Create {
            username,
            name,
            expires_in,
        } => {
            let user = find(&store, &username).await?;
            let name = accounts::parse_token_name(&name).map_err(describe)?;
            let expires_at = expires_in
                .map(|d| chrono::Duration::from_std(*d).map(|d| Timestamp::now().plus(d)))
                .transpose()
                .map_err(|_| anyhow::anyhow!("--expires-in: too long"))?;
            let (token, secret) = accounts::create_token(
                &store,
                actor("token create"),
                &source(),
                user.id,
                name,
                expires_at,
            )
            .await
            .map_err(describe)?;
            println!("Token {} for {}:", token.id, user.username);
            println!("{secret}");
            println!("Send it as `Authorization: Bearer <token>`. It is shown only now.");
        }
        TokenCommand::List { username } => {
            let user = find(&store, &username).await?;
            let now = Timestamp::now();
            for t in store.api_tokens_of(user.id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_usable(now) {
                    "active"
                } else {
                    "expired"
                };
                let expires = t
                    .expires_at
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "never".to_owned());
                println!("{}  {:<8} expires {:<28} {}", t.id, state, expires, t.name);
            }
        }
        TokenCommand::Revoke { id } => {
            store
                .api_token_by_id(id)
                .await
                .map_err(|_| anyhow::anyhow!("there is no token {id}"))?;
            accounts::revoke_token(&store, actor("token revoke"), &source(), id)
                .await
                .map_err(describe)?;
            println!("Revoked {id}.");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
