//! Event deconfliction stories: two organisations plan activity at the same place and
//! time and both hear of it at once, with only what they may be told; activity far
//! apart in space or time does not clash; cancelling stops a clash; an alert nobody
//! acknowledges goes to the 24/7 control rooms; the national watch owns and resolves.

use crate::helpers::{TestApp, Who};
use crate::stories;
use concordat_domain::people::{Clearance, Role};
use concordat_domain::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Birmingham, Digbeth.
const LAT: f64 = 52.4751;
const LON: f64 = -1.8833;
/// About 150 m of latitude.
const M150: f64 = 0.00135;

fn hours_from_now(hours: i64) -> String {
    Timestamp::now()
        .plus(chrono::Duration::hours(hours))
        .to_rfc3339()
}

pub(crate) fn plan(
    kind: &str,
    title: &str,
    lat: f64,
    lon: f64,
    from: &str,
    to: &str,
    contact: &str,
) -> Value {
    json!({
        "kind": kind,
        "title": title,
        "place": {
            "position": { "latitude": lat, "longitude": lon },
            "accuracy_m": 20,
            "address": "Unit 4, Heartlands Trading Estate",
            "postcode": "b7 5qt",
        },
        "window": { "starts_at": from, "ends_at": to },
        "point_of_contact": { "name": contact, "detail": "0121 626 5000" },
    })
}

pub(crate) async fn planned(app: &TestApp, who: &Who, body: Value) -> Value {
    let answer = app
        .call(Method::POST, "/api/v1/activities", who, Some(body))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json
}

async fn two_forces_planning_150_metres_apart_are_both_alerted_with_only_what_they_may_know(
    app: &TestApp,
) {
    let wmp = app.as_user("wmp.case").await;
    let gmp = app.as_user("gmp.case").await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    let first = planned(
        app,
        &wmp,
        plan(
            "warrant-or-search",
            "Op KESTREL search of the car wash",
            LAT,
            LON,
            &from,
            &to,
            "DS Rao",
        ),
    )
    .await;
    assert_eq!(first["clashes"], json!([]), "nothing to clash with yet");
    assert!(
        first["activity"]["reference"]
            .as_str()
            .is_some_and(|r| r.starts_with("DCN-"))
    );
    assert_eq!(first["activity"]["place"]["postcode"], "B7 5QT");
    assert_eq!(first["late_notice"], false);

    let second = planned(
        app,
        &gmp,
        plan(
            "arrest",
            "Arrest of the courier",
            LAT + M150,
            LON,
            &hours_from_now(25),
            &hours_from_now(26),
            "DC Hale",
        ),
    )
    .await;
    let clashes = second["clashes"].as_array().expect("clashes");
    assert_eq!(clashes.len(), 1, "{second}");
    let other = &clashes[0]["other"];
    assert_eq!(other["kind"], "warrant-or-search");
    assert_eq!(other["distance_band"], "100m-250m");
    assert_eq!(other["point_of_contact"]["name"], "DS Rao");
    assert_eq!(
        other["window"]["starts_at"],
        first["activity"]["window"]["starts_at"]
    );
    let told = clashes[0].to_string();
    for never in [
        "KESTREL",
        "car wash",
        "west-midlands",
        "Heartlands",
        "52.47",
    ] {
        assert!(!told.contains(never), "{never} disclosed: {told}");
    }

    // West Midlands hears at once: its clash list and its officers' inboxes.
    let theirs = app.get("/api/v1/clashes", &wmp).await;
    assert_eq!(
        theirs.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        theirs.text
    );
    assert_eq!(theirs.json[0]["other"]["kind"], "arrest");
    assert_eq!(
        theirs.json[0]["other"]["point_of_contact"]["name"],
        "DC Hale"
    );
    assert!(!theirs.text.contains("courier"), "{}", theirs.text);
    let clash = theirs.json[0]["id"].as_str().expect("id").to_owned();
    for who in [&wmp, &gmp] {
        let inbox = app.get("/api/v1/notifications", who).await;
        assert!(
            inbox.text.contains(&format!("clash:{clash}")),
            "{}",
            inbox.text
        );
        assert!(inbox.text.contains("Officer safety"), "{}", inbox.text);
    }

    // Each side sees only its own activity.
    let gmp_activity = second["activity"]["id"].as_str().expect("id");
    app.get(&format!("/api/v1/activities/{gmp_activity}"), &wmp)
        .await
        .problem(StatusCode::NOT_FOUND);
    let own = app.get("/api/v1/activities", &wmp).await;
    assert_eq!(own.json.as_array().map(Vec::len), Some(1), "{}", own.text);

    // Acknowledging is per side; the other side's officers cannot acknowledge for it.
    let acked = app
        .call(
            Method::POST,
            &format!("/api/v1/clashes/{clash}/acknowledgement"),
            &wmp,
            None,
        )
        .await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.text);
    assert_eq!(acked.json["acknowledged"], true);
    let gmp_view = app.get("/api/v1/clashes", &gmp).await;
    assert_eq!(gmp_view.json[0]["acknowledged"], false);
    let stranger = app.as_user("kent.tasking").await;
    app.call(
        Method::POST,
        &format!("/api/v1/clashes/{clash}/acknowledgement"),
        &stranger,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/clashes", &stranger).await.json, json!([]));
}

