//! Single sign-on with OpenID Connect against a real, local identity provider: a small
//! axum server on 127.0.0.1 with discovery, a JWKS, an authorisation endpoint that
//! sends the browser back with a code for the identity the story sets, and a token
//! endpoint that checks the PKCE verifier and the client secret and returns an RS256
//! ID token. Each story can make the provider misbehave (wrong audience, expired,
//! wrong nonce, tampered signature) and checks that no session starts.

use crate::helpers::{Response, TestApp, Who, totp_code, with_totp};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Redirect};
use concordat_domain::people::{Clearance, Role, Username};
use concordat_server::ServerConfig;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AdditionalClaims, Audience, EndUserUsername, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A throwaway 2048-bit RSA key (PKCS#1), made for these tests only.
const TEST_KEY: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA9TNuyUzHZIxBWZkSun7c7BsMx9jtqmmiGURPbHRqfXcqlABP
j9Va96CmNTbBNAtI0d+eH4CegCx/jAmK2nNPKWonWYSo4wJONvXxvh4GccLH98Rv
i0UKj6Z+D4ohYPpVwGCCjx2uAL/+BNZZEbonftpvBZkPZA32APT9OS1HMw+ECa/2
bCGQr5Ol8FC0p+i+zB847ycJWH7Pt1kZyVKp3VQ3im0eaP3NyYhrvBZcn2GXoSk4
sh8J5/5JP7lUIKQ6huRvynppZV1RYxvZGNidlJsXseCqAucA1JDXYM51d8ClAVQ/
78F4Q8SRU0UVSDXXtWczD9PZx+gZOTXVv2PQbwIDAQABAoIBADWGTq6+heAbBcDr
Oz1eqBcaKIYPgoHqoSnm0XeZSg2tT6wTDUsWhc78UIvZMf+MXw8BQ2EZEIBmNkl5
Y8gf163wsDpITR2QyUYSFf0sTLfUjxY02SyLm6yT6Xy26GZk/wcJijZ3gh5Dys1/
hN3rxudYA1gzezqaGZNH52btzVcFpKTMJEkkjattuynX9Ua+p9O5b5krHHmEHut7
lfV5zRWVL8SHNQ/R2el2i0bAi/10jaslUF46Be4/bTinEfyaI3ndgpQhlG2LWU7e
IMRvmSKuiBIe0NSMXb6P8rp8s9Uyun2DcbOeFMTZGIaxJ9lufLWSIqByb9syRyjY
sviiPsECgYEA/uorGZYZRF+lMe6lnfEvrZ6A8LO0i1wWrW7yRS76tYpeuTyw0DDf
uktejj6YnoBEAr2f/TF1BE0y/CuftkOoFx21/4VIoKH7NrkADd2mOd0y+/ClmE+3
b4Bh2+SnGDW+YWmgGhtY6YxaOWyYEtuydWp1T1fGIYTOUUXeS/ad/78CgYEA9j6t
ZHQ9ydNAr6OO+WPM9KW9bk0UH1kgOcSCbxX2tIXh0imtrNPR4sKevUrjcTXnThpr
SRxXD0x2j9LsOXr97SeGwiBmfd9EWRzb2FsUFXDDyW2TWBKmYe1nCnkM3+PfjdnO
t6bRIGXIX2uskf/jFOpe3THljxNIsb27dwHDW1ECgYEA82u9mINCwY3r+9B+CmKk
OtDfI/sW7vUTGq6VXwdLlUv6xDx2Q3hITGdodcDEkKa/Sza0rl0p9t+ZTkCCFNRq
kRhoEQa/odTMRSdIK/V6pErcQsU7/EQzUKBx0j94aJ/5mp/4qLVwpCTIi4ltdqSg
t4rfVtLkemGNewKTEkr/+ZUCgYAULzcPUOfvrz1SKFoD30Zhl2Rbsj3ABBI8Kft3
F5nNWlwUWg4+aG5/4+wXIBhco0p+gHPi3kvUmTPuvh9W5toBoofNSdKc5rw3gcIT
jgOrbj7eN/kn8v9ob4lOtnVztL4SZpQnQalKuo0eJTlUDmGSyVNVVk222KHQz/iZ
3K8iwQKBgFLNttmLHJpcap4dPYIqh29a50PR9LsK1rmda5HkNzdvYtN4bzJStz5T
QZ7C6GrhZnC8XxdlWhEJityoOh1yofhnQvVJYhowMrSssk2Xc7RHHQk1aUP1ah9w
kDE07SITbVwrXRnUQxOH82Z8/RkJXI3SFOndgXrN5iY+XRYqDe28
-----END RSA PRIVATE KEY-----
";

const CLIENT_ID: &str = "concordat";
const CLIENT_SECRET: &str = "idp-secret-123";
/// `Basic base64("concordat:idp-secret-123")`, as RFC 6749 §2.3.1 sends it.
const BASIC: &str = "Basic Y29uY29yZGF0OmlkcC1zZWNyZXQtMTIz";

/// How the provider spoils its next ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spoil {
    Nothing,
    WrongAudience,
    Expired,
    WrongNonce,
    TamperedSignature,
    SignedByAnotherKey,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extra(HashMap<String, Value>);
impl AdditionalClaims for Extra {}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    identity: Identity,
}

