//! The operation and direction pages, driven as a browser without JavaScript would:
//! forms posted with the session's CSRF token, answers read as HTML. The scene is set
//! through the API, with the tasking stories' helpers.

use crate::helpers::{PASSWORD, Response, TestApp, Who};
use crate::stories;
use crate::tasking::{created, id, raise_and_submit, request, roles};
use concordat_domain::audit::Actor;
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Role, Roles, Username,
};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_server::accounts::{self, AccountRequest};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn location(response: &Response) -> String {
    response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect, got {}: {}", response.status, response.text))
        .to_owned()
}

/// West Midlands opens Operation Finch with the agency in support, then has the agency
/// coordinate as well: two moments on its timeline. Its page's address.
async fn finch(app: &TestApp) -> String {
    let force = app.as_user("wmp.tasking").await;
    let operation = created(
        app,
        &force,
        "/api/v1/operations",
        json!({
            "code_name": "Operation Finch",
            "threat_areas": ["drugs"],
            "strands": ["pursue"],
            "support": ["nca"],
            "reason": "County lines into Birmingham",
        }),
    )
    .await;
    let path = format!("/api/v1/operations/{}/roles", id(&operation));
    let changed = app
        .call(
            Method::POST,
            &path,
            &force,
            Some(json!({
                "roles": roles("west-midlands", &["nca"], &["nca"]),
                "reason": "The lines reach three regions",
            })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    format!("/operations/{}", id(&operation))
}

async fn parties_see_an_operations_timeline_and_others_get_the_not_found_page(app: &TestApp) {
    let address = finch(app).await;
    let lead = app.sign_in("wmp.tasking", PASSWORD).await;
    let support = app.sign_in("nca.tasking", PASSWORD).await;
    let outsider = app.sign_in("mps.tasking", PASSWORD).await;
    let admin = app.sign_in("nca.admin", PASSWORD).await;

    let list = app.get("/operations", &lead).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains("Operation Finch"), "{}", list.text);
    assert!(list.text.contains(&format!("href=\"{address}\"")));
    assert!(
        list.text
            .contains("href=\"/operations\" aria-current=\"page\"")
    );
    assert!(list.text.contains("Open an operation"));

    let page = app.get(&address, &lead).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Roles over time"));
    assert!(page.text.contains("The lines reach three regions"));
    assert!(page.text.contains("National Crime Agency coordinates"));
    assert!(page.text.contains("class=\"banner\">OFFICIAL<"));
    assert!(page.text.contains(">now<"), "the current roles marked");
    let now = page.text.find("role-now").expect("current roles");
    assert!(
        page.text.find("role-past").is_none_or(|past| now < past),
        "current roles first"
    );
    assert!(page.text.contains("Change the roles"));
    assert!(page.text.contains("Record an outcome"));

    // The agency supports: it records outcomes but does not change the roles.
    let supporting = app.get(&address, &support).await;
    assert_eq!(supporting.status, StatusCode::OK);
    assert!(supporting.text.contains("Record an outcome"));
    assert!(!supporting.text.contains("Change the roles"));
    assert!(
        app.get("/operations", &support)
            .await
            .text
            .contains("Operation Finch")
    );

    // Another organisation's officer: the not-found page, and nothing in the list.
    let hidden = app.get(&address, &outsider).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert!(!hidden.text.contains("Operation Finch"));
    assert!(
        !app.get("/operations", &outsider)
            .await
            .text
            .contains("Operation Finch")
    );

    // A role that may not read operations: refused, and no section in the navigation.
    let refused = app.get(&address, &admin).await;
    assert!(
        [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&refused.status),
        "{}",
        refused.status
    );
    let home = app.get("/", &admin).await;
    assert!(!home.text.contains("href=\"/operations\""));
    assert!(!home.text.contains("href=\"/directions\""));
}

async fn only_the_leads_tasking_officers_change_an_operations_roles(app: &TestApp) {
    let address = finch(app).await;
    let lead = app.sign_in("wmp.tasking", PASSWORD).await;
    let case_officer = app.sign_in("wmp.case", PASSWORD).await;
    let support = app.sign_in("nca.tasking", PASSWORD).await;
    let change = [
        ("lead", "nca"),
        ("support", "west-midlands"),
        ("reason", "Spread abroad"),
    ];
    let path = format!("{address}/roles");

    // The case officer's role may not call the route.
    let refused = app.post_form(&path, &case_officer, &change).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.text.contains("You cannot do this"));
    assert!(
        !app.get(&address, &case_officer)
            .await
            .text
            .contains("Change the roles")
    );
    // The supporting organisation's tasking officer may call it, but is not the lead.
    let refused = app.post_form(&path, &support, &change).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.text.contains("Only the lead organisation"));

    // The lead's form without a reason comes back with the error, values kept.
    let incomplete = app
        .post_form(
            &path,
            &lead,
            &[("lead", "nca"), ("support", "west-midlands")],
        )
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(incomplete.text.contains("href=\"#reason\""));
    assert!(incomplete.text.contains("value=\"nca\" selected"));

    let moved = app.post_form(&path, &lead, &change).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
    let page = app.get(&address, &support).await;
    assert!(page.text.contains("National Crime Agency leads"));
    assert!(page.text.contains("West Midlands Police no longer leads"));
    assert!(page.text.contains("Change the roles"), "the new lead may");
}

