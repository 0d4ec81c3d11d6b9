//! The Fellegi–Sunter model: each field of a pair compares at one level; each level
//! has an m probability (of that level among true matches) and a u probability (among
//! non-matches); the pair's weight is the sum of `log2(m / u)` over fields, plus the
//! prior, and its match probability follows from that.
//!
//! An exact agreement on a value is weighed by that value's own frequency (term
//! frequency adjustment): agreeing on a surname held by one person in a million says
//! far more than agreeing on "Smith", and a placeholder date of birth held by
//! thousands says almost nothing.

use crate::features::{AddrF, NameF, PersonF};
use crate::names::{Nicknames, jaro_winkler, within_one_edit};
use crate::normalise::{Date, postcode_district};
use crate::symbols::{NONE, Resolver, Sym};
use serde::{Deserialize, Serialize};

/// What a field score is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    /// A person's given name.
    GivenName,
    /// A person's surname.
    Surname,
    /// A group's or business's name.
    Name,
    /// Date of birth.
    DateOfBirth,
    /// Sex.
    Sex,
    /// Address (premises, postcode, street, district together).
    Address,
    /// Phone number.
    Phone,
    /// Email address.
    Email,
    /// Identity document number.
    Document,
    /// National identifier.
    NationalId,
    /// Vehicle registration mark.
    Vehicle,
    /// Company registration number.
    CompanyNumber,
    /// Not a field: the discount for agreement that members of one household share
    /// (surname, address, home phone) when given name or date of birth disagree.
    Household,
}

impl FieldKind {
    /// The field's name as written in explanations and CSV output (`date-of-birth`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::GivenName => "given-name",
            FieldKind::Surname => "surname",
            FieldKind::Name => "name",
            FieldKind::DateOfBirth => "date-of-birth",
            FieldKind::Sex => "sex",
            FieldKind::Address => "address",
            FieldKind::Phone => "phone",
            FieldKind::Email => "email",
            FieldKind::Document => "document",
            FieldKind::NationalId => "national-id",
            FieldKind::Vehicle => "vehicle",
            FieldKind::CompanyNumber => "company-number",
            FieldKind::Household => "household",
        }
    }
}

/// How closely a field agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComparisonLevel {
    /// The same value after normalisation.
    Exact,
    /// Formal and familiar forms of one given name (William, Bill).
    Nickname,
    /// One typing slip apart, or Jaro–Winkler similarity of 0.92 or more.
    Close,
    /// The same Double Metaphone code.
    Phonetic,
    /// One side is an initial that starts the other.
    Initial,
    /// One part of a double-barrelled surname.
    Part,
    /// Given name and surname written the other way round.
    Swapped,
    /// Similar (Jaro–Winkler 0.80 or more) but not close.
    Far,
    /// Day and month swapped.
    Transposed,
    /// One digit wrong, or two neighbouring digits swapped.
    OneDigit,
    /// Same postcode, different premises.
    SamePostcode,
    /// Same house number and street, postcode different or missing.
    SameStreet,
    /// Same postcode district only.
    SameDistrict,
    /// Values present on both sides and different.
    Different,
    /// Missing on one side or both: no evidence either way.
    Missing,
    /// The agreement could be that of two members of one household.
    Household,
}

impl ComparisonLevel {
    /// The level's name as written in explanations (`same-postcode`).
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonLevel::Exact => "exact",
            ComparisonLevel::Nickname => "nickname",
            ComparisonLevel::Close => "close",
            ComparisonLevel::Phonetic => "phonetic",
            ComparisonLevel::Initial => "initial",
            ComparisonLevel::Part => "part",
            ComparisonLevel::Swapped => "swapped",
            ComparisonLevel::Far => "far",
            ComparisonLevel::Transposed => "transposed",
            ComparisonLevel::OneDigit => "one-digit",
            ComparisonLevel::SamePostcode => "same-postcode",
            ComparisonLevel::SameStreet => "same-street",
            ComparisonLevel::SameDistrict => "same-district",
            ComparisonLevel::Different => "different",
            ComparisonLevel::Missing => "missing",
            ComparisonLevel::Household => "household",
        }
    }
}

