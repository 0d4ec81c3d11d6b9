//! Intelligence handling: markings and shares of every kind of sensitive record, and
//! graded intelligence records.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::handling::{
    Intelligence, IntelligenceId, IntelligenceText, IntelligenceTitle, Marking, RecordKind, Share,
    ShareReason,
};
use concordat_domain::people::UserId;
use concordat_domain::registry::OrgCode;
use concordat_domain::subject::SubjectId;
use concordat_domain::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// A share as recorded: who shared what with whom, why, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShareRecord {
    /// Its identifier.
    #[schema(value_type = String, format = "uuid")]
    pub id: uuid::Uuid,
    /// The kind of record shared.
    pub record_kind: RecordKind,
    /// The record shared.
    pub record_id: String,
    /// The share itself.
    #[serde(flatten)]
    pub share: Share,
    /// Why: the need to know.
    pub reason: ShareReason,
    /// Who shared it.
    #[schema(value_type = String)]
    pub shared_by: UserId,
    /// Their organisation.
    #[schema(value_type = String)]
    pub shared_by_organisation: OrgCode,
    /// When.
    pub shared_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ShareRow {
    id: String,
    record_kind: String,
    record_id: String,
    organisation: String,
    reason: String,
    shared_by: String,
    shared_by_org: String,
    shared_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl ShareRow {
    fn into_domain(self) -> Result<ShareRecord, StoreError> {
        Ok(ShareRecord {
            id: parse_column("shares.id", &self.id)?,
            record_kind: parse_column("shares.record_kind", &self.record_kind)?,
            record_id: self.record_id,
            share: Share {
                organisation: parse_column("shares.organisation", &self.organisation)?,
                expires_at: parse_instant("shares.expires_at", self.expires_at)?,
                revoked_at: self
                    .revoked_at
                    .map(|t| parse_instant("shares.revoked_at", t))
                    .transpose()?,
            },
            reason: ShareReason::parse(&self.reason).map_err(corrupt)?,
            shared_by: parse_column("shares.shared_by", &self.shared_by)?,
            shared_by_organisation: parse_column("shares.shared_by_org", &self.shared_by_org)?,
            shared_at: parse_instant("shares.shared_at", self.shared_at)?,
        })
    }
}

macro_rules! shares_select {
    () => {
        "SELECT id, record_kind, record_id, organisation, reason, shared_by, shared_by_org, \
         shared_at, expires_at, revoked_at FROM shares"
    };
}

#[derive(sqlx::FromRow)]
struct MarkingRow {
    record_id: String,
    marking: String,
}

fn parse_marking(text: &str) -> Result<Marking, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("markings.marking: {e}")))
}

async fn marking_in(
    exec: &mut Exec<'_>,
    kind: RecordKind,
    id: &str,
) -> Result<Marking, StoreError> {
    let row: Option<MarkingRow> = exec
        .fetch_optional(
            "SELECT record_id, marking FROM markings WHERE record_kind = $1 AND record_id = $2",
            params![kind.as_str(), id],
        )
        .await?;
    row.map_or_else(|| Ok(Marking::official()), |r| parse_marking(&r.marking))
}

async fn shares_in(
    exec: &mut Exec<'_>,
    kind: RecordKind,
    id: &str,
) -> Result<Vec<ShareRecord>, StoreError> {
    let rows: Vec<ShareRow> = exec
        .fetch_all(
            concat!(
                shares_select!(),
                " WHERE record_kind = $1 AND record_id = $2 ORDER BY shared_at, id"
            ),
            params![kind.as_str(), id],
        )
        .await?;
    rows.into_iter().map(ShareRow::into_domain).collect()
}

impl Store {
    /// The marking of record `id` of `kind` (OFFICIAL if it was never marked).
    pub async fn marking(&self, kind: RecordKind, id: &str) -> Result<Marking, StoreError> {
        marking_in(&mut self.reader().await?.exec(), kind, id).await
    }

    /// The markings of every marked record of `kind`, by identifier. Records absent
    /// from the map are OFFICIAL.
    pub async fn markings_of(
        &self,
        kind: RecordKind,
    ) -> Result<HashMap<String, Marking>, StoreError> {
        let rows: Vec<MarkingRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT record_id, marking FROM markings WHERE record_kind = $1",
                params![kind.as_str()],
            )
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.record_id.clone(), parse_marking(&r.marking)?)))
            .collect()
    }

    /// Every share of record `id` of `kind`, oldest first, revoked and expired ones too.
    pub async fn shares(&self, kind: RecordKind, id: &str) -> Result<Vec<ShareRecord>, StoreError> {
        shares_in(&mut self.reader().await?.exec(), kind, id).await
    }

    /// The identifiers of the records of `kind` shared with `organisation` by a share
    /// in force at `now`.
    pub async fn shared_with(
        &self,
        organisation: &OrgCode,
        kind: RecordKind,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            record_id: String,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT DISTINCT record_id FROM shares WHERE organisation = $1 \
                 AND record_kind = $2 AND expires_at > $3 AND revoked_at IS NULL \
                 ORDER BY record_id",
                params![organisation.as_str(), kind.as_str(), now.as_micros()],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.record_id).collect())
    }

    /// The share `id`.
    pub async fn share(&self, id: uuid::Uuid) -> Result<ShareRecord, StoreError> {
        let row: ShareRow = self
            .reader()
            .await?
            .fetch_one(
                concat!(shares_select!(), " WHERE id = $1"),
                params![id.to_string()],
            )
            .await?;
        row.into_domain()
    }

    /// The intelligence record `id`.
    pub async fn intelligence(&self, id: IntelligenceId) -> Result<Intelligence, StoreError> {
        let row: IntelligenceRow = self
            .reader()
            .await?
            .fetch_one(
                concat!(intelligence_select!(), " WHERE id = $1"),
                params![id.to_string()],
            )
            .await?;
        row.into_domain()
    }

    /// The intelligence records `organisation` recorded, newest first.
    pub async fn intelligence_of(
        &self,
        organisation: &OrgCode,
    ) -> Result<Vec<Intelligence>, StoreError> {
        let rows: Vec<IntelligenceRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    intelligence_select!(),
                    " WHERE organisation = $1 ORDER BY recorded_at DESC, id DESC"
                ),
                params![organisation.as_str()],
            )
            .await?;
        rows.into_iter().map(IntelligenceRow::into_domain).collect()
    }
}

