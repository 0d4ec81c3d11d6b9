//! Property tests of the API's readers of outside input, short of HTTP: every query
//! string type (read with `serde_urlencoded`, as axum's `Query` does), every JSON body
//! type (`serde_json::from_value`, as `ApiJson` does after the syntax) and `path_id`
//! take any input and answer `Ok` or `Err`, never a panic. The schemathesis run
//! (`.ci/fuzz-api`) does the same over HTTP, through the handlers.
//!
//! The generators draw keys and string values from the OpenAPI document as well as at
//! random, so that a good share of the inputs get past the first field into the domain
//! types' own parsers.
//!
//! Cases per property: 256, or `CONCORDAT_FUZZ_CASES` (README, "Security testing");
//! the seed is fixed unless `CONCORDAT_FUZZ_SEED` is set.

use super::path_id;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::OnceLock;

/// 256 cases from a fixed seed, so that CI runs the same cases every time;
/// `CONCORDAT_FUZZ_CASES` and `CONCORDAT_FUZZ_SEED` change them.
fn config() -> Config {
    let cases = std::env::var("CONCORDAT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let seed = std::env::var("CONCORDAT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_202);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Every property name, parameter name and enumerated string value in the OpenAPI
/// document, plus values that domain parsers care about.
fn vocabulary() -> &'static Vec<String> {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        fn walk(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    for (key, inner) in map {
                        if key == "properties"
                            && let Value::Object(props) = inner
                        {
                            out.extend(props.keys().cloned());
                        }
                        if key == "name"
                            && let Value::String(name) = inner
                        {
                            out.push(name.clone());
                        }
                        if key == "enum"
                            && let Value::Array(values) = inner
                        {
                            out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                        }
                        walk(inner, out);
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let doc = serde_json::to_value(crate::openapi()).expect("the document serialises");
        let mut words = Vec::new();
        walk(&doc, &mut words);
        words.extend(
            [
                "",
                "nca",
                "mps",
                "titan",
                "hmrc",
                "person",
                "capability",
                "firearms",
                "pursue",
                "lead",
                "support",
                "coordinate",
                "accepted",
                "declined",
                "open",
                "restricted",
                "high-priority",
                "routine",
                "urgent",
                "immediate",
                "sc",
                "dv",
                "administrator",
                "2026-01-01T00:00:00Z",
                "1980-04-01",
                "-1",
                "0",
                "18446744073709551616",
                "01930000-0000-7000-8000-000000000000",
                "DCN-2026-000001",
            ]
            .map(str::to_owned),
        );
        words.sort();
        words.dedup();
        words
    })
}

fn arb_word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(vocabulary().clone()),
        1 => any::<String>(),
        1 => "[ -~]{0,16}",
    ]
}

/// Any JSON value, its keys and strings mostly from the API's own vocabulary.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        arb_word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((arb_word(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A query string: `key=value` pairs from the vocabulary, percent-encoded or not, or
/// any text at all.
fn arb_query() -> impl Strategy<Value = String> {
    let pair = (arb_word(), arb_word(), any::<bool>()).prop_map(|(k, v, encode)| {
        if encode {
            serde_urlencoded::to_string([(k, v)]).unwrap_or_default()
        } else {
            format!("{k}={v}")
        }
    });
    prop_oneof![
        3 => proptest::collection::vec(pair, 0..5).prop_map(|pairs| pairs.join("&")),
        1 => any::<String>(),
        1 => "[a-z_=&%0-9A-F+;]{0,40}",
    ]
}

/// Reads `text` as a query string into each query type of the API.
fn read_queries(text: &str) {
    fn read<T: DeserializeOwned>(text: &str) {
        let _ = serde_urlencoded::from_str::<T>(text);
    }
    read::<super::audit::AuditQuery>(text);
    read::<super::operations::AsOf>(text);
    read::<super::registry::CapabilityQuery>(text);
    read::<super::registry::OrganisationQuery>(text);
    read::<super::requests::RequestQuery>(text);
    read::<super::users::UserQuery>(text);
}

