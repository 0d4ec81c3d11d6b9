//! A record in the compact, normalised form the engine keeps and compares: each value
//! a symbol of the interned table (see `symbols.rs`), dates packed.

use crate::normalise::{self, Date, PersonName};
use crate::record::{AddressValue, Name, Record, Sex};
use crate::symbols::{Interner, NONE, Sym, Symbols, Tag};

/// One name of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameF {
    pub(crate) given: Sym,
    pub(crate) middle: Sym,
    pub(crate) surname: Sym,
    /// First and last part of a multi-part surname (`NONE` for a one-part surname).
    pub(crate) part_first: Sym,
    pub(crate) part_last: Sym,
}

/// One address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrF {
    pub(crate) number: Sym,
    pub(crate) street: Sym,
    pub(crate) town: Sym,
    pub(crate) postcode: Sym,
    /// Postcode (or town) with house number and street: the premises, for its frequency.
    pub(crate) key: Sym,
}

/// A person in compact form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PersonF {
    pub(crate) names: Box<[NameF]>,
    /// Packed `yyyymmdd`, 0 when unknown.
    pub(crate) dob: u32,
    /// 0 unknown, 1 female, 2 male, 3 other.
    pub(crate) sex: u8,
    pub(crate) addresses: Box<[AddrF]>,
    pub(crate) phones: Box<[Sym]>,
    pub(crate) emails: Box<[Sym]>,
    pub(crate) documents: Box<[Sym]>,
    pub(crate) national_ids: Box<[Sym]>,
}

/// A record in compact form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Features {
    Person(PersonF),
    /// A group: its names.
    Group(Box<[Sym]>),
    /// A business: names, company number, addresses, phones.
    Business {
        names: Box<[Sym]>,
        number: Sym,
        addresses: Box<[AddrF]>,
        phones: Box<[Sym]>,
    },
    Vehicle(Sym),
    Phone(Sym),
    Address(AddrF),
}

impl Features {
    /// Reads a record, normalising every value and interning it.
    pub(crate) fn read(record: &Record, interner: &mut impl Interner) -> Features {
        match record {
            Record::Person(p) => {
                let mut names = Vec::with_capacity(p.names.len());
                for name in &p.names {
                    let n = match name {
                        Name::Parts { given, surname } => PersonName::from_parts(given, surname),
                        Name::Full(full) => PersonName::from_full(full),
                    };
                    if n.is_empty() {
                        continue;
                    }
                    let f = name_features(&n, interner);
                    if names.contains(&f) {
                        // Interning counted the duplicate's values once more; it is not
                        // kept, so its count must not be either, or removing the record
                        // would leave them behind.
                        for sym in [f.given, f.middle, f.surname, f.part_first, f.part_last] {
                            interner.unsym(sym);
                        }
                    } else {
                        names.push(f);
                    }
                }
                Features::Person(PersonF {
                    names: names.into_boxed_slice(),
                    dob: p
                        .date_of_birth
                        .as_deref()
                        .and_then(Date::parse)
                        .map_or(0, Date::packed),
                    sex: match p.sex {
                        None => 0,
                        Some(Sex::Female) => 1,
                        Some(Sex::Male) => 2,
                        Some(Sex::Other) => 3,
                    },
                    addresses: addresses(&p.addresses, interner),
                    phones: values(&p.phones, normalise::phone, Tag::Phone, interner),
                    emails: values(&p.emails, normalise::email, Tag::Email, interner),
                    documents: values(&p.documents, normalise::identifier, Tag::Document, interner),
                    national_ids: values(
                        &p.national_ids,
                        normalise::identifier,
                        Tag::NationalId,
                        interner,
                    ),
                })
            }
            Record::Group(g) => Features::Group(org_names(&g.names, interner)),
            Record::Business(b) => Features::Business {
                names: org_names(&b.names, interner),
                number: b
                    .company_number
                    .as_deref()
                    .and_then(normalise::identifier)
                    .map_or(NONE, |n| interner.sym(Tag::CompanyNumber, &n)),
                addresses: addresses(&b.addresses, interner),
                phones: values(&b.phones, normalise::phone, Tag::Phone, interner),
            },
            Record::Vehicle(v) => Features::Vehicle(
                normalise::vehicle_mark(&v.registration)
                    .map_or(NONE, |m| interner.sym(Tag::Vehicle, &m)),
            ),
            Record::Phone(p) => Features::Phone(
                normalise::phone(&p.number).map_or(NONE, |n| interner.sym(Tag::Phone, &n)),
            ),
            Record::Address(a) => {
                Features::Address(address(&a.address, interner).unwrap_or(AddrF {
                    number: NONE,
                    street: NONE,
                    town: NONE,
                    postcode: NONE,
                    key: NONE,
                }))
            }
        }
    }

