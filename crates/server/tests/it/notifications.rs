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

// ---------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Checks the signature as a receiver would: HMAC-SHA256 keyed with the secret,
    /// over `TIMESTAMP.BODY`, compared in constant time.
    fn is_signed_with(&self, secret: &str) -> bool {
        use hmac::{Hmac, KeyInit, Mac};
        let Some(hex_mac) = self.header("concordat-signature").strip_prefix("sha256=") else {
            return false;
        };
        let Ok(given) = hex::decode(hex_mac) else {
            return false;
        };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(self.header("concordat-timestamp").as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        mac.verify_slice(&given).is_ok()
    }
}

/// A webhook receiver: a real HTTP server on 127.0.0.1 that records what it gets and
/// answers with the statuses it is given in turn (200 once they run out).
struct Receiver {
    address: std::net::SocketAddr,
    got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::start_on(listener, answers)
    }

    fn start_on(listener: tokio::net::TcpListener, answers: &[u16]) -> Self {
        use axum::extract::State;
        type Shared = (
            std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
            std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
        );
        async fn hook(
            State((got, answers)): State<Shared>,
            headers: axum::http::HeaderMap,
            body: axum::body::Bytes,
        ) -> axum::http::StatusCode {
            got.lock().expect("lock").push(Received {
                headers,
                body: body.to_vec(),
            });
            let next = answers.lock().expect("lock").pop_front().unwrap_or(200);
            axum::http::StatusCode::from_u16(next).expect("a status")
        }
        let address = listener.local_addr().expect("address");
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let answers = std::sync::Arc::new(std::sync::Mutex::new(answers.iter().copied().collect()));
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state((got.clone(), answers));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            address,
            got,
            stop: Some(stop),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    /// What it has received once it has received `n`, waiting up to `within`.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Makes a webhook for `org` as `admin`; returns its id and secret.
async fn add_webhook(app: &TestApp, admin: &Who, org: &str, url: &str) -> (String, String) {
    let made = app
        .call(
            Method::POST,
            &format!("/api/v1/organisations/{org}/webhooks"),
            admin,
            Some(json!({ "url": url, "kinds": ["request-received", "request-decided"] })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let secret = made.json["secret"].as_str().expect("the secret").to_owned();
    assert!(secret.starts_with("whsec_"));
    (
        made.json["webhook"]["id"].as_str().expect("id").to_owned(),
        secret,
    )
}

async fn deliveries(app: &TestApp, admin: &Who, org: &str, webhook: &str) -> Vec<Value> {
    let listed = app
        .get(
            &format!("/api/v1/organisations/{org}/webhooks/{webhook}/deliveries"),
            admin,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    listed.json.as_array().expect("a list").clone()
}

/// The deliveries once the newest is in `state`, waiting up to `within`.
async fn wait_for_state(
    app: &TestApp,
    admin: &Who,
    org: &str,
    webhook: &str,
    state: &str,
    within: Duration,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let found = deliveries(app, admin, org, webhook).await;
        if found.first().is_some_and(|d| d["state"] == state)
            || tokio::time::Instant::now() >= deadline
        {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The national agency's administrator points a webhook at their alerting system; a
/// request submitted to the agency reaches it signed with the secret given once, and
/// the administrator sees it delivered. A SECRET request never leaves for a machine.
async fn a_receiver_gets_signed_deliveries_of_official_requests(app: &TestApp) {
    let receiver = Receiver::start(&[]).await;
    let admin = app.as_user("nca.admin").await;
    let (webhook, secret) = add_webhook(app, &admin, "nca", &receiver.url()).await;
    let force = requester(app).await;

    let request = submit_request(app, &force, "Firearms factory", "official").await;
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "one delivery");
    let delivery = &got[0];
    assert!(delivery.is_signed_with(&secret), "the signature verifies");
    assert!(!delivery.is_signed_with("whsec_someone-else"));
    assert_eq!(delivery.header("concordat-event"), "request-received");
    assert_eq!(
        delivery.header("content-type"),
        "application/json",
        "JSON body"
    );
    let body = delivery.json();
    assert_eq!(body["kind"], "request-received");
    assert_eq!(body["organisation"], "nca");
    assert_eq!(body["record"], json!({ "kind": "request", "id": request }));
    assert_eq!(body["classification"], "official");
    assert_eq!(body["id"], delivery.header("concordat-delivery"));
    let signed_at: i64 = delivery
        .header("concordat-timestamp")
        .parse()
        .expect("seconds");
    assert!((chrono::Utc::now().timestamp() - signed_at).abs() < 60);

    let listed = wait_for_state(
        app,
        &admin,
        "nca",
        &webhook,
        "delivered",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], body["id"]);
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["last_status"], 200);
    assert_eq!(listed[0]["record"], format!("request:{request}"));
    assert!(listed[0]["delivered_at"].is_string());

    // A SECRET request is told to vetted people only, never to a machine.
    submit_request(app, &force, "Armourer", "secret").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(deliveries(app, &admin, "nca", &webhook).await.len(), 1);

    // The secret was shown once, and is never shown again.
    let hooks = app.get("/api/v1/organisations/nca/webhooks", &admin).await;
    assert_eq!(hooks.status, StatusCode::OK, "{}", hooks.text);
    assert_eq!(hooks.json[0]["id"], webhook.as_str());
    assert!(hooks.json[0].get("secret").is_none());
    assert!(!hooks.text.contains(&secret));
    let listed = deliveries(app, &admin, "nca", &webhook).await;
    assert!(!json!(listed).to_string().contains(&secret));
}

/// A receiver that fails gets the same delivery again, signed afresh, until it takes
/// it; one that never does is given up on after the last attempt, and says why.
async fn a_failing_receiver_gets_the_delivery_again_and_then_is_given_up_on(app: &TestApp) {
    let flaky = Receiver::start(&[500]).await;
    let admin = app.as_user("nca.admin").await;
    let (webhook, secret) = add_webhook(app, &admin, "nca", &flaky.url()).await;
    let force = requester(app).await;
    submit_request(app, &force, "Flaky receiver", "official").await;
    let got = flaky.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2, "tried again after a 500");
    assert_eq!(
        got[0].header("concordat-delivery"),
        got[1].header("concordat-delivery")
    );
    assert!(got.iter().all(|d| d.is_signed_with(&secret)));
    assert_eq!(got[0].body, got[1].body, "the same body every attempt");
    let listed = wait_for_state(
        app,
        &admin,
        "nca",
        &webhook,
        "delivered",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(listed[0]["state"], "delivered");
    assert_eq!(listed[0]["attempts"], 2);
    assert_eq!(listed[0]["last_status"], 200);

    // Removing the first webhook stops it; the next receiver is always down.
    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/organisations/nca/webhooks/{webhook}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let broken = Receiver::start(&[503, 503, 503, 503]).await;
    let (broken_hook, _) = add_webhook(app, &admin, "nca", &broken.url()).await;
    submit_request(app, &force, "Broken receiver", "official").await;
    let listed = wait_for_state(
        app,
        &admin,
        "nca",
        &broken_hook,
        "failed",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(listed[0]["state"], "failed", "{listed:?}");
    assert_eq!(listed[0]["attempts"], 3);
    assert_eq!(listed[0]["last_status"], 503);
    assert!(
        listed[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("503"))
    );
    assert!(listed[0]["next_attempt_at"].is_null());
    assert_eq!(broken.received().len(), 3);
    // The removed webhook got nothing more.
    assert_eq!(flaky.received().len(), 2);
    let hooks = app.get("/api/v1/organisations/nca/webhooks", &admin).await;
    assert!(hooks.json[0]["disabled_at"].is_string(), "{}", hooks.text);
}

/// A notice accepted is never lost: queued while the receiver is down and the server
/// is restarted, it is delivered by the next server once the receiver is back.
async fn a_delivery_queued_before_a_restart_is_delivered_after_it(test_store: TestStore) {
    let config = concordat_server::ServerConfig {
        webhook_attempts: 12,
        webhook_backoff_base: Duration::from_millis(100),
        ..crate::helpers::test_config()
    };
    let app = TestApp::start_with(test_store, config).await;
    // The receiver's address is known, but nothing listens there yet.
    let address = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        listener.local_addr().expect("address")
    };
    let admin = app.as_user("nca.admin").await;
    let url = format!("http://{address}/hook");
    let (webhook, secret) = add_webhook(&app, &admin, "nca", &url).await;
    let force = requester(&app).await;
    let request = submit_request(&app, &force, "While the receiver was down", "official").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let failed_once = loop {
        let listed = deliveries(&app, &admin, "nca", &webhook).await;
        if listed.first().is_some_and(|d| d["last_error"].is_string())
            || tokio::time::Instant::now() >= deadline
        {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed_once[0]["state"], "pending", "{failed_once:?}");
    assert!(
        failed_once[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("connect")),
        "{failed_once:?}"
    );
    assert!(failed_once[0]["next_attempt_at"].is_string());

    let app = app.restart().await;
    let admin = app.as_user("nca.admin").await;
    let receiver = Receiver::start_on(
        tokio::net::TcpListener::bind(address)
            .await
            .expect("rebind"),
        &[],
    );
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "delivered after the restart");
    assert!(got[0].is_signed_with(&secret));
    assert_eq!(
        got[0].json()["record"],
        json!({ "kind": "request", "id": request })
    );
    let listed = wait_for_state(
        &app,
        &admin,
        "nca",
        &webhook,
        "delivered",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(listed[0]["state"], "delivered");
    assert!(listed[0]["attempts"].as_i64() >= Some(2));
    app.stop().await;
}

/// Webhooks are the business of the organisation's administrators (and the national
/// agency's): anyone else in the organisation is refused, another organisation's
/// administrator finds nothing there, and bad input names its field.
async fn webhooks_are_administered_only_by_the_organisations_administrators(app: &TestApp) {
    let mps_admin = app.as_user("mps.admin").await;
    let (webhook, secret) =
        add_webhook(app, &mps_admin, "mps", "https://alerts.mps.example/hook").await;
    let national = app.as_user("nca.admin").await;
    let listed = app
        .get("/api/v1/organisations/mps/webhooks", &national)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.json[0]["url"], "https://alerts.mps.example/hook");
    assert!(!listed.text.contains(&secret));

    let mps_officer = app.as_user("mps.tasking").await;
    let other_admin = app
        .person(
            "w.admin",
            "west-midlands",
            &[Role::Administrator],
            Clearance::Sc,
        )
        .await;
    let body = json!({ "url": "http://127.0.0.1:9/x", "kinds": ["request-received"] });
    for (method, path) in [
        (Method::GET, "/api/v1/organisations/mps/webhooks".to_owned()),
        (
            Method::POST,
            "/api/v1/organisations/mps/webhooks".to_owned(),
        ),
        (
            Method::DELETE,
            format!("/api/v1/organisations/mps/webhooks/{webhook}"),
        ),
        (
            Method::GET,
            format!("/api/v1/organisations/mps/webhooks/{webhook}/deliveries"),
        ),
    ] {
        app.call(method.clone(), &path, &mps_officer, Some(body.clone()))
            .await
            .problem(StatusCode::FORBIDDEN);
        app.call(method.clone(), &path, &other_admin, Some(body.clone()))
            .await
            .problem(StatusCode::NOT_FOUND);
    }
    // Nor through their own organisation's address.
    app.get(
        &format!("/api/v1/organisations/west-midlands/webhooks/{webhook}/deliveries"),
        &other_admin,
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    for (bad, field) in [
        (
            json!({ "url": "ftp://files.example/x", "kinds": ["request-received"] }),
            "url",
        ),
        (
            json!({ "url": "not a url", "kinds": ["request-received"] }),
            "url",
        ),
        (
            json!({ "url": "https://u:p@x.example/", "kinds": ["request-received"] }),
            "url",
        ),
        (json!({ "url": "https://x.example/", "kinds": [] }), "kinds"),
        (
            json!({ "url": "https://x.example/", "kinds": ["gossip"] }),
            "kinds[0]",
        ),
    ] {
        let refused = app
            .call(
                Method::POST,
                "/api/v1/organisations/mps/webhooks",
                &mps_admin,
                Some(bad.clone()),
            )
            .await;
        assert!(refused.status.is_client_error(), "{bad}: {}", refused.text);
        assert_eq!(refused.problem_fields(), [field], "{bad}: {}", refused.text);
    }

    // Removing is recorded once; removing again changes nothing.
    for _ in 0..2 {
        let removed = app
            .call(
                Method::DELETE,
                &format!("/api/v1/organisations/mps/webhooks/{webhook}"),
                &mps_admin,
                None,
            )
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    }
    let audit = app
        .get("/api/v1/audit?record_kind=webhook&limit=500", &national)
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let text = audit.text;
    assert_eq!(text.matches("\"webhook.create\"").count(), 1, "{text}");
    assert_eq!(text.matches("\"webhook.remove\"").count(), 1, "{text}");
    assert!(!text.contains(&secret));
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
    a_receiver_gets_signed_deliveries_of_official_requests,
    a_failing_receiver_gets_the_delivery_again_and_then_is_given_up_on,
    webhooks_are_administered_only_by_the_organisations_administrators,
);

restart_stories!(
    streams_end_when_the_server_stops_and_resume_on_the_next,
    a_delivery_queued_before_a_restart_is_delivered_after_it,
);
