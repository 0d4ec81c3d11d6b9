//! Two-factor sign-in: setting up a security code, signing in with it, replays and
//! skew, lockout, an organisation that requires it, and administrators resetting it.

use crate::helpers::{PASSWORD, TestApp, Who, sign_in_with_code, totp_code, with_totp};
use crate::stories;
use concordat_domain::people::Username;
use concordat_domain::totp::TotpSecret;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn sign_in_attempt(
    app: &TestApp,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> crate::helpers::Response {
    let mut body = json!({ "username": username, "password": password });
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    app.call(Method::POST, "/api/v1/session", &Who::Nobody, Some(body))
        .await
}

async fn failures_of(app: &TestApp, username: &str) -> u32 {
    app.store
        .user_by_username(&Username::parse(username).expect("valid"))
        .await
        .expect("reads")
        .expect("exists")
        .failed_sign_ins
}

/// Starts setting up a second factor and returns the secret the server made.
async fn start(app: &TestApp, who: &Who, username: &str) -> TotpSecret {
    let started = app.call(Method::POST, "/api/v1/me/totp", who, None).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let secret = started.json["secret"].as_str().expect("secret").to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = started.json["otpauth_uri"].as_str().expect("uri");
    assert!(
        uri.starts_with(&format!("otpauth://totp/Concordat:{username}?"))
            && uri.contains(&format!("secret={secret}"))
            && uri.contains("issuer=Concordat"),
        "{uri}"
    );
    TotpSecret::parse_base32(&secret).expect("base32")
}

async fn confirm(app: &TestApp, who: &Who, code: &str) -> crate::helpers::Response {
    app.call(
        Method::POST,
        "/api/v1/me/totp/confirm",
        who,
        Some(json!({ "code": code })),
    )
    .await
}

/// A code that is not any of the accepted ones now.
fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 5) % 10))
        .collect()
}

async fn a_user_sets_up_a_security_code_and_signs_in_with_it(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    let first = start(app, &who, "mps.tasking").await;
    // Starting again replaces a secret not yet confirmed.
    let secret = start(app, &who, "mps.tasking").await;
    assert_ne!(first, secret);

    let now = totp_code(&secret, 0).await;
    let refused = confirm(app, &who, &wrong(&now)).await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem_fields(), vec!["code"]);
    let malformed = confirm(app, &who, "12").await;
    assert_eq!(malformed.problem_fields(), vec!["code"]);
    let confirmed = confirm(app, &who, &totp_code(&secret, 0).await).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(confirmed.json["totp_enabled"], true);
    // Once confirmed, it cannot be started or confirmed over.
    app.call(Method::POST, "/api/v1/me/totp", &who, None)
        .await
        .problem(StatusCode::CONFLICT);
    confirm(app, &who, &totp_code(&secret, 1).await)
        .await
        .problem(StatusCode::CONFLICT);

    // The password alone no longer starts a session.
    let missing = sign_in_attempt(app, "mps.tasking", PASSWORD, None).await;
    assert_eq!(
        missing.problem(StatusCode::UNAUTHORIZED)["type"],
        "/problems/totp-required"
    );
    assert_eq!(missing.problem_fields(), vec!["totp"]);
    assert!(missing.session_cookie().is_none());
    let malformed = sign_in_attempt(app, "mps.tasking", PASSWORD, Some("12345")).await;
    malformed.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.problem_fields(), vec!["totp"]);

    // The code of the step the confirmation used is spent; the next one works, once.
    let next = totp_code(&secret, 1).await;
    let session = sign_in_with_code(app, "mps.tasking", &next).await;
    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.json["user"]["totp_enabled"], true);
    let replayed = sign_in_attempt(app, "mps.tasking", PASSWORD, Some(&next)).await;
    assert_eq!(
        replayed.problem(StatusCode::UNAUTHORIZED)["type"],
        "/problems/bad-totp"
    );
    assert!(replayed.session_cookie().is_none());
}

