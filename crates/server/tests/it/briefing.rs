//! The Daily Briefing Meeting's pack: a day of fixture business across two regions,
//! read back section by section and item by item; a regional reader's pack, and a
//! reader without the vetting, miss what they may not see; the morning job keeps each
//! reader's pack, and nobody else can open it.

use crate::deconfliction::{bill_smyth, register, william_smith};
use crate::events::{plan, planned};
use crate::helpers::{TestApp, Who};
use crate::stories;
use crate::tasking::{
    created, decide, id, ok, raise_and_submit, rationale, request, roles, subject,
};
use concordat_domain::briefing::PackWindow;
use concordat_domain::people::{Clearance, Role};
use concordat_domain::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Birmingham, Digbeth, and about 150 m north.
const LAT: f64 = 52.4751;
const LON: f64 = -1.8833;
const M150: f64 = 0.00135;

fn seven() -> chrono::NaiveTime {
    chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("a time")
}

/// The date of the pack whose previous 24 hours hold this moment, and its window.
fn todays() -> (String, PackWindow) {
    let date = PackWindow::date_covering(Timestamp::now(), seven());
    (date.to_string(), PackWindow::for_date(date, seven()))
}

/// The pack for `scope` as `who` sees it.
async fn pack(app: &TestApp, who: &Who, scope: &str) -> Value {
    let (date, _) = todays();
    let answer = app
        .get(
            &format!("/api/v1/briefings/daily?date={date}&scope={scope}"),
            who,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json
}

/// Each item of one section as (kind, title).
fn section(pack: &Value, name: &str) -> Vec<(String, String)> {
    pack["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["section"] == name)
        .unwrap_or_else(|| panic!("no section {name}"))["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().expect("kind").to_owned(),
                i["title"].as_str().expect("title").to_owned(),
            )
        })
        .collect()
}

