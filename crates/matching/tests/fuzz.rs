//! Property tests of everything the engine does with text from outside: the
//! normalisers (names, postcodes, phones, identifiers, emails, dates) are total on
//! any Unicode, a record of arbitrary text can be inserted, checked and removed, and
//! any JSON value either is a `Record` or is refused without a panic. (The matching
//! properties, symmetry and leaving no trace, are in `engine.rs`.)
//!
//! Cases per property: 256, or `CONCORDAT_FUZZ_CASES` (README, "Security testing");
//! the seed is fixed unless `CONCORDAT_FUZZ_SEED` is set.

use concordat_matching::normalise::{
    Date, PersonName, email, fold, identifier, phone, postcode, postcode_district, postcode_sector,
    vehicle_mark,
};
use concordat_matching::{
    Address, AddressValue, Business, Engine, EngineConfig, Group, Name, Person, Phone, Phonetic,
    Record, Sex, Vehicle, are_nicknames, jaro_winkler, within_one_edit,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

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

/// Text as it arrives: any Unicode, or text made of the characters the normalisers
/// look at (digits, separators, combining marks, letters that fold to two).
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => "[0-9 +()\\-./:T]{0,24}",
        2 => "[A-Za-z0-9 ,.'’\\-]{0,30}",
        1 => "[ßæÆœŒøØłŁđĐðÐþÞıİ\u{0301}\u{0308}\u{200d}\u{feff}ﬃ①Ⅻ㎏ʼ‘`]{0,12}",
        1 => proptest::sample::select(&[
            "Mr", "Mac", "Mc", "O'", "Jr", "Sr", "III", "PhD", ",", "+44", "0044", "(0)",
            "44", "SW1A1AA", "00", "@", "1980-02-29", "29/02/1900", "00000000", "9999-12-31",
        ][..]).prop_map(str::to_owned),
    ]
}

fn arb_texts() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(arb_text(), 0..3)
}

fn arb_address() -> impl Strategy<Value = AddressValue> {
    (arb_text(), arb_texts(), arb_text(), arb_text(), arb_text()).prop_map(
        |(number, lines, town, county, postcode)| AddressValue {
            number,
            lines,
            town,
            county,
            postcode,
        },
    )
}

