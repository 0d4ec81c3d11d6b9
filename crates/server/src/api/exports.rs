//! Exports of the records a user may see, as JSON or CSV; each is audited.

use crate::auth::Principal;
use crate::error::{AppError, Problem};
use crate::export::{self, Export, ExportFormat};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use concordat_domain::handling::RecordKind;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_records))
}

/// How to write the export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// `json` (the default) or `csv`.
    #[param(value_type = Option<String>)]
    format: Option<String>,
}

/// The protective marking of a whole export, as a response header for tools that file it.
const MARKING_HEADER: HeaderName = HeaderName::from_static("x-protective-marking");

/// Exports every record of one kind that the user may see, with the collection's
/// banner and each record's own. Each record exported is audited as read.
#[utoipa::path(
    get,
    path = "/api/v1/exports/{kind}",
    tag = "handling",
    params(
        ("kind" = String, Path, description = "subject, request, operation, direction, registration or intelligence"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "The export", content(
            (Export = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn export_records(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(raw_kind): Path<String>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let kind: RecordKind = raw_kind.parse().map_err(|_| AppError::NotFound)?;
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let format = query
        .format
        .as_deref()
        .map(str::parse::<ExportFormat>)
        .transpose()?
        .unwrap_or(ExportFormat::Json);
    let made = export::export(&state, &who, &source, kind, format).await?;
    let marking = HeaderValue::from_str(&made.banner)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
    let mut response = match format {
        ExportFormat::Json => axum::Json(&made).into_response(),
        ExportFormat::Csv => {
            let filename = format!(
                "attachment; filename=\"concordat-{}-{}.csv\"",
                kind.as_str(),
                made.exported_at.to_datetime().format("%Y%m%dT%H%M%SZ")
            );
            let disposition = HeaderValue::from_str(&filename)
                .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                made.to_csv()?,
            )
                .into_response()
        }
    };
    response.headers_mut().insert(MARKING_HEADER, marking);
    Ok(response)
}
