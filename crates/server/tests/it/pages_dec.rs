//! The deconfliction and catalogue pages, driven as a browser without JavaScript would:
//! forms posted with the session's CSRF token, answers read as HTML.

use crate::deconfliction::{register, william_smith};
use crate::events::{plan, planned};
use crate::helpers::{PASSWORD, Response, TestApp, Who};
use crate::stories;
use concordat_domain::time::Timestamp;
use reqwest::StatusCode;

fn location(response: &Response) -> String {
    response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}: {}", response.status, response.text))
        .to_owned()
}

fn hours_from_now(hours: i64) -> String {
    Timestamp::now()
        .plus(chrono::Duration::hours(hours))
        .to_rfc3339()
}

/// The part of `html` inside the element with `id` (up to the next `</section>`).
fn region<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The same man as West Midlands types him into the form: William Smith as another
/// force registered him, with a nickname and a typo.
fn bill_smyth_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("kind", "person"),
        ("given", "Bill"),
        ("surname", "Smyth"),
        ("aliases", ""),
        ("date_of_birth", "04/01/1980"),
        ("sex", ""),
        ("house", "14"),
        ("street", "Tonbridge Rd"),
        ("town", "Maidstone"),
        ("postcode", "ME168RX"),
        ("phone", "+44 7700 900123"),
        ("email", ""),
        ("document", ""),
        ("national_id", ""),
        ("operation_reference", "Op KESTREL"),
        ("poc_name", "DC Sam Patel"),
        ("poc_detail", "0121 626 5000"),
        ("disclosure", "open"),
        ("marking", "official"),
    ]
}

/// West Midlands registers Bill Smyth with the form; the registration's address.
async fn registered_with_the_form(app: &TestApp, who: &Who) -> String {
    let answer = app
        .post_form("/deconfliction/registrations/new", who, &bill_smyth_form())
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    location(&answer)
}

