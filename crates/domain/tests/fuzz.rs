//! Property tests of the policy file parser, the one parser in `domain` that reads a
//! whole file from outside: whatever the text, `Policy::parse` returns (never panics),
//! and an error says where, as a line and column inside the text.
//!
//! Cases per property: 256, or `CONCORDAT_FUZZ_CASES` (README, "Security testing");
//! the seed is fixed unless `CONCORDAT_FUZZ_SEED` is set.

use concordat_domain::policy::{Policy, PolicyError};
use concordat_domain::registry::ReferenceData;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::sync::OnceLock;

const DEFAULT: &str = include_str!("../policy/default.toml");
const FIXTURES: &[&str] = &[
    include_str!("../policy/fixtures/broken-remit.toml"),
    include_str!("../policy/fixtures/revenue-first-stricter.toml"),
];

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

fn registry() -> &'static ReferenceData {
    static DATA: OnceLock<ReferenceData> = OnceLock::new();
    DATA.get_or_init(|| ReferenceData::builtin().expect("reference data"))
}

/// Parses `text` and, for an error, checks that its place is inside the text.
fn check(text: &str) -> Result<(), TestCaseError> {
    if let Err(PolicyError {
        line,
        column,
        message,
    }) = Policy::parse(text, registry())
    {
        let lines: Vec<&str> = text.split('\n').collect();
        prop_assert!(
            line >= 1 && line <= lines.len(),
            "line {line} outside 1..={}: {message}",
            lines.len()
        );
        let width = lines[line - 1].chars().count();
        prop_assert!(
            column >= 1 && column <= width + 1,
            "column {column} outside 1..={} on line {line}: {message}",
            width + 1
        );
        prop_assert!(!message.trim().is_empty(), "an error with no message");
    }
    Ok(())
}

/// One edit of a text, at a character position chosen by `at` (taken modulo its length).
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, text: String },
    DuplicateLine { at: usize },
    DeleteLine { at: usize },
    SwapLines { a: usize, b: usize },
}

/// Fragments that mean something to TOML and to the policy, so mutations reach past
/// the syntax into the checks.
const FRAGMENTS: &[&str] = &[
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "\n",
    "#",
    ",",
    ".",
    "{",
    "}",
    "0",
    "-1",
    "4294967296",
    "1e400",
    "nan",
    "true",
    "\"nca\"",
    "\"mps\"",
    "\"\"",
    "[[remit]]",
    "[tests]",
    "[deadlines]",
    "version",
    "national-agency",
    "lead",
    "threat-area",
    "also-covers",
    "\\u{0}",
    "\u{0}",
    "\u{feff}",
    "é",
    "🦀",
    "\r\n",
    "\t",
];

fn arb_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[ -~]{0,12}",
    ]
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        (at, 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (at, arb_fragment()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (at, arb_fragment()).prop_map(|(at, text)| Edit::Replace { at, text }),
        at.prop_map(|at| Edit::DuplicateLine { at }),
        at.prop_map(|at| Edit::DeleteLine { at }),
        (at, at).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let pick = |at: usize, n: usize| if n == 0 { 0 } else { at % n };
    match edit {
        Edit::Delete { at, len } => {
            let start = pick(*at, chars.len());
            let end = (start + len).min(chars.len());
            chars.drain(start..end);
            chars.into_iter().collect()
        }
        Edit::Insert { at, text } => {
            let at = pick(*at, chars.len() + 1);
            chars.splice(at..at, text.chars());
            chars.into_iter().collect()
        }
        Edit::Replace { at, text } => {
            let at = pick(*at, chars.len());
            let end = (at + text.chars().count()).min(chars.len());
            chars.splice(at..end, text.chars());
            chars.into_iter().collect()
        }
        Edit::DuplicateLine { at } | Edit::DeleteLine { at } => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let at = pick(*at, lines.len());
            if matches!(edit, Edit::DuplicateLine { .. }) {
                let line = lines[at];
                lines.insert(at, line);
            } else {
                lines.remove(at);
            }
            lines.join("\n")
        }
        Edit::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let n = lines.len();
            lines.swap(pick(*a, n), pick(*b, n));
            lines.join("\n")
        }
    }
}

fn arb_base() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(DEFAULT),
        1 => proptest::sample::select(FIXTURES),
    ]
}

#[test]
fn the_seeds_parse_or_fail_with_a_place() {
    Policy::parse(DEFAULT, registry()).expect("the default policy parses");
    for fixture in FIXTURES {
        check(fixture).expect("a fixture's error has a place");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_parses_or_fails_with_a_place(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn toml_shaped_text_parses_or_fails_with_a_place(
        lines in proptest::collection::vec(
            prop_oneof![
                "[a-z\\-]{1,16} = [0-9]{1,12}",
                "[a-z\\-]{1,16} = \"[ -~]{0,16}\"",
                "\\[{1,2}[a-z.\\-]{0,24}\\]{1,2}",
                "[ -~]{0,30}",
            ],
            0..30,
        )
    ) {
        check(&lines.join("\n"))?;
    }

    #[test]
    fn mutations_of_the_shipped_policies_parse_or_fail_with_a_place(
        base in arb_base(),
        edits in proptest::collection::vec(arb_edit(), 1..6),
    ) {
        let text = edits.iter().fold(base.to_owned(), |text, edit| apply(&text, edit));
        check(&text)?;
    }
}
