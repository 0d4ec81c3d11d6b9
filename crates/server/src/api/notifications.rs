//! The signed-in user's notifications: their inbox (all or unread, the unread count,
//! marking one or all read) and a live stream of new ones as server-sent events.
//! Users only ever see their own.

use crate::auth::{Authenticated, Principal, still_valid};
use crate::error::{AppError, Problem};
use crate::{AppState, ClientAddress};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use concordat_domain::audit::{AuditEntry, RecordRef};
use concordat_domain::notification::NotificationId;
use concordat_store::{InboxFilter, Notification};
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
        .routes(routes!(stream))
}

/// Filters on the inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct InboxQuery {
    /// Only notifications not yet read.
    unread: Option<bool>,
}

/// How many notifications are unread.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnreadCount {
    /// The number of unread notifications.
    unread: i64,
}

/// What marking everything read changed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MarkedRead {
    /// How many notifications were unread and are now read.
    marked: u64,
}

/// The user's notifications, newest first (at most 500); `?unread=true` for those not
/// yet read.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    params(InboxQuery),
    responses((status = 200, body = Vec<Notification>), (status = 401, body = Problem))
)]
async fn list_notifications(
    State(state): State<AppState>,
    who: Principal,
    query: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<Notification>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::Malformed(e.body_text()))?;
    let filter = if query.unread == Some(true) {
        InboxFilter::Unread
    } else {
        InboxFilter::All
    };
    Ok(axum::Json(
        state.store.notifications(who.user.id, filter).await?,
    ))
}

/// How many of the user's notifications are unread.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/unread-count",
    tag = "notifications",
    responses((status = 200, body = UnreadCount), (status = 401, body = Problem))
)]
async fn unread_count(
    State(state): State<AppState>,
    who: Principal,
) -> Result<axum::Json<UnreadCount>, AppError> {
    Ok(axum::Json(UnreadCount {
        unread: state.store.unread_notifications(who.user.id).await?,
    }))
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

/// Marks every one of `who`'s notifications read, on the record; says how many.
pub(crate) async fn read_all(
    state: &AppState,
    who: &crate::auth::Authenticated,
    source: &str,
) -> Result<u64, AppError> {
    let mut tx = state.store.write().await?;
    let marked = tx.mark_all_notifications_read(who.user.id).await?;
    // Nothing changed, nothing to record: the transaction is dropped.
    if marked > 0 {
        tx.commit(
            AuditEntry::new(who.actor(), "notification.read-all")
                .record(RecordRef::new("user", who.user.id))
                .source(source)
                .detail(serde_json::json!({ "marked": marked })),
        )
        .await?;
    }
    Ok(marked)
}

/// Marks every one of the user's notifications as read.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/read-all",
    tag = "notifications",
    responses((status = 200, body = MarkedRead), (status = 401, body = Problem))
)]
async fn mark_all_read(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    who: Principal,
) -> Result<axum::Json<MarkedRead>, AppError> {
    let marked = read_all(&state, &who, &source).await?;
    Ok(axum::Json(MarkedRead { marked }))
}

/// The header a reconnecting client sends with the last event id it saw.
const LAST_EVENT_ID: &str = "last-event-id";

/// How often a live stream checks that its credential still works.
const RECHECK_CREDENTIAL_EVERY: Duration = Duration::from_secs(30);

/// How many notifications a stream reads from the store at a time.
const PAGE: i64 = 100;

/// The user's new notifications, live, as server-sent events (`text/event-stream`).
/// Each event is `event: notification` with the notification as JSON in `data` and its
/// `seq` as `id`. A client that reconnects with `Last-Event-ID` gets every notification
/// after that one first, so nothing is lost; without it, the stream starts with the
/// next notification. Comments keep the connection alive. The stream ends when the
/// server stops or the credential stops working; reconnect.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/stream",
    tag = "notifications",
    params(("Last-Event-ID" = Option<String>, Header, description = "The `id` of the last event received, to resume after it")),
    responses(
        (status = 200, description = "A stream of `notification` events", content_type = "text/event-stream", body = Notification),
        (status = 401, body = Problem),
        (status = 422, description = "Last-Event-ID is not an event id", body = Problem),
    )
)]
async fn stream(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let after = match headers.get(LAST_EVENT_ID) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|seq| *seq >= 0)
            .ok_or_else(|| {
                AppError::field(
                    "Last-Event-ID",
                    "must be the id of an event this stream sent (a whole number)",
                )
            })?,
        None => state.store.latest_notification_seq(who.user.id).await?,
    };
    let keep_alive = state.config.notification_keep_alive;
    let live = Live {
        woken: state.hub.on_commit(),
        stop: state.hub.on_stop(),
        poll: state.config.notification_poll_every,
        who: who.0,
        state,
        after,
        pending: VecDeque::new(),
        checked_at: Instant::now(),
    };
    let mut response = Sse::new(events(live))
        .keep_alive(KeepAlive::new().interval(keep_alive))
        .into_response();
    // Proxies that buffer responses would hold events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One live stream: where it is, and what wakes or ends it.
struct Live {
    state: AppState,
    who: Authenticated,
    after: i64,
    pending: VecDeque<Notification>,
    woken: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    poll: Duration,
    checked_at: Instant,
}

fn events(live: Live) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(live, |mut live| async move {
        live.next().await.map(|event| (Ok(event), live))
    })
}

impl Live {
    /// The next event, waiting for it; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.stop.borrow() {
                return None;
            }
            if let Some(notification) = self.pending.pop_front() {
                self.after = notification.seq;
                return Some(event(&notification));
            }
            if self.checked_at.elapsed() >= RECHECK_CREDENTIAL_EVERY {
                match still_valid(&self.state, &self.who).await {
                    Ok(true) => self.checked_at = Instant::now(),
                    Ok(false) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "a live stream could not check its credential");
                        return None;
                    }
                }
            }
            match self
                .state
                .store
                .notifications_after(self.who.user.id, self.after, PAGE)
                .await
            {
                Ok(found) if !found.is_empty() => {
                    self.pending.extend(found);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    // The client reconnects with Last-Event-ID and loses nothing.
                    tracing::warn!(error = %e, "a live stream could not read notifications");
                    return None;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                changed = self.woken.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep(self.poll).await;
                    }
                }
                _ = self.stop.changed() => return None,
            }
        }
    }
}

fn event(notification: &Notification) -> Event {
    let data = serde_json::to_string(notification).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .id(notification.seq.to_string())
        .event("notification")
        .data(data)
}
