//! Operations (¶14, ¶18): who leads, supports and coordinates over time, and what
//! they achieved. Only organisations that hold or held a role see an operation.

use super::path_id;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::reads::record_read;
use crate::tasking::{self, NewOperationInput, RoleChangeInput};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use concordat_domain::decision::Roles;
use concordat_domain::operation::{Operation, OperationOutcome};
use concordat_domain::time::Timestamp;
use concordat_store::OperationSummary;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_operations, open_operation))
        .routes(routes!(get_operation))
        .routes(routes!(roles_as_of, change_roles))
        .routes(routes!(record_outcome))
}

/// The moment to read roles at.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsOf {
    /// An RFC 3339 date and time; now if absent.
    #[param(value_type = Option<String>)]
    as_of: Option<String>,
}

/// The roles of an operation at a moment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RolesAsOf {
    /// The moment.
    as_of: Timestamp,
    /// The roles then; none before the operation began.
    roles: Option<Roles>,
}

/// The operations the user's organisation has held a role in, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/operations",
    tag = "operations",
    responses((status = 200, body = Vec<OperationSummary>), (status = 401, body = Problem), (status = 403, body = Problem))
)]
async fn list_operations(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<OperationSummary>>, AppError> {
    Ok(axum::Json(tasking::operations(&state, &who).await?))
}

/// Opens an operation led by the user's organisation. Tasking officers only.
#[utoipa::path(
    post,
    path = "/api/v1/operations",
    tag = "operations",
    request_body = NewOperationInput,
    responses(
        (status = 201, body = Operation),
        (status = 403, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn open_operation(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    ApiJson(body): ApiJson<NewOperationInput>,
) -> Result<(StatusCode, axum::Json<Operation>), AppError> {
    let operation = tasking::open_operation(&state, &who, &source, body).await?;
    Ok((StatusCode::CREATED, axum::Json(operation)))
}

/// An operation with its whole role history and outcomes.
#[utoipa::path(
    get,
    path = "/api/v1/operations/{id}",
    tag = "operations",
    params(("id" = String, Path, description = "The operation's identifier")),
    responses((status = 200, body = Operation), (status = 404, body = Problem))
)]
async fn get_operation(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Operation>, AppError> {
    let operation = tasking::visible_operation(&state, &who, path_id(&id)?).await?;
    record_read(
        &state,
        &who,
        &source,
        "operation",
        operation.id,
        "operation",
    )
    .await?;
    Ok(axum::Json(operation))
}

/// Who led, supported and coordinated at a moment.
#[utoipa::path(
    get,
    path = "/api/v1/operations/{id}/roles",
    tag = "operations",
    params(("id" = String, Path, description = "The operation's identifier"), AsOf),
    responses((status = 200, body = RolesAsOf), (status = 404, body = Problem), (status = 422, body = Problem))
)]
async fn roles_as_of(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    query: Result<Query<AsOf>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<RolesAsOf>, AppError> {
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let as_of = match query.as_of {
        None => Timestamp::now(),
        Some(text) => serde_json::from_value(serde_json::Value::String(text))
            .map_err(|_| AppError::field("as_of", "is not an RFC 3339 date and time"))?,
    };
    let operation = tasking::visible_operation(&state, &who, path_id(&id)?).await?;
    record_read(&state, &who, &source, "operation", operation.id, "roles").await?;
    Ok(axum::Json(RolesAsOf {
        as_of,
        roles: operation.roles.as_of(as_of),
    }))
}

/// Changes the roles from now, with the reason; a change of lead is recorded as such.
/// The lead organisation's tasking officers only.
#[utoipa::path(
    post,
    path = "/api/v1/operations/{id}/roles",
    tag = "operations",
    params(("id" = String, Path, description = "The operation's identifier")),
    request_body = RoleChangeInput,
    responses(
        (status = 200, body = Operation),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn change_roles(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoleChangeInput>,
) -> Result<axum::Json<Operation>, AppError> {
    Ok(axum::Json(
        tasking::change_roles(&state, &who, &source, path_id(&id)?, body).await?,
    ))
}

/// Records an outcome: a graded disruption, arrests, charges, seizures, assets
/// denied (¶14, Results). Tasking or case officers of an organisation with a role now.
#[utoipa::path(
    post,
    path = "/api/v1/operations/{id}/outcomes",
    tag = "operations",
    params(("id" = String, Path, description = "The operation's identifier")),
    request_body = OperationOutcome,
    responses(
        (status = 201, body = Operation),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn record_outcome(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OperationOutcome>,
) -> Result<(StatusCode, axum::Json<Operation>), AppError> {
    let operation = tasking::record_outcome(&state, &who, &source, path_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, axum::Json(operation)))
}
