//! Directed tasking over HTTP (¶9, ¶11): who can be directed and when, who may draft,
//! issue, see and acknowledge a direction, and the record every step leaves.
//!
//! The voluntary requests that come before a direction are put in the store directly,
//! as the requests API would leave them.

use crate::helpers::{PASSWORD, Response, TestApp, Who};
use crate::stories;
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Role, Roles, UserId, Username,
};
use concordat_domain::registry::{OrgCode, ReferenceData};
use concordat_domain::tasking::{
    CaseText, Geography, Request, RequestEvent, RequestId, RequestKind, RequestState, RequestTitle,
    ResponseDeadlines, Sophistication, Urgency, route,
};
use concordat_domain::threat::{ThreatArea, ThreatAreas};
use concordat_domain::time::Timestamp;
use concordat_server::accounts::{self, AccountRequest};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The people of these stories, beyond the usual ones.
struct Cast {
    /// A senior decision-maker of the agency holding the Director General's delegated authority.
    director: Who,
    director_id: UserId,
    /// A senior decision-maker of the agency without it.
    senior: Who,
    /// The agency's tasking officer.
    agency_tasking: Who,
    /// Kent's tasking officer.
    kent_tasking: Who,
    kent_tasking_id: UserId,
    /// Essex's tasking officer.
    essex_tasking: Who,
    /// Kent's administrator, and nothing else.
    kent_admin: Who,
    /// The BTP's tasking officer.
    btp_tasking: Who,
    /// The agency's administrator, who reads the audit log.
    auditor: Who,
}

async fn person(
    app: &TestApp,
    username: &str,
    org: &str,
    roles: &[Role],
    dg_authority: DgAuthority,
) -> (Who, UserId) {
    let request = AccountRequest {
        username: Username::parse(username).expect("valid"),
        display_name: DisplayName::parse(username).expect("valid"),
        organisation: OrgCode::parse(org).expect("valid"),
        roles: Roles::new(roles.iter().copied()).expect("valid"),
        clearance: Clearance::Sc,
        dg_authority,
    };
    let password = NewPassword::parse(PASSWORD).expect("valid");
    let user = accounts::create_user_with_password(
        &app.store,
        Actor::System,
        "",
        request,
        &password,
        false,
    )
    .await
    .expect("story user");
    let (_, secret) = accounts::create_token(
        &app.store,
        Actor::System,
        "",
        user.id,
        "stories".to_owned(),
        None,
    )
    .await
    .expect("token");
    (Who::Bearer(secret), user.id)
}

async fn cast(app: &TestApp) -> Cast {
    use DgAuthority::{Delegated, None as NoAuthority};
    let (director, director_id) = person(
        app,
        "d.nca.director",
        "nca",
        &[Role::SeniorDecisionMaker],
        Delegated,
    )
    .await;
    let (senior, _) = person(
        app,
        "d.nca.senior",
        "nca",
        &[Role::SeniorDecisionMaker, Role::TaskingOfficer],
        NoAuthority,
    )
    .await;
    let (agency_tasking, _) = person(
        app,
        "d.nca.tasking",
        "nca-occ",
        &[Role::TaskingOfficer],
        NoAuthority,
    )
    .await;
    let (kent_tasking, kent_tasking_id) = person(
        app,
        "d.kent.tasking",
        "kent",
        &[Role::TaskingOfficer],
        NoAuthority,
    )
    .await;
    let (essex_tasking, _) = person(
        app,
        "d.essex.tasking",
        "essex",
        &[Role::TaskingOfficer],
        NoAuthority,
    )
    .await;
    let (kent_admin, _) = person(
        app,
        "d.kent.admin",
        "kent",
        &[Role::Administrator],
        NoAuthority,
    )
    .await;
    let (btp_tasking, _) = person(
        app,
        "d.btp.tasking",
        "btp",
        &[Role::TaskingOfficer],
        NoAuthority,
    )
    .await;
    let (auditor, _) = person(
        app,
        "d.nca.auditor",
        "nca",
        &[Role::Administrator],
        NoAuthority,
    )
    .await;
    Cast {
        director,
        director_id,
        senior,
        agency_tasking,
        kent_tasking,
        kent_tasking_id,
        essex_tasking,
        kent_admin,
        btp_tasking,
        auditor,
    }
}

