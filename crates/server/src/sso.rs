//! Single sign-on with OpenID Connect (authorisation code flow with PKCE) against an
//! organisation's identity provider.
//!
//! The flow: [`begin`] discovers the provider, records a sign-in in flight (state,
//! nonce, PKCE verifier) in the store under the hash of a secret it gives the browser
//! in a short-lived cookie, and sends the browser to the provider. [`finish`] takes
//! that record (once: a replayed answer finds nothing), checks the returned `state`
//! against the cookie, exchanges the code at the token endpoint with the verifier and
//! the client secret, verifies the ID token (signature against the provider's keys,
//! issuer, audience, expiry, nonce), maps its claims to an account and roles, and
//! either starts a session or — for an account with a Concordat security code — asks
//! for it ([`second_factor`]). The organisation is always the one whose provider was
//! used, never something a claim says.
//!
//! The server talks to nobody but the provider: every request goes through
//! [`IdpHttp`], which refuses any address outside the issuer's origin and follows no
//! redirects. [`set_identity_provider`] and [`remove_identity_provider`] are the one
//! way to configure a provider, for the API and the command line alike.

use crate::AppState;
use crate::api::session::second_factor as check_second_factor;
use crate::auth::{self, hash_secret, new_secret};
use crate::error::AppError;
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, User, Username, check_dg_authority,
};
use concordat_domain::registry::OrgCode;
use concordat_domain::sso::{
    ExternalSubject, IdentityProvider, IssuerUrl, Provisioning, Transport, claim_strings,
};
use concordat_domain::time::Timestamp;
use concordat_domain::totp::TotpCode;
use concordat_store::{NewUser, PendingSso, Store, StoredIdentityProvider, UserWithSecret};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IdToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a person may take at their identity provider, and then over their
/// security code.
const PENDING_FOR: chrono::Duration = chrono::Duration::minutes(10);

/// The largest answer read from an identity provider.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The path the provider sends the browser back to.
pub const CALLBACK_PATH: &str = "/sign-in/sso/callback";

/// The address people reach this server at (`https://concordat.example`), from which
/// the redirect URI registered at identity providers is made. No path, query or
/// trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Parses an `https://` or `http://` origin; a trailing slash is dropped.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = raw.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("must start with https:// or http://")?;
        if rest.is_empty()
            || rest.contains(['/', '?', '#', '@'])
            || rest.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(
                "must be a scheme and host (and port) only, like https://concordat.example".into(),
            );
        }
        Ok(Self(url.to_owned()))
    }

    /// The redirect URI to register at identity providers.
    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.0)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which issuers this server accepts, by its configuration.
pub fn transport(state: &AppState) -> Transport {
    if state.config.allow_http_identity_providers {
        Transport::AllowHttp
    } else {
        Transport::HttpsOnly
    }
}

/// Sets `organisation`'s identity provider, replacing any, and records it (never the
/// secret). An unknown organisation is not found.
pub async fn set_identity_provider(
    store: &Store,
    actor: Actor,
    source: &str,
    organisation: &OrgCode,
    provider: &IdentityProvider,
) -> Result<StoredIdentityProvider, AppError> {
    store.organisation(organisation).await?;
    let mut tx = store.write().await?;
    tx.put_identity_provider(organisation, provider).await?;
    let role_map: serde_json::Map<String, serde_json::Value> = provider
        .role_map
        .iter()
        .map(|(value, roles)| (value.to_owned(), json!(roles)))
        .collect();
    tx.commit(
        AuditEntry::new(actor, "organisation.identity-provider-set")
            .record(RecordRef::new("organisation", organisation))
            .source(source)
            .detail(json!({
                "issuer": provider.issuer.as_str(),
                "client_id": provider.client_id.as_str(),
                "scopes": provider.scopes.to_stored(),
                "role_claim": provider.role_claim.as_str(),
                "role_map": role_map,
                "username_claim": provider.username_claim.as_str(),
                "organisation_claim": provider.organisation_claim.as_ref().map(|c| c.as_str()),
                "provisioning": provider.provisioning.as_str(),
            })),
    )
    .await?;
    store
        .identity_provider(organisation)
        .await?
        .ok_or(AppError::NotFound)
}