#[derive(Debug, Clone)]
struct Identity {
    sub: String,
    username: String,
    extra: HashMap<String, Value>,
}

struct Provider {
    issuer: String,
    identity: Identity,
    spoil: Spoil,
    grants: HashMap<String, Grant>,
    token_calls: usize,
}

type Shared = Arc<Mutex<Provider>>;

/// A running local identity provider.
struct Idp {
    issuer: String,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Idp {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(Provider {
            issuer: issuer.clone(),
            identity: identity("sub-1", "ann.sso", &["ccu-officers"]),
            spoil: Spoil::Nothing,
            grants: HashMap::new(),
            token_calls: 0,
        }));
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(discovery),
            )
            .route("/jwks", axum::routing::get(jwks))
            .route("/authorize", axum::routing::get(authorize))
            .route("/token", axum::routing::post(token))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            issuer,
            state,
            task,
        }
    }

    fn will_vouch_for(&self, identity: Identity) {
        self.state.lock().expect("lock").identity = identity;
    }

    fn spoil(&self, spoil: Spoil) {
        self.state.lock().expect("lock").spoil = spoil;
    }

    fn token_calls(&self) -> usize {
        self.state.lock().expect("lock").token_calls
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn identity(sub: &str, username: &str, roles: &[&str]) -> Identity {
    Identity {
        sub: sub.to_owned(),
        username: username.to_owned(),
        extra: HashMap::from([
            ("roles".to_owned(), json!(roles)),
            ("name".to_owned(), json!(format!("Officer {username}"))),
        ]),
    }
}

fn key() -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(TEST_KEY, Some(JsonWebKeyId::new("test-key".into())))
        .expect("test key")
}

async fn discovery(State(state): State<Shared>) -> axum::Json<Value> {
    let issuer = state.lock().expect("lock").issuer.clone();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> axum::Json<JsonWebKeySet<CoreJsonWebKey>> {
    axum::Json(JsonWebKeySet::new(vec![key().as_verification_key()]))
}

async fn authorize(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return (AxumStatus::BAD_REQUEST, "bad authorisation request").into_response();
    }
    let code = format!("code-{}", uuid::Uuid::new_v4());
    let mut p = state.lock().expect("lock");
    let identity = p.identity.clone();
    p.grants.insert(
        code.clone(),
        Grant {
            nonce: get("nonce"),
            challenge: get("code_challenge"),
            redirect_uri: get("redirect_uri"),
            identity,
        },
    );
    let back = format!("{}?code={code}&state={}", get("redirect_uri"), get("state"));
    Redirect::to(&back).into_response()
}

