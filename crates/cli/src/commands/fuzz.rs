//! Property tests of the CSV readers, which take files from outside: the people files of
//! `dedupe`, `link` and `bench` (plain or gzip) and the truth and cluster files of
//! `bench accuracy`. Whatever the bytes, they answer (never panic); a bad row is named
//! by its line.
//!
//! Cases per property: 256, or `CONCORDAT_FUZZ_CASES` (README, "Security testing");
//! the seed is fixed unless `CONCORDAT_FUZZ_SEED` is set.

use super::bench::{read_clusters, read_truth_from};
use super::linkage::{CANONICAL, Mapping, read_people_from};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::io::Write;

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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// At most how many lines the CSV reader can count in `bytes` (it ends a line at `\n`,
/// `\r` or both).
fn line_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1
}

/// Reads `bytes` as a people file and checks that every problem names a line of it.
fn check_people(bytes: &[u8], lines: u64, mapping: &Mapping) -> Result<(), TestCaseError> {
    if let Ok(input) = read_people_from(bytes, "fuzz.csv", mapping) {
        for problem in &input.problems {
            prop_assert!(
                (1..=lines).contains(&problem.line),
                "line {} of {}: {}",
                problem.line,
                lines,
                problem.message
            );
            prop_assert!(!problem.message.is_empty());
        }
        for (id, _) in &input.records {
            prop_assert!(!id.is_empty());
        }
    }
    Ok(())
}

/// A CSV field: usually plain text of the kind people files hold, sometimes quoted,
/// sometimes anything at all.
fn arb_field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9 ./\\-]{0,12}",
        1 => "\"[^\"]{0,8}\"",
        1 => proptest::sample::select(&[
            "", "1980-04-01", "29/02/1981", "19800401", "F", "m", "x", "SW1A 1AA",
            "+44 (0)7700 900123", "\"", "\"\"", ",", "\r", "\n", "é", "\u{0}",
        ][..]).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// A people file: a header of canonical (and unknown) columns, then rows of fields,
/// each row usually as wide as the header.
fn arb_people_file() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    let header = proptest::collection::vec(
        prop_oneof![
            5 => proptest::sample::select(CANONICAL).prop_map(str::to_owned),
            1 => "[a-z_]{1,8}",
        ],
        1..8,
    );
    header.prop_flat_map(|header| {
        let width = header.len();
        let row = prop_oneof![
            6 => proptest::collection::vec(arb_field(), width..=width),
            1 => proptest::collection::vec(arb_field(), 0..width + 2),
        ];
        (Just(header), proptest::collection::vec(row, 0..12))
    })
}

fn join(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut text = header.join(",");
    for row in rows {
        text.push('\n');
        text.push_str(&row.join(","));
    }
    text.into_bytes()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_people_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let lines = line_count(&bytes);
        check_people(&bytes, lines, &Mapping::default())?;
        let mapping = Mapping::parse(&["id=rec_id".to_owned(), "address_1=street+suburb".to_owned()])
            .expect("mapping");
        check_people(&bytes, lines, &mapping)?;
        // The same bytes behind gzip's magic number: a corrupt stream is an error.
        let mut corrupt = vec![0x1f, 0x8b];
        corrupt.extend_from_slice(&bytes);
        let _ = read_people_from(&corrupt[..], "fuzz.csv.gz", &Mapping::default());
    }

    #[test]
    fn people_files_read_every_row_or_name_its_line((header, rows) in arb_people_file(), zipped in any::<bool>()) {
        let plain = join(&header, &rows);
        let lines = line_count(&plain);
        let bytes = if zipped { gzip(&plain) } else { plain.clone() };
        check_people(&bytes, lines, &Mapping::default())?;
        // Without quotes or line breaks in a field, each row is a record or a dropped
        // problem, exactly once.
        let simple = rows.iter().flatten().all(|f| !f.contains(['"', '\n', '\r']));
        let blank = rows.iter().any(|r| r.iter().all(String::is_empty) && r.len() <= 1);
        let header_unique = header.iter().collect::<std::collections::HashSet<_>>().len() == header.len();
        if simple && !blank && header_unique
            && let Ok(input) = read_people_from(&bytes[..], "fuzz.csv", &Mapping::default())
        {
            let dropped = input.problems.iter().filter(|p| p.dropped).count();
            prop_assert_eq!(input.records.len() + dropped, rows.len(), "{:?}", input.problems);
        }
    }

    #[test]
    fn any_bytes_are_truth_or_an_error_naming_the_line(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = read_truth_from(&bytes[..]) {
            let message = format!("{e:#}");
            prop_assert!(message.starts_with("line "), "{}", message);
        }
        match read_clusters(&bytes[..]) {
            Ok(clusters) => prop_assert!(clusters.values().all(|ids| !ids.is_empty())),
            Err(e) => {
                let message = format!("{e:#}");
                prop_assert!(
                    message.starts_with("line ") || message.contains("rec_id and cluster_id"),
                    "{}",
                    message
                );
            }
        }
    }

    #[test]
    fn column_mappings_parse_or_say_why(items in proptest::collection::vec("[a-z_=+ ]{0,20}", 0..4)) {
        let _ = Mapping::parse(&items);
    }
}
