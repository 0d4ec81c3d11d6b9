//! The engine as the service uses it: register, check, remove, retrain.

use concordat_matching::{
    Address, AddressValue, Business, ComparisonLevel, Engine, EngineConfig, FieldKind, Group,
    Match, Name, Person, Phone, Record, Sex, Vehicle,
};
use proptest::prelude::*;

fn person(given: &str, surname: &str, dob: &str) -> Person {
    Person {
        names: vec![Name::new(given, surname)],
        date_of_birth: (!dob.is_empty()).then(|| dob.to_owned()),
        ..Person::default()
    }
}

fn with_address(mut p: Person, number: &str, street: &str, postcode: &str) -> Person {
    p.addresses.push(AddressValue {
        number: number.to_owned(),
        lines: vec![street.to_owned()],
        postcode: postcode.to_owned(),
        ..AddressValue::default()
    });
    p
}

/// A register of a few hundred unrelated people, so that frequencies mean something.
fn background(engine: &mut Engine) {
    let given = [
        "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Grace",
    ];
    let surnames = [
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Wright", "Walker", "Khan", "Evans", "Green", "Hall", "Wood", "Clarke", "Turner", "Hill",
        "Scott",
    ];
    let mut id = 1_000_000;
    for (i, s) in surnames.iter().enumerate() {
        for (j, g) in given.iter().enumerate() {
            let p = with_address(
                person(
                    g,
                    s,
                    &format!("19{:02}-{:02}-{:02}", 40 + i * 2 + j % 3, 1 + j, 1 + i),
                ),
                &(i * 10 + j).to_string(),
                "Church Road",
                &format!("LS{} {}AB", 1 + i, j),
            );
            engine.insert(id, &Record::Person(p));
            id += 1;
        }
    }
}

fn engine() -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    background(&mut e);
    e
}

fn best(matches: &[Match], id: u64) -> Option<&Match> {
    matches.iter().find(|m| m.id == id)
}

fn level(m: &Match, field: FieldKind) -> Option<ComparisonLevel> {
    m.explanation
        .iter()
        .find(|f| f.field == field)
        .map(|f| f.level)
}

#[test]
fn a_registered_person_is_found_again_with_a_typo_and_a_nickname() {
    let mut e = engine();
    let subject = with_address(
        person("William", "Thompson", "1984-06-12"),
        "12",
        "Acacia Avenue",
        "M1 1AE",
    );
    e.insert(1, &Record::Person(subject));
    let query = with_address(
        person("Bill", "Thompsen", "12/06/1984"),
        "12",
        "Acacia Ave",
        "m11ae",
    );
    let found = e.check(&Record::Person(query), &|_| false);
    let m = best(&found, 1).expect("found");
    assert!(m.probability >= 0.5, "{m:?}");
    assert_eq!(found[0].id, 1, "the subject comes first");
    assert_eq!(
        level(m, FieldKind::GivenName),
        Some(ComparisonLevel::Nickname)
    );
    assert_eq!(level(m, FieldKind::Surname), Some(ComparisonLevel::Close));
    assert_eq!(
        level(m, FieldKind::DateOfBirth),
        Some(ComparisonLevel::Exact)
    );
    assert_eq!(level(m, FieldKind::Address), Some(ComparisonLevel::Exact));
}

#[test]
fn swapped_given_name_and_surname_still_match() {
    let mut e = engine();
    e.insert(1, &Record::Person(person("Sapna", "Mahmood", "1952-03-18")));
    let found = e.check(
        &Record::Person(person("Mahmood", "Sapna", "1952-03-18")),
        &|_| false,
    );
    let m = best(&found, 1).expect("found");
    assert_eq!(level(m, FieldKind::Surname), Some(ComparisonLevel::Swapped));
}

