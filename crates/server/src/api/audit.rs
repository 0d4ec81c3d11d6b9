//! Reading and verifying the audit log.
//!
//! The log records every organisation's actions, so only the national agency's
//! administrators, who run the platform, may read its entries. Any administrator may
//! verify the chain: the answer reveals no entry's content.

use super::admin_scope;
use crate::AppState;
use crate::auth::{Authenticated, Principal};
use crate::error::{AppError, Problem};
use axum::extract::{Query, State};
use concordat_domain::audit::AuditRecord;
use concordat_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_entries))
        .routes(routes!(verify))
}

/// Filters on the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Only entries about records of this kind (`user`, `token`, ...).
    record_kind: Option<String>,
    /// Only entries about this record.
    record_id: Option<String>,
    /// Only entries by this user.
    actor_id: Option<String>,
    /// Only entries before this position, for paging.
    before: Option<i64>,
    /// At most this many (1 to 500; 100 if absent).
    limit: Option<u32>,
}

/// The result of walking the chain.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Verification {
    /// Whether every entry fits the chain.
    pub(crate) intact: bool,
    /// How many entries were checked and found sound.
    pub(crate) checked: i64,
    /// The hash of the last sound entry.
    pub(crate) head: String,
    /// The first entry that does not fit, if any.
    pub(crate) first_break_seq: Option<i64>,
    /// Why it does not fit.
    pub(crate) first_break_reason: Option<String>,
}

/// Lists audit entries, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, body = Vec<AuditRecord>),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
    )
)]
async fn list_entries(
    State(state): State<AppState>,
    who: Principal,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<AuditRecord>>, AppError> {
    may_read(&who)?;
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let filter = AuditFilter {
        record_kind: query.record_kind,
        record_id: query.record_id,
        actor_id: query.actor_id,
        before_seq: query.before,
        limit: query.limit.unwrap_or(100),
    };
    Ok(axum::Json(entries(&state, &who, filter).await?))
}

/// Walks the whole audit chain and reports the first break.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "audit",
    responses(
        (status = 200, body = Verification),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
    )
)]
async fn verify(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Verification>, AppError> {
    Ok(axum::Json(verification(&state, &who).await?))
}

/// The audit entries `filter` picks, newest first, for a national agency administrator.
/// `filter.limit` must be from 1 to 500.
pub(crate) async fn entries(
    state: &AppState,
    who: &Authenticated,
    filter: AuditFilter,
) -> Result<Vec<AuditRecord>, AppError> {
    may_read(who)?;
    if !(1..=500).contains(&filter.limit) {
        return Err(AppError::field("limit", "must be from 1 to 500"));
    }
    Ok(state.store.audit_entries(&filter).await?)
}

/// Whether `who` may read the audit log's entries: only the national agency's
/// administrators, who run the platform for every organisation.
pub(crate) fn may_read(who: &Authenticated) -> Result<(), AppError> {
    admin_scope(who)?;
    if !who.in_national_agency() {
        return Err(AppError::Forbidden(
            "only the national agency's administrators read the audit log".to_owned(),
        ));
    }
    Ok(())
}

/// Walks the whole chain for an administrator and reports the first break.
pub(crate) async fn verification(
    state: &AppState,
    who: &Authenticated,
) -> Result<Verification, AppError> {
    admin_scope(who)?;
    let report = state.store.verify_audit_chain(|_| {}).await?;
    Ok(Verification {
        intact: report.first_break.is_none(),
        checked: report.checked,
        head: report.head.to_hex(),
        first_break_seq: report.first_break.as_ref().map(|b| b.seq),
        first_break_reason: report.first_break.map(|b| b.reason),
    })
}
