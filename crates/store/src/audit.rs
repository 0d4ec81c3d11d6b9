//! Appending to, reading and verifying the hash-chained audit log.

use crate::db::{Reader, Tx, audit_chain_lock, params};
use crate::{Engine, Store, StoreError, parse_instant};
use concordat_domain::audit::{AuditEntry, AuditRecord, ChainBreak, ChainHash, ChainVerifier};
use concordat_domain::time::Timestamp;

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: i64,
    actor_kind: String,
    actor_id: String,
    actor_name: String,
    action: String,
    record_kind: String,
    record_id: String,
    source: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl Row {
    fn into_record(self) -> Result<AuditRecord, StoreError> {
        let hash = |column: &str, text: &str| {
            ChainHash::from_hex(text).ok_or_else(|| {
                StoreError::Corrupt(format!("audit entry {}: {column} is not a hash", self.seq))
            })
        };
        Ok(AuditRecord {
            prev_hash: hash("prev_hash", &self.prev_hash)?,
            hash: hash("hash", &self.hash)?,
            seq: self.seq,
            at: parse_instant("at", self.at)?,
            actor_kind: self.actor_kind,
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            action: self.action,
            record_kind: self.record_kind,
            record_id: self.record_id,
            source: self.source,
            detail: self.detail,
        })
    }
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// Appends `entry` after the current head of the chain, inside `tx`.
pub(crate) async fn append(
    tx: &mut Tx,
    engine: Engine,
    entry: AuditEntry,
) -> Result<AuditRecord, StoreError> {
    if let Some(lock) = audit_chain_lock(engine) {
        tx.execute(lock, vec![]).await?;
    }
    let head: Option<Head> = tx
        .fetch_optional(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            vec![],
        )
        .await?;
    let (seq, prev) = match head {
        None => (1, ChainHash::GENESIS),
        Some(h) => (
            h.seq + 1,
            ChainHash::from_hex(&h.hash).ok_or_else(|| {
                StoreError::Corrupt(format!("audit entry {}: hash is not a hash", h.seq))
            })?,
        ),
    };
    let record = entry.seal(seq, Timestamp::now(), prev);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, action, \
         record_kind, record_id, source, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        params![
            record.seq,
            record.at.as_micros(),
            &record.actor_kind,
            &record.actor_id,
            &record.actor_name,
            &record.action,
            &record.record_kind,
            &record.record_id,
            &record.source,
            &record.detail,
            record.prev_hash.to_hex(),
            record.hash.to_hex(),
        ],
    )
    .await?;
    Ok(record)
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries about records of this kind.
    pub record_kind: Option<String>,
    /// Only entries about this record (with `record_kind`).
    pub record_id: Option<String>,
    /// Only entries by this user.
    pub actor_id: Option<String>,
    /// Only entries before this position (for paging backwards).
    pub before_seq: Option<i64>,
    /// At most this many entries (capped at 500).
    pub limit: u32,
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// How many entries were checked and found sound.
    pub checked: i64,
    /// The hash of the last sound entry.
    pub head: ChainHash,
    /// The number of the last entry read.
    pub last_seq: i64,
    /// The first break found, if any.
    pub first_break: Option<ChainBreak>,
}

const PAGE: i64 = 1_000;

impl Store {
    /// The newest entries first, filtered.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let limit = i64::from(filter.limit.clamp(1, 500));
        let mut reader = self.reader().await?;
        // One statement for every filter: each condition is switched off by a NULL.
        let rows: Vec<Row> = reader
            .fetch_all(
                "SELECT seq, at, actor_kind, actor_id, actor_name, action, record_kind, \
                 record_id, source, detail, prev_hash, hash FROM audit_log \
                 WHERE ($1 IS NULL OR record_kind = $1) \
                 AND ($2 IS NULL OR record_id = $2) \
                 AND ($3 IS NULL OR actor_id = $3) \
                 AND ($4 IS NULL OR seq < $4) \
                 ORDER BY seq DESC LIMIT $5",
                params![
                    filter.record_kind.clone(),
                    filter.record_id.clone(),
                    filter.actor_id.clone(),
                    filter.before_seq,
                    limit
                ],
            )
            .await?;
        rows.into_iter().map(Row::into_record).collect()
    }

    /// Walks the whole chain from the first entry, a page at a time, and reports the
    /// first entry that does not fit. `progress` is called after each page with the
    /// number of entries checked so far.
    pub async fn verify_audit_chain(
        &self,
        progress: impl FnMut(i64),
    ) -> Result<ChainReport, StoreError> {
        self.verify_audit_chain_against(None, progress).await
    }

    /// As [`Store::verify_audit_chain`], and also checks an anchor: a head published
    /// outside the database earlier (`concordat audit verify` prints it), as the entry
    /// number and its hash. The chain alone cannot show that its newest entries were cut
    /// off the end; an anchor can, for everything up to it.
    pub async fn verify_audit_chain_against(
        &self,
        anchor: Option<(i64, ChainHash)>,
        mut progress: impl FnMut(i64),
    ) -> Result<ChainReport, StoreError> {
        let mut verifier = ChainVerifier::default();
        let mut last_seq = 0_i64;
        let mut reader = self.reader().await?;
        let mut after = 0_i64;
        loop {
            let rows = page(&mut reader, after).await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            for row in rows {
                let seq = row.seq;
                let checked = row.into_record().map_err(|e| ChainBreak {
                    seq,
                    reason: e.to_string(),
                });
                let anchored = |record: AuditRecord| match anchor {
                    Some((at, hash)) if record.seq == at && record.hash != hash => {
                        Err(ChainBreak {
                            seq,
                            reason: format!(
                                "the published anchor says entry {at} has hash {hash}, but it has {}",
                                record.hash
                            ),
                        })
                    }
                    _ => Ok(record),
                };
                last_seq = seq;
                if let Err(found) = checked
                    .and_then(anchored)
                    .and_then(|record| verifier.push(&record))
                {
                    return Ok(ChainReport {
                        checked: verifier.checked(),
                        head: verifier.head(),
                        last_seq,
                        first_break: Some(found),
                    });
                }
            }
            after = last;
            progress(verifier.checked());
        }
        if let Some((at, hash)) = anchor
            && at > last_seq
        {
            return Ok(ChainReport {
                checked: verifier.checked(),
                head: verifier.head(),
                last_seq,
                first_break: Some(ChainBreak {
                    seq: at,
                    reason: format!(
                        "the published anchor names entry {at} (hash {hash}), but the log ends at entry {last_seq}: entries were cut off the end"
                    ),
                }),
            });
        }
        Ok(ChainReport {
            checked: verifier.checked(),
            head: verifier.head(),
            last_seq,
            first_break: None,
        })
    }
}

async fn page(reader: &mut Reader, after: i64) -> Result<Vec<Row>, StoreError> {
    reader
        .fetch_all(
            "SELECT seq, at, actor_kind, actor_id, actor_name, action, record_kind, \
             record_id, source, detail, prev_hash, hash FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            params![after, PAGE],
        )
        .await
}
