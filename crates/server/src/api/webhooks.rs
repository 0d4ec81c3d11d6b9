//! An organisation's outgoing webhooks, for its administrators and national agency
//! administrators: make one (its signing secret is shown once), list them, remove one,
//! and follow its deliveries. Another organisation's answer 404, as if they did not
//! exist.

use super::administered;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress, webhooks};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::notification::{NoticeKinds, WebhookId, WebhookUrl};
use concordat_store::{Delivery, Webhook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(remove_webhook))
        .routes(routes!(list_deliveries))
}

/// A webhook to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateWebhook {
    /// Where to deliver: an `http` or `https` URL.
    url: WebhookUrl,
    /// Which notices to deliver.
    kinds: NoticeKinds,
}

/// A new webhook and its signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookCreated {
    /// The webhook.
    webhook: Webhook,
    /// The key of the HMAC-SHA256 signature in `Concordat-Signature`; shown only now.
    secret: String,
}

/// Lists the organisation's webhooks, removed ones included (never their secrets).
#[utoipa::path(
    get,
    path = "/api/v1/organisations/{code}/webhooks",
    tag = "webhooks",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    responses(
        (status = 200, body = Vec<Webhook>),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn list_webhooks(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<axum::Json<Vec<Webhook>>, AppError> {
    let code = administered(&who, &code)?;
    Ok(axum::Json(state.store.webhooks(&code).await?))
}

/// Makes a webhook: notices of the chosen kinds about OFFICIAL records are POSTed to
/// the URL, signed with the secret returned now and never again.
#[utoipa::path(
    post,
    path = "/api/v1/organisations/{code}/webhooks",
    tag = "webhooks",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    request_body = CreateWebhook,
    responses(
        (status = 201, body = WebhookCreated),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn create_webhook(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, axum::Json<WebhookCreated>), AppError> {
    let code = administered(&who, &code)?;
    let (webhook, secret) = webhooks::create(
        &state.store,
        who.actor(),
        &source,
        &code,
        body.url,
        body.kinds,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookCreated {
            webhook,
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// Removes a webhook: nothing more is sent to it, and deliveries still pending fail.
/// It stays listed, with when it was removed, and its deliveries stay readable.
#[utoipa::path(
    delete,
    path = "/api/v1/organisations/{code}/webhooks/{id}",
    tag = "webhooks",
    params(
        ("code" = String, Path, description = "The organisation's code, e.g. `met`"),
        ("id" = String, Path, description = "The webhook's identifier"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn remove_webhook(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path((code, id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let code = administered(&who, &code)?;
    let id: WebhookId = super::path_id(&id)?;
    webhooks::remove(&state.store, who.actor(), &source, &code, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first (the latest 200): pending (with the next
/// attempt), delivered, or failed, with the attempts made and the last status or error.
#[utoipa::path(
    get,
    path = "/api/v1/organisations/{code}/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(
        ("code" = String, Path, description = "The organisation's code, e.g. `met`"),
        ("id" = String, Path, description = "The webhook's identifier"),
    ),
    responses(
        (status = 200, body = Vec<Delivery>),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn list_deliveries(
    State(state): State<AppState>,
    who: Principal,
    Path((code, id)): Path<(String, String)>,
) -> Result<axum::Json<Vec<Delivery>>, AppError> {
    let code = administered(&who, &code)?;
    let id: WebhookId = super::path_id(&id)?;
    Ok(axum::Json(
        webhooks::deliveries(&state.store, &code, id).await?,
    ))
}
