//! What a user registers: records as typed, before any normalisation.
//!
//! These types hold raw values exactly as entered, so that what is stored and shown
//! back is what the officer wrote. Normalisation happens when a record is indexed or
//! compared (see `normalise.rs`), never in place.

use serde::{Deserialize, Serialize};

/// The identifier of a registered record, chosen by the caller (the store's key).
pub type RecordId = u64;

/// One registration: a person, group, business, vehicle, phone or address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Record {
    /// A person, with every name and identifier known for them.
    Person(Person),
    /// An organised crime group or other named group.
    Group(Group),
    /// A business.
    Business(Business),
    /// A vehicle, by its registration mark.
    Vehicle(Vehicle),
    /// A phone number.
    Phone(Phone),
    /// A place.
    Address(Address),
}

/// A person. Every field may be empty: matching uses what there is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Person {
    /// Names and aliases; the first is the main one.
    pub names: Vec<Name>,
    /// Date of birth as typed: ISO (`1980-04-01`), `dd/mm/yyyy` or `yyyymmdd`.
    pub date_of_birth: Option<String>,
    /// Sex as recorded.
    pub sex: Option<Sex>,
    /// Addresses, current or past.
    pub addresses: Vec<AddressValue>,
    /// Phone numbers in any common UK or international form.
    pub phones: Vec<String>,
    /// Email addresses.
    pub emails: Vec<String>,
    /// Identity document numbers (passport, driving licence, ...).
    pub documents: Vec<String>,
    /// National identifiers (National Insurance number, PNC id, ...).
    pub national_ids: Vec<String>,
}

/// A name: given names and surname apart, or a full name in one string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Name {
    /// Given name(s) and surname in separate fields; either may be empty.
    Parts {
        /// Given name(s): first and middle names.
        given: String,
        /// Family name.
        surname: String,
    },
    /// The whole name in one string, e.g. `"Mr John A. Smith Jr"`; the last word is
    /// taken as the surname.
    Full(String),
}

impl Name {
    /// A name from its parts.
    pub fn new(given: impl Into<String>, surname: impl Into<String>) -> Self {
        Name::Parts {
            given: given.into(),
            surname: surname.into(),
        }
    }
}

/// Sex as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Recorded, but neither of the above.
    Other,
}

impl Sex {
    /// Reads the usual spellings (`F`, `female`, `M`, `male`, `X`, `other`); `None`
    /// for an empty or unknown value.
    pub fn parse(text: &str) -> Option<Sex> {
        match text.trim().to_ascii_lowercase().as_str() {
            "f" | "female" | "woman" | "w" => Some(Sex::Female),
            "m" | "male" | "man" => Some(Sex::Male),
            "x" | "o" | "other" | "non-binary" | "nonbinary" => Some(Sex::Other),
            _ => None,
        }
    }
}

/// An address as typed: a single line, or its parts. Matching joins the parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddressValue {
    /// The house number or name.
    pub number: String,
    /// Street lines (street, locality), in order; or the whole address in one line.
    pub lines: Vec<String>,
    /// Post town.
    pub town: String,
    /// County, state or region.
    pub county: String,
    /// Postcode (UK, or any other country's).
    pub postcode: String,
}

/// A named group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Group {
    /// The group's name and aliases.
    pub names: Vec<String>,
}

/// A business.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Business {
    /// Trading and registered names.
    pub names: Vec<String>,
    /// Company registration number (e.g. Companies House).
    pub company_number: Option<String>,
    /// Business addresses.
    pub addresses: Vec<AddressValue>,
    /// Business phone numbers.
    pub phones: Vec<String>,
}

/// A vehicle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vehicle {
    /// Registration mark as typed (`AB12 CDE`).
    pub registration: String,
}

/// A phone number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Phone {
    /// The number as typed.
    pub number: String,
}

/// A place registered on its own (a premises of interest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// The address.
    pub address: AddressValue,
}