macro_rules! intelligence_select {
    () => {
        "SELECT id, organisation, title, body, grading, subject_id, recorded_by, recorded_at \
         FROM intelligence"
    };
}
use intelligence_select;

#[derive(sqlx::FromRow)]
struct IntelligenceRow {
    id: String,
    organisation: String,
    title: String,
    body: String,
    grading: String,
    subject_id: Option<String>,
    recorded_by: String,
    recorded_at: i64,
}

impl IntelligenceRow {
    fn into_domain(self) -> Result<Intelligence, StoreError> {
        Ok(Intelligence {
            id: parse_column("intelligence.id", &self.id)?,
            organisation: parse_column("intelligence.organisation", &self.organisation)?,
            title: IntelligenceTitle::parse(&self.title).map_err(corrupt)?,
            text: IntelligenceText::parse(&self.body).map_err(corrupt)?,
            grading: serde_json::from_str(&self.grading)
                .map_err(|e| corrupt(format!("intelligence.grading: {e}")))?,
            subject: self
                .subject_id
                .map(|s| parse_column::<SubjectId>("intelligence.subject_id", &s))
                .transpose()?,
            recorded_by: parse_column("intelligence.recorded_by", &self.recorded_by)?,
            recorded_at: parse_instant("intelligence.recorded_at", self.recorded_at)?,
        })
    }
}

impl WriteTx {
    /// The marking of record `id` of `kind`, read inside the transaction.
    pub async fn marking(&mut self, kind: RecordKind, id: &str) -> Result<Marking, StoreError> {
        marking_in(&mut self.tx.exec(), kind, id).await
    }

    /// Marks record `id` of `kind`, replacing its marking.
    pub async fn set_marking(
        &mut self,
        kind: RecordKind,
        id: &str,
        marking: &Marking,
        by: UserId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(marking).map_err(corrupt)?;
        self.tx
            .execute(
                "DELETE FROM markings WHERE record_kind = $1 AND record_id = $2",
                params![kind.as_str(), id],
            )
            .await?;
        self.tx
            .execute(
                "INSERT INTO markings (record_kind, record_id, classification, marking, \
                 marked_by, marked_at) VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    kind.as_str(),
                    id,
                    marking.classification.as_str(),
                    json,
                    by.to_string(),
                    at.as_micros()
                ],
            )
            .await?;
        Ok(())
    }

    /// Every share of record `id` of `kind`, read inside the transaction.
    pub async fn shares(
        &mut self,
        kind: RecordKind,
        id: &str,
    ) -> Result<Vec<ShareRecord>, StoreError> {
        shares_in(&mut self.tx.exec(), kind, id).await
    }

    /// Records a share.
    pub async fn insert_share(&mut self, share: &ShareRecord) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO shares (id, record_kind, record_id, organisation, reason, \
                 shared_by, shared_by_org, shared_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                params![
                    share.id.to_string(),
                    share.record_kind.as_str(),
                    share.record_id.as_str(),
                    share.share.organisation.as_str(),
                    share.reason.as_str(),
                    share.shared_by.to_string(),
                    share.shared_by_organisation.as_str(),
                    share.shared_at.as_micros(),
                    share.share.expires_at.as_micros()
                ],
            )
            .await?;
        Ok(())
    }

    /// Revokes share `id`; a share already revoked stays as it was.
    pub async fn revoke_share(
        &mut self,
        id: uuid::Uuid,
        by: UserId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE shares SET revoked_by = $2, revoked_at = $3 \
                 WHERE id = $1 AND revoked_at IS NULL",
                params![id.to_string(), by.to_string(), at.as_micros()],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Records an intelligence record.
    pub async fn insert_intelligence(&mut self, record: &Intelligence) -> Result<(), StoreError> {
        let grading = serde_json::to_string(&record.grading).map_err(corrupt)?;
        self.tx
            .execute(
                "INSERT INTO intelligence (id, organisation, title, body, grading, subject_id, \
                 recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                params![
                    record.id.to_string(),
                    record.organisation.as_str(),
                    record.title.as_str(),
                    record.text.as_str(),
                    grading,
                    record.subject.map(|s| s.to_string()),
                    record.recorded_by.to_string(),
                    record.recorded_at.as_micros()
                ],
            )
            .await?;
        Ok(())
    }
}