async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let refuse = |why: &str| {
        (
            AxumStatus::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_grant", "error_description": why })),
        )
            .into_response()
    };
    let mut p = state.lock().expect("lock");
    p.token_calls += 1;
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(BASIC) {
        return (
            AxumStatus::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "authorization_code" {
        return refuse("grant type");
    }
    // A code is good once: it is removed as it is used.
    let Some(grant) = p.grants.remove(&get("code")) else {
        return refuse("unknown or used code");
    };
    if grant.redirect_uri != get("redirect_uri") {
        return refuse("redirect_uri");
    }
    let verifier = PkceCodeVerifier::new(get("code_verifier"));
    if PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str() != grant.challenge {
        return refuse("PKCE verifier");
    }
    let now = chrono::Utc::now();
    let (audience, expires, nonce) = match p.spoil {
        Spoil::WrongAudience => (
            "someone-else".to_owned(),
            now + chrono::Duration::minutes(5),
            grant.nonce,
        ),
        Spoil::Expired => (
            CLIENT_ID.to_owned(),
            now - chrono::Duration::minutes(5),
            grant.nonce,
        ),
        Spoil::WrongNonce => (
            CLIENT_ID.to_owned(),
            now + chrono::Duration::minutes(5),
            "not-the-nonce".to_owned(),
        ),
        _ => (
            CLIENT_ID.to_owned(),
            now + chrono::Duration::minutes(5),
            grant.nonce,
        ),
    };
    let identity = grant.identity;
    let claims = IdTokenClaims::new(
        IssuerUrl::new(p.issuer.clone()).expect("issuer"),
        vec![Audience::new(audience)],
        expires,
        now,
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(identity.sub))
            .set_preferred_username(Some(EndUserUsername::new(identity.username))),
        Extra(identity.extra),
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let signing = if p.spoil == Spoil::SignedByAnotherKey {
        CoreRsaPrivateSigningKey::from_pem(OTHER_KEY, Some(JsonWebKeyId::new("test-key".into())))
            .expect("other key")
    } else {
        key()
    };
    let token: IdToken<
        Extra,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    > = IdToken::new(
        claims,
        &signing,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .expect("signs");
    let mut raw = token.to_string();
    if p.spoil == Spoil::TamperedSignature {
        // One character of the signature changed (not the last, whose low bits may
        // be padding).
        let mut parts: Vec<String> = raw.split('.').map(str::to_owned).collect();
        let mut signature: Vec<char> = parts[2].chars().collect();
        signature[10] = if signature[10] == 'A' { 'B' } else { 'A' };
        parts[2] = signature.into_iter().collect();
        raw = parts.join(".");
    }
    axum::Json(json!({
        "access_token": "at-1",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": raw,
    }))
    .into_response()
}

/// A second throwaway key the provider does not publish.
const OTHER_KEY: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAu6kEUb1RF3hrkx8nucS7Esuqj5Zb28X65+Zbh1I4FvPsZiLV
lpb0Xb/VO9fa9dATCn5Js0hUri6ubBjLSnWfCg/afR2jUaeG0h2XwIvltH7IuzCQ
IpBOUEMbWvjsUNWdUsXEVToQM66T4ncPa2jfLWcYiy4xvCwExSCBrxIqxWgJhvcq
hbV/tQviiVAVoWq6w+BJSj11qouPJlW7i3P8K9j3mhef+BNA9EgvX43UwfjnwUwn
H3R/9Bvx6kqNRpV0nSgci412D2WtFDyUahJZAoglcyuBZ6NJ2W0liIeaGpktxplq
z5tDT6SVFpyTJjd118vfhI8euK3p4a7NhstGyQIDAQABAoIBADh/LYQ4VVoWEHj2
B703W8TQWTSqZVRYme3IHeUzHRzX6eNj+F7CaqZw0w8VsN+RebIOjDyz+X6JIkz7
9/QeTje2xyYkzp8OKxpF+4Jl+81n4CHvAG3PeSxTz8AHMgoyDY+2Z6Hq/aa5l981
zggdxhcCs1JvoVyP+g2o+DIPa54LbI321gE/ui17sEwxmvGemIsE3SRROwcX+mYk
1Apvk+Yx7Zdh/qwEAtapO8ZYGnHHWwopEe9b5qQpv+A2xXC8pxMr0ZBSWfMAEcBG
oGYQ3zn94IQH8XWTsh23cbcD1kXzqygZuLUBe+w/tqsh91pkqxBACbOQvHU705ee
td4O1qsCgYEA6rPJh6pQAuNZO5zn/kbMLtDp+oh5i8mKV16g9V8Xr+OLV8z4Wij7
5Hozgq634z5ojWOn47QCEPnyse0aWfE5UVJ47sNL1Faa/WGfIA20gme++q26Z8ut
7fxYAB9g8SepdOJCKGOGiMFDsKFkphc1pJDptFfB6M+6zub2s373+ksCgYEAzLBt
NO7gCS2dA0r37bBZm/i0aAeO/2tf9CkAYfBynD/R5iJBY6n2HXgF9+r4lsajz6Um
qmve7dgkfNkT0Omnk3R6RVlmhawTf3JBRcWsXVzwnfGOiJh/pgxhr4JKAZOKKQlV
bQ+gVRiulji8CTWYD2bGOLMuy0UqIkjvG9FPFrsCgYEAsofoOOZ4znmaGxqT7nx0
PPh1wzmlG4xHS4aT8ZJQNl9kU3l7QToDwhyiqjm1b4q9hS/VOgRnvfojfuzZKqmv
7AhMLXMpb3AhnbRwkrVaJgg84frc3K+2sl1No2o7F7YP1PV3Vbm/UK+Sif16zkzB
ZVlGLQTEYBAEDfbqmkdu4lkCgYEAinHeO4pCQBL4+ywuyzaXNXafVymdn8bZbMR6
vMOsUWCdMOIEhkuD6uSubMQiBaEvVRfoMiap7wddjpAo5gnTzVlgBh30yP7dZTs7
SNztu2xMVxf2Bw/WbtI7FEG0mqJXNXBZtl12XXhHRdXz4Oq+AdTKx7jyMoyCdhQM
ni0RKFcCgYAr7RRN2TxYEWigIfk9+KyMFhqkbgYUks3lA3b4ETUOkmvgwu/t9RgB
j1xZkxFcywwE9ulDDnmUTd2uDreeM1xEVeiYqGrEKxpTS0buX540eIxSsQEuh32W
VePhWg28N25OCvB62ClYYTkBFrooyRQo3pEEGyyHBDwFGaaLQo0S+A==
-----END RSA PRIVATE KEY-----
";

/// The server the stories run on: it allows a plain-HTTP provider (the local one).
fn config() -> concordat_server::ServerConfig {
    concordat_server::ServerConfig {
        allow_http_identity_providers: true,
        ..concordat_server::ServerConfig::default()
    }
}

const SSO_COOKIE: &str = "__Host-concordat_sso";

fn cookie_pair(response: &Response, name: &str) -> Option<String> {
    response
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")) && !c.starts_with(&format!("{name}=;")))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

fn location(response: &Response) -> String {
    response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}: {}", response.status, response.text))
        .to_owned()
}

async fn browse(app: &TestApp, url: &str, cookie: Option<&str>) -> Response {
    let mut request = app.client.get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    Response::from_reqwest(request.send().await.expect("answers")).await
}

/// What a browser saw on the way back from the provider.
struct Returned {
    callback: String,
    cookie: String,
    response: Response,
}

/// Starts a single sign-on to `org` and follows the provider back to Concordat.
async fn sign_in_through(app: &TestApp, org: &str) -> Returned {
    let started = browse(app, &app.url(&format!("/sign-in/sso/{org}")), None).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
    let cookie = cookie_pair(&started, SSO_COOKIE).expect("the flow's cookie");
    let at_provider = browse(app, &location(&started), None).await;
    let callback = location(&at_provider);
    assert!(
        callback.starts_with(&app.url("/sign-in/sso/callback?")),
        "{callback}"
    );
    let response = browse(app, &callback, Some(&cookie)).await;
    Returned {
        callback,
        cookie,
        response,
    }
}

/// The session the response started, as a browser would hold it.
fn session_of(response: &Response) -> Option<Who> {
    response
        .session_cookie()
        .map(|cookie| Who::SessionWithoutCsrf { cookie })
}

async fn configure(app: &TestApp, admin: &Who, org: &str, issuer: &str, more: Value) -> Response {
    let mut body = json!({
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "role_claim": "roles",
        "role_map": {
            "ccu-officers": ["tasking-officer", "analyst"],
            "ccu-admins": ["administrator"],
        },
        "provisioning": "just-in-time",
    });
    if let (Some(body), Some(more)) = (body.as_object_mut(), more.as_object()) {
        for (k, v) in more {
            body.insert(k.clone(), v.clone());
        }
    }
    let path = format!("/api/v1/organisations/{org}/identity-provider");
    app.call(Method::PUT, &path, admin, Some(body)).await
}

async fn stored_user(app: &TestApp, name: &str) -> Option<concordat_domain::people::User> {
    app.store
        .user_by_username(&Username::parse(name).expect("valid"))
        .await
        .expect("reads")
        .map(|a| a.user)
}

fn refused(returned: &Returned, status: StatusCode, says: &str) {
    let r = &returned.response;
    assert_eq!(r.status, status, "{}", r.text);
    assert!(session_of(r).is_none(), "no session: {:?}", r.set_cookies());
    assert!(r.text.contains(says), "expected {says:?} in {}", r.text);
}

async fn a_first_sign_in_provisions_the_user_and_the_next_updates_their_roles(app: &TestApp) {
    let idp = Idp::start().await;
    let admin = app.as_user("mps.admin").await;
    let set = configure(app, &admin, "mps", &idp.issuer, json!({})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);

    let page = app.get("/sign-in", &Who::Nobody).await;
    assert!(
        page.text.contains("href=\"/sign-in/sso/mps\""),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("Sign in with Metropolitan Police Service"),
        "{}",
        page.text
    );

    let first = sign_in_through(app, "mps").await;
    assert_eq!(
        first.response.status,
        StatusCode::SEE_OTHER,
        "{}",
        first.response.text
    );
    assert_eq!(location(&first.response), "/");
    let who = session_of(&first.response).expect("a session");
    let me = app.get("/api/v1/me", &who).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["user"]["username"], "ann.sso");
    assert_eq!(me.json["user"]["organisation"], "mps");
    assert_eq!(
        me.json["user"]["roles"],
        json!(["tasking-officer", "analyst"])
    );
    assert_eq!(
        me.json["user"]["clearance"], "bpss",
        "vetting never comes from the provider"
    );
    assert_eq!(me.json["user"]["display_name"], "Officer ann.sso");
    // The flow's cookie is spent and cleared.
    assert!(
        first
            .response
            .set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("{SSO_COOKIE}=;")))
    );

    // The same answer again (a replayed code and state) finds nothing to finish.
    let replayed = browse(app, &first.callback, Some(&first.cookie)).await;
    assert_eq!(
        replayed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        replayed.text
    );
    assert!(session_of(&replayed).is_none());
    assert!(replayed.text.contains("expired or was already used"));

    // Next time the provider says they administer: roles are replaced, and recorded.
    idp.will_vouch_for(identity("sub-1", "ann.sso", &["ccu-admins"]));
    let second = sign_in_through(app, "mps").await;
    assert!(
        session_of(&second.response).is_some(),
        "{}",
        second.response.text
    );
    let user = stored_user(app, "ann.sso").await.expect("exists");
    assert_eq!(
        user.roles.iter().collect::<Vec<_>>(),
        vec![Role::Administrator]
    );
    assert_eq!(user.clearance, Clearance::Bpss);
    let auditor = app.as_user("nca.admin").await;
    let audit = app
        .get(
            &format!("/api/v1/audit?record_kind=user&record_id={}", user.id),
            &auditor,
        )
        .await;
    assert!(audit.text.contains("user.roles-from-sso"), "{}", audit.text);
    assert!(audit.text.contains("session.sso-verified"));
    assert!(
        !audit.text.contains(CLIENT_SECRET),
        "the secret is never recorded"
    );
}

