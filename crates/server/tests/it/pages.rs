//! The web pages: signing in and out with a form, CSRF on every form.

use crate::helpers::{PASSWORD, Response, TestApp, Who};
use crate::stories;
use reqwest::StatusCode;

async fn post_form(app: &TestApp, path: &str, cookies: &[&str], form: &[(&str, &str)]) -> Response {
    let response = app
        .client
        .post(app.url(path))
        .header("cookie", cookies.join("; "))
        .form(form)
        .send()
        .await
        .expect("answers");
    Response::from_reqwest(response).await
}

/// GET `path` as a browser holding `cookie` would.
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Response {
    let response = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("answers");
    Response::from_reqwest(response).await
}

fn hidden_csrf(html: &str) -> String {
    let start = html
        .find("name=\"csrf_token\" value=\"")
        .expect("a CSRF field")
        + 25;
    html[start..start + 64].to_owned()
}

fn cookie_pair(response: &Response, name: &str) -> String {
    response
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", response.set_cookies()))
}

async fn a_user_signs_in_with_the_form_and_out_again(app: &TestApp) {
    let page = app.get("/sign-in", &Who::Nobody).await;
    let csrf = hidden_csrf(&page.text);
    let csrf_cookie = cookie_pair(&page, "concordat_sign_in_csrf");

    // Without the cookie that matches the form's token, the form is refused.
    let forged = post_form(
        app,
        "/sign-in",
        &[],
        &[
            ("csrf_token", &csrf),
            ("username", "mps.tasking"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.session_cookie().is_none());

    // Missing fields come back with an error summary and the name kept.
    let empty = post_form(
        app,
        "/sign-in",
        &[&csrf_cookie],
        &[
            ("csrf_token", &csrf),
            ("username", "mps.tasking"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.text.contains("There is a problem") && empty.text.contains("Enter your password")
    );
    assert!(empty.text.contains("value=\"mps.tasking\""));

    let signed_in = post_form(
        app,
        "/sign-in",
        &[&csrf_cookie],
        &[
            ("csrf_token", &csrf),
            ("username", "mps.tasking"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    assert_eq!(signed_in.headers["location"], "/");
    let session = cookie_pair(&signed_in, "__Host-concordat_session");

    let home = get_with_cookie(app, "/", &session).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("mps.tasking") && home.text.contains("Metropolitan"));
    let session_csrf = hidden_csrf(&home.text);

    let no_token = post_form(app, "/sign-out", &[&session], &[]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let out = post_form(
        app,
        "/sign-out",
        &[&session],
        &[("csrf_token", &session_csrf)],
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = get_with_cookie(app, "/", &session).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

async fn user_input_is_escaped_on_the_page(app: &TestApp) {
    let page = app.get("/sign-in", &Who::Nobody).await;
    let csrf = hidden_csrf(&page.text);
    let csrf_cookie = cookie_pair(&page, "concordat_sign_in_csrf");
    let response = post_form(
        app,
        "/sign-in",
        &[&csrf_cookie],
        &[
            ("csrf_token", &csrf),
            ("username", "<script>alert(1)</script>"),
            ("password", ""),
        ],
    )
    .await;
    assert!(!response.text.contains("<script>alert(1)</script>"));
    assert!(response.text.contains("&lt;script&gt;") || response.text.contains("&#60;script&#62;"));
}

/// Every `<form method="post">` on `html`: its action, and whether it carries the
/// CSRF field.
fn post_forms(html: &str) -> Vec<(String, bool)> {
    html.split("<form")
        .skip(1)
        .filter_map(|form| {
            let form = &form[..form.find("</form>").unwrap_or(form.len())];
            if !form.contains("method=\"post\"") {
                return None;
            }
            let start = form.find("action=\"")? + 8;
            let action = form[start..].split('"').next()?.to_owned();
            Some((action, form.contains("name=\"csrf_token\"")))
        })
        .collect()
}

async fn every_state_changing_form_carries_and_checks_a_csrf_token(app: &TestApp) {
    let page = app.get("/sign-in", &Who::Nobody).await;
    let csrf = hidden_csrf(&page.text);
    let csrf_cookie = cookie_pair(&page, "concordat_sign_in_csrf");
    let signed_in = post_form(
        app,
        "/sign-in",
        &[&csrf_cookie],
        &[
            ("csrf_token", &csrf),
            ("username", "mps.tasking"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let session = cookie_pair(&signed_in, "__Host-concordat_session");
    let mut forms = post_forms(&page.text);
    for path in ["/", "/account/password"] {
        let page = get_with_cookie(app, path, &session).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        forms.extend(post_forms(&page.text));
    }
    forms.sort();
    forms.dedup();
    let actions: Vec<&str> = forms.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["/account/password", "/sign-in", "/sign-out"]);
    for (action, has_field) in &forms {
        assert!(has_field, "the form posting to {action} has no CSRF field");
        // Posted from another site: with the session (a browser sends it) but without
        // the token, or with a made-up one, the form is refused and nothing changes.
        for token in [None, Some("0".repeat(64))] {
            let mut fields = vec![
                ("current_password", PASSWORD.to_owned()),
                ("new_password", "a brand new passphrase 42".to_owned()),
                ("confirm_password", "a brand new passphrase 42".to_owned()),
            ];
            if let Some(token) = &token {
                fields.push(("csrf_token", token.clone()));
            }
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let forged = post_form(app, action, &[&session], &fields).await;
            assert_eq!(forged.status, StatusCode::FORBIDDEN, "{action} {token:?}");
        }
    }
    // The session survived every forged sign-out.
    let home = get_with_cookie(app, "/", &session).await;
    assert_eq!(home.status, StatusCode::OK);
}

/// The sign-in form takes the security code of an account with two-factor sign-in.
async fn a_user_with_a_security_code_signs_in_with_the_form(app: &TestApp) {
    let secret = crate::helpers::with_totp(app, "mps.tasking").await;
    let page = app.get("/sign-in", &Who::Nobody).await;
    assert!(page.text.contains("Security code"), "{}", page.text);
    let csrf = hidden_csrf(&page.text);
    let csrf_cookie = cookie_pair(&page, "concordat_sign_in_csrf");
    let attempt = |code: String| {
        let (csrf, csrf_cookie) = (csrf.clone(), csrf_cookie.clone());
        async move {
            post_form(
                app,
                "/sign-in",
                &[&csrf_cookie],
                &[
                    ("csrf_token", &csrf),
                    ("username", "mps.tasking"),
                    ("password", PASSWORD),
                    ("totp", &code),
                ],
            )
            .await
        }
    };
    let missing = attempt(String::new()).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.session_cookie().is_none());
    assert!(
        missing
            .text
            .contains("Enter the security code from your authenticator app"),
        "{}",
        missing.text
    );
    let malformed = attempt("12ab".to_owned()).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = crate::helpers::totp_code(&secret, 0).await;
    let signed_in = attempt(format!("{} {}", &code[..3], &code[3..])).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    assert!(signed_in.session_cookie().is_some());
    let replayed = attempt(code).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(
        replayed.text.contains("has been used already"),
        "{}",
        replayed.text
    );
}

stories!(
    a_user_with_a_security_code_signs_in_with_the_form,
    a_user_signs_in_with_the_form_and_out_again,
    user_input_is_escaped_on_the_page,
    every_state_changing_form_carries_and_checks_a_csrf_token,
);