    /// Every symbol held, so that removing a record can release them.
    pub(crate) fn symbols(&self) -> Vec<Sym> {
        let mut out = Vec::new();
        let addr = |out: &mut Vec<Sym>, a: &AddrF| {
            out.extend([a.number, a.street, a.town, a.postcode, a.key]);
        };
        match self {
            Features::Person(p) => {
                for n in p.names.iter() {
                    out.extend([n.given, n.middle, n.surname, n.part_first, n.part_last]);
                }
                for a in p.addresses.iter() {
                    addr(&mut out, a);
                }
                out.extend(p.phones.iter());
                out.extend(p.emails.iter());
                out.extend(p.documents.iter());
                out.extend(p.national_ids.iter());
            }
            Features::Group(names) => out.extend(names.iter()),
            Features::Business {
                names,
                number,
                addresses,
                phones,
            } => {
                out.extend(names.iter());
                out.push(*number);
                for a in addresses.iter() {
                    addr(&mut out, a);
                }
                out.extend(phones.iter());
            }
            Features::Vehicle(s) | Features::Phone(s) => out.push(*s),
            Features::Address(a) => addr(&mut out, a),
        }
        out.retain(|&s| s != NONE);
        out
    }

    /// Releases every symbol held.
    pub(crate) fn release(&self, symbols: &mut Symbols) {
        for sym in self.symbols() {
            symbols.release(sym);
        }
    }

    /// Heap bytes held by this record's boxed slices (capacity = length for boxes).
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        match self {
            Features::Person(p) => {
                p.names.len() * size_of::<NameF>()
                    + p.addresses.len() * size_of::<AddrF>()
                    + (p.phones.len() + p.emails.len() + p.documents.len() + p.national_ids.len())
                        * size_of::<Sym>()
            }
            Features::Group(n) => n.len() * size_of::<Sym>(),
            Features::Business {
                names,
                addresses,
                phones,
                ..
            } => {
                (names.len() + phones.len()) * size_of::<Sym>()
                    + addresses.len() * size_of::<AddrF>()
            }
            Features::Vehicle(_) | Features::Phone(_) | Features::Address(_) => 0,
        }
    }
}

fn name_features(n: &PersonName, interner: &mut impl Interner) -> NameF {
    let mut sym = |tag, text: &str| {
        if text.is_empty() {
            NONE
        } else {
            interner.sym(tag, text)
        }
    };
    let given = sym(Tag::Given, &n.given);
    let middle = sym(Tag::Given, n.middle.first().map_or("", String::as_str));
    let surname = sym(Tag::Surname, &n.surname);
    let (part_first, part_last) = match (n.surname_parts.first(), n.surname_parts.last()) {
        (Some(first), Some(last)) if n.surname_parts.len() > 1 => {
            (sym(Tag::SurnamePart, first), sym(Tag::SurnamePart, last))
        }
        _ => (NONE, NONE),
    };
    NameF {
        given,
        middle,
        surname,
        part_first,
        part_last,
    }
}

fn values(
    raw: &[String],
    normalise: fn(&str) -> Option<String>,
    tag: Tag,
    interner: &mut impl Interner,
) -> Box<[Sym]> {
    let mut texts: Vec<String> = raw.iter().filter_map(|v| normalise(v)).collect();
    texts.sort_unstable();
    texts.dedup();
    texts.iter().map(|t| interner.sym(tag, t)).collect()
}

