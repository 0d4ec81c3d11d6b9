//! `concordat org`: read the partner registry, set how an organisation's people must
//! sign in, set up single sign-on with the organisation's identity provider, and
//! manage its outgoing webhooks.

use super::{Global, actor, describe, open_store, source};
use clap::Subcommand;
use concordat_domain::notification::{NoticeKinds, WebhookId, WebhookUrl};
use concordat_domain::people::FieldError;
use concordat_domain::registry::{OrgCode, OrganisationKind, RocuRegion};
use concordat_domain::sso::{
    ClaimName, ClientId, ClientSecret, IdentityProvider, IssuerUrl, Provisioning, RoleMap, Scopes,
    Transport,
};
use concordat_domain::totp::SignInPolicy;
use concordat_server::error::AppError;
use concordat_server::{accounts, sso, webhooks};
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
    /// Single sign-on with the organisation's identity provider (OpenID Connect).
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Manage an organisation's outgoing webhooks: notices about OFFICIAL records,
    /// POSTed as JSON and signed with HMAC-SHA256 (see the README).
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Set (or replace) the organisation's identity provider.
    #[command(
        after_help = "Example:\n  concordat org sso set mps --issuer https://idp.mps.example/realms/staff \\\n    --client-id concordat --client-secret-file /run/secrets/idp \\\n    --role-claim groups --map ccu-officers=tasking-officer --map ccu-admins=administrator --provision\n\nRegister the redirect URI https://YOUR-CONCORDAT/sign-in/sso/callback at the provider."
    )]
    Set {
        /// The organisation's code (see `concordat org list`).
        code: String,
        /// The issuer: https:// (http:// only with --allow-http, for development).
        #[arg(long)]
        issuer: String,
        /// Concordat's client identifier at the provider.
        #[arg(long)]
        client_id: String,
        /// A file holding the client secret (so that it is not on the command line).
        /// Leave out to keep the stored secret when replacing a provider.
        #[arg(long)]
        client_secret_file: Option<std::path::PathBuf>,
        /// The claim whose values give roles (e.g. roles, groups).
        #[arg(long)]
        role_claim: String,
        /// A claim value and the role it gives, VALUE=ROLE; repeat for more.
        #[arg(long = "map", value_name = "VALUE=ROLE", required = true)]
        map: Vec<String>,
        /// A scope to ask for besides openid; repeat for more (default: profile).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The claim holding the Concordat username.
        #[arg(long, default_value = "preferred_username")]
        username_claim: String,
        /// A claim that must equal the organisation's code.
        #[arg(long)]
        organisation_claim: Option<String>,
        /// Give people without an account one at their first sign-in (BPSS vetting
        /// until an administrator records theirs). Without it, only existing accounts.
        #[arg(long)]
        provision: bool,
        /// Accept an http:// issuer (development only).
        #[arg(long)]
        allow_http: bool,
    },
    /// Show the organisation's identity provider (never its secret).
    Show {
        /// The organisation's code.
        code: String,
    },
    /// Remove the organisation's identity provider; its people sign in with passwords.
    Remove {
        /// The organisation's code.
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Make a webhook; prints its signing secret, which is shown only now.
    #[command(
        after_help = "Example:\n  concordat org webhook add mps --url https://alerts.mps.example/concordat --kinds request-received,deconfliction-hit\n\nKinds: request-received, request-decided, request-overdue, request-expired,\ndirection-issued, deconfliction-hit, activity-clash, activity-clash-escalated."
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
        OrgCommand::Sso(command) => sso(&store, command).await?,
        OrgCommand::Webhook(command) => webhook(&store, command).await?,
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn org_code(raw: &str) -> anyhow::Result<OrgCode> {
    OrgCode::parse(raw).map_err(|e| anyhow::anyhow!("CODE: {e}"))
}

async fn sso(store: &Store, command: SsoCommand) -> anyhow::Result<()> {
    match command {
        SsoCommand::Set {
            code,
            issuer,
            client_id,
            client_secret_file,
            role_claim,
            map,
            scopes,
            username_claim,
            organisation_claim,
            provision,
            allow_http,
        } => {
            let code = org_code(&code)?;
            let field = |flag: &str, e: FieldError| anyhow::anyhow!("--{flag}: {}", e.message);
            let transport = if allow_http {
                Transport::AllowHttp
            } else {
                Transport::HttpsOnly
            };
            let stored = store.identity_provider(&code).await?;
            let client_secret = match client_secret_file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        anyhow::anyhow!("--client-secret-file: cannot read {}: {e}", path.display())
                    })?;
                    ClientSecret::parse(&text).map_err(|e| field("client-secret-file", e))?
                }
                None => stored.map(|s| s.provider.client_secret).ok_or_else(|| {
                    anyhow::anyhow!("--client-secret-file is required for a new identity provider")
                })?,
            };
            let provider = IdentityProvider {
                issuer: IssuerUrl::parse(&issuer, transport).map_err(|e| field("issuer", e))?,
                client_id: ClientId::parse(&client_id).map_err(|e| field("client-id", e))?,
                client_secret,
                scopes: if scopes.is_empty() {
                    Scopes::standard()
                } else {
                    Scopes::parse(scopes.iter().map(String::as_str))
                        .map_err(|e| field("scope", e))?
                },
                role_claim: ClaimName::parse(&role_claim).map_err(|e| field("role-claim", e))?,
                role_map: RoleMap::parse_pairs(map.iter().map(String::as_str))
                    .map_err(|e| field("map", e))?,
                username_claim: ClaimName::parse(&username_claim)
                    .map_err(|e| field("username-claim", e))?,
                organisation_claim: organisation_claim
                    .as_deref()
                    .map(ClaimName::parse)
                    .transpose()
                    .map_err(|e| field("organisation-claim", e))?,
                provisioning: if provision {
                    Provisioning::JustInTime
                } else {
                    Provisioning::ExistingOnly
                },
            };
            sso::set_identity_provider(store, actor("org sso set"), &source(), &code, &provider)
                .await
                .map_err(|e| match e {
                    concordat_server::error::AppError::NotFound => {
                        anyhow::anyhow!("there is no organisation `{code}`")
                    }
                    other => describe(other),
                })?;
            println!(
                "{code} now signs people in with {} ({}).",
                provider.issuer, provider.provisioning
            );
            println!(
                "Register this redirect URI at the provider: https://YOUR-CONCORDAT/sign-in/sso/callback (the server's --public-url)."
            );
        }
        SsoCommand::Show { code } => {
            let code = org_code(&code)?;
            let Some(stored) = store.identity_provider(&code).await? else {
                anyhow::bail!("{code} has no identity provider");
            };
            let p = stored.provider;
            println!("organisation:       {code}");
            println!("issuer:             {}", p.issuer);
            println!("client id:          {}", p.client_id);
            println!("client secret:      (set, not shown)");
            println!("scopes:             {}", p.scopes.to_stored());
            println!("role claim:         {}", p.role_claim);
            for (value, roles) in p.role_map.iter() {
                println!("  {value} -> {roles}");
            }
            println!("username claim:     {}", p.username_claim);
            if let Some(claim) = &p.organisation_claim {
                println!("organisation claim: {claim}");
            }
            println!("provisioning:       {}", p.provisioning);
        }
        SsoCommand::Remove { code } => {
            let code = org_code(&code)?;
            let removed =
                sso::remove_identity_provider(store, actor("org sso remove"), &source(), &code)
                    .await
                    .map_err(describe)?;
            if removed {
                println!("{code} no longer uses single sign-on.");
            } else {
                println!("{code} had no identity provider.");
            }
        }
    }
    Ok(())
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
