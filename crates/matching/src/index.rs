//! Candidate generation: blocking keys and the in-memory inverted index over them.
//!
//! Each record yields a handful of keys (a pair that is the same person is very
//! likely to share at least one); the index maps each key to the records holding it.
//! Inserting and removing a record touch only its own keys, so the index is kept
//! current online and never rebuilt. A key held by more records than
//! `max_postings` (a hostel's postcode, a placeholder date of birth) is still kept
//! exactly, but not used to find candidates: it would find everyone and tell nothing.

use crate::features::{AddrF, Features, NameF, PersonF};
use crate::model::FieldKind;
use crate::normalise::Date;
use crate::symbols::{NONE, Resolver, Sym};
use hashbrown::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// What a key is made of; part of the key so that kinds never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum KeyKind {
    /// Phonetic codes of given name and surname, in sorted order (so a swapped name
    /// gives the same key).
    Names = 1,
    /// Date of birth (day and month unordered, so a transposition gives the same key)
    /// and the initial of the given name or of the surname (one key each, of one kind,
    /// so that a swapped name still meets).
    DobInitial,
    /// Phonetic code of the surname (or of the given name, for a swapped name), and
    /// year of birth.
    NameYear,
    /// Phonetic code of the given name, year and month of birth.
    GivenYearMonth,
    /// Postcode and given name's initial.
    PostcodeGiven,
    /// Premises: postcode (or town), house number and the street's phonetic code,
    /// so that a slip in the street name still meets.
    Premises,
    Phone,
    Email,
    Document,
    NationalId,
    Vehicle,
    CompanyNumber,
    OrgName,
    OrgNamePhonetic,
}

impl KeyKind {
    /// The field a key is mostly about, for reports of keys too common to use.
    pub(crate) fn field(self) -> FieldKind {
        match self {
            KeyKind::Names | KeyKind::NameYear => FieldKind::Surname,
            KeyKind::GivenYearMonth => FieldKind::GivenName,
            KeyKind::DobInitial => FieldKind::DateOfBirth,
            KeyKind::PostcodeGiven | KeyKind::Premises => FieldKind::Address,
            KeyKind::Phone => FieldKind::Phone,
            KeyKind::Email => FieldKind::Email,
            KeyKind::Document => FieldKind::Document,
            KeyKind::NationalId => FieldKind::NationalId,
            KeyKind::Vehicle => FieldKind::Vehicle,
            KeyKind::CompanyNumber => FieldKind::CompanyNumber,
            KeyKind::OrgName | KeyKind::OrgNamePhonetic => FieldKind::Name,
        }
    }
}

/// A blocking key: a 64-bit mix of its kind and parts.
pub(crate) type Key = u64;