async fn a_state_that_is_not_this_browsers_is_refused(app: &TestApp) {
    let idp = Idp::start().await;
    let admin = app.as_user("mps.admin").await;
    configure(app, &admin, "mps", &idp.issuer, json!({})).await;
    let started = browse(app, &app.url("/sign-in/sso/mps"), None).await;
    let cookie = cookie_pair(&started, SSO_COOKIE).expect("cookie");
    let at_provider = browse(app, &location(&started), None).await;
    let callback = location(&at_provider);
    let (before, _) = callback.split_once("&state=").expect("a state");
    let forged = browse(app, &format!("{before}&state=not-the-state"), Some(&cookie)).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.text);
    assert!(session_of(&forged).is_none());
    // Without the browser's cookie (a link sent to someone else), nothing either.
    let elsewhere = browse(app, &callback, None).await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert!(session_of(&elsewhere).is_none());
    assert_eq!(idp.token_calls(), 0, "no code was exchanged");
    assert!(stored_user(app, "ann.sso").await.is_none());
}

async fn spoiled_id_tokens_are_refused_without_a_session(app: &TestApp) {
    let idp = Idp::start().await;
    let admin = app.as_user("mps.admin").await;
    configure(app, &admin, "mps", &idp.issuer, json!({})).await;
    for spoil in [
        Spoil::WrongAudience,
        Spoil::Expired,
        Spoil::WrongNonce,
        Spoil::TamperedSignature,
        Spoil::SignedByAnotherKey,
    ] {
        idp.spoil(spoil);
        let returned = sign_in_through(app, "mps").await;
        refused(
            &returned,
            StatusCode::UNAUTHORIZED,
            "did not answer as expected",
        );
        assert!(!returned.response.status.is_server_error(), "{spoil:?}");
        assert!(stored_user(app, "ann.sso").await.is_none(), "{spoil:?}");
    }
    idp.spoil(Spoil::Nothing);
    let fine = sign_in_through(app, "mps").await;
    assert!(
        session_of(&fine.response).is_some(),
        "{}",
        fine.response.text
    );
}

