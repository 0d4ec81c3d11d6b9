//! `concordat init`: create or migrate a store, load reference data, create the first
//! administrator.

use super::{Global, actor, describe, open_store, source};
use anyhow::Context;
use clap::Args;
use concordat_domain::audit::AuditEntry;
use concordat_domain::people::{Clearance, DgAuthority, DisplayName, Role, Roles, Username};
use concordat_domain::registry::{OrgCode, ReferenceData};
use concordat_server::accounts::{self, AccountRequest};
use concordat_store::Store;
use serde_json::json;
use std::process::ExitCode;

/// Create or migrate a store and load the reference data.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  concordat init\n  concordat init --database-url postgres://concordat@db/concordat --admin-username ops.admin"
)]
pub struct InitArgs {
    /// The first administrator's sign-in name (created only if the store has no users).
    #[arg(long, default_value = "admin")]
    admin_username: String,
    /// The first administrator's name as shown to others.
    #[arg(long, default_value = "Platform administrator")]
    admin_name: String,
    /// The first administrator's organisation code.
    #[arg(long, default_value = "nca")]
    admin_organisation: String,
}

pub async fn run(global: &Global, args: InitArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(global).await?;
    load_reference_data(&store).await?;
    let users = store.count_users().await?;
    if users > 0 {
        println!(
            "The store was already set up ({users} users); its schema and reference data are up to date."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let request = AccountRequest {
        username: Username::parse(&args.admin_username)
            .map_err(|e| anyhow::anyhow!("--admin-username: {}", e.message))?,
        display_name: DisplayName::parse(&args.admin_name)
            .map_err(|e| anyhow::anyhow!("--admin-name: {}", e.message))?,
        organisation: OrgCode::parse(&args.admin_organisation)
            .map_err(|e| anyhow::anyhow!("--admin-organisation: {e}"))?,
        roles: Roles::new([Role::Administrator])?,
        clearance: Clearance::Sc,
        dg_authority: DgAuthority::None,
    };
    let (user, password) = accounts::create_user(&store, actor("init"), &source(), request)
        .await
        .map_err(describe)?;
    println!("Store ready. First administrator created:");
    println!("  username:  {}", user.username);
    println!(
        "  password:  {}   (one-time: you will be asked to change it at first sign-in)",
        password.expose()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Loads the reference data shipped with Concordat into `store`, recording it.
pub async fn load_reference_data(store: &Store) -> anyhow::Result<()> {
    let data = ReferenceData::builtin().context("the built-in reference data is not valid")?;
    let mut tx = store.write().await?;
    tx.load_reference_data(&data).await?;
    tx.commit(
        AuditEntry::new(actor("init"), "reference-data.load")
            .source(source())
            .detail(json!({
                "organisations": data.organisations.len(),
                "capabilities": data.capabilities.len(),
                "groups": data.groups.len(),
            })),
    )
    .await?;
    Ok(())
}
