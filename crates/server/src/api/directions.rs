//! Directed tasking (¶9, ¶11): directions from the Director General's delegates to
//! chief officers, and the border protocol. The rules and who may do what are in
//! `crate::directions`, shared with the command line.

use crate::auth::Principal;
use crate::directions::{self, BorderProtocolView, DirectionDraft, DirectionView};
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::direction::{
    BorderProtocol, BorderProtocolRecord, ComplianceOutcome, ConsentAnswer, Direction, DirectionId,
    DirectionNote,
};
use concordat_domain::time::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_directions, draft_direction))
        .routes(routes!(get_direction))
        .routes(routes!(request_consent))
        .routes(routes!(record_consent))
        .routes(routes!(issue_direction))
        .routes(routes!(acknowledge_direction))
        .routes(routes!(record_compliance))
        .routes(routes!(get_border_protocol, set_border_protocol))
}

/// A direction to draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftBody {
    /// The code of the organisation to direct.
    recipient: String,
    /// The voluntary request to the recipient that came before, if one was made.
    request: Option<String>,
    /// What the chief officer is directed to do.
    instructions: String,
    /// When it must be acted on by (RFC 3339), if it says; in the future.
    needed_by: Option<Timestamp>,
}

/// The Secretary of State for Transport's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsentBody {
    /// `given` or `refused`.
    answer: ConsentAnswer,
    /// What the answer rests on (a letter's reference, say).
    note: Option<String>,
}

/// Whether the recipient complied.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplianceBody {
    /// `complied` or `not-complied`.
    outcome: ComplianceOutcome,
    /// What was done, or why not.
    note: Option<String>,
}

/// A record of the border protocol.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProtocolBody {
    /// `in-force` or `not-in-force`.
    state: BorderProtocol,
    /// What the record rests on.
    note: Option<String>,
}

fn note(raw: Option<&str>) -> Result<Option<DirectionNote>, AppError> {
    Ok(raw.map(DirectionNote::parse).transpose()?)
}

fn direction_id(raw: &str) -> Result<DirectionId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// Lists the directions the signed-in user may see, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/directions",
    tag = "directions",
    responses((status = 200, body = Vec<Direction>), (status = 401, body = Problem))
)]
async fn list_directions(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<Direction>>, AppError> {
    Ok(axum::Json(directions::list(&state, &who).await?))
}

/// Drafts a direction, checked against ¶9 and ¶11. A refused draft is answered 422
/// with every condition not met in `refusals`, and nothing is stored.
#[utoipa::path(
    post,
    path = "/api/v1/directions",
    tag = "directions",
    request_body = DraftBody,
    responses(
        (status = 201, body = Direction),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem, description = "The request named is not one the drafter may see"),
        (status = 422, body = Problem, description = "A field is invalid (`errors`), or the rules refuse the direction (`refusals`)"),
    )
)]
async fn draft_direction(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<(StatusCode, axum::Json<Direction>), AppError> {
    let draft = DirectionDraft::parse(
        &body.recipient,
        body.request.as_deref(),
        &body.instructions,
        body.needed_by,
    )?;
    let direction = directions::draft(&state, &who, &source, draft).await?;
    Ok((StatusCode::CREATED, axum::Json(direction)))
}

/// A direction with its history.
#[utoipa::path(
    get,
    path = "/api/v1/directions/{id}",
    tag = "directions",
    params(("id" = String, Path, description = "The direction's identifier")),
    responses(
        (status = 200, body = DirectionView),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_direction(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<DirectionView>, AppError> {
    let id = direction_id(&id)?;
    let view = directions::show(&state, &who, id).await?;
    crate::reads::record_read(&state, &who, &source, "direction", id, "direction").await?;
    Ok(axum::Json(view))
}

/// Records that the Secretary of State for Transport has been asked to consent (BTP only, ¶9).
#[utoipa::path(
    post,
    path = "/api/v1/directions/{id}/consent-request",
    tag = "directions",
    params(("id" = String, Path, description = "The direction's identifier")),
    responses(
        (status = 200, body = Direction),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn request_consent(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Direction>, AppError> {
    let id = direction_id(&id)?;
    Ok(axum::Json(
        directions::request_consent(&state, &who, &source, id).await?,
    ))
}

/// Records the Secretary of State for Transport's answer (¶9).
#[utoipa::path(
    post,
    path = "/api/v1/directions/{id}/consent",
    tag = "directions",
    params(("id" = String, Path, description = "The direction's identifier")),
    request_body = ConsentBody,
    responses(
        (status = 200, body = Direction),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn record_consent(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<axum::Json<Direction>, AppError> {
    let id = direction_id(&id)?;
    let note = note(body.note.as_deref())?;
    Ok(axum::Json(
        directions::record_consent(&state, &who, &source, id, body.answer, note).await?,
    ))
}

/// Issues a direction, checked again against ¶9 and ¶11 as things stand now, and tells
/// the recipient's tasking officers and senior decision-makers.
#[utoipa::path(
    post,
    path = "/api/v1/directions/{id}/issue",
    tag = "directions",
    params(("id" = String, Path, description = "The direction's identifier")),
    responses(
        (status = 200, body = Direction),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem, description = "The rules refuse it (`refusals`)"),
    )
)]
async fn issue_direction(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Direction>, AppError> {
    let id = direction_id(&id)?;
    Ok(axum::Json(
        directions::issue(&state, &who, &source, id).await?,
    ))
}

/// Acknowledges a direction, for the recipient organisation.
#[utoipa::path(
    post,
    path = "/api/v1/directions/{id}/acknowledgement",
    tag = "directions",
    params(("id" = String, Path, description = "The direction's identifier")),
    responses(
        (status = 200, body = Direction),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
    )
)]
async fn acknowledge_direction(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Direction>, AppError> {
    let id = direction_id(&id)?;
    Ok(axum::Json(
        directions::acknowledge(&state, &who, &source, id).await?,
    ))
}

/// Records whether the recipient complied.
#[utoipa::path(
    post,
    path = "/api/v1/directions/{id}/compliance",
    tag = "directions",
    params(("id" = String, Path, description = "The direction's identifier")),
    request_body = ComplianceBody,
    responses(
        (status = 200, body = Direction),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn record_compliance(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ComplianceBody>,
) -> Result<axum::Json<Direction>, AppError> {
    let id = direction_id(&id)?;
    let note = note(body.note.as_deref())?;
    Ok(axum::Json(
        directions::record_compliance(&state, &who, &source, id, body.outcome, note).await?,
    ))
}

/// The border protocol between the Home Secretary and the Director General (¶11): in
/// force or not, and every record of it.
#[utoipa::path(
    get,
    path = "/api/v1/border-protocol",
    tag = "directions",
    responses((status = 200, body = BorderProtocolView), (status = 401, body = Problem))
)]
async fn get_border_protocol(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<BorderProtocolView>, AppError> {
    Ok(axum::Json(directions::border_protocol(&state, &who).await?))
}

/// Records the border protocol as in force or not (¶11); the latest record counts.
#[utoipa::path(
    post,
    path = "/api/v1/border-protocol",
    tag = "directions",
    request_body = ProtocolBody,
    responses(
        (status = 201, body = BorderProtocolRecord),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn set_border_protocol(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<ProtocolBody>,
) -> Result<(StatusCode, axum::Json<BorderProtocolRecord>), AppError> {
    let note = note(body.note.as_deref())?;
    let record = directions::set_border_protocol(&state, &who, &source, body.state, note).await?;
    Ok((StatusCode::CREATED, axum::Json(record)))
}
