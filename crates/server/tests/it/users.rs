//! Administering accounts: who may, and within which organisations.

use crate::helpers::TestApp;
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn new_user(username: &str, organisation: &str) -> serde_json::Value {
    json!({
        "username": username,
        "display_name": "A Person",
        "organisation": organisation,
        "roles": ["viewer"],
        "clearance": "bpss",
    })
}

async fn a_non_administrator_is_refused_every_admin_endpoint(app: &TestApp) {
    let who = app.as_user("mps.tasking").await;
    let nca_admin = app.as_user("nca.admin").await;
    let someone = app
        .get("/api/v1/users?organisation=mps", &nca_admin)
        .await
        .json[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (method, path, body) in [
        (Method::GET, "/api/v1/users".to_owned(), None),
        (
            Method::POST,
            "/api/v1/users".to_owned(),
            Some(new_user("x.person", "mps")),
        ),
        (Method::GET, format!("/api/v1/users/{someone}"), None),
        (
            Method::POST,
            format!("/api/v1/users/{someone}/disable"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{someone}/enable"),
            None,
        ),
        (Method::GET, "/api/v1/audit".to_owned(), None),
        (Method::GET, "/api/v1/audit/verify".to_owned(), None),
    ] {
        let response = app.call(method.clone(), &path, &who, body).await;
        response.problem(StatusCode::FORBIDDEN);
        assert!(
            response.json["detail"]
                .as_str()
                .expect("detail")
                .contains("administrator"),
            "{method} {path}"
        );
    }
}

async fn an_organisation_administrator_manages_only_their_own_people(app: &TestApp) {
    let admin = app.as_user("mps.admin").await;
    let listed = app.get("/api/v1/users", &admin).await;
    let names: Vec<&str> = listed
        .json
        .as_array()
        .expect("list")
        .iter()
        .map(|u| u["username"].as_str().expect("name"))
        .collect();
    let mut mps: Vec<&str> = crate::helpers::PEOPLE
        .iter()
        .filter(|(_, org, _)| *org == "mps")
        .map(|(name, _, _)| *name)
        .collect();
    mps.sort_unstable();
    assert_eq!(names, mps);
    app.get("/api/v1/users?organisation=nca", &admin)
        .await
        .problem(StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        "/api/v1/users",
        &admin,
        Some(new_user("x.person", "nca")),
    )
    .await
    .problem(StatusCode::FORBIDDEN);

    let nca_admin = app.as_user("nca.admin").await;
    let gmp = app
        .get("/api/v1/users?organisation=greater-manchester", &nca_admin)
        .await;
    let gmp_id = gmp.json[0]["id"].as_str().expect("id").to_owned();
    // Someone else's user is answered as if it did not exist.
    app.get(&format!("/api/v1/users/{gmp_id}"), &admin)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.call(
        Method::POST,
        &format!("/api/v1/users/{gmp_id}/disable"),
        &admin,
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    // The audit log's entries are for the platform's administrators only.
    app.get("/api/v1/audit", &admin)
        .await
        .problem(StatusCode::FORBIDDEN);
}

async fn a_national_administrator_manages_every_organisation(app: &TestApp) {
    let admin = app.as_user("nca.admin").await;
    let all = app.get("/api/v1/users", &admin).await;
    assert_eq!(
        all.json.as_array().expect("list").len(),
        crate::helpers::PEOPLE.len()
    );
    let created = app
        .call(
            Method::POST,
            "/api/v1/users",
            &admin,
            Some(new_user("titan.analyst", "titan")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["user"]["organisation"], "titan");
    assert_eq!(created.json["user"]["must_change_password"], true);
    let id = created.json["user"]["id"].as_str().expect("id");
    let disabled = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/disable"),
            &admin,
            None,
        )
        .await;
    assert_eq!(disabled.json["status"], "disabled");
    let enabled = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/enable"),
            &admin,
            None,
        )
        .await;
    assert_eq!(enabled.json["status"], "active");
    let me_id = app.get("/api/v1/me", &admin).await.json["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.call(
        Method::POST,
        &format!("/api/v1/users/{me_id}/disable"),
        &admin,
        None,
    )
    .await
    .problem(StatusCode::CONFLICT);
}

async fn account_fields_are_checked_and_named(app: &TestApp) {
    let admin = app.as_user("nca.admin").await;
    let check = |body: serde_json::Value, status: StatusCode, field: &'static str| {
        let admin = admin.clone();
        async move {
            let response = app
                .call(Method::POST, "/api/v1/users", &admin, Some(body))
                .await;
            response.problem(status);
            assert_eq!(
                response.problem_fields(),
                vec![field.to_owned()],
                "{}",
                response.text
            );
        }
    };
    check(
        new_user("ab", "mps"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "username",
    )
    .await;
    check(
        new_user("ok.name", "atlantis"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "organisation",
    )
    .await;
    check(
        new_user("mps.tasking", "mps"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "username",
    )
    .await;
    let mut no_roles = new_user("ok.name", "mps");
    no_roles["roles"] = json!([]);
    check(no_roles, StatusCode::UNPROCESSABLE_ENTITY, "roles").await;
    let mut bad_role = new_user("ok.name", "mps");
    bad_role["roles"] = json!(["viewer", "wizard"]);
    check(bad_role, StatusCode::BAD_REQUEST, "roles[1]").await;
    let mut bad_clearance = new_user("ok.name", "mps");
    bad_clearance["clearance"] = json!("cosmic");
    check(bad_clearance, StatusCode::BAD_REQUEST, "clearance").await;
    // ¶9: only national agency senior decision-makers hold the DG's delegated authority.
    let mut dg = new_user("ok.name", "mps");
    dg["roles"] = json!(["senior-decision-maker"]);
    dg["dg_authority"] = json!("delegated");
    check(dg, StatusCode::UNPROCESSABLE_ENTITY, "dg_authority").await;
    let mut dg = new_user("dg.delegate", "nca");
    dg["roles"] = json!(["senior-decision-maker"]);
    dg["dg_authority"] = json!("delegated");
    let created = app
        .call(Method::POST, "/api/v1/users", &admin, Some(dg))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["user"]["dg_authority"], "delegated");
}

stories!(
    a_non_administrator_is_refused_every_admin_endpoint,
    an_organisation_administrator_manages_only_their_own_people,
    a_national_administrator_manages_every_organisation,
    account_fields_are_checked_and_named,
);