/// What became of a voluntary request before the direction was drafted.
#[derive(Clone, Copy)]
enum Fate {
    Pending,
    Declined,
    Expired,
    Accepted,
}

/// Puts a submitted request from `requester` to `receiver` in the store, raised by
/// `by`, and moves it to `fate`. Returns it as stored.
async fn voluntary_request(
    app: &TestApp,
    requester: &str,
    receiver: &str,
    urgency: Urgency,
    fate: Fate,
    by: UserId,
) -> Request {
    let registry = ReferenceData::builtin().expect("registry");
    let code = |c: &str| OrgCode::parse(c).expect("code");
    let from = registry.organisation(&code(requester)).expect("requester");
    let to = registry.organisation(&code(receiver)).expect("receiver");
    let now = Timestamp::now();
    let request = Request {
        id: RequestId::new(),
        title: RequestTitle::parse("Surveillance on the Eastside group").expect("valid"),
        kind: RequestKind::Assistance,
        requester: from.code.clone(),
        receiver: to.code.clone(),
        route: route(&registry, from, to, None).expect("routed"),
        threat_areas: ThreatAreas::new([ThreatArea::Firearms]).expect("valid"),
        subjects: vec![],
        geography: Geography {
            areas: Default::default(),
            international: false,
        },
        sophistication: Sophistication::High,
        urgency,
        case: CaseText::parse("Three armed robberies since May.").expect("valid"),
        state: RequestState::Draft,
        raised_by: by,
        raised_at: now,
        submitted_at: None,
        respond_by: None,
        overdue: false,
    };
    let respond_by = now.plus(ResponseDeadlines::default().allowed(urgency));
    let mut tx = app.store.write().await.expect("begin");
    tx.insert_request(&request).await.expect("insert");
    let mut state = tx
        .move_request(
            request.id,
            RequestState::Draft,
            RequestEvent::Submit,
            Some(by),
            None,
            Some((now, respond_by)),
        )
        .await
        .expect("submit");
    let last = match fate {
        Fate::Pending => None,
        Fate::Declined => Some(RequestEvent::Decline),
        Fate::Expired => Some(RequestEvent::Expire),
        Fate::Accepted => Some(RequestEvent::Accept),
    };
    if let Some(event) = last {
        state = tx
            .move_request(request.id, state, event, Some(by), None, None)
            .await
            .expect("moved");
    }
    tx.commit(
        AuditEntry::new(Actor::System, "request.raise")
            .record(RecordRef::new("request", request.id)),
    )
    .await
    .expect("commit");
    Request {
        state,
        submitted_at: Some(now),
        respond_by: Some(respond_by),
        ..request
    }
}

/// A request from the agency that `recipient` declined.
async fn declined(app: &TestApp, cast: &Cast, recipient: &str) -> Request {
    voluntary_request(
        app,
        "nca",
        recipient,
        Urgency::Urgent,
        Fate::Declined,
        cast.director_id,
    )
    .await
}

async fn draft(app: &TestApp, who: &Who, body: Value) -> Response {
    app.call(Method::POST, "/api/v1/directions", who, Some(body))
        .await
}

async fn draft_to(
    app: &TestApp,
    cast: &Cast,
    recipient: &str,
    request: Option<&Request>,
) -> Response {
    let mut body =
        json!({ "recipient": recipient, "instructions": "Provide a surveillance team." });
    if let Some(request) = request {
        body["request"] = json!(request.id);
    }
    draft(app, &cast.director, body).await
}

