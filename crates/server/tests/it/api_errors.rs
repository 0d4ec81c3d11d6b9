//! What every client gets wrong, answered with problem details: no credentials,
//! broken bodies, unknown fields, oversize bodies, unknown routes.

use crate::helpers::{TestApp, Who};
use crate::stories;
use reqwest::{Method, StatusCode};

/// Every route in the OpenAPI document, as (method, path with sample parameters).
fn documented_routes() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(concordat_server::openapi()).expect("serialises");
    let mut routes = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let path = path
            .replace("{id}", "01930000-0000-7000-8000-000000000000")
            .replace("{code}", "mps");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.push((
                    Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                    path.clone(),
                ));
            }
        }
    }
    routes
}

async fn nothing_but_sign_in_health_and_the_api_document_answers_without_credentials(
    app: &TestApp,
) {
    let routes = documented_routes();
    assert!(routes.len() >= 15, "{routes:?}");
    for (method, path) in routes {
        if method == Method::POST && path == "/api/v1/session" {
            continue;
        }
        let response = app.call(method.clone(), &path, &Who::Nobody, None).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {}",
            response.text
        );
        response.problem(StatusCode::UNAUTHORIZED);
    }
    for open in [
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/sign-in",
        "/static/app.css",
    ] {
        assert_eq!(
            app.get(open, &Who::Nobody).await.status,
            StatusCode::OK,
            "{open}"
        );
    }
    // Pages send strangers to sign in.
    let home = app.get("/", &Who::Nobody).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers["location"], "/sign-in");
}

async fn the_api_document_is_openapi_3_1_and_covers_every_route(app: &TestApp) {
    let doc = app.get("/api/openapi.json", &Who::Nobody).await;
    assert!(
        doc.json["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    for path in [
        "/api/v1/session",
        "/api/v1/users",
        "/api/v1/tokens/{id}",
        "/api/v1/audit/verify",
        "/api/v1/organisations/{code}",
        "/api/v1/organisations/{code}/sign-in-policy",
        "/api/v1/me/totp",
        "/api/v1/me/totp/confirm",
        "/api/v1/users/{id}/totp",
    ] {
        assert!(doc.json["paths"].get(path).is_some(), "{path} undocumented");
    }
    for schema in ["Problem", "SignInPolicy", "TotpEnrolment", "TotpCodeBody"] {
        assert!(
            doc.json["components"]["schemas"].get(schema).is_some(),
            "{schema} missing"
        );
    }
}

async fn broken_bodies_are_answered_with_problems_naming_the_field(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    let send = |body: &'static str, content_type: &'static str| {
        let who = who.clone();
        async move {
            let r = app
                .send_raw("/api/v1/tokens", &who, content_type, body.to_owned())
                .await;
            (r.status, r.json, r.text)
        }
    };
    let (status, json, text) = send("{\"name\": ", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert_eq!(json["type"], "/problems/malformed-body");

    let (status, json, text) = send("{\"name\": \"x\", \"admin\": true}", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert_eq!(json["errors"][0]["field"], "admin", "{text}");

    let (status, json, text) = send("{\"name\": 42}", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert_eq!(json["errors"][0]["field"], "name", "{text}");

    let (status, json, text) = send("{}", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert_eq!(json["errors"][0]["field"], "name", "{text}");

    let (status, _, text) = send("{\"name\": \"\"}", "application/json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");

    let (status, json, _) = send("name=x", "application/x-www-form-urlencoded").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json["status"], 415);
}

async fn an_oversize_body_is_refused(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    // Just over the 64 KiB limit the test server runs with: small enough to sit whole in
    // the socket's buffers, so the client has finished writing when the server answers
    // 413 without reading it (a far larger body races the server closing the connection).
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(80 * 1024));
    let response = app
        .send_raw("/api/v1/tokens", &who, "application/json", big)
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.headers["content-type"], "application/problem+json");
    // Nothing was written.
    let tokens = app.get("/api/v1/tokens", &who).await;
    assert_eq!(tokens.json, serde_json::json!([]), "{}", tokens.text);
}

async fn unknown_routes_and_methods_are_problems_too(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    app.get("/api/v1/no-such-thing", &who)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.call(Method::PUT, "/api/v1/me", &who, None)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
    app.get("/api/v1/organisations/Not_A_Code", &who)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get("/api/v1/organisations?kind=pirates", &who)
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.get("/api/v1/tokens/not-a-uuid", &who)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
    let page = app.get("/no/such/page", &who).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text.contains("Page not found"));
}

async fn every_response_carries_the_security_headers_and_a_request_id(app: &TestApp) {
    for path in ["/healthz", "/sign-in", "/api/v1/me"] {
        let response = app.get(path, &Who::Nobody).await;
        let csp = response.headers["content-security-policy"]
            .to_str()
            .expect("text");
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(response.headers["x-content-type-options"], "nosniff");
        assert!(response.headers.contains_key("strict-transport-security"));
        assert!(response.headers.contains_key("x-request-id"), "{path}");
    }
}

stories!(
    nothing_but_sign_in_health_and_the_api_document_answers_without_credentials,
    the_api_document_is_openapi_3_1_and_covers_every_route,
    broken_bodies_are_answered_with_problems_naming_the_field,
    an_oversize_body_is_refused,
    unknown_routes_and_methods_are_problems_too,
    every_response_carries_the_security_headers_and_a_request_id,
);
