//! Tasking over HTTP: the three worked examples of ¶18 end to end, routing by
//! ¶21–24, decisions on the record, deadlines, and who may do what.

use crate::helpers::{Response, TestApp, Who};
use crate::stories;
use concordat_domain::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// The steps of the stories
// ---------------------------------------------------------------------------------------

async fn post(app: &TestApp, who: &Who, path: &str, body: Value) -> Response {
    app.call(Method::POST, path, who, Some(body)).await
}

pub(crate) async fn created(app: &TestApp, who: &Who, path: &str, body: Value) -> Value {
    let response = post(app, who, path, body).await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{path}: {}",
        response.text
    );
    response.json
}

pub(crate) async fn ok(app: &TestApp, who: &Who, path: &str, body: Value) -> Value {
    let response = post(app, who, path, body).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
    response.json
}

/// An analyst records a subject with its designation and returns its id.
pub(crate) async fn subject(
    app: &TestApp,
    who: &Who,
    kind: &str,
    name: &str,
    designation: &str,
) -> String {
    let subject = created(
        app,
        who,
        "/api/v1/subjects",
        json!({
            "kind": kind,
            "name": name,
            "designation": designation,
            "basis": "Intelligence assessment by the force analyst",
        }),
    )
    .await;
    subject["id"].as_str().expect("id").to_owned()
}

