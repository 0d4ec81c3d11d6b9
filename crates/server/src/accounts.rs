//! Account administration shared by the API and the command line: one way to create
//! a user, change their status, reset their second factor, set an organisation's
//! sign-in policy, and issue or revoke a token.

use crate::auth::{TOKEN_PREFIX, hash_password, hash_secret, new_secret, one_time_password};
use crate::error::AppError;
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Roles, User, UserId, UserStatus, Username,
    check_dg_authority,
};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_domain::totp::SignInPolicy;
use concordat_store::{ApiToken, NewApiToken, NewUser, Store, StoreError};
use serde_json::json;

/// A person to give an account to, already parsed.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    /// Sign-in name.
    pub username: Username,
    /// Name shown to others.
    pub display_name: DisplayName,
    /// Their organisation.
    pub organisation: OrgCode,
    /// What they may do.
    pub roles: Roles,
    /// Their vetting level.
    pub clearance: Clearance,
    /// Whether they hold the Director General's delegated authority.
    pub dg_authority: DgAuthority,
}

/// Creates an account with a one-time password that must be changed at first sign-in.
/// Returns the user and that password, which is shown once and never stored.
pub async fn create_user(
    store: &Store,
    actor: Actor,
    source: &str,
    request: AccountRequest,
) -> Result<(User, NewPassword), AppError> {
    let password = one_time_password();
    let user = create_user_with_password(store, actor, source, request, &password, true).await?;
    Ok((user, password))
}

/// Creates an account with a given password.
pub async fn create_user_with_password(
    store: &Store,
    actor: Actor,
    source: &str,
    request: AccountRequest,
    password: &NewPassword,
    must_change_password: bool,
) -> Result<User, AppError> {
    let organisation = match store.organisation(&request.organisation).await {
        Ok(org) => org,
        Err(StoreError::NotFound) => {
            return Err(AppError::field(
                "organisation",
                format!("there is no organisation `{}`", request.organisation),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    check_dg_authority(
        request.dg_authority,
        &request.roles,
        organisation.kind.is_national_agency_body(),
    )?;
    let password_hash = hash_password(password).await?;
    let mut tx = store.write().await?;
    let user = tx
        .insert_user(&NewUser {
            username: request.username,
            display_name: request.display_name,
            organisation: request.organisation,
            roles: request.roles,
            clearance: request.clearance,
            dg_authority: request.dg_authority,
            password_hash,
            must_change_password,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::field("username", "is already taken"),
            other => other.into(),
        })?;
    tx.commit(
        AuditEntry::new(actor, "user.create")
            .record(RecordRef::new("user", user.id))
            .source(source)
            .detail(json!({
                "username": user.username,
                "organisation": user.organisation,
                "roles": user.roles,
                "clearance": user.clearance,
                "dg_authority": user.dg_authority,
            })),
    )
    .await?;
    Ok(user)
}

/// Enables or disables an account; disabling ends its sessions at once.
pub async fn set_status(
    store: &Store,
    actor: Actor,
    source: &str,
    id: UserId,
    status: UserStatus,
) -> Result<User, AppError> {
    let mut tx = store.write().await?;
    tx.set_user_status(id, status).await?;
    let action = match status {
        UserStatus::Active => "user.enable",
        UserStatus::Disabled => "user.disable",
    };
    tx.commit(
        AuditEntry::new(actor, action)
            .record(RecordRef::new("user", id))
            .source(source),
    )
    .await?;
    Ok(store.user(id).await?)
}

/// Clears a user's second factor (a lost phone), so that they sign in with their
/// password alone and can set up a new one. Recorded even when there was none.
pub async fn reset_totp(
    store: &Store,
    actor: Actor,
    source: &str,
    id: UserId,
) -> Result<User, AppError> {
    let mut tx = store.write().await?;
    let had = tx.clear_totp(id).await?;
    tx.commit(
        AuditEntry::new(actor, "user.totp-reset")
            .record(RecordRef::new("user", id))
            .source(source)
            .detail(json!({ "had_second_factor": had })),
    )
    .await?;
    Ok(store.user(id).await?)
}

/// Sets how `organisation`'s people must sign in. Requiring a second factor takes
/// effect at once: those without one can only set one up until they have.
pub async fn set_sign_in_policy(
    store: &Store,
    actor: Actor,
    source: &str,
    organisation: &OrgCode,
    policy: SignInPolicy,
) -> Result<SignInPolicy, AppError> {
    let mut tx = store.write().await?;
    tx.set_sign_in_policy(organisation, policy).await?;
    tx.commit(
        AuditEntry::new(actor, "organisation.sign-in-policy")
            .record(RecordRef::new("organisation", organisation))
            .source(source)
            .detail(json!({ "require_totp": policy.require_totp })),
    )
    .await?;
    Ok(policy)
}

/// Replaces a user's password after checking the current one.
pub async fn change_password(
    store: &Store,
    actor: Actor,
    source: &str,
    id: UserId,
    current: &str,
    new: &NewPassword,
) -> Result<(), AppError> {
    let account = store.user_with_secret(id).await?;
    if !crate::auth::verify_password(current, Some(&account.password_hash)).await? {
        return Err(AppError::field(
            "current_password",
            "is not your current password",
        ));
    }
    if current == new.expose() {
        return Err(AppError::field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let hash = hash_password(new).await?;
    let mut tx = store.write().await?;
    tx.set_password(id, &hash, false).await?;
    tx.commit(
        AuditEntry::new(actor, "user.password-change")
            .record(RecordRef::new("user", id))
            .source(source),
    )
    .await?;
    Ok(())
}

/// A token name: 1 to 80 characters, no control characters.
pub fn parse_token_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AppError::field(
            "name",
            "must be 1 to 80 characters with no control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Issues an API token for `owner`. Returns it with its secret, which is shown once.
pub async fn create_token(
    store: &Store,
    actor: Actor,
    source: &str,
    owner: UserId,
    name: String,
    expires_at: Option<Timestamp>,
) -> Result<(ApiToken, String), AppError> {
    if expires_at.is_some_and(|e| e <= Timestamp::now()) {
        return Err(AppError::field("expires_at", "must be in the future"));
    }
    let secret = format!("{TOKEN_PREFIX}{}", new_secret());
    let mut tx = store.write().await?;
    let token = tx
        .insert_api_token(&NewApiToken {
            user_id: owner,
            name,
            token_hash: hash_secret(&secret),
            expires_at,
        })
        .await?;
    tx.commit(
        AuditEntry::new(actor, "token.create")
            .record(RecordRef::new("token", token.id))
            .source(source)
            .detail(json!({ "owner": owner, "name": token.name, "expires_at": token.expires_at })),
    )
    .await?;
    Ok((token, secret))
}

/// Revokes a token. Revoking a revoked token succeeds and records nothing new.
pub async fn revoke_token(
    store: &Store,
    actor: Actor,
    source: &str,
    id: uuid::Uuid,
) -> Result<(), AppError> {
    let mut tx = store.write().await?;
    if tx.revoke_api_token(id).await? {
        tx.commit(
            AuditEntry::new(actor, "token.revoke")
                .record(RecordRef::new("token", id))
                .source(source),
        )
        .await?;
    }
    Ok(())
}
