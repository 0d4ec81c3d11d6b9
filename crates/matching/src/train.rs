//! Estimating the model from the registered data, as Splink does:
//!
//! - **u** (how often each level occurs among non-matches) from random pairs, which
//!   are nearly all non-matches; for exact agreement, computed exactly from the
//!   value counts (`Σ c(c-1) / N(N-1)`).
//! - **m** (how often each level occurs among matches) by expectation–maximisation on
//!   pairs that share a blocking value, with u held fixed. Two sessions, so that no
//!   field's m is estimated from pairs chosen for agreeing on it: pairs with the same
//!   date of birth give m for names and everything else; pairs with the same names
//!   (phonetically) give m for the date of birth and everything else.
//! - **the prior**: the expected number of matches among pairs with the same date of
//!   birth, divided by the share of matches that have the same date of birth.

use crate::engine::{Engine, Slot};
use crate::features::{Features, PersonF};
use crate::model::{
    Comparison, DOB, GIVEN, HOUSEHOLD_FIELDS, LEVELS, MAX_LEVELS, MISSING, Model, NF, SURNAME,
    TWIN_RATE,
};
use crate::symbols::{NONE, Tag};
use std::collections::HashMap;

/// A trained model and what it says about the data.
pub(crate) struct Trained {
    pub(crate) model: Model,
    /// Estimated number of matching pairs among all pairs considered.
    pub(crate) total_matches: f64,
}

/// A small deterministic generator (SplitMix64): training gives the same model on
/// the same data every time.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn person(engine: &Engine, slot: u32) -> Option<&PersonF> {
    match &engine.slots[slot as usize] {
        Some(Slot {
            features: Features::Person(p),
            ..
        }) => Some(p),
        _ => None,
    }
}

/// Trains on `left` (deduplication) or on `left` against `right` (linkage). `None`
/// when there are too few persons to learn anything.
pub(crate) fn train(engine: &Engine, left: &[u32], right: Option<&[u32]>) -> Option<Trained> {
    let n_left = left.len();
    let n_right = right.map_or(0, <[u32]>::len);
    let total_pairs = match right {
        None => (n_left as f64) * (n_left.saturating_sub(1) as f64) / 2.0,
        Some(_) => (n_left as f64) * (n_right as f64),
    };
    if total_pairs < 10.0 {
        return None;
    }
    let limit = engine.config.training_pairs.max(1000);
    let mut model = engine.model.clone();
    let u = estimate_u(engine, left, right, &model, limit);
    model.u = u;

    // Session A: same date of birth. Session B: same names, phonetically.
    let by_dob = |p: &PersonF| (p.dob != 0).then_some(u64::from(p.dob));
    let r = engine.resolver();
    let by_names = |p: &PersonF| {
        let n = p.names.first()?;
        if n.given == NONE || n.surname == NONE {
            return None;
        }
        let code = |s| {
            let ph = r.entry(s).phonetic.primary;
            if ph != 0 { ph } else { s }
        };
        Some((u64::from(code(n.given)) << 32) | u64::from(code(n.surname)))
    };
    let a = blocked_pairs(engine, left, right, by_dob, limit, 1);
    let b = blocked_pairs(engine, left, right, by_names, limit, 2);
    let a_patterns = patterns(engine, &a.pairs, &model);
    let b_patterns = patterns(engine, &b.pairs, &model);
    let a_fit = em(&a_patterns, &model, &[DOB]);
    let b_fit = em(&b_patterns, &model, &[GIVEN, SURNAME]);

    for f in 0..NF {
        let from_a = a_fit
            .as_ref()
            .filter(|_| f != DOB)
            .map(|fit| (&fit.m[f], fit.weight[f]));
        let from_b = b_fit
            .as_ref()
            .filter(|_| f != GIVEN && f != SURNAME)
            .map(|fit| (&fit.m[f], fit.weight[f]));
        let mut m = [0.0; MAX_LEVELS];
        let mut total = 0.0;
        for (row, w) in [from_a, from_b].into_iter().flatten() {
            for l in 0..MAX_LEVELS {
                m[l] += row[l] * w;
            }
            total += w;
        }
        if total > 0.0 {
            for v in &mut m {
                *v /= total;
            }
            model.m[f] = m;
        }
    }

    // The prior: matches among same-date pairs, scaled up by the share of matches
    // that have the same date; or, without dates, the same from name-blocked pairs.
    let total_matches = match (&a_fit, &b_fit) {
        (Some(fa), _) if a.total > 0.0 => fa.lambda * a.total / model.m[DOB][0].max(0.05),
        (_, Some(fb)) if b.total > 0.0 => {
            fb.lambda * b.total / (model.m[GIVEN][0] * model.m[SURNAME][0]).max(0.05)
        }
        _ => return None,
    };
    let total_matches = total_matches.max(1.0);
    let persons = n_left + n_right;
    model.matches_per_record = (2.0 * total_matches / persons as f64).clamp(1e-6, 10.0);
    // Households: pairs at the same premises, less the matches among them.
    let same_premises: f64 = engine
        .symbols
        .counts(Tag::AddressKey)
        .map(|c| f64::from(c) * (f64::from(c) - 1.0) / 2.0)
        .sum();
    let households = (same_premises - total_matches * model.m[4][0]).max(0.0);
    model.households_per_record = (2.0 * households / persons as f64).clamp(1e-6, 10.0);
    model.trained = true;
    Some(Trained {
        model,
        total_matches,
    })
}