/// A request body with the usual parts, and `extra` on top.
pub(crate) fn request(receiver: &str, kind: Value, areas: &[&str], extra: Value) -> Value {
    let mut body = json!({
        "title": "A request",
        "kind": kind,
        "receiver": receiver,
        "threat_areas": ["organised-acquisitive-crime"],
        "geography": { "areas": areas, "international": false },
        "urgency": "routine",
        "case": "What is happening, what is asked, and why.",
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Raises and submits a request; returns it.
pub(crate) async fn raise_and_submit(app: &TestApp, who: &Who, body: Value) -> Value {
    let raised = created(app, who, "/api/v1/requests", body).await;
    assert_eq!(raised["state"], "draft");
    let id = raised["id"].as_str().expect("id");
    let submitted = ok(
        app,
        who,
        &format!("/api/v1/requests/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(submitted["state"], "submitted");
    assert!(submitted["respond_by"].is_string());
    submitted
}

pub(crate) fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

/// The recommendation, with each test's outcome as (test, passed).
async fn recommendation(app: &TestApp, who: &Who, request: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/requests/{request}/recommendation"), who)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json
}

fn outcomes(recommendation: &Value) -> Vec<(String, bool)> {
    recommendation["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| {
            assert!(t["paragraph"].is_string());
            assert!(!t["facts"].as_array().expect("facts").is_empty());
            (
                t["test"].as_str().expect("test").to_owned(),
                t["passed"].as_bool().expect("passed"),
            )
        })
        .collect()
}

fn facts_of(recommendation: &Value, test: &str) -> String {
    recommendation["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .find(|t| t["test"] == test)
        .map(|t| t["facts"].to_string())
        .unwrap_or_default()
}

fn expect_tests(recommendation: &Value, expected: [bool; 5]) {
    let names = [
        "priority-subjects",
        "specialist-capability",
        "urgent-action",
        "beyond-partner-capability",
        "operational-priorities",
    ];
    let got = outcomes(recommendation);
    let expected: Vec<(String, bool)> = names
        .iter()
        .zip(expected)
        .map(|(n, p)| ((*n).to_owned(), p))
        .collect();
    assert_eq!(got, expected, "{recommendation}");
}

pub(crate) fn rationale() -> Value {
    json!({
        "information": "Intelligence picture from the National Intelligence Hub and the force.",
        "threat_and_risk": "High harm; firearms discharged; working strategy agreed.",
        "powers_and_policy": "Within the Commitment and the partners' statutory duties.",
        "options_and_contingencies": "Force lead with national support; escalate if displaced.",
        "action_and_review": "Review at the next tactical tasking meeting.",
    })
}

pub(crate) async fn decide(app: &TestApp, who: &Who, request: &str, body: Value) -> Value {
    created(
        app,
        who,
        &format!("/api/v1/requests/{request}/decisions"),
        body,
    )
    .await
}

async fn roles_at(app: &TestApp, who: &Who, operation: &str, at: &str) -> Value {
    let response = app
        .get(
            &format!(
                "/api/v1/operations/{operation}/roles?as_of={}",
                at.replace('+', "%2B")
            ),
            who,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json["roles"].clone()
}

pub(crate) fn roles(lead: &str, support: &[&str], coordinate: &[&str]) -> Value {
    json!({ "lead": lead, "support": support, "coordinate": coordinate })
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let admin = app.as_user("nca.admin").await;
    let response = app.get("/api/v1/audit?limit=500", &admin).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json["entries"]
        .as_array()
        .or_else(|| response.json.as_array())
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

// ---------------------------------------------------------------------------------------
// ¶18, the worked examples
// ---------------------------------------------------------------------------------------

/// ¶18 (a): armed robberies of cash in transit in one region. The force leads with
/// the agency's armed surveillance and technical collection in support; when the
/// robberies displace across several regions, the lead moves to the agency and the
/// force supports. The role history reads correctly as of any moment.
async fn cash_in_transit_robberies_move_from_force_lead_to_agency_lead(app: &TestApp) {
    let analyst = app.as_user("wmp.analyst").await;
    let force = app.as_user("wmp.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let group = subject(
        app,
        &analyst,
        "organised-crime-group",
        "Eastside CViT group",
        "high-priority",
    )
    .await;

    // The force asks the agency for armed surveillance.
    let surveillance = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "capability", "capability": "specialist-surveillance" }),
            &["west-midlands"],
            json!({ "title": "Armed surveillance on the Eastside CViT group", "subjects": [group] }),
        ),
    )
    .await;
    assert_eq!(surveillance["route"], json!({ "via": "direct" }));
    let rec = recommendation(app, &agency, id(&surveillance)).await;
    assert_eq!(rec["role"], "support", "{rec}");
    assert_eq!(rec["lead"], "west-midlands");
    expect_tests(&rec, [true, true, false, false, false]);
    assert!(facts_of(&rec, "priority-subjects").contains("high-priority"));
    assert!(facts_of(&rec, "specialist-capability").contains("Specialist Surveillance"));

    ok(
        app,
        &agency,
        &format!("/api/v1/requests/{}/assessment", id(&surveillance)),
        json!({}),
    )
    .await;
    let first = decide(
        app,
        &agency,
        id(&surveillance),
        json!({
            "outcome": "accepted",
            "roles": roles("west-midlands", &["nca"], &[]),
            "rationale": rationale(),
            "operation": { "create": { "code_name": "Operation Nightjar", "strands": ["pursue"] } },
        }),
    )
    .await;
    assert_eq!(first["agency_role"], "support");
    assert_eq!(first["recommendation"]["role"], "support");
    assert_eq!(
        first["charging"],
        json!({ "basis": "none" }),
        "¶10: free of charge"
    );
    let operation = first["operation"].as_str().expect("operation").to_owned();

    // And for technical collection, on the same operation: the roles carry on.
    let technical = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "capability", "capability": "technical-operations-support" }),
            &["west-midlands"],
            json!({ "title": "Technical collection on the Eastside CViT group", "subjects": [group] }),
        ),
    )
    .await;
    decide(
        app,
        &agency,
        id(&technical),
        json!({
            "outcome": "accepted",
            "roles": roles("west-midlands", &["nca"], &[]),
            "rationale": rationale(),
            "operation": { "join": { "operation": operation } },
        }),
    )
    .await;

    // The robberies displace across three regions: the force asks the agency to lead.
    let displaced = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "take-lead" }),
            &["west-midlands", "greater-manchester", "avon-and-somerset"],
            json!({ "title": "Eastside group displaced across three regions", "subjects": [group] }),
        ),
    )
    .await;
    let rec = recommendation(app, &agency, id(&displaced)).await;
    assert_eq!(rec["role"], "lead", "{rec}");
    assert_eq!(rec["lead"], "nca");
    expect_tests(&rec, [true, false, false, true, false]);
    assert!(
        facts_of(&rec, "beyond-partner-capability").contains("3 ROCU regions"),
        "{rec}"
    );
    let second = decide(
        app,
        &agency,
        id(&displaced),
        json!({
            "outcome": "accepted",
            "roles": roles("nca", &["west-midlands"], &[]),
            "rationale": rationale(),
            "operation": { "join": { "operation": operation } },
        }),
    )
    .await;
    assert_eq!(second["agency_role"], "lead");

    // The role history, as of each decision.
    let at_first = first["decided_at"].as_str().expect("time");
    let at_second = second["decided_at"].as_str().expect("time");
    assert_eq!(
        roles_at(app, &force, &operation, at_first).await,
        roles("west-midlands", &["nca"], &[])
    );
    assert_eq!(
        roles_at(app, &force, &operation, at_second).await,
        roles("nca", &["west-midlands"], &[])
    );
    assert_eq!(
        roles_at(app, &force, &operation, "2020-01-01T00:00:00Z").await,
        Value::Null,
        "no roles before the operation began"
    );
    let op = app
        .get(&format!("/api/v1/operations/{operation}"), &agency)
        .await;
    assert_eq!(op.status, StatusCode::OK, "{}", op.text);
    assert_eq!(op.json["roles"].as_array().expect("spans").len(), 4);
    assert_eq!(
        op.json["capabilities"],
        json!(["specialist-surveillance", "technical-operations-support"])
    );
    assert!(
        audit_actions(app)
            .await
            .contains(&"operation.lead-change".to_owned())
    );

    // Results: a major disruption with arrests and firearms seized.
    let outcome = created(
        app,
        &force,
        &format!("/api/v1/operations/{operation}/outcomes"),
        json!({
            "disruption": "major",
            "arrests": 4,
            "charges": 4,
            "firearms": 2,
            "cash_pence": 1_250_000,
            "description": "Arrests on the M5 after the Bristol robbery.",
            "occurred_at": Timestamp::now().to_rfc3339(),
        }),
    )
    .await;
    assert_eq!(outcome["outcomes"][0]["disruption"], "major");
    assert_eq!(outcome["outcomes"][0]["arrests"], 4);
}