async fn the_organisation_is_the_providers_never_a_claims(app: &TestApp) {
    let a = Idp::start().await;
    let b = Idp::start().await;
    let nca_admin = app.as_user("nca.admin").await;
    let mps_admin = app.as_user("mps.admin").await;
    configure(app, &mps_admin, "mps", &a.issuer, json!({})).await;
    let set_b = configure(
        app,
        &nca_admin,
        "west-midlands",
        &b.issuer,
        json!({ "organisation_claim": "org" }),
    )
    .await;
    assert_eq!(set_b.status, StatusCode::OK, "{}", set_b.text);

    // A's person claims to be of West Midlands: they land in A's organisation.
    let mut claims_wmp = identity("sub-1", "ann.sso", &["ccu-officers"]);
    claims_wmp
        .extra
        .insert("org".into(), json!("west-midlands"));
    a.will_vouch_for(claims_wmp);
    let landed = sign_in_through(app, "mps").await;
    assert!(session_of(&landed.response).is_some());
    assert_eq!(
        stored_user(app, "ann.sso")
            .await
            .expect("made")
            .organisation
            .as_str(),
        "mps"
    );

    // B's provider vouching for someone its organisation claim puts elsewhere: refused.
    let mut claims_mps = identity("sub-7", "bob.sso", &["ccu-officers"]);
    claims_mps.extra.insert("org".into(), json!("mps"));
    b.will_vouch_for(claims_mps);
    let elsewhere = sign_in_through(app, "west-midlands").await;
    refused(
        &elsewhere,
        StatusCode::FORBIDDEN,
        "belong to another organisation",
    );
    assert!(stored_user(app, "bob.sso").await.is_none());

    // A username of another organisation cannot be taken over through B.
    let mut taker = identity("sub-8", "mps.tasking", &["ccu-officers"]);
    taker.extra.insert("org".into(), json!("west-midlands"));
    b.will_vouch_for(taker);
    let takeover = sign_in_through(app, "west-midlands").await;
    refused(
        &takeover,
        StatusCode::FORBIDDEN,
        "belongs to another organisation",
    );

    // West Midlands pointing at A's issuer still cannot reach A's linked person.
    configure(app, &nca_admin, "west-midlands", &a.issuer, json!({})).await;
    a.will_vouch_for(identity("sub-1", "ann.sso", &["ccu-officers"]));
    let linked = sign_in_through(app, "west-midlands").await;
    refused(
        &linked,
        StatusCode::FORBIDDEN,
        "linked to an account of another organisation",
    );
}

