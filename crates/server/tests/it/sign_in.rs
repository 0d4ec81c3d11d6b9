//! Signing in and out, sessions, CSRF and the sign-in limits.

use crate::helpers::{PASSWORD, TestApp, Who};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn a_user_signs_in_and_the_session_cookie_is_locked_down(app: &TestApp) {
    let response = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(json!({ "username": "MPS.Tasking", "password": PASSWORD })),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.json["user"]["username"], "mps.tasking");
    let cookie = response
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-concordat_session="))
        .expect("a __Host- session cookie");
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    let who = Who::Session {
        cookie: cookie.split(';').next().expect("pair").to_owned(),
        csrf: response.json["csrf_token"]
            .as_str()
            .expect("csrf")
            .to_owned(),
    };
    let me = app.get("/api/v1/me", &who).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["user"]["username"], "mps.tasking");
    assert_eq!(me.json["organisation"]["code"], "mps");
}

async fn a_wrong_password_is_refused_and_recorded(app: &TestApp) {
    let response = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(json!({ "username": "mps.tasking", "password": "not the password" })),
        )
        .await;
    response.problem(StatusCode::UNAUTHORIZED);
    assert!(response.session_cookie().is_none());
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(json!({ "username": "nobody.here", "password": PASSWORD })),
        )
        .await;
    // An unknown name and a wrong password look the same from outside.
    unknown.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json["detail"], response.json["detail"]);
    let entries = app
        .store
        .audit_entries(&concordat_store::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "session.sign-in-failed")
            .count(),
        2
    );
}

async fn repeated_sign_in_attempts_are_rate_limited(app: &TestApp) {
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            app.call(
                Method::POST,
                "/api/v1/session",
                &Who::Nobody,
                Some(json!({ "username": "mps.tasking", "password": "guess guess guess" })),
            )
            .await,
        );
    }
    let last = last.expect("six attempts");
    last.problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(last.headers.contains_key("retry-after"));
    // The right password does not get past the limit either.
    let right = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(json!({ "username": "mps.tasking", "password": PASSWORD })),
        )
        .await;
    right.problem(StatusCode::TOO_MANY_REQUESTS);
}

async fn signing_out_ends_the_session(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    let out = app
        .call(Method::DELETE, "/api/v1/session", &who, None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert!(out.set_cookies().iter().any(|c| c.contains("Max-Age=0")));
    app.get("/api/v1/me", &who)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

async fn a_cookie_authenticated_change_needs_the_csrf_header(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    let forged = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &who.without_csrf(),
            Some(json!({ "name": "x" })),
        )
        .await;
    forged.problem(StatusCode::FORBIDDEN);
    let wrong = Who::Session {
        cookie: match &who {
            Who::Session { cookie, .. } => cookie.clone(),
            _ => unreachable!(),
        },
        csrf: "0".repeat(64),
    };
    app.call(
        Method::POST,
        "/api/v1/tokens",
        &wrong,
        Some(json!({ "name": "x" })),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let honest = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &who,
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(honest.status, StatusCode::CREATED, "{}", honest.text);
}

async fn a_new_account_must_change_its_one_time_password_first(app: &TestApp) {
    let admin = app.as_user("mps.admin").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/users",
            &admin,
            Some(json!({
                "username": "dc.new",
                "display_name": "DC New Starter",
                "organisation": "mps",
                "roles": ["case-officer"],
                "clearance": "sc",
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let one_time = created.json["one_time_password"]
        .as_str()
        .expect("password")
        .to_owned();
    let who = app.sign_in("dc.new", &one_time).await;
    let me = app.get("/api/v1/me", &who).await;
    assert_eq!(me.json["user"]["must_change_password"], true);
    let refused = app.get("/api/v1/organisations", &who).await;
    assert_eq!(
        refused.problem(StatusCode::FORBIDDEN)["type"],
        "/problems/password-change-required"
    );

    let weak = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            &who,
            Some(json!({ "current_password": one_time, "new_password": "short" })),
        )
        .await;
    weak.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.problem_fields(), vec!["new_password"]);
    let wrong = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            &who,
            Some(json!({ "current_password": "not it at all", "new_password": "a much longer passphrase" })),
        )
        .await;
    assert_eq!(wrong.problem_fields(), vec!["current_password"]);
    let changed = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            &who,
            Some(
                json!({ "current_password": one_time, "new_password": "a much longer passphrase" }),
            ),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);
    assert_eq!(
        app.get("/api/v1/organisations", &who).await.status,
        StatusCode::OK
    );
    app.sign_in("dc.new", "a much longer passphrase").await;
}

/// Five wrong passwords in a row lock the account in the store (so the lock holds
/// across restarts and nodes), with back-off; an administrator enabling the account
/// clears it.
async fn repeated_failures_lock_the_account_in_the_store(app: &TestApp) {
    let name = concordat_domain::people::Username::parse("gmp.case").expect("valid");
    for _ in 0..5 {
        let refused = app
            .call(
                Method::POST,
                "/api/v1/session",
                &Who::Nobody,
                Some(json!({ "username": "gmp.case", "password": "not the password at all" })),
            )
            .await;
        refused.problem(StatusCode::UNAUTHORIZED);
    }
    let stored = app
        .store
        .user_by_username(&name)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(stored.failed_sign_ins, 5);
    let until = stored.locked_until.expect("locked");
    assert!(until > concordat_domain::time::Timestamp::now());
    let locked = app
        .call(
            Method::POST,
            "/api/v1/session",
            &Who::Nobody,
            Some(json!({ "username": "gmp.case", "password": PASSWORD })),
        )
        .await;
    locked.problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers.get("retry-after").is_some());

    let admin = app.as_user("nca.admin").await;
    let id = stored.user.id;
    let enabled = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/enable"),
            &admin,
            None,
        )
        .await;
    assert!(enabled.status.is_success(), "{}", enabled.text);
    let cleared = app
        .store
        .user_by_username(&name)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!((cleared.failed_sign_ins, cleared.locked_until), (0, None));
}

/// Signing out everywhere ends every session of the user's, and only theirs.
async fn signing_out_everywhere_ends_every_session(app: &TestApp) {
    let laptop = app.as_user("mps.tasking").await;
    let phone = app.as_user("mps.tasking").await;
    let colleague = app.as_user("mps.admin").await;
    let ended = app
        .call(Method::DELETE, "/api/v1/me/sessions", &laptop, None)
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    assert_eq!(ended.json["ended"], 2);
    for gone in [&laptop, &phone] {
        app.get("/api/v1/me", gone)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.get("/api/v1/me", &colleague).await.status,
        StatusCode::OK
    );
    app.call(Method::DELETE, "/api/v1/me/sessions", &Who::Nobody, None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

stories!(
    signing_out_everywhere_ends_every_session,
    repeated_failures_lock_the_account_in_the_store,
    a_user_signs_in_and_the_session_cookie_is_locked_down,
    a_wrong_password_is_refused_and_recorded,
    repeated_sign_in_attempts_are_rate_limited,
    signing_out_ends_the_session,
    a_cookie_authenticated_change_needs_the_csrf_header,
    a_new_account_must_change_its_one_time_password_first,
);
