//! Concordat's deconfliction engine: finds registrations that are about the same
//! person, group, business, vehicle, phone or address.
//!
//! # What it does
//! - **Normalises** what officers type (`normalise.rs`): Unicode folding, case,
//!   punctuation, titles and suffixes, `Mac`/`Mc`, UK postcodes and phone numbers,
//!   vehicle marks, dates in the usual forms; nicknames (`names.rs`, from an embedded
//!   list) and Double Metaphone codes.
//! - **Finds candidates** through several blocking keys in an in-memory inverted
//!   index (`index.rs`), kept current as records are inserted and removed: no
//!   rebuild, and a removed record leaves no trace. Keys held by very many records
//!   are not used to find candidates, so a hostel's postcode or a placeholder date of
//!   birth does not flood anyone with hits.
//! - **Scores** pairs of persons with a Fellegi–Sunter model (`model.rs`): each field
//!   compares at a level (exact, nickname, phonetic, close, transposed, ...), each
//!   level weighs `log2(m/u)`, exact agreements weigh by how rare the value is. m and
//!   u are estimated from the registered data (`train.rs`). Every score comes with
//!   its explanation. Identifiers (phone, vehicle mark, company number, premises)
//!   match directly.
//! - **Links in batch** (`batch.rs`): deduplication of one set, linkage of two.
//!
//! # What it does not do
//! It stores nothing and knows nothing of HTTP, SQL, organisations or permissions:
//! the caller keeps records durable, rebuilds the engine from them at start-up, and
//! says through `exclude` which candidates a check must not consider. It depends on
//! no other Concordat crate.
//!
//! # Why this design
//! Everything is held in memory in compact form (each distinct value interned once,
//! with its frequency), so that one check against a million people is a few hash
//! look-ups and a few hundred comparisons, well under a millisecond. The same index
//! and model serve the online check and the batch commands, so what a batch run
//! measures is what the service does.

#![warn(missing_docs)]

mod batch;
mod engine;
pub mod events;
mod features;
mod index;
mod model;
mod names;
pub mod normalise;
mod record;
mod symbols;
mod train;

pub use batch::{Pair, Progress, Stage, dedupe, link};
pub use engine::{CheckOutcome, Engine, EngineConfig, IndexStats, Match, TooCommon};
pub use model::{ComparisonLevel, FieldKind, FieldScore, Model};
pub use names::{Phonetic, are_nicknames, jaro_winkler, within_one_edit};
pub use record::{
    Address, AddressValue, Business, Group, Name, Person, Phone, Record, RecordId, Sex, Vehicle,
};
