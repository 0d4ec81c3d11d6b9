//! Event deconfliction: plan operational activity and hear at once of any clash with
//! another organisation's; the national 24/7 watch queue.

use super::path_id;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::events::{
    self, ChangeInput, ClashResolutionInput, ClashView, PlanInput, PlanOutcome, WatchClash,
};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::events::PlannedActivity;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_activities, plan_activity))
        .routes(routes!(get_activity, change_activity))
        .routes(routes!(cancel_activity))
        .routes(routes!(list_clashes))
        .routes(routes!(acknowledge_clash))
        .routes(routes!(watch_queue))
        .routes(routes!(own_clash))
        .routes(routes!(resolve_clash))
}

/// Your organisation's planned activity that has not ended, soonest first (the
/// national watch: everyone's).
#[utoipa::path(
    get,
    path = "/api/v1/activities",
    tag = "events",
    responses((status = 200, body = Vec<PlannedActivity>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_activities(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<PlannedActivity>>, AppError> {
    Ok(axum::Json(events::activities(&state, &who).await?))
}

/// Plans operational activity and checks it at once against every other
/// organisation's: the answer gives its deconfliction reference and any clash, and
/// both sides of a clash are alerted. A position is required (no geocoding).
#[utoipa::path(
    post,
    path = "/api/v1/activities",
    tag = "events",
    request_body = PlanInput,
    responses(
        (status = 201, body = PlanOutcome),
        (status = 400, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn plan_activity(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<PlanInput>,
) -> Result<(StatusCode, axum::Json<PlanOutcome>), AppError> {
    let outcome = events::plan(&state, &who, &source, body).await?;
    Ok((StatusCode::CREATED, axum::Json(outcome)))
}

/// One of your organisation's activities.
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}",
    tag = "events",
    params(("id" = String, Path, description = "The activity's identifier")),
    responses((status = 200, body = PlannedActivity), (status = 404, body = Problem))
)]
async fn get_activity(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<PlannedActivity>, AppError> {
    Ok(axum::Json(
        events::activity(&state, &who, path_id(&id)?).await?,
    ))
}

/// Moves or re-times planned activity; the check runs again (clashes that no longer
/// hold are cleared, new ones raised).
#[utoipa::path(
    put,
    path = "/api/v1/activities/{id}",
    tag = "events",
    params(("id" = String, Path, description = "The activity's identifier")),
    request_body = ChangeInput,
    responses(
        (status = 200, body = PlanOutcome),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn change_activity(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    body: Result<ApiJson<ChangeInput>, AppError>,
) -> Result<axum::Json<PlanOutcome>, AppError> {
    // Someone else's activity is not found, whatever the body says.
    let id = path_id(&id)?;
    events::activity(&state, &who, id).await?;
    let ApiJson(body) = body?;
    Ok(axum::Json(
        events::change(&state, &who, &source, id, body).await?,
    ))
}

/// Cancels planned activity: its clashes are cleared.
#[utoipa::path(
    post,
    path = "/api/v1/activities/{id}/cancellation",
    tag = "events",
    params(("id" = String, Path, description = "The activity's identifier")),
    responses(
        (status = 200, body = PlannedActivity),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn cancel_activity(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<PlannedActivity>, AppError> {
    Ok(axum::Json(
        events::cancel(&state, &who, &source, path_id(&id)?).await?,
    ))
}

/// The clashes on your organisation's activity, newest first: for each, only the other
/// activity's kind, time window, distance band and point of contact.
#[utoipa::path(
    get,
    path = "/api/v1/clashes",
    tag = "events",
    responses((status = 200, body = Vec<ClashView>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_clashes(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<ClashView>>, AppError> {
    Ok(axum::Json(events::clashes(&state, &who).await?))
}

/// Acknowledges a clash for your side (an unacknowledged one escalates to the 24/7
/// control rooms).
#[utoipa::path(
    post,
    path = "/api/v1/clashes/{id}/acknowledgement",
    tag = "events",
    params(("id" = String, Path, description = "The clash's identifier")),
    responses(
        (status = 200, body = ClashView),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn acknowledge_clash(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<ClashView>, AppError> {
    Ok(axum::Json(
        events::acknowledge(&state, &who, &source, path_id(&id)?).await?,
    ))
}

/// The national 24/7 watch queue: every clash of the last 30 days, both sides in full.
#[utoipa::path(
    get,
    path = "/api/v1/watch/clashes",
    tag = "events",
    responses((status = 200, body = Vec<WatchClash>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn watch_queue(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<WatchClash>>, AppError> {
    Ok(axum::Json(events::watch_queue(&state, &who).await?))
}

/// A watch officer takes ownership of a clash.
#[utoipa::path(
    post,
    path = "/api/v1/watch/clashes/{id}/ownership",
    tag = "events",
    params(("id" = String, Path, description = "The clash's identifier")),
    responses((status = 200, body = WatchClash), (status = 403, body = Problem), (status = 404, body = Problem))
)]
async fn own_clash(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<WatchClash>, AppError> {
    Ok(axum::Json(
        events::take_ownership(&state, &who, &source, path_id(&id)?).await?,
    ))
}

/// A watch officer records how a clash was resolved.
#[utoipa::path(
    post,
    path = "/api/v1/watch/clashes/{id}/resolution",
    tag = "events",
    params(("id" = String, Path, description = "The clash's identifier")),
    request_body = ClashResolutionInput,
    responses(
        (status = 200, body = WatchClash),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn resolve_clash(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    body: Result<ApiJson<ClashResolutionInput>, AppError>,
) -> Result<axum::Json<WatchClash>, AppError> {
    // Only the watch learns whether its body would have been acceptable.
    events::require_watch(&who)?;
    let ApiJson(body) = body?;
    Ok(axum::Json(
        events::resolve(&state, &who, &source, path_id(&id)?, body).await?,
    ))
}