/// ¶18 (b): the agency works a High Priority Vulnerability (malware frauds against
/// industry). The frauds concentrate in one region, so the ROCU leads the fraud
/// investigation with the agency in support, while the agency keeps its own wider
/// operation (international engagement, industry).
async fn malware_fraud_is_led_by_the_rocu_with_agency_support(app: &TestApp) {
    let nccu = app.as_user("nccu.tasking").await;
    let rocu = app.as_user("serocu.tasking").await;
    let vulnerability = subject(
        app,
        &nccu,
        "vulnerability",
        "Malware used for frauds against industry",
        "high-priority",
    )
    .await;
    let own = created(
        app,
        &nccu,
        "/api/v1/operations",
        json!({
            "code_name": "Operation Kestrel",
            "threat_areas": ["cyber-crime", "fraud"],
            "strands": ["pursue", "protect"],
            "subjects": [vulnerability],
            "reason": "High Priority Vulnerability: INTERPOL alerts, industry, source of the malware",
        }),
    )
    .await;
    let kestrel = id(&own).to_owned();

    let asked = raise_and_submit(
        app,
        &nccu,
        request(
            "serocu",
            json!({ "type": "assistance" }),
            &["kent", "surrey", "sussex"],
            json!({
                "title": "Lead the investigation of the malware frauds in the South East",
                "threat_areas": ["fraud", "cyber-crime"],
                "subjects": [vulnerability],
            }),
        ),
    )
    .await;
    assert_eq!(
        asked["route"],
        json!({ "via": "direct" }),
        "a ROCU is reached directly"
    );
    let rec = recommendation(app, &rocu, id(&asked)).await;
    assert_eq!(rec["role"], "support", "{rec}");
    assert_eq!(rec["lead"], "serocu");
    expect_tests(&rec, [true, false, false, false, true]);
    let decision = decide(
        app,
        &rocu,
        id(&asked),
        json!({
            "outcome": "accepted",
            "roles": roles("serocu", &["nca-nccu"], &[]),
            "rationale": rationale(),
            "operation": { "create": { "code_name": "Operation Wren", "strands": ["pursue"] } },
        }),
    )
    .await;
    assert_eq!(decision["agency_role"], "support");
    let wren = decision["operation"].as_str().expect("operation");
    let now = Timestamp::now().to_rfc3339();
    assert_eq!(
        roles_at(app, &rocu, wren, &now).await,
        roles("serocu", &["nca-nccu"], &[])
    );
    // The agency keeps its wider activity, led by itself.
    assert_eq!(
        roles_at(app, &nccu, &kestrel, &now).await,
        roles("nca-nccu", &[], &[])
    );
    // The ROCU is no party to Kestrel and cannot see it.
    app.get(&format!("/api/v1/operations/{kestrel}"), &rocu)
        .await
        .problem(StatusCode::NOT_FOUND);
}

