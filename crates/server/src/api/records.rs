//! The markings and need-to-know shares of every kind of sensitive record.

use super::path_id;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::handling::{self, MarkingView, NewShareInput};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::handling::{Marking, RecordKind};
use concordat_store::ShareRecord;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_marking, set_marking))
        .routes(routes!(list_shares, create_share))
        .routes(routes!(revoke_share))
}

fn kind(raw: &str) -> Result<RecordKind, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// A record's protective marking and its banner.
#[utoipa::path(
    get,
    path = "/api/v1/records/{kind}/{id}/marking",
    tag = "handling",
    params(
        ("kind" = String, Path, description = "subject, request, operation, direction, registration or intelligence"),
        ("id" = String, Path, description = "The record's identifier"),
    ),
    responses((status = 200, body = MarkingView), (status = 404, body = Problem))
)]
async fn get_marking(
    State(state): State<AppState>,
    who: Principal,
    Path((raw_kind, id)): Path<(String, String)>,
) -> Result<axum::Json<MarkingView>, AppError> {
    Ok(axum::Json(
        handling::marking(&state, &who, kind(&raw_kind)?, &id).await?,
    ))
}

/// Re-marks a record. Only an organisation party to it may, never above the user's own
/// vetting; the change is audited with the old and new banners.
#[utoipa::path(
    put,
    path = "/api/v1/records/{kind}/{id}/marking",
    tag = "handling",
    params(
        ("kind" = String, Path, description = "subject, request, operation, direction, registration or intelligence"),
        ("id" = String, Path, description = "The record's identifier"),
    ),
    request_body = Marking,
    responses(
        (status = 200, body = MarkingView),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn set_marking(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path((raw_kind, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Marking>,
) -> Result<axum::Json<MarkingView>, AppError> {
    Ok(axum::Json(
        handling::remark(&state, &who, &source, kind(&raw_kind)?, &id, body).await?,
    ))
}

/// The shares of a record: all of them for a party, only its own for a recipient.
#[utoipa::path(
    get,
    path = "/api/v1/records/{kind}/{id}/shares",
    tag = "handling",
    params(
        ("kind" = String, Path, description = "subject, request, operation or intelligence"),
        ("id" = String, Path, description = "The record's identifier"),
    ),
    responses((status = 200, body = Vec<ShareRecord>), (status = 404, body = Problem))
)]
async fn list_shares(
    State(state): State<AppState>,
    who: Principal,
    Path((raw_kind, id)): Path<(String, String)>,
) -> Result<axum::Json<Vec<ShareRecord>>, AppError> {
    Ok(axum::Json(
        handling::shares(&state, &who, kind(&raw_kind)?, &id).await?,
    ))
}

/// Shares a record with another organisation, with the reason it needs to know and an
/// expiry. Handling code C is never shared onwards.
#[utoipa::path(
    post,
    path = "/api/v1/records/{kind}/{id}/shares",
    tag = "handling",
    params(
        ("kind" = String, Path, description = "subject, request, operation or intelligence"),
        ("id" = String, Path, description = "The record's identifier"),
    ),
    request_body = NewShareInput,
    responses(
        (status = 201, body = ShareRecord),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn create_share(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path((raw_kind, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewShareInput>,
) -> Result<(StatusCode, axum::Json<ShareRecord>), AppError> {
    let share = handling::share(&state, &who, &source, kind(&raw_kind)?, &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(share)))
}

/// Revokes a share the user's organisation made; the recipient loses sight at once.
#[utoipa::path(
    delete,
    path = "/api/v1/shares/{id}",
    tag = "handling",
    params(("id" = String, Path, description = "The share's identifier")),
    responses(
        (status = 200, body = ShareRecord),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn revoke_share(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<ShareRecord>, AppError> {
    Ok(axum::Json(
        handling::revoke_share(&state, &who, &source, path_id(&id)?).await?,
    ))
}
