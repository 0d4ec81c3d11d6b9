//! What is known about names: nickname equivalence and phonetic keys.

use rphonetic::{DoubleMetaphone, Encoder};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The nickname list (Apache-2.0, see `data/README.md`), embedded in the binary.
const NICKNAMES_CSV: &str = include_str!("../data/nicknames.csv");

/// Nickname groups: each formal name with its nicknames is one group; a name may be
/// in several groups (`Chris` is short for both `Christopher` and `Christine`).
pub(crate) struct Nicknames {
    /// Name -> index into `groups`.
    by_name: HashMap<String, u32>,
    /// Sorted group numbers, one list per distinct set of memberships.
    groups: Vec<Box<[u32]>>,
}

/// No nickname group: the value stored for names absent from the list.
pub(crate) const NO_NICKNAMES: u32 = u32::MAX;

impl Nicknames {
    /// The embedded list, parsed once.
    pub(crate) fn get() -> &'static Nicknames {
        static NICKNAMES: OnceLock<Nicknames> = OnceLock::new();
        NICKNAMES.get_or_init(|| Nicknames::parse(NICKNAMES_CSV))
    }

    fn parse(csv: &str) -> Nicknames {
        let mut group_of_formal: HashMap<&str, u32> = HashMap::new();
        let mut memberships: HashMap<String, Vec<u32>> = HashMap::new();
        for line in csv.lines().skip(1) {
            let mut fields = line.split(',');
            let (Some(formal), Some(_), Some(nick)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let next = group_of_formal.len() as u32;
            let group = *group_of_formal.entry(formal).or_insert(next);
            for name in [formal, nick] {
                let list = memberships.entry(crate::normalise::fold(name)).or_default();
                if !list.contains(&group) {
                    list.push(group);
                }
            }
        }
        let mut groups: Vec<Box<[u32]>> = Vec::new();
        let mut index_of_list: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut by_name = HashMap::with_capacity(memberships.len());
        for (name, mut list) in memberships {
            list.sort_unstable();
            let index = *index_of_list.entry(list.clone()).or_insert_with(|| {
                groups.push(list.into_boxed_slice());
                (groups.len() - 1) as u32
            });
            by_name.insert(name, index);
        }
        Nicknames { by_name, groups }
    }

    /// The group list of a folded given name, or [`NO_NICKNAMES`].
    pub(crate) fn lookup(&self, folded: &str) -> u32 {
        self.by_name.get(folded).copied().unwrap_or(NO_NICKNAMES)
    }

    /// Whether two group lists (from [`Nicknames::lookup`]) share a group.
    pub(crate) fn related(&self, a: u32, b: u32) -> bool {
        if a == NO_NICKNAMES || b == NO_NICKNAMES {
            return false;
        }
        if a == b {
            return true;
        }
        let (Some(x), Some(y)) = (self.groups.get(a as usize), self.groups.get(b as usize)) else {
            return false;
        };
        let (mut i, mut j) = (0, 0);
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// Approximate heap bytes held (for the engine's memory accounting).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.by_name.capacity() * (std::mem::size_of::<(String, u32)>() + 1)
            + self.by_name.keys().map(String::capacity).sum::<usize>()
            + self.groups.iter().map(|g| g.len() * 4 + 16).sum::<usize>()
    }
}

/// Whether two given names are the same name in formal and familiar forms
/// (`william` ~ `bill`, `margaret` ~ `peggy`). Both must be folded.
pub fn are_nicknames(a: &str, b: &str) -> bool {
    let n = Nicknames::get();
    n.related(n.lookup(a), n.lookup(b))
}

/// Double Metaphone codes of a folded word, packed: primary and alternate, each up
/// to four ASCII letters in a `u32` (0 when there is none, as for names in scripts
/// Double Metaphone does not read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Phonetic {
    /// The primary code.
    pub primary: u32,
    /// The alternate code (equal to the primary when there is only one).
    pub alternate: u32,
}

