//! Notifications over HTTP: the inbox (unread, marking one or all read), the live
//! stream of server-sent events (resuming with Last-Event-ID, never another user's,
//! never above the reader's vetting, ending when the server stops), and outgoing
//! webhooks (signed, retried, durable across a restart, OFFICIAL only, administered
//! per organisation).

use crate::helpers::{TestApp, Who};
use crate::stories;
use concordat_domain::people::{Clearance, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// The steps of the stories
// ---------------------------------------------------------------------------------------

/// West Midlands raises a request to the national agency and submits it; returns its id.
async fn submit_request(app: &TestApp, who: &Who, title: &str, classification: &str) -> String {
    let raised = app
        .call(
            Method::POST,
            "/api/v1/requests",
            who,
            Some(json!({
                "title": title,
                "kind": { "type": "assistance" },
                "receiver": "nca",
                "threat_areas": ["firearms"],
                "geography": { "areas": ["west-midlands"], "international": false },
                "urgency": "routine",
                "case": "What is happening, what is asked, and why.",
                "marking": { "classification": classification },
            })),
        )
        .await;
    assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text);
    let id = raised.json["id"].as_str().expect("id").to_owned();
    let submitted = app
        .call(
            Method::POST,
            &format!("/api/v1/requests/{id}/submit"),
            who,
            Some(json!({})),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.text);
    id
}

async fn requester(app: &TestApp) -> Who {
    app.person(
        "w.requester",
        "west-midlands",
        &[Role::TaskingOfficer],
        Clearance::Sc,
    )
    .await
}

async fn unread(app: &TestApp, who: &Who) -> i64 {
    let count = app.get("/api/v1/notifications/unread-count", who).await;
    assert_eq!(count.status, StatusCode::OK, "{}", count.text);
    count.json["unread"].as_i64().expect("a count")
}

/// One server-sent event.
#[derive(Debug, Clone)]
struct SseEvent {
    id: String,
    event: String,
    data: Value,
}

/// A live stream being read, as a browser's EventSource would.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
    comments: usize,
}

