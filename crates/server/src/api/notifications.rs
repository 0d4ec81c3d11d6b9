//! The signed-in user's notifications: requests received, decided, overdue, expired.

use crate::auth::Principal;
use crate::error::{AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use concordat_domain::audit::{AuditEntry, RecordRef};
use concordat_domain::notification::NotificationId;
use concordat_store::{InboxFilter, Notification};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
}

/// The user's notifications, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    responses((status = 200, body = Vec<Notification>), (status = 401, body = Problem))
)]
async fn list_notifications(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<Vec<Notification>>, AppError> {
    Ok(axum::Json(
        state
            .store
            .notifications(who.user.id, InboxFilter::All)
            .await?,
    ))
}

/// Marks one of the user's notifications as read.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/read",
    tag = "notifications",
    params(("id" = String, Path, description = "The notification's identifier")),
    responses((status = 204, description = "Marked read"), (status = 404, body = Problem))
)]
async fn mark_read(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id: NotificationId = super::path_id(&id)?;
    let mut tx = state.store.write().await?;
    tx.mark_notification_read(who.user.id, id).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "notification.read")
            .record(RecordRef::new("notification", id))
            .source(source),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