#[test]
fn day_and_month_transposed_is_a_lesser_agreement() {
    let mut e = engine();
    e.insert(
        1,
        &Record::Person(person("Alessandro", "Mcdiarmid", "1966-02-09")),
    );
    let found = e.check(
        &Record::Person(person("Alessandro", "MacDiarmid", "1966-09-02")),
        &|_| false,
    );
    let m = best(&found, 1).expect("found");
    assert_eq!(
        level(m, FieldKind::DateOfBirth),
        Some(ComparisonLevel::Transposed)
    );
    assert_eq!(
        level(m, FieldKind::Surname),
        Some(ComparisonLevel::Exact),
        "Mac = Mc"
    );
}

#[test]
fn a_missing_date_of_birth_is_no_evidence_either_way() {
    let mut e = engine();
    e.insert(1, &Record::Person(person("Korben", "Dallas", "")));
    let found = e.check(
        &Record::Person(person("Korben", "Dallas", "2009-10-07")),
        &|_| false,
    );
    let m = best(&found, 1).expect("found on names alone");
    assert_eq!(
        level(m, FieldKind::DateOfBirth),
        None,
        "missing fields are not listed"
    );
}

#[test]
fn a_rare_surname_weighs_more_than_a_common_one() {
    let mut e = engine();
    for i in 0..50 {
        e.insert(
            10 + i,
            &Record::Person(person(
                "Zed",
                "Smith",
                &format!("1970-01-{:02}", 1 + i % 28),
            )),
        );
    }
    e.insert(1, &Record::Person(person("Anna", "Smith", "1990-05-05")));
    e.insert(
        2,
        &Record::Person(person("Anna", "Featherstonehaugh", "1990-05-05")),
    );
    let common = e.check(
        &Record::Person(person("Anna", "Smith", "1990-05-05")),
        &|_| false,
    );
    let rare = e.check(
        &Record::Person(person("Anna", "Featherstonehaugh", "1990-05-05")),
        &|_| false,
    );
    let weight = |ms: &[Match], id| {
        let m = best(ms, id).expect("found");
        m.explanation
            .iter()
            .find(|f| f.field == FieldKind::Surname)
            .map(|f| f.weight)
            .expect("surname scored")
    };
    assert!(weight(&rare, 2) > weight(&common, 1) + 3.0);
}

#[test]
fn a_placeholder_date_of_birth_shared_by_many_does_not_flood_hits() {
    let mut e = engine();
    for i in 0..3000u64 {
        let p = person(&format!("Given{i}"), &format!("Family{i}"), "1900-01-01");
        e.insert(10_000 + i, &Record::Person(p));
    }
    let outcome = e.check_outcome(
        &Record::Person(person("Gina", "Fox", "01/01/1900")),
        &|_| false,
    );
    assert!(outcome.matches.is_empty(), "{} hits", outcome.matches.len());
    assert!(
        outcome
            .too_common
            .iter()
            .any(|t| t.field == FieldKind::DateOfBirth && t.holders > 1000),
        "{:?}",
        outcome.too_common
    );
}

#[test]
fn exclude_filters_before_scoring() {
    let mut e = engine();
    e.insert(1, &Record::Person(person("Jane", "Doe", "1980-01-01")));
    e.insert(2, &Record::Person(person("Jane", "Doe", "1980-01-01")));
    let found = e.check(
        &Record::Person(person("Jane", "Doe", "1980-01-01")),
        &|id| id == 1,
    );
    assert!(best(&found, 1).is_none());
    assert!(best(&found, 2).is_some());
}

#[test]
fn identifiers_match_directly_in_any_form() {
    let mut e = engine();
    e.insert(
        1,
        &Record::Phone(Phone {
            number: "07700 900123".into(),
        }),
    );
    e.insert(
        2,
        &Record::Vehicle(Vehicle {
            registration: "AB12 CDE".into(),
        }),
    );
    let mut p = person("Sam", "Jones", "");
    p.phones.push("+44 (0)7700 900123".into());
    e.insert(3, &Record::Person(p));
    let found = e.check(
        &Record::Phone(Phone {
            number: "+447700900123".into(),
        }),
        &|_| false,
    );
    let ids: Vec<u64> = found.iter().map(|m| m.id).collect();
    assert!(ids.contains(&1) && ids.contains(&3), "{ids:?}");
    let found = e.check(
        &Record::Vehicle(Vehicle {
            registration: "ab12cde".into(),
        }),
        &|_| false,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].probability, 1.0);
}