/// One field's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldScore {
    /// Which field.
    pub field: FieldKind,
    /// How closely it agreed.
    pub level: ComparisonLevel,
    /// Its weight of evidence in bits (`log2(m / u)`): positive for a match, negative
    /// against, 0 when missing.
    pub weight: f64,
}

use ComparisonLevel as L;

/// The fields of the person model, in the order of every per-field array.
pub(crate) const PERSON_FIELDS: [FieldKind; 9] = [
    FieldKind::GivenName,
    FieldKind::Surname,
    FieldKind::DateOfBirth,
    FieldKind::Sex,
    FieldKind::Address,
    FieldKind::Phone,
    FieldKind::Email,
    FieldKind::Document,
    FieldKind::NationalId,
];
pub(crate) const NF: usize = PERSON_FIELDS.len();
pub(crate) const GIVEN: usize = 0;
pub(crate) const SURNAME: usize = 1;
pub(crate) const DOB: usize = 2;
pub(crate) const DOCUMENT: usize = 7;
pub(crate) const NATIONAL_ID: usize = 8;

/// The levels of each person field, best first, the last always `Different`. A field
/// that is `Missing` has no level index (see [`MISSING`]). The first level is always
/// `Exact`, and is weighed by term frequency.
pub(crate) const LEVELS: [&[ComparisonLevel]; NF] = [
    &[
        L::Exact,
        L::Nickname,
        L::Close,
        L::Phonetic,
        L::Initial,
        L::Far,
        L::Different,
    ],
    &[
        L::Exact,
        L::Close,
        L::Phonetic,
        L::Part,
        L::Swapped,
        L::Far,
        L::Different,
    ],
    &[L::Exact, L::Transposed, L::OneDigit, L::Different],
    &[L::Exact, L::Different],
    &[
        L::Exact,
        L::SamePostcode,
        L::SameStreet,
        L::SameDistrict,
        L::Different,
    ],
    &[L::Exact, L::OneDigit, L::Different],
    &[L::Exact, L::Close, L::Different],
    &[L::Exact, L::OneDigit, L::Different],
    &[L::Exact, L::OneDigit, L::Different],
];

/// The most levels any field has.
pub(crate) const MAX_LEVELS: usize = 7;

/// The level index meaning "missing".
pub(crate) const MISSING: u8 = u8::MAX;

fn index_of(field: usize, level: ComparisonLevel) -> u8 {
    LEVELS[field]
        .iter()
        .position(|&l| l == level)
        .map_or(MISSING, |i| i as u8)
}

/// A pair of persons compared: each field's level, and for exact agreements the
/// number of registered records holding the value (for term frequency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comparison {
    pub(crate) levels: [u8; NF],
    pub(crate) counts: [u32; NF],
}

/// m and u probabilities of each level of each person field, and the prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub(crate) m: [[f64; MAX_LEVELS]; NF],
    pub(crate) u: [[f64; MAX_LEVELS]; NF],
    /// Expected number of other registered records that are the same person as any
    /// one record (duplicates per record); with `N` registered, the prior probability
    /// that a random pair matches is this over `N`.
    pub(crate) matches_per_record: f64,
    /// Expected number of other registered records that are a *different* person of
    /// the same household (same premises) as any one record.
    pub(crate) households_per_record: f64,
    /// Whether the parameters were estimated from data (`retrain`), or are defaults.
    pub(crate) trained: bool,
}

/// The fields that members of one household share: surname, address and home phone.
/// Under the household class they agree as a match does; the other fields agree as
/// for strangers (except the date of birth, see [`TWIN_RATE`]).
pub(crate) const HOUSEHOLD_FIELDS: [usize; 3] = [SURNAME, 4, 5];