/// ¶18 (c): high-end money laundering. A force's operation finds other forces in the
/// UK and Islands investigating members of the same group, and tax offences. HMRC is
/// the best-placed lead; the agency coordinates (and supports).
async fn money_laundering_with_tax_offences_is_led_by_hmrc_and_coordinated_by_the_agency(
    app: &TestApp,
) {
    let lancs = app.as_user("lancs.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let group = subject(
        app,
        &lancs,
        "organised-crime-group",
        "Harbour money laundering network",
        "priority",
    )
    .await;
    // Lancashire is already investigating the group; the Met and Jersey are
    // investigating members of it (the case says so: matching their subjects to
    // Lancashire's is deconfliction's work).
    created(
        app,
        &lancs,
        "/api/v1/operations",
        json!({
            "code_name": "Operation Heron",
            "threat_areas": ["money-laundering"],
            "strands": ["pursue"],
            "subjects": [group],
            "reason": "Investigation of the network's laundering through local businesses",
        }),
    )
    .await;
    let asked = raise_and_submit(
        app,
        &lancs,
        request(
            "nca",
            json!({ "type": "coordinate" }),
            &["lancashire", "mps", "jersey-police"],
            json!({
                "title": "Coordinate the response to the Harbour network",
                "threat_areas": ["money-laundering", "revenue-offences"],
                "subjects": [group],
            }),
        ),
    )
    .await;
    let rec = recommendation(app, &agency, id(&asked)).await;
    assert_eq!(rec["lead"], "hmrc", "{rec}");
    assert_eq!(rec["role"], "support-and-coordinate", "{rec}");
    assert!(
        rec["lead_reason"]
            .as_str()
            .expect("reason")
            .contains("revenue-offences")
    );
    expect_tests(&rec, [true, false, false, true, true]);
    assert!(facts_of(&rec, "beyond-partner-capability").contains("jurisdictions"));

    let decision = decide(
        app,
        &agency,
        id(&asked),
        json!({
            "outcome": "accepted",
            "roles": roles("hmrc", &["nca", "lancashire", "mps", "jersey-police"], &["nca"]),
            "rationale": rationale(),
            "operation": { "create": { "code_name": "Operation Plover", "strands": ["pursue", "protect"] } },
        }),
    )
    .await;
    assert_eq!(decision["agency_role"], "support-and-coordinate");
    let plover = decision["operation"].as_str().expect("operation");
    let hmrc = app.as_user("hmrc.tasking").await;
    let now = Timestamp::now().to_rfc3339();
    assert_eq!(
        roles_at(app, &hmrc, plover, &now).await,
        roles(
            "hmrc",
            &["jersey-police", "lancashire", "mps", "nca"],
            &["nca"]
        )
    );
}

// ---------------------------------------------------------------------------------------
// Routing (¶21–24)
// ---------------------------------------------------------------------------------------

/// Each path of ¶21–24, as a raised request records it.
async fn requests_are_routed_by_paragraphs_21_to_24(app: &TestApp) {
    let agency = app.as_user("nca.tasking").await;
    let route = |receiver: &'static str, border: Option<&'static str>| {
        let agency = agency.clone();
        async move {
            let mut body = request(receiver, json!({ "type": "assistance" }), &[], json!({}));
            if let Some(gateway) = border {
                body["border_gateway"] = json!(gateway);
            }
            let raised = created(app, &agency, "/api/v1/requests", body).await;
            raised["route"].clone()
        }
    };
    assert_eq!(
        route("cumbria", None).await,
        json!({ "via": "rocu", "gateway": "titan" }),
        "¶21"
    );
    assert_eq!(route("mps", None).await, json!({ "via": "direct" }), "¶24");
    assert_eq!(route("hmrc", None).await, json!({ "via": "direct" }), "¶24");
    assert_eq!(
        route("police-scotland", None).await,
        json!({ "via": "direct" }),
        "¶24"
    );
    assert_eq!(
        route("border-force", Some("jbiu-heathrow")).await,
        json!({ "via": "jbiu", "gateway": "jbiu-heathrow" }),
        "¶22"
    );
    assert_eq!(route("sfo", None).await, json!({ "via": "direct" }), "¶23");
    let refused = post(
        app,
        &agency,
        "/api/v1/requests",
        request(
            "kent",
            json!({ "type": "assistance" }),
            &[],
            json!({ "border_gateway": "kent" }),
        ),
    )
    .await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.problem_fields(), ["border_gateway"]);
    let to_itself = post(
        app,
        &agency,
        "/api/v1/requests",
        request("nca", json!({ "type": "assistance" }), &[], json!({})),
    )
    .await;
    to_itself.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(to_itself.problem_fields(), ["receiver"]);
}

