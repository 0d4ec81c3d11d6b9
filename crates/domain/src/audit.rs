//! The audit log's entries and its hash chain (DESIGN part 16).
//!
//! Every entry carries the SHA-256 hash of its own content together with the hash of
//! the entry before it, so changing, inserting or removing any entry in the middle of
//! the log breaks the chain from that point on. Anyone authorised can walk the chain
//! with [`ChainVerifier`] and is told the first entry that does not fit.

use crate::people::UserId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use utoipa::ToSchema;

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Actor {
    /// A signed-in user, with the sign-in name they had at the time.
    User {
        /// The user's identifier.
        id: UserId,
        /// Their sign-in name when they acted.
        username: String,
    },
    /// Someone at the server's command line (`concordat init`, `concordat user add`, ...).
    Command {
        /// The subcommand that acted.
        command: String,
    },
    /// Concordat itself (a background job, start-up loading of reference data).
    System,
}

impl Actor {
    /// The kind, id and name columns this actor is stored as.
    pub fn to_columns(&self) -> (&'static str, String, String) {
        match self {
            Self::User { id, username } => ("user", id.to_string(), username.clone()),
            Self::Command { command } => ("command", String::new(), command.clone()),
            Self::System => ("system", String::new(), String::new()),
        }
    }

    /// Rebuilds an actor from its stored columns.
    pub fn from_columns(kind: &str, id: &str, name: &str) -> Option<Self> {
        match kind {
            "user" => Some(Self::User {
                id: id.parse().ok()?,
                username: name.to_owned(),
            }),
            "command" => Some(Self::Command {
                command: name.to_owned(),
            }),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { username, .. } => write!(f, "{username}"),
            Self::Command { command } => write!(f, "command `{command}`"),
            Self::System => f.write_str("system"),
        }
    }
}

/// The record an entry is about, as a kind (`user`, `token`, `organisation`, ...)
/// and that record's identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordRef {
    /// The kind of record.
    pub kind: String,
    /// The record's identifier.
    pub id: String,
}

impl RecordRef {
    /// A reference to record `id` of `kind`.
    pub fn new(kind: &str, id: impl fmt::Display) -> Self {
        Self {
            kind: kind.to_owned(),
            id: id.to_string(),
        }
    }
}

/// An entry to append: who did what, to which record, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who acted.
    pub actor: Actor,
    /// What they did, as a dotted name (`user.create`, `session.sign-in`, ...).
    pub action: &'static str,
    /// The record concerned, if any.
    pub record: Option<RecordRef>,
    /// Where the action came from: a client address, or empty for the command line.
    pub source: String,
    /// Further facts about the action, as JSON (never secrets).
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry with no record, no source and no detail.
    pub fn new(actor: Actor, action: &'static str) -> Self {
        Self {
            actor,
            action,
            record: None,
            source: String::new(),
            detail: serde_json::Value::Null,
        }
    }

    /// This entry about `record`.
    pub fn record(mut self, record: RecordRef) -> Self {
        self.record = Some(record);
        self
    }

    /// This entry coming from `source`.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// This entry with `detail`.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// The entry as it is written at position `seq` after `prev`, at `at`.
    pub fn seal(self, seq: i64, at: Timestamp, prev: ChainHash) -> AuditRecord {
        let (actor_kind, actor_id, actor_name) = self.actor.to_columns();
        let (record_kind, record_id) = self.record.map(|r| (r.kind, r.id)).unwrap_or_default();
        let mut record = AuditRecord {
            seq,
            at,
            actor_kind: actor_kind.to_owned(),
            actor_id,
            actor_name,
            action: self.action.to_owned(),
            record_kind,
            record_id,
            source: self.source,
            detail: self.detail.to_string(),
            prev_hash: prev,
            hash: ChainHash::GENESIS,
        };
        record.hash = record.compute_hash();
        record
    }
}

/// A SHA-256 hash in the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The hash the first entry chains to.
    pub const GENESIS: Self = Self([0; 32]);

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// The hash as 64 lower-case hexadecimal digits.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

/// An entry as written: its place in the chain and every stored column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditRecord {
    /// Its position: 1 for the first entry, then one more for each.
    pub seq: i64,
    /// When it was written.
    pub at: Timestamp,
    /// `user`, `command` or `system`.
    pub actor_kind: String,
    /// The acting user's identifier, or empty.
    pub actor_id: String,
    /// The acting user's sign-in name or the command, or empty.
    pub actor_name: String,
    /// What was done.
    pub action: String,
    /// The kind of record concerned, or empty.
    pub record_kind: String,
    /// The record's identifier, or empty.
    pub record_id: String,
    /// Where the action came from.
    pub source: String,
    /// Further facts, as JSON text.
    pub detail: String,
    /// The hash of the entry before (all zeros for the first).
    #[schema(value_type = String)]
    pub prev_hash: ChainHash,
    /// The hash of this entry's content and `prev_hash`.
    #[schema(value_type = String)]
    pub hash: ChainHash,
}

