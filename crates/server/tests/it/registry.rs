//! The partner registry, capability catalogue and groups over the API.

use crate::helpers::TestApp;
use crate::stories;
use reqwest::StatusCode;

async fn any_signed_in_user_reads_the_registry(app: &TestApp) {
    let who = app.as_user("gmp.case").await;
    let all = app.get("/api/v1/organisations", &who).await;
    assert_eq!(all.status, StatusCode::OK);
    let forces = app
        .get("/api/v1/organisations?kind=territorial-police", &who)
        .await;
    let in_england_and_wales = forces
        .json
        .as_array()
        .expect("list")
        .iter()
        .filter(|o| o["jurisdictions"] == serde_json::json!(["england-and-wales"]))
        .count();
    assert_eq!(in_england_and_wales, 43);
    let north_west = app
        .get(
            "/api/v1/organisations?region=north-west&kind=territorial-police",
            &who,
        )
        .await;
    assert_eq!(north_west.json.as_array().expect("list").len(), 6);
    let gmp = app
        .get("/api/v1/organisations/greater-manchester", &who)
        .await;
    assert_eq!(gmp.json["region"], "north-west");
    assert_eq!(gmp.json["engagement"], "direct");
    app.get("/api/v1/organisations/atlantis", &who)
        .await
        .problem(StatusCode::NOT_FOUND);

    let caps = app.get("/api/v1/capabilities", &who).await;
    let names: Vec<&str> = caps
        .json
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert!(
        names.iter().any(|n| n.contains("Lawful Intercept")),
        "{names:?}"
    );
    let intl = app
        .get("/api/v1/capabilities?category=international", &who)
        .await;
    assert!(
        intl.json
            .as_array()
            .expect("list")
            .iter()
            .all(|c| c["category"] == "international")
    );
    let groups = app.get("/api/v1/groups", &who).await;
    let nstcg = groups
        .json
        .as_array()
        .expect("list")
        .iter()
        .find(|g| g["acronym"] == "NSTCG")
        .expect("NSTCG")
        .clone();
    assert_eq!(nstcg["cadence"], "six-monthly");
}

stories!(any_signed_in_user_reads_the_registry);