/// Removes `organisation`'s identity provider. Returns whether there was one; only a
/// removal is recorded.
pub async fn remove_identity_provider(
    store: &Store,
    actor: Actor,
    source: &str,
    organisation: &OrgCode,
) -> Result<bool, AppError> {
    let mut tx = store.write().await?;
    if !tx.delete_identity_provider(organisation).await? {
        return Ok(false);
    }
    tx.commit(
        AuditEntry::new(actor, "organisation.identity-provider-remove")
            .record(RecordRef::new("organisation", organisation))
            .source(source),
    )
    .await?;
    Ok(true)
}

/// Why a single sign-on did not sign someone in, in words for the sign-in page.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No sign-in in flight matches (expired, used already, or another browser's).
    #[error("Your sign-in had expired or was already used. Try again.")]
    Expired,
    /// The organisation has no identity provider (now).
    #[error("Single sign-on is not set up for that organisation.")]
    NotConfigured,
    /// The server is not set up for single sign-on.
    #[error("Single sign-on is not available: the server's public address is not configured.")]
    NoPublicUrl,
    /// The identity provider could not be reached or answered wrongly; the cause is logged.
    #[error(
        "Your organisation's sign-in service did not answer as expected. Try again, or ask your administrator."
    )]
    Provider,
    /// The identity provider refused, or its answer was not for us.
    #[error("{0}")]
    Refused(String),
    /// Too many attempts.
    #[error("Too many attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    /// The security code is missing, wrong, or used.
    #[error("The security code is not right, or has been used already: wait for the next one")]
    BadCode,
    /// Something failed on the server.
    #[error("internal")]
    Internal(#[from] AppError),
}

impl From<concordat_store::StoreError> for SsoError {
    fn from(e: concordat_store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

fn provider_error(what: &str, cause: impl fmt::Display) -> SsoError {
    tracing::warn!(step = what, error = %cause, "identity provider answer refused");
    SsoError::Provider
}

/// Where to send the browser, and the secret to keep in its cookie.
#[derive(Debug)]
pub struct Started {
    /// The provider's authorisation URL with our request.
    pub redirect_to: String,
    /// The secret for the cookie; it is also the `state`.
    pub cookie_secret: String,
}

/// Starts a single sign-on to `organisation`'s provider.
pub async fn begin(
    state: &AppState,
    source: &str,
    organisation: &OrgCode,
) -> Result<Started, SsoError> {
    if let Err(wait) = state.sign_in_limiter.check_address(source) {
        return Err(SsoError::RateLimited(wait.as_secs().max(1)));
    }
    let public = state
        .config
        .public_url
        .as_ref()
        .ok_or(SsoError::NoPublicUrl)?;
    let stored = state
        .store
        .identity_provider(organisation)
        .await?
        .ok_or(SsoError::NotConfigured)?;
    let provider = &stored.provider;
    let http = IdpHttp::for_issuer(state, &provider.issuer)?;
    let client = client(&http, provider, public).await?;
    let secret = new_secret();
    let nonce = new_secret();
    let verifier = PkceCodeVerifier::new(new_secret());
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let secret = secret.clone();
                move || CsrfToken::new(secret)
            },
            {
                let nonce = nonce.clone();
                move || Nonce::new(nonce)
            },
        )
        .set_pkce_challenge(challenge);
    for scope in provider.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    let (url, _, _) = request.url();
    let mut tx = state.store.write().await?;
    tx.insert_pending_sso(
        &hash_secret(&secret),
        &PendingSso::Authorise {
            organisation: organisation.clone(),
            nonce,
            pkce_verifier: verifier.secret().to_owned(),
        },
        Timestamp::now().plus(PENDING_FOR),
    )
    .await?;
    tx.commit(
        AuditEntry::new(Actor::System, "session.sso-start")
            .record(RecordRef::new("organisation", organisation))
            .source(source)
            .detail(json!({ "issuer": provider.issuer.as_str() })),
    )
    .await?;
    Ok(Started {
        redirect_to: url.to_string(),
        cookie_secret: secret,
    })
}

/// What the provider sent the browser back with.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    /// The authorisation code.
    #[serde(default)]
    pub code: Option<String>,
    /// Our `state`, back.
    #[serde(default)]
    pub state: Option<String>,
    /// An error code, when the provider did not sign the person in.
    #[serde(default)]
    pub error: Option<String>,
    /// The provider's words about the error.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// How a single sign-on ends.
