//! The daily management pack (DESIGN part 12): made on demand for the reader, or one
//! kept for them by the morning job. Each is audited as read.

use crate::auth::Principal;
use crate::briefing::{self, PackFormat};
use crate::error::{AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use concordat_domain::briefing::{Pack, PackWindow, Scope, parse_date};
use concordat_domain::time::Timestamp;
use concordat_store::PackSummary;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(daily_pack))
        .routes(routes!(kept_packs))
        .routes(routes!(kept_pack))
}

/// Which pack, and how to write it.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackQuery {
    /// The meeting's date, `YYYY-MM-DD` (default: the next meeting's).
    #[param(value_type = Option<String>)]
    date: Option<String>,
    /// `national` or an organisation code (default: national for the national agency,
    /// the reader's organisation otherwise).
    #[param(value_type = Option<String>)]
    scope: Option<String>,
    /// `json` (the default), `markdown` or `html`.
    #[param(value_type = Option<String>)]
    format: Option<String>,
}

/// How to write a kept pack.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    /// `json` (the default), `markdown` or `html`.
    #[param(value_type = Option<String>)]
    format: Option<String>,
}

/// The protective marking of the whole pack, for tools that file it.
const MARKING_HEADER: HeaderName = HeaderName::from_static("x-protective-marking");

fn format_of(raw: Option<&str>) -> Result<PackFormat, AppError> {
    Ok(raw
        .map(str::parse::<PackFormat>)
        .transpose()?
        .unwrap_or(PackFormat::Json))
}

/// The pack as a response in `format`, with its marking in a header.
pub(crate) fn respond(pack: &Pack, format: PackFormat) -> Result<Response, AppError> {
    let (media, body) = briefing::render(pack, format)?;
    let marking = HeaderValue::from_str(&pack.banner)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body,
    )
        .into_response();
    response.headers_mut().insert(MARKING_HEADER, marking);
    Ok(response)
}

/// The pack `query` asks for, as the reader may see it.
pub(crate) fn which(
    state: &AppState,
    who: &Principal,
    date: Option<&str>,
    scope: Option<&str>,
) -> Result<(chrono::NaiveDate, Scope), AppError> {
    let date = match date {
        Some(raw) => parse_date("date", raw)?,
        None => PackWindow::date_covering(Timestamp::now(), state.config.briefing_at),
    };
    let scope = match scope {
        Some(raw) => Scope::parse(raw, &state.rules.registry)?,
        None => Scope::default_for(&who.user.organisation, &state.rules.registry),
    };
    Ok((date, scope))
}

/// The daily management pack for a date and scope, made now from what the reader may
/// see: significant events of the previous 24 hours, significant plans for the next
/// 72, and urgent demands; each item with why it is there. Every record in it is
/// audited as read.
#[utoipa::path(
    get,
    path = "/api/v1/briefings/daily",
    tag = "briefing",
    params(PackQuery),
    responses(
        (status = 200, description = "The pack", content(
            (Pack = "application/json"),
            (String = "text/markdown"),
            (String = "text/html"),
        )),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn daily_pack(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    query: Result<Query<PackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let format = format_of(query.format.as_deref())?;
    let (date, scope) = which(&state, &who, query.date.as_deref(), query.scope.as_deref())?;
    let pack = briefing::read_daily(&state, &who, &source, date, scope).await?;
    respond(&pack, format)
}

/// The packs the morning job kept for the reader, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/briefings",
    tag = "briefing",
    responses(
        (status = 200, body = Vec<PackSummary>),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
    )
)]
async fn kept_packs(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<PackSummary>>, AppError> {
    Ok(axum::Json(briefing::kept(&state, &who).await?))
}

/// A pack kept for the reader, as it was made; anyone else's is not found. Audited as
/// read.
#[utoipa::path(
    get,
    path = "/api/v1/briefings/{id}",
    tag = "briefing",
    params(("id" = String, Path, description = "The pack's identifier"), FormatQuery),
    responses(
        (status = 200, description = "The pack", content(
            (Pack = "application/json"),
            (String = "text/markdown"),
            (String = "text/html"),
        )),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn kept_pack(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let id = crate::api::path_id(&id)?;
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let format = format_of(query.format.as_deref())?;
    let pack = briefing::open_kept(&state, &who, &source, id).await?;
    respond(&pack, format)
}
