//! The request pages and the home page, driven as a browser without JavaScript would:
//! forms posted with the session's CSRF token, answers read as HTML.

use crate::helpers::{PASSWORD, Response, TestApp, Who};
use crate::stories;
use reqwest::StatusCode;

fn location(response: &Response) -> String {
    response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}: {}", response.status, response.text))
        .to_owned()
}

const RATIONALE: &[(&str, &str)] = &[
    ("information", "Firearms discharged at two robberies."),
    ("threat_and_risk", "Threat to life across the region."),
    (
        "powers_and_policy",
        "Surveillance authorised under Part II RIPA.",
    ),
    (
        "options_and_contingencies",
        "Support the force's operation.",
    ),
    (
        "action_and_review",
        "Deploy within 48 hours; review at tasking.",
    ),
];

fn raise_form(title: &str) -> Vec<(&str, &str)> {
    vec![
        ("title", title),
        ("kind", "capability"),
        ("capability", "specialist-surveillance"),
        ("receiver", "nca"),
        ("threat_areas", "firearms"),
        ("areas", "west-midlands"),
        ("international", "no"),
        ("sophistication", "standard"),
        ("urgency", "urgent"),
        (
            "case",
            "A CViT robbery group has discharged firearms twice.",
        ),
        ("marking", "official"),
    ]
}

/// West Midlands raises and submits a request to the agency with the forms; its
/// address.
async fn raised_and_submitted(app: &TestApp, force: &Who, title: &str) -> String {
    let raised = app
        .post_form("/requests/new", force, &raise_form(title))
        .await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.text);
    let address = location(&raised);
    let submitted = app
        .post_form(&format!("{address}/submit"), force, &[])
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.text
    );
    address
}

async fn a_force_raises_a_request_and_the_agency_decides_it_in_the_browser(app: &TestApp) {
    let force = app.sign_in("wmp.tasking", PASSWORD).await;
    let agency = app.sign_in("nca.tasking", PASSWORD).await;

    let form = app.get("/requests/new", &force).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.text.contains("Specialist Surveillance"),
        "the capability chooser"
    );
    assert!(
        form.text.contains("<optgroup"),
        "capabilities grouped by category"
    );

    let address =
        raised_and_submitted(app, &force, "Armed surveillance on the Eastside group").await;
    let id = address.trim_start_matches("/requests/");
    let api = app.get(&format!("/api/v1/requests/{id}"), &force).await;
    assert_eq!(api.json["request"]["state"], "submitted");
    assert_eq!(
        api.json["request"]["kind"]["capability"],
        "specialist-surveillance"
    );

    // The agency sees it awaiting its decision, overdue first, on its home page.
    let home = app.get("/", &agency).await;
    assert_eq!(home.status, StatusCode::OK);
    let awaiting = &home.text[home
        .text
        .find("Requests awaiting your organisation")
        .expect("the section")..];
    assert!(
        awaiting.contains("Armed surveillance on the Eastside group"),
        "{awaiting}"
    );

    // The request page: the recommendation test by test, beside the decision form.
    let page = app.get(&address, &agency).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Test by test"));
    assert!(page.text.contains("Priority subjects"), "each test named");
    assert!(page.text.contains("Record decision"));
    assert!(
        page.text.contains("class=\"banner\">OFFICIAL<"),
        "the marking banner"
    );

    // A decision without its rationale is shown again with the errors, values kept.
    let mut incomplete = vec![
        ("outcome", "accepted"),
        ("lead", "west-midlands"),
        ("information", "Kept as typed"),
    ];
    incomplete.push(("support", "nca"));
    let refused = app
        .post_form(&format!("{address}/decision"), &agency, &incomplete)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("There is a problem"));
    assert!(
        refused.text.contains("href=\"#threat_and_risk\""),
        "{}",
        refused.text
    );
    assert!(refused.text.contains("Kept as typed"));

    let mut decision = vec![
        ("outcome", "accepted"),
        ("lead", "west-midlands"),
        ("support", "nca"),
        ("operation", "create"),
        ("code_name", "Operation Nightjar"),
        ("strands", "pursue"),
    ];
    decision.extend_from_slice(RATIONALE);
    let decided = app
        .post_form(&format!("{address}/decision"), &agency, &decision)
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.text);
    let api = app.get(&format!("/api/v1/requests/{id}"), &agency).await;
    assert_eq!(api.json["request"]["state"], "accepted", "{}", api.json);
    assert_eq!(
        api.json["decisions"][0]["roles"]["lead"], "west-midlands",
        "{}",
        api.json
    );
    let page = app.get(&address, &force).await;
    assert!(
        page.text.contains("in force"),
        "the force sees the decision"
    );
    assert!(page.text.contains("/operations/"), "and its operation");
}

