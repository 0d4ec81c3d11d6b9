//! Canonical forms: what two spellings of the same value have in common.
//!
//! Every function here is total: any input, in any script, gives an answer (possibly
//! empty) and never panics. Latin letters lose their accents (`José` -> `jose`);
//! letters of other scripts are kept as they are, lower-cased, so that a Cyrillic or
//! Arabic name still matches itself exactly (transliteration is not attempted).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for comparison: compatibility decomposition, accents dropped, lower
/// case, apostrophes removed (`O'Brien` -> `obrien`), every other run of
/// non-alphanumeric characters turned into one space, trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ') {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            match c {
                'ß' => out.push_str("ss"),
                'æ' | 'Æ' => out.push_str("ae"),
                'œ' | 'Œ' => out.push_str("oe"),
                'ø' | 'Ø' => out.push('o'),
                'ł' | 'Ł' => out.push('l'),
                'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
                'þ' | 'Þ' => out.push_str("th"),
                'ı' => out.push('i'),
                _ => out.extend(c.to_lowercase()),
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// Titles and honorifics dropped from the front of a name.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "lady",
    "rev",
    "revd",
    "reverend",
    "fr",
    "father",
    "sr",
    "sister",
    "capt",
    "captain",
    "col",
    "maj",
    "sgt",
    "det",
    "dc",
    "ds",
    "pc",
    "insp",
    "hon",
    "master",
];

/// Suffixes dropped from the end of a name.
const SUFFIXES: &[&str] = &[
    "jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "esq", "phd", "md", "obe",
    "mbe", "cbe", "kc", "qc", "jp", "mp",
];

/// A person's name in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    /// The first given name (`""` when unknown).
    pub given: String,
    /// Further given names, in order.
    pub middle: Vec<String>,
    /// The surname with its parts joined (`smith-jones` -> `smithjones`,
    /// `MacDonald` -> `mcdonald`).
    pub surname: String,
    /// The parts of a double-barrelled or multi-word surname, each canonical; empty
    /// when the surname has one part.
    pub surname_parts: Vec<String>,
}

impl PersonName {
    /// Canonical form of a name given in parts.
    pub fn from_parts(given: &str, surname: &str) -> PersonName {
        let given_tokens = strip_titles(tokens(given));
        let surname_tokens = strip_suffixes(tokens(surname));
        let mut name = PersonName::default();
        set_given(&mut name, given_tokens);
        set_surname(&mut name, surname_tokens);
        name
    }

    /// Canonical form of a name written in one string: `"John Smith"`,
    /// `"Mr J. A. Smith Jr"`, or `"SMITH, John"` (surname first before a comma).
    pub fn from_full(full: &str) -> PersonName {
        let mut name = PersonName::default();
        if let Some((surname, given)) = full.split_once(',') {
            set_given(&mut name, strip_titles(tokens(given)));
            set_surname(&mut name, strip_suffixes(strip_titles(tokens(surname))));
            return name;
        }
        let mut words = strip_suffixes(strip_titles(tokens(full)));
        let surname = words.pop().map(|w| vec![w]).unwrap_or_default();
        set_given(&mut name, words);
        set_surname(&mut name, surname);
        name
    }

    /// Whether nothing usable is left.
    pub fn is_empty(&self) -> bool {
        self.given.is_empty() && self.surname.is_empty()
    }
}

fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn strip_titles(mut words: Vec<String>) -> Vec<String> {
    // A title is only dropped when something follows it: "Miss" alone may be a name.
    while words.len() > 1 && TITLES.contains(&words[0].as_str()) {
        words.remove(0);
    }
    words
}

fn strip_suffixes(mut words: Vec<String>) -> Vec<String> {
    while words.len() > 1 && words.last().is_some_and(|w| SUFFIXES.contains(&w.as_str())) {
        words.pop();
    }
    words
}

fn set_given(name: &mut PersonName, mut words: Vec<String>) {
    if words.is_empty() {
        return;
    }
    name.given = words.remove(0);
    name.middle = words;
}