async fn a_case_officer_registers_a_subject_that_hits_another_organisations_and_both_see_it(
    app: &TestApp,
) {
    let gmp = app.sign_in("gmp.case", PASSWORD).await;
    let wmp = app.sign_in("wmp.case", PASSWORD).await;
    let theirs = register(app, &gmp, william_smith(), "open").await;
    let theirs_id = theirs["registration"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Step 1 offers the kinds; step 2 the chosen kind's fields.
    let step1 = app.get("/deconfliction/registrations/new", &wmp).await;
    assert_eq!(step1.status, StatusCode::OK);
    assert!(step1.text.contains("A person") && step1.text.contains("A vehicle"));
    let step2 = app
        .get("/deconfliction/registrations/new?kind=person", &wmp)
        .await;
    assert_eq!(step2.status, StatusCode::OK);
    assert!(step2.text.contains("Given names") && step2.text.contains("Register and check"));

    let address = registered_with_the_form(app, &wmp).await;
    assert!(
        address.starts_with("/deconfliction/registrations/"),
        "{address}"
    );
    let page = app.get(&address, &wmp).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("1 hit"), "{}", page.text);
    assert!(page.text.contains("Greater Manchester"), "{}", page.text);
    assert!(page.text.contains("Bill Smyth"), "the record as registered");
    assert!(page.text.contains("class=\"banner\">OFFICIAL<"));

    // Both organisations see the hit on their deconfliction page.
    let mine = app.get("/deconfliction", &wmp).await;
    assert_eq!(mine.status, StatusCode::OK);
    let hits = region(&mine.text, "hits");
    assert!(hits.contains("Greater Manchester"), "{hits}");
    assert!(hits.contains("to acknowledge"));
    assert!(mine.text.contains("data-live-region"));
    let other = app.get("/deconfliction", &gmp).await;
    let hits = region(&other.text, "hits");
    assert!(hits.contains("West Midlands"), "{hits}");

    // The hit's page gives the other side's contact, as its disclosure allows.
    let api = app.get("/api/v1/hits", &wmp).await;
    let hit = api.json[0]["id"].as_str().expect("a hit").to_owned();
    let hit_page = app.get(&format!("/deconfliction/hits/{hit}"), &wmp).await;
    assert_eq!(hit_page.status, StatusCode::OK);
    assert!(hit_page.text.contains("DS Jane Cole"), "{}", hit_page.text);
    assert!(
        hit_page.text.contains("DC Sam Patel"),
        "our own contact too"
    );

    // Neither sees the other's registration: the address pasted is the not-found page.
    let pasted = app.get(&address, &gmp).await;
    assert_eq!(pasted.status, StatusCode::NOT_FOUND);
    assert!(pasted.text.contains("Page not found"));
    assert!(!pasted.text.contains("Smyth"));
    let pasted = app
        .get(&format!("/deconfliction/registrations/{theirs_id}"), &wmp)
        .await;
    assert_eq!(pasted.status, StatusCode::NOT_FOUND);
    // A third organisation hears nothing, and cannot open the hit.
    let met = app.sign_in("mps.tasking", PASSWORD).await;
    let page = app.get("/deconfliction", &met).await;
    assert!(!region(&page.text, "hits").contains("West Midlands"));
    assert_eq!(
        app.get(&format!("/deconfliction/hits/{hit}"), &met)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn registration_pages_refuse_who_may_not_register(app: &TestApp) {
    // The API's route lets analysts call it, but the service refuses them: the pages
    // offer them nothing to press, and refuse them as the service does.
    let analyst = app.sign_in("wmp.analyst", PASSWORD).await;
    let refused = app
        .call(
            reqwest::Method::POST,
            "/api/v1/registrations",
            &analyst,
            Some(serde_json::json!({
                "record": william_smith(),
                "point_of_contact": { "name": "A", "detail": "B" },
                "disclosure": "open",
            })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let page = app.get("/deconfliction", &analyst).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "an analyst reads deconfliction"
    );
    assert!(!page.text.contains("Register a subject"));
    assert!(!page.text.contains("/deconfliction/activities/new"));
    assert_eq!(
        app.get("/deconfliction/registrations/new", &analyst)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let posted = app
        .post_form(
            "/deconfliction/registrations/new",
            &analyst,
            &bill_smyth_form(),
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/registrations", &analyst).await.json,
        serde_json::json!([]),
        "nothing was registered"
    );

    // An administrator reads no casework: no link, and the page is refused.
    let admin = app.sign_in("nca.admin", PASSWORD).await;
    assert_eq!(
        app.get("/deconfliction", &admin).await.status,
        StatusCode::FORBIDDEN
    );
    let home = app.get("/", &admin).await;
    assert!(!home.text.contains("href=\"/deconfliction\""));

    // Without the session's CSRF token nothing is registered.
    let case = app.sign_in("wmp.case", PASSWORD).await;
    let forged = app
        .post_form(
            "/deconfliction/registrations/new",
            &case.without_csrf(),
            &bill_smyth_form(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/registrations", &case).await.json,
        serde_json::json!([])
    );
    // An address that names nothing is the not-found page.
    assert_eq!(
        app.get("/deconfliction/registrations/not-an-id", &case)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn a_registration_form_with_errors_shows_the_summary_and_keeps_values(app: &TestApp) {
    let case = app.sign_in("wmp.case", PASSWORD).await;
    let mut form = bill_smyth_form();
    form.retain(|(k, _)| !["poc_name", "poc_detail", "given"].contains(k));
    form.push(("given", "Typed <before> the errors"));
    form.push(("poc_name", ""));
    form.push(("poc_detail", ""));
    let answer = app
        .post_form("/deconfliction/registrations/new", &case, &form)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &answer.text;
    assert!(html.contains("There is a problem"));
    assert!(html.contains("<title>Error: Register a person"), "{html}");
    for field in ["poc_name", "poc_detail"] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{field}: {html}"
        );
    }
    assert!(
        html.contains("Typed &#60;before&#62; the errors")
            || html.contains("Typed &lt;before&gt; the errors"),
        "the name kept, escaped"
    );
    assert!(html.contains("value=\"Maidstone\""), "the town kept");

    // A record with nothing to match on is refused by the service, shown at its first
    // field.
    let blank: Vec<(&str, &str)> = vec![
        ("kind", "vehicle"),
        ("registration", " "),
        ("poc_name", "DC Sam Patel"),
        ("poc_detail", "0121 626 5000"),
        ("disclosure", "open"),
        ("marking", "official"),
    ];
    let answer = app
        .post_form("/deconfliction/registrations/new", &case, &blank)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer.text.contains("href=\"#registration\""),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("value=\"DC Sam Patel\""));

    // An unknown kind sends the officer back to choose one.
    let bad = app
        .get("/deconfliction/registrations/new?kind=spaceship", &case)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("href=\"#kind\""));
    assert_eq!(
        app.get("/api/v1/registrations", &case).await.json,
        serde_json::json!([]),
        "nothing was registered"
    );
}

async fn a_hit_is_acknowledged_and_resolved_through_the_pages(app: &TestApp) {
    let gmp = app.sign_in("gmp.case", PASSWORD).await;
    let wmp = app.sign_in("wmp.case", PASSWORD).await;
    register(app, &gmp, william_smith(), "open").await;
    let registration = registered_with_the_form(app, &wmp).await;
    let hit = app.get("/api/v1/hits", &wmp).await.json[0]["id"]
        .as_str()
        .expect("a hit")
        .to_owned();
    let address = format!("/deconfliction/hits/{hit}");
    let page = app.get(&address, &wmp).await;
    assert!(page.text.contains("Acknowledge hit"));

    let acknowledged = app
        .post_form(&format!("{address}/acknowledgement"), &wmp, &[])
        .await;
    assert_eq!(
        acknowledged.status,
        StatusCode::SEE_OTHER,
        "{}",
        acknowledged.text
    );
    assert_eq!(location(&acknowledged), address);
    let api = app.get("/api/v1/hits", &wmp).await;
    assert_eq!(api.json[0]["acknowledged"], true);
    assert_eq!(
        app.get("/api/v1/hits", &gmp).await.json[0]["acknowledged"],
        false,
        "each side acknowledges for itself"
    );
    let page = app.get(&address, &wmp).await;
    assert!(!page.text.contains("Acknowledge hit"));
    assert!(page.text.contains("Resolve hit"));

    // A resolution with no choice is shown again with the summary.
    let none = app
        .post_form(&format!("{address}/resolution"), &wmp, &[])
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.text.contains("href=\"#resolution\""), "{}", none.text);

    // A third organisation may not resolve it: for them it does not exist.
    let met = app.sign_in("mps.tasking", PASSWORD).await;
    let theirs = app
        .post_form(
            &format!("{address}/resolution"),
            &met,
            &[("resolution", "deconflicted")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let resolved = app
        .post_form(
            &format!("{address}/resolution"),
            &wmp,
            &[("resolution", "same-person")],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.text);
    let api = app.get("/api/v1/hits", &wmp).await;
    assert_eq!(api.json[0]["resolution"], "same-person");
    let overview = app.get("/deconfliction", &wmp).await;
    assert!(
        !region(&overview.text, "hits").contains(&format!("/deconfliction/hits/{hit}")),
        "a resolved hit no longer waits"
    );
    let page = app.get(&registration, &wmp).await;
    assert!(page.text.contains("Same person"), "{}", page.text);

    // Renew and withdraw from the registration's page.
    let renewed = app
        .post_form(&format!("{registration}/renewal"), &wmp, &[])
        .await;
    assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.text);
    let withdrawn = app
        .post_form(&format!("{registration}/withdrawal"), &wmp, &[])
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    let page = app.get(&registration, &wmp).await;
    assert!(page.text.contains("withdrawn"));
    assert!(!page.text.contains("Withdraw registration"));
}

async fn activity_is_planned_and_a_clash_acknowledged_through_the_pages(app: &TestApp) {
    let wmp = app.sign_in("wmp.case", PASSWORD).await;
    let gmp = app.sign_in("gmp.case", PASSWORD).await;
    let (from, to) = (hours_from_now(24), hours_from_now(27));
    let form = app.get("/deconfliction/activities/new", &wmp).await;
    assert_eq!(form.status, StatusCode::OK);
    let mut fields: Vec<(&str, &str)> = vec![
        ("kind", "warrant-or-search"),
        ("title", "Warrant at the Digbeth unit"),
        ("latitude", "52.4751"),
        ("longitude", "-1.8833"),
        ("accuracy_m", "20"),
        ("address", "Unit 4, Heartlands Trading Estate"),
        ("postcode", "b7 5qt"),
        ("starts_at", &from),
        ("ends_at", "not a time"),
        ("poc_name", "DS Amy Rowe"),
        ("poc_detail", "0121 626 5000"),
        ("covert", "no"),
    ];
    let refused = app
        .post_form("/deconfliction/activities/new", &wmp, &fields)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("href=\"#ends_at\""),
        "{}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains("value=\"Warrant at the Digbeth unit\"")
    );
    fields.retain(|(k, _)| *k != "ends_at");
    fields.push(("ends_at", &to));
    let planned_page = app
        .post_form("/deconfliction/activities/new", &wmp, &fields)
        .await;
    assert_eq!(
        planned_page.status,
        StatusCode::SEE_OTHER,
        "{}",
        planned_page.text
    );
    let address = location(&planned_page);
    let page = app.get(&address, &wmp).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Warrant at the Digbeth unit"));
    assert!(page.text.contains("B7 5QT"));
    assert!(page.text.contains("role=\"img\""), "the map");

    // Greater Manchester plans an arrest at the same place: a clash for both.
    planned(
        app,
        &gmp,
        plan(
            "arrest",
            "Arrest",
            52.4752,
            -1.8833,
            &from,
            &to,
            "DS Kim Bell",
        ),
    )
    .await;
    let overview = app.get("/deconfliction", &wmp).await;
    let clashes = region(&overview.text, "clashes");
    assert!(clashes.contains("Arrest"), "{clashes}");
    assert!(clashes.contains("Acknowledge"));
    let map = region(&overview.text, "activity");
    assert!(map.contains("<svg") && map.contains("aria-labelledby=\"map-title map-desc\""));
    assert!(
        map.contains("Warrant at the Digbeth unit"),
        "the table beside the map"
    );

    let clash = app.get("/api/v1/clashes", &wmp).await.json[0]["id"]
        .as_str()
        .expect("a clash")
        .to_owned();
    let clash_page = app
        .get(&format!("/deconfliction/clashes/{clash}"), &wmp)
        .await;
    assert_eq!(clash_page.status, StatusCode::OK);
    assert!(clash_page.text.contains("DS Kim Bell"), "who to call");
    let acknowledged = app
        .post_form(
            &format!("/deconfliction/clashes/{clash}/acknowledgement"),
            &wmp,
            &[("from", "deconfliction")],
        )
        .await;
    assert_eq!(acknowledged.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&acknowledged), "/deconfliction#clashes");
    assert_eq!(
        app.get("/api/v1/clashes", &wmp).await.json[0]["acknowledged"],
        true
    );
    // Another organisation's activity or clash is not found.
    let met = app.sign_in("mps.tasking", PASSWORD).await;
    assert_eq!(app.get(&address, &met).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/deconfliction/clashes/{clash}"), &met)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let cancelled = app
        .post_form(&format!("{address}/cancellation"), &wmp, &[])
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let page = app.get(&address, &wmp).await;
    assert!(page.text.contains("cancelled"));
    assert!(!page.text.contains("Cancel activity"));
}

async fn the_catalogue_lists_capabilities_organisations_regions_and_groups(app: &TestApp) {
    let admin = app.sign_in("nca.admin", PASSWORD).await;
    let page = app.get("/catalogue", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Specialist Surveillance",
        "Networks",
        "West Midlands Police",
        "West Midlands</dt>",
        "National Strategic Tasking and Coordination Group",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    assert!(page.text.contains("aria-current=\"page\""));
    let org = app
        .get("/catalogue/organisations/west-midlands", &admin)
        .await;
    assert_eq!(org.status, StatusCode::OK);
    assert!(
        org.text.contains("<h1>West Midlands Police</h1>"),
        "{}",
        org.text
    );
    assert!(org.text.contains("/catalogue#region-west-midlands"));
    assert!(org.text.contains("Regional unit"), "its ROCU");
    let nca = app.get("/catalogue/organisations/nca", &admin).await;
    assert!(nca.text.contains("Capabilities it provides") || nca.text.contains("Its commands"));
    assert_eq!(
        app.get("/catalogue/organisations/atlantis", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/catalogue", &Who::Nobody).await.status,
        StatusCode::SEE_OTHER,
        "signed out: to the sign-in page"
    );
}

stories!(
    a_case_officer_registers_a_subject_that_hits_another_organisations_and_both_see_it,
    registration_pages_refuse_who_may_not_register,
    a_registration_form_with_errors_shows_the_summary_and_keeps_values,
    a_hit_is_acknowledged_and_resolved_through_the_pages,
    activity_is_planned_and_a_clash_acknowledged_through_the_pages,
    the_catalogue_lists_capabilities_organisations_regions_and_groups,
);
