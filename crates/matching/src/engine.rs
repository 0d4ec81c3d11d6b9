//! The online engine: register, remove and check records against everything
//! registered.

use crate::ComparisonLevel;
use crate::features::Features;
use crate::index::{Index, keys, tagged_keys};
use crate::model::{
    self, Comparison, DOB, FieldKind, FieldScore, Model, Population, Priors, compare, probability,
};
use crate::names::{jaro_winkler, within_one_edit};
use crate::record::{Record, RecordId};
use crate::symbols::{NONE, QueryInterner, Resolver, Sym, Symbols};
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

/// How the engine decides and how much it looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Match probability at or above which a candidate is returned (0 to 1).
    pub threshold: f64,
    /// A blocking key held by more records than this is not used to find candidates
    /// (it would find everyone: a hostel's postcode, a placeholder date of birth).
    pub max_postings: usize,
    /// How many pairs `retrain` looks at, at most, for each estimate.
    pub training_pairs: usize,
    /// A person's document number or national identifier held by more records than
    /// this is taken for a placeholder: it no longer matches outright, and is weighed
    /// by its frequency like any other value.
    pub common_identifier: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threshold: 0.5,
            max_postings: 1000,
            training_pairs: 400_000,
            common_identifier: 20,
        }
    }
}

/// A registered record found by a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The registered record.
    pub id: RecordId,
    /// Probability that both are the same (person, group, phone, ...), 0 to 1.
    pub probability: f64,
    /// Total weight of evidence in bits, prior included: `probability` is
    /// `1 / (1 + 2^-weight)`, except that a record with the same identifier (phone,
    /// vehicle mark, company number, premises; for persons, identity document or
    /// national identifier) matches outright, with probability 1.
    pub weight: f64,
    /// Each field's comparison level and weight.
    pub explanation: Vec<FieldScore>,
}

/// What a check found, and what it could not look for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// Candidates at or above the threshold, best first.
    pub matches: Vec<Match>,
    /// Values of the record held by so many registered records (more than
    /// `EngineConfig::max_postings`) that they were not used to find candidates.
    pub too_common: Vec<TooCommon>,
}

/// A value too common to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooCommon {
    /// Which field (for keys made of several, the main one).
    pub field: FieldKind,
    /// How many registered records hold it (the largest, if several keys).
    pub holders: usize,
}

/// Counts that describe the index, for tests and monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Records registered.
    pub records: usize,
    /// Of which persons.
    pub persons: usize,
    /// Distinct blocking keys.
    pub keys: usize,
    /// Key-record pairs.
    pub postings: usize,
    /// Distinct normalised values.
    pub values: usize,
    /// Distinct dates of birth.
    pub dates_of_birth: usize,
}

/// A registered record.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) id: RecordId,
    pub(crate) features: Features,
}

/// The deconfliction engine: every registered record, normalised, in a blocking
/// index, with the model that scores pairs. `Send + Sync`; share it behind a lock.
#[derive(Clone)]
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) symbols: Symbols,
    pub(crate) slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    by_id: HashMap<RecordId, u32>,
    pub(crate) index: Index,
    pub(crate) dob_counts: HashMap<u32, u32>,
    pub(crate) persons: usize,
    pub(crate) model: Model,
}

