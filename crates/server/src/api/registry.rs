//! The partner registry, the capability catalogue and the tasking and coordination
//! groups: reference data any signed-in user may read.

use super::administered;
use crate::auth::Principal;
use crate::error::{ApiJson, AppError, Problem};
use crate::{AppState, ClientAddress, accounts};
use axum::extract::{Path, Query, State};
use concordat_domain::registry::{
    Capability, CapabilityCategory, GroupDefinition, OrgCode, Organisation, OrganisationKind,
    RocuRegion,
};
use concordat_domain::totp::SignInPolicy;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organisations))
        .routes(routes!(get_organisation))
        .routes(routes!(set_sign_in_policy))
        .routes(routes!(list_capabilities))
        .routes(routes!(list_groups))
}

/// Filters on the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrganisationQuery {
    /// Only organisations of this kind.
    kind: Option<OrganisationKind>,
    /// Only organisations in this ROCU region.
    region: Option<RocuRegion>,
}

/// Filters on the capability list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct CapabilityQuery {
    /// Only capabilities in this category.
    category: Option<CapabilityCategory>,
}

/// Lists organisations: police forces, ROCUs, agencies, the national agency and its units.
#[utoipa::path(
    get,
    path = "/api/v1/organisations",
    tag = "registry",
    params(OrganisationQuery),
    responses((status = 200, body = Vec<Organisation>), (status = 401, body = Problem))
)]
async fn list_organisations(
    State(state): State<AppState>,
    _who: Principal,
    query: Result<Query<OrganisationQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<Organisation>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let orgs = state
        .store
        .organisations()
        .await?
        .into_iter()
        .filter(|o| query.kind.is_none_or(|k| o.kind == k))
        .filter(|o| query.region.is_none_or(|r| o.region == Some(r)))
        .collect();
    Ok(axum::Json(orgs))
}

/// One organisation.
#[utoipa::path(
    get,
    path = "/api/v1/organisations/{code}",
    tag = "registry",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    responses(
        (status = 200, body = Organisation),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_organisation(
    State(state): State<AppState>,
    _who: Principal,
    Path(code): Path<String>,
) -> Result<axum::Json<Organisation>, AppError> {
    let code = OrgCode::parse(&code).map_err(|_| AppError::NotFound)?;
    Ok(axum::Json(state.store.organisation(&code).await?))
}

/// Sets how an organisation's people must sign in: whether everyone needs a security
/// code from an authenticator app. For the organisation's administrators and national
/// agency administrators; another organisation is answered as if it did not exist.
#[utoipa::path(
    put,
    path = "/api/v1/organisations/{code}/sign-in-policy",
    tag = "registry",
    params(("code" = String, Path, description = "The organisation's code, e.g. `met`")),
    request_body = SignInPolicy,
    responses(
        (status = 200, body = SignInPolicy),
        (status = 401, body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn set_sign_in_policy(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(code): Path<String>,
    ApiJson(policy): ApiJson<SignInPolicy>,
) -> Result<axum::Json<SignInPolicy>, AppError> {
    let code = administered(&who, &code)?;
    Ok(axum::Json(
        accounts::set_sign_in_policy(&state.store, who.actor(), &source, &code, policy).await?,
    ))
}

/// Lists the national agency's specialist capabilities and advice (Annex E).
#[utoipa::path(
    get,
    path = "/api/v1/capabilities",
    tag = "registry",
    params(CapabilityQuery),
    responses((status = 200, body = Vec<Capability>), (status = 401, body = Problem))
)]
async fn list_capabilities(
    State(state): State<AppState>,
    _who: Principal,
    query: Result<Query<CapabilityQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<Capability>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let caps = state
        .store
        .capabilities()
        .await?
        .into_iter()
        .filter(|c| query.category.is_none_or(|k| c.category == k))
        .collect();
    Ok(axum::Json(caps))
}

/// Lists the tasking and coordination groups (Annex C).
#[utoipa::path(
    get,
    path = "/api/v1/groups",
    tag = "registry",
    responses((status = 200, body = Vec<GroupDefinition>), (status = 401, body = Problem))
)]
async fn list_groups(
    State(state): State<AppState>,
    _who: Principal,
) -> Result<axum::Json<Vec<GroupDefinition>>, AppError> {
    Ok(axum::Json(state.store.tasking_groups().await?))
}
