//! Interned values: each distinct normalised value is stored once, with how many
//! registered records hold it (its term frequency) and what comparisons need of it
//! (phonetic codes, nickname groups), computed once.
//!
//! Values are kept per field: the tag byte in front of the text says which field, so
//! `Smith` as a surname and `Smith` as a given name are counted apart.

use crate::names::{NO_NICKNAMES, Nicknames, Phonetic};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// An interned value. Values with the top bit set belong to a query's overlay (see
/// [`Overlay`]) and are not registered.
pub(crate) type Sym = u32;

/// "No value".
pub(crate) const NONE: Sym = u32::MAX;

const OVERLAY_BIT: u32 = 1 << 31;

/// Which field a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    Given = 1,
    Surname,
    SurnamePart,
    Street,
    Town,
    HouseNumber,
    Postcode,
    AddressKey,
    Phone,
    Email,
    Document,
    NationalId,
    Vehicle,
    CompanyNumber,
    OrgName,
}

impl Tag {
    /// Whether values of this field get name information (phonetic codes, nicknames).
    fn is_name(self) -> bool {
        matches!(
            self,
            Tag::Given | Tag::Surname | Tag::SurnamePart | Tag::Street | Tag::OrgName
        )
    }
}

/// One interned value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The tag byte followed by the normalised text; empty for a free slot.
    tagged: Box<str>,
    /// How many registered values are this one (0 in an overlay).
    pub(crate) count: u32,
    /// Nickname group list (given names only).
    pub(crate) nick: u32,
    /// Phonetic codes (names only).
    pub(crate) phonetic: Phonetic,
}

impl Entry {
    fn new(tag: Tag, text: &str) -> Entry {
        let mut tagged = String::with_capacity(text.len() + 1);
        tagged.push(char::from(tag as u8));
        tagged.push_str(text);
        let (nick, phonetic) = if tag.is_name() {
            let first = text.split(' ').next().unwrap_or(text);
            let nick = if tag == Tag::Given {
                Nicknames::get().lookup(text)
            } else {
                NO_NICKNAMES
            };
            (nick, Phonetic::of(first))
        } else {
            (NO_NICKNAMES, Phonetic::default())
        };
        Entry {
            tagged: tagged.into_boxed_str(),
            count: 0,
            nick,
            phonetic,
        }
    }

    /// The normalised text, without its tag.
    pub(crate) fn text(&self) -> &str {
        self.tagged.get(1..).unwrap_or_default()
    }
}

/// The table of registered values.
#[derive(Default, Clone)]
pub(crate) struct Symbols {
    table: HashTable<Sym>,
    entries: Vec<Entry>,
    free: Vec<Sym>,
    hasher: DefaultHashBuilder,
}

impl Symbols {
    fn hash(&self, tag: Tag, text: &str) -> u64 {
        self.hasher.hash_one((tag as u8, text))
    }

    /// Registers one more holder of a value and returns its symbol.
    pub(crate) fn intern(&mut self, tag: Tag, text: &str) -> Sym {
        let hash = self.hash(tag, text);
        let entries = &self.entries;
        let found = self.table.find(hash, |&s| {
            let t = &entries[s as usize].tagged;
            t.as_bytes().first() == Some(&(tag as u8)) && &t[1..] == text
        });
        let sym = match found {
            Some(&sym) => sym,
            None => {
                let entry = Entry::new(tag, text);
                let sym = match self.free.pop() {
                    Some(sym) => {
                        self.entries[sym as usize] = entry;
                        sym
                    }
                    None => {
                        self.entries.push(entry);
                        (self.entries.len() - 1) as Sym
                    }
                };
                let (entries, hasher) = (&self.entries, &self.hasher);
                self.table.insert_unique(hash, sym, |&s| {
                    let e = &entries[s as usize];
                    hasher.hash_one((e.tagged.as_bytes()[0], e.text()))
                });
                sym
            }
        };
        self.entries[sym as usize].count += 1;
        sym
    }

