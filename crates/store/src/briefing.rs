//! Daily management packs as they were made, and the day's decisions and designations
//! that packs report.

use crate::db::params;
use crate::tasking::{DecisionRecord, DecisionRow, decisions_select, designation};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::briefing::{Pack, PackId, Scope};
use concordat_domain::operation::OperationId;
use concordat_domain::people::{Classification, UserId};
use concordat_domain::subject::{Designation, SubjectId};
use concordat_domain::time::Timestamp;
use serde::Serialize;

/// A kept pack, without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PackSummary {
    /// Its identifier.
    pub id: PackId,
    /// The meeting's date.
    pub date: String,
    /// Its scope.
    #[schema(value_type = String)]
    pub scope: Scope,
    /// When it was made.
    pub generated_at: Timestamp,
    /// Its highest marking, as printed.
    pub banner: String,
    /// How many items it holds.
    pub items: i64,
}

#[derive(sqlx::FromRow)]
struct PackRow {
    id: String,
    pack_date: String,
    scope: String,
    generated_at: i64,
    banner: String,
    items: i64,
}

impl PackRow {
    fn into_summary(self) -> Result<PackSummary, StoreError> {
        Ok(PackSummary {
            id: parse_column("id", &self.id)?,
            date: self.pack_date,
            scope: parse_column("scope", &self.scope)?,
            generated_at: parse_instant("generated_at", self.generated_at)?,
            banner: self.banner,
            items: self.items,
        })
    }
}

impl Store {
    /// The packs kept for `user`, newest date first.
    pub async fn packs_of(&self, user: UserId) -> Result<Vec<PackSummary>, StoreError> {
        let rows: Vec<PackRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT id, pack_date, scope, generated_at, banner, items FROM briefing_packs \
                 WHERE user_id = $1 ORDER BY pack_date DESC, scope LIMIT 500",
                params![user.to_string()],
            )
            .await?;
        rows.into_iter().map(PackRow::into_summary).collect()
    }

    /// The kept pack `id`, with whom it was made for.
    pub async fn pack(&self, id: PackId) -> Result<(UserId, Pack), StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: String,
            body: String,
        }
        let row: Row = self
            .reader()
            .await?
            .fetch_one(
                "SELECT user_id, body FROM briefing_packs WHERE id = $1",
                params![id.to_string()],
            )
            .await?;
        let pack = serde_json::from_str(&row.body).map_err(corrupt)?;
        Ok((parse_column("user_id", &row.user_id)?, pack))
    }

    /// Whether a pack is kept for `user`, `date` and `scope`.
    pub async fn pack_kept(
        &self,
        user: UserId,
        date: &str,
        scope: &Scope,
    ) -> Result<bool, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            n: i64,
        }
        let row: Row = self
            .reader()
            .await?
            .fetch_one(
                "SELECT COUNT(*) AS n FROM briefing_packs \
                 WHERE user_id = $1 AND pack_date = $2 AND scope = $3",
                params![user.to_string(), date, scope.to_string()],
            )
            .await?;
        Ok(row.n > 0)
    }

    /// The decisions recorded from `from` until before `to`, oldest first.
    pub async fn decisions_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let rows: Vec<DecisionRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    decisions_select!(),
                    " WHERE d.decided_at >= $1 AND d.decided_at < $2 ORDER BY d.decided_at, d.id",
                ),
                params![from.as_micros(), to.as_micros()],
            )
            .await?;
        rows.into_iter().map(DecisionRow::into_domain).collect()
    }

    /// The operations whose roles started or whose outcomes were recorded from `from`
    /// until before `to`.
    pub async fn operations_changed_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OperationId>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            operation_id: String,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT operation_id FROM operation_roles WHERE valid_from >= $1 AND valid_from < $2 \
                 UNION SELECT operation_id FROM operation_outcomes \
                 WHERE recorded_at >= $1 AND recorded_at < $2",
                params![from.as_micros(), to.as_micros()],
            )
            .await?;
        rows.into_iter()
            .map(|r| parse_column("operation_id", &r.operation_id))
            .collect()
    }

    /// The designations recorded from `from` until before `to`, oldest first, each with
    /// its subject and the subject's designation before it (none for a first one).
    pub async fn designations_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(SubjectId, Designation, Option<Designation>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            subject_id: String,
            level: String,
            basis: String,
            designated_by: String,
            designated_at: i64,
            before_level: Option<String>,
            before_basis: Option<String>,
            before_by: Option<String>,
            before_at: Option<i64>,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT d.subject_id, d.level, d.basis, d.designated_by, d.designated_at, \
                 p.level AS before_level, p.basis AS before_basis, \
                 p.designated_by AS before_by, p.designated_at AS before_at \
                 FROM subject_designations d \
                 LEFT JOIN subject_designations p ON p.id = (\
                   SELECT q.id FROM subject_designations q WHERE q.subject_id = d.subject_id \
                   AND (q.designated_at < d.designated_at \
                     OR (q.designated_at = d.designated_at AND q.id < d.id)) \
                   ORDER BY q.designated_at DESC, q.id DESC LIMIT 1) \
                 WHERE d.designated_at >= $1 AND d.designated_at < $2 \
                 ORDER BY d.designated_at, d.id",
                params![from.as_micros(), to.as_micros()],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let now = designation(&r.level, &r.basis, &r.designated_by, r.designated_at)?;
                let before = match (r.before_level, r.before_basis, r.before_by, r.before_at) {
                    (Some(level), Some(basis), Some(by), Some(at)) => {
                        Some(designation(&level, &basis, &by, at)?)
                    }
                    _ => None,
                };
                Ok((parse_column("subject_id", &r.subject_id)?, now, before))
            })
            .collect()
    }
}

impl WriteTx {
    /// Keeps `pack`, made for `user`. A pack already kept for the same user, date and
    /// scope stays as it was, and the answer is false.
    pub async fn keep_pack(
        &mut self,
        id: PackId,
        user: UserId,
        classification: Classification,
        pack: &Pack,
    ) -> Result<bool, StoreError> {
        let body = serde_json::to_string(pack).map_err(corrupt)?;
        let written = self
            .tx
            .execute(
                "INSERT INTO briefing_packs (id, user_id, organisation, pack_date, scope, \
                 generated_at, banner, classification, items, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (user_id, pack_date, scope) DO NOTHING",
                params![
                    id.to_string(),
                    user.to_string(),
                    pack.organisation.as_str(),
                    pack.date.to_string(),
                    pack.scope.to_string(),
                    pack.generated_at.as_micros(),
                    &pack.banner,
                    classification.as_str(),
                    pack.len() as i64,
                    body,
                ],
            )
            .await?;
        Ok(written > 0)
    }
}
