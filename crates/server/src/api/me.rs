//! The signed-in user: who they are, and changing their password.

use crate::auth::Authenticated;
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress, accounts};
use axum::extract::State;
use axum::http::StatusCode;
use concordat_domain::people::{NewPassword, User};
use concordat_domain::registry::Organisation;
use concordat_domain::totp::SignInPolicy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(end_all_sessions))
}

/// The signed-in user and their organisation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Me {
    /// The user.
    user: User,
    /// Their organisation.
    organisation: Organisation,
    /// How their organisation's people must sign in.
    sign_in_policy: SignInPolicy,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    /// The password now.
    current_password: String,
    /// The new password: at least 12 characters.
    new_password: String,
}

/// Who am I? Answers even when a password change or setting up a second factor is
/// required.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    responses(
        (status = 200, body = Me),
        (status = 401, body = Problem),
    )
)]
async fn me(who: Authenticated) -> axum::Json<Me> {
    axum::Json(Me {
        user: who.user,
        organisation: who.organisation,
        sign_in_policy: who.sign_in_policy,
    })
}

/// Changes the signed-in user's password.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "me",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = Problem),
        (status = 422, description = "The current password is wrong, or the new one is not acceptable", body = Problem),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Authenticated,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let new = NewPassword::parse(&body.new_password)
        .map_err(|e| AppError::field("new_password", e.message))?;
    let actor = who.actor();
    accounts::change_password(
        &state.store,
        actor,
        &source,
        who.user.id,
        &body.current_password,
        &new,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs the user out everywhere: every browser session of theirs ends at once (API
/// tokens are revoked one by one under /api/v1/tokens).
#[utoipa::path(
    delete,
    path = "/api/v1/me/sessions",
    tag = "me",
    responses(
        (status = 200, body = SessionsEnded),
        (status = 401, body = Problem),
    )
)]
async fn end_all_sessions(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Authenticated,
) -> Result<axum::Json<SessionsEnded>, AppError> {
    let ended = end_all(&state, &who, &source).await?;
    Ok(axum::Json(SessionsEnded { ended }))
}

/// Ends every browser session of `who`'s, this one included; how many ended.
pub(crate) async fn end_all(
    state: &AppState,
    who: &Authenticated,
    source: &str,
) -> Result<u64, AppError> {
    let mut tx = state.store.write().await?;
    let ended = tx.delete_sessions_of(who.user.id).await?;
    tx.commit(
        concordat_domain::audit::AuditEntry::new(who.actor(), "session.end-all")
            .record(concordat_domain::audit::RecordRef::new("user", who.user.id))
            .source(source)
            .detail(serde_json::json!({ "sessions": ended })),
    )
    .await?;
    Ok(ended)
}

/// How many sessions were ended.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionsEnded {
    /// Sessions ended, this one included.
    ended: u64,
}