    /// Drops one holder of a value; the value is forgotten when none is left.
    pub(crate) fn release(&mut self, sym: Sym) {
        if sym == NONE || sym & OVERLAY_BIT != 0 {
            return;
        }
        let Some(entry) = self.entries.get_mut(sym as usize) else {
            return;
        };
        entry.count = entry.count.saturating_sub(1);
        if entry.count > 0 {
            return;
        }
        let tag = entry.tagged.as_bytes().first().copied().unwrap_or(0);
        let hash = self.hasher.hash_one((tag, entry.text()));
        if let Ok(occupied) = self.table.find_entry(hash, |&s| s == sym) {
            occupied.remove();
        }
        self.entries[sym as usize] = Entry {
            tagged: Box::from(""),
            count: 0,
            nick: NO_NICKNAMES,
            phonetic: Phonetic::default(),
        };
        self.free.push(sym);
    }

    /// The symbol of a registered value, if any record holds it.
    pub(crate) fn lookup(&self, tag: Tag, text: &str) -> Option<Sym> {
        let hash = self.hash(tag, text);
        self.table
            .find(hash, |&s| {
                let t = &self.entries[s as usize].tagged;
                t.as_bytes().first() == Some(&(tag as u8)) && &t[1..] == text
            })
            .copied()
    }

    /// How many records hold each registered value of a field.
    pub(crate) fn counts(&self, tag: Tag) -> impl Iterator<Item = u32> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.count > 0 && e.tagged.as_bytes().first() == Some(&(tag as u8)))
            .map(|e| e.count)
    }

    /// Number of distinct registered values.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Heap bytes held, from capacities: the entry vector, the hash table (one slot
    /// and one control byte per bucket) and each value's text.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.entries.iter().map(|e| e.tagged.len()).sum::<usize>()
            + self.table.capacity() * (std::mem::size_of::<Sym>() + 1)
            + self.free.capacity() * std::mem::size_of::<Sym>()
    }
}

/// The values of one query that are not registered: kept beside the table for the
/// length of one check, so that a query is compared with the same code as a
/// registered record without changing the engine.
#[derive(Default)]
pub(crate) struct Overlay {
    entries: Vec<Entry>,
}

/// Reads symbols from the registered table and, for a query, its overlay.
#[derive(Clone, Copy)]
pub(crate) struct Resolver<'a> {
    pub(crate) symbols: &'a Symbols,
    pub(crate) overlay: &'a [Entry],
}

impl Resolver<'_> {
    pub(crate) fn entry(&self, sym: Sym) -> &Entry {
        if sym & OVERLAY_BIT != 0 {
            &self.overlay[(sym & !OVERLAY_BIT) as usize]
        } else {
            &self.symbols.entries[sym as usize]
        }
    }
}

/// Where a record's values go when it is read: into the registered table (insert) or
/// looked up there with unknown values in an overlay (query).
pub(crate) trait Interner {
    fn sym(&mut self, tag: Tag, text: &str) -> Sym;

    /// Takes back one `sym` for a value that is not kept after all (a duplicate).
    fn unsym(&mut self, sym: Sym);
}

impl Interner for Symbols {
    fn sym(&mut self, tag: Tag, text: &str) -> Sym {
        self.intern(tag, text)
    }

    fn unsym(&mut self, sym: Sym) {
        self.release(sym);
    }
}

/// A query's view: registered values by their symbol, others in the overlay.
pub(crate) struct QueryInterner<'a> {
    pub(crate) symbols: &'a Symbols,
    pub(crate) overlay: Overlay,
}

impl Interner for QueryInterner<'_> {
    fn sym(&mut self, tag: Tag, text: &str) -> Sym {
        if let Some(sym) = self.symbols.lookup(tag, text) {
            return sym;
        }
        let sym = self.overlay.entries.len() as u32 | OVERLAY_BIT;
        self.overlay.entries.push(Entry::new(tag, text));
        sym
    }

    /// A query counts nothing, so there is nothing to take back.
    fn unsym(&mut self, _sym: Sym) {}
}

impl QueryInterner<'_> {
    pub(crate) fn resolver(&self) -> Resolver<'_> {
        Resolver {
            symbols: self.symbols,
            overlay: &self.overlay.entries,
        }
    }
}