#[derive(Debug)]
pub enum Finished {
    /// Signed in: start a session for the user.
    SignedIn(User),
    /// The account has a Concordat security code: ask for it, keeping this secret in
    /// the cookie.
    SecondFactor {
        /// The secret for the cookie.
        cookie_secret: String,
        /// The organisation's name, for the page.
        organisation: OrgCode,
    },
}

/// Finishes a single sign-on: checks the provider's answer and finds or makes the
/// account. `cookie` is the secret from the browser's cookie.
pub async fn finish(
    state: &AppState,
    source: &str,
    cookie: Option<&str>,
    callback: &Callback,
) -> Result<Finished, SsoError> {
    let (Some(cookie), Some(returned)) = (cookie, callback.state.as_deref()) else {
        return Err(SsoError::Expired);
    };
    // The state must be the one this browser was given: a link with someone else's
    // code and state (login CSRF) does not match this browser's cookie.
    if !auth::csrf_matches(cookie, returned) {
        return Err(SsoError::Expired);
    }
    let now = Timestamp::now();
    let mut tx = state.store.write().await?;
    let pending = tx.take_pending_sso(&hash_secret(cookie), now).await?;
    let Some(PendingSso::Authorise {
        organisation,
        nonce,
        pkce_verifier,
    }) = pending
    else {
        drop(tx);
        return Err(SsoError::Expired);
    };
    tx.commit(
        AuditEntry::new(Actor::System, "session.sso-return")
            .record(RecordRef::new("organisation", &organisation))
            .source(source)
            .detail(json!({ "error": callback.error.as_deref().map(|e| e.chars().take(64).collect::<String>()) })),
    )
    .await?;
    if let Some(error) = &callback.error {
        let why = callback
            .error_description
            .as_deref()
            .unwrap_or(error)
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>();
        return Err(SsoError::Refused(format!(
            "Your organisation's sign-in service did not sign you in: {why}"
        )));
    }
    let code = callback.code.as_deref().ok_or(SsoError::Expired)?;
    let public = state
        .config
        .public_url
        .as_ref()
        .ok_or(SsoError::NoPublicUrl)?;
    let stored = state
        .store
        .identity_provider(&organisation)
        .await?
        .ok_or(SsoError::NotConfigured)?;
    let provider = &stored.provider;
    let http = IdpHttp::for_issuer(state, &provider.issuer)?;
    let client = client(&http, provider, public).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| provider_error("token endpoint", e))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
        .request_async(&http)
        .await
        .map_err(|e| provider_error("token exchange", e))?;
    let raw = tokens
        .id_token()
        .ok_or_else(|| provider_error("token exchange", "no ID token"))?
        .to_string();
    let id_token: IdToken<
        OtherClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    > = raw.parse().map_err(|e| provider_error("ID token", e))?;
    // Only public-key signatures: a token signed with the client secret (HS256) could
    // be made by anyone who holds the secret, which is more than the provider.
    let verifier = client.id_token_verifier().set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha384,
        CoreJwsSigningAlgorithm::RsaSsaPssSha512,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EcdsaP384Sha384,
        CoreJwsSigningAlgorithm::EdDsa,
    ]);
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce))
        .map_err(|e| provider_error("ID token verification", e))?;
    let subject = ExternalSubject::parse(claims.subject().as_str())
        .map_err(|e| provider_error("ID token subject", e))?;
    let claims = serde_json::to_value(claims).map_err(|e| provider_error("ID token claims", e))?;
    let account = resolve(state, source, &stored, &subject, &claims).await?;
    if account.totp.as_ref().is_some_and(|t| t.is_confirmed()) {
        let secret = new_secret();
        let mut tx = state.store.write().await?;
        tx.insert_pending_sso(
            &hash_secret(&secret),
            &PendingSso::SecondFactor {
                organisation: organisation.clone(),
                user: account.user.id,
            },
            Timestamp::now().plus(PENDING_FOR),
        )
        .await?;
        tx.commit(
            AuditEntry::new(Actor::System, "session.sso-second-factor-asked")
                .record(RecordRef::new("user", account.user.id))
                .source(source),
        )
        .await?;
        return Ok(Finished::SecondFactor {
            cookie_secret: secret,
            organisation,
        });
    }
    check_second_factor(
        state,
        source,
        account.user.username.as_str(),
        &account,
        None,
        now,
    )
    .await?;
    Ok(Finished::SignedIn(account.user))
}