async fn disabled_users_and_users_without_a_role_are_refused(app: &TestApp) {
    let idp = Idp::start().await;
    let admin = app.as_user("mps.admin").await;
    configure(
        app,
        &admin,
        "mps",
        &idp.issuer,
        json!({ "provisioning": "existing-only" }),
    )
    .await;

    // An existing account is found by username and linked; its roles come from the claims.
    idp.will_vouch_for(identity("sub-2", "mps.tasking", &["ccu-officers"]));
    let linked = sign_in_through(app, "mps").await;
    assert!(
        session_of(&linked.response).is_some(),
        "{}",
        linked.response.text
    );
    let user = stored_user(app, "mps.tasking").await.expect("exists");
    assert!(user.has_role(Role::Analyst) && user.has_role(Role::TaskingOfficer));
    assert_eq!(user.clearance, Clearance::Sc, "the recorded vetting stays");

    idp.will_vouch_for(identity("sub-2", "mps.tasking", &["canteen"]));
    let no_role = sign_in_through(app, "mps").await;
    refused(&no_role, StatusCode::FORBIDDEN, "no role in Concordat");

    idp.will_vouch_for(identity("sub-3", "new.person", &["ccu-officers"]));
    let unknown = sign_in_through(app, "mps").await;
    refused(
        &unknown,
        StatusCode::FORBIDDEN,
        "do not have a Concordat account",
    );
    assert!(stored_user(app, "new.person").await.is_none());

    let disable = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/disable", user.id),
            &admin,
            None,
        )
        .await;
    assert_eq!(disable.status, StatusCode::OK, "{}", disable.text);
    idp.will_vouch_for(identity("sub-2", "mps.tasking", &["ccu-officers"]));
    let disabled = sign_in_through(app, "mps").await;
    refused(&disabled, StatusCode::FORBIDDEN, "disabled");
}