/// Chance that two different people of one household share a date of birth: twins.
/// About one birth in sixty in the UK is a multiple birth (ONS), so about one sibling
/// pair in thirty to fifty; 0.02 is taken. A fact about people, not about any file.
pub(crate) const TWIN_RATE: f64 = 0.02;

/// Prior log-odds (bits), against "unrelated": of a match, and of two different
/// members of one household.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Priors {
    pub(crate) matching: f64,
    pub(crate) household: f64,
}

impl Default for Model {
    /// Parameters from experience with person registers, used until the engine is
    /// trained on its own data.
    fn default() -> Model {
        let mut m = [[0.0; MAX_LEVELS]; NF];
        let mut u = [[0.0; MAX_LEVELS]; NF];
        let set = |row: &mut [f64; MAX_LEVELS], values: &[f64]| {
            row[..values.len()].copy_from_slice(values);
        };
        set(&mut m[0], &[0.85, 0.03, 0.06, 0.02, 0.01, 0.02, 0.01]);
        set(&mut u[0], &[0.01, 0.002, 0.005, 0.01, 0.005, 0.03, 0.938]);
        set(&mut m[1], &[0.85, 0.05, 0.02, 0.01, 0.01, 0.02, 0.04]);
        set(
            &mut u[1],
            &[0.002, 0.001, 0.004, 0.0005, 0.00001, 0.02, 0.97249],
        );
        set(&mut m[2], &[0.9, 0.03, 0.05, 0.02]);
        set(&mut u[2], &[0.00005, 0.00001, 0.0005, 0.99944]);
        set(&mut m[3], &[0.98, 0.02]);
        set(&mut u[3], &[0.5, 0.5]);
        set(&mut m[4], &[0.6, 0.1, 0.05, 0.05, 0.2]);
        set(&mut u[4], &[0.00001, 0.0001, 0.00001, 0.002, 0.99788]);
        set(&mut m[5], &[0.7, 0.05, 0.25]);
        set(&mut u[5], &[0.00002, 0.0002, 0.99978]);
        set(&mut m[6], &[0.8, 0.1, 0.1]);
        set(&mut u[6], &[0.00001, 0.0001, 0.99989]);
        set(&mut m[7], &[0.9, 0.05, 0.05]);
        set(&mut u[7], &[0.00001, 0.0001, 0.99989]);
        set(&mut m[8], &[0.9, 0.05, 0.05]);
        set(&mut u[8], &[0.00001, 0.0001, 0.99989]);
        Model {
            m,
            u,
            matches_per_record: 0.1,
            households_per_record: 0.5,
            trained: false,
        }
    }
}

/// How many records' worth of weight the model's own u for an exact agreement carries
/// against the observed frequency of a value (see `Model::u_exact`).
const TF_PRIOR_RECORDS: f64 = 50.0;

/// What a weight needs beyond the comparison: how many persons are registered, and
/// whether the query is one of them (a batch) or outside (an online check).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Population {
    pub(crate) persons: usize,
    pub(crate) query_outside: bool,
}

impl Model {
    /// Weight in bits of one field at one level.
    pub(crate) fn weight(&self, field: usize, level: u8, count: u32, pop: Population) -> f64 {
        if level == MISSING {
            return 0.0;
        }
        let l = level as usize;
        let m = self.m[field][l];
        let u = if l == 0 {
            self.u_exact(field, count, pop)
        } else {
            self.u[field][l]
        };
        (m.max(1e-12) / u.max(1e-12)).log2()
    }

    /// u of an exact agreement on a value held by `count` registered records: the
    /// chance that a random other record holds it (term frequency).
    fn u_exact(&self, field: usize, count: u32, pop: Population) -> f64 {
        if count == 0 {
            return self.u[field][0].max(1e-12);
        }
        let extra = u32::from(pop.query_outside);
        let n = (pop.persons as f64 + f64::from(extra)).max(2.0);
        let others = (f64::from(count + extra) - 1.0).max(1.0);
        // A frequency read off a handful of records says little: shrink it towards the
        // model's u for an exact agreement with a pseudo-count of TF_PRIOR_RECORDS
        // records, so that the first registrations still match on what they share and
        // a large register weighs each value by its own frequency.
        let prior = self.u[field][0].clamp(1e-12, 0.999);
        let tf = (others + TF_PRIOR_RECORDS * prior) / (n - 1.0 + TF_PRIOR_RECORDS);
        tf.clamp(1e-12, 0.999)
    }