fn key(kind: KeyKind, a: u32, b: u32) -> (Key, KeyKind) {
    // Two rounds of the SplitMix64 finaliser: keys are spread evenly, so the index's
    // hash map can use them as they are.
    let z = mix((u64::from(kind as u8) << 32) | u64::from(a));
    (mix(z ^ u64::from(b)), kind)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The keys of a record, sorted and without repeats.
pub(crate) fn keys(features: &Features, r: Resolver<'_>) -> Vec<Key> {
    let mut out: Vec<Key> = tagged_keys(features, r).into_iter().map(|k| k.0).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The keys of a record with what each is made of.
pub(crate) fn tagged_keys(features: &Features, r: Resolver<'_>) -> Vec<(Key, KeyKind)> {
    let mut out = Vec::with_capacity(12);
    match features {
        Features::Person(p) => person_keys(p, r, &mut out),
        Features::Group(names) => org_keys(names, r, &mut out),
        Features::Business {
            names,
            number,
            addresses,
            phones,
        } => {
            org_keys(names, r, &mut out);
            if *number != NONE {
                out.push(key(KeyKind::CompanyNumber, *number, 0));
            }
            for a in addresses.iter().filter(|a| a.key != NONE) {
                out.push(premises(a, r));
            }
            out.extend(phones.iter().map(|&p| key(KeyKind::Phone, p, 0)));
        }
        Features::Vehicle(s) if *s != NONE => out.push(key(KeyKind::Vehicle, *s, 0)),
        Features::Phone(s) if *s != NONE => out.push(key(KeyKind::Phone, *s, 0)),
        Features::Address(a) if a.key != NONE => out.push(premises(a, r)),
        Features::Vehicle(_) | Features::Phone(_) | Features::Address(_) => {}
    }
    out
}

/// A name's code for keys: its primary phonetic code, or for names Double Metaphone
/// cannot read (other scripts), the value itself.
fn code(sym: Sym, r: Resolver<'_>) -> u32 {
    let p = r.entry(sym).phonetic.primary;
    if p != 0 { p } else { sym }
}

fn premises(a: &AddrF, r: Resolver<'_>) -> (Key, KeyKind) {
    let place = if a.postcode != NONE {
        a.postcode
    } else {
        a.town
    };
    let street = code(a.street, r);
    key(
        KeyKind::Premises,
        place,
        mix((u64::from(a.number) << 32) | u64::from(street)) as u32,
    )
}

fn initial(sym: Sym, r: Resolver<'_>) -> u32 {
    r.entry(sym).text().chars().next().map_or(0, u32::from)
}

fn person_keys(p: &PersonF, r: Resolver<'_>, out: &mut Vec<(Key, KeyKind)>) {
    let dob = (p.dob != 0).then(|| {
        let d = Date::from_packed(p.dob);
        let (lo, hi) = (d.day().min(d.month()), d.day().max(d.month()));
        (
            d.year() * 10_000 + lo * 100 + hi,
            d.year() * 100 + d.month(),
        )
    });
    for n in p.names.iter() {
        name_keys(n, n.surname, dob, r, out);
        for part in [n.part_first, n.part_last] {
            if part != NONE {
                name_keys(n, part, dob, r, out);
            }
        }
        for a in p.addresses.iter() {
            if a.postcode != NONE && n.given != NONE {
                out.push(key(KeyKind::PostcodeGiven, a.postcode, initial(n.given, r)));
            }
        }
    }
    // The premises: finds a registered address, and people whose names are all
    // garbled but who still live at the same place.
    for a in p.addresses.iter().filter(|a| a.key != NONE) {
        out.push(premises(a, r));
    }
    out.extend(p.phones.iter().map(|&s| key(KeyKind::Phone, s, 0)));
    out.extend(p.emails.iter().map(|&s| key(KeyKind::Email, s, 0)));
    out.extend(p.documents.iter().map(|&s| key(KeyKind::Document, s, 0)));
    out.extend(
        p.national_ids
            .iter()
            .map(|&s| key(KeyKind::NationalId, s, 0)),
    );
}

fn name_keys(
    n: &NameF,
    surname: Sym,
    dob: Option<(u32, u32)>, // (date with day and month unordered, yyyymm)
    r: Resolver<'_>,
    out: &mut Vec<(Key, KeyKind)>,
) {
    if n.given != NONE && surname != NONE {
        let (g, s) = (code(n.given, r), code(surname, r));
        out.push(key(KeyKind::Names, g.min(s), g.max(s)));
    }
    if let Some((date, year)) = dob {
        if n.given != NONE {
            out.push(key(KeyKind::DobInitial, date, initial(n.given, r)));
            // Given names are few and common: the month narrows the block.
            out.push(key(KeyKind::GivenYearMonth, code(n.given, r), year));
        }
        if surname != NONE {
            out.push(key(KeyKind::DobInitial, date, initial(surname, r)));
            out.push(key(KeyKind::NameYear, code(surname, r), year / 100));
        }
    }
}

fn org_keys(names: &[Sym], r: Resolver<'_>, out: &mut Vec<(Key, KeyKind)>) {
    for &n in names {
        out.push(key(KeyKind::OrgName, n, 0));
        let ph = r.entry(n).phonetic.primary;
        if ph != 0 {
            out.push(key(KeyKind::OrgNamePhonetic, ph, 0));
        }
    }
}

/// The records holding one key: up to three inline, more on the heap.
#[derive(Debug, Clone)]
pub(crate) enum Postings {
    /// Up to three slots; unused places hold `u32::MAX`.
    Inline([u32; 3]),
    /// Four or more slots. Boxed so that the enum (and each index entry) stays at
    /// 16 bytes: most keys are held by one to three records.
    #[allow(clippy::box_collection)]
    Heap(Box<Vec<u32>>),
}

const EMPTY: u32 = u32::MAX;

impl Postings {
    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Postings::Inline(slots) => {
                let n = slots.iter().take_while(|&&s| s != EMPTY).count();
                &slots[..n]
            }
            Postings::Heap(v) => v,
        }
    }

    fn push(&mut self, slot: u32) {
        match self {
            Postings::Inline(slots) => {
                if let Some(free) = slots.iter_mut().find(|s| **s == EMPTY) {
                    *free = slot;
                } else {
                    let mut v = Vec::with_capacity(6);
                    v.extend_from_slice(slots);
                    v.push(slot);
                    *self = Postings::Heap(Box::new(v));
                }
            }
            Postings::Heap(v) => v.push(slot),
        }
    }

    /// Removes a slot; true when none is left.
    fn remove(&mut self, slot: u32) -> bool {
        match self {
            Postings::Inline(slots) => {
                let n = slots.iter().take_while(|&&s| s != EMPTY).count();
                if let Some(i) = slots[..n].iter().position(|&s| s == slot) {
                    slots[i] = slots[n - 1];
                    slots[n - 1] = EMPTY;
                }
                slots[0] == EMPTY
            }
            Postings::Heap(v) => {
                if let Some(i) = v.iter().position(|&s| s == slot) {
                    v.swap_remove(i);
                }
                if v.len() <= 3 {
                    let mut slots = [EMPTY; 3];
                    slots[..v.len()].copy_from_slice(v);
                    *self = Postings::Inline(slots);
                    return slots[0] == EMPTY;
                }
                false
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Postings::Inline(_) => 0,
            Postings::Heap(v) => std::mem::size_of::<Vec<u32>>() + v.capacity() * 4,
        }
    }
}

/// Hashes a key that is already well mixed by passing it through.
#[derive(Default, Clone, Copy)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b) ^ (self.0 >> 56);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Key -> the slots of the records holding it.
#[derive(Default, Clone)]
pub(crate) struct Index {
    map: HashMap<Key, Postings, BuildHasherDefault<PassThrough>>,
    postings: usize,
}

impl Index {
    pub(crate) fn insert(&mut self, keys: &[Key], slot: u32) {
        for &k in keys {
            self.map
                .entry(k)
                .or_insert(Postings::Inline([EMPTY; 3]))
                .push(slot);
        }
        self.postings += keys.len();
    }

    pub(crate) fn remove(&mut self, keys: &[Key], slot: u32) {
        for k in keys {
            if let Some(p) = self.map.get_mut(k)
                && p.remove(slot)
            {
                self.map.remove(k);
            }
        }
        self.postings -= keys.len();
    }

    pub(crate) fn get(&self, key: Key) -> &[u32] {
        self.map.get(&key).map_or(&[], Postings::as_slice)
    }

    pub(crate) fn keys(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn postings(&self) -> usize {
        self.postings
    }

    /// Heap bytes: the map's buckets (key, inline postings, control byte) and every
    /// postings list that spilled to the heap, by capacity.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<(Key, Postings)>() + 1)
            + self.map.values().map(Postings::heap_bytes).sum::<usize>()
    }
}