/// The second step for an account with a Concordat security code: `cookie` is the
/// secret the first step gave. A wrong code counts toward the lockout as a wrong
/// password does, and the person may try again with the new secret returned.
pub async fn second_factor(
    state: &AppState,
    source: &str,
    cookie: Option<&str>,
    code: Result<TotpCode, ()>,
) -> Result<User, (SsoError, Option<String>)> {
    let cookie = cookie.ok_or((SsoError::Expired, None))?;
    let now = Timestamp::now();
    let mut tx = state.store.write().await.map_err(|e| (e.into(), None))?;
    let pending = tx
        .take_pending_sso(&hash_secret(cookie), now)
        .await
        .map_err(|e| (e.into(), None))?;
    let Some(PendingSso::SecondFactor { organisation, user }) = pending else {
        drop(tx);
        return Err((SsoError::Expired, None));
    };
    // Another try needs a new secret: the old one is used.
    let again = new_secret();
    tx.insert_pending_sso(
        &hash_secret(&again),
        &PendingSso::SecondFactor {
            organisation: organisation.clone(),
            user,
        },
        now.plus(PENDING_FOR),
    )
    .await
    .map_err(|e| (e.into(), None))?;
    tx.commit(
        AuditEntry::new(Actor::System, "session.sso-second-factor")
            .record(RecordRef::new("user", user))
            .source(source),
    )
    .await
    .map_err(|e| (e.into(), None))?;
    let retry = |e: SsoError| (e, Some(again.clone()));
    let account = state
        .store
        .user_with_secret(user)
        .await
        .map_err(|e| (e.into(), None))?;
    check_account(state, source, &account, now).map_err(|e| (e, None))?;
    let Ok(code) = code else {
        return Err(retry(SsoError::BadCode));
    };
    match check_second_factor(
        state,
        source,
        account.user.username.as_str(),
        &account,
        Some(&code),
        now,
    )
    .await
    {
        Ok(()) => {
            // The retry secret is no longer needed.
            let mut tx = state.store.write().await.map_err(|e| (e.into(), None))?;
            tx.take_pending_sso(&hash_secret(&again), now)
                .await
                .map_err(|e| (e.into(), None))?;
            tx.commit(
                AuditEntry::new(Actor::System, "session.sso-second-factor-passed")
                    .record(RecordRef::new("user", user))
                    .source(source),
            )
            .await
            .map_err(|e| (e.into(), None))?;
            Ok(account.user)
        }
        Err(AppError::BadTotp) | Err(AppError::TotpRequired) => Err(retry(SsoError::BadCode)),
        Err(AppError::RateLimited { retry_after_secs }) => {
            Err((SsoError::RateLimited(retry_after_secs), None))
        }
        Err(other) => Err((other.into(), None)),
    }
}

/// Refuses a disabled or locked account.
fn check_account(
    _state: &AppState,
    _source: &str,
    account: &UserWithSecret,
    now: Timestamp,
) -> Result<(), SsoError> {
    if !account.user.is_active() {
        return Err(SsoError::Refused(
            "Your Concordat account is disabled. Ask your administrator.".into(),
        ));
    }
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        let wait = (until.as_micros() - now.as_micros()) / 1_000_000;
        return Err(SsoError::RateLimited(
            u64::try_from(wait).unwrap_or(1).max(1),
        ));
    }
    Ok(())
}