fn org_names(raw: &[String], interner: &mut impl Interner) -> Box<[Sym]> {
    let mut texts: Vec<String> = raw
        .iter()
        .map(|n| org_name(n))
        .filter(|n| !n.is_empty())
        .collect();
    texts.sort_unstable();
    texts.dedup();
    texts
        .iter()
        .map(|t| interner.sym(Tag::OrgName, t))
        .collect()
}

/// A group or business name: folded, without legal-form words and a leading "the".
pub(crate) fn org_name(raw: &str) -> String {
    const DROP: &[&str] = &[
        "the", "ltd", "limited", "plc", "llp", "inc", "co", "company", "and",
    ];
    normalise::fold(raw)
        .split(' ')
        .filter(|w| !w.is_empty() && !DROP.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn addresses(raw: &[AddressValue], interner: &mut impl Interner) -> Box<[AddrF]> {
    let mut out: Vec<AddrF> = Vec::with_capacity(raw.len());
    for a in raw {
        let Some(f) = address(a, interner) else {
            continue;
        };
        if out.contains(&f) {
            // As for a duplicate name: take back what interning it counted.
            for sym in [f.number, f.street, f.town, f.postcode, f.key] {
                interner.unsym(sym);
            }
        } else {
            out.push(f);
        }
    }
    out.into_boxed_slice()
}

/// Street words written in short and long forms; the long form is kept.
const STREET_WORDS: &[(&str, &str)] = &[
    ("rd", "road"),
    ("st", "street"),
    ("str", "street"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("cl", "close"),
    ("cres", "crescent"),
    ("cresc", "crescent"),
    ("cr", "crescent"),
    ("dr", "drive"),
    ("ln", "lane"),
    ("pl", "place"),
    ("sq", "square"),
    ("ct", "court"),
    ("gdns", "gardens"),
    ("gr", "grove"),
    ("gro", "grove"),
    ("tce", "terrace"),
    ("ter", "terrace"),
    ("terr", "terrace"),
    ("hts", "heights"),
    ("pk", "park"),
    ("wy", "way"),
    ("mws", "mews"),
    ("grn", "green"),
    ("cir", "circuit"),
    ("cct", "circuit"),
    ("hwy", "highway"),
    ("pde", "parade"),
];

fn address(a: &AddressValue, interner: &mut impl Interner) -> Option<AddrF> {
    let mut number = normalise::fold(&a.number);
    // The street is the first line; further lines (a locality, a building's name) are
    // too often left out or moved about to compare.
    let mut words: Vec<String> = Vec::new();
    if let Some(line) = a.lines.iter().find(|l| !l.trim().is_empty()) {
        for w in normalise::fold(line).split(' ').filter(|w| !w.is_empty()) {
            let long = STREET_WORDS
                .iter()
                .find(|(short, _)| *short == w)
                .map_or(w, |(_, long)| long);
            words.push(long.to_owned());
        }
    }
    // "12 High Street" in one line: the leading number is the house number.
    if number.is_empty()
        && let Some(first) = words.first()
        && first.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        number = words.remove(0);
    }
    let street = words.join(" ");
    let town = normalise::fold(&a.town);
    let postcode = normalise::postcode(&a.postcode).unwrap_or_default();
    if street.is_empty() && postcode.is_empty() && town.is_empty() {
        return None;
    }
    let mut sym = |tag, text: &str| {
        if text.is_empty() {
            NONE
        } else {
            interner.sym(tag, text)
        }
    };
    let place = if postcode.is_empty() {
        &town
    } else {
        &postcode
    };
    let key = if number.is_empty() || place.is_empty() || street.is_empty() {
        NONE
    } else {
        sym(Tag::AddressKey, &format!("{place}|{number}|{street}"))
    };
    Some(AddrF {
        number: sym(Tag::HouseNumber, &number),
        street: sym(Tag::Street, &street),
        town: sym(Tag::Town, &town),
        postcode: sym(Tag::Postcode, &postcode),
        key,
    })
}
