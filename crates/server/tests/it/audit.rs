//! The audit log over HTTP: every change recorded, the chain verified, tampering caught.

use crate::helpers::TestApp;
use crate::stories;
use reqwest::Method;
use serde_json::json;

async fn every_change_is_recorded_with_who_what_and_where(app: &TestApp) {
    let admin = app.as_user("nca.admin").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/users",
            &admin,
            Some(json!({ "username": "new.person", "display_name": "New", "organisation": "kent", "roles": ["viewer"], "clearance": "bpss" })),
        )
        .await;
    let id = created.json["user"]["id"].as_str().expect("id").to_owned();
    let entries = app
        .get(
            &format!("/api/v1/audit?record_kind=user&record_id={id}"),
            &admin,
        )
        .await;
    let entries = entries.json.as_array().expect("list").clone();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["action"], "user.create");
    assert_eq!(entry["actor_name"], "nca.admin");
    assert_eq!(entry["source"], "127.0.0.1");
    assert!(entry["detail"].as_str().expect("detail").contains("kent"));
    assert!(
        !entry["detail"]
            .as_str()
            .expect("detail")
            .contains("password")
    );
    let limited = app.get("/api/v1/audit?limit=2", &admin).await;
    assert_eq!(limited.json.as_array().expect("list").len(), 2);
    let bad = app.get("/api/v1/audit?limit=0", &admin).await;
    assert_eq!(bad.problem_fields(), vec!["limit"]);
}

async fn the_chain_verifies_and_a_tampered_entry_is_caught(app: &TestApp) {
    let admin = app.as_user("mps.admin").await;
    let verified = app.get("/api/v1/audit/verify", &admin).await;
    assert_eq!(verified.json["intact"], true, "{}", verified.text);
    let checked = verified.json["checked"].as_i64().expect("count");
    assert!(
        checked >= 3,
        "reference data, the story people and this sign-in"
    );
    app.store
        .tamper_audit_entry_for_test(3, "mallory")
        .await
        .expect("tamper");
    let broken = app.get("/api/v1/audit/verify", &admin).await;
    assert_eq!(broken.json["intact"], false, "{}", broken.text);
    assert_eq!(broken.json["first_break_seq"], 3);
    assert_eq!(broken.json["checked"], 2);
}

stories!(
    every_change_is_recorded_with_who_what_and_where,
    the_chain_verifies_and_a_tampered_entry_is_caught,
);