/// ¶21: the ROCU that carries a request sees it and is told of it.
async fn the_rocu_gateway_sees_and_is_told_of_requests_it_carries(app: &TestApp) {
    let agency = app.as_user("nca.tasking").await;
    let raised = raise_and_submit(
        app,
        &agency,
        request(
            "kent",
            json!({ "type": "assistance" }),
            &["kent"],
            json!({}),
        ),
    )
    .await;
    assert_eq!(
        raised["route"],
        json!({ "via": "rocu", "gateway": "serocu" })
    );
    let rocu = app.as_user("serocu.tasking").await;
    let seen = app
        .get(&format!("/api/v1/requests/{}", id(&raised)), &rocu)
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    let told = app.get("/api/v1/notifications", &rocu).await;
    assert!(told.text.contains("request-received"), "{}", told.text);
    // The gateway carries it; only the receiver decides.
    post(
        app,
        &rocu,
        &format!("/api/v1/requests/{}/decisions", id(&raised)),
        json!({ "outcome": "declined", "referral": "kent", "rationale": rationale() }),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------------------------------
// Decisions on the record
// ---------------------------------------------------------------------------------------

/// ¶17: a decision that departs from the recommendation says why; decisions are never
/// edited, and a change is a new decision that supersedes the one in force.
async fn decisions_depart_only_with_a_reason_and_are_superseded_not_edited(app: &TestApp) {
    let force = app.as_user("kent.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let asked = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "assistance" }),
            &["kent"],
            json!({ "threat_areas": ["fraud"] }),
        ),
    )
    .await;
    let rec = recommendation(app, &agency, id(&asked)).await;
    assert_eq!(rec["role"], "decline", "{rec}");
    assert_eq!(
        rec["referral"], "serocu",
        "referred to the force's regional tier"
    );

    let path = format!("/api/v1/requests/{}/decisions", id(&asked));
    let departs = post(
        app,
        &agency,
        &path,
        json!({
            "outcome": "accepted",
            "roles": roles("kent", &["nca"], &[]),
            "rationale": rationale(),
            "operation": { "create": { "code_name": "Operation Rook", "strands": ["pursue"] } },
        }),
    )
    .await;
    departs.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(departs.problem_fields(), ["departure_reason"]);
    let missing_stage = post(
        app,
        &agency,
        &path,
        json!({ "outcome": "declined", "referral": "serocu", "rationale": { "information": "x" } }),
    )
    .await;
    assert!(
        missing_stage.status.is_client_error(),
        "{}",
        missing_stage.text
    );

    let declined = decide(
        app,
        &agency,
        id(&asked),
        json!({ "outcome": "declined", "referral": "serocu", "rationale": rationale() }),
    )
    .await;
    // Deciding again without naming the decision in force is refused.
    let again = post(
        app,
        &agency,
        &path,
        json!({ "outcome": "declined", "referral": "serocu", "rationale": rationale() }),
    )
    .await;
    again.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.problem_fields(), ["supersedes"]);

    let changed = decide(
        app,
        &agency,
        id(&asked),
        json!({
            "outcome": "accepted",
            "roles": roles("kent", &["nca"], &[]),
            "rationale": rationale(),
            "departure_reason": "Kent's fraud team is stretched by a linked murder inquiry.",
            "operation": { "create": { "code_name": "Operation Rook", "strands": ["pursue"] } },
            "supersedes": id(&declined),
        }),
    )
    .await;
    assert_eq!(changed["supersedes"], declined["id"]);
    let detail = app
        .get(&format!("/api/v1/requests/{}", id(&asked)), &force)
        .await;
    assert_eq!(detail.json["request"]["state"], "accepted");
    let decisions = detail.json["decisions"].as_array().expect("decisions");
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[0]["superseded"], true);
    assert_eq!(
        decisions[0]["outcome"], "declined",
        "the first stays on the record"
    );
    assert_eq!(decisions[1]["superseded"], false);
}

/// ¶10: charging is none unless an exception is agreed by both sides.
async fn charging_is_none_unless_both_sides_agree_an_exception(app: &TestApp) {
    let force = app.as_user("kent.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let asked = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "capability", "capability": "specialist-surveillance" }),
            &["kent"],
            json!({}),
        ),
    )
    .await;
    let path = format!("/api/v1/requests/{}/charging", id(&asked));
    ok(
        app,
        &agency,
        &path,
        json!({ "terms": "Overtime of the surveillance team, at cost." }),
    )
    .await;
    // The proposer cannot agree its own proposal.
    post(app, &agency, &format!("{path}/agreement"), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
    let agreed = ok(app, &force, &format!("{path}/agreement"), json!({})).await;
    assert!(agreed["agreed_at"].is_string());
    let decision = decide(
        app,
        &agency,
        id(&asked),
        json!({
            "outcome": "accepted",
            "roles": roles("kent", &["nca"], &[]),
            "rationale": rationale(),
            "operation": { "create": { "code_name": "Operation Lark", "strands": ["pursue"] } },
        }),
    )
    .await;
    assert_eq!(decision["charging"]["basis"], "agreed-exception");
    assert_eq!(
        decision["charging"]["terms"],
        "Overtime of the surveillance team, at cost."
    );
}