/// The items of every section that mention `text` in their title.
fn mentioning(pack: &Value, text: &str) -> Vec<Value> {
    pack["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["items"].as_array().expect("items").iter())
        .filter(|i| i["title"].as_str().is_some_and(|t| t.contains(text)))
        .cloned()
        .collect()
}

fn reasons(item: &Value) -> Vec<String> {
    item["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["rule"].as_str().expect("rule").to_owned())
        .collect()
}

/// A day of business: West Midlands and the agency on an urgent firearms case, with a
/// change of lead and a major disruption; a re-designation; a hit and a clash between
/// West Midlands and Greater Manchester; a routine request nobody needs to brief on; a
/// SECRET request; planned activity tomorrow.
async fn a_day_of_business_is_briefed_section_by_section_and_item_by_item(app: &TestApp) {
    let (_, window) = todays();
    let analyst = app.as_user("wmp.analyst").await;
    let force = app.as_user("wmp.tasking").await;
    let agency = app.as_user("nca.tasking").await;
    let wmp_case = app.as_user("wmp.case").await;
    let gmp_case = app.as_user("gmp.case").await;

    let group = subject(
        app,
        &analyst,
        "organised-crime-group",
        "Digbeth firearms network",
        "priority",
    )
    .await;
    // Re-designated High Priority today.
    created(
        app,
        &analyst,
        &format!("/api/v1/subjects/{group}/designations"),
        json!({ "designation": "high-priority", "basis": "Firearms discharged in Digbeth" }),
    )
    .await;

    // An urgent firearms request, accepted by the agency with the force leading.
    let urgent = raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "capability", "capability": "specialist-surveillance" }),
            &["west-midlands"],
            json!({ "title": "Armed surveillance on the Digbeth network", "subjects": [group],
                    "threat_areas": ["firearms"], "urgency": "urgent" }),
        ),
    )
    .await;
    ok(
        app,
        &agency,
        &format!("/api/v1/requests/{}/assessment", id(&urgent)),
        json!({}),
    )
    .await;
    let decision = decide(
        app,
        &agency,
        id(&urgent),
        json!({
            "outcome": "accepted",
            "roles": roles("west-midlands", &["nca"], &[]),
            "rationale": rationale(),
            "operation": { "create": { "code_name": "Operation Kestrel", "strands": ["pursue"] } },
        }),
    )
    .await;
    let operation = decision["operation"]
        .as_str()
        .expect("operation")
        .to_owned();
    // The lead passes to the agency, and a major disruption follows.
    ok(
        app,
        &force,
        &format!("/api/v1/operations/{operation}/roles"),
        json!({ "roles": roles("nca", &["west-midlands"], &[]),
                "reason": "The network displaced into three regions." }),
    )
    .await;
    created(
        app,
        &agency,
        &format!("/api/v1/operations/{operation}/outcomes"),
        json!({ "disruption": "major", "arrests": 3, "charges": 3, "firearms": 2,
                "description": "Two pistols recovered in Digbeth.",
                "occurred_at": Timestamp::now().to_rfc3339() }),
    )
    .await;

    // A routine fraud request: nothing the meeting needs.
    raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "assistance" }),
            &["west-midlands"],
            json!({ "title": "Routine help with invoice fraud", "threat_areas": ["fraud"] }),
        ),
    )
    .await;
    // An immediate request marked SECRET.
    raise_and_submit(
        app,
        &force,
        request(
            "nca",
            json!({ "type": "assistance" }),
            &["west-midlands"],
            json!({ "title": "Threat to life in Handsworth", "urgency": "immediate",
                    "threat_areas": ["kidnap-and-extortion"],
                    "marking": { "classification": "secret" } }),
        ),
    )
    .await;

    // A hit between the two forces, and a clash tomorrow, after the cut-off.
    register(app, &wmp_case, william_smith(), "open").await;
    register(app, &gmp_case, bill_smyth(), "open").await;
    let from = window.cutoff.plus(chrono::Duration::hours(3)).to_rfc3339();
    let to = window.cutoff.plus(chrono::Duration::hours(5)).to_rfc3339();
    planned(
        app,
        &wmp_case,
        plan(
            "warrant-or-search",
            "Search of the car wash",
            LAT,
            LON,
            &from,
            &to,
            "DS Rao",
        ),
    )
    .await;
    planned(
        app,
        &gmp_case,
        plan(
            "surveillance",
            "Follow of the courier",
            LAT + M150,
            LON,
            &from,
            &to,
            "DC Webb",
        ),
    )
    .await;

    // The force's own pack, item by item.
    let mine = pack(app, &force, "west-midlands").await;
    assert_eq!(mine["scope"], "west-midlands");
    assert_eq!(mine["prepared_for"], "wmp.tasking");
    let previous = section(&mine, "previous-24-hours");
    assert_eq!(
        previous,
        vec![
            (
                "designation".to_owned(),
                "Digbeth firearms network designated priority".to_owned()
            ),
            (
                "designation".to_owned(),
                "Digbeth firearms network re-designated high-priority (was priority)".to_owned()
            ),
            (
                "decision".to_owned(),
                "nca accepted: Armed surveillance on the Digbeth network".to_owned()
            ),
            (
                "lead-change".to_owned(),
                "Operation Kestrel: lead passes from west-midlands to nca".to_owned()
            ),
            (
                "disruption".to_owned(),
                "Operation Kestrel: major disruption".to_owned()
            ),
            (previous[5].0.clone(), previous[5].1.clone()),
            (previous[6].0.clone(), previous[6].1.clone()),
        ],
        "{mine}"
    );
    assert_eq!(previous[5].0, "deconfliction-hit");
    assert!(
        previous[5].1.ends_with("with greater-manchester"),
        "{}",
        previous[5].1
    );
    assert_eq!(previous[6].0, "clash");
    assert!(
        previous[6].1.contains("with surveillance (100m-250m)"),
        "{}",
        previous[6].1
    );
    assert_eq!(previous.len(), 7, "{mine}");

    let next = section(&mine, "next-72-hours");
    assert!(
        next.iter().any(|(k, t)| k == "planned-activity"
            && t.contains("warrant-or-search: Search of the car wash")),
        "{mine}"
    );
    assert!(
        !next
            .iter()
            .any(|(_, t)| t.contains("Follow of the courier")),
        "Greater Manchester's"
    );

    let mut urgent_kinds: Vec<String> = section(&mine, "urgent-demands")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    urgent_kinds.sort();
    assert_eq!(
        urgent_kinds,
        ["open-request", "unacknowledged-clash", "unacknowledged-hit"],
        "{mine}"
    );
    assert_eq!(
        mentioning(&mine, "Open immediate request")[0]["title"],
        "Open immediate request to nca: Threat to life in Handsworth",
        "the force's SC tasking officer sees its SECRET request; the routine one is not significant"
    );
    assert_eq!(
        mine["banner"], "SECRET",
        "the pack carries its highest marking"
    );

    // Each item says why it is there and links to its record.
    let decision_item = &mentioning(&mine, "nca accepted")[0];
    assert_eq!(
        reasons(decision_item),
        ["threat-areas", "urgencies", "designations"]
    );
    assert_eq!(
        decision_item["record"]["href"],
        format!("/api/v1/requests/{}", id(&urgent))
    );
    let lead = &mentioning(&mine, "lead passes")[0];
    assert_eq!(reasons(lead)[0], "always");
    assert_eq!(lead["detail"], "The network displaced into three regions.");
    assert!(mentioning(&mine, "invoice fraud").is_empty());

    // Greater Manchester's surveillance is not significant activity by the default
    // policy, and is Greater Manchester's anyway.
    let gmp_pack = pack(app, &gmp_case, "national").await;
    assert!(section(&gmp_pack, "next-72-hours").is_empty(), "{gmp_pack}");
    assert!(mentioning(&gmp_pack, "Search of the car wash").is_empty());

    // Acknowledging the clash takes it off the urgent demands.
    let clashes = app.get("/api/v1/clashes", &wmp_case).await;
    let clash = clashes.json[0]["id"].as_str().expect("clash").to_owned();
    ok(
        app,
        &wmp_case,
        &format!("/api/v1/clashes/{clash}/acknowledgement"),
        json!({}),
    )
    .await;
    let case = pack(app, &force, "west-midlands").await;
    assert!(
        !section(&case, "urgent-demands")
            .iter()
            .any(|(k, _)| k == "unacknowledged-clash"),
        "{case}"
    );

    // The agency's national pack holds the agency's business, SECRET included.
    let national = pack(app, &agency, "national").await;
    assert!(
        !mentioning(&national, "Threat to life in Handsworth").is_empty(),
        "{national}"
    );
    assert!(!mentioning(&national, "lead passes").is_empty());

    // An agency officer vetted only to BPSS: the SECRET request is not there at all, and
    // the banner says so.
    let bpss = app
        .person("nca.bpss", "nca", &[Role::TaskingOfficer], Clearance::Bpss)
        .await;
    let lower = pack(app, &bpss, "national").await;
    assert!(mentioning(&lower, "Threat to life").is_empty(), "{lower}");
    assert_ne!(lower["banner"], "SECRET");
    assert!(
        !mentioning(&lower, "lead passes").is_empty(),
        "OFFICIAL business is there"
    );

    // Another region's reader: the South East ROCU sees none of the West Midlands
    // business, national scope or its own.
    let serocu = app.as_user("serocu.tasking").await;
    for scope in ["serocu", "national"] {
        let theirs = pack(app, &serocu, scope).await;
        for text in ["Digbeth", "Kestrel", "Handsworth", "car wash"] {
            assert!(
                mentioning(&theirs, text).is_empty(),
                "{scope}: {text} in {theirs}"
            );
        }
    }
    // And a scope narrows what a reader may see: the agency asked about Kent sees none
    // of the West Midlands business.
    let kent = pack(app, &agency, "kent").await;
    assert!(mentioning(&kent, "Kestrel").is_empty(), "{kent}");

    // Reading a pack is reading its records.
    let who_saw = app
        .get(
            &format!(
                "/api/v1/audit?record_kind=request&record_id={}",
                id(&urgent)
            ),
            &app.as_user("nca.admin").await,
        )
        .await;
    assert!(
        who_saw
            .json
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "record.read" && e["detail"].to_string().contains("briefing")),
        "{}",
        who_saw.text
    );
}

