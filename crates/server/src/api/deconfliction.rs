//! Subject deconfliction: register what you are working on, and hear who else is.
//! Neither side ever sees the other's record; a registration is its organisation's own.

use super::path_id;
use crate::auth::Principal;
use crate::deconfliction::{
    self, HitView, RegisterInput, RegistrationAnswer, RegistrationDetail, ResolveInput,
};
use crate::error::{ApiJson, AppError, Problem};
use crate::reads::{record_read, record_reads};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::deconfliction::Registration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_registrations, register))
        .routes(routes!(get_registration))
        .routes(routes!(renew_registration))
        .routes(routes!(withdraw_registration))
        .routes(routes!(list_hits))
        .routes(routes!(acknowledge_hit))
        .routes(routes!(resolve_hit))
}

/// Your organisation's registrations.
#[utoipa::path(
    get,
    path = "/api/v1/registrations",
    tag = "deconfliction",
    responses((status = 200, body = Vec<Registration>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_registrations(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<Registration>>, AppError> {
    Ok(axum::Json(
        deconfliction::registrations(&state, &who).await?,
    ))
}

/// Registers a subject of interest and matches it at once against every other
/// organisation's registrations. The answer lists the hits you are told of, and says
/// plainly that a clean result does not rule out a conflict. Case and tasking officers.
#[utoipa::path(
    post,
    path = "/api/v1/registrations",
    tag = "deconfliction",
    request_body = RegisterInput,
    responses(
        (status = 201, body = RegistrationAnswer),
        (status = 400, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn register(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<RegisterInput>,
) -> Result<(StatusCode, axum::Json<RegistrationAnswer>), AppError> {
    let answer = deconfliction::register(&state, &who, &source, body).await?;
    Ok((StatusCode::CREATED, axum::Json(answer)))
}

/// One of your organisation's registrations, with its record.
#[utoipa::path(
    get,
    path = "/api/v1/registrations/{id}",
    tag = "deconfliction",
    params(("id" = String, Path, description = "The registration's identifier")),
    responses((status = 200, body = RegistrationDetail), (status = 404, body = Problem))
)]
async fn get_registration(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<RegistrationDetail>, AppError> {
    let detail = deconfliction::registration(&state, &who, path_id(&id)?).await?;
    let id = detail.registration.id;
    record_read(&state, &who, &source, "registration", id, "registration").await?;
    Ok(axum::Json(detail))
}

/// Renews a registration for another retention period, and re-checks it.
#[utoipa::path(
    post,
    path = "/api/v1/registrations/{id}/renewal",
    tag = "deconfliction",
    params(("id" = String, Path, description = "The registration's identifier")),
    responses(
        (status = 200, body = RegistrationDetail),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn renew_registration(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<RegistrationDetail>, AppError> {
    Ok(axum::Json(
        deconfliction::renew(&state, &who, &source, path_id(&id)?).await?,
    ))
}

/// Withdraws a registration: it matches nothing from now on.
#[utoipa::path(
    post,
    path = "/api/v1/registrations/{id}/withdrawal",
    tag = "deconfliction",
    params(("id" = String, Path, description = "The registration's identifier")),
    responses(
        (status = 200, body = RegistrationDetail),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn withdraw_registration(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<RegistrationDetail>, AppError> {
    Ok(axum::Json(
        deconfliction::withdraw(&state, &who, &source, path_id(&id)?).await?,
    ))
}

/// The hits on your organisation's registrations that it is told of.
#[utoipa::path(
    get,
    path = "/api/v1/hits",
    tag = "deconfliction",
    responses((status = 200, body = Vec<HitView>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_hits(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
) -> Result<axum::Json<Vec<HitView>>, AppError> {
    let hits = deconfliction::hits(&state, &who).await?;
    // Each hit shown discloses the other side's contact again: each is on the record.
    record_reads(
        &state,
        &who,
        &source,
        "hit",
        hits.iter().map(|h| h.id),
        "hit",
    )
    .await?;
    Ok(axum::Json(hits))
}

/// Acknowledges a hit for your side.
#[utoipa::path(
    post,
    path = "/api/v1/hits/{id}/acknowledgement",
    tag = "deconfliction",
    params(("id" = String, Path, description = "The hit's identifier")),
    responses(
        (status = 200, body = HitView),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn acknowledge_hit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<HitView>, AppError> {
    Ok(axum::Json(
        deconfliction::acknowledge(&state, &who, &source, path_id(&id)?).await?,
    ))
}

/// Resolves a hit: same person, different person (never raised again), or deconflicted.
#[utoipa::path(
    post,
    path = "/api/v1/hits/{id}/resolution",
    tag = "deconfliction",
    params(("id" = String, Path, description = "The hit's identifier")),
    request_body = ResolveInput,
    responses(
        (status = 200, body = HitView),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn resolve_hit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResolveInput>,
) -> Result<axum::Json<HitView>, AppError> {
    Ok(axum::Json(
        deconfliction::resolve(&state, &who, &source, path_id(&id)?, body).await?,
    ))
}