async fn an_outcome_form_with_errors_keeps_what_was_typed_then_records(app: &TestApp) {
    let address = finch(app).await;
    let lead = app.sign_in("wmp.tasking", PASSWORD).await;
    let path = format!("{address}/outcomes");

    let wrong = app
        .post_form(
            &path,
            &lead,
            &[
                ("arrests", "three"),
                ("description", "Kept as typed"),
                ("occurred_at", "yesterday"),
            ],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert!(wrong.text.contains("There is a problem"));
    assert!(wrong.text.contains("href=\"#arrests\""));
    assert!(wrong.text.contains("href=\"#occurred_at\""));
    assert!(wrong.text.contains("Kept as typed"));
    assert!(wrong.text.contains("value=\"three\""));

    // Nothing to record: the service's rule, shown against the disruption.
    let empty = app
        .post_form(
            &path,
            &lead,
            &[
                ("disruption", "none"),
                ("description", "Nothing happened"),
                ("occurred_at", "2026-11-03 06:00"),
            ],
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.text
    );
    assert!(
        empty.text.contains("href=\"#disruption\""),
        "{}",
        empty.text
    );

    let recorded = app
        .post_form(
            &path,
            &lead,
            &[
                ("disruption", "major"),
                ("arrests", "3"),
                ("cash", "12,500"),
                ("description", "Warrants at three addresses"),
                ("occurred_at", "2026-11-03 06:00"),
            ],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.text);
    let page = app.get(&address, &lead).await;
    assert!(page.text.contains("3 arrests"), "{}", page.text);
    assert!(page.text.contains("£12,500 cash seized"));
    assert!(page.text.contains("Warrants at three addresses"));
}

async fn a_tasking_officer_opens_an_operation_with_the_form(app: &TestApp) {
    let force = app.sign_in("wmp.tasking", PASSWORD).await;
    let case_officer = app.sign_in("wmp.case", PASSWORD).await;
    assert_eq!(
        app.get("/operations/new", &force).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/operations/new", &case_officer).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !app.get("/operations", &case_officer)
            .await
            .text
            .contains("Open an operation")
    );

    let wrong = app
        .post_form(
            "/operations/new",
            &force,
            &[("code_name", "Operation Wren"), ("support", "nca")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["threat_areas", "strands", "reason"] {
        assert!(
            wrong.text.contains(&format!("href=\"#{field}\"")),
            "{field}"
        );
    }
    assert!(wrong.text.contains("value=\"Operation Wren\""));

    let opened = app
        .post_form(
            "/operations/new",
            &force,
            &[
                ("code_name", "Operation Wren"),
                ("threat_areas", "drugs"),
                ("strands", "pursue"),
                ("support", "nca"),
                ("reason", "Supply into Walsall"),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text);
    let page = app.get(&location(&opened), &force).await;
    assert!(page.text.contains("Operation Wren"));
    assert!(page.text.contains("West Midlands Police leads"));
    assert!(page.text.contains("National Crime Agency supports"));
}

/// A tasking officer of the British Transport Police, who signs in with the password.
async fn btp_tasking(app: &TestApp) -> Who {
    accounts::create_user_with_password(
        &app.store,
        Actor::System,
        "",
        AccountRequest {
            username: Username::parse("btp.tasking").expect("valid"),
            display_name: DisplayName::parse("BTP tasking").expect("valid"),
            organisation: OrgCode::parse("btp").expect("valid"),
            roles: Roles::new([Role::TaskingOfficer]).expect("valid"),
            clearance: Clearance::Sc,
            dg_authority: DgAuthority::None,
        },
        &NewPassword::parse(PASSWORD).expect("valid"),
        false,
    )
    .await
    .expect("story user");
    app.sign_in("btp.tasking", PASSWORD).await
}

/// The agency asks `receiver` urgently; the request's id.
async fn urgent_request(app: &TestApp, receiver: &str) -> String {
    let agency = app.as_user("nca.tasking").await;
    let asked = raise_and_submit(
        app,
        &agency,
        request(
            receiver,
            json!({ "type": "assistance" }),
            &[],
            json!({ "title": "Surveillance team for the Eastside group", "urgency": "urgent" }),
        ),
    )
    .await;
    id(&asked).to_owned()
}

async fn a_refused_draft_explains_each_precondition_in_the_checklist(app: &TestApp) {
    let director = app.sign_in("nca.director", PASSWORD).await;
    let form = app.get("/directions/new", &director).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("The legal preconditions"));
    assert!(
        form.text
            .contains("href=\"/directions\" aria-current=\"page\"")
    );

    let refused = app
        .post_form(
            "/directions/new",
            &director,
            &[
                ("recipient", "west-midlands"),
                ("request", ""),
                (
                    "instructions",
                    "Provide a surveillance team, kept as typed.",
                ),
                ("needed_by", ""),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("There is a problem"));
    assert!(refused.text.contains("href=\"#checklist\""));
    assert!(refused.text.contains("kept as typed."));
    let voluntary = &refused.text[refused
        .text
        .find("data-condition=\"voluntary-route\"")
        .expect("the condition")
        - 20..];
    let voluntary = &voluntary[..voluntary.find("</li>").expect("its end")];
    assert!(voluntary.contains("unmet"), "{voluntary}");
    assert!(
        voluntary.contains("Ask the recipient voluntarily first"),
        "{voluntary}"
    );
    assert!(
        refused
            .text
            .contains("class=\"met\" data-condition=\"authority\"")
    );
    assert!(
        refused
            .text
            .contains("class=\"not-applicable\" data-condition=\"consent\"")
    );

    // Someone without the Director General's authority sees why in the checklist.
    let tasking = app.sign_in("nca.tasking", PASSWORD).await;
    let form = app.get("/directions/new", &tasking).await;
    assert!(
        form.text
            .contains("class=\"unmet\" data-condition=\"authority\"")
    );
    let list = app.get("/directions", &tasking).await;
    assert!(!list.text.contains("Draft a direction"));
}

async fn a_direction_to_the_btp_is_consented_issued_and_acknowledged_in_pages(app: &TestApp) {
    let btp = btp_tasking(app).await;
    let request = urgent_request(app, "btp").await;
    let director = app.sign_in("nca.director", PASSWORD).await;
    let needed_by = Timestamp::now()
        .plus(chrono::Duration::hours(3))
        .to_rfc3339();
    let drafted = app
        .post_form(
            "/directions/new",
            &director,
            &[
                ("recipient", "btp"),
                ("request", &request),
                ("instructions", "Provide a surveillance team at New Street."),
                ("needed_by", &needed_by),
            ],
        )
        .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.text);
    let address = location(&drafted);

    let page = app.get(&address, &director).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(">drafted<"));
    assert!(page.text.contains("Ask for the Transport Secretary"));
    assert!(
        !page.text.contains("Issue direction"),
        "not without consent"
    );
    assert!(page.text.contains("data-confirm="));
    assert!(
        app.get("/directions", &director)
            .await
            .text
            .contains("New Street")
    );
    // The recipient does not see a draft; nor does anyone else.
    assert_eq!(app.get(&address, &btp).await.status, StatusCode::NOT_FOUND);
    let kent = app.sign_in("kent.tasking", PASSWORD).await;
    assert_eq!(app.get(&address, &kent).await.status, StatusCode::NOT_FOUND);

    let asked = app
        .post_form(&format!("{address}/consent-request"), &director, &[])
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.text);
    let unanswered = app
        .post_form(
            &format!("{address}/consent"),
            &director,
            &[("note", "Kept")],
        )
        .await;
    assert_eq!(unanswered.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unanswered.text.contains("href=\"#answer\""));
    let consented = app
        .post_form(
            &format!("{address}/consent"),
            &director,
            &[("answer", "given"), ("note", "Letter of 3 March")],
        )
        .await;
    assert_eq!(
        consented.status,
        StatusCode::SEE_OTHER,
        "{}",
        consented.text
    );
    let issued = app
        .post_form(&format!("{address}/issue"), &director, &[])
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.text);

    // The BTP sees it now, and only its tasking officers acknowledge.
    let page = app.get(&address, &btp).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Acknowledge direction"));
    assert!(
        app.get("/directions", &btp)
            .await
            .text
            .contains("New Street")
    );
    assert_eq!(app.get(&address, &kent).await.status, StatusCode::NOT_FOUND);
    let acknowledged = app
        .post_form(&format!("{address}/acknowledgement"), &btp, &[])
        .await;
    assert_eq!(
        acknowledged.status,
        StatusCode::SEE_OTHER,
        "{}",
        acknowledged.text
    );
    let page = app.get(&address, &director).await;
    assert!(page.text.contains(">acknowledged<"), "{}", page.text);
    assert!(page.text.contains("Give consent"));
    assert!(page.text.contains("Letter of 3 March"));
    assert!(page.text.contains("Record the outcome"));
    let again = app
        .post_form(&format!("{address}/acknowledgement"), &btp, &[])
        .await;
    assert_ne!(again.status, StatusCode::SEE_OTHER);
}

stories!(
    parties_see_an_operations_timeline_and_others_get_the_not_found_page,
    only_the_leads_tasking_officers_change_an_operations_roles,
    an_outcome_form_with_errors_keeps_what_was_typed_then_records,
    a_tasking_officer_opens_an_operation_with_the_form,
    a_refused_draft_explains_each_precondition_in_the_checklist,
    a_direction_to_the_btp_is_consented_issued_and_acknowledged_in_pages,
);
