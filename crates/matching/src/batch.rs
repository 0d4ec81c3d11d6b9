//! Batch linkage: every pair within one set (deduplication) or across two (linkage)
//! at or above the threshold, found through the same index and model as the online
//! check, on every core.

use crate::engine::{Engine, EngineConfig, Match, Slot};
use crate::features::Features;
use crate::index::keys;
use crate::model::Population;
use crate::record::{Record, RecordId};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a batch is doing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Normalising and indexing records.
    Indexing,
    /// Estimating the model.
    Training,
    /// Comparing candidate pairs.
    Scoring,
}

/// Progress of a batch: `done` of `total` in `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Units done.
    pub done: usize,
    /// Units in the stage.
    pub total: usize,
}

/// A pair found by a batch: positions in the input(s) and the match (whose `id` is
/// the second position).
pub type Pair = (usize, usize, Match);

/// Every pair of records in `records` that are the same at or above the threshold,
/// each pair once with the smaller position first, sorted by position.
pub fn dedupe(
    records: &[(String, Record)],
    config: &EngineConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<Pair> {
    let mut engine = Engine::new(config.clone());
    index_all(
        &mut engine,
        records.iter().map(|r| &r.1),
        0,
        records.len(),
        progress,
    );
    progress(Progress {
        stage: Stage::Training,
        done: 0,
        total: 1,
    });
    let slots = person_slots(&engine, 0..records.len() as u64);
    if let Some(t) = crate::train::train(&engine, &slots, None) {
        engine.model = t.model;
    }
    progress(Progress {
        stage: Stage::Training,
        done: 1,
        total: 1,
    });
    let prior = engine.model.priors(engine.persons);
    let n = records.len();
    score_all(&engine, n, &|i, j| j > i, prior, progress)
}

/// Every pair of a record in `left` and one in `right` that are the same at or above
/// the threshold, sorted by position in `left`, then in `right`.
pub fn link(
    left: &[(String, Record)],
    right: &[(String, Record)],
    config: &EngineConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<Pair> {
    let mut engine = Engine::new(config.clone());
    let total = left.len() + right.len();
    let all = left.iter().chain(right.iter()).map(|r| &r.1);
    index_all(&mut engine, all, 0, total, progress);
    progress(Progress {
        stage: Stage::Training,
        done: 0,
        total: 1,
    });
    let n_left = left.len();
    let l_slots = person_slots(&engine, 0..n_left as u64);
    let r_slots = person_slots(&engine, n_left as u64..total as u64);
    let mut prior = engine.model.priors(engine.persons);
    if let Some(t) = crate::train::train(&engine, &l_slots, Some(&r_slots)) {
        engine.model = t.model;
        // The prior of a cross pair: expected links over all cross pairs.
        let cross = (l_slots.len().max(1) * r_slots.len().max(1)) as f64;
        let lambda = (t.total_matches / cross).clamp(1e-15, 0.3);
        prior = engine.model.priors(engine.persons);
        prior.matching = (lambda / (1.0 - lambda)).log2();
    }
    progress(Progress {
        stage: Stage::Training,
        done: 1,
        total: 1,
    });
    let pairs = score_all(&engine, n_left, &|_, j| j >= n_left, prior, progress);
    pairs
        .into_iter()
        .map(|(i, j, mut m)| {
            m.id = (j - n_left) as RecordId;
            (i, j - n_left, m)
        })
        .collect()
}

fn index_all<'a>(
    engine: &mut Engine,
    records: impl Iterator<Item = &'a Record>,
    first_id: u64,
    total: usize,
    progress: &(dyn Fn(Progress) + Sync),
) {
    for (i, record) in records.enumerate() {
        engine.insert(first_id + i as u64, record);
        if i % 8192 == 0 {
            progress(Progress {
                stage: Stage::Indexing,
                done: i,
                total,
            });
        }
    }
    progress(Progress {
        stage: Stage::Indexing,
        done: total,
        total,
    });
}

fn person_slots(engine: &Engine, ids: std::ops::Range<u64>) -> Vec<u32> {
    // A fresh engine gives record `i` slot `i`.
    ids.filter(|&i| {
        matches!(
            engine.slots.get(i as usize),
            Some(Some(Slot {
                features: Features::Person(_),
                ..
            }))
        )
    })
    .map(|i| i as u32)
    .collect()
}

/// Scores, for each record `i < queries`, every candidate `j` with `wanted(i, j)`,
/// on all cores.
fn score_all(
    engine: &Engine,
    queries: usize,
    wanted: &(dyn Fn(usize, usize) -> bool + Sync),
    prior: crate::model::Priors,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<Pair> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Pair>> = Mutex::new(Vec::new());
    let pop = Population {
        persons: engine.persons,
        query_outside: false,
    };
    let r = engine.resolver();
    let threshold = engine.config.threshold;
    let cap = engine.config.max_postings;
    const CHUNK: usize = 2048;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut seen = vec![u32::MAX; engine.slots.len()];
                let mut found: Vec<Pair> = Vec::new();
                loop {
                    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if start >= queries {
                        break;
                    }
                    for i in start..(start + CHUNK).min(queries) {
                        let Some(Some(a)) = engine.slots.get(i) else {
                            continue;
                        };
                        for k in keys(&a.features, r) {
                            let list = engine.index.get(k);
                            if list.len() > cap {
                                continue;
                            }
                            for &j in list {
                                let j = j as usize;
                                if seen[j] == i as u32 || !wanted(i, j) {
                                    continue;
                                }
                                seen[j] = i as u32;
                                let Some(Some(b)) = engine.slots.get(j) else {
                                    continue;
                                };
                                let Some(m) = engine.score_with(
                                    &a.features,
                                    &b.features,
                                    r,
                                    pop,
                                    false,
                                    prior,
                                ) else {
                                    continue;
                                };
                                if m.probability >= threshold {
                                    let m = engine
                                        .score_with(&a.features, &b.features, r, pop, true, prior)
                                        .unwrap_or(m);
                                    found.push((i, j, Match { id: b.id, ..m }));
                                }
                            }
                        }
                    }
                    let d = done.fetch_add(CHUNK.min(queries - start), Ordering::Relaxed);
                    progress(Progress {
                        stage: Stage::Scoring,
                        done: (d + CHUNK).min(queries),
                        total: queries,
                    });
                }
                if let Ok(mut all) = results.lock() {
                    all.append(&mut found);
                }
            });
        }
    });
    let mut all = results.into_inner().unwrap_or_else(|e| e.into_inner());
    all.sort_by_key(|p| (p.0, p.1));
    all
}
