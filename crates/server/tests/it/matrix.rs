//! The authorisation matrix: every documented route × every role × own or other
//! organisation × each vetting level, against a SECRET record of the own organisation,
//! asserting what the route table (`concordat_server::authz::ROUTES`) says: refused
//! (403), not found (404), or admitted. A route in the OpenAPI document without an
//! entry in the table fails this test.

use crate::helpers::{TestApp, Who};
use crate::stories;
use concordat_domain::direction::{
    Direction, DirectionId, DirectionRecipient, DirectionState, Instructions, TransportConsent,
};
use concordat_domain::handling::CASEWORK_ROLES;
use concordat_domain::people::{Clearance, Role};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_server::authz::{Callers, ROUTES, Target, rule_for};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The organisation party to every fixture record, and one that is not.
const OWN: &str = "west-midlands";
const OTHER: &str = "mps";
const CLEARANCES: [Clearance; 3] = [Clearance::Bpss, Clearance::Sc, Clearance::Dv];

/// What the table says a caller should meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past the authorisation layer: neither 401, 404, nor the layer's role refusal
    /// (a finer rule of the service, such as "only the receiver decides", may still
    /// refuse).
    Admitted,
    /// 403: the role may not.
    Refused,
    /// 404: the record does not exist for them.
    Hidden,
    /// 403 or 404: something that belongs to someone else.
    NotTheirs,
    /// Nothing beyond "no server error".
    Unchecked,
}

struct Caller {
    who: Who,
    role: Role,
    own: bool,
    clearance: Clearance,
}