    /// The priors with `persons` registered: a random pair matches with probability
    /// `matches_per_record / (N - 1)`, and is two members of one household with
    /// probability `households_per_record / (N - 1)`.
    pub(crate) fn priors(&self, persons: usize) -> Priors {
        let n = (persons as f64).max(2.0);
        let lambda = (self.matches_per_record / (n - 1.0)).clamp(1e-15, 0.3);
        let eta = (self.households_per_record / (n - 1.0)).clamp(1e-15, 0.3);
        Priors {
            matching: (lambda / (1.0 - lambda - eta)).log2(),
            household: (eta / (1.0 - lambda - eta)).log2(),
        }
    }

    /// Log-likelihood ratio (bits) of a comparison under "members of one household"
    /// against "unrelated": the household fields weigh as for a match, the date of
    /// birth as for siblings, the rest not at all.
    pub(crate) fn household_bits(&self, c: &Comparison, pop: Population) -> f64 {
        let mut bits: f64 = HOUSEHOLD_FIELDS
            .iter()
            .map(|&f| self.weight(f, c.levels[f], c.counts[f], pop))
            .sum();
        match c.levels[DOB] {
            MISSING => {}
            0 => {
                let u = self.u_exact(DOB, c.counts[DOB], pop);
                bits += (TWIN_RATE.max(u) / u).log2();
            }
            _ => bits += ((1.0 - TWIN_RATE) / (1.0 - self.u[DOB][0]).max(1e-9)).log2(),
        }
        bits
    }

    /// The weight of evidence (bits) for a match, prior included, and the part of it
    /// taken away because the agreement could be a shared household:
    /// `log2 P(M)P(c|M) / (P(U)P(c|U) + P(H)P(c|H))`.
    pub(crate) fn score(&self, c: &Comparison, pop: Population, priors: Priors) -> (f64, f64) {
        let total = self.total(c, pop) + priors.matching;
        let household = priors.household + self.household_bits(c, pop);
        // log2(1 + 2^household), computed without overflow.
        let discount = if household > 60.0 {
            household
        } else {
            household.exp2().ln_1p() / std::f64::consts::LN_2
        };
        (total - discount, discount)
    }

    /// Total weight of a comparison, without the prior.
    pub(crate) fn total(&self, c: &Comparison, pop: Population) -> f64 {
        (0..NF)
            .map(|f| self.weight(f, c.levels[f], c.counts[f], pop))
            .sum()
    }

    /// Each field's score, for the explanation (missing fields left out), and the
    /// household discount when there is one.
    pub(crate) fn explain(
        &self,
        c: &Comparison,
        pop: Population,
        discount: f64,
    ) -> Vec<FieldScore> {
        let mut out: Vec<FieldScore> = (0..NF)
            .filter(|&f| c.levels[f] != MISSING)
            .map(|f| FieldScore {
                field: PERSON_FIELDS[f],
                level: LEVELS[f][c.levels[f] as usize],
                weight: self.weight(f, c.levels[f], c.counts[f], pop),
            })
            .collect();
        if discount >= 0.01 {
            out.push(FieldScore {
                field: FieldKind::Household,
                level: ComparisonLevel::Household,
                weight: -discount,
            });
        }
        out
    }

    /// The m/u weight of a level without term frequency, used to choose between
    /// alternative alignments of names.
    fn plain(&self, field: usize, level: u8) -> f64 {
        if level == MISSING {
            0.0
        } else {
            let l = level as usize;
            (self.m[field][l].max(1e-12) / self.u[field][l].max(1e-12)).log2()
        }
    }
}

