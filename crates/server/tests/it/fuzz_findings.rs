//! What the API fuzzing run (`.ci/fuzz-api`) found, each kept as a story so that it
//! stays fixed.

use crate::helpers::{TestApp, Who};
use crate::stories;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The `enum` values the API document gives for a component schema.
fn documented_values(doc: &Value, schema: &str) -> Vec<String> {
    let values = doc["components"]["schemas"][schema]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{schema} has no enum in the document"));
    values
        .iter()
        .map(|v| v.as_str().expect("a string value").to_owned())
        .collect()
}

/// Finding: the document spelled the closed sets declared with `text_enum!` (roles,
/// clearances, designations, disclosures, ...) by their Rust names (`TaskingOfficer`,
/// `Dv`), which the API refuses, so a client built from the document could send nothing
/// right. A client that takes its values from the document is now understood.
async fn values_taken_from_the_document_are_accepted(app: &TestApp) {
    let doc = app.get("/api/openapi.json", &Who::Nobody).await.json;
    // No enumeration in the document is spelled as a Rust name (`TaskingOfficer`,
    // `Dv`); codes that are capitals on paper (intelligence assessment `A` to `E`) stay.
    let mut stack = vec![&doc];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(values)) = map.get("enum") {
                    for v in values.iter().filter_map(Value::as_str) {
                        let rust_name = v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                            && v.chars().any(|c| c.is_ascii_lowercase());
                        assert!(
                            !rust_name,
                            "`{v}` in the document is not how the API spells it"
                        );
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }

    let admin = app.as_user("nca.admin").await;
    let roles = documented_values(&doc, "Role");
    for clearance in documented_values(&doc, "Clearance") {
        let username = format!("from.document.{clearance}");
        let created = app
            .call(
                Method::POST,
                "/api/v1/users",
                &admin,
                Some(json!({
                    "username": username,
                    "display_name": "From the document",
                    "organisation": "nca",
                    "roles": roles,
                    "clearance": clearance,
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }

    let case = app.as_user("gmp.case").await;
    for disclosure in documented_values(&doc, "Disclosure") {
        let registered = app
            .call(
                Method::POST,
                "/api/v1/registrations",
                &case,
                Some(json!({
                    "record": {"kind": "vehicle", "registration": "AB12 CDE"},
                    "point_of_contact": {"name": "DS Document", "detail": "01622 690690"},
                    "disclosure": disclosure,
                })),
            )
            .await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{}",
            registered.text
        );
    }
}

stories!(values_taken_from_the_document_are_accepted);