/// The pack comes as Markdown and as a printable page, with the marking on it.
async fn a_pack_is_printable_and_comes_as_markdown(app: &TestApp) {
    let agency = app.as_user("wmp.tasking").await;
    let analyst = app.as_user("wmp.analyst").await;
    subject(
        app,
        &analyst,
        "individual",
        "Person *of* <interest>",
        "high-priority",
    )
    .await;
    let (date, _) = todays();
    let md = app
        .get(
            &format!("/api/v1/briefings/daily?date={date}&format=markdown"),
            &agency,
        )
        .await;
    assert_eq!(md.status, StatusCode::OK, "{}", md.text);
    assert!(md.text.starts_with("**OFFICIAL**"), "{}", md.text);
    assert!(
        md.text
            .contains("## Significant events of the previous 24 hours")
    );
    assert!(
        md.text
            .contains("## Urgent operational and intelligence demands")
    );
    assert!(
        md.text
            .contains(r"Person \*of\* \<interest\> designated high-priority"),
        "{}",
        md.text
    );

    let html = app
        .get(
            &format!("/api/v1/briefings/daily?date={date}&format=html"),
            &agency,
        )
        .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.text.contains("<h1>Daily management pack:"),
        "{}",
        html.text
    );
    assert!(html.text.contains("id=\"banner-top\""));
    assert!(
        html.text.contains("Person *of* &#60;interest&#62;")
            || html.text.contains("Person *of* &lt;interest&gt;"),
        "{}",
        html.text
    );

    // Bad input names the field.
    for (query, field) in [
        ("date=2026-02-30", "date"),
        ("scope=atlantis", "scope"),
        ("format=pdf", "format"),
    ] {
        let answer = app
            .get(&format!("/api/v1/briefings/daily?{query}"), &agency)
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(answer.problem_fields(), [field], "{query}");
    }
    // The page shows the error summary and keeps what was typed.
    let page = app.get("/briefing?date=31/12/2026", &agency).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.text
    );
    assert!(page.text.contains("There is a problem"));
    assert!(page.text.contains("value=\"31/12/2026\""));
}

