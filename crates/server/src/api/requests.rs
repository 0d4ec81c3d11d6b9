//! Requests for tasking and assistance, both ways (¶9, ¶20–24): raise, submit,
//! assess, recommend, decide, withdraw, and agree charging exceptions (¶10).

use super::path_id;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::reads::record_read;
use crate::tasking::{self, ChargingInput, DecisionInput, NewRequestInput};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use concordat_domain::decision::Recommendation;
use concordat_domain::tasking::{Request, RequestEvent, RequestState};
use concordat_store::{ChargingProposal, DecisionRecord, RequestBox, RequestHistoryEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, raise_request))
        .routes(routes!(get_request))
        .routes(routes!(submit_request))
        .routes(routes!(start_assessment))
        .routes(routes!(withdraw_request))
        .routes(routes!(get_recommendation))
        .routes(routes!(decide_request))
        .routes(routes!(propose_charging))
        .routes(routes!(agree_charging))
}

/// Which requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestQuery {
    /// `sent` (raised by the user's organisation), `received` (to it or through it) or
    /// `all` (the default).
    #[param(value_type = Option<String>)]
    r#box: Option<String>,
    /// Only requests in this state.
    #[param(value_type = Option<String>)]
    state: Option<String>,
}

/// A request with its history, decisions and any charging exception.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RequestDetail {
    /// The request.
    request: Request,
    /// What has happened to it.
    history: Vec<RequestHistoryEntry>,
    /// Its decisions, oldest first; the one in force is not superseded.
    decisions: Vec<DecisionRecord>,
    /// A charging exception proposed or agreed (¶10).
    charging: Option<ChargingProposal>,
}

/// A note with a state change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Note {
    /// Why, in a sentence.
    note: Option<String>,
}

/// Lists the requests the user's organisation sent or received, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/requests",
    tag = "requests",
    params(RequestQuery),
    responses(
        (status = 200, body = Vec<Request>),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn list_requests(
    State(state): State<AppState>,
    who: Principal,
    query: Result<Query<RequestQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<Request>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let which = match query.r#box.as_deref() {
        None | Some("all") => RequestBox::All,
        Some("sent") => RequestBox::Sent,
        Some("received") => RequestBox::Received,
        Some(other) => {
            return Err(AppError::field(
                "box",
                format!("`{other}` is not one of: sent, received, all"),
            ));
        }
    };
    let in_state = query
        .state
        .as_deref()
        .map(str::parse::<RequestState>)
        .transpose()?;
    Ok(axum::Json(
        tasking::requests(&state, &who, which, in_state).await?,
    ))
}

/// Raises a request as a draft of the user's organisation; the route follows ¶21–24.
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    tag = "requests",
    request_body = NewRequestInput,
    responses(
        (status = 201, body = Request),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn raise_request(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<NewRequestInput>,
) -> Result<(StatusCode, axum::Json<Request>), AppError> {
    let request = tasking::raise(&state, &who, &source, body).await?;
    Ok((StatusCode::CREATED, axum::Json(request)))
}

/// A request the user's organisation sent or received, with its history.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    responses(
        (status = 200, body = RequestDetail),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_request(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<RequestDetail>, AppError> {
    let request = tasking::visible_request(&state, &who, path_id(&id)?).await?;
    record_read(&state, &who, &source, "request", request.id, "request").await?;
    Ok(axum::Json(RequestDetail {
        history: state.store.request_history(request.id).await?,
        decisions: state.store.decisions(request.id).await?,
        charging: state.store.charging_proposal(request.id).await?,
        request,
    }))
}

async fn move_request(
    state: &AppState,
    who: &Principal,
    source: &str,
    id: &str,
    event: RequestEvent,
    note: Option<String>,
) -> Result<axum::Json<Request>, AppError> {
    Ok(axum::Json(
        tasking::transition(state, who, source, path_id(id)?, event, note).await?,
    ))
}

/// Submits a draft: the deadline starts from the urgency, and the receiver's (and
/// any gateway's) tasking officers are notified. The requester's tasking officers only.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/submit",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    responses(
        (status = 200, body = Request),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn submit_request(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Request>, AppError> {
    move_request(&state, &who, &source, &id, RequestEvent::Submit, None).await
}

/// Starts the assessment. The receiver's tasking officers only.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/assessment",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    responses(
        (status = 200, body = Request),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn start_assessment(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Request>, AppError> {
    move_request(
        &state,
        &who,
        &source,
        &id,
        RequestEvent::StartAssessment,
        None,
    )
    .await
}

/// Withdraws an undecided request. The requester's tasking officers only.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/withdraw",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    request_body = Note,
    responses(
        (status = 200, body = Request),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn withdraw_request(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Note>,
) -> Result<axum::Json<Request>, AppError> {
    move_request(
        &state,
        &who,
        &source,
        &id,
        RequestEvent::Withdraw,
        body.note,
    )
    .await
}

/// What the policy recommends now, with each Commitment test and the facts that
/// decided it (¶5, ¶14, Annex B).
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/recommendation",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    responses(
        (status = 200, body = Recommendation),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_recommendation(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Recommendation>, AppError> {
    let id = path_id(&id)?;
    let recommendation = tasking::recommendation(&state, &who, id).await?;
    record_read(&state, &who, &source, "request", id, "recommendation").await?;
    Ok(axum::Json(recommendation))
}

/// Records the receiver's decision, with its NDM rationale; a departure from the
/// recommendation needs a reason. Accepting creates or joins an operation. The
/// receiver's tasking officers only; a later decision supersedes the one in force.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/decisions",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    request_body = DecisionInput,
    responses(
        (status = 201, body = DecisionRecord),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn decide_request(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionInput>,
) -> Result<(StatusCode, axum::Json<DecisionRecord>), AppError> {
    let record = tasking::decide(&state, &who, &source, path_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, axum::Json(record)))
}

/// Proposes a charging exception (¶10): support is free of charge unless both sides
/// agree otherwise. The requester's or receiver's tasking officers.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/charging",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    request_body = ChargingInput,
    responses(
        (status = 200, body = ChargingProposal),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn propose_charging(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChargingInput>,
) -> Result<axum::Json<ChargingProposal>, AppError> {
    Ok(axum::Json(
        tasking::propose_charging(&state, &who, &source, path_id(&id)?, body).await?,
    ))
}

/// Agrees the other side's charging proposal.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/charging/agreement",
    tag = "requests",
    params(("id" = String, Path, description = "The request's identifier")),
    responses(
        (status = 200, body = ChargingProposal),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn agree_charging(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<ChargingProposal>, AppError> {
    Ok(axum::Json(
        tasking::agree_charging(&state, &who, &source, path_id(&id)?).await?,
    ))
}