/// Probability from log-odds in bits.
pub(crate) fn probability(bits: f64) -> f64 {
    1.0 / (1.0 + (-bits).exp2())
}

/// Compares two persons field by field. Symmetric: `compare(a, b)` and
/// `compare(b, a)` give the same levels.
pub(crate) fn compare(a: &PersonF, b: &PersonF, r: Resolver<'_>, model: &Model) -> Comparison {
    let mut c = Comparison {
        levels: [MISSING; NF],
        counts: [0; NF],
    };
    compare_names(a, b, r, model, &mut c);
    compare_dob(a.dob, b.dob, &mut c);
    if a.sex != 0 && b.sex != 0 {
        c.levels[3] = if a.sex == b.sex { 0 } else { 1 };
    }
    compare_addresses(&a.addresses, &b.addresses, r, &mut c);
    compare_ids(5, &a.phones, &b.phones, r, &mut c, one_digit_level);
    compare_ids(6, &a.emails, &b.emails, r, &mut c, email_level);
    compare_ids(7, &a.documents, &b.documents, r, &mut c, one_digit_level);
    compare_ids(
        8,
        &a.national_ids,
        &b.national_ids,
        r,
        &mut c,
        one_digit_level,
    );
    c
}

fn compare_names(a: &PersonF, b: &PersonF, r: Resolver<'_>, model: &Model, c: &mut Comparison) {
    let mut best: Option<(f64, [u8; 2], [u32; 2])> = None;
    for x in a.names.iter() {
        for y in b.names.iter() {
            let (alignments, n) = name_alignments(x, y, r);
            for &(levels, counts) in &alignments[..n] {
                let score = model.plain(GIVEN, levels[0]) + model.plain(SURNAME, levels[1]);
                // Ties go to the better given-name level, so that the choice does not
                // depend on which side is `a`.
                let better = match &best {
                    None => true,
                    Some((s, l, n)) => score > *s || (score == *s && (levels, counts) < (*l, *n)),
                };
                if better {
                    best = Some((score, levels, counts));
                }
            }
        }
    }
    if let Some((_, levels, counts)) = best {
        c.levels[GIVEN] = levels[0];
        c.levels[SURNAME] = levels[1];
        c.counts[GIVEN] = counts[0];
        c.counts[SURNAME] = counts[1];
    }
}

/// The ways two names can be aligned: as written, and (when the straight reading
/// disagrees on both) given name and surname swapped.
type Alignment = ([u8; 2], [u32; 2]);

fn name_alignments(x: &NameF, y: &NameF, r: Resolver<'_>) -> ([Alignment; 2], usize) {
    let (g, gc) = given_level(x.given, y.given, r);
    let (s, sc) = surname_level(x, y, r);
    let mut out = [([g, s], [gc, sc]); 2];
    let poor = |level: u8, field: usize| level == MISSING || level >= index_of(field, L::Far);
    if poor(g, GIVEN) && poor(s, SURNAME) && x.given != NONE && y.surname != NONE {
        let close = |p: Sym, q: Sym| {
            if p == NONE || q == NONE {
                return false;
            }
            let (a, b) = (r.entry(p).text(), r.entry(q).text());
            a == b || (a.len() >= 3 && within_one_edit(a, b))
        };
        if close(x.given, y.surname) && close(x.surname, y.given) {
            out[1] = (
                [index_of(GIVEN, L::Close), index_of(SURNAME, L::Swapped)],
                [0, 0],
            );
            return (out, 2);
        }
    }
    (out, 1)
}

fn given_level(a: Sym, b: Sym, r: Resolver<'_>) -> (u8, u32) {
    if a == NONE || b == NONE {
        return (MISSING, 0);
    }
    let (ea, eb) = (r.entry(a), r.entry(b));
    if a == b {
        return (0, ea.count);
    }
    let (ta, tb) = (ea.text(), eb.text());
    if Nicknames::get().related(ea.nick, eb.nick) {
        return (index_of(GIVEN, L::Nickname), 0);
    }
    let jw = jaro_winkler(ta, tb);
    let level = if close_strings(ta, tb, jw) {
        L::Close
    } else if ea.phonetic.sounds_like(eb.phonetic) {
        L::Phonetic
    } else if is_initial_of(ta, tb) || is_initial_of(tb, ta) {
        L::Initial
    } else if jw >= 0.80 {
        L::Far
    } else {
        L::Different
    };
    (index_of(GIVEN, level), 0)
}