/// Drafts a direction that must be allowed, and returns its id.
async fn drafted(app: &TestApp, cast: &Cast, recipient: &str, request: &Request) -> String {
    let response = draft_to(app, cast, recipient, Some(request)).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.json["state"], "drafted");
    response.json["id"].as_str().expect("id").to_owned()
}

async fn step(app: &TestApp, who: &Who, id: &str, what: &str, body: Option<Value>) -> Response {
    app.call(
        Method::POST,
        &format!("/api/v1/directions/{id}/{what}"),
        who,
        body,
    )
    .await
}

/// The (condition, paragraph) pairs of a refusal, after checking it is one.
fn refusals(response: &Response) -> Vec<(String, String)> {
    let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/refused", "{}", response.text);
    problem["refusals"]
        .as_array()
        .expect("refusals")
        .iter()
        .map(|r| {
            assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()));
            (
                r["condition"].as_str().expect("condition").to_owned(),
                r["paragraph"].as_str().expect("paragraph").to_owned(),
            )
        })
        .collect()
}

fn refused_for(condition: &str, paragraph: &str) -> Vec<(String, String)> {
    vec![(condition.to_owned(), paragraph.to_owned())]
}

/// ¶9: a force in England and Wales can be directed once its answer was no; the force
/// is told, acknowledges, and the outcome is recorded.
async fn a_force_in_england_and_wales_is_directed_told_and_acknowledges(app: &TestApp) {
    let cast = cast(app).await;
    let request = declined(app, &cast, "kent").await;
    let id = drafted(app, &cast, "kent", &request).await;
    let shown = app
        .get(&format!("/api/v1/directions/{id}"), &cast.director)
        .await;
    assert_eq!(shown.json["recipient_kind"], "england-and-wales-force");
    assert_eq!(shown.json["request"], json!(request.id));
    let issued = step(app, &cast.director, &id, "issue", None).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text);
    assert_eq!(issued.json["state"], "issued");
    assert!(issued.json["issued_at"].is_string());
    let told = app
        .store
        .notifications(cast.kent_tasking_id, concordat_store::InboxFilter::All)
        .await
        .expect("notifications");
    assert_eq!(told.len(), 1);
    assert_eq!(
        told[0].kind,
        concordat_domain::notification::NoticeKind::DirectionIssued
    );
    assert_eq!(told[0].record, format!("direction:{id}"));
    let again = step(app, &cast.director, &id, "issue", None).await;
    again.problem(StatusCode::CONFLICT);
    let acknowledged = step(app, &cast.kent_tasking, &id, "acknowledgement", None).await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.text);
    assert_eq!(acknowledged.json["state"], "acknowledged");
    let closed = step(
        app,
        &cast.director,
        &id,
        "compliance",
        Some(json!({ "outcome": "complied", "note": "Team deployed on 3 March." })),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.json["state"], "complied");
    assert_eq!(closed.json["compliance_note"], "Team deployed on 3 March.");
    let shown = app
        .get(&format!("/api/v1/directions/{id}"), &cast.kent_tasking)
        .await;
    let events: Vec<&str> = shown.json["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["event"].as_str().expect("event"))
        .collect();
    assert_eq!(events, ["draft", "issue", "acknowledge", "comply"]);
}

