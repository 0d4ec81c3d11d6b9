//! Subjects of tasking: organised crime groups, individuals and vulnerabilities, with
//! their priority designations (¶5).

use super::path_id;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::reads::record_read;
use crate::tasking::{self, DesignationInput, NewSubjectInput, SubjectDetail};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::subject::Subject;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subjects, create_subject))
        .routes(routes!(get_subject))
        .routes(routes!(designate_subject))
}

/// The subjects the user's organisation recorded or meets on its requests and
/// operations.
#[utoipa::path(
    get,
    path = "/api/v1/subjects",
    tag = "subjects",
    responses((status = 200, body = Vec<Subject>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_subjects(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<Subject>>, AppError> {
    Ok(axum::Json(tasking::subjects(&state, &who).await?))
}

/// Records a subject for the user's organisation. A Priority or High Priority
/// designation needs an analyst.
#[utoipa::path(
    post,
    path = "/api/v1/subjects",
    tag = "subjects",
    request_body = NewSubjectInput,
    responses(
        (status = 201, body = Subject),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn create_subject(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<NewSubjectInput>,
) -> Result<(StatusCode, axum::Json<Subject>), AppError> {
    let subject = tasking::create_subject(&state, &who, &source, body).await?;
    Ok((StatusCode::CREATED, axum::Json(subject)))
}

/// A subject with every designation it has had.
#[utoipa::path(
    get,
    path = "/api/v1/subjects/{id}",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's identifier")),
    responses((status = 200, body = SubjectDetail), (status = 404, body = Problem))
)]
async fn get_subject(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<SubjectDetail>, AppError> {
    let detail = tasking::visible_subject(&state, &who, path_id(&id)?).await?;
    record_read(
        &state,
        &who,
        &source,
        "subject",
        detail.subject.id,
        "subject",
    )
    .await?;
    Ok(axum::Json(detail))
}

/// Records a new designation, with its basis; earlier ones stay on the record. The
/// recording organisation's analysts only.
#[utoipa::path(
    post,
    path = "/api/v1/subjects/{id}/designations",
    tag = "subjects",
    params(("id" = String, Path, description = "The subject's identifier")),
    request_body = DesignationInput,
    responses(
        (status = 201, body = SubjectDetail),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn designate_subject(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DesignationInput>,
) -> Result<(StatusCode, axum::Json<SubjectDetail>), AppError> {
    let detail = tasking::designate(&state, &who, &source, path_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, axum::Json(detail)))
}