/// u of each level: exact agreement from the value counts, the other levels from
/// random pairs.
fn estimate_u(
    engine: &Engine,
    left: &[u32],
    right: Option<&[u32]>,
    model: &Model,
    limit: usize,
) -> [[f64; MAX_LEVELS]; NF] {
    let mut rng = Rng::new(0x5EED_0001);
    let mut tally = [[0u64; MAX_LEVELS]; NF];
    let r = engine.resolver();
    let draws = limit.min(match right {
        None => left.len() * left.len().saturating_sub(1) / 2,
        Some(rt) => left.len() * rt.len(),
    });
    for _ in 0..draws {
        let i = left[rng.below(left.len())];
        let j = match right {
            None => left[rng.below(left.len())],
            Some(rt) => rt[rng.below(rt.len())],
        };
        if i == j {
            continue;
        }
        let (Some(a), Some(b)) = (person(engine, i), person(engine, j)) else {
            continue;
        };
        let c = engine.compare_persons(a, b, r, model);
        for f in 0..NF {
            if c.levels[f] != MISSING {
                tally[f][c.levels[f] as usize] += 1;
            }
        }
    }
    let exact = exact_agreement(engine);
    let mut u = [[0.0; MAX_LEVELS]; NF];
    for f in 0..NF {
        let levels = LEVELS[f].len();
        let sampled: u64 = tally[f][..levels].iter().sum();
        let sampled_exact = tally[f][0] as f64 / (sampled as f64).max(1.0);
        let u_exact = exact[f].unwrap_or(sampled_exact).clamp(1e-9, 0.999);
        let rest: f64 = tally[f][1..levels].iter().map(|&c| c as f64 + 0.5).sum();
        u[f][0] = u_exact;
        for l in 1..levels {
            u[f][l] = (1.0 - u_exact) * (tally[f][l] as f64 + 0.5) / rest;
        }
    }
    u
}