/// ¶9: the BTP only with the Secretary of State for Transport's consent, recorded before
/// issue; a refusal means it cannot be issued.
async fn the_btp_is_directed_only_with_the_transport_secretarys_consent(app: &TestApp) {
    let cast = cast(app).await;
    let request = declined(app, &cast, "btp").await;
    let id = drafted(app, &cast, "btp", &request).await;
    let without = step(app, &cast.director, &id, "issue", None).await;
    assert_eq!(refusals(&without), refused_for("consent", "¶9"));
    let asked = step(app, &cast.director, &id, "consent-request", None).await;
    assert_eq!(asked.json["state"], "consent-requested", "{}", asked.text);
    let awaiting = step(app, &cast.director, &id, "issue", None).await;
    assert_eq!(refusals(&awaiting), refused_for("consent", "¶9"));
    let given = step(
        app,
        &cast.director,
        &id,
        "consent",
        Some(json!({ "answer": "given", "note": "Letter of 3 March." })),
    )
    .await;
    assert_eq!(given.json["state"], "consent-given", "{}", given.text);
    assert_eq!(given.json["transport_consent"], "given");
    let issued = step(app, &cast.director, &id, "issue", None).await;
    assert_eq!(issued.json["state"], "issued", "{}", issued.text);

    let refused_id = drafted(app, &cast, "btp", &request).await;
    step(app, &cast.director, &refused_id, "consent-request", None).await;
    let refused = step(
        app,
        &cast.director,
        &refused_id,
        "consent",
        Some(json!({ "answer": "refused" })),
    )
    .await;
    assert_eq!(refused.json["state"], "consent-refused", "{}", refused.text);
    let blocked = step(app, &cast.director, &refused_id, "issue", None).await;
    assert_eq!(refusals(&blocked), refused_for("consent", "¶9"));
    assert!(blocked.text.contains("refused consent"), "{}", blocked.text);

    // A force needs no consent, so none is asked for.
    let kent = declined(app, &cast, "kent").await;
    let kent_id = drafted(app, &cast, "kent", &kent).await;
    let not_needed = step(app, &cast.director, &kent_id, "consent-request", None).await;
    assert_eq!(refusals(&not_needed), refused_for("consent", "¶9"));
    let bad = step(
        app,
        &cast.director,
        &refused_id,
        "consent",
        Some(json!({ "answer": "maybe" })),
    )
    .await;
    bad.problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad.problem_fields(), ["answer"]);
}

