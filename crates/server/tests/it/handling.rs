//! Intelligence handling: markings hide records above a reader's vetting everywhere,
//! shares give need-to-know access until they lapse or are revoked, and handling code C
//! is shown to its recipients and never shared onwards.

use crate::helpers::{TestApp, Who};
use crate::stories;
use concordat_domain::people::{Clearance, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OFFICERS: &[Role] = &[Role::Analyst, Role::TaskingOfficer, Role::CaseOfficer];

async fn created(app: &TestApp, who: &Who, path: &str, body: Value) -> Value {
    let answer = app.call(Method::POST, path, who, Some(body)).await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{path}: {}",
        answer.text
    );
    answer.json
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect()
}

fn intelligence(title: &str, grading: Value, marking: Value) -> Value {
    json!({
        "title": title,
        "text": "A courier collects cash from the car wash on Thursdays.",
        "grading": grading,
        "marking": marking,
    })
}

fn graded(source: &str, intelligence: &str, handling: Value) -> Value {
    json!({ "system": "3x5x2", "source": source, "intelligence": intelligence, "handling": handling })
}

fn in_an_hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}

async fn secret_records_do_not_exist_for_a_reader_without_the_vetting(app: &TestApp) {
    let sc = app
        .person("h.wmp.sc", "west-midlands", OFFICERS, Clearance::Sc)
        .await;
    let bpss = app
        .person("h.wmp.bpss", "west-midlands", OFFICERS, Clearance::Bpss)
        .await;
    let secret = json!({ "classification": "secret" });

    let subject = created(
        app,
        &sc,
        "/api/v1/subjects",
        json!({ "kind": "individual", "name": "Secret subject", "designation": "standard",
                "basis": "Covert source", "marking": secret }),
    )
    .await;
    let official_subject = created(
        app,
        &sc,
        "/api/v1/subjects",
        json!({ "kind": "individual", "name": "Open subject", "designation": "standard",
                "basis": "Open source", "marking": { "classification": "official", "sensitive": true, "descriptors": ["personal"] } }),
    )
    .await;
    let request = created(
        app,
        &sc,
        "/api/v1/requests",
        json!({
            "title": "Secret surveillance request",
            "kind": { "type": "assistance" },
            "receiver": "nca",
            "threat_areas": ["firearms"],
            "geography": { "areas": ["west-midlands"], "international": false },
            "urgency": "routine",
            "case": "Covert case.",
            "marking": secret,
        }),
    )
    .await;
    let report = created(
        app,
        &sc,
        "/api/v1/intelligence",
        intelligence(
            "Secret report",
            graded("1", "A", json!({"code": "P"})),
            secret.clone(),
        ),
    )
    .await;
    assert_eq!(report["banner"], "SECRET");
    assert_eq!(report["grade"], "1A P");
    let registration = created(
        app,
        &sc,
        "/api/v1/registrations",
        json!({
            "record": { "kind": "person", "names": [{ "given": "Harold", "surname": "Quenby" }], "date_of_birth": "1975-02-03" },
            "point_of_contact": { "name": "DS Rao", "detail": "0121 626 5000" },
            "disclosure": "open",
            "marking": secret,
        }),
    )
    .await;
    let registration = registration["registration"].clone();

    let records = [
        (
            "subject",
            id(&subject),
            format!("/api/v1/subjects/{}", id(&subject)),
        ),
        (
            "request",
            id(&request),
            format!("/api/v1/requests/{}", id(&request)),
        ),
        (
            "intelligence",
            id(&report),
            format!("/api/v1/intelligence/{}", id(&report)),
        ),
        (
            "registration",
            id(&registration),
            format!("/api/v1/registrations/{}", id(&registration)),
        ),
    ];
    for (kind, record, path) in &records {
        assert_eq!(app.get(path, &sc).await.status, StatusCode::OK, "{path}");
        app.get(path, &bpss).await.problem(StatusCode::NOT_FOUND);
        for part in ["marking", "shares"] {
            app.get(&format!("/api/v1/records/{kind}/{record}/{part}"), &bpss)
                .await
                .problem(StatusCode::NOT_FOUND);
        }
    }
    // Changes to a record the reader cannot see are answered as if it did not exist.
    app.call(
        Method::POST,
        &format!("/api/v1/requests/{}/submit", id(&request)),
        &bpss,
        Some(json!({})),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.call(
        Method::POST,
        &format!("/api/v1/subjects/{}/designations", id(&subject)),
        &bpss,
        Some(json!({ "designation": "priority", "basis": "x" })),
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    // Lists and counts leave them out.
    for (list, hidden) in [
        ("/api/v1/subjects", id(&subject)),
        ("/api/v1/requests", id(&request)),
        ("/api/v1/intelligence", id(&report)),
        ("/api/v1/registrations", id(&registration)),
    ] {
        let seen = ids(&app.get(list, &sc).await.json);
        assert!(seen.contains(&hidden), "{list} for SC: {seen:?}");
        let seen = ids(&app.get(list, &bpss).await.json);
        assert!(!seen.contains(&hidden), "{list} for BPSS: {seen:?}");
    }
    // So do exports, in either format; an export carries the banner of what it holds,
    // and whoever exports a record is named in the audit log as having seen it.
    for (kind, record, _) in &records {
        let export = app.get(&format!("/api/v1/exports/{kind}"), &sc).await;
        assert_eq!(export.status, StatusCode::OK, "{}", export.text);
        assert!(
            ids(&export.json["records"]).contains(record),
            "{kind} export for SC"
        );
        assert_eq!(export.json["banner"], "SECRET", "{kind}");
        let export = app.get(&format!("/api/v1/exports/{kind}"), &bpss).await;
        assert!(
            !export.text.contains(record.as_str()),
            "{kind} export for BPSS"
        );
        assert_ne!(export.json["banner"], "SECRET", "{kind}");
        let csv = app
            .get(&format!("/api/v1/exports/{kind}?format=csv"), &sc)
            .await;
        assert!(csv.text.starts_with("banner,"), "{}", csv.text);
        assert!(csv.text.contains(record.as_str()), "{kind} CSV for SC");
        let csv = app
            .get(&format!("/api/v1/exports/{kind}?format=csv"), &bpss)
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
        assert!(!csv.text.contains(record.as_str()), "{kind} CSV for BPSS");
    }
    let who_saw = app
        .get(
            &format!(
                "/api/v1/audit?record_kind=intelligence&record_id={}",
                id(&report)
            ),
            &app.as_user("nca.admin").await,
        )
        .await;
    assert!(
        who_saw.text.contains(r#"\"view\":\"export\""#) && who_saw.text.contains("h.wmp.sc"),
        "{}",
        who_saw.text
    );
    app.get("/api/v1/exports/users", &sc)
        .await
        .problem(StatusCode::NOT_FOUND);
    let bad = app.get("/api/v1/exports/subject?format=pdf", &sc).await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.problem_fields(), vec!["format"]);

    let subjects = ids(&app.get("/api/v1/subjects", &bpss).await.json);
    assert_eq!(
        subjects,
        vec![id(&official_subject)],
        "OFFICIAL-SENSITIVE is OFFICIAL"
    );
    let marking = app
        .get(
            &format!("/api/v1/records/subject/{}/marking", id(&official_subject)),
            &bpss,
        )
        .await;
    assert_eq!(marking.json["banner"], "OFFICIAL-SENSITIVE PERSONAL");

    // Nobody marks a record above their own vetting.
    let too_high = app
        .call(
            Method::POST,
            "/api/v1/intelligence",
            &sc,
            Some(intelligence(
                "Top secret report",
                graded("1", "A", json!({"code": "P"})),
                json!({ "classification": "top-secret" }),
            )),
        )
        .await;
    too_high.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_high.problem_fields(), vec!["marking.classification"]);
    let bad = app
        .call(
            Method::PUT,
            &format!("/api/v1/records/subject/{}/marking", id(&official_subject)),
            &sc,
            Some(json!({ "classification": "secret", "sensitive": true })),
        )
        .await;
    bad.problem(StatusCode::BAD_REQUEST);
    assert_eq!(bad.problem_fields(), vec!["sensitive"]);
    assert!(
        bad.text
            .contains("SENSITIVE caveat applies to OFFICIAL only"),
        "{}",
        bad.text
    );

    // Re-marking up hides the record from the OFFICIAL reader at once, and is audited.
    let remarked = app
        .call(
            Method::PUT,
            &format!("/api/v1/records/subject/{}/marking", id(&official_subject)),
            &sc,
            Some(json!({ "classification": "secret", "national_caveats": ["uk-eyes-only"] })),
        )
        .await;
    assert_eq!(remarked.status, StatusCode::OK, "{}", remarked.text);
    assert_eq!(remarked.json["banner"], "SECRET UK EYES ONLY");
    assert_eq!(app.get("/api/v1/subjects", &bpss).await.json, json!([]));
    let admin = app.as_user("nca.admin").await;
    let audit = app
        .get(
            &format!(
                "/api/v1/audit?record_kind=subject&record_id={}",
                id(&official_subject)
            ),
            &admin,
        )
        .await;
    assert!(audit.text.contains("record.mark"), "{}", audit.text);
    assert!(audit.text.contains("SECRET UK EYES ONLY"), "{}", audit.text);
}

async fn a_share_gives_need_to_know_access_until_it_lapses_or_is_revoked(app: &TestApp) {
    let gmp = app
        .person("h.gmp", "greater-manchester", OFFICERS, Clearance::Sc)
        .await;
    let mps = app.person("h.mps", "mps", OFFICERS, Clearance::Sc).await;
    let report = created(
        app,
        &gmp,
        "/api/v1/intelligence",
        intelligence(
            "Courier at the car wash",
            graded("2", "B", json!({"code": "P"})),
            json!({ "classification": "official", "sensitive": true }),
        ),
    )
    .await;
    let path = format!("/api/v1/intelligence/{}", id(&report));
    let shares = format!("/api/v1/records/intelligence/{}/shares", id(&report));
    app.get(&path, &mps).await.problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/intelligence", &mps).await.json, json!([]));

    // A share needs a reason and an expiry in the future.
    let missing_reason = app
        .call(
            Method::POST,
            &shares,
            &gmp,
            Some(json!({ "organisation": "mps", "expires_at": in_an_hour() })),
        )
        .await;
    missing_reason.problem(StatusCode::BAD_REQUEST);
    assert_eq!(missing_reason.problem_fields(), vec!["reason"]);
    let past = app
        .call(
            Method::POST,
            &shares,
            &gmp,
            Some(json!({ "organisation": "mps", "reason": "Joint work", "expires_at": "2020-01-01T00:00:00Z" })),
        )
        .await;
    past.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(past.problem_fields(), vec!["expires_at"]);
    // Nobody shares a record they cannot see.
    app.call(
        Method::POST,
        &shares,
        &mps,
        Some(json!({ "organisation": "mps", "reason": "Want it", "expires_at": in_an_hour() })),
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    let share = created(
        app,
        &gmp,
        &shares,
        json!({ "organisation": "mps", "reason": "The courier is seen in Lambeth too.", "expires_at": in_an_hour() }),
    )
    .await;
    let seen = app.get(&path, &mps).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert!(seen.json["shared_until"].is_string(), "{}", seen.text);
    assert_eq!(
        ids(&app.get("/api/v1/intelligence", &mps).await.json),
        vec![id(&report)]
    );
    // The recipient may not re-mark it or revoke the share.
    app.call(
        Method::PUT,
        &format!("/api/v1/records/intelligence/{}/marking", id(&report)),
        &mps,
        Some(json!({ "classification": "official" })),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    app.call(
        Method::DELETE,
        &format!("/api/v1/shares/{}", id(&share)),
        &mps,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    // Revoked: gone at once.
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/shares/{}", id(&share)),
            &gmp,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    app.get(&path, &mps).await.problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/intelligence", &mps).await.json, json!([]));

    // Expired: gone when the clock passes it, with nothing done.
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    created(
        app,
        &gmp,
        &shares,
        json!({ "organisation": "mps", "reason": "Briefly, for the arrest.", "expires_at": soon }),
    )
    .await;
    assert_eq!(app.get(&path, &mps).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    app.get(&path, &mps).await.problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/intelligence", &mps).await.json, json!([]));

    // Every share and every read is on the record.
    let admin = app.as_user("nca.admin").await;
    let audit = app
        .get(
            &format!(
                "/api/v1/audit?record_kind=intelligence&record_id={}",
                id(&report)
            ),
            &admin,
        )
        .await
        .text;
    assert_eq!(audit.matches("\"record.share\"").count(), 2, "{audit}");
    assert!(audit.contains("record.share-revoke"), "{audit}");
    assert!(audit.contains("record.read"), "{audit}");
}

async fn handling_code_c_is_shown_to_the_recipient_and_never_shared_onwards(app: &TestApp) {
    let gmp = app
        .person("c.gmp", "greater-manchester", OFFICERS, Clearance::Sc)
        .await;
    let mps = app.person("c.mps", "mps", OFFICERS, Clearance::Sc).await;
    let conditional = created(
        app,
        &gmp,
        "/api/v1/intelligence",
        intelligence(
            "Source-sensitive",
            graded(
                "2",
                "B",
                json!({ "code": "C", "conditions": "SIO only; no onward disclosure." }),
            ),
            json!({ "classification": "official" }),
        ),
    )
    .await;
    let permitted = created(
        app,
        &gmp,
        "/api/v1/intelligence",
        intelligence(
            "Shareable",
            graded("1", "B", json!({ "code": "P" })),
            json!({ "classification": "official" }),
        ),
    )
    .await;
    let legacy = created(
        app,
        &gmp,
        "/api/v1/intelligence",
        intelligence(
            "Old report",
            json!({ "system": "5x5x5", "as_given": "B2 4" }),
            json!({ "classification": "official" }),
        ),
    )
    .await;
    assert_eq!(legacy["grade"], "B2 4");
    assert_eq!(
        legacy["grading"],
        json!({ "system": "5x5x5", "as_given": "B2 4" })
    );

    for report in [&conditional, &permitted, &legacy] {
        created(
            app,
            &gmp,
            &format!("/api/v1/records/intelligence/{}/shares", id(report)),
            json!({ "organisation": "mps", "reason": "Joint operation", "expires_at": in_an_hour() }),
        )
        .await;
    }
    let seen = app
        .get(&format!("/api/v1/intelligence/{}", id(&conditional)), &mps)
        .await;
    assert_eq!(seen.json["grade"], "2B C");
    assert_eq!(seen.json["conditions"], "SIO only; no onward disclosure.");

    let onward = |report: &Value, until: String| {
        let path = format!("/api/v1/records/intelligence/{}/shares", id(report));
        let body = json!({ "organisation": "west-midlands", "reason": "Their area too", "expires_at": until });
        let mps = mps.clone();
        async move { app.call(Method::POST, &path, &mps, Some(body)).await }
    };
    let refused = onward(&conditional, in_an_hour()).await;
    refused.problem(StatusCode::FORBIDDEN);
    assert!(refused.text.contains("handling code C"), "{}", refused.text);
    onward(&legacy, in_an_hour())
        .await
        .problem(StatusCode::FORBIDDEN);
    let beyond = onward(
        &permitted,
        (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
    )
    .await;
    beyond.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(beyond.problem_fields(), vec!["expires_at"]);
    let within = onward(
        &permitted,
        (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339(),
    )
    .await;
    assert_eq!(within.status, StatusCode::CREATED, "{}", within.text);
    // The originator shares its own C-coded record; a recipient sees only its own share.
    created(
        app,
        &gmp,
        &format!("/api/v1/records/intelligence/{}/shares", id(&conditional)),
        json!({ "organisation": "west-midlands", "reason": "Originator's decision", "expires_at": in_an_hour() }),
    )
    .await;
    let all = app
        .get(
            &format!("/api/v1/records/intelligence/{}/shares", id(&conditional)),
            &gmp,
        )
        .await;
    assert_eq!(all.json.as_array().expect("list").len(), 2);
    let own = app
        .get(
            &format!("/api/v1/records/intelligence/{}/shares", id(&conditional)),
            &mps,
        )
        .await;
    assert_eq!(own.json.as_array().expect("list").len(), 1);
    assert_eq!(own.json[0]["organisation"], "mps");
    // Registrations and directions are never shared.
    let registration = created(
        app,
        &gmp,
        "/api/v1/registrations",
        json!({
            "record": { "kind": "vehicle", "registration": "GM05 ABC" },
            "point_of_contact": { "name": "DC Hale", "detail": "0161 872 5050" },
            "disclosure": "open",
        }),
    )
    .await;
    app.call(
        Method::POST,
        &format!(
            "/api/v1/records/registration/{}/shares",
            id(&registration["registration"])
        ),
        &gmp,
        Some(json!({ "organisation": "mps", "reason": "x", "expires_at": in_an_hour() })),
    )
    .await
    .problem(StatusCode::CONFLICT);
}

/// The existence of a SECRET interest is itself SECRET: when a SECRET registration hits
/// another organisation's OFFICIAL one, only people vetted for SECRET on either side hear
/// of the hit — in their hit list, when acting on it, and in their inbox.
async fn a_hit_on_a_secret_registration_is_told_only_to_those_vetted_for_it(app: &TestApp) {
    let wmp_sc = app
        .person("hh.wmp.sc", "west-midlands", OFFICERS, Clearance::Sc)
        .await;
    let gmp_sc = app
        .person("hh.gmp.sc", "greater-manchester", OFFICERS, Clearance::Sc)
        .await;
    let gmp_bpss = app
        .person(
            "hh.gmp.bpss",
            "greater-manchester",
            OFFICERS,
            Clearance::Bpss,
        )
        .await;
    let person = json!({ "kind": "person", "names": [{ "given": "Odette", "surname": "Marchbanks" }], "date_of_birth": "1981-07-19" });
    created(
        app,
        &gmp_bpss,
        "/api/v1/registrations",
        json!({
            "record": person,
            "point_of_contact": { "name": "DC Hale", "detail": "0161 872 5050" },
            "disclosure": "open",
        }),
    )
    .await;
    let secret = created(
        app,
        &wmp_sc,
        "/api/v1/registrations",
        json!({
            "record": person,
            "point_of_contact": { "name": "DS Rao", "detail": "0121 626 5000" },
            "disclosure": "open",
            "marking": { "classification": "secret" },
        }),
    )
    .await;
    assert_eq!(secret["hits"].as_array().map(Vec::len), Some(1), "{secret}");

    // Greater Manchester's SC officer is told, with the other side's contact.
    let hits = app.get("/api/v1/hits", &gmp_sc).await;
    assert_eq!(hits.json.as_array().map(Vec::len), Some(1), "{}", hits.text);
    let hit = hits.json[0]["id"].as_str().expect("hit id").to_owned();
    assert_eq!(hits.json[0]["other"]["point_of_contact"]["name"], "DS Rao");
    let told = app.get("/api/v1/notifications", &gmp_sc).await;
    assert!(told.text.contains(&format!("hit:{hit}")), "{}", told.text);

    // Its BPSS officer, who made the OFFICIAL registration, is not: no hit in the list,
    // 404 on acknowledging it, nothing in the inbox.
    let hits = app.get("/api/v1/hits", &gmp_bpss).await;
    assert_eq!(hits.json, json!([]), "{}", hits.text);
    app.call(
        Method::POST,
        &format!("/api/v1/hits/{hit}/acknowledgement"),
        &gmp_bpss,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let told = app.get("/api/v1/notifications", &gmp_bpss).await;
    assert!(!told.text.contains(&hit), "{}", told.text);
}

stories!(
    secret_records_do_not_exist_for_a_reader_without_the_vetting,
    a_share_gives_need_to_know_access_until_it_lapses_or_is_revoked,
    handling_code_c_is_shown_to_the_recipient_and_never_shared_onwards,
    a_hit_on_a_secret_registration_is_told_only_to_those_vetted_for_it,
);