/// A wrong code counts as a failed sign-in, like a wrong password; a wrong password
/// says nothing about the second factor; a missing code is not a failure.
async fn a_wrong_code_counts_toward_the_lockout(app: &TestApp) {
    let secret = with_totp(app, "gmp.case").await;
    let code = totp_code(&secret, 0).await;
    let bad = sign_in_attempt(app, "gmp.case", PASSWORD, Some(&wrong(&code))).await;
    assert_eq!(
        bad.problem(StatusCode::UNAUTHORIZED)["type"],
        "/problems/bad-totp"
    );
    assert_eq!(failures_of(app, "gmp.case").await, 1);

    let wrong_password =
        sign_in_attempt(app, "gmp.case", "not the password at all", Some(&code)).await;
    let unknown = sign_in_attempt(app, "nobody.here", PASSWORD, None).await;
    assert_eq!(
        wrong_password.problem(StatusCode::UNAUTHORIZED),
        unknown.problem(StatusCode::UNAUTHORIZED)
    );
    let without_code = sign_in_attempt(app, "gmp.case", "not the password at all", None).await;
    assert_eq!(
        without_code.problem(StatusCode::UNAUTHORIZED)["type"],
        "/problems/bad-credentials"
    );
    assert_eq!(failures_of(app, "gmp.case").await, 3);

    sign_in_attempt(app, "gmp.case", PASSWORD, None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(failures_of(app, "gmp.case").await, 3);
    sign_in_with_code(app, "gmp.case", &code).await;
    assert_eq!(failures_of(app, "gmp.case").await, 0);

    let entries = app
        .store
        .audit_entries(&concordat_store::AuditFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert!(
        entries
            .iter()
            .any(|e| e.action == "session.sign-in-failed"
                && e.detail.contains("\"factor\":\"totp\"")),
        "{entries:?}"
    );
}

/// Two failures short of a lock, a wrong code locks the account like a wrong password.
async fn wrong_codes_lock_the_account(app: &TestApp) {
    let secret = with_totp(app, "wmp.analyst").await;
    for _ in 0..4 {
        sign_in_attempt(app, "wmp.analyst", "not the password at all", None)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    let code = totp_code(&secret, 0).await;
    sign_in_attempt(app, "wmp.analyst", PASSWORD, Some(&wrong(&code)))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let stored = app
        .store
        .user_by_username(&Username::parse("wmp.analyst").expect("valid"))
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(stored.failed_sign_ins, 5);
    assert!(stored.locked_until.is_some());
}

/// Codes one step either side of now are accepted (clocks drift); two are not.
async fn one_step_of_skew_is_accepted_and_two_are_not(app: &TestApp) {
    let secret = with_totp(app, "wmp.tasking").await;
    sign_in_attempt(
        app,
        "wmp.tasking",
        PASSWORD,
        Some(&totp_code(&secret, -2).await),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    sign_in_attempt(
        app,
        "wmp.tasking",
        PASSWORD,
        Some(&totp_code(&secret, 2).await),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    sign_in_with_code(app, "wmp.tasking", &totp_code(&secret, -1).await).await;
    sign_in_with_code(app, "wmp.tasking", &totp_code(&secret, 1).await).await;
}

/// A user turns the second factor off with a current, unused code.
async fn a_user_turns_the_second_factor_off_with_a_code(app: &TestApp) {
    let who = app.as_user("kent.tasking").await;
    let secret = start(app, &who, "kent.tasking").await;
    let earlier = totp_code(&secret, -1).await;
    let confirmed = confirm(app, &who, &earlier).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    let off = |code: String| {
        let who = who.clone();
        async move {
            app.call(
                Method::DELETE,
                "/api/v1/me/totp",
                &who,
                Some(json!({ "code": code })),
            )
            .await
        }
    };
    let now = totp_code(&secret, 0).await;
    assert_eq!(off(wrong(&now)).await.problem_fields(), vec!["code"]);
    // The code the confirmation used is spent.
    assert_eq!(off(earlier).await.problem_fields(), vec!["code"]);
    let done = off(now).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    assert_eq!(
        app.get("/api/v1/me", &who).await.json["user"]["totp_enabled"],
        false
    );
    off(totp_code(&secret, 1).await)
        .await
        .problem(StatusCode::CONFLICT);
    app.as_user("kent.tasking").await;
}

/// When an organisation requires a second factor, its people without one sign in but
/// can only set one up; turning it off is refused.
async fn an_organisation_that_requires_it_gates_people_until_they_set_it_up(app: &TestApp) {
    let admin = app.as_user("mps.admin").await;
    let analyst = app.as_user("mps.analyst").await;
    let set = app
        .call(
            Method::PUT,
            "/api/v1/organisations/mps/sign-in-policy",
            &admin,
            Some(json!({ "require_totp": true })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["require_totp"], true);

    // Sessions already open are gated at once, the administrator's too.
    for who in [&analyst, &admin] {
        let gated = app.get("/api/v1/organisations", who).await;
        assert_eq!(
            gated.problem(StatusCode::FORBIDDEN)["type"],
            "/problems/totp-enrolment-required"
        );
    }
    let me = app.get("/api/v1/me", &analyst).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["sign_in_policy"]["require_totp"], true);
    assert_eq!(me.json["user"]["totp_enabled"], false);
    // A new sign-in starts a session, gated the same way.
    let fresh = app.as_user("mps.analyst").await;
    app.get("/api/v1/requests", &fresh)
        .await
        .problem(StatusCode::FORBIDDEN);

    // The home page says why.
    let home = app.get("/", &fresh).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.text
            .contains("Your organisation requires a security code"),
        "{}",
        home.text
    );

    let secret = start(app, &fresh, "mps.analyst").await;
    let confirmed = confirm(app, &fresh, &totp_code(&secret, 0).await).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(
        app.get("/api/v1/organisations", &fresh).await.status,
        StatusCode::OK
    );
    let off = app
        .call(
            Method::DELETE,
            "/api/v1/me/totp",
            &fresh,
            Some(json!({ "code": totp_code(&secret, 1).await })),
        )
        .await;
    let problem = off.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("requires two-factor sign-in")),
        "{problem}"
    );
    // Others are untouched.
    let other = app.as_user("wmp.tasking").await;
    assert_eq!(
        app.get("/api/v1/organisations", &other).await.status,
        StatusCode::OK
    );
}

/// Only the organisation's administrators and national agency administrators set its
/// policy; another organisation's is not there for them.
async fn only_administrators_in_scope_set_the_sign_in_policy(app: &TestApp) {
    let policy = |org: &str| format!("/api/v1/organisations/{org}/sign-in-policy");
    let body = Some(json!({ "require_totp": true }));
    let mps_admin = app.as_user("mps.admin").await;
    app.call(
        Method::PUT,
        &policy("west-midlands"),
        &mps_admin,
        body.clone(),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let tasking = app.as_user("mps.tasking").await;
    app.call(Method::PUT, &policy("mps"), &tasking, body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    let nca_admin = app.as_user("nca.admin").await;
    app.call(Method::PUT, &policy("atlantis"), &nca_admin, body.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    app.call(
        Method::PUT,
        &policy("west-midlands"),
        &nca_admin,
        Some(json!({ "require_totp": "yes" })),
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    let set = app
        .call(Method::PUT, &policy("west-midlands"), &nca_admin, body)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let wmp = concordat_domain::registry::OrgCode::parse("west-midlands").expect("valid");
    assert!(
        app.store
            .sign_in_policy(&wmp)
            .await
            .expect("reads")
            .require_totp
    );
    let entries = app
        .store
        .audit_entries(&concordat_store::AuditFilter {
            record_kind: Some("organisation".to_owned()),
            record_id: Some("west-midlands".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "organisation.sign-in-policy");
}

/// An administrator resets a lost authenticator; the person signs in with their
/// password alone again.
async fn an_administrator_resets_a_lost_authenticator(app: &TestApp) {
    with_totp(app, "wmp.case").await;
    let id = app
        .store
        .user_by_username(&Username::parse("wmp.case").expect("valid"))
        .await
        .expect("reads")
        .expect("exists")
        .user
        .id;
    let path = format!("/api/v1/users/{id}/totp");
    let mps_admin = app.as_user("mps.admin").await;
    app.call(Method::DELETE, &path, &mps_admin, None)
        .await
        .problem(StatusCode::NOT_FOUND);
    let tasking = app.as_user("mps.tasking").await;
    app.call(Method::DELETE, &path, &tasking, None)
        .await
        .problem(StatusCode::FORBIDDEN);
    let nca_admin = app.as_user("nca.admin").await;
    let reset = app.call(Method::DELETE, &path, &nca_admin, None).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.json["totp_enabled"], false);
    app.as_user("wmp.case").await;
    let entries = app
        .store
        .audit_entries(&concordat_store::AuditFilter {
            record_kind: Some("user".to_owned()),
            record_id: Some(id.to_string()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert!(entries.iter().any(|e| e.action == "user.totp-reset"));
}

stories!(
    a_user_sets_up_a_security_code_and_signs_in_with_it,
    a_wrong_code_counts_toward_the_lockout,
    wrong_codes_lock_the_account,
    one_step_of_skew_is_accepted_and_two_are_not,
    a_user_turns_the_second_factor_off_with_a_code,
    an_organisation_that_requires_it_gates_people_until_they_set_it_up,
    only_administrators_in_scope_set_the_sign_in_policy,
    an_administrator_resets_a_lost_authenticator,
);