impl Engine {
    /// An empty engine with default model parameters (call [`Engine::retrain`] once
    /// records are registered).
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            config,
            symbols: Symbols::default(),
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            index: Index::default(),
            dob_counts: HashMap::new(),
            persons: 0,
            model: Model::default(),
        }
    }

    /// Registers a record under `id`, replacing any record registered under it.
    /// Touches only the record's own keys and values.
    pub fn insert(&mut self, id: RecordId, record: &Record) {
        self.remove(id);
        let features = Features::read(record, &mut self.symbols);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        let r = Resolver {
            symbols: &self.symbols,
            overlay: &[],
        };
        let k = keys(&features, r);
        self.index.insert(&k, slot);
        if let Features::Person(p) = &features {
            self.persons += 1;
            if p.dob != 0 {
                *self.dob_counts.entry(p.dob).or_insert(0) += 1;
            }
        }
        self.slots[slot as usize] = Some(Slot { id, features });
        self.by_id.insert(id, slot);
    }

    /// Removes a record; false if none was registered under `id`. Leaves no trace:
    /// its keys, values and counts go with it.
    pub fn remove(&mut self, id: RecordId) -> bool {
        let Some(slot) = self.by_id.remove(&id) else {
            return false;
        };
        let Some(Slot { features, .. }) = self.slots[slot as usize].take() else {
            return false;
        };
        let r = Resolver {
            symbols: &self.symbols,
            overlay: &[],
        };
        let k = keys(&features, r);
        self.index.remove(&k, slot);
        if let Features::Person(p) = &features {
            self.persons -= 1;
            if p.dob != 0
                && let Some(c) = self.dob_counts.get_mut(&p.dob)
            {
                *c -= 1;
                if *c == 0 {
                    self.dob_counts.remove(&p.dob);
                }
            }
        }
        features.release(&mut self.symbols);
        self.free.push(slot);
        // A free list that is the whole table means the engine is empty: start again
        // so that an emptied engine is the same as a new one.
        if self.by_id.is_empty() {
            self.slots.clear();
            self.free.clear();
        }
        true
    }

    /// Number of registered records.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether a record is registered under `id`.
    pub fn contains(&self, id: RecordId) -> bool {
        self.by_id.contains_key(&id)
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Changes the threshold (and other settings) without re-registering anything.
    pub fn set_config(&mut self, config: EngineConfig) {
        self.config = config;
    }

    /// The model's parameters (m and u of each level, the prior).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Registered records that may be the same as `record`, at or above the threshold,
    /// best first. `exclude` is asked about each candidate before it is scored
    /// (records of the asker's own organisation, pairs already suppressed).
    pub fn check(&self, record: &Record, exclude: &dyn Fn(RecordId) -> bool) -> Vec<Match> {
        self.check_outcome(record, exclude).matches
    }

    /// As [`Engine::check`], and also which of the record's values were too common to
    /// look for (a hostel's postcode, a switchboard number, a placeholder date of
    /// birth), so that the caller can say so rather than report "no match".
    pub fn check_outcome(
        &self,
        record: &Record,
        exclude: &dyn Fn(RecordId) -> bool,
    ) -> CheckOutcome {
        let mut interner = QueryInterner {
            symbols: &self.symbols,
            overlay: Default::default(),
        };
        let query = Features::read(record, &mut interner);
        let r = interner.resolver();
        let mut candidates: Vec<u32> = Vec::new();
        let mut too_common: Vec<TooCommon> = Vec::new();
        let mut keys = tagged_keys(&query, r);
        keys.sort_unstable();
        keys.dedup_by_key(|k| k.0);
        for (k, kind) in keys {
            let list = self.index.get(k);
            if list.len() <= self.config.max_postings {
                candidates.extend_from_slice(list);
            } else {
                let field = kind.field();
                match too_common.iter_mut().find(|t| t.field == field) {
                    Some(t) => t.holders = t.holders.max(list.len()),
                    None => too_common.push(TooCommon {
                        field,
                        holders: list.len(),
                    }),
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let pop = Population {
            persons: self.persons,
            query_outside: true,
        };
        let mut matches = Vec::new();
        for slot in candidates {
            let Some(stored) = &self.slots[slot as usize] else {
                continue;
            };
            if exclude(stored.id) {
                continue;
            }
            if let Some(m) = self.score(&query, &stored.features, r, pop, true)
                && m.probability >= self.config.threshold
            {
                matches.push(Match { id: stored.id, ..m });
            }
        }
        sort_matches(&mut matches);
        CheckOutcome {
            matches,
            too_common,
        }
    }

    /// Re-estimates the model from what is registered: u probabilities from random
    /// pairs, m probabilities by expectation–maximisation on blocked pairs, and the
    /// prior. Term frequencies are always current and need no retraining.
    pub fn retrain(&mut self) {
        let all: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&s| {
                matches!(
                    &self.slots[s as usize],
                    Some(Slot {
                        features: Features::Person(_),
                        ..
                    })
                )
            })
            .collect();
        if let Some(trained) = crate::train::train(self, &all, None) {
            self.model = trained.model;
        }
    }

    /// Counts that describe the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            records: self.len(),
            persons: self.persons,
            keys: self.index.keys(),
            postings: self.index.postings(),
            values: self.symbols.len(),
            dates_of_birth: self.dob_counts.len(),
        }
    }

    /// Bytes of heap memory the engine holds, from its own accounting of every
    /// container's *capacity* (not length): the record table and each record's boxed
    /// values, the id map, the blocking index (hash-map buckets with their control
    /// bytes, spilled postings lists), the interned values with their text, and the
    /// date-of-birth counts. The allocator's own per-allocation overhead (typically 8
    /// to 16 bytes per allocation) is not included, and neither is the nickname table,
    /// which is shared and fixed (see [`Engine::fixed_heap_bytes`]).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.slots.capacity() * size_of::<Option<Slot>>()
            + self
                .slots
                .iter()
                .flatten()
                .map(|s| s.features.heap_bytes())
                .sum::<usize>()
            + self.free.capacity() * 4
            + self.by_id.capacity() * (size_of::<(RecordId, u32)>() + 1)
            + self.index.heap_bytes()
            + self.symbols.heap_bytes()
            + self.dob_counts.capacity() * (size_of::<(u32, u32)>() + 1)
    }

    /// Heap bytes shared by every engine in the process and independent of what is
    /// registered (the nickname table).
    pub fn fixed_heap_bytes() -> usize {
        crate::names::Nicknames::get().heap_bytes()
    }

    pub(crate) fn resolver(&self) -> Resolver<'_> {
        Resolver {
            symbols: &self.symbols,
            overlay: &[],
        }
    }

    /// Compares two persons, filling in date-of-birth frequencies.
    pub(crate) fn compare_persons(
        &self,
        a: &crate::features::PersonF,
        b: &crate::features::PersonF,
        r: Resolver<'_>,
        model: &Model,
    ) -> Comparison {
        let mut c = compare(a, b, r, model);
        if c.levels[DOB] == 0 {
            c.counts[DOB] = self
                .dob_counts
                .get(&a.dob)
                .copied()
                .unwrap_or(0)
                .max(self.dob_counts.get(&b.dob).copied().unwrap_or(0))
                .max(1);
        }
        c
    }

    /// Scores a pair of records of any kinds, or `None` when they cannot be the same
    /// thing. With `explain`, the per-field explanation is filled in.
    pub(crate) fn score(
        &self,
        a: &Features,
        b: &Features,
        r: Resolver<'_>,
        pop: Population,
        explain: bool,
    ) -> Option<Match> {
        self.score_with(
            a,
            b,
            r,
            pop,
            explain,
            self.model
                .priors(pop.persons + usize::from(pop.query_outside)),
        )
    }

    pub(crate) fn score_with(
        &self,
        a: &Features,
        b: &Features,
        r: Resolver<'_>,
        pop: Population,
        explain: bool,
        priors: Priors,
    ) -> Option<Match> {
        use Features as F;
        match (a, b) {
            (F::Person(x), F::Person(y)) => {
                let c = self.compare_persons(x, y, r, &self.model);
                let (weight, discount) = self.model.score(&c, pop, priors);
                // The same identity document or national identifier is the same
                // person, unless so many hold it that it is a placeholder. (Phones
                // are not: a household shares its landline.)
                let limit = self.config.common_identifier as u32;
                let same_id = [model::DOCUMENT, model::NATIONAL_ID]
                    .iter()
                    .any(|&f| c.levels[f] == 0 && c.counts[f] <= limit);
                Some(Match {
                    id: 0,
                    probability: if same_id { 1.0 } else { probability(weight) },
                    weight,
                    explanation: if explain {
                        self.model.explain(&c, pop, discount)
                    } else {
                        Vec::new()
                    },
                })
            }
            (F::Vehicle(x), F::Vehicle(y)) => self.direct(FieldKind::Vehicle, *x, *y, r),
            (F::Phone(x), F::Phone(y)) => self.direct(FieldKind::Phone, *x, *y, r),
            (F::Phone(x), other) | (other, F::Phone(x)) => {
                let phones: &[Sym] = match other {
                    F::Person(p) => &p.phones,
                    F::Business { phones, .. } => phones,
                    _ => &[],
                };
                phones
                    .iter()
                    .find_map(|&p| self.direct(FieldKind::Phone, *x, p, r))
            }
            (F::Address(x), other) | (other, F::Address(x)) => {
                let addresses: &[crate::features::AddrF] = match other {
                    F::Person(p) => &p.addresses,
                    F::Business { addresses, .. } => addresses,
                    F::Address(a) => std::slice::from_ref(a),
                    _ => &[],
                };
                addresses.iter().find_map(|y| {
                    let (level, count) = model::address_level(x, y, r)?;
                    (level == 0).then(|| self.direct_match(FieldKind::Address, count))
                })
            }
            (F::Group(x), F::Group(y)) => self.organisations(x, NONE, y, NONE, r),
            (
                F::Business {
                    names: xn,
                    number: xc,
                    ..
                },
                F::Business {
                    names: yn,
                    number: yc,
                    ..
                },
            ) => {
                if *xc != NONE && xc == yc {
                    return self.direct(FieldKind::CompanyNumber, *xc, *yc, r);
                }
                self.organisations(xn, *xc, yn, *yc, r)
            }
            _ => None,
        }
    }

    /// Same identifier: a match outright, weighed by how many records hold it.
    fn direct(&self, field: FieldKind, x: Sym, y: Sym, r: Resolver<'_>) -> Option<Match> {
        (x != NONE && x == y).then(|| self.direct_match(field, r.entry(x).count))
    }

    fn direct_match(&self, field: FieldKind, count: u32) -> Match {
        let n = self.len().max(2) as f64;
        let weight = (n / f64::from(count.max(1))).log2();
        Match {
            id: 0,
            probability: 1.0,
            weight,
            explanation: vec![FieldScore {
                field,
                level: ComparisonLevel::Exact,
                weight,
            }],
        }
    }

    /// Groups and businesses by name (and company number when both have one).
    ///
    /// Registers of groups and businesses are small and their names few words, too
    /// little to estimate a model from, so their weights are fixed: an exact name
    /// (after dropping "the", "ltd", ...) is strong evidence, weaker the more records
    /// share it; a name one slip away is even odds; a phonetic likeness alone is not
    /// enough; different company numbers count heavily against.
    fn organisations(
        &self,
        x: &[Sym],
        x_number: Sym,
        y: &[Sym],
        y_number: Sym,
        r: Resolver<'_>,
    ) -> Option<Match> {
        const PRIOR_BITS: f64 = -6.0;
        let mut best: Option<(ComparisonLevel, f64)> = None;
        for &a in x {
            for &b in y {
                let (ea, eb) = (r.entry(a), r.entry(b));
                let (level, w) = if a == b {
                    (
                        ComparisonLevel::Exact,
                        12.0 - f64::from(ea.count.max(1)).log2(),
                    )
                } else if within_one_edit(ea.text(), eb.text())
                    || jaro_winkler(ea.text(), eb.text()) >= 0.92
                {
                    (ComparisonLevel::Close, 6.0)
                } else if ea.phonetic.sounds_like(eb.phonetic) {
                    (ComparisonLevel::Phonetic, 3.0)
                } else {
                    (ComparisonLevel::Different, -10.0)
                };
                if best.is_none_or(|(_, bw)| w > bw) {
                    best = Some((level, w));
                }
            }
        }
        let (level, w) = best?;
        let mut explanation = vec![FieldScore {
            field: FieldKind::Name,
            level,
            weight: w,
        }];
        let mut total = w;
        if x_number != NONE && y_number != NONE && x_number != y_number {
            total -= 10.0;
            explanation.push(FieldScore {
                field: FieldKind::CompanyNumber,
                level: ComparisonLevel::Different,
                weight: -10.0,
            });
        }
        let weight = total + PRIOR_BITS;
        Some(Match {
            id: 0,
            probability: probability(weight),
            weight,
            explanation,
        })
    }
}

/// Best first: by probability, then weight, then id (so the order is stable).
pub(crate) fn sort_matches(matches: &mut [Match]) {
    matches.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(b.weight.total_cmp(&a.weight))
            .then(a.id.cmp(&b.id))
    });
}