fn set_surname(name: &mut PersonName, words: Vec<String>) {
    let mut parts: Vec<String> = Vec::with_capacity(words.len());
    let mut iter = words.into_iter().peekable();
    while let Some(word) = iter.next() {
        // Particles written apart from the word they belong to: "o brien", "mc donald".
        if matches!(word.as_str(), "o" | "mc" | "mac" | "st") && iter.peek().is_some() {
            if let Some(next) = iter.next() {
                parts.push(surname_word(&format!("{word}{next}")));
            }
        } else {
            parts.push(surname_word(&word));
        }
    }
    name.surname = parts.concat();
    if parts.len() > 1 {
        name.surname_parts = parts;
    }
}

/// `Mac` and `Mc` are written for one another (`MacDonald`, `McDonald`): both become
/// `mc`. Short words (`Mack`, `Mace`) are left alone.
fn surname_word(word: &str) -> String {
    match word.strip_prefix("mac") {
        Some(rest) if rest.chars().count() >= 3 => format!("mc{rest}"),
        _ => word.to_owned(),
    }
}

/// A UK postcode in canonical form (`SW1A 1AA`), or another country's postal code as
/// upper-case letters and digits. `None` when nothing is left.
pub fn postcode(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.is_empty() {
        return None;
    }
    if is_uk_postcode(&compact) {
        let (outward, inward) = compact.split_at(compact.len() - 3);
        return Some(format!("{outward} {inward}"));
    }
    Some(compact)
}

/// The outward code (district) of a canonical UK postcode: `SW1A` of `SW1A 1AA`.
pub fn postcode_district(canonical: &str) -> Option<&str> {
    canonical.split_once(' ').map(|(outward, _)| outward)
}

/// The sector of a canonical UK postcode: `SW1A 1` of `SW1A 1AA`.
pub fn postcode_sector(canonical: &str) -> Option<&str> {
    let (outward, _) = canonical.split_once(' ')?;
    canonical.get(..outward.len() + 2)
}

fn is_uk_postcode(compact: &str) -> bool {
    let b = compact.as_bytes();
    if !(5..=7).contains(&b.len()) {
        return false;
    }
    let (outward, inward) = b.split_at(b.len() - 3);
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    let a = |i: usize| outward.get(i).is_some_and(u8::is_ascii_alphabetic);
    let d = |i: usize| outward.get(i).is_some_and(u8::is_ascii_digit);
    let outward_ok = match outward.len() {
        2 => a(0) && d(1),
        3 => (a(0) && d(1) && (d(2) || a(2))) || (a(0) && a(1) && d(2)),
        4 => a(0) && a(1) && d(2) && (d(3) || a(3)),
        _ => false,
    };
    inward_ok && outward_ok
}

/// A phone number in canonical form: UK numbers in national form with the leading
/// zero (`+44 (0)7700 900123`, `0044 7700 900123` and `07700900123` all become
/// `07700900123`); other international numbers as `+` and digits. `None` when fewer
/// than six digits are left (an extension or a typo, not a number).
pub fn phone(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let international = trimmed.starts_with('+');
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let (international, digits) = match digits.strip_prefix("00") {
        Some(rest) if !international => (true, rest.to_owned()),
        _ => (international, digits),
    };
    let national = if international || (digits.starts_with("44") && digits.len() >= 12) {
        match digits.strip_prefix("44") {
            Some(rest) => {
                let rest = rest.strip_prefix('0').unwrap_or(rest);
                format!("0{rest}")
            }
            None => format!("+{digits}"),
        }
    } else {
        digits
    };
    (national.chars().filter(char::is_ascii_digit).count() >= 6).then_some(national)
}

/// A vehicle registration mark as upper-case letters and digits (`ab12 cde` ->
/// `AB12CDE`). `None` when empty.
pub fn vehicle_mark(text: &str) -> Option<String> {
    identifier(text)
}

