//! Signing in and out with a browser session.

use crate::auth::{self, Authenticated, Credential};
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::people::{User, Username, lockout};
use concordat_domain::time::Timestamp;
use concordat_domain::totp::TotpCode;
use concordat_store::{NewSession, UserWithSecret};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in, sign_out))
}

/// A sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    /// Sign-in name.
    username: String,
    /// Password.
    password: String,
    /// The 6-digit security code from an authenticator app, for an account with
    /// two-factor sign-in. Without it such an account is answered 401 with type
    /// `/problems/totp-required`.
    #[serde(default)]
    totp: Option<String>,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionStarted {
    /// Who signed in.
    user: User,
    /// The token to send in the X-CSRF-Token header with every change.
    csrf_token: String,
    /// When the session ends.
    expires_at: Timestamp,
}

/// Checks a username, password and — for an account with two-factor sign-in — its
/// security code, honouring the sign-in limits, and records the attempt. Returns the
/// user on success.
///
/// The password is checked first and a wrong one is answered the same whether or not
/// the account has a second factor. With the right password, a missing code is
/// [`AppError::TotpRequired`] (not a failure: clients ask for the code next), and a
/// wrong or already used code counts as a failed sign-in, on the same path to a
/// lockout as a wrong password.
pub(crate) async fn check_credentials(
    state: &AppState,
    source: &str,
    username: &str,
    password: &str,
    totp: Option<&TotpCode>,
) -> Result<User, AppError> {
    if let Err(wait) = state.sign_in_limiter.check(source, username) {
        return Err(AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let account = match Username::parse(username) {
        Ok(name) => state.store.user_by_username(&name).await?,
        Err(_) => None,
    };
    let now = Timestamp::now();
    if let Some(until) = account
        .as_ref()
        .and_then(|a| a.locked_until)
        .filter(|until| *until > now)
    {
        let wait = (until.as_micros() - now.as_micros()) / 1_000_000;
        return Err(AppError::RateLimited {
            retry_after_secs: u64::try_from(wait).unwrap_or(1).max(1),
        });
    }
    let hash = account.as_ref().map(|a| a.password_hash.as_str());
    let matches = auth::verify_password(password, hash).await?;
    let account = match account {
        Some(account) if matches && account.user.is_active() => account,
        account => {
            record_failure(state, source, username, account.as_ref(), now, "password").await?;
            return Err(AppError::BadCredentials);
        }
    };
    second_factor(state, source, username, &account, totp, now).await?;
    Ok(account.user)
}

/// The second step of a sign-in whose first step (a password, or an identity
/// provider) succeeded for `account`: for an account with two-factor sign-in, checks
/// its security code, counting a wrong or used one as a failed sign-in; then clears
/// the account's failed sign-ins. A missing code is [`AppError::TotpRequired`].
pub(crate) async fn second_factor(
    state: &AppState,
    source: &str,
    username: &str,
    account: &UserWithSecret,
    totp: Option<&TotpCode>,
    now: Timestamp,
) -> Result<(), AppError> {
    let failures_cleared = account.failed_sign_ins;
    if let Some(stored) = account.totp.as_ref().filter(|t| t.is_confirmed()) {
        let Some(code) = totp else {
            return Err(AppError::TotpRequired);
        };
        let step = stored.secret.verify(code, now);
        let mut tx = state.store.write().await?;
        // The step is used in the same statement that checks it was not used before,
        // so two requests with one code cannot both get in.
        let used = match step {
            Some(step) => tx.use_totp_step(account.user.id, step).await?,
            None => false,
        };
        if !used {
            drop(tx);
            record_failure(state, source, username, Some(account), now, "totp").await?;
            return Err(AppError::BadTotp);
        }
        if failures_cleared > 0 {
            tx.clear_failed_sign_ins(account.user.id).await?;
        }
        tx.commit(
            AuditEntry::new(Actor::System, "session.second-factor")
                .record(RecordRef::new("user", account.user.id))
                .source(source)
                .detail(json!({ "failures_cleared": failures_cleared })),
        )
        .await?;
    } else if failures_cleared > 0 {
        let mut tx = state.store.write().await?;
        tx.clear_failed_sign_ins(account.user.id).await?;
        tx.commit(
            AuditEntry::new(Actor::System, "session.failures-cleared")
                .record(RecordRef::new("user", account.user.id))
                .source(source),
        )
        .await?;
    }
    Ok(())
}

/// Counts a failed sign-in against `account` (if the name is one), locks it when the
/// policy says so, and records the failure and which `factor` failed.
pub(crate) async fn record_failure(
    state: &AppState,
    source: &str,
    username: &str,
    account: Option<&UserWithSecret>,
    now: Timestamp,
    factor: &str,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    if let Some(account) = account {
        let failures = tx
            .record_failed_sign_in(account.user.id, |n| lockout(n).map(|d| now.plus(d)))
            .await?;
        if lockout(failures).is_some() {
            tx.audit(
                AuditEntry::new(Actor::System, "session.locked")
                    .record(RecordRef::new("user", account.user.id))
                    .source(source)
                    .detail(json!({ "failures": failures })),
            )
            .await?;
        }
    }
    // Which factor failed is recorded only when the password was right, so the log
    // tells an administrator that someone has the password.
    let mut detail = json!({ "username": username.chars().take(64).collect::<String>() });
    if factor != "password" {
        detail["factor"] = json!(factor);
    }
    tx.commit(
        AuditEntry::new(Actor::System, "session.sign-in-failed")
            .source(source)
            .detail(detail),
    )
    .await?;
    Ok(())
}

/// Starts a session for `user` and returns the cookie to set and the session's CSRF token.
pub(crate) async fn start_session(
    state: &AppState,
    source: &str,
    user: &User,
) -> Result<(Cookie<'static>, String, Timestamp), AppError> {
    let secret = auth::new_secret();
    let csrf_token = auth::new_secret();
    let ttl = chrono::Duration::from_std(state.config.session_ttl)
        .map_err(|e| AppError::Internal(e.into()))?;
    let expires_at = Timestamp::now().plus(ttl);
    let mut tx = state.store.write().await?;
    tx.insert_session(&NewSession {
        token_hash: auth::hash_secret(&secret),
        user_id: user.id,
        csrf_token: csrf_token.clone(),
        expires_at,
        source: source.to_owned(),
    })
    .await?;
    tx.commit(
        AuditEntry::new(auth::actor_of(user), "session.sign-in")
            .record(RecordRef::new("user", user.id))
            .source(source),
    )
    .await?;
    let cookie = Cookie::build((
        auth::session_cookie_name(state.config.secure_cookies),
        secret,
    ))
    .path("/")
    .http_only(true)
    .secure(state.config.secure_cookies)
    .same_site(SameSite::Strict)
    .build();
    Ok((cookie, csrf_token, expires_at))
}

/// The session cookie: host-only, HttpOnly, SameSite=Strict, Secure unless configured
/// otherwise, and gone when the browser closes (the server ends it sooner if due).
fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((
        auth::session_cookie_name(state.config.secure_cookies),
        value,
    ))
    .path("/")
    .http_only(true)
    .secure(state.config.secure_cookies)
    .same_site(SameSite::Strict)
    .build()
}

/// Ends the session the request came with, if any, and returns the cookie that
/// clears it.
pub(crate) async fn end_session(
    state: &AppState,
    source: &str,
    who: &Authenticated,
) -> Result<Cookie<'static>, AppError> {
    if let Credential::Session { token_hash, .. } = &who.credential {
        let mut tx = state.store.write().await?;
        tx.delete_session(token_hash).await?;
        tx.commit(
            AuditEntry::new(who.actor(), "session.sign-out")
                .record(RecordRef::new("user", who.user.id))
                .source(source),
        )
        .await?;
    }
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    Ok(cookie)
}

/// Signs in with a username and password and starts a browser session.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    security(()),
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in; the session cookie is set", body = SessionStarted),
        (status = 401, description = "The username or password is not right; or the account needs its security code (`/problems/totp-required`), or the code is wrong or used (`/problems/bad-totp`)", body = Problem),
        (status = 422, description = "A field is not valid (a `totp` that is not six digits)", body = Problem),
        (status = 429, description = "Too many attempts", body = Problem),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, AppError> {
    let totp = body.totp.as_deref().map(TotpCode::parse).transpose()?;
    let user = check_credentials(
        &state,
        &source,
        &body.username,
        &body.password,
        totp.as_ref(),
    )
    .await?;
    let (cookie, csrf_token, expires_at) = start_session(&state, &source, &user).await?;
    Ok((
        StatusCode::CREATED,
        jar.add(cookie),
        axum::Json(SessionStarted {
            user,
            csrf_token,
            expires_at,
        }),
    )
        .into_response())
}

/// Signs out: ends the browser session.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "Not signed in", body = Problem),
    )
)]
async fn sign_out(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    jar: CookieJar,
    who: Authenticated,
) -> Result<Response, AppError> {
    let cookie = end_session(&state, &source, &who).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(cookie)).into_response())
}