/// Finds, links or makes the account the verified `claims` are for, and gives it the
/// roles they map to.
async fn resolve(
    state: &AppState,
    source: &str,
    stored: &StoredIdentityProvider,
    subject: &ExternalSubject,
    claims: &serde_json::Value,
) -> Result<UserWithSecret, SsoError> {
    let organisation = &stored.organisation;
    let provider = &stored.provider;
    let issuer = &provider.issuer;
    let refuse = |why: &str| SsoError::Refused(why.to_owned());
    if let Some(claim) = &provider.organisation_claim {
        let named = claim_strings(claims.get(claim.as_str()));
        if named != [organisation.as_str()] {
            return Err(refuse(
                "Your organisation's sign-in service says you belong to another organisation.",
            ));
        }
    }
    let roles = provider
        .role_map
        .roles_for(claim_strings(claims.get(provider.role_claim.as_str())))
        .ok_or_else(|| {
            refuse("Your account has no role in Concordat. Ask your administrator to give you one.")
        })?;
    let claimed_name = claim_strings(claims.get(provider.username_claim.as_str()))
        .first()
        .map(|s| (*s).to_owned());
    let rate_key = claimed_name.clone().unwrap_or_else(|| subject.to_string());
    if let Err(wait) = state.sign_in_limiter.check(source, &rate_key) {
        return Err(SsoError::RateLimited(wait.as_secs().max(1)));
    }

    let now = Timestamp::now();
    let mut link = false;
    let existing = match state.store.external_identity(issuer, subject).await? {
        Some((user, linked_by)) => {
            if &linked_by != organisation {
                return Err(refuse(
                    "This identity is linked to an account of another organisation.",
                ));
            }
            Some(state.store.user_with_secret(user).await?)
        }
        None => {
            let username = claimed_name
                .as_deref()
                .map(Username::parse)
                .and_then(Result::ok)
                .ok_or_else(|| {
                    refuse("Your organisation's sign-in service did not give a username Concordat can use. Ask your administrator.")
                })?;
            let found = state.store.user_by_username(&username).await?;
            if let Some(account) = &found {
                if &account.user.organisation != organisation {
                    return Err(refuse(
                        "An account with your username belongs to another organisation. Ask your administrator.",
                    ));
                }
                if state
                    .store
                    .external_identity_of(account.user.id, issuer)
                    .await?
                    .is_some()
                {
                    return Err(refuse(
                        "Your username is linked to another identity at your organisation's sign-in service. Ask your administrator.",
                    ));
                }
            }
            link = true;
            found
        }
    };
    if let Some(account) = &existing {
        check_account(state, source, account, now)?;
    }
    let provision = existing.is_none();
    if provision && provider.provisioning != Provisioning::JustInTime {
        return Err(refuse(
            "You do not have a Concordat account yet. Ask your administrator for one.",
        ));
    }

    let mut tx = state.store.write().await?;
    let user = match existing {
        Some(account) => account.user,
        None => {
            let username = claimed_name
                .as_deref()
                .map(Username::parse)
                .and_then(Result::ok)
                .ok_or_else(|| refuse("no username"))?;
            let display_name = claim_strings(claims.get("name"))
                .first()
                .and_then(|n| DisplayName::parse(n).ok())
                .or_else(|| DisplayName::parse(username.as_str()).ok())
                .ok_or_else(|| refuse("no name"))?;
            // The account never signs in with a password: its password is a random one
            // nobody is told.
            let unusable = NewPassword::parse(&new_secret()).map_err(AppError::from)?;
            let password_hash = auth::hash_password(&unusable).await?;
            let user = tx
                .insert_user(&NewUser {
                    username,
                    display_name,
                    organisation: organisation.clone(),
                    roles: roles.clone(),
                    clearance: Clearance::Bpss,
                    dg_authority: DgAuthority::None,
                    password_hash,
                    must_change_password: false,
                })
                .await
                .map_err(|e| match e {
                    concordat_store::StoreError::Conflict(_) => refuse(
                        "An account with your username already exists. Ask your administrator.",
                    ),
                    other => other.into(),
                })?;
            tx.audit(
                AuditEntry::new(Actor::System, "user.create")
                    .record(RecordRef::new("user", user.id))
                    .source(source)
                    .detail(json!({
                        "username": user.username,
                        "organisation": user.organisation,
                        "roles": user.roles,
                        "clearance": user.clearance,
                        "dg_authority": user.dg_authority,
                        "provisioned_by": issuer.as_str(),
                    })),
            )
            .await?;
            user
        }
    };
    if link {
        tx.link_external_identity(issuer, subject, user.id, organisation)
            .await?;
        tx.audit(
            AuditEntry::new(Actor::System, "user.sso-link")
                .record(RecordRef::new("user", user.id))
                .source(source)
                .detail(json!({ "issuer": issuer.as_str(), "subject": subject.as_str() })),
        )
        .await?;
    }
    if !provision && user.roles != roles {
        tx.set_roles(user.id, &roles).await?;
        // The Director General's delegated authority goes with the senior role: it
        // cannot outlive it.
        let org = state.store.organisation(organisation).await?;
        let keeps_authority = check_dg_authority(
            user.dg_authority,
            &roles,
            org.kind.is_national_agency_body(),
        )
        .is_ok();
        if !keeps_authority {
            tx.set_dg_authority(user.id, DgAuthority::None).await?;
        }
        tx.audit(
            AuditEntry::new(Actor::System, "user.roles-from-sso")
                .record(RecordRef::new("user", user.id))
                .source(source)
                .detail(json!({
                    "before": user.roles,
                    "after": roles,
                    "issuer": issuer.as_str(),
                    "dg_authority_removed": !keeps_authority,
                })),
        )
        .await?;
    }
    tx.commit(
        AuditEntry::new(Actor::System, "session.sso-verified")
            .record(RecordRef::new("user", user.id))
            .source(source)
            .detail(json!({
                "organisation": organisation,
                "issuer": issuer.as_str(),
                "subject": subject.as_str(),
                "roles": roles,
            })),
    )
    .await?;
    Ok(state.store.user_with_secret(user.id).await?)
}