async fn activity_far_apart_in_space_or_time_or_of_one_force_does_not_clash(app: &TestApp) {
    let wmp = app.as_user("wmp.case").await;
    let gmp = app.as_user("gmp.case").await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    planned(
        app,
        &wmp,
        plan("surveillance", "Obs", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    // 5 km north.
    let far = planned(
        app,
        &gmp,
        plan("arrest", "Far", LAT + 0.045, LON, &from, &to, "DC Hale"),
    )
    .await;
    assert_eq!(far["clashes"], json!([]), "5 km apart");
    // A day later.
    let later = planned(
        app,
        &gmp,
        plan(
            "arrest",
            "Later",
            LAT,
            LON,
            &hours_from_now(48),
            &hours_from_now(50),
            "DC Hale",
        ),
    )
    .await;
    assert_eq!(later["clashes"], json!([]), "a day apart");
    // The same force's own plans do not clash with each other.
    let own = planned(
        app,
        &wmp,
        plan("arrest", "Own", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    assert_eq!(
        own["clashes"],
        json!([]),
        "an organisation deconflicts its own plans"
    );
    // Short notice is flagged.
    let soon = planned(
        app,
        &wmp,
        plan(
            "test-purchase",
            "Soon",
            51.0,
            -2.0,
            &hours_from_now(0),
            &hours_from_now(1),
            "DS Rao",
        ),
    )
    .await;
    assert_eq!(soon["late_notice"], true);
    assert_eq!(soon["activity"]["late_notice"], true);
}

async fn a_cancelled_or_moved_activity_stops_clashing(app: &TestApp) {
    let wmp = app.as_user("wmp.case").await;
    let gmp = app.as_user("gmp.case").await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    let first = planned(
        app,
        &wmp,
        plan("arrest", "A", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    let second = planned(
        app,
        &gmp,
        plan("arrest", "B", LAT, LON + 0.001, &from, &to, "DC Hale"),
    )
    .await;
    assert_eq!(second["clashes"].as_array().map(Vec::len), Some(1));
    let first_id = first["activity"]["id"].as_str().expect("id");
    let cancelled = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{first_id}/cancellation"),
            &wmp,
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.json["state"], "cancelled");
    let clashes = app.get("/api/v1/clashes", &gmp).await;
    assert_eq!(clashes.json[0]["live"], false, "{}", clashes.text);
    let third = planned(
        app,
        &gmp,
        plan("arrest", "C", LAT, LON, &from, &to, "DC Hale"),
    )
    .await;
    assert_eq!(
        third["clashes"],
        json!([]),
        "the cancelled activity no longer clashes"
    );
    app.call(
        Method::POST,
        &format!("/api/v1/activities/{first_id}/cancellation"),
        &wmp,
        None,
    )
    .await
    .problem(StatusCode::CONFLICT);

    // Moving re-runs the check: 5 km away, the clash is cleared; back, it is raised anew.
    let moving = planned(
        app,
        &wmp,
        plan("arrest", "D", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    assert_eq!(
        moving["clashes"].as_array().map(Vec::len),
        Some(2),
        "{moving}"
    );
    let id = moving["activity"]["id"].as_str().expect("id");
    let away = json!({
        "place": { "position": { "latitude": LAT + 0.045, "longitude": LON } },
        "window": { "starts_at": from, "ends_at": to },
    });
    let moved = app
        .call(
            Method::PUT,
            &format!("/api/v1/activities/{id}"),
            &wmp,
            Some(away),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.json["clashes"], json!([]), "{}", moved.text);
    let back = json!({
        "place": { "position": { "latitude": LAT, "longitude": LON } },
        "window": { "starts_at": from, "ends_at": to },
    });
    let returned = app
        .call(
            Method::PUT,
            &format!("/api/v1/activities/{id}"),
            &wmp,
            Some(back),
        )
        .await;
    assert_eq!(
        returned.json["clashes"].as_array().map(Vec::len),
        Some(2),
        "{}",
        returned.text
    );
}

async fn an_unacknowledged_alert_escalates_and_the_national_watch_resolves_it(app: &TestApp) {
    let wmp = app.as_user("wmp.case").await;
    let gmp = app.as_user("gmp.case").await;
    let wmp_control = app
        .person(
            "ev.wmp.control",
            "west-midlands",
            &[Role::ControlRoom],
            Clearance::Sc,
        )
        .await;
    let watch = app
        .person("ev.nca.watch", "nca", &[Role::ControlRoom], Clearance::Sc)
        .await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    planned(
        app,
        &wmp,
        plan("controlled-delivery", "A", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    let second = planned(
        app,
        &gmp,
        plan("covert-meeting", "B", LAT, LON, &from, &to, "DC Hale"),
    )
    .await;
    let clash = second["clashes"][0]["id"]
        .as_str()
        .expect("clash")
        .to_owned();

    let state = concordat_server::AppState::new(
        app.store.clone(),
        concordat_server::ServerConfig::default(),
        crate::helpers::rules(),
    );
    let soon = Timestamp::now().plus(chrono::Duration::minutes(5));
    assert_eq!(
        concordat_server::events::escalate(&state, soon)
            .await
            .expect("sweep"),
        0
    );
    let later = Timestamp::now().plus(chrono::Duration::minutes(20));
    assert_eq!(
        concordat_server::events::escalate(&state, later)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        concordat_server::events::escalate(&state, later)
            .await
            .expect("sweep"),
        0,
        "once only"
    );
    for who in [&wmp_control, &watch] {
        let inbox = app.get("/api/v1/notifications", who).await;
        assert!(
            inbox.text.contains(&format!("clash:{clash}")),
            "{}",
            inbox.text
        );
    }
    let wmp_clash = app.get("/api/v1/clashes", &wmp).await;
    assert!(
        wmp_clash.json[0]["escalated_at"].is_string(),
        "{}",
        wmp_clash.text
    );

    // The watch sees both sides in full, takes ownership and resolves it.
    let queue = app.get("/api/v1/watch/clashes", &watch).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    assert!(queue.text.contains("DS Rao") && queue.text.contains("DC Hale"));
    app.get("/api/v1/watch/clashes", &wmp_control)
        .await
        .problem(StatusCode::FORBIDDEN);
    app.get("/api/v1/watch/clashes", &wmp)
        .await
        .problem(StatusCode::FORBIDDEN);
    let owned = app
        .call(
            Method::POST,
            &format!("/api/v1/watch/clashes/{clash}/ownership"),
            &watch,
            None,
        )
        .await;
    assert_eq!(owned.json["owner"], "ev.nca.watch", "{}", owned.text);
    let resolved = app
        .call(
            Method::POST,
            &format!("/api/v1/watch/clashes/{clash}/resolution"),
            &watch,
            Some(
                json!({ "resolution": "rescheduled", "note": "GMP moved the meeting to Friday." }),
            ),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert_eq!(resolved.json["resolution"], "rescheduled");
    let gmp_view = app.get("/api/v1/clashes", &gmp).await;
    assert_eq!(gmp_view.json[0]["resolution"], "rescheduled");
    // A covert meeting's contact goes through the watch.
    let wmp_view = app.get("/api/v1/clashes", &wmp).await;
    assert_eq!(wmp_view.json[0]["other"]["through_the_watch"], false);
    assert_eq!(
        gmp_view.json[0]["other"]["point_of_contact"]["name"],
        "DS Rao"
    );

    // The watch may enter activity for a force's officer without access.
    let entered = app
        .call(
            Method::POST,
            "/api/v1/activities",
            &watch,
            Some({
                let mut body = plan("arrest", "For Kent", 51.27, 0.52, &from, &to, "PC Ward");
                body["on_behalf_of"] = json!("kent");
                body
            }),
        )
        .await;
    assert_eq!(entered.status, StatusCode::CREATED, "{}", entered.text);
    assert_eq!(entered.json["activity"]["organisation"], "kent");
    let bad = app
        .call(
            Method::POST,
            "/api/v1/activities",
            &wmp_control,
            Some({
                let mut body = plan("arrest", "For Kent", 51.27, 0.52, &from, &to, "PC Ward");
                body["on_behalf_of"] = json!("kent");
                body
            }),
        )
        .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.problem_fields(), vec!["on_behalf_of"]);
}

async fn bad_places_and_times_are_refused_by_name(app: &TestApp) {
    let wmp = app.as_user("wmp.case").await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    for (lat, lon, field) in [
        (91.0, 0.0, "place.position.latitude"),
        (0.0, 200.0, "place.position.longitude"),
    ] {
        let answer = app
            .call(
                Method::POST,
                "/api/v1/activities",
                &wmp,
                Some(plan("arrest", "X", lat, lon, &from, &to, "DS Rao")),
            )
            .await;
        answer.problem(StatusCode::BAD_REQUEST);
        assert_eq!(answer.problem_fields(), vec![field], "{}", answer.text);
    }
    let backwards = app
        .call(
            Method::POST,
            "/api/v1/activities",
            &wmp,
            Some(plan("arrest", "X", LAT, LON, &to, &from, "DS Rao")),
        )
        .await;
    backwards.problem(StatusCode::BAD_REQUEST);
    assert_eq!(backwards.problem_fields(), vec!["window.ends_at"]);
    let mut no_position = plan("arrest", "X", LAT, LON, &from, &to, "DS Rao");
    no_position["place"] = json!({ "postcode": "B7 5QT" });
    app.call(Method::POST, "/api/v1/activities", &wmp, Some(no_position))
        .await
        .problem(StatusCode::BAD_REQUEST);
    // Activity either side of the antimeridian clashes like any other.
    let gmp = app.as_user("gmp.case").await;
    planned(
        app,
        &wmp,
        plan("other", "East", -16.5, 179.9995, &from, &to, "DS Rao"),
    )
    .await;
    let west = planned(
        app,
        &gmp,
        plan("other", "West", -16.5, -179.9995, &from, &to, "DC Hale"),
    )
    .await;
    assert_eq!(west["clashes"].as_array().map(Vec::len), Some(1), "{west}");
    // A viewer reads but does not plan.
    let viewer = app
        .person(
            "ev.wmp.viewer",
            "west-midlands",
            &[Role::Viewer],
            Clearance::Sc,
        )
        .await;
    app.call(
        Method::POST,
        "/api/v1/activities",
        &viewer,
        Some(plan("arrest", "X", LAT, LON, &from, &to, "DS Rao")),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/activities", &viewer).await.status,
        StatusCode::OK
    );
}

/// Activity across the night the clocks go back (25 October 2026) overlaps by instants.
async fn windows_across_midnight_and_the_clock_change_clash_by_the_instant(app: &TestApp) {
    let wmp = app.as_user("wmp.case").await;
    let gmp = app.as_user("gmp.case").await;
    let night = planned(
        app,
        &wmp,
        plan(
            "surveillance",
            "Night",
            LAT,
            LON,
            "2027-10-30T23:00:00+01:00",
            "2027-10-31T01:30:00+00:00",
            "DS Rao",
        ),
    )
    .await;
    assert_eq!(night["clashes"], json!([]));
    // 01:15 GMT, after the clocks went back: inside the window.
    let early = planned(
        app,
        &gmp,
        plan(
            "arrest",
            "Early",
            LAT,
            LON,
            "2027-10-31T01:15:00+00:00",
            "2027-10-31T03:00:00+00:00",
            "DC Hale",
        ),
    )
    .await;
    assert_eq!(
        early["clashes"].as_array().map(Vec::len),
        Some(1),
        "{early}"
    );
}

/// Application nodes share one store: activity planned or cancelled through another
/// node is taken into account by this one before it checks.
async fn a_node_sees_what_another_node_planned_and_cancelled(app: &TestApp) {
    let wmp = app.as_user("wmp.case").await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    // This node's index is loaded.
    planned(
        app,
        &wmp,
        plan("arrest", "Elsewhere", 51.0, -2.0, &from, &to, "DS Rao"),
    )
    .await;
    let other_node = concordat_server::AppState::new(
        app.store.clone(),
        concordat_server::ServerConfig::default(),
        crate::helpers::rules(),
    );
    let gmp = concordat_server::auth::acting_as(&other_node, "gmp.case")
        .await
        .expect("gmp.case");
    let input: concordat_server::events::PlanInput = serde_json::from_value(plan(
        "surveillance",
        "Through the other node",
        LAT,
        LON,
        &from,
        &to,
        "DC Hale",
    ))
    .expect("valid");
    let there = concordat_server::events::plan(&other_node, &gmp, "test", input)
        .await
        .expect("planned on the other node");
    let here = planned(
        app,
        &wmp,
        plan("arrest", "Here", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    assert_eq!(here["clashes"].as_array().map(Vec::len), Some(1), "{here}");
    concordat_server::events::cancel(&other_node, &gmp, "test", there.activity.id)
        .await
        .expect("cancelled on the other node");
    let again = planned(
        app,
        &wmp,
        plan("arrest", "Again", LAT, LON, &from, &to, "DS Rao"),
    )
    .await;
    assert_eq!(again["clashes"], json!([]), "cancelled elsewhere: {again}");
}

stories!(
    two_forces_planning_150_metres_apart_are_both_alerted_with_only_what_they_may_know,
    activity_far_apart_in_space_or_time_or_of_one_force_does_not_clash,
    a_cancelled_or_moved_activity_stops_clashing,
    an_unacknowledged_alert_escalates_and_the_national_watch_resolves_it,
    bad_places_and_times_are_refused_by_name,
    windows_across_midnight_and_the_clock_change_clash_by_the_instant,
    a_node_sees_what_another_node_planned_and_cancelled,
);