async fn a_raise_form_with_errors_shows_them_and_keeps_what_was_typed(app: &TestApp) {
    let force = app.sign_in("wmp.tasking", PASSWORD).await;
    let answer = app
        .post_form(
            "/requests/new",
            &force,
            &[
                ("title", ""),
                ("kind", "capability"),
                ("receiver", "nca"),
                ("case", "Typed <before> the errors"),
                ("urgency", "urgent"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &answer.text;
    assert!(html.contains("There is a problem"));
    for field in ["title", "capability", "threat_areas"] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{field} in the summary: {html}"
        );
    }
    assert!(
        html.contains("Typed &#60;before&#62; the errors")
            || html.contains("Typed &lt;before&gt; the errors"),
        "the case kept, escaped"
    );
    assert!(
        html.contains("value=\"urgent\" checked")
            || html.contains("value=\"urgent\" aria-describedby=\"urgency-urgent-hint\" checked"),
        "the urgency kept"
    );
    assert!(html.contains("<title>Error: Raise a request"));
    let none = app.get("/api/v1/requests", &force).await;
    assert_eq!(none.json, serde_json::json!([]), "nothing was raised");
}

async fn request_pages_refuse_who_must_not_see_or_change(app: &TestApp) {
    let force = app.sign_in("wmp.tasking", PASSWORD).await;
    let address = raised_and_submitted(app, &force, "Only for West Midlands and the agency").await;

    // Another force's officer pasting the address gets the not-found page.
    let other = app.sign_in("gmp.case", PASSWORD).await;
    let pasted = app.get(&address, &other).await;
    assert_eq!(pasted.status, StatusCode::NOT_FOUND);
    assert!(pasted.text.contains("Page not found"));
    assert!(!pasted.text.contains("Only for West Midlands"));
    let listed = app.get("/requests", &other).await;
    assert!(!listed.text.contains("Only for West Midlands"));

    // An administrator reads no casework: the requests pages are refused.
    let admin = app.sign_in("nca.admin", PASSWORD).await;
    assert_eq!(
        app.get("/requests", &admin).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/requests/new", &admin).await.status,
        StatusCode::FORBIDDEN
    );
    // A record's page answers as its API route does: not found to who may not read it.
    assert_eq!(
        app.get(&address, &admin).await.status,
        StatusCode::NOT_FOUND
    );
    let home = app.get("/", &admin).await;
    assert!(!home.text.contains("Only for West Midlands"));
    assert!(
        !home.text.contains("href=\"/requests\""),
        "no Requests link for an administrator"
    );

    // An analyst may read but not raise.
    let analyst = app.sign_in("wmp.analyst", PASSWORD).await;
    assert_eq!(app.get(&address, &analyst).await.status, StatusCode::OK);
    let raised = app
        .post_form("/requests/new", &analyst, &raise_form("Not mine to raise"))
        .await;
    assert_eq!(raised.status, StatusCode::FORBIDDEN);

    // The requester may not decide its own request.
    let mut decision = vec![("outcome", "declined"), ("referral", "serocu")];
    decision.extend_from_slice(RATIONALE);
    let own = app
        .post_form(&format!("{address}/decision"), &force, &decision)
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);

    // Without the session's CSRF token nothing changes.
    let agency = app.sign_in("nca.tasking", PASSWORD).await;
    let forged = app
        .post_form(
            &format!("{address}/decision"),
            &agency.without_csrf(),
            &decision,
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let forged = app
        .post_form(&format!("{address}/withdrawal"), &force.without_csrf(), &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let id = address.trim_start_matches("/requests/");
    let api = app.get(&format!("/api/v1/requests/{id}"), &force).await;
    assert_eq!(api.json["request"]["state"], "submitted");
    assert_eq!(api.json["decisions"], serde_json::json!([]));

    // Withdrawing is the requester's; the agency's tasking officer is refused.
    let theirs = app
        .post_form(&format!("{address}/withdrawal"), &agency, &[])
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let withdrawn = app
        .post_form(&format!("{address}/withdrawal"), &force, &[])
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    let api = app.get(&format!("/api/v1/requests/{id}"), &force).await;
    assert_eq!(api.json["request"]["state"], "withdrawn");

    // An address that names nothing is the not-found page too.
    assert_eq!(
        app.get("/requests/not-an-id", &force).await.status,
        StatusCode::NOT_FOUND
    );
    // Signed out, a page sends the browser to sign in.
    let signed_out = app.get(&address, &Who::Nobody).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_out), "/sign-in");
}

async fn the_request_list_filters_by_box_and_state(app: &TestApp) {
    let force = app.sign_in("wmp.tasking", PASSWORD).await;
    raised_and_submitted(app, &force, "Submitted to the agency").await;
    let draft = app
        .post_form("/requests/new", &force, &raise_form("Still a draft"))
        .await;
    assert_eq!(draft.status, StatusCode::SEE_OTHER);

    let all = app.get("/requests", &force).await;
    assert!(all.text.contains("Submitted to the agency") && all.text.contains("Still a draft"));
    let drafts = app.get("/requests?box=sent&state=draft", &force).await;
    assert!(drafts.text.contains("Still a draft"));
    assert!(!drafts.text.contains("Submitted to the agency"));
    let received = app.get("/requests?box=received", &force).await;
    assert!(!received.text.contains("Still a draft"));
    let bad = app.get("/requests?box=elsewhere&state=lost", &force).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("href=\"#box\"") && bad.text.contains("href=\"#state\""));
}

stories!(
    a_force_raises_a_request_and_the_agency_decides_it_in_the_browser,
    a_raise_form_with_errors_shows_them_and_keeps_what_was_typed,
    request_pages_refuse_who_must_not_see_or_change,
    the_request_list_filters_by_box_and_state,
);
