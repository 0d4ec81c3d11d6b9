//! Graded intelligence records (3x5x2, or 5x5x5 as given) with their markings.

use super::path_id;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::handling::{self, IntelligenceView, NewIntelligenceInput};
use crate::reads::record_read;
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_intelligence, record_intelligence))
        .routes(routes!(get_intelligence))
}

/// The intelligence records the user's organisation recorded or holds by a share, that
/// the user's vetting covers.
#[utoipa::path(
    get,
    path = "/api/v1/intelligence",
    tag = "intelligence",
    responses((status = 200, body = Vec<IntelligenceView>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_intelligence(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<IntelligenceView>>, AppError> {
    Ok(axum::Json(handling::intelligence_list(&state, &who).await?))
}

/// Records graded intelligence for the user's organisation, with its marking (never
/// above the user's own vetting).
#[utoipa::path(
    post,
    path = "/api/v1/intelligence",
    tag = "intelligence",
    request_body = NewIntelligenceInput,
    responses(
        (status = 201, body = IntelligenceView),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn record_intelligence(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<NewIntelligenceInput>,
) -> Result<(StatusCode, axum::Json<IntelligenceView>), AppError> {
    let view = handling::record_intelligence(&state, &who, &source, body).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// One intelligence record, with its handling conditions. The read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/intelligence/{id}",
    tag = "intelligence",
    params(("id" = String, Path, description = "The record's identifier")),
    responses((status = 200, body = IntelligenceView), (status = 404, body = Problem))
)]
async fn get_intelligence(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<IntelligenceView>, AppError> {
    let view = handling::intelligence(&state, &who, path_id(&id)?).await?;
    record_read(
        &state,
        &who,
        &source,
        "intelligence",
        view.intelligence.id,
        "intelligence",
    )
    .await?;
    Ok(axum::Json(view))
}