/// Only casework roles read packs: an administrator is refused.
async fn readers_without_a_casework_role_are_refused(app: &TestApp) {
    for username in ["nca.admin", "mps.admin"] {
        let who = app.as_user(username).await;
        let answer = app.get("/api/v1/briefings/daily", &who).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{username}");
        let kept = app.get("/api/v1/briefings", &who).await;
        assert_eq!(kept.status, StatusCode::FORBIDDEN, "{username}");
    }
}

stories!(
    a_day_of_business_is_briefed_section_by_section_and_item_by_item,
    a_pack_is_printable_and_comes_as_markdown,
    readers_without_a_casework_role_are_refused,
);

/// The morning job runs at midnight, so that it has run by the time a story starts, and
/// the sweep that runs it comes round five times a second.
fn morning_job_at_midnight() -> concordat_server::ServerConfig {
    concordat_server::ServerConfig {
        morning_packs: true,
        briefing_at: chrono::NaiveTime::from_hms_opt(0, 0, 0).expect("midnight"),
        deadline_sweep_every: std::time::Duration::from_millis(200),
        ..crate::helpers::test_config()
    }
}

/// The packs kept for `who`, once the job has kept one.
async fn kept_for(app: &TestApp, who: &Who) -> Value {
    for _ in 0..100 {
        let answer = app.get("/api/v1/briefings", who).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        if answer.json.as_array().is_some_and(|a| !a.is_empty()) {
            return answer.json;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no pack was kept");
}

/// The morning job keeps each tasking officer's pack once the meeting's time has
/// passed; the reader opens their own, and nobody else's.
async fn the_morning_job_keeps_each_readers_pack(app: &TestApp) {
    let agency = app.as_user("nca.tasking").await;
    let force = app.as_user("wmp.tasking").await;
    let kept = kept_for(app, &agency).await;
    let today = concordat_domain::briefing::london_date(Timestamp::now()).to_string();
    assert_eq!(kept[0]["date"], today, "{kept}");
    assert_eq!(kept[0]["scope"], "national");
    let pack_id = kept[0]["id"].as_str().expect("id").to_owned();

    let mine = app
        .get(&format!("/api/v1/briefings/{pack_id}"), &agency)
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(mine.json["prepared_for"], "nca.tasking");
    let page = app
        .get(&format!("/briefing/packs/{pack_id}"), &agency)
        .await;
    assert_eq!(page.status, StatusCode::OK);

    // Someone else's pack does not exist for them.
    let theirs = app
        .get(&format!("/api/v1/briefings/{pack_id}"), &force)
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let page = app.get(&format!("/briefing/packs/{pack_id}"), &force).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Their own is in their list, in their scope.
    let theirs = kept_for(app, &force).await;
    assert_eq!(theirs[0]["scope"], "west-midlands", "{theirs}");

    // The job keeps one a day, however often it runs.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let again = app.get("/api/v1/briefings", &agency).await;
    assert_eq!(again.json.as_array().expect("list").len(), 1);
}

stories!(with morning_job_at_midnight; the_morning_job_keeps_each_readers_pack);