#[test]
fn groups_businesses_and_addresses_are_matched() {
    let mut e = engine();
    e.insert(
        1,
        &Record::Group(Group {
            names: vec!["The Burgess Crew".into()],
        }),
    );
    e.insert(
        2,
        &Record::Business(Business {
            names: vec!["Acme Haulage Ltd".into()],
            company_number: Some("01234567".into()),
            ..Business::default()
        }),
    );
    let premises = AddressValue {
        number: "4".into(),
        lines: vec!["Mill Lane".into()],
        postcode: "B33 8TH".into(),
        ..AddressValue::default()
    };
    e.insert(
        3,
        &Record::Address(Address {
            address: premises.clone(),
        }),
    );
    let g = e.check(
        &Record::Group(Group {
            names: vec!["Burgess Crew".into()],
        }),
        &|_| false,
    );
    assert_eq!(g.first().map(|m| m.id), Some(1));
    let b = e.check(
        &Record::Business(Business {
            names: vec!["ACME HAULAGE LIMITED".into()],
            ..Business::default()
        }),
        &|_| false,
    );
    assert_eq!(b.first().map(|m| m.id), Some(2));
    let mut resident = person("Pat", "Lee", "1970-07-07");
    resident.addresses.push(AddressValue {
        postcode: "b338th".into(),
        ..premises
    });
    let a = e.check(&Record::Person(resident), &|_| false);
    assert!(
        best(&a, 3).is_some(),
        "the person lives at the registered premises"
    );
}

#[test]
fn non_latin_names_match_themselves() {
    let mut e = engine();
    e.insert(
        1,
        &Record::Person(person("Владимир", "Иванов", "1975-03-03")),
    );
    e.insert(2, &Record::Person(person("محمد", "علي", "1975-03-03")));
    e.insert(3, &Record::Person(person("小明", "王", "1975-03-03")));
    for id in 1..=3u64 {
        let q = match id {
            1 => person("владимир", "иванов", "1975-03-03"),
            2 => person("محمد", "علي", "1975-03-03"),
            _ => person("小明", "王", "1975-03-03"),
        };
        let found = e.check(&Record::Person(q), &|_| false);
        assert_eq!(found.first().map(|m| m.id), Some(id), "{found:?}");
    }
}

#[test]
fn retraining_on_registered_data_keeps_finding_duplicates() {
    let mut e = engine();
    e.insert(1, &Record::Person(person("Marian", "Stott", "1947-02-09")));
    e.insert(2, &Record::Person(person("Marian", "Stott", "1947-02-09")));
    e.retrain();
    let found = e.check(
        &Record::Person(person("Marian", "Stot", "1947-02-09")),
        &|_| false,
    );
    assert!(
        best(&found, 1).is_some() && best(&found, 2).is_some(),
        "{found:?}"
    );
}

#[test]
fn the_engine_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
}

#[test]
fn records_round_trip_through_json() {
    let mut p = person("Ann", "Lee", "1990-01-02");
    p.sex = Some(Sex::Female);
    let r = Record::Person(p);
    let json = serde_json::to_string(&r).expect("serialises");
    let back: Record = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, r);
}