/// Chance that two random records with a value agree on it exactly, per field, from
/// the value counts.
fn exact_agreement(engine: &Engine) -> [Option<f64>; NF] {
    let from = |counts: &mut dyn Iterator<Item = u32>| {
        let (mut n, mut same) = (0.0f64, 0.0f64);
        for c in counts {
            let c = f64::from(c);
            n += c;
            same += c * (c - 1.0);
        }
        (n >= 2.0).then(|| (same / (n * (n - 1.0))).max(1.0 / (n * (n - 1.0))))
    };
    let s = &engine.symbols;
    let mut out = [None; NF];
    out[GIVEN] = from(&mut s.counts(Tag::Given));
    out[SURNAME] = from(&mut s.counts(Tag::Surname));
    out[DOB] = from(&mut engine.dob_counts.values().copied());
    out[4] = from(&mut s.counts(Tag::AddressKey));
    out[5] = from(&mut s.counts(Tag::Phone));
    out[6] = from(&mut s.counts(Tag::Email));
    out[7] = from(&mut s.counts(Tag::Document));
    out[8] = from(&mut s.counts(Tag::NationalId));
    out
}

/// Pairs that share a blocking value, sampled down to about `limit`.
struct Blocked {
    pairs: Vec<(u32, u32)>,
    /// All pairs in the blocks, before sampling.
    total: f64,
}

fn blocked_pairs(
    engine: &Engine,
    left: &[u32],
    right: Option<&[u32]>,
    value: impl Fn(&PersonF) -> Option<u64>,
    limit: usize,
    seed: u64,
) -> Blocked {
    let mut groups: HashMap<u64, (Vec<u32>, Vec<u32>)> = HashMap::new();
    for (side, slots) in [(0, left), (1, right.unwrap_or(&[]))] {
        for &s in slots {
            if let Some(v) = person(engine, s).and_then(&value) {
                let g = groups.entry(v).or_default();
                if side == 0 { g.0.push(s) } else { g.1.push(s) }
            }
        }
    }
    let cap = engine.config.max_postings;
    let pairs_in = |g: &(Vec<u32>, Vec<u32>)| -> f64 {
        let (l, r) = (g.0.len() as f64, g.1.len() as f64);
        if right.is_none() {
            l * (l - 1.0) / 2.0
        } else {
            l * r
        }
    };
    let usable = |g: &(Vec<u32>, Vec<u32>)| g.0.len() + g.1.len() <= cap;
    let total: f64 = groups.values().filter(|g| usable(g)).map(pairs_in).sum();
    let keep = if total > 0.0 {
        (limit as f64 / total).min(1.0)
    } else {
        1.0
    };
    let mut rng = Rng::new(0x5EED_0100 + seed);
    let mut pairs = Vec::new();
    let mut keys: Vec<&u64> = groups.keys().collect();
    keys.sort_unstable();
    for k in keys {
        let g = &groups[k];
        if !usable(g) {
            continue;
        }
        let mut push = |i: u32, j: u32| {
            if keep >= 1.0 || rng.unit() < keep {
                pairs.push((i, j));
            }
        };
        match right {
            None => {
                for (x, &i) in g.0.iter().enumerate() {
                    for &j in &g.0[x + 1..] {
                        push(i, j);
                    }
                }
            }
            Some(_) => {
                for &i in &g.0 {
                    for &j in &g.1 {
                        push(i, j);
                    }
                }
            }
        }
    }
    Blocked { pairs, total }
}