fn surname_level(x: &NameF, y: &NameF, r: Resolver<'_>) -> (u8, u32) {
    let (a, b) = (x.surname, y.surname);
    if a == NONE || b == NONE {
        return (MISSING, 0);
    }
    let (ea, eb) = (r.entry(a), r.entry(b));
    if a == b {
        return (0, ea.count);
    }
    let (ta, tb) = (ea.text(), eb.text());
    let text = |s: Sym| if s == NONE { "" } else { r.entry(s).text() };
    let part_of =
        |parts: [Sym; 2], whole: &str| parts.iter().any(|&p| p != NONE && text(p) == whole);
    let jw = jaro_winkler(ta, tb);
    let level = if close_strings(ta, tb, jw) {
        L::Close
    } else if ea.phonetic.sounds_like(eb.phonetic) {
        L::Phonetic
    } else if part_of([x.part_first, x.part_last], tb)
        || part_of([y.part_first, y.part_last], ta)
        || (x.part_first != NONE
            && [x.part_first, x.part_last].iter().any(|&p| {
                [y.part_first, y.part_last]
                    .iter()
                    .any(|&q| q != NONE && text(p) == text(q))
            }))
    {
        L::Part
    } else if jw >= 0.80 {
        L::Far
    } else {
        L::Different
    };
    (index_of(SURNAME, level), 0)
}

fn close_strings(a: &str, b: &str, jw: f64) -> bool {
    jw >= 0.92 || (a.len().min(b.len()) >= 3 && within_one_edit(a, b))
}

fn is_initial_of(initial: &str, name: &str) -> bool {
    let mut chars = initial.chars();
    matches!((chars.next(), chars.next()), (Some(i), None) if name.starts_with(i))
}

fn compare_dob(a: u32, b: u32, c: &mut Comparison) {
    if a == 0 || b == 0 {
        return;
    }
    let level = if a == b {
        L::Exact
    } else {
        let (x, y) = (Date::from_packed(a), Date::from_packed(b));
        if x.year() == y.year() && x.day() == y.month() && x.month() == y.day() {
            L::Transposed
        } else if digits_one_apart(a, b) {
            L::OneDigit
        } else {
            L::Different
        }
    };
    c.levels[DOB] = index_of(DOB, level);
    // The count of an exact date is filled in by the caller, which holds the counts.
}

/// Whether two 8-digit dates differ in one digit or by one swap of neighbours.
fn digits_one_apart(a: u32, b: u32) -> bool {
    let digit = |n: u32, i: u32| n / 10u32.pow(i) % 10;
    let diffs: Vec<u32> = (0..8).filter(|&i| digit(a, i) != digit(b, i)).collect();
    match diffs.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && digit(a, *i) == digit(b, *j) && digit(a, *j) == digit(b, *i),
        _ => false,
    }
}

fn compare_addresses(a: &[AddrF], b: &[AddrF], r: Resolver<'_>, c: &mut Comparison) {
    let mut best: Option<(u8, u32)> = None;
    for x in a {
        for y in b {
            let Some(level) = address_level(x, y, r) else {
                continue;
            };
            if best.is_none_or(|b| level < b) {
                best = Some(level);
            }
        }
    }
    if let Some((level, count)) = best {
        c.levels[4] = level;
        c.counts[4] = count;
    }
}