/// The claims of an ID token beyond the standard ones (roles, groups, ...), kept as
/// they are so that any configured claim can be read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims(HashMap<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Discovers `provider` and makes a client for it that redirects to `public`.
async fn client(
    http: &IdpHttp,
    provider: &IdentityProvider,
    public: &PublicUrl,
) -> Result<Client, SsoError> {
    let issuer = openidconnect::IssuerUrl::new(provider.issuer.as_str().to_owned())
        .map_err(|e| provider_error("issuer", e))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| provider_error("discovery", e))?;
    let redirect = RedirectUrl::new(public.redirect_uri()).map_err(|e| {
        SsoError::Internal(AppError::Internal(anyhow::anyhow!("redirect URI: {e}")))
    })?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.as_str().to_owned()),
        Some(ClientSecret::new(
            provider.client_secret.expose().to_owned(),
        )),
    )
    .set_redirect_uri(redirect))
}

/// The HTTP client for one identity provider: reqwest with rustls (ring), no
/// redirects, short timeouts, answers of bounded size, and no address outside the
/// issuer's origin.
#[derive(Clone)]
pub struct IdpHttp {
    client: reqwest::Client,
    origin: String,
}

/// Why a request to an identity provider failed.
#[derive(Debug, thiserror::Error)]
pub enum IdpHttpError {
    /// The address is not the identity provider's.
    #[error("refused to call {0}: not the identity provider's origin")]
    OffOrigin(String),
    /// The request failed.
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The answer is too large.
    #[error("the answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
    /// The answer could not be passed on.
    #[error("the answer could not be read: {0}")]
    Answer(String),
}

impl IdpHttp {
    /// A client for `issuer`, if this server allows its scheme.
    fn for_issuer(state: &AppState, issuer: &IssuerUrl) -> Result<Self, SsoError> {
        if !issuer.is_https() && transport(state) == Transport::HttpsOnly {
            return Err(SsoError::Refused(
                "Single sign-on for this organisation is set up with an insecure (http://) address, which this server does not allow. Ask your administrator.".into(),
            ));
        }
        Ok(Self {
            client: shared_client()?,
            origin: issuer.origin().to_ascii_lowercase(),
        })
    }

    fn allows(&self, uri: &str) -> bool {
        let uri = uri.to_ascii_lowercase();
        uri.strip_prefix(&self.origin)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
    }
}

/// One reqwest client for every provider (it keeps connections and the trust store).
fn shared_client() -> Result<reqwest::Client, SsoError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            crate::install_tls_provider();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| SsoError::Internal(AppError::Internal(anyhow::anyhow!("HTTP client: {e}"))))
}

impl<'c> AsyncHttpClient<'c> for IdpHttp {
    type Error = IdpHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, IdpHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let uri = request.uri().to_string();
            if !self.allows(&uri) {
                return Err(IdpHttpError::OffOrigin(uri));
            }
            let request = reqwest::Request::try_from(request)?;
            let mut response = self.client.execute(request).await?;
            let mut answer = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(IdpHttpError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            answer
                .body(body)
                .map_err(|e| IdpHttpError::Answer(e.to_string()))
        })
    }
}

/// Used by the command line and the API: the secret is kept when a change leaves it out.
pub fn keep_secret(
    given: Option<concordat_domain::sso::ClientSecret>,
    stored: Option<&StoredIdentityProvider>,
) -> Result<concordat_domain::sso::ClientSecret, AppError> {
    given
        .or_else(|| stored.map(|s| s.provider.client_secret.clone()))
        .ok_or_else(|| AppError::field("client_secret", "is required for a new identity provider"))
}