async fn created(app: &TestApp, who: &Who, method: Method, path: &str, body: Value) -> Value {
    let answer = app.call(method, path, who, Some(body)).await;
    assert!(answer.status.is_success(), "{path}: {}", answer.text);
    answer.json
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// One SECRET record of each kind, owned by (or issued to) the own organisation, and
/// the identifiers every route's path needs.
async fn fixtures(app: &TestApp) -> HashMap<&'static str, String> {
    let creator = app
        .person(
            "m.creator",
            OWN,
            &[Role::Analyst, Role::TaskingOfficer, Role::CaseOfficer],
            Clearance::Sc,
        )
        .await;
    let secret = json!({ "classification": "secret" });
    let post = Method::POST;
    let subject = created(
        app,
        &creator,
        post.clone(),
        "/api/v1/subjects",
        json!({ "kind": "individual", "name": "Matrix subject", "designation": "standard",
                "basis": "Matrix", "marking": secret }),
    )
    .await;
    let request = created(
        app,
        &creator,
        post.clone(),
        "/api/v1/requests",
        json!({
            "title": "Matrix request", "kind": { "type": "assistance" }, "receiver": "nca",
            "threat_areas": ["firearms"],
            "geography": { "areas": [OWN], "international": false },
            "urgency": "routine", "case": "Matrix.", "marking": secret,
        }),
    )
    .await;
    let operation = created(
        app,
        &creator,
        post.clone(),
        "/api/v1/operations",
        json!({ "code_name": "Operation Matrix", "threat_areas": ["firearms"],
                "strands": ["pursue"], "subjects": [], "reason": "Matrix" }),
    )
    .await;
    let registration = created(
        app,
        &creator,
        post.clone(),
        "/api/v1/registrations",
        json!({
            "record": { "kind": "vehicle", "registration": "MX11 ABC" },
            "point_of_contact": { "name": "DS Matrix", "detail": "0121 000 0000" },
            "disclosure": "open", "marking": secret,
        }),
    )
    .await;
    // The same vehicle registered by another force: a hit between the two.
    let kent = app
        .person("m.kent", "kent", &[Role::CaseOfficer], Clearance::Sc)
        .await;
    let theirs = created(
        app,
        &kent,
        post.clone(),
        "/api/v1/registrations",
        json!({
            "record": { "kind": "vehicle", "registration": "MX11ABC" },
            "point_of_contact": { "name": "DC Kent", "detail": "01622 690690" },
            "disclosure": "open",
        }),
    )
    .await;
    let hit = id_of(&theirs["hits"][0]);
    let intelligence = created(
        app,
        &creator,
        post.clone(),
        "/api/v1/intelligence",
        json!({ "title": "Matrix report", "text": "Matrix.",
                "grading": { "system": "3x5x2", "source": "1", "intelligence": "A", "handling": { "code": "P" } },
                "marking": secret }),
    )
    .await;
    let share = created(
        app,
        &creator,
        post.clone(),
        &format!(
            "/api/v1/records/intelligence/{}/shares",
            id_of(&intelligence)
        ),
        json!({ "organisation": "kent", "reason": "Matrix",
                "expires_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339() }),
    )
    .await;
    let token = created(
        app,
        &creator,
        post.clone(),
        "/api/v1/tokens",
        json!({ "name": "matrix" }),
    )
    .await;
    let admin = app
        .person("m.admin", OWN, &[Role::Administrator], Clearance::Sc)
        .await;
    let webhook = created(
        app,
        &admin,
        post.clone(),
        &format!("/api/v1/organisations/{OWN}/webhooks"),
        json!({ "url": "http://127.0.0.1:9/matrix", "kinds": ["request-received"] }),
    )
    .await;
    let me = app.get("/api/v1/me", &creator).await.json;
    let creator_id = id_of(&me["user"]);

    // A direction issued to the own organisation, written to the store as the
    // directions stories' flow would leave it.
    let direction = Direction {
        id: DirectionId::new(),
        recipient: OrgCode::parse(OWN).expect("code"),
        recipient_kind: DirectionRecipient::EnglandAndWalesForce,
        request: None,
        instructions: Instructions::parse("Provide a surveillance team.").expect("valid"),
        needed_by: None,
        state: DirectionState::Issued,
        transport_consent: TransportConsent::NotRecorded,
        drafted_by: creator_id.parse().expect("id"),
        drafted_at: Timestamp::now(),
        issued_by: Some(creator_id.parse().expect("id")),
        issued_at: Some(Timestamp::now()),
        acknowledged_by: None,
        acknowledged_at: None,
        compliance_note: None,
    };
    let mut tx = app.store.write().await.expect("begin");
    tx.insert_direction(&direction).await.expect("direction");
    // An identity provider for the own organisation, so that reading it finds one.
    {
        use concordat_domain::sso::*;
        let provider = IdentityProvider {
            issuer: IssuerUrl::parse("https://idp.matrix.example", Transport::HttpsOnly)
                .expect("issuer"),
            client_id: ClientId::parse("concordat").expect("client"),
            client_secret: ClientSecret::parse("matrix-secret").expect("secret"),
            scopes: Scopes::standard(),
            role_claim: ClaimName::parse("roles").expect("claim"),
            role_map: RoleMap::parse_pairs(["ops=viewer"]).expect("map"),
            username_claim: ClaimName::parse("preferred_username").expect("claim"),
            organisation_claim: None,
            provisioning: Provisioning::ExistingOnly,
        };
        tx.put_identity_provider(&OrgCode::parse(OWN).expect("code"), &provider)
            .await
            .expect("provider");
    }
    tx.commit(concordat_domain::audit::AuditEntry::new(
        concordat_domain::audit::Actor::System,
        "story.direction",
    ))
    .await
    .expect("commit");
    for (kind, id) in [
        ("operation", id_of(&operation)),
        ("direction", direction.id.to_string()),
    ] {
        created(
            app,
            &creator,
            Method::PUT,
            &format!("/api/v1/records/{kind}/{id}/marking"),
            secret.clone(),
        )
        .await;
    }
    let mut ids = HashMap::new();
    ids.insert("subject", id_of(&subject));
    ids.insert("request", id_of(&request));
    ids.insert("operation", id_of(&operation));
    ids.insert("registration", id_of(&registration["registration"]));
    ids.insert("intelligence", id_of(&intelligence));
    ids.insert("direction", direction.id.to_string());
    ids.insert("share", id_of(&share));
    ids.insert("hit", hit);
    ids.insert("token", id_of(&token["token"]));
    ids.insert("user", creator_id);
    ids.insert("webhook", id_of(&webhook["webhook"]));
    ids
}

/// The path with its parameters filled from the fixtures.
fn fill(path: &str, target: Target, ids: &HashMap<&'static str, String>) -> String {
    let kind = match target {
        Target::Record(kind) => kind.as_str(),
        Target::AnyRecord => "intelligence",
        Target::Hit => "hit",
        // A collection of one kind (an export): the kind the fixtures hold most of.
        Target::None if path.contains("{kind}") => "intelligence",
        _ => "",
    };
    let id = if !kind.is_empty() {
        ids[kind].clone()
    } else if path.starts_with("/api/v1/users/") {
        ids["user"].clone()
    } else if path.starts_with("/api/v1/tokens/") {
        ids["token"].clone()
    } else if path.starts_with("/api/v1/shares/") {
        ids["share"].clone()
    } else if path.contains("/webhooks/") {
        ids["webhook"].clone()
    } else {
        // Notifications and hits: someone else's, or nobody's.
        uuid::Uuid::now_v7().to_string()
    };
    path.replace("{kind}", kind)
        .replace("{id}", &id)
        .replace("{code}", OWN)
}

fn expect(caller: &Caller, callers: Callers, target: Target) -> Expect {
    let role_allowed = match callers {
        Callers::Anyone | Callers::SignedIn => true,
        Callers::Roles(roles) => roles.contains(&caller.role),
    };
    match target {
        Target::None => {
            if role_allowed {
                Expect::Admitted
            } else {
                Expect::Refused
            }
        }
        // The hit is between the own organisation's SECRET registration and another
        // force's: the own side sees it as it sees its registration.
        Target::Record(_) | Target::AnyRecord | Target::Hit => {
            let sees = caller.own
                && caller
                    .clearance
                    .permits(concordat_domain::people::Classification::Secret)
                && CASEWORK_ROLES.contains(&caller.role);
            if !sees {
                Expect::Hidden
            } else if role_allowed {
                Expect::Admitted
            } else {
                Expect::Refused
            }
        }
        Target::Administered => {
            if !role_allowed {
                Expect::Refused
            } else if caller.own {
                Expect::Admitted
            } else {
                Expect::Hidden
            }
        }
        Target::Owned(_) => {
            if !role_allowed {
                Expect::Refused
            } else if caller.own {
                Expect::Unchecked
            } else {
                Expect::NotTheirs
            }
        }
    }
}

async fn every_route_answers_every_role_organisation_and_vetting_as_the_table_says(app: &TestApp) {
    let ids = fixtures(app).await;
    let mut callers = Vec::new();
    for role in Role::ALL.iter().copied() {
        for (own, org) in [(true, OWN), (false, OTHER)] {
            for clearance in CLEARANCES {
                let name = format!("m.{}.{org}.{clearance}", role.as_str());
                callers.push(Caller {
                    who: app.person(&name, org, &[role], clearance).await,
                    role,
                    own,
                    clearance,
                });
            }
        }
    }

    let openapi = concordat_server::openapi();
    let mut routes = Vec::new();
    for (path, item) in &openapi.paths.paths {
        for (method, op) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::DELETE, &item.delete),
            (Method::PATCH, &item.patch),
        ] {
            if op.is_some() {
                let rule = rule_for(&method, path)
                    .unwrap_or_else(|| panic!("{method} {path} has no authorisation rule"));
                routes.push((method, path.clone(), rule));
            }
        }
    }
    assert_eq!(
        routes.len(),
        ROUTES.len(),
        "every rule is for a documented route"
    );

    let mut cells = 0;
    let mut failures = Vec::new();
    for (method, path, rule) in &routes {
        // Signing in and out, and ending every session, are about the caller's own
        // credential: their stories cover them, and they would end the callers' tokens.
        if rule.callers == Callers::Anyone
            || path == "/api/v1/session"
            || path == "/api/v1/me/sessions"
        {
            continue;
        }
        let url = fill(path, rule.target, &ids);
        let body = (*method != Method::GET).then(|| json!({}));
        for caller in &callers {
            let expected = expect(caller, rule.callers, rule.target);
            // A live stream never ends by itself: its status is the answer.
            let (status, detail, text) = if path.ends_with("/stream") {
                let status = app.open(&url, &caller.who, &[]).await.status();
                (status, None, String::new())
            } else {
                let answer = app
                    .call(method.clone(), &url, &caller.who, body.clone())
                    .await;
                let detail = answer.json["detail"].as_str().map(str::to_owned);
                (answer.status, detail, answer.text)
            };
            cells += 1;
            let layer_refusal = status == StatusCode::FORBIDDEN
                && detail.is_some_and(|d| d.starts_with("this needs"));
            let ok = !status.is_server_error()
                && match expected {
                    Expect::Admitted => {
                        status != StatusCode::UNAUTHORIZED
                            && status != StatusCode::NOT_FOUND
                            && !layer_refusal
                    }
                    Expect::Refused => status == StatusCode::FORBIDDEN,
                    Expect::Hidden => status == StatusCode::NOT_FOUND,
                    Expect::NotTheirs => {
                        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND
                    }
                    Expect::Unchecked => true,
                };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {} of {} with {}: expected {expected:?}, got {status}: {}",
                    caller.role,
                    if caller.own { OWN } else { OTHER },
                    caller.clearance,
                    text.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells disagree with the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "authorisation matrix: {} routes x {} callers = {cells} cells",
        routes.len(),
        callers.len()
    );
}

stories!(every_route_answers_every_role_organisation_and_vetting_as_the_table_says);
