//! Subject deconfliction over HTTP: two organisations working blind against the same
//! person find out, each told only what the other allows; nobody else hears of it.

use crate::helpers::{Response, TestApp, Who};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(app: &TestApp, who: &Who, path: &str, body: Value) -> Response {
    app.call(Method::POST, path, who, Some(body)).await
}

/// Registers `record` for `who` with `disclosure`; returns the answer.
pub(crate) async fn register(app: &TestApp, who: &Who, record: Value, disclosure: &str) -> Value {
    let answer = post(
        app,
        who,
        "/api/v1/registrations",
        json!({
            "record": record,
            "operation_reference": "Op HERON 24/117",
            "point_of_contact": { "name": "DS Jane Cole", "detail": "01622 690690" },
            "disclosure": disclosure,
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert!(
        answer.json["note"]
            .as_str()
            .expect("note")
            .contains("does not rule out"),
        "{}",
        answer.text
    );
    assert!(
        answer.json["registration"]["reference"]
            .as_str()
            .expect("reference")
            .starts_with("DCN-")
    );
    answer.json
}

pub(crate) fn william_smith() -> Value {
    json!({
        "kind": "person",
        "names": [{ "given": "William", "surname": "Smith" }],
        "date_of_birth": "1980-04-01",
        "sex": "male",
        "addresses": [{ "number": "14", "lines": ["Tonbridge Road"], "town": "Maidstone", "postcode": "ME16 8RX" }],
        "phones": ["07700 900123"],
    })
}

/// The same man as another force typed him: a nickname, a typo in the surname, the
/// day and month swapped, the postcode without its space, the phone in +44 form.
pub(crate) fn bill_smyth() -> Value {
    json!({
        "kind": "person",
        "names": [{ "given": "Bill", "surname": "Smyth" }],
        "date_of_birth": "04/01/1980",
        "addresses": [{ "number": "14", "lines": ["Tonbridge Rd"], "town": "Maidstone", "postcode": "ME168RX" }],
        "phones": ["+44 7700 900123"],
    })
}

async fn hits(app: &TestApp, who: &Who) -> Vec<Value> {
    let response = app.get("/api/v1/hits", who).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json.as_array().expect("hits").clone()
}

/// Two organisations register the same person, with typos and a nickname: both hear
/// of it, each sees only the other's contact and the kinds of field that agreed, and
/// a third organisation sees nothing.
async fn two_forces_working_on_the_same_man_both_hear_of_it(app: &TestApp) {
    let kent = app.as_user("kent.tasking").await;
    let met = app.as_user("mps.tasking").await;
    let west_midlands = app.as_user("wmp.tasking").await;
    let first = register(app, &kent, william_smith(), "open").await;
    assert_eq!(first["hits"], json!([]), "nothing to match yet");
    let second = register(app, &met, bill_smyth(), "open").await;
    let found = second["hits"].as_array().expect("hits");
    assert_eq!(found.len(), 1, "{second}");
    assert_eq!(
        second["not_searched"],
        json!([]),
        "nothing here is too common"
    );
    let hit = &found[0];
    assert_eq!(hit["other"]["organisation"], "kent");
    assert_eq!(hit["other"]["point_of_contact"]["name"], "DS Jane Cole");
    assert_eq!(hit["other"]["operation_reference"], "Op HERON 24/117");
    assert!(hit["probability"].as_f64().expect("p") >= 0.5);
    let text = hit.to_string();
    for value in ["William", "Smith\"", "1980", "ME16", "Tonbridge", "900123"] {
        assert!(!text.contains(value), "the hit leaks {value}: {text}");
    }
    let fields: Vec<&str> = hit["explanation"]
        .as_array()
        .expect("explanation")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(fields.contains(&"date-of-birth"), "{fields:?}");

    // Kent hears of it too, and is told.
    let kents = hits(app, &kent).await;
    assert_eq!(kents.len(), 1);
    assert_eq!(kents[0]["other"]["organisation"], "mps");
    let told = app.get("/api/v1/notifications", &kent).await;
    assert!(told.text.contains("deconfliction-hit"), "{}", told.text);

    // Nobody else does, nor can they read either registration.
    assert_eq!(hits(app, &west_midlands).await, Vec::<Value>::new());
    let kent_registration = first["registration"]["id"].as_str().expect("id");
    for who in [&met, &west_midlands] {
        app.get(&format!("/api/v1/registrations/{kent_registration}"), who)
            .await
            .problem(StatusCode::NOT_FOUND);
    }
    let own = app
        .get(&format!("/api/v1/registrations/{kent_registration}"), &kent)
        .await;
    assert_eq!(own.json["record"]["names"][0]["given"], "William");
    // Every disclosure is in the audit log.
    let admin = app.as_user("nca.admin").await;
    let log = app.get("/api/v1/audit?limit=200", &admin).await;
    assert!(log.text.contains("deconfliction.disclose"), "{}", log.text);
}

/// Agency name only: the other side learns who, not whom to call. Restricted: the
/// other side is told nothing, and the restricted owner is told and decides.
async fn disclosure_levels_limit_what_the_other_side_is_told(app: &TestApp) {
    let kent = app.as_user("kent.tasking").await;
    let met = app.as_user("mps.tasking").await;
    let hmrc = app.as_user("hmrc.tasking").await;
    register(app, &kent, william_smith(), "agency-name-only").await;
    let met_answer = register(app, &met, bill_smyth(), "open").await;
    let hit = &met_answer["hits"][0];
    assert_eq!(hit["other"]["organisation"], "kent");
    assert_eq!(hit["other"]["point_of_contact"], Value::Null);
    assert_eq!(hit["other"]["operation_reference"], Value::Null);

    let hmrc_answer = register(app, &hmrc, william_smith(), "restricted").await;
    // HMRC registered as restricted: it is told of both, with what they allow...
    let told = hmrc_answer["hits"].as_array().expect("hits");
    assert_eq!(told.len(), 2, "{hmrc_answer}");
    // ...and Kent and the Met are told nothing of HMRC.
    for who in [&kent, &met] {
        let theirs = hits(app, who).await;
        assert!(
            theirs.iter().all(|h| h["other"]["organisation"] != "hmrc"),
            "{theirs:?}"
        );
        assert_eq!(theirs.len(), 1);
    }
}

/// A "different person" resolution suppresses the pair from then on; hits are
/// acknowledged once per side; only the two sides can act on a hit.
async fn a_different_person_resolution_suppresses_the_pair(app: &TestApp) {
    let kent = app.as_user("kent.tasking").await;
    let met = app.as_user("mps.tasking").await;
    let outsider = app.as_user("wmp.tasking").await;
    let first = register(app, &kent, william_smith(), "open").await;
    let second = register(app, &met, bill_smyth(), "open").await;
    let hit = second["hits"][0]["id"].as_str().expect("hit").to_owned();
    post(
        app,
        &outsider,
        &format!("/api/v1/hits/{hit}/acknowledgement"),
        json!({}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let acknowledged = post(
        app,
        &kent,
        &format!("/api/v1/hits/{hit}/acknowledgement"),
        json!({}),
    )
    .await;
    assert_eq!(
        acknowledged.json["acknowledged"], true,
        "{}",
        acknowledged.text
    );
    post(
        app,
        &kent,
        &format!("/api/v1/hits/{hit}/acknowledgement"),
        json!({}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    let resolved = post(
        app,
        &kent,
        &format!("/api/v1/hits/{hit}/resolution"),
        json!({ "resolution": "different-person" }),
    )
    .await;
    assert_eq!(
        resolved.json["resolution"], "different-person",
        "{}",
        resolved.text
    );
    // Renewing either side re-checks it; the pair is not raised again.
    for (who, answer) in [(&kent, &first), (&met, &second)] {
        let id = answer["registration"]["id"].as_str().expect("id");
        let renewed = post(
            app,
            who,
            &format!("/api/v1/registrations/{id}/renewal"),
            json!({}),
        )
        .await;
        assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    }
    assert_eq!(hits(app, &kent).await.len(), 1);
    assert_eq!(hits(app, &met).await.len(), 1);
}

/// A withdrawn registration matches nothing; a viewer or an administrator cannot
/// register; an empty record is refused naming the field.
async fn withdrawn_registrations_do_not_match_and_only_officers_register(app: &TestApp) {
    let kent = app.as_user("kent.tasking").await;
    let met = app.as_user("mps.tasking").await;
    let viewer = app.as_user("nca.viewer").await;
    let admin = app.as_user("nca.admin").await;
    let first = register(app, &kent, william_smith(), "open").await;
    let id = first["registration"]["id"].as_str().expect("id");
    let withdrawn = post(
        app,
        &kent,
        &format!("/api/v1/registrations/{id}/withdrawal"),
        json!({}),
    )
    .await;
    assert!(
        withdrawn.json["withdrawn_at"].is_string(),
        "{}",
        withdrawn.text
    );
    let second = register(app, &met, bill_smyth(), "open").await;
    assert_eq!(second["hits"], json!([]));
    let body = json!({
        "record": william_smith(),
        "point_of_contact": { "name": "X", "detail": "Y" },
        "disclosure": "open",
    });
    post(app, &viewer, "/api/v1/registrations", body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    post(app, &admin, "/api/v1/registrations", body)
        .await
        .problem(StatusCode::FORBIDDEN);
    app.get("/api/v1/registrations", &admin)
        .await
        .problem(StatusCode::FORBIDDEN);
    let empty = post(
        app,
        &kent,
        "/api/v1/registrations",
        json!({
            "record": { "kind": "person", "names": [] },
            "point_of_contact": { "name": "X", "detail": "Y" },
            "disclosure": "open",
        }),
    )
    .await;
    empty.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.problem_fields(), ["record"]);
}

/// At start-up the index is rebuilt from the store: what was registered before is
/// found again, and what was withdrawn is not.
async fn the_index_is_rebuilt_from_the_store(app: &TestApp) {
    let kent = app.as_user("kent.tasking").await;
    let met = app.as_user("mps.tasking").await;
    register(app, &kent, william_smith(), "open").await;
    let gone = register(
        app,
        &met,
        json!({ "kind": "vehicle", "registration": "AB12 CDE" }),
        "open",
    )
    .await;
    let id = gone["registration"]["id"].as_str().expect("id");
    post(
        app,
        &met,
        &format!("/api/v1/registrations/{id}/withdrawal"),
        json!({}),
    )
    .await;
    let index = concordat_server::deconfliction::Deconfliction::new(
        concordat_matching::EngineConfig::default(),
    );
    let mut seen = (0, 0);
    let count = index
        .rebuild(&app.store, |done, total| seen = (done, total))
        .await
        .expect("rebuilds");
    assert_eq!(count, 1, "the withdrawn registration is left out");
    assert_eq!(seen, (1, 1), "progress is reported");
}

stories!(
    the_index_is_rebuilt_from_the_store,
    two_forces_working_on_the_same_man_both_hear_of_it,
    disclosure_levels_limit_what_the_other_side_is_told,
    a_different_person_resolution_suppresses_the_pair,
    withdrawn_registrations_do_not_match_and_only_officers_register,
);

/// An expired registration no longer matches: with a retention of one second, a
/// registration made earlier is gone by the time the other force registers.
async fn an_expired_registration_no_longer_matches(app: &TestApp) {
    let kent = app.as_user("kent.tasking").await;
    let met = app.as_user("mps.tasking").await;
    let first = register(app, &kent, william_smith(), "open").await;
    assert!(first["registration"]["expires_at"].is_string());
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let second = register(app, &met, bill_smyth(), "open").await;
    assert_eq!(second["hits"], json!([]), "{second}");
}

/// Registrations kept for a second.
fn one_second_retention() -> concordat_server::ServerConfig {
    concordat_server::ServerConfig {
        registration_retention: std::time::Duration::from_secs(1),
        ..crate::helpers::test_config()
    }
}

stories!(with one_second_retention; an_expired_registration_no_longer_matches);
