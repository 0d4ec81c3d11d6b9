//! The signed-in user's second factor: setting up a security code from an
//! authenticator app (RFC 6238), confirming it, and turning it off.
//!
//! Setting up takes [`Authenticated`], not [`Principal`]: a user whose organisation
//! requires a second factor must be able to set one up before anything else. Turning
//! it off is an ordinary change and takes [`Principal`].

use crate::auth::{Authenticated, Principal};
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::State;
use axum::http::StatusCode;
use concordat_domain::audit::{AuditEntry, RecordRef};
use concordat_domain::people::User;
use concordat_domain::time::Timestamp;
use concordat_domain::totp::{SECRET_BYTES, TotpCode, TotpSecret};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_enrolment, turn_off))
        .routes(routes!(confirm_enrolment))
}

/// A secret to put in an authenticator app. It is shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TotpEnrolment {
    /// The shared secret in base32, for apps that cannot scan the URI.
    pub(crate) secret: String,
    /// The `otpauth://totp/Concordat:USERNAME?...` URI, usually shown as a QR code.
    pub(crate) otpauth_uri: String,
}

/// A security code from the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpCodeBody {
    /// The 6-digit code the app shows now.
    code: String,
}

/// Parses the `code` field.
fn code_of(body: &TotpCodeBody) -> Result<TotpCode, AppError> {
    TotpCode::parse(&body.code).map_err(|e| AppError::field("code", e.message))
}

/// Starts setting up two-factor sign-in: makes a new 160-bit secret, keeps it
/// unconfirmed, and returns it. Starting again replaces a secret not yet confirmed.
#[utoipa::path(
    post,
    path = "/api/v1/me/totp",
    tag = "me",
    responses(
        (status = 201, description = "Put the secret in an authenticator app, then confirm with a code", body = TotpEnrolment),
        (status = 401, body = Problem),
        (status = 409, description = "Two-factor sign-in is already set up", body = Problem),
    )
)]
async fn start_enrolment(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Authenticated,
) -> Result<(StatusCode, axum::Json<TotpEnrolment>), AppError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(start(&state, &who, &source).await?),
    ))
}

/// Starts setting up `who`'s second factor: a new secret, kept unconfirmed, shown now.
pub(crate) async fn start(
    state: &AppState,
    who: &Authenticated,
    source: &str,
) -> Result<TotpEnrolment, AppError> {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let secret = TotpSecret::from_random(bytes);
    let mut tx = state.store.write().await?;
    tx.start_totp(who.user.id, &secret).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "user.totp-start")
            .record(RecordRef::new("user", who.user.id))
            .source(source),
    )
    .await?;
    Ok(TotpEnrolment {
        otpauth_uri: secret.otpauth_uri(&who.user.username),
        secret: secret.to_base32(),
    })
}

/// Confirms two-factor sign-in with the code the authenticator app shows now; from
/// then on, sign-in asks for a code.
#[utoipa::path(
    post,
    path = "/api/v1/me/totp/confirm",
    tag = "me",
    request_body = TotpCodeBody,
    responses(
        (status = 200, description = "Confirmed", body = User),
        (status = 401, body = Problem),
        (status = 409, description = "Nothing to confirm: not started, or already confirmed", body = Problem),
        (status = 422, description = "The code is not the current one (field `code`)", body = Problem),
    )
)]
async fn confirm_enrolment(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Authenticated,
    ApiJson(body): ApiJson<TotpCodeBody>,
) -> Result<axum::Json<User>, AppError> {
    let code = code_of(&body)?;
    Ok(axum::Json(confirm(&state, &who, &source, &code).await?))
}

/// Confirms `who`'s second factor with the code their app shows now.
pub(crate) async fn confirm(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    code: &TotpCode,
) -> Result<User, AppError> {
    let stored = state.store.user_with_secret(who.user.id).await?.totp;
    let secret = match stored {
        None => {
            return Err(AppError::Conflict(
                "start setting up two-factor sign-in first (POST /api/v1/me/totp)".to_owned(),
            ));
        }
        Some(t) if t.is_confirmed() => {
            return Err(AppError::Conflict(
                "two-factor sign-in is already set up".to_owned(),
            ));
        }
        Some(t) => t.secret,
    };
    let now = Timestamp::now();
    let step = secret.verify(code, now).ok_or_else(|| {
        AppError::field(
            "code",
            "is not the code your authenticator app shows now; check its clock and try again",
        )
    })?;
    let mut tx = state.store.write().await?;
    if !tx.confirm_totp(who.user.id, step, now).await? {
        return Err(AppError::Conflict(
            "the secret changed or was confirmed meanwhile; start again".to_owned(),
        ));
    }
    tx.commit(
        AuditEntry::new(who.actor(), "user.totp-confirm")
            .record(RecordRef::new("user", who.user.id))
            .source(source),
    )
    .await?;
    Ok(state.store.user(who.user.id).await?)
}

/// Turns two-factor sign-in off, with a current code. Refused while the user's
/// organisation requires it (an administrator can reset it instead).
#[utoipa::path(
    delete,
    path = "/api/v1/me/totp",
    tag = "me",
    request_body = TotpCodeBody,
    responses(
        (status = 204, description = "Turned off"),
        (status = 401, body = Problem),
        (status = 409, description = "The organisation requires two-factor sign-in, or it is not set up", body = Problem),
        (status = 422, description = "The code is not the current one, or was used already (field `code`)", body = Problem),
    )
)]
async fn turn_off(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<TotpCodeBody>,
) -> Result<StatusCode, AppError> {
    let code = code_of(&body)?;
    off(&state, &who, &source, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns `who`'s second factor off with a current code, unless their organisation
/// requires one.
pub(crate) async fn off(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    code: &TotpCode,
) -> Result<(), AppError> {
    if who.sign_in_policy.require_totp {
        return Err(AppError::Conflict(format!(
            "{} requires two-factor sign-in, so it cannot be turned off; an administrator can reset it if you lose your authenticator",
            who.organisation.name
        )));
    }
    let Some(stored) = state
        .store
        .user_with_secret(who.user.id)
        .await?
        .totp
        .filter(|t| t.is_confirmed())
    else {
        return Err(AppError::Conflict(
            "two-factor sign-in is not set up".to_owned(),
        ));
    };
    let wrong = || {
        AppError::field(
            "code",
            "is not the code your authenticator app shows now, or was used already",
        )
    };
    let step = stored
        .secret
        .verify(code, Timestamp::now())
        .ok_or_else(wrong)?;
    let mut tx = state.store.write().await?;
    if !tx.use_totp_step(who.user.id, step).await? {
        return Err(wrong());
    }
    tx.clear_totp(who.user.id).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "user.totp-off")
            .record(RecordRef::new("user", who.user.id))
            .source(source),
    )
    .await?;
    Ok(())
}