fn arb_person() -> impl Strategy<Value = Person> {
    let name = prop::sample::select(vec![
        "John",
        "Jon",
        "Bill",
        "William",
        "Mary",
        "Maria",
        "O'Neil",
        "Smith-Jones",
        "",
        "Ng",
        "Иван",
    ]);
    let dob = prop::sample::select(vec![
        "1980-01-02",
        "1980-02-01",
        "1981-01-02",
        "",
        "02/01/1980",
    ]);
    let postcode = prop::sample::select(vec!["M1 1AE", "m11ae", "SW1A 1AA", ""]);
    let phone = prop::sample::select(vec!["07700 900123", "+44 7700 900124", ""]);
    (name.clone(), name, dob, postcode, phone, any::<bool>()).prop_map(
        |(g, s, dob, pc, phone, female)| {
            let mut p = person(g, s, dob);
            p.sex = Some(if female { Sex::Female } else { Sex::Male });
            if !pc.is_empty() {
                p = with_address(p, "3", "High Street", pc);
            }
            if !phone.is_empty() {
                p.phones.push(phone.to_owned());
            }
            p
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scoring_is_symmetric(a in arb_person(), b in arb_person()) {
        let mut e = engine();
        e.insert(1, &Record::Person(a.clone()));
        e.insert(2, &Record::Person(b.clone()));
        let ab = e.check(&Record::Person(a.clone()), &|id| id != 2);
        let ba = e.check(&Record::Person(b.clone()), &|id| id != 1);
        prop_assert_eq!(ab.len(), ba.len());
        if let (Some(x), Some(y)) = (ab.first(), ba.first()) {
            prop_assert!((x.probability - y.probability).abs() < 1e-9);
            prop_assert!((x.weight - y.weight).abs() < 1e-9);
        }
    }

    #[test]
    fn an_inserted_then_removed_record_leaves_no_trace(a in arb_person(), b in arb_person()) {
        let mut e = engine();
        e.insert(1, &Record::Person(a.clone()));
        let before = e.stats();
        let heard = e.check(&Record::Person(a.clone()), &|_| false);
        e.insert(2, &Record::Person(b));
        prop_assert!(e.remove(2));
        prop_assert_eq!(e.stats(), before);
        prop_assert_eq!(e.check(&Record::Person(a), &|_| false), heard);
        prop_assert!(!e.remove(2));
    }

    #[test]
    fn an_identical_record_always_matches_itself(a in arb_person()) {
        // A record with a full name and a date of birth; a bare surname is not
        // evidence enough to call anyone the same person.
        prop_assume!(a.date_of_birth.is_some());
        prop_assume!(a.names.iter().all(|n| matches!(n, Name::Parts { given, surname } if !given.is_empty() && !surname.is_empty())));
        let mut e = engine();
        e.insert(1, &Record::Person(a.clone()));
        let found = e.check(&Record::Person(a), &|_| false);
        prop_assert!(found.iter().any(|m| m.id == 1 && m.probability >= 0.5), "{:?}", found);
    }
}

#[test]
fn a_record_with_a_name_or_address_given_twice_leaves_no_trace() {
    // Found by fuzzing (tests/fuzz.rs): a repeated alias or address was counted twice
    // when registered but forgotten once when removed.
    let mut e = Engine::new(EngineConfig::default());
    let empty = e.stats();
    let mut p = with_address(
        person("Ann", "Lee", "1990-01-01"),
        "3",
        "High Street",
        "SW1A 1AA",
    );
    p.names.push(Name::Full("Ann Lee".into()));
    let again = p.addresses[0].clone();
    p.addresses.push(again);
    e.insert(1, &Record::Person(p));
    assert!(e.remove(1));
    assert_eq!(e.stats(), empty);
}

#[test]
fn removing_everything_leaves_an_empty_engine() {
    let mut e = Engine::new(EngineConfig::default());
    let empty = e.stats();
    for i in 0..100u64 {
        e.insert(
            i,
            &Record::Person(person("A", &format!("B{i}"), "1990-01-01")),
        );
    }
    for i in 0..100u64 {
        assert!(e.remove(i));
    }
    assert_eq!(e.stats(), empty);
    assert!(e.is_empty());
}

#[test]
fn an_initial_and_one_part_of_a_double_barrelled_surname_are_lesser_agreements() {
    let mut e = engine();
    e.insert(
        1,
        &Record::Person(person("Jayson", "Cawthorn-Whitley", "1961-04-05")),
    );
    let found = e.check(
        &Record::Person(person("J", "Whitley", "1961-04-05")),
        &|_| false,
    );
    let m = best(&found, 1).expect("found");
    assert_eq!(
        level(m, FieldKind::GivenName),
        Some(ComparisonLevel::Initial)
    );
    assert_eq!(level(m, FieldKind::Surname), Some(ComparisonLevel::Part));
}

#[test]
fn two_members_of_one_household_are_not_one_person() {
    let mut e = engine();
    let home = |given: &str, dob: &str, sex| {
        let mut p = with_address(
            person(given, "Loveridge", dob),
            "38",
            "Elm Mews",
            "WF23 8EW",
        );
        p.phones.push("01786 424932".into());
        p.sex = Some(sex);
        Record::Person(p)
    };
    e.insert(1, &home("Judith", "1988-04-28", Sex::Female));
    e.insert(2, &home("Manisha", "1946-11-01", Sex::Female));
    // Twins: the same date of birth as well.
    e.insert(3, &home("Emlyn", "1990-03-10", Sex::Male));
    let found = e.check(&home("David", "1990-03-10", Sex::Male), &|_| false);
    assert!(found.is_empty(), "{found:?}");
    let found = e.check(&home("Judith", "1988-04-28", Sex::Female), &|_| false);
    assert_eq!(found.first().map(|m| m.id), Some(1));
    assert!(found.iter().all(|m| m.id == 1), "{found:?}");
}

#[test]
fn the_same_passport_is_the_same_person_unless_it_is_a_placeholder() {
    let mut e = engine();
    let mut a = person("Ivan", "Petrov", "1971-01-01");
    a.documents.push("P 123 456 789".into());
    e.insert(1, &Record::Person(a));
    let mut alias = person("John", "Peters", "1972-02-02");
    alias.documents.push("p123456789".into());
    let found = e.check(&Record::Person(alias.clone()), &|_| false);
    let m = best(&found, 1).expect("found by the passport");
    assert_eq!(m.probability, 1.0);
    // Thirty people registered with the same made-up number: it proves nothing.
    for i in 0..30u64 {
        let mut p = person(&format!("Given{i}"), &format!("Family{i}"), "1990-01-01");
        p.documents.push("P123456789".into());
        e.insert(100 + i, &Record::Person(p));
    }
    let found = e.check(&Record::Person(alias), &|_| false);
    assert!(found.iter().all(|m| m.probability < 1.0), "{found:?}");
}

#[test]
fn address_and_phone_agree_at_lesser_levels() {
    let mut e = engine();
    let mut p = with_address(
        person("Tadas", "Handforth", "1935-11-04"),
        "17",
        "Cambridge Square",
        "PH4 3ZA",
    );
    p.phones.push("07666 652833".into());
    e.insert(1, &Record::Person(p));
    let query = |number: &str, street: &str, postcode: &str, phone: &str| {
        let mut q = with_address(
            person("Tadas", "Handforth", "1935-11-04"),
            number,
            street,
            postcode,
        );
        q.phones.push(phone.into());
        let found = e.check(&Record::Person(q), &|_| false);
        let m = best(&found, 1).expect("found").clone();
        (level(&m, FieldKind::Address), level(&m, FieldKind::Phone))
    };
    assert_eq!(
        query("17", "Cambridge Sq", "ph43za", "+44 7666 652833"),
        (Some(ComparisonLevel::Exact), Some(ComparisonLevel::Exact))
    );
    assert_eq!(
        query("18", "Cambridge Square", "PH4 3ZA", "07666 652832"),
        (
            Some(ComparisonLevel::SamePostcode),
            Some(ComparisonLevel::OneDigit)
        )
    );
    assert_eq!(
        query("17", "Cambridge Square", "PH4 3ZB", "01234 567890"),
        (
            Some(ComparisonLevel::SameStreet),
            Some(ComparisonLevel::Different)
        )
    );
    assert_eq!(
        query("2", "Other Road", "PH4 9QQ", "01234 567890"),
        (
            Some(ComparisonLevel::SameDistrict),
            Some(ComparisonLevel::Different)
        )
    );
}