/// The address level of two addresses (and the count of the premises for an exact
/// agreement), or `None` when they cannot be compared.
pub(crate) fn address_level(x: &AddrF, y: &AddrF, r: Resolver<'_>) -> Option<(u8, u32)> {
    let text = |s: Sym| if s == NONE { "" } else { r.entry(s).text() };
    if x.key != NONE && x.key == y.key {
        return Some((0, r.entry(x.key).count));
    }
    let comparable =
        (x.postcode != NONE && y.postcode != NONE) || (x.street != NONE && y.street != NONE);
    if !comparable {
        return None;
    }
    let same_number = x.number != NONE && x.number == y.number;
    // Only worth comparing streets for the same house number.
    let street_close = || {
        x.street != NONE
            && y.street != NONE
            && (x.street == y.street || similar_streets(text(x.street), text(y.street)))
    };
    let level = if x.postcode != NONE && x.postcode == y.postcode {
        if same_number && street_close() {
            let count = if x.key != NONE {
                r.entry(x.key).count
            } else {
                0
            };
            return Some((0, count.max(1)));
        }
        L::SamePostcode
    } else if same_number
        && street_close()
        && ((x.town != NONE && x.town == y.town)
            || (x.postcode != NONE
                && y.postcode != NONE
                && within_one_edit(text(x.postcode), text(y.postcode))))
    {
        L::SameStreet
    } else if x.postcode != NONE
        && y.postcode != NONE
        && postcode_district(text(x.postcode)).is_some()
        && postcode_district(text(x.postcode)) == postcode_district(text(y.postcode))
    {
        L::SameDistrict
    } else {
        L::Different
    };
    Some((index_of(4, level), 0))
}

/// Streets alike but for spaces and a slip or two (`jervoisstreet`, `jervois street`).
fn similar_streets(a: &str, b: &str) -> bool {
    let (a, b): (String, String) = (a.replace(' ', ""), b.replace(' ', ""));
    a == b || jaro_winkler(&a, &b) >= 0.9
}

fn one_digit_level(a: &str, b: &str) -> ComparisonLevel {
    if within_one_edit(a, b) {
        L::OneDigit
    } else {
        L::Different
    }
}

fn email_level(a: &str, b: &str) -> ComparisonLevel {
    let local = |e: &str| e.split('@').next().unwrap_or(e).to_owned();
    if local(a) == local(b) || within_one_edit(a, b) {
        L::Close
    } else {
        L::Different
    }
}

fn compare_ids(
    field: usize,
    a: &[Sym],
    b: &[Sym],
    r: Resolver<'_>,
    c: &mut Comparison,
    near: fn(&str, &str) -> ComparisonLevel,
) {
    if a.is_empty() || b.is_empty() {
        return;
    }
    let mut best = (index_of(field, L::Different), 0);
    for &x in a {
        for &y in b {
            if x == y {
                let count = r.entry(x).count;
                if best.0 != 0 || count < best.1 {
                    best = (0, count);
                }
            } else if best.0 != 0 {
                let level = index_of(field, near(r.entry(x).text(), r.entry(y).text()));
                if level < best.0 {
                    best = (level, 0);
                }
            }
        }
    }
    c.levels[field] = best.0;
    c.counts[field] = best.1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_digit_dates() {
        assert!(digits_one_apart(19800401, 19800402));
        assert!(digits_one_apart(19800401, 19080401), "neighbours swapped");
        assert!(!digits_one_apart(19800401, 19811401));
    }

    #[test]
    fn every_field_ends_with_different() {
        for levels in LEVELS {
            assert_eq!(levels[0], L::Exact);
            assert_eq!(levels.last(), Some(&L::Different));
            assert!(levels.len() <= MAX_LEVELS);
        }
    }

    #[test]
    fn default_probabilities_sum_to_one() {
        let model = Model::default();
        for (f, levels) in LEVELS.iter().enumerate() {
            let n = levels.len();
            let (m, u): (f64, f64) = (model.m[f][..n].iter().sum(), model.u[f][..n].iter().sum());
            assert!((m - 1.0).abs() < 1e-6, "m of field {f} sums to {m}");
            assert!((u - 1.0).abs() < 1e-6, "u of field {f} sums to {u}");
        }
    }
}