impl Phonetic {
    /// The codes of a folded word.
    pub fn of(word: &str) -> Phonetic {
        if word.is_empty() || !word.is_ascii() {
            return Phonetic::default();
        }
        let encoder = DoubleMetaphone::default();
        let result = encoder.double_metaphone(word);
        let primary = pack(&result.primary());
        let alternate = pack(&result.alternate());
        Phonetic {
            primary,
            alternate: if alternate == 0 { primary } else { alternate },
        }
    }

    /// The primary code as text, via the `Encoder` trait (for tests and display); empty
    /// for a word that is not ASCII, as in [`Phonetic::of`].
    pub fn primary_text(word: &str) -> String {
        // rphonetic's Double Metaphone slices by byte and panics inside a character of
        // more than one byte.
        if !word.is_ascii() {
            return String::new();
        }
        DoubleMetaphone::default().encode(word)
    }

    /// Whether either code of one equals either code of the other.
    pub fn sounds_like(self, other: Phonetic) -> bool {
        self.primary != 0
            && other.primary != 0
            && (self.primary == other.primary
                || self.primary == other.alternate
                || self.alternate == other.primary
                || self.alternate == other.alternate)
    }
}

fn pack(code: &str) -> u32 {
    code.bytes()
        .take(4)
        .fold(0u32, |acc, b| (acc << 8) | u32::from(b))
}

/// Jaro–Winkler similarity, 0 to 1.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// Whether two strings are within one edit (insertion, deletion, substitution or
/// transposition of neighbours) of each other. Cheaper than a full distance.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_ascii() && b.is_ascii() {
        return within_one_edit_slice(a, b);
    }
    strsim::damerau_levenshtein(
        std::str::from_utf8(a).unwrap_or_default(),
        std::str::from_utf8(b).unwrap_or_default(),
    ) <= 1
}

fn within_one_edit_slice<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    if la == lb {
        // One substitution, or one transposition of neighbours.
        ra[1..] == rb[1..]
            || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_are_equivalent_to_their_formal_names() {
        assert!(are_nicknames("william", "bill"));
        assert!(are_nicknames("bill", "william"));
        assert!(are_nicknames("margaret", "peggy"));
        assert!(are_nicknames("bill", "will"), "two nicknames of William");
        assert!(!are_nicknames("william", "margaret"));
        assert!(!are_nicknames("zzz", "william"));
    }

    #[test]
    fn phonetic_keys_hear_spelling_variants() {
        assert!(Phonetic::of("smith").sounds_like(Phonetic::of("smyth")));
        assert!(Phonetic::of("catherine").sounds_like(Phonetic::of("kathryn")));
        assert!(!Phonetic::of("smith").sounds_like(Phonetic::of("jones")));
        assert_eq!(Phonetic::primary_text("jumped"), "JMPT");
        // Found by fuzzing: rphonetic panicked on these.
        assert_eq!(Phonetic::primary_text("W À"), "");
        assert_eq!(Phonetic::primary_text("c𐄀"), "");
    }

    #[test]
    fn phonetic_keys_of_other_scripts_are_empty_not_a_panic() {
        for word in ["владимир", "محمد", "王小明", ""] {
            let p = Phonetic::of(word);
            assert_eq!(p, Phonetic::default());
            assert!(!p.sounds_like(p), "an empty code matches nothing");
        }
    }

    #[test]
    fn one_edit_covers_typos_and_transpositions() {
        assert!(within_one_edit("thompson", "thompfon"));
        assert!(within_one_edit("thompson", "thomspon"));
        assert!(within_one_edit("chloe", "chlo"));
        assert!(within_one_edit("ann", "anne"));
        assert!(!within_one_edit("smith", "smyht"));
        assert!(within_one_edit("иван", "иwан"));
        assert!(within_one_edit("", "a"));
        assert!(!within_one_edit("ab", "cd"));
    }
}
