//! Reads of sensitive records go on the record too, so that an administrator can
//! answer "who saw this, when, and through what" from the hash-chained audit log
//! (`GET /api/v1/audit?record_kind=..&record_id=..`, `concordat audit who-saw`).

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::AppError;
use concordat_domain::audit::{AuditEntry, RecordRef};
use serde_json::json;
use std::fmt::Display;

/// Records that `who` read record `kind`/`id` through `view` (what they were shown:
/// `request`, `recommendation`, `operation`, ...).
pub async fn record_read(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    kind: &str,
    id: impl Display,
    view: &'static str,
) -> Result<(), AppError> {
    record_reads(state, who, source, kind, [id], view).await
}

/// Records reads of several records of one kind in one transaction (a list whose
/// every item discloses something, such as the hits shown to a case officer).
pub async fn record_reads<I: Display>(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    kind: &str,
    ids: impl IntoIterator<Item = I>,
    view: &'static str,
) -> Result<(), AppError> {
    let mut entries: Vec<AuditEntry> = ids
        .into_iter()
        .map(|id| read_entry(who, source, kind, id, view))
        .collect();
    let Some(last) = entries.pop() else {
        return Ok(());
    };
    let mut tx = state.store.write().await?;
    for entry in entries {
        tx.audit(entry).await?;
    }
    tx.commit(last).await?;
    Ok(())
}

/// The audit entry for `who` reading record `kind`/`id` through `view`, for a caller
/// that writes it in a transaction of its own (an export).
pub fn read_entry(
    who: &Authenticated,
    source: &str,
    kind: &str,
    id: impl Display,
    view: &'static str,
) -> AuditEntry {
    AuditEntry::new(who.actor(), "record.read")
        .record(RecordRef::new(kind, id))
        .source(source)
        .detail(json!({ "view": view, "organisation": who.user.organisation }))
}
