//! Criterion benchmarks of the engine alone: normalising and inserting, one online
//! check against 100,000 registered people, and retraining.
//!
//! `cargo bench -p concordat-matching` (set `CARGO_TARGET_DIR` to your own).

use concordat_matching::{AddressValue, Engine, EngineConfig, Name, Person, Record, Sex};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const GIVEN: &[&str] = &[
    "David", "Sarah", "Paul", "Emma", "John", "Laura", "James", "Lisa", "Mohammed", "Priya",
    "William", "Margaret", "Tomasz", "Siobhan", "Rhys", "Aisha",
];
const SYLLABLES: &[&str] = &[
    "ash", "brook", "cal", "dun", "el", "fair", "gold", "har", "ing", "kel", "lan", "mar", "nor",
    "ock", "pen", "ran", "stan", "thorn", "wick", "wood",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) as u128 * n as u128) >> 64) as usize
    }
}

fn people(n: usize, seed: u64) -> Vec<Record> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let surname: String = (0..3)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect();
            Record::Person(Person {
                names: vec![Name::new(GIVEN[rng.below(GIVEN.len())], surname)],
                date_of_birth: Some(format!(
                    "{}-{:02}-{:02}",
                    1930 + rng.below(85),
                    1 + rng.below(12),
                    1 + rng.below(28)
                )),
                sex: Some(if rng.below(2) == 0 {
                    Sex::Female
                } else {
                    Sex::Male
                }),
                addresses: vec![AddressValue {
                    number: (1 + rng.below(150)).to_string(),
                    lines: vec!["High Street".to_owned()],
                    postcode: format!("LS{} {}AB", 1 + rng.below(30), rng.below(10)),
                    ..AddressValue::default()
                }],
                phones: vec![format!("07700 {:06}", rng.below(1_000_000))],
                ..Person::default()
            })
        })
        .collect()
}

fn engine_with(records: &[Record]) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    for (i, r) in records.iter().enumerate() {
        engine.insert(i as u64, r);
    }
    engine
}

fn benches(c: &mut Criterion) {
    let registered = people(100_000, 1);
    let mut engine = engine_with(&registered);
    engine.retrain();
    let queries = people(1000, 2);

    c.bench_function("insert 10k people", |b| {
        b.iter_batched(
            || registered[..10_000].to_vec(),
            |records| black_box(engine_with(&records)),
            BatchSize::LargeInput,
        )
    });
    let mut i = 0;
    c.bench_function("check a new person against 100k", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(engine.check(&queries[i], &|_| false))
        })
    });
    let mut j = 0;
    c.bench_function("check a registered person against 100k", |b| {
        b.iter(|| {
            j = (j + 7919) % registered.len();
            black_box(engine.check(&registered[j], &|_| false))
        })
    });
    let small = engine_with(&registered[..20_000]);
    c.bench_function("retrain on 20k", |b| {
        b.iter_batched(
            || small.clone(),
            |mut e| {
                e.retrain();
                black_box(e)
            },
            BatchSize::LargeInput,
        )
    });
}

criterion_group! {
    name = matching;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(matching);