fn arb_name() -> impl Strategy<Value = Name> {
    prop_oneof![
        (arb_text(), arb_text()).prop_map(|(g, s)| Name::new(g, s)),
        arb_text().prop_map(Name::Full),
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    let person = (
        proptest::collection::vec(arb_name(), 0..3),
        proptest::option::of(arb_text()),
        proptest::option::of(prop_oneof![
            Just(Sex::Female),
            Just(Sex::Male),
            Just(Sex::Other)
        ]),
        proptest::collection::vec(arb_address(), 0..2),
        arb_texts(),
        arb_texts(),
        arb_texts(),
        arb_texts(),
    )
        .prop_map(
            |(names, date_of_birth, sex, addresses, phones, emails, documents, national_ids)| {
                Record::Person(Person {
                    names,
                    date_of_birth,
                    sex,
                    addresses,
                    phones,
                    emails,
                    documents,
                    national_ids,
                })
            },
        );
    prop_oneof![
        4 => person,
        1 => arb_texts().prop_map(|names| Record::Group(Group { names })),
        1 => (arb_texts(), proptest::option::of(arb_text()), proptest::collection::vec(arb_address(), 0..2), arb_texts())
            .prop_map(|(names, company_number, addresses, phones)| Record::Business(Business {
                names,
                company_number,
                addresses,
                phones,
            })),
        1 => arb_text().prop_map(|registration| Record::Vehicle(Vehicle { registration })),
        1 => arb_text().prop_map(|number| Record::Phone(Phone { number })),
        1 => arb_address().prop_map(|address| Record::Address(Address { address })),
    ]
}

/// Any JSON value, with the keys and values of a record mixed in so that some of them
/// get past the first field.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    const KEYS: &[&str] = &[
        "kind",
        "names",
        "given",
        "surname",
        "date_of_birth",
        "sex",
        "addresses",
        "number",
        "lines",
        "town",
        "county",
        "postcode",
        "phones",
        "emails",
        "documents",
        "national_ids",
        "company_number",
        "registration",
        "address",
    ];
    const WORDS: &[&str] = &[
        "person",
        "group",
        "business",
        "vehicle",
        "phone",
        "address",
        "female",
        "male",
        "other",
        "",
        "1980-04-01",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        arb_text().prop_map(Value::String),
        proptest::sample::select(WORDS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
                        1 => any::<String>(),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn folding_is_total_and_idempotent(text in arb_text()) {
        let once = fold(&text);
        prop_assert_eq!(fold(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        prop_assert!(!once.contains("  "));
    }

    #[test]
    fn names_normalise_whatever_they_are(given in arb_text(), surname in arb_text(), full in arb_text()) {
        let parts = PersonName::from_parts(&given, &surname);
        let _ = parts.is_empty();
        let whole = PersonName::from_full(&full);
        let _ = whole.is_empty();
        for word in [&given, &surname, &full, &parts.given, &parts.surname] {
            let _ = Phonetic::of(word);
            let _ = Phonetic::primary_text(word);
        }
        let _ = are_nicknames(&given, &surname);
        let jw = jaro_winkler(&given, &surname);
        prop_assert!((0.0..=1.0).contains(&jw), "{}", jw);
        let _ = within_one_edit(&given, &surname);
    }

    #[test]
    fn postcodes_normalise_to_letters_and_digits(text in arb_text()) {
        if let Some(canonical) = postcode(&text) {
            prop_assert!(!canonical.is_empty());
            prop_assert!(canonical.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' '));
            prop_assert_eq!(postcode(&canonical), Some(canonical.clone()));
            let _ = postcode_district(&canonical);
            let _ = postcode_sector(&canonical);
        }
        // The district and sector readers take any text too.
        let _ = postcode_district(&text);
        let _ = postcode_sector(&text);
    }

    #[test]
    fn phones_normalise_to_digits(text in arb_text()) {
        if let Some(canonical) = phone(&text) {
            let digits = canonical.strip_prefix('+').unwrap_or(&canonical);
            prop_assert!(digits.chars().all(|c| c.is_ascii_digit()), "{}", canonical);
            prop_assert!(digits.len() >= 6);
        }
    }

    #[test]
    fn identifiers_and_emails_normalise(text in arb_text()) {
        if let Some(id) = identifier(&text) {
            prop_assert!(!id.is_empty());
        }
        let _ = vehicle_mark(&text);
        if let Some(e) = email(&text) {
            prop_assert!(e.contains('@'));
        }
    }

    #[test]
    fn dates_are_read_or_refused(text in arb_text(), y in 0u32..12_000, m in 0u32..14, d in 0u32..33) {
        if let Some(date) = Date::parse(&text) {
            prop_assert!((1000..=9999).contains(&date.year()));
            prop_assert_eq!(Date::parse(&date.to_string()), Some(date));
        }
        if let Some(date) = Date::new(y, m, d) {
            prop_assert_eq!((date.year(), date.month(), date.day()), (y, m, d));
            prop_assert_eq!(Date::parse(&date.to_string()), Some(date));
            prop_assert_eq!(Date::parse(&format!("{d:02}/{m:02}/{y}")), Some(date));
        }
    }

    #[test]
    fn any_record_can_be_inserted_checked_and_removed(a in arb_record(), b in arb_record()) {
        let mut engine = Engine::new(EngineConfig::default());
        let empty = engine.stats();
        engine.insert(1, &a);
        let _ = engine.check(&b, &|_| false);
        let _ = engine.check_outcome(&a, &|_| false);
        prop_assert!(engine.remove(1));
        prop_assert_eq!(engine.stats(), empty);
    }

    #[test]
    fn any_json_is_a_record_or_an_error(value in arb_json()) {
        if let Ok(record) = serde_json::from_value::<Record>(value) {
            // What was read can be written back and read again.
            let again = serde_json::to_value(&record).expect("serialises");
            prop_assert_eq!(serde_json::from_value::<Record>(again).ok(), Some(record));
        }
    }
}