/// An identifier (document number, national identifier, company number) as upper-case
/// letters and digits, spaces and punctuation dropped. `None` when empty.
pub fn identifier(text: &str) -> Option<String> {
    let id: String = fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// An email address, trimmed and in lower case. `None` unless it has an `@` with
/// something on both sides.
pub fn email(text: &str) -> Option<String> {
    let e = text.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then_some(e)
}

/// A calendar date packed as `yyyymmdd` (e.g. `19800401`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(u32);

impl Date {
    /// A date from its parts, if it exists on the calendar (years 1000 to 9999).
    pub fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        if !(1000..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (day <= days).then_some(Date(year * 10_000 + month * 100 + day))
    }

    /// Reads ISO (`1980-04-01`), `dd/mm/yyyy` (also with `-` or `.`, and one-digit day
    /// or month) or `yyyymmdd`. `None` when it is not a date.
    pub fn parse(text: &str) -> Option<Date> {
        let t = text.trim();
        let t = t.split(['T', ' ']).next().unwrap_or(t);
        if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
            let n: u32 = t.parse().ok()?;
            return Date::new(n / 10_000, n / 100 % 100, n % 100);
        }
        let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
        let [a, b, c] = parts.as_slice() else {
            return None;
        };
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (a_n, b_n, c_n) = (num(a)?, num(b)?, num(c)?);
        if a.len() == 4 {
            Date::new(a_n, b_n, c_n)
        } else if c.len() == 4 {
            Date::new(c_n, b_n, a_n)
        } else {
            None
        }
    }

    /// The year.
    pub fn year(self) -> u32 {
        self.0 / 10_000
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u32 {
        self.0 / 100 % 100
    }

    /// The day of the month.
    pub fn day(self) -> u32 {
        self.0 % 100
    }

    /// The packed `yyyymmdd` value.
    pub fn packed(self) -> u32 {
        self.0
    }

    /// A date from its packed `yyyymmdd` value, as made by [`Date::packed`].
    pub(crate) fn from_packed(packed: u32) -> Date {
        Date(packed)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: std::fmt::Debug + PartialEq>(f: impl Fn(&str) -> T, cases: &[(&str, T)]) {
        for (input, expected) in cases {
            assert_eq!(&f(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn folding_drops_accents_case_and_punctuation() {
        check(
            fold,
            &[
                ("José  Álvarez", "jose alvarez".to_owned()),
                ("O'Brien", "obrien".to_owned()),
                ("Smith-Jones", "smith jones".to_owned()),
                ("  ÉMILE   ZOLA ", "emile zola".to_owned()),
                ("Straße", "strasse".to_owned()),
                ("Łukasz Øster", "lukasz oster".to_owned()),
                ("", String::new()),
                ("!!!", String::new()),
            ],
        );
    }

    #[test]
    fn non_latin_names_are_kept_not_dropped() {
        check(
            fold,
            &[
                ("Владимир Путин", "владимир путин".to_owned()),
                ("محمد علي", "محمد علي".to_owned()),
                ("王小明", "王小明".to_owned()),
                ("Ἀθηνᾶ", "αθηνα".to_owned()),
            ],
        );
        let name = PersonName::from_full("Иван Петров");
        assert_eq!(
            (name.given.as_str(), name.surname.as_str()),
            ("иван", "петров")
        );
    }

    #[test]
    fn titles_and_suffixes_are_not_part_of_a_name() {
        let n = PersonName::from_full("Mr John A. Smith Jr");
        assert_eq!(n.given, "john");
        assert_eq!(n.middle, vec!["a".to_owned()]);
        assert_eq!(n.surname, "smith");
        let n = PersonName::from_parts("Dr. Jane", "Doe PhD");
        assert_eq!((n.given.as_str(), n.surname.as_str()), ("jane", "doe"));
        // A title alone is kept: it may be someone's name.
        assert_eq!(PersonName::from_parts("Miss", "").given, "miss");
    }

    #[test]
    fn surname_first_with_a_comma() {
        let n = PersonName::from_full("SMITH, John Paul");
        assert_eq!(n.given, "john");
        assert_eq!(n.middle, vec!["paul".to_owned()]);
        assert_eq!(n.surname, "smith");
    }

    #[test]
    fn double_barrelled_and_hyphenated_surnames_keep_their_parts() {
        let a = PersonName::from_parts("Anna", "Smith-Jones");
        let b = PersonName::from_parts("Anna", "Smith Jones");
        assert_eq!(a.surname, "smithjones");
        assert_eq!(a, b);
        assert_eq!(
            a.surname_parts,
            vec!["smith".to_owned(), "jones".to_owned()]
        );
    }

    #[test]
    fn mac_and_mc_are_the_same_prefix() {
        check(
            |s| PersonName::from_parts("", s).surname,
            &[
                ("MacDonald", "mcdonald".to_owned()),
                ("McDonald", "mcdonald".to_owned()),
                ("Mc Donald", "mcdonald".to_owned()),
                ("Mack", "mack".to_owned()),
                ("O'Neill", "oneill".to_owned()),
                ("O Neill", "oneill".to_owned()),
            ],
        );
    }

    #[test]
    fn uk_postcodes_with_and_without_a_space() {
        check(
            postcode,
            &[
                ("sw1a1aa", Some("SW1A 1AA".to_owned())),
                ("SW1A 1AA", Some("SW1A 1AA".to_owned())),
                (" m1  1ae ", Some("M1 1AE".to_owned())),
                ("B33 8TH", Some("B33 8TH".to_owned())),
                ("cr2 6xh", Some("CR2 6XH".to_owned())),
                ("2119", Some("2119".to_owned())),
                ("", None),
            ],
        );
        assert_eq!(postcode_district("SW1A 1AA"), Some("SW1A"));
        assert_eq!(postcode_sector("SW1A 1AA"), Some("SW1A 1"));
        assert_eq!(postcode_sector("2119"), None);
    }

    #[test]
    fn phone_numbers_in_plus_44_and_national_forms_agree() {
        let uk = Some("07700900123".to_owned());
        check(
            phone,
            &[
                ("07700 900123", uk.clone()),
                ("+44 7700 900123", uk.clone()),
                ("+44 (0)7700 900123", uk.clone()),
                ("0044 7700 900 123", uk.clone()),
                ("447700900123", uk.clone()),
                ("(020) 7946-0000", Some("02079460000".to_owned())),
                ("+33 1 23 45 67 89", Some("+33123456789".to_owned())),
                ("123", None),
                ("", None),
            ],
        );
    }

    #[test]
    fn vehicle_marks_with_spaces() {
        check(
            vehicle_mark,
            &[
                ("ab12 cde", Some("AB12CDE".to_owned())),
                (" AB12CDE ", Some("AB12CDE".to_owned())),
                ("A-123 BCD", Some("A123BCD".to_owned())),
                ("  ", None),
            ],
        );
    }

    #[test]
    fn emails_are_case_insensitive() {
        check(
            email,
            &[
                (
                    " J.Smith@Example.COM ",
                    Some("j.smith@example.com".to_owned()),
                ),
                ("not an email", None),
                ("@example.com", None),
            ],
        );
    }

    #[test]
    fn dates_in_iso_british_and_compact_forms() {
        let d = Date::new(1980, 4, 1);
        check(
            Date::parse,
            &[
                ("1980-04-01", d),
                ("01/04/1980", d),
                ("1/4/1980", d),
                ("01-04-1980", d),
                ("01.04.1980", d),
                ("19800401", d),
                ("1980-04-01T00:00:00Z", d),
                ("1980-02-30", None),
                ("31/02/1980", None),
                ("29/02/2000", Date::new(2000, 2, 29)),
                ("29/02/1900", None),
                ("yesterday", None),
                ("", None),
            ],
        );
        assert_eq!(
            Date::parse("1980-04-01").map(|d| d.to_string()),
            Some("1980-04-01".to_owned())
        );
    }
}
