//! The home page: the signed-in user's work. Their organisation's open requests by
//! deadline (overdue first), the requests awaiting their decision, hits and clashes
//! awaiting their side's acknowledgement, planned activity in the next 72 hours, and
//! their unread notifications, which arrive live. Each part comes from the same
//! access-checked service as its API list, and only for the roles that may call it.

use super::requests::{RequestRow, by_deadline};
use super::{Chrome, CsrfForm, FormState, PageUser, london, page, page_error, words};
use crate::auth::{Authenticated, Pending};
use crate::authz::may_call;
use crate::error::AppError;
use crate::reads::record_reads;
use crate::{AppState, ClientAddress, deconfliction, events, tasking};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concordat_domain::people::Role;
use concordat_domain::tasking::RequestState;
use concordat_domain::time::Timestamp;
use concordat_store::{InboxFilter, RequestBox};

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(home))
        .route("/notifications/read", post(read_all))
}

/// A hit as the home page lists it.
struct HitRow {
    reference: String,
    other: String,
    strength: &'static str,
    found_at: String,
}

/// A clash as the home page lists it.
struct ClashRow {
    reference: String,
    other: String,
    found_at: String,
}

/// Planned activity as the home page lists it.
struct ActivityRow {
    reference: String,
    title: String,
    kind: String,
    starts_at: String,
    place: String,
}

/// A notification as the home page lists it.
struct NoticeRow {
    message: String,
    at: String,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    display_name: String,
    organisation: String,
    totp_enrolment_required: bool,
    reads_requests: bool,
    reads_deconfliction: bool,
    reads_activity: bool,
    administers: bool,
    requests: Vec<RequestRow>,
    to_decide: Vec<RequestRow>,
    hits: Vec<HitRow>,
    clashes: Vec<ClashRow>,
    activities: Vec<ActivityRow>,
    notifications: Vec<NoticeRow>,
}

/// Where a notification's record (`kind:id`) is shown.
fn record_href(record: &str) -> Option<String> {
    let (kind, id) = record.split_once(':')?;
    let href = match kind {
        "request" => format!("/requests/{id}"),
        "operation" => format!("/operations/{id}"),
        "direction" => format!("/directions/{id}"),
        "registration" => format!("/deconfliction/registrations/{id}"),
        "activity" => format!("/deconfliction/activities/{id}"),
        "hit" | "clash" => "/deconfliction".to_owned(),
        _ => return None,
    };
    Some(href)
}

async fn work(state: &AppState, who: &Authenticated, source: &str) -> Result<HomePage, AppError> {
    let enrolling = who.pending() == Some(Pending::TotpEnrolment);
    let reads_requests = !enrolling && may_call(who, "GET", "/api/v1/requests");
    let reads_deconfliction = !enrolling && may_call(who, "GET", "/api/v1/hits");
    let reads_activity = !enrolling && may_call(who, "GET", "/api/v1/activities");
    let mut requests = vec![];
    let mut to_decide = vec![];
    if reads_requests {
        let mut open = tasking::requests(state, who, RequestBox::All, None).await?;
        open.retain(|r| {
            matches!(
                r.state,
                RequestState::Draft | RequestState::Submitted | RequestState::UnderAssessment
            )
        });
        by_deadline(&mut open);
        let decides = who.user.has_role(Role::TaskingOfficer);
        for request in &open {
            let row = RequestRow::new(state, request);
            if decides
                && request.receiver == who.user.organisation
                && request.state != RequestState::Draft
            {
                to_decide.push(row);
            } else {
                requests.push(row);
            }
        }
    }
    let mut hits = vec![];
    if reads_deconfliction {
        let waiting: Vec<_> = deconfliction::hits(state, who)
            .await?
            .into_iter()
            .filter(|h| !h.acknowledged && h.resolution.is_none())
            .collect();
        // Each hit shown discloses the other side's contact: each is on the record.
        record_reads(
            state,
            who,
            source,
            "hit",
            waiting.iter().map(|h| h.id),
            "home",
        )
        .await?;
        hits = waiting
            .into_iter()
            .map(|h| HitRow {
                reference: h.reference.to_string(),
                other: h.other.organisation.as_ref().map_or_else(
                    || "Another organisation (not disclosed)".to_owned(),
                    |code| code.to_string(),
                ),
                strength: h.strength.as_str(),
                found_at: london(h.found_at),
            })
            .collect();
    }
    let mut clashes = vec![];
    let mut activities = vec![];
    if reads_activity {
        clashes = events::clashes(state, who)
            .await?
            .into_iter()
            .filter(|c| c.live && !c.acknowledged)
            .map(|c| ClashRow {
                reference: c.reference,
                other: words(c.other.kind.as_str()),
                found_at: london(c.found_at),
            })
            .collect();
        let now = Timestamp::now();
        let until = now.plus(chrono::Duration::hours(72));
        activities = events::activities(state, who)
            .await?
            .into_iter()
            .filter(|a| a.window.starts_at < until && a.window.ends_at > now)
            .map(|a| ActivityRow {
                reference: a.reference.to_string(),
                title: a.title.as_str().to_owned(),
                kind: words(a.kind.as_str()),
                starts_at: london(a.window.starts_at),
                place: a
                    .place
                    .address
                    .as_ref()
                    .map(|address| address.as_str().to_owned())
                    .or_else(|| a.place.postcode.as_ref().map(|p| p.as_str().to_owned()))
                    .unwrap_or_else(|| {
                        format!(
                            "{:.4}, {:.4}",
                            a.place.position.latitude, a.place.position.longitude
                        )
                    }),
            })
            .collect();
    }
    let notifications = state
        .store
        .notifications(who.user.id, InboxFilter::Unread)
        .await?
        .into_iter()
        .map(|n| NoticeRow {
            href: record_href(&n.record),
            message: n.message,
            at: london(n.created_at),
        })
        .collect();
    Ok(HomePage {
        chrome: Chrome::new(who, "/"),
        display_name: who.user.display_name.as_str().to_owned(),
        organisation: who.organisation.name.clone(),
        totp_enrolment_required: enrolling,
        reads_requests,
        reads_deconfliction,
        reads_activity,
        administers: may_call(who, "GET", "/api/v1/users"),
        requests,
        to_decide,
        hits,
        clashes,
        activities,
        notifications,
    })
}

async fn home(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
) -> Response {
    match work(&state, &who, &source).await {
        Ok(home) => page(StatusCode::OK, &home),
        Err(e) => page_error(e),
    }
}

/// Marks every notification read, as `POST /api/v1/notifications/read-all` does.
async fn read_all(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    match crate::api::notifications::read_all(&state, &who, &source).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => page_error(e),
    }
}