/// Reads `value` as each JSON body type of the API.
fn read_bodies(value: &Value) {
    fn read<T: DeserializeOwned>(value: &Value) {
        let _ = serde_json::from_value::<T>(value.clone());
    }
    read::<super::directions::ComplianceBody>(value);
    read::<super::directions::ConsentBody>(value);
    read::<super::directions::DraftBody>(value);
    read::<super::directions::ProtocolBody>(value);
    read::<super::me::PasswordChange>(value);
    read::<super::requests::Note>(value);
    read::<super::session::SignIn>(value);
    read::<super::totp::TotpCodeBody>(value);
    read::<super::tokens::CreateToken>(value);
    read::<super::users::CreateUser>(value);
    read::<crate::deconfliction::RegisterInput>(value);
    read::<crate::deconfliction::ResolveInput>(value);
    read::<crate::handling::NewIntelligenceInput>(value);
    read::<crate::handling::NewShareInput>(value);
    read::<crate::tasking::ChargingInput>(value);
    read::<crate::tasking::DecisionInput>(value);
    read::<crate::tasking::DesignationInput>(value);
    read::<crate::tasking::NewOperationInput>(value);
    read::<crate::tasking::NewRequestInput>(value);
    read::<crate::tasking::NewSubjectInput>(value);
    read::<crate::tasking::RoleChangeInput>(value);
    read::<concordat_domain::operation::OperationOutcome>(value);
    read::<concordat_domain::handling::Marking>(value);
    read::<concordat_domain::totp::SignInPolicy>(value);
}

/// Reads `raw` as each kind of identifier a path carries.
fn read_path(raw: &str) {
    use concordat_domain::deconfliction::{HitId, RegistrationId};
    use concordat_domain::direction::DirectionId;
    use concordat_domain::operation::OperationId;
    use concordat_domain::people::UserId;
    use concordat_domain::subject::SubjectId;
    use concordat_domain::tasking::RequestId;
    let _ = path_id::<RequestId>(raw);
    let _ = path_id::<SubjectId>(raw);
    let _ = path_id::<OperationId>(raw);
    let _ = path_id::<UserId>(raw);
    let _ = path_id::<DirectionId>(raw);
    let _ = path_id::<RegistrationId>(raw);
    let _ = path_id::<HitId>(raw);
    let _ = path_id::<concordat_domain::handling::IntelligenceId>(raw);
    let _ = path_id::<uuid::Uuid>(raw);
    let _ = path_id::<concordat_domain::registry::OrgCode>(raw);
}

#[test]
fn the_vocabulary_comes_from_the_document() {
    let words = vocabulary();
    for expected in ["username", "threat_areas", "record", "box"] {
        assert!(words.iter().any(|w| w == expected), "{expected} missing");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_query_string_is_read_or_refused(text in arb_query()) {
        read_queries(&text);
    }

    #[test]
    fn any_json_body_is_read_or_refused(value in arb_json()) {
        read_bodies(&value);
    }

    #[test]
    fn any_json_text_is_read_or_refused(text in prop_oneof![
        arb_json().prop_map(|v| v.to_string()),
        any::<String>(),
    ]) {
        // As `ApiJson` reads a body: straight from the bytes, with the path in error.
        let mut de = serde_json::Deserializer::from_str(&text);
        let _ = serde_path_to_error::deserialize::<_, crate::tasking::NewRequestInput>(&mut de);
        let mut de = serde_json::Deserializer::from_str(&text);
        let _ = serde_path_to_error::deserialize::<_, crate::deconfliction::RegisterInput>(&mut de);
    }

    #[test]
    fn any_path_segment_is_an_id_or_not_found(raw in prop_oneof![
        any::<String>(),
        "[0-9a-fA-F\\-]{0,40}",
        arb_word(),
    ]) {
        read_path(&raw);
        prop_assert!(path_id::<uuid::Uuid>(&raw).is_ok() == raw.parse::<uuid::Uuid>().is_ok());
    }
}