// ---------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------

/// Overdue requests are flagged and the receiver's tasking officers told; long-overdue
/// ones expire and the requester is told.
async fn overdue_requests_are_flagged_and_then_expire(app: &TestApp) {
    let force = app.as_user("kent.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let asked = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "assistance" }),
            &["kent"],
            json!({ "urgency": "immediate" }),
        ),
    )
    .await;
    let state = concordat_server::AppState::new(
        app.store.clone(),
        concordat_server::ServerConfig::default(),
        crate::helpers::rules(),
    );
    let in_two_hours = Timestamp::now().plus(chrono::Duration::hours(2));
    let report = concordat_server::tasking::sweep_deadlines(&state, in_two_hours)
        .await
        .expect("sweep");
    assert_eq!((report.flagged, report.expired), (1, 0));
    let again = concordat_server::tasking::sweep_deadlines(&state, in_two_hours)
        .await
        .expect("sweep");
    assert_eq!((again.flagged, again.expired), (0, 0), "flagged once only");
    let seen = app
        .get(&format!("/api/v1/requests/{}", id(&asked)), &agency)
        .await;
    assert_eq!(seen.json["request"]["overdue"], true);
    let told = app.get("/api/v1/notifications", &agency).await;
    assert!(told.text.contains("request-overdue"), "{}", told.text);

    let in_a_month = Timestamp::now().plus(chrono::Duration::days(30));
    let report = concordat_server::tasking::sweep_deadlines(&state, in_a_month)
        .await
        .expect("sweep");
    assert_eq!(report.expired, 1);
    let seen = app
        .get(&format!("/api/v1/requests/{}", id(&asked)), &force)
        .await;
    assert_eq!(seen.json["request"]["state"], "expired");
    let told = app.get("/api/v1/notifications", &force).await;
    assert!(told.text.contains("request-expired"), "{}", told.text);
}

// ---------------------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------------------