impl EventStream {
    async fn open(app: &TestApp, who: &Who, last_event_id: Option<&str>) -> Self {
        let headers: Vec<(&str, &str)> = last_event_id
            .map(|id| vec![("last-event-id", id)])
            .unwrap_or_default();
        let response = app
            .open("/api/v1/notifications/stream", who, &headers)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event within `within`, or `None` if none came (or the stream ended).
    async fn next_event(&mut self, within: Duration) -> Option<SseEvent> {
        tokio::time::timeout(within, async {
            loop {
                if let Some(at) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..at + 2).collect();
                    let (mut id, mut event, mut data) =
                        (String::new(), String::new(), String::new());
                    for line in block.lines() {
                        if line.starts_with(':') {
                            self.comments += 1;
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    if !event.is_empty() {
                        let data = serde_json::from_str(&data).expect("event data is JSON");
                        return Some(SseEvent { id, event, data });
                    }
                    continue;
                }
                match self.response.chunk().await {
                    Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                    Ok(None) | Err(_) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Whether the stream ends within `within`, reading past whatever is left.
    async fn ends_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, async {
            loop {
                match self.response.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => return,
                }
            }
        })
        .await
        .is_ok()
    }
}

// ---------------------------------------------------------------------------------------
// The inbox
// ---------------------------------------------------------------------------------------

/// A tasking officer sees how many notifications are unread, lists only those, marks
/// one and then all read; nobody else can see or mark theirs.
async fn the_inbox_counts_unread_and_marks_one_or_all_read(app: &TestApp) {
    let force = requester(app).await;
    let officer = app
        .person("n.inbox", "nca", &[Role::TaskingOfficer], Clearance::Sc)
        .await;
    let outsider = app
        .person("k.inbox", "kent", &[Role::TaskingOfficer], Clearance::Sc)
        .await;
    assert_eq!(unread(app, &officer).await, 0);
    submit_request(app, &force, "Firearms supply", "official").await;
    submit_request(app, &force, "Firearms conversion", "official").await;
    assert_eq!(unread(app, &officer).await, 2);

    let listed = app.get("/api/v1/notifications?unread=true", &officer).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json.as_array().expect("a list").clone();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|n| n["kind"] == "request-received"));
    // Newest first, numbered in the order they were committed.
    assert!(listed[0]["seq"].as_i64() > listed[1]["seq"].as_i64());
    let first = listed[1]["id"].as_str().expect("id").to_owned();

    // Another user can neither see nor mark it.
    assert_eq!(unread(app, &outsider).await, 0);
    let theirs = app.get("/api/v1/notifications", &outsider).await;
    assert!(!theirs.text.contains(&first), "{}", theirs.text);
    app.call(
        Method::POST,
        &format!("/api/v1/notifications/{first}/read"),
        &outsider,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    let read = app
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{first}/read"),
            &officer,
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::NO_CONTENT, "{}", read.text);
    assert_eq!(unread(app, &officer).await, 1);

    let all = app
        .call(
            Method::POST,
            "/api/v1/notifications/read-all",
            &officer,
            None,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["marked"], 1);
    assert_eq!(unread(app, &officer).await, 0);
    let left = app.get("/api/v1/notifications?unread=true", &officer).await;
    assert_eq!(left.json, json!([]));
    // The whole inbox still holds both, read.
    let everything = app.get("/api/v1/notifications", &officer).await;
    assert_eq!(everything.json.as_array().map(Vec::len), Some(2));
    assert!(everything.json[0]["read_at"].is_string());

    // A filter that is not a yes or no is refused, naming nothing made up.
    app.get("/api/v1/notifications?unread=maybe", &officer)
        .await
        .problem(StatusCode::BAD_REQUEST);
}

// ---------------------------------------------------------------------------------------
// The live stream
// ---------------------------------------------------------------------------------------

/// A tasking officer with the stream open hears of a request submitted to their
/// organisation as it happens; one who was away and reconnects with Last-Event-ID gets
/// what they missed, in order; another organisation's officer hears nothing; a BPSS
/// officer never hears of a SECRET request.
async fn a_user_with_the_stream_open_hears_of_new_requests_and_misses_none(app: &TestApp) {
    let force = requester(app).await;
    let officer = app
        .person("n.live", "nca", &[Role::TaskingOfficer], Clearance::Sc)
        .await;
    let bpss = app
        .person("n.bpss", "nca", &[Role::TaskingOfficer], Clearance::Bpss)
        .await;
    let outsider = app
        .person("k.live", "kent", &[Role::TaskingOfficer], Clearance::Sc)
        .await;
    let mut mine = EventStream::open(app, &officer, None).await;
    let mut theirs = EventStream::open(app, &outsider, None).await;
    let mut unvetted = EventStream::open(app, &bpss, None).await;

    let first = submit_request(app, &force, "Handgun supply", "official").await;
    let event = mine
        .next_event(Duration::from_secs(5))
        .await
        .expect("the notice arrives live");
    assert_eq!(event.event, "notification");
    assert_eq!(event.data["kind"], "request-received");
    assert_eq!(event.data["record"], format!("request:{first}"));
    assert_eq!(
        event.id,
        event.data["seq"].as_i64().expect("seq").to_string()
    );
    assert!(unvetted.next_event(Duration::from_secs(1)).await.is_some());

    // Away: two more arrive while the stream is closed, one of them SECRET.
    drop(mine);
    let second = submit_request(app, &force, "Ammunition supply", "official").await;
    let secret = submit_request(app, &force, "Armourer", "secret").await;
    let mut again = EventStream::open(app, &officer, Some(&event.id)).await;
    let missed: Vec<SseEvent> = [
        again.next_event(Duration::from_secs(5)).await,
        again.next_event(Duration::from_secs(5)).await,
    ]
    .into_iter()
    .map(|e| e.expect("a missed notice"))
    .collect();
    assert_eq!(missed[0].data["record"], format!("request:{second}"));
    assert_eq!(missed[1].data["record"], format!("request:{secret}"));
    assert!(missed[0].id.parse::<i64>().ok() < missed[1].id.parse::<i64>().ok());
    // Keep-alive comments come while nothing happens.
    assert!(again.next_event(Duration::from_millis(800)).await.is_none());
    assert!(again.comments > 0, "no keep-alive comment");

    // The BPSS officer heard of the OFFICIAL ones only.
    let heard = unvetted
        .next_event(Duration::from_secs(5))
        .await
        .expect("the OFFICIAL request");
    assert_eq!(heard.data["record"], format!("request:{second}"));
    assert!(
        unvetted
            .next_event(Duration::from_millis(700))
            .await
            .is_none()
    );
    let inbox = app.get("/api/v1/notifications", &bpss).await;
    assert!(!inbox.text.contains(&secret), "{}", inbox.text);

    // Kent's officer heard nothing at all.
    assert!(
        theirs
            .next_event(Duration::from_millis(500))
            .await
            .is_none()
    );

    // A Last-Event-ID that is not one is refused, naming the header.
    let bad = app
        .open(
            "/api/v1/notifications/stream",
            &officer,
            &[("last-event-id", "yesterday")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.expect("a problem document");
    assert_eq!(problem["errors"][0]["field"], "Last-Event-ID");

    // Without credentials there is no stream.
    let anonymous = app
        .open("/api/v1/notifications/stream", &Who::Nobody, &[])
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// A browser signed in with a session cookie gets the same stream.
async fn a_signed_in_browser_streams_with_its_session(app: &TestApp) {
    let force = requester(app).await;
    let browser = app.as_user("nca.tasking").await;
    let mut stream = EventStream::open(app, &browser, None).await;
    let id = submit_request(app, &force, "Shotgun theft", "official").await;
    let event = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("the notice arrives");
    assert_eq!(event.data["record"], format!("request:{id}"));
}

/// Stopping the server ends open streams, so it stops promptly; the client reconnects
/// to the next server with Last-Event-ID and gets what was committed in between.
async fn streams_end_when_the_server_stops_and_resume_on_the_next(test_store: TestStore) {
    let app = TestApp::start(test_store).await;
    let force = requester(&app).await;
    let officer = app
        .person("n.restart", "nca", &[Role::TaskingOfficer], Clearance::Sc)
        .await;
    let mut stream = EventStream::open(&app, &officer, None).await;
    submit_request(&app, &force, "Before the restart", "official").await;
    let seen = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("the notice arrives");
    let stopping = tokio::spawn(async move { stream.ends_within(Duration::from_secs(10)).await });
    let app = tokio::time::timeout(Duration::from_secs(10), app.restart())
        .await
        .expect("the server stops with a stream open");
    assert!(stopping.await.expect("joins"), "the stream ended");
    let missed = submit_request(&app, &force, "After the restart", "official").await;
    let mut resumed = EventStream::open(&app, &officer, Some(&seen.id)).await;
    let event = resumed
        .next_event(Duration::from_secs(5))
        .await
        .expect("the missed notice");
    assert_eq!(event.data["record"], format!("request:{missed}"));
    app.stop().await;
}

use concordat_store::testing::TestStore;

/// Runs a story that starts (and restarts) its own server, on both engines.
macro_rules! restart_stories {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(concordat_store::testing::TestStore::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(store) = concordat_store::testing::TestStore::postgres().await else { return };
                super::$name(store).await;
            }
        }
    )*};
}

stories!(
    the_inbox_counts_unread_and_marks_one_or_all_read,
    a_user_with_the_stream_open_hears_of_new_requests_and_misses_none,
    a_signed_in_browser_streams_with_its_session,
);

restart_stories!(streams_end_when_the_server_stops_and_resume_on_the_next);
