//! API tokens: issued, used, listed, revoked, expired.

use crate::helpers::{TestApp, Who};
use crate::stories;
use concordat_domain::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn create_token(app: &TestApp, who: &Who, body: serde_json::Value) -> (String, String) {
    let created = app
        .call(Method::POST, "/api/v1/tokens", who, Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("cct_"));
    (
        created.json["token"]["id"].as_str().expect("id").to_owned(),
        secret,
    )
}

async fn a_token_works_until_it_is_revoked(app: &TestApp) {
    let session = app.as_user("mps.tasking").await;
    let (id, secret) = create_token(app, &session, json!({ "name": "reporting laptop" })).await;
    let bearer = Who::Bearer(secret.clone());
    let me = app.get("/api/v1/me", &bearer).await;
    assert_eq!(me.json["user"]["username"], "mps.tasking", "{}", me.text);
    // A token needs no CSRF header: it is not sent by browsers on their own.
    let (second, _) = create_token(app, &bearer, json!({ "name": "second" })).await;
    let listed = app.get("/api/v1/tokens", &bearer).await;
    assert_eq!(listed.json.as_array().expect("list").len(), 2);
    assert!(!listed.text.contains(&secret), "secrets are never listed");

    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &session,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    app.get("/api/v1/me", &bearer)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let listed = app.get("/api/v1/tokens", &session).await;
    let revoked_at = listed
        .json
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("listed")["revoked_at"]
        .clone();
    assert!(revoked_at.is_string());
    assert_ne!(second, id);
}

async fn an_expired_token_is_refused(app: &TestApp) {
    let session = app.as_user("mps.tasking").await;
    let soon = Timestamp::now().plus(chrono::Duration::milliseconds(300));
    let (_, secret) = create_token(
        app,
        &session,
        json!({ "name": "brief", "expires_at": soon }),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", &Who::Bearer(secret.clone()))
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    app.get("/api/v1/me", &Who::Bearer(secret))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let past = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &session,
            Some(json!({ "name": "x", "expires_at": "2001-01-01T00:00:00Z" })),
        )
        .await;
    assert_eq!(past.problem_fields(), vec!["expires_at"]);
}

async fn a_forged_or_malformed_token_is_refused(app: &TestApp) {
    app.get(
        "/api/v1/me",
        &Who::Bearer(format!("cct_{}", "0".repeat(64))),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic bWU6cGFzcw==")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn no_one_else_can_revoke_a_token_but_an_administrator_of_its_owner(app: &TestApp) {
    let owner = app.as_user("mps.tasking").await;
    let (id, secret) = create_token(app, &owner, json!({ "name": "mine" })).await;
    let stranger = app.as_user("gmp.case").await;
    app.call(
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        &stranger,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/me", &Who::Bearer(secret.clone()))
            .await
            .status,
        StatusCode::OK
    );
    let admin = app.as_user("mps.admin").await;
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    app.get("/api/v1/me", &Who::Bearer(secret))
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

async fn a_disabled_users_tokens_and_sessions_stop_working(app: &TestApp) {
    let session = app.as_user("gmp.case").await;
    let (_, secret) = create_token(app, &session, json!({ "name": "t" })).await;
    let admin = app.as_user("nca.admin").await;
    let users = app
        .get("/api/v1/users?organisation=greater-manchester", &admin)
        .await;
    let id = users.json[0]["id"].as_str().expect("id").to_owned();
    let disabled = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/disable"),
            &admin,
            None,
        )
        .await;
    assert_eq!(disabled.json["status"], "disabled", "{}", disabled.text);
    app.get("/api/v1/me", &Who::Bearer(secret))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me", &session)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let again = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(json!({ "username": "gmp.case", "password": crate::helpers::PASSWORD })),
        )
        .await;
    again.problem(StatusCode::UNAUTHORIZED);
}

stories!(
    a_token_works_until_it_is_revoked,
    an_expired_token_is_refused,
    a_forged_or_malformed_token_is_refused,
    no_one_else_can_revoke_a_token_but_an_administrator_of_its_owner,
    a_disabled_users_tokens_and_sessions_stop_working,
);