async fn an_account_with_a_security_code_still_gives_it(app: &TestApp) {
    let idp = Idp::start().await;
    let admin = app.as_user("mps.admin").await;
    configure(app, &admin, "mps", &idp.issuer, json!({})).await;
    let secret = with_totp(app, "mps.analyst").await;
    idp.will_vouch_for(identity("sub-4", "mps.analyst", &["ccu-officers"]));
    let returned = sign_in_through(app, "mps").await;
    let asked = &returned.response;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
    assert!(session_of(asked).is_none(), "no session before the code");
    assert!(asked.text.contains("Enter your security code"));
    let post = |sso: String, csrf_cookie: String, csrf: String, code: String| async move {
        let response = app
            .client
            .post(app.url("/sign-in/sso/second-factor"))
            .header("cookie", format!("{sso}; {csrf_cookie}"))
            .form(&[("csrf_token", csrf.as_str()), ("totp", code.as_str())])
            .send()
            .await
            .expect("answers");
        Response::from_reqwest(response).await
    };
    let csrf_of = |r: &Response| {
        let start = r.text.find("name=\"csrf_token\" value=\"").expect("csrf") + 25;
        r.text[start..start + 64].to_owned()
    };
    let code = totp_code(&secret, 0).await;
    let wrong: String = code
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 5) % 10))
        .collect();
    let bad = post(
        cookie_pair(asked, SSO_COOKIE).expect("sso"),
        cookie_pair(asked, "concordat_sign_in_csrf").expect("csrf cookie"),
        csrf_of(asked),
        wrong,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{}", bad.text);
    assert!(session_of(&bad).is_none());
    let good = post(
        cookie_pair(&bad, SSO_COOKIE).expect("a new sso cookie"),
        cookie_pair(&bad, "concordat_sign_in_csrf").expect("csrf cookie"),
        csrf_of(&bad),
        code,
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.text);
    let who = session_of(&good).expect("a session");
    assert_eq!(
        app.get("/api/v1/me", &who).await.json["user"]["username"],
        "mps.analyst"
    );
    let user = app
        .store
        .user_by_username(&Username::parse("mps.analyst").expect("valid"))
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(
        user.failed_sign_ins, 0,
        "the wrong code was counted, then cleared"
    );
}

