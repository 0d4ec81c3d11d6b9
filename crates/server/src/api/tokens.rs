//! API tokens: a user issues and revokes their own; an administrator may revoke the
//! tokens of users they manage.

use super::admin_scope;
use crate::accounts;
use crate::auth::{Authenticated, Principal};
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::time::Timestamp;
use concordat_store::ApiToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    /// A name to recognise it by.
    name: String,
    /// When it stops working (RFC 3339); it never expires if absent.
    expires_at: Option<Timestamp>,
}

/// A new token and its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenCreated {
    /// The token.
    token: ApiToken,
    /// The secret to send as `Authorization: Bearer ...`; shown only now.
    secret: String,
}

/// Lists the signed-in user's tokens (never their secrets).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    responses((status = 200, body = Vec<ApiToken>), (status = 401, body = Problem))
)]
async fn list_tokens(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<ApiToken>>, AppError> {
    Ok(axum::Json(state.store.api_tokens_of(who.user.id).await?))
}

/// Issues a token that acts with the signed-in user's access.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    request_body = CreateToken,
    responses(
        (status = 201, body = TokenCreated),
        (status = 401, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn create_token(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<(StatusCode, axum::Json<TokenCreated>), AppError> {
    let name = accounts::parse_token_name(&body.name)?;
    let (token, secret) = accounts::create_token(
        &state.store,
        who.actor(),
        &source,
        who.user.id,
        name,
        body.expires_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenCreated { token, secret }),
    ))
}

/// Revokes a token at once. A user may revoke their own; an administrator, those of
/// the users they manage.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's identifier")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn revoke_token(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    revoke(&state, &who, &source, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes token `id` for `who`: their own, or one of a user they administer; anyone
/// else's is answered as if it did not exist.
pub(crate) async fn revoke(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: &str,
) -> Result<(), AppError> {
    let id: uuid::Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let token = state.store.api_token_by_id(id).await?;
    if token.user_id != who.user.id {
        let owner = state.store.user(token.user_id).await?;
        let allowed = admin_scope(who).is_ok_and(|scope| scope.covers(&owner.organisation));
        if !allowed {
            return Err(AppError::NotFound);
        }
    }
    accounts::revoke_token(&state.store, who.actor(), source, id).await
}