/// ¶11: Border Force and Immigration Enforcement only while the protocol between the
/// Home Secretary and the Director General is recorded as in force.
async fn border_functions_are_directed_only_while_the_protocol_is_in_force(app: &TestApp) {
    let cast = cast(app).await;
    let border = declined(app, &cast, "border-force").await;
    let immigration = declined(app, &cast, "immigration-enforcement").await;
    let none_yet = app.get("/api/v1/border-protocol", &cast.kent_tasking).await;
    assert_eq!(none_yet.json["state"], "not-in-force", "{}", none_yet.text);
    let refused = draft_to(app, &cast, "border-force", Some(&border)).await;
    assert_eq!(refusals(&refused), refused_for("protocol", "¶11"));

    let not_allowed = app
        .call(
            Method::POST,
            "/api/v1/border-protocol",
            &cast.senior,
            Some(json!({ "state": "in-force" })),
        )
        .await;
    not_allowed.problem(StatusCode::FORBIDDEN);
    let recorded = app
        .call(
            Method::POST,
            "/api/v1/border-protocol",
            &cast.director,
            Some(json!({ "state": "in-force", "note": "Protocol signed 1 April." })),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.text);
    let border_id = drafted(app, &cast, "border-force", &border).await;
    let immigration_id = drafted(app, &cast, "immigration-enforcement", &immigration).await;
    let shown = app
        .get(&format!("/api/v1/directions/{border_id}"), &cast.director)
        .await;
    assert_eq!(shown.json["recipient_kind"], "home-office-border-functions");
    let issued = step(app, &cast.director, &border_id, "issue", None).await;
    assert_eq!(issued.json["state"], "issued", "{}", issued.text);

    app.call(
        Method::POST,
        "/api/v1/border-protocol",
        &cast.director,
        Some(json!({ "state": "not-in-force", "note": "Protocol lapsed." })),
    )
    .await;
    let lapsed = step(app, &cast.director, &immigration_id, "issue", None).await;
    assert_eq!(refusals(&lapsed), refused_for("protocol", "¶11"));
    let protocol = app.get("/api/v1/border-protocol", &cast.director).await;
    assert_eq!(protocol.json["state"], "not-in-force");
    let records = protocol.json["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["note"], "Protocol lapsed.");
}

/// ¶9: directions reach only England and Wales forces, the BTP and (¶11) border
/// functions; never Scotland, Northern Ireland, the islands, other agencies or the
/// agency itself.
async fn scotland_northern_ireland_the_islands_other_agencies_and_the_agency_are_never_directed(
    app: &TestApp,
) {
    let cast = cast(app).await;
    for recipient in [
        "police-scotland",
        "psni",
        "jersey-police",
        "hmrc",
        "nca-occ",
    ] {
        let request = declined(app, &cast, recipient).await;
        let refused = draft_to(app, &cast, recipient, Some(&request)).await;
        assert_eq!(
            refusals(&refused),
            refused_for("recipient", "¶9"),
            "{recipient}"
        );
    }
    let listed = app.get("/api/v1/directions", &cast.director).await;
    assert_eq!(listed.json, json!([]), "a refused draft is not stored");
}

/// ¶9: only when the voluntary arrangements cannot be made, or cannot be made in time.
async fn a_direction_waits_until_the_voluntary_route_is_exhausted_or_too_slow(app: &TestApp) {
    let cast = cast(app).await;
    let by = cast.director_id;
    let routine = voluntary_request(app, "nca", "kent", Urgency::Routine, Fate::Pending, by).await;
    let refused = draft_to(app, &cast, "kent", Some(&routine)).await;
    assert_eq!(refusals(&refused), refused_for("voluntary-route", "¶9"));
    let accepted =
        voluntary_request(app, "nca", "kent", Urgency::Routine, Fate::Accepted, by).await;
    let refused = draft_to(app, &cast, "kent", Some(&accepted)).await;
    assert_eq!(refusals(&refused), refused_for("voluntary-route", "¶9"));
    let refused = draft_to(app, &cast, "kent", None).await;
    assert_eq!(refusals(&refused), refused_for("voluntary-route", "¶9"));

    let declined =
        voluntary_request(app, "nca", "kent", Urgency::Routine, Fate::Declined, by).await;
    drafted(app, &cast, "kent", &declined).await;
    let expired = voluntary_request(app, "nca", "kent", Urgency::Routine, Fate::Expired, by).await;
    drafted(app, &cast, "kent", &expired).await;

    let immediate =
        voluntary_request(app, "nca", "kent", Urgency::Immediate, Fate::Pending, by).await;
    let respond_by = immediate.respond_by.expect("submitted");
    let too_slow = respond_by.plus(chrono::Duration::minutes(-30));
    let allowed = draft(
        app,
        &cast.director,
        json!({
            "recipient": "kent",
            "request": immediate.id,
            "instructions": "Armed response now.",
            "needed_by": too_slow,
        }),
    )
    .await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{}", allowed.text);
    let time_left = respond_by.plus(chrono::Duration::minutes(30));
    let refused = draft(
        app,
        &cast.director,
        json!({
            "recipient": "kent",
            "request": immediate.id,
            "instructions": "Armed response now.",
            "needed_by": time_left,
        }),
    )
    .await;
    assert_eq!(refusals(&refused), refused_for("voluntary-route", "¶9"));
    let listed = app.get("/api/v1/directions", &cast.director).await;
    assert_eq!(listed.json.as_array().expect("list").len(), 3);
}

/// Bad input names its field; a request the drafter cannot see is answered 404; one
/// that is not the agency's request to the recipient names `request`.
async fn a_draft_with_bad_fields_or_the_wrong_request_says_which(app: &TestApp) {
    let cast = cast(app).await;
    let bad = draft(
        app,
        &cast.director,
        json!({ "recipient": "atlantis", "instructions": " ", "needed_by": "2001-01-01T00:00:00Z", "request": "nope" }),
    )
    .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = bad.problem_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["instructions", "needed_by", "request"],
        "{}",
        bad.text
    );
    let unknown = draft_to(app, &cast, "atlantis", None).await;
    unknown.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.problem_fields(), ["recipient"]);
    let extra = draft(
        app,
        &cast.director,
        json!({ "recipient": "kent", "instructions": "x", "urgent": true }),
    )
    .await;
    assert_eq!(extra.problem_fields(), ["urgent"], "{}", extra.text);

    let (_, kent_officer) = person(
        app,
        "d.kent.raiser",
        "kent",
        &[Role::TaskingOfficer],
        DgAuthority::None,
    )
    .await;
    let kents_own = voluntary_request(
        app,
        "kent",
        "mps",
        Urgency::Routine,
        Fate::Declined,
        kent_officer,
    )
    .await;
    let hidden = draft_to(app, &cast, "mps", Some(&kents_own)).await;
    hidden.problem(StatusCode::NOT_FOUND);
    let essex = declined(app, &cast, "essex").await;
    let elsewhere = draft_to(app, &cast, "kent", Some(&essex)).await;
    elsewhere.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        elsewhere.problem_fields(),
        ["request"],
        "{}",
        elsewhere.text
    );
    let to_agency = voluntary_request(
        app,
        "kent",
        "nca",
        Urgency::Routine,
        Fate::Declined,
        kent_officer,
    )
    .await;
    let not_ours = draft_to(app, &cast, "kent", Some(&to_agency)).await;
    assert_eq!(
        not_ours.problem_fields(),
        ["request", "request"],
        "{}",
        not_ours.text
    );
}