async fn administrators_manage_their_own_organisations_provider(app: &TestApp) {
    let idp = Idp::start().await;
    let path = "/api/v1/organisations/mps/identity-provider";
    let admin = app.as_user("mps.admin").await;
    let none = app.get(path, &admin).await;
    none.problem(StatusCode::NOT_FOUND);

    let missing_secret = configure(
        app,
        &admin,
        "mps",
        &idp.issuer,
        json!({ "client_secret": null }),
    )
    .await;
    missing_secret.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing_secret.problem_fields(), vec!["client_secret"]);
    let bad = configure(
        app,
        &admin,
        "mps",
        "ftp://nowhere",
        json!({ "role_map": {}, "role_claim": "" }),
    )
    .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.problem_fields(),
        vec!["issuer", "role_claim", "role_map"]
    );

    let set = configure(app, &admin, "mps", &idp.issuer, json!({})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let read = app.get(path, &admin).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(!read.text.contains(CLIENT_SECRET), "{}", read.text);
    assert_eq!(read.json["client_secret_set"], true);
    assert_eq!(read.json["scopes"], json!(["openid", "profile"]));
    assert_eq!(read.json["redirect_uri"], app.url("/sign-in/sso/callback"));
    assert!(read.json.get("client_secret").is_none());

    // Changing it without the secret keeps the stored one: sign-in still works.
    let kept = configure(
        app,
        &admin,
        "mps",
        &idp.issuer,
        json!({ "client_secret": null, "scopes": ["profile", "groups"] }),
    )
    .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert!(session_of(&sign_in_through(app, "mps").await.response).is_some());

    // Not an administrator: refused; another organisation's administrator: not there.
    let tasking = app.as_user("mps.tasking").await;
    app.get(path, &tasking).await.problem(StatusCode::FORBIDDEN);
    let wmp_admin = app
        .person(
            "wmp.admin",
            "west-midlands",
            &[Role::Administrator],
            Clearance::Sc,
        )
        .await;
    app.get(path, &wmp_admin)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.call(Method::DELETE, path, &wmp_admin, None)
        .await
        .problem(StatusCode::NOT_FOUND);
    configure(app, &wmp_admin, "mps", &idp.issuer, json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(path, &Who::Nobody)
        .await
        .problem(StatusCode::UNAUTHORIZED);

    let removed = app.call(Method::DELETE, path, &admin, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    app.get(path, &admin).await.problem(StatusCode::NOT_FOUND);
    let again = app.call(Method::DELETE, path, &admin, None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let page = app.get("/sign-in", &Who::Nobody).await;
    assert!(!page.text.contains("/sign-in/sso/mps"));
    let gone = browse(app, &app.url("/sign-in/sso/mps"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.text.contains("not set up"), "{}", gone.text);
}

crate::stories!(with config;
    a_first_sign_in_provisions_the_user_and_the_next_updates_their_roles,
    a_state_that_is_not_this_browsers_is_refused,
    spoiled_id_tokens_are_refused_without_a_session,
    the_organisation_is_the_providers_never_a_claims,
    disabled_users_and_users_without_a_role_are_refused,
    an_account_with_a_security_code_still_gives_it,
    administrators_manage_their_own_organisations_provider,
);

/// A server not started for development takes only https:// issuers.
async fn production_servers_take_only_https_issuers(app: &TestApp) {
    let admin = app.as_user("mps.admin").await;
    let refused = configure(app, &admin, "mps", "http://127.0.0.1:9", json!({})).await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem_fields(), vec!["issuer"]);
    let _ = ServerConfig::default();
}

crate::stories!(production_servers_take_only_https_issuers);