/// Only the receiving organisation's tasking officers assess and decide; only the
/// requester's submit and withdraw; drafts stay with the requester; organisations
/// outside a request do not see it; administrators read no casework.
async fn each_role_and_organisation_outside_the_rule_is_refused(app: &TestApp) {
    let force = app.as_user("kent.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let outsider = app.as_user("mps.tasking").await;
    let agency_viewer = app.as_user("nca.viewer").await;
    let admin = app.as_user("nca.admin").await;
    let case_officer = app.as_user("gmp.case").await;

    let draft = created(
        app,
        &force,
        "/api/v1/requests",
        request("nca", json!({ "type": "assistance" }), &["kent"], json!({})),
    )
    .await;
    let path = format!("/api/v1/requests/{}", id(&draft));
    // A draft is the requester's alone.
    app.get(&path, &agency).await.problem(StatusCode::NOT_FOUND);
    post(app, &agency, &format!("{path}/submit"), json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    ok(app, &force, &format!("{path}/submit"), json!({})).await;

    // Outsiders and administrators see nothing.
    app.get(&path, &outsider)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&path, &admin).await.problem(StatusCode::NOT_FOUND);
    app.get(&format!("{path}/recommendation"), &outsider)
        .await
        .problem(StatusCode::NOT_FOUND);
    let listed = app.get("/api/v1/requests", &outsider).await;
    assert_eq!(listed.json, json!([]), "{}", listed.text);

    // The receiver's viewer sees it but cannot assess or decide.
    assert_eq!(app.get(&path, &agency_viewer).await.status, StatusCode::OK);
    post(
        app,
        &agency_viewer,
        &format!("{path}/assessment"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let decision = json!({ "outcome": "declined", "referral": "serocu", "rationale": rationale() });
    post(
        app,
        &agency_viewer,
        &format!("{path}/decisions"),
        decision.clone(),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    // The requester cannot decide its own request, nor start its assessment.
    post(app, &force, &format!("{path}/decisions"), decision.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    post(app, &force, &format!("{path}/assessment"), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
    // The receiver cannot withdraw it.
    post(app, &agency, &format!("{path}/withdraw"), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
    // Outsiders cannot decide or propose charging.
    post(
        app,
        &outsider,
        &format!("{path}/decisions"),
        decision.clone(),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    post(
        app,
        &outsider,
        &format!("{path}/charging"),
        json!({ "terms": "x" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    // A case officer may raise, but not submit, a request.
    let raised = created(
        app,
        &case_officer,
        "/api/v1/requests",
        request(
            "nca",
            json!({ "type": "assistance" }),
            &["greater-manchester"],
            json!({}),
        ),
    )
    .await;
    post(
        app,
        &case_officer,
        &format!("/api/v1/requests/{}/submit", id(&raised)),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    // An administrator may not raise one.
    post(
        app,
        &admin,
        "/api/v1/requests",
        request("mps", json!({ "type": "assistance" }), &[], json!({})),
    )
    .await
    .problem(StatusCode::FORBIDDEN);

    // The receiver decides; the requester then withdraws nothing.
    ok(app, &agency, &format!("{path}/assessment"), json!({})).await;
    decide(app, &agency, id(&draft), decision).await;
    post(app, &force, &format!("{path}/withdraw"), json!({}))
        .await
        .problem(StatusCode::CONFLICT);
}

/// Only the parties to an operation see its detail; only the lead changes its roles;
/// only organisations with a role now record outcomes.
async fn only_parties_see_an_operation_and_only_the_lead_changes_its_roles(app: &TestApp) {
    let force = app.as_user("kent.tasking").await;
    let outsider = app.as_user("mps.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let admin = app.as_user("nca.admin").await;
    let operation = created(
        app,
        &force,
        "/api/v1/operations",
        json!({
            "code_name": "Operation Finch",
            "threat_areas": ["drugs"],
            "strands": ["pursue"],
            "support": ["nca"],
            "reason": "County lines into Kent",
        }),
    )
    .await;
    let path = format!("/api/v1/operations/{}", id(&operation));
    app.get(&path, &outsider)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&path, &admin).await.problem(StatusCode::NOT_FOUND);
    app.get(&format!("{path}/roles"), &outsider)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, &agency).await.status, StatusCode::OK);
    let listed = app.get("/api/v1/operations", &outsider).await;
    assert_eq!(listed.json, json!([]));

    let change = json!({ "roles": roles("nca", &["kent"], &[]), "reason": "Spread abroad" });
    post(app, &agency, &format!("{path}/roles"), change.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    post(app, &outsider, &format!("{path}/roles"), change.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    let outcome = json!({
        "arrests": 1,
        "description": "One arrest",
        "occurred_at": Timestamp::now().to_rfc3339(),
    });
    post(app, &outsider, &format!("{path}/outcomes"), outcome.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    let moved = ok(app, &force, &format!("{path}/roles"), change).await;
    assert_eq!(moved["roles"].as_array().expect("spans").len(), 4);
    // Kent still supports, so it still records outcomes; an empty outcome is refused.
    created(app, &force, &format!("{path}/outcomes"), outcome).await;
    let empty = post(
        app,
        &force,
        &format!("{path}/outcomes"),
        json!({ "description": "Nothing", "occurred_at": Timestamp::now().to_rfc3339() }),
    )
    .await;
    empty.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        audit_actions(app)
            .await
            .contains(&"operation.lead-change".to_owned())
    );
}

/// ¶5: a Priority or High Priority designation is an analyst's; it is recorded with
/// its date and basis, and earlier designations stay on the record.
async fn only_analysts_designate_subjects_and_designations_are_kept(app: &TestApp) {
    let force = app.as_user("wmp.tasking").await;
    let analyst = app.as_user("wmp.analyst").await;
    let other_analyst = app.as_user("mps.analyst").await;
    let refused = post(
        app,
        &force,
        "/api/v1/subjects",
        json!({ "kind": "individual", "name": "A. Person", "designation": "priority", "basis": "x" }),
    )
    .await;
    refused.problem(StatusCode::FORBIDDEN);
    let standard = subject(app, &force, "individual", "A. Person", "standard").await;
    let path = format!("/api/v1/subjects/{standard}/designations");
    let body = json!({ "designation": "high-priority", "basis": "Firearms access confirmed" });
    post(app, &force, &path, body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    post(app, &other_analyst, &path, body.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    let designated = created(app, &analyst, &path, body).await;
    assert_eq!(designated["designation"]["level"], "high-priority");
    let history = designated["designations"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["level"], "standard");
    let bad = post(
        app,
        &analyst,
        "/api/v1/subjects",
        json!({ "kind": "gang", "name": "X", "designation": "standard", "basis": "x" }),
    )
    .await;
    assert!(bad.status.is_client_error());
    assert!(bad.text.contains("kind"), "{}", bad.text);
}

/// Subjects, notifications and opening operations refuse those outside the rule.
async fn subjects_notifications_and_new_operations_refuse_outsiders(app: &TestApp) {
    let analyst = app.as_user("wmp.analyst").await;
    let outsider = app.as_user("mps.tasking").await;
    let viewer = app.as_user("nca.viewer").await;
    let admin = app.as_user("nca.admin").await;
    let case_officer = app.as_user("gmp.case").await;
    let group = subject(
        app,
        &analyst,
        "organised-crime-group",
        "Eastside",
        "priority",
    )
    .await;
    let path = format!("/api/v1/subjects/{group}");
    app.get(&path, &outsider)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&path, &admin).await.problem(StatusCode::NOT_FOUND);
    let listed = app.get("/api/v1/subjects", &outsider).await;
    assert_eq!(listed.json, json!([]));
    let body =
        json!({ "kind": "individual", "name": "X", "designation": "standard", "basis": "x" });
    post(app, &viewer, "/api/v1/subjects", body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    post(app, &admin, "/api/v1/subjects", body)
        .await
        .problem(StatusCode::FORBIDDEN);
    // A subject the user cannot see cannot be put on a request or an operation.
    let on_request = post(
        app,
        &outsider,
        "/api/v1/requests",
        request(
            "nca",
            json!({ "type": "assistance" }),
            &[],
            json!({ "subjects": [group] }),
        ),
    )
    .await;
    on_request.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(on_request.problem_fields(), ["subjects"]);
    let operation = json!({
        "code_name": "Operation Gull",
        "threat_areas": ["drugs"],
        "strands": ["pursue"],
        "subjects": [group],
        "reason": "x",
    });
    post(app, &outsider, "/api/v1/operations", operation.clone())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    post(app, &case_officer, "/api/v1/operations", operation.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    post(app, &viewer, "/api/v1/operations", operation)
        .await
        .problem(StatusCode::FORBIDDEN);
    // A notification is its own user's.
    let force = app.as_user("wmp.tasking").await;
    raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "assistance" }),
            &["west-midlands"],
            json!({}),
        ),
    )
    .await;
    let agency = app.as_user("nca.tasking").await;
    let mine = app.get("/api/v1/notifications", &agency).await;
    let notification = mine.json[0]["id"]
        .as_str()
        .expect("a notification")
        .to_owned();
    let read_path = format!("/api/v1/notifications/{notification}/read");
    post(app, &outsider, &read_path, json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    let read = post(app, &agency, &read_path, json!({})).await;
    assert_eq!(read.status, StatusCode::NO_CONTENT, "{}", read.text);
    let mine = app.get("/api/v1/notifications", &agency).await;
    assert!(mine.json[0]["read_at"].is_string());
}

/// Reading a request is on the record: an administrator can say who saw it, when and
/// through what; a refused look leaves no read behind.
async fn who_saw_a_request_is_answered_from_the_audit_log(app: &TestApp) {
    let force = app.as_user("kent.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let outsider = app.as_user("mps.tasking").await;
    let asked = raise_and_submit(
        app,
        &force,
        request("nca", json!({ "type": "assistance" }), &["kent"], json!({})),
    )
    .await;
    let path = format!("/api/v1/requests/{}", id(&asked));
    assert_eq!(app.get(&path, &agency).await.status, StatusCode::OK);
    recommendation(app, &agency, id(&asked)).await;
    app.get(&path, &outsider)
        .await
        .problem(StatusCode::NOT_FOUND);
    let admin = app.as_user("nca.admin").await;
    let log = app
        .get(
            &format!("/api/v1/audit?record_kind=request&record_id={}", id(&asked)),
            &admin,
        )
        .await;
    let reads: Vec<(String, String)> = log
        .json
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "record.read")
        .map(|e| {
            (
                e["actor_name"].as_str().unwrap_or_default().to_owned(),
                e["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(
        reads.iter().all(|(who, _)| who == "nca.tasking"),
        "{reads:?}"
    );
    assert!(
        reads.iter().any(|(_, d)| d.contains("recommendation")),
        "{reads:?}"
    );
}

stories!(
    who_saw_a_request_is_answered_from_the_audit_log,
    subjects_notifications_and_new_operations_refuse_outsiders,
    cash_in_transit_robberies_move_from_force_lead_to_agency_lead,
    malware_fraud_is_led_by_the_rocu_with_agency_support,
    money_laundering_with_tax_offences_is_led_by_hmrc_and_coordinated_by_the_agency,
    requests_are_routed_by_paragraphs_21_to_24,
    the_rocu_gateway_sees_and_is_told_of_requests_it_carries,
    decisions_depart_only_with_a_reason_and_are_superseded_not_edited,
    charging_is_none_unless_both_sides_agree_an_exception,
    overdue_requests_are_flagged_and_then_expire,
    each_role_and_organisation_outside_the_rule_is_refused,
    only_parties_see_an_operation_and_only_the_lead_changes_its_roles,
    only_analysts_designate_subjects_and_designations_are_kept,
);