/// ¶9: the Director General, or a delegate, directs; a senior decision-maker without
/// the delegated authority, or anyone else, may not draft or issue.
async fn only_the_directors_delegates_draft_and_issue(app: &TestApp) {
    let cast = cast(app).await;
    let request = declined(app, &cast, "kent").await;
    let body =
        json!({ "recipient": "kent", "request": request.id, "instructions": "Provide a team." });
    for who in [&cast.senior, &cast.agency_tasking, &cast.kent_tasking] {
        let refused = draft(app, who, body.clone()).await;
        refused.problem(StatusCode::FORBIDDEN);
        assert!(
            refused.json["detail"]
                .as_str()
                .expect("detail")
                .contains("¶9")
        );
    }
    let id = drafted(app, &cast, "kent", &request).await;
    for who in [&cast.senior, &cast.agency_tasking] {
        step(app, who, &id, "issue", None)
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    // Until it is issued, a direction is the agency's draft: its recipient does not see it.
    step(app, &cast.kent_tasking, &id, "issue", None)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/directions/{id}"), &cast.kent_tasking)
        .await
        .problem(StatusCode::NOT_FOUND);
    let shown = app
        .get(&format!("/api/v1/directions/{id}"), &cast.senior)
        .await;
    assert_eq!(shown.json["state"], "drafted");
    let issued = step(app, &cast.director, &id, "issue", None).await;
    assert_eq!(issued.json["state"], "issued", "{}", issued.text);
    step(
        app,
        &cast.kent_tasking,
        &id,
        "compliance",
        Some(json!({ "outcome": "complied" })),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    step(app, &cast.director, &id, "acknowledgement", None)
        .await
        .problem(StatusCode::FORBIDDEN);
}

/// A force sees the directions given to it and no other's; the agency's tasking
/// officers see them all; an administrator and nothing more sees none.
async fn a_force_sees_and_acknowledges_only_its_own_directions(app: &TestApp) {
    let cast = cast(app).await;
    let request = declined(app, &cast, "kent").await;
    let id = drafted(app, &cast, "kent", &request).await;
    step(app, &cast.director, &id, "issue", None).await;
    let path = format!("/api/v1/directions/{id}");

    app.get(&path, &cast.essex_tasking)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/directions", &cast.essex_tasking)
            .await
            .json,
        json!([])
    );
    step(app, &cast.essex_tasking, &id, "acknowledgement", None)
        .await
        .problem(StatusCode::NOT_FOUND);

    for who in [&cast.kent_admin, &cast.auditor, &cast.btp_tasking] {
        app.get(&path, who).await.problem(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/v1/directions", who).await.json, json!([]));
    }

    let agency = app.get("/api/v1/directions", &cast.agency_tasking).await;
    assert_eq!(agency.json.as_array().expect("list").len(), 1);
    step(app, &cast.agency_tasking, &id, "acknowledgement", None)
        .await
        .problem(StatusCode::FORBIDDEN);

    let theirs = app.get("/api/v1/directions", &cast.kent_tasking).await;
    assert_eq!(theirs.json[0]["id"], id.as_str());
    assert_eq!(
        app.get(&path, &cast.kent_tasking).await.status,
        StatusCode::OK
    );
    let acknowledged = step(app, &cast.kent_tasking, &id, "acknowledgement", None).await;
    assert_eq!(
        acknowledged.json["state"], "acknowledged",
        "{}",
        acknowledged.text
    );
    app.get("/api/v1/directions/not-an-id", &cast.kent_tasking)
        .await
        .problem(StatusCode::NOT_FOUND);
}

/// Every change to a direction and to the protocol is in the audit log, with who did
/// it; a refused draft changes nothing and records nothing.
async fn every_step_of_a_direction_is_in_the_audit_log(app: &TestApp) {
    let cast = cast(app).await;
    let audit_size = || async {
        app.get("/api/v1/audit?limit=500", &cast.auditor)
            .await
            .json
            .as_array()
            .expect("entries")
            .len()
    };
    let request = declined(app, &cast, "btp").await;
    let before = audit_size().await;
    let refused = draft_to(app, &cast, "psni", None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audit_size().await, before);

    let id = drafted(app, &cast, "btp", &request).await;
    step(app, &cast.director, &id, "consent-request", None).await;
    step(
        app,
        &cast.director,
        &id,
        "consent",
        Some(json!({ "answer": "given" })),
    )
    .await;
    step(app, &cast.director, &id, "issue", None).await;
    step(app, &cast.btp_tasking, &id, "acknowledgement", None).await;
    let closed = step(
        app,
        &cast.director,
        &id,
        "compliance",
        Some(json!({ "outcome": "not-complied", "note": "No officers were sent." })),
    )
    .await;
    assert_eq!(closed.json["state"], "not-complied", "{}", closed.text);
    let entries = app
        .get(
            &format!("/api/v1/audit?record_kind=direction&record_id={id}"),
            &cast.auditor,
        )
        .await;
    let entries = entries.json.as_array().expect("entries");
    let mut actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["actor_name"].as_str().expect("actor"),
            )
        })
        .collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            ("direction.draft", "d.nca.director"),
            ("direction.request-consent", "d.nca.director"),
            ("direction.give-consent", "d.nca.director"),
            ("direction.issue", "d.nca.director"),
            ("direction.acknowledge", "d.btp.tasking"),
            ("direction.not-comply", "d.nca.director"),
        ]
    );
    assert!(
        entries[0]["detail"]
            .as_str()
            .expect("detail")
            .contains("No officers were sent.")
    );

    app.call(
        Method::POST,
        "/api/v1/border-protocol",
        &cast.director,
        Some(json!({ "state": "in-force" })),
    )
    .await;
    let protocol = app
        .get("/api/v1/audit?record_kind=border-protocol", &cast.auditor)
        .await;
    assert_eq!(
        protocol.json[0]["action"], "border-protocol.record",
        "{}",
        protocol.text
    );
}

stories!(
    a_force_in_england_and_wales_is_directed_told_and_acknowledges,
    the_btp_is_directed_only_with_the_transport_secretarys_consent,
    border_functions_are_directed_only_while_the_protocol_is_in_force,
    scotland_northern_ireland_the_islands_other_agencies_and_the_agency_are_never_directed,
    a_direction_waits_until_the_voluntary_route_is_exhausted_or_too_slow,
    a_draft_with_bad_fields_or_the_wrong_request_says_which,
    only_the_directors_delegates_draft_and_issue,
    a_force_sees_and_acknowledges_only_its_own_directions,
    every_step_of_a_direction_is_in_the_audit_log,
);