impl AuditRecord {
    /// The hash of this entry's content, chained to `prev_hash`. Each field is
    /// length-prefixed so no two different entries encode the same bytes.
    pub fn compute_hash(&self) -> ChainHash {
        let mut hasher = Sha256::new();
        hasher.update(b"concordat-audit-v1");
        let seq = self.seq.to_string();
        let at = self.at.as_micros().to_string();
        let prev = self.prev_hash.to_hex();
        for field in [
            seq.as_str(),
            at.as_str(),
            &self.actor_kind,
            &self.actor_id,
            &self.actor_name,
            &self.action,
            &self.record_kind,
            &self.record_id,
            &self.source,
            &self.detail,
            prev.as_str(),
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        ChainHash(hasher.finalize().into())
    }
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {reason}")]
pub struct ChainBreak {
    /// The first entry that does not fit.
    pub seq: i64,
    /// Why it does not fit.
    pub reason: String,
}

/// Walks the chain entry by entry, in order, from the first.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev: ChainHash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev: ChainHash::GENESIS,
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry against the ones before it.
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let fail = |reason: String| ChainBreak {
            seq: record.seq,
            reason,
        };
        if record.seq != self.expected_seq {
            return Err(ChainBreak {
                seq: self.expected_seq,
                reason: format!(
                    "entry {} is missing (the next entry found is {})",
                    self.expected_seq, record.seq
                ),
            });
        }
        if record.prev_hash != self.prev {
            return Err(fail(
                "it does not chain to the entry before it (that entry was changed, or this one was)"
                    .to_owned(),
            ));
        }
        if record.compute_hash() != record.hash {
            return Err(fail(
                "its content does not match its hash (it was changed)".to_owned(),
            ));
        }
        self.expected_seq += 1;
        self.prev = record.hash;
        Ok(())
    }

    /// How many entries have been checked so far.
    pub fn checked(&self) -> i64 {
        self.expected_seq - 1
    }

    /// The hash of the last entry checked: the head of the chain so far.
    pub fn head(&self) -> ChainHash {
        self.prev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = ChainHash::GENESIS;
        (1..=n)
            .map(|seq| {
                let record = AuditEntry::new(Actor::System, "test.step")
                    .record(RecordRef::new("thing", seq))
                    .detail(serde_json::json!({ "n": seq }))
                    .seal(
                        seq,
                        Timestamp::from_micros(seq * 1_000).expect("valid"),
                        prev,
                    );
                prev = record.hash;
                record
            })
            .collect()
    }

    fn verify(records: &[AuditRecord]) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for record in records {
            verifier.push(record)?;
        }
        Ok(verifier.checked())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn a_changed_field_is_caught_at_its_entry() {
        let mut records = chain(5);
        records[2].actor_name = "someone else".to_owned();
        let err = verify(&records).expect_err("tampered");
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("does not match its hash"));
    }

    #[test]
    fn a_rehashed_entry_is_caught_at_the_next() {
        let mut records = chain(5);
        records[2].detail = "{}".to_owned();
        records[2].hash = records[2].compute_hash();
        let err = verify(&records).expect_err("tampered");
        assert_eq!(err.seq, 4);
        assert!(err.reason.contains("does not chain"));
    }

    #[test]
    fn a_removed_entry_is_caught() {
        let mut records = chain(5);
        records.remove(1);
        let err = verify(&records).expect_err("gap");
        assert_eq!(err.seq, 2);
        assert!(err.reason.contains("missing"));
    }

    #[test]
    fn hashes_round_trip_as_hex() {
        let record = &chain(1)[0];
        assert_eq!(
            ChainHash::from_hex(&record.hash.to_hex()),
            Some(record.hash)
        );
        assert_eq!(ChainHash::from_hex("zz"), None);
    }

    #[test]
    fn actors_round_trip_through_columns() {
        let id = UserId::new();
        for actor in [
            Actor::User {
                id,
                username: "j.smith".into(),
            },
            Actor::Command {
                command: "user add".into(),
            },
            Actor::System,
        ] {
            let (kind, id, name) = actor.to_columns();
            assert_eq!(Actor::from_columns(kind, &id, &name), Some(actor));
        }
    }
}