/// Comparison patterns with how often each occurs.
fn patterns(engine: &Engine, pairs: &[(u32, u32)], model: &Model) -> Vec<([u8; NF], f64)> {
    let r = engine.resolver();
    let mut counts: HashMap<[u8; NF], f64> = HashMap::new();
    for &(i, j) in pairs {
        if let (Some(a), Some(b)) = (person(engine, i), person(engine, j)) {
            let c: Comparison = engine.compare_persons(a, b, r, model);
            *counts.entry(c.levels).or_insert(0.0) += 1.0;
        }
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_by_key(|a| a.0);
    out
}

struct Fit {
    m: [[f64; MAX_LEVELS]; NF],
    /// How much evidence each field's m rests on (expected matches with the field).
    weight: [f64; NF],
    /// Share of the session's pairs that match.
    lambda: f64,
}

/// Expectation–maximisation of m and the match share on one session's patterns, u
/// held fixed, ignoring the `blocked` fields.
fn em(patterns: &[([u8; NF], f64)], model: &Model, blocked: &[usize]) -> Option<Fit> {
    let n: f64 = patterns.iter().map(|p| p.1).sum();
    if n < 20.0 {
        return None;
    }
    let active: Vec<usize> = (0..NF).filter(|f| !blocked.contains(f)).collect();
    let mut m = model.m;
    let mut lambda = 0.1f64;
    // A third class, members of one household (see `model::HOUSEHOLD_FIELDS`), so
    // that households and twins are not taken for matches and do not inflate m of
    // "given name different".
    let mut eta = 0.01f64;
    let household_ln = |f: usize, l: usize, m: &[[f64; MAX_LEVELS]; NF]| -> f64 {
        if HOUSEHOLD_FIELDS.contains(&f) {
            m[f][l].max(1e-12).ln()
        } else if f == DOB {
            if l == 0 {
                TWIN_RATE.ln()
            } else {
                (model.u[f][l] * (1.0 - TWIN_RATE) / (1.0 - model.u[f][0]).max(1e-9))
                    .max(1e-12)
                    .ln()
            }
        } else {
            model.u[f][l].max(1e-12).ln()
        }
    };
    // Pseudo-counts of the default m: they keep a level nobody showed from a
    // probability of zero, and a fit on few matches close to the defaults.
    const PRIOR: f64 = 20.0;
    let mut weight = [0.0; NF];
    for _ in 0..60 {
        let mut acc = [[0.0; MAX_LEVELS]; NF];
        let mut seen = [0.0; NF];
        let mut matched = 0.0;
        let mut household = 0.0;
        for (levels, count) in patterns {
            let (mut lm, mut lu, mut lh) = (lambda.ln(), (1.0 - lambda - eta).ln(), eta.ln());
            for &f in &active {
                let l = levels[f];
                if l != MISSING {
                    lm += m[f][l as usize].max(1e-12).ln();
                    lu += model.u[f][l as usize].max(1e-12).ln();
                    lh += household_ln(f, l as usize, &m);
                }
            }
            let top = lm.max(lu).max(lh);
            let (em_, eu, eh) = ((lm - top).exp(), (lu - top).exp(), (lh - top).exp());
            let p = em_ / (em_ + eu + eh);
            household += eh / (em_ + eu + eh) * count;
            let w = p * count;
            matched += w;
            for &f in &active {
                let l = levels[f];
                if l != MISSING {
                    acc[f][l as usize] += w;
                    seen[f] += w;
                }
            }
        }
        eta = (household / n).clamp(1e-9, 0.5);
        let new_lambda = (matched / n).clamp(1e-9, 0.999 - eta);
        let mut change = (new_lambda - lambda).abs();
        lambda = new_lambda;
        for &f in &active {
            let levels = LEVELS[f].len();
            for l in 0..levels {
                let v = (acc[f][l] + PRIOR * model.m[f][l]) / (seen[f] + PRIOR);
                change = change.max((v - m[f][l]).abs());
                m[f][l] = v;
            }
            weight[f] = seen[f];
        }
        if change < 1e-6 {
            break;
        }
    }
    // A session that found (almost) no matches has nothing to say about m; nor has
    // one whose "matches" disagree on names or date of birth more often than they
    // agree (on data without duplicates, EM can take chance likenesses for a class).
    if lambda * n < 5.0 {
        return None;
    }
    let different = |f: usize| LEVELS[f].len() - 1;
    if [GIVEN, SURNAME, DOB]
        .iter()
        .filter(|f| active.contains(f))
        .any(|&f| m[f][0] <= m[f][different(f)])
    {
        return None;
    }
    Some(Fit { m, weight, lambda })
}
