//! Operations: their subjects and capabilities, the time-versioned record of roles,
//! and outcomes.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::operation::{
    CodeName, DisruptionGrade, Operation, OperationId, OperationOutcome, OperationRole, OutcomeId,
    Reason, Recorded, RecordedOutcome, RoleChange, RoleHistory, RoleSpan,
};
use concordat_domain::people::UserId;
use concordat_domain::registry::OrgCode;
use concordat_domain::subject::SubjectId;
use concordat_domain::tasking::RequestId;
use concordat_domain::threat::{Strand, ThreatAreas};
use concordat_domain::time::Timestamp;
use std::str::FromStr;

/// An operation to open.
#[derive(Debug, Clone)]
pub struct NewOperation {
    /// Its code name; unique.
    pub code_name: CodeName,
    /// The threat areas it tackles.
    pub threat_areas: ThreatAreas,
    /// Its 4P strands.
    pub strands: Vec<Strand>,
    /// Its subjects.
    pub subjects: Vec<SubjectId>,
    /// The request that opens it, if any.
    pub origin_request: Option<RequestId>,
}

/// A line in a list of operations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OperationSummary {
    /// Its identifier.
    pub id: OperationId,
    /// Its code name.
    pub code_name: CodeName,
    /// Who leads now.
    #[schema(value_type = Option<String>)]
    pub lead: Option<OrgCode>,
    /// When it was opened.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct OperationRow {
    id: String,
    code_name: String,
    threat_areas: String,
    strands: String,
    origin_request: Option<String>,
    created_by: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: String,
    organisation: String,
    role: String,
    valid_from: i64,
    valid_until: Option<i64>,
    reason: String,
}

impl RoleRow {
    fn into_domain(self) -> Result<(String, RoleSpan), StoreError> {
        Ok((
            self.id,
            RoleSpan {
                organisation: parse_column("organisation", &self.organisation)?,
                role: parse_column::<OperationRole>("role", &self.role)?,
                from: parse_instant("valid_from", self.valid_from)?,
                until: self
                    .valid_until
                    .map(|u| parse_instant("valid_until", u))
                    .transpose()?,
                reason: Reason::parse(&self.reason).map_err(corrupt)?,
            },
        ))
    }
}

/// The role spans of `operation` with their row identifiers, in order.
async fn spans_in(
    db: &mut Exec<'_>,
    operation: OperationId,
) -> Result<Vec<(String, RoleSpan)>, StoreError> {
    let rows: Vec<RoleRow> = db
        .fetch_all(
            "SELECT id, organisation, role, valid_from, valid_until, reason FROM operation_roles \
             WHERE operation_id = $1 ORDER BY valid_from, id",
            params![operation.to_string()],
        )
        .await?;
    rows.into_iter().map(RoleRow::into_domain).collect()
}

async fn ids_in<T: FromStr>(
    db: &mut Exec<'_>,
    sql: &'static str,
    id: &str,
) -> Result<Vec<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    #[derive(sqlx::FromRow)]
    struct Row {
        value: String,
    }
    let rows: Vec<Row> = db.fetch_all(sql, params![id]).await?;
    rows.iter()
        .map(|r| parse_column("value", &r.value))
        .collect()
}

async fn operation_in(db: &mut Exec<'_>, id: OperationId) -> Result<Operation, StoreError> {
    let key = id.to_string();
    let row: OperationRow = db
        .fetch_one(
            "SELECT id, code_name, threat_areas, strands, origin_request, created_by, created_at \
             FROM operations WHERE id = $1",
            params![&key],
        )
        .await?;
    let subjects = ids_in(
        db,
        "SELECT subject_id AS value FROM operation_subjects WHERE operation_id = $1 \
         ORDER BY subject_id",
        &key,
    )
    .await?;
    let capabilities = ids_in(
        db,
        "SELECT capability AS value FROM operation_capabilities WHERE operation_id = $1 \
         ORDER BY added_at, capability",
        &key,
    )
    .await?;
    let roles = RoleHistory(
        spans_in(db, id)
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect(),
    );
    let outcomes = outcomes_in(db, &key).await?;
    let strands = row
        .strands
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse_column::<Strand>("strands", s))
        .collect::<Result<_, _>>()?;
    Ok(Operation {
        id,
        code_name: CodeName::parse(&row.code_name).map_err(corrupt)?,
        threat_areas: ThreatAreas::parse_list(&row.threat_areas).map_err(corrupt)?,
        strands,
        subjects,
        capabilities,
        roles,
        outcomes,
        origin_request: row
            .origin_request
            .map(|r| parse_column("origin_request", &r))
            .transpose()?,
        created: Recorded {
            by: parse_column("created_by", &row.created_by)?,
            at: parse_instant("created_at", row.created_at)?,
        },
    })
    .and_then(|op: Operation| {
        if op.id.to_string() == row.id {
            Ok(op)
        } else {
            Err(StoreError::Corrupt("operation id mismatch".to_owned()))
        }
    })
}

async fn outcomes_in(db: &mut Exec<'_>, key: &str) -> Result<Vec<RecordedOutcome>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        disruption: Option<String>,
        arrests: i64,
        charges: i64,
        drugs_grams: i64,
        firearms: i64,
        cash_pence: i64,
        assets_denied_pence: i64,
        description: String,
        occurred_at: i64,
        recorded_by: String,
        recorded_at: i64,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            "SELECT id, disruption, arrests, charges, drugs_grams, firearms, cash_pence, \
             assets_denied_pence, description, occurred_at, recorded_by, recorded_at \
             FROM operation_outcomes WHERE operation_id = $1 ORDER BY occurred_at, id",
            params![key],
        )
        .await?;
    let count = |column: &str, v: i64| u32::try_from(v).map_err(|_| corrupt(column));
    let amount = |column: &str, v: i64| u64::try_from(v).map_err(|_| corrupt(column));
    rows.into_iter()
        .map(|r| {
            Ok(RecordedOutcome {
                id: parse_column("id", &r.id)?,
                outcome: OperationOutcome {
                    disruption: r
                        .disruption
                        .map(|d| parse_column::<DisruptionGrade>("disruption", &d))
                        .transpose()?,
                    arrests: count("arrests", r.arrests)?,
                    charges: count("charges", r.charges)?,
                    drugs_grams: amount("drugs_grams", r.drugs_grams)?,
                    firearms: count("firearms", r.firearms)?,
                    cash_pence: amount("cash_pence", r.cash_pence)?,
                    assets_denied_pence: amount("assets_denied_pence", r.assets_denied_pence)?,
                    description: Reason::parse(&r.description).map_err(corrupt)?,
                    occurred_at: parse_instant("occurred_at", r.occurred_at)?,
                },
                recorded: Recorded {
                    by: parse_column("recorded_by", &r.recorded_by)?,
                    at: parse_instant("recorded_at", r.recorded_at)?,
                },
            })
        })
        .collect()
}

/// An operation already working on a subject, with who leads it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestigationOnSubject {
    /// The operation.
    pub operation: OperationId,
    /// Its code name.
    pub code_name: CodeName,
    /// Who leads it now.
    pub lead: OrgCode,
}

impl Store {
    /// The operation `id`, with its whole role history and outcomes.
    pub async fn operation(&self, id: OperationId) -> Result<Operation, StoreError> {
        let mut reader = self.reader().await?;
        operation_in(&mut reader.exec(), id).await
    }

    /// The operations `organisation` has held a role in, newest first.
    pub async fn operations_of(
        &self,
        organisation: &OrgCode,
    ) -> Result<Vec<OperationSummary>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            code_name: String,
            lead: Option<String>,
            created_at: i64,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT o.id, o.code_name, o.created_at, \
                 (SELECT l.organisation FROM operation_roles l WHERE l.operation_id = o.id \
                  AND l.role = 'lead' AND l.valid_until IS NULL) AS lead \
                 FROM operations o WHERE o.id IN (SELECT operation_id FROM operation_roles \
                 WHERE organisation = $1) ORDER BY o.created_at DESC, o.id DESC",
                params![organisation.as_str()],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(OperationSummary {
                    id: parse_column("id", &r.id)?,
                    code_name: CodeName::parse(&r.code_name).map_err(corrupt)?,
                    lead: r.lead.map(|l| parse_column("lead", &l)).transpose()?,
                    created_at: parse_instant("created_at", r.created_at)?,
                })
            })
            .collect()
    }

    /// Operations that work on any of `subjects`, with their lead, oldest first: as
    /// they stand now, or as they stood at `as_of`.
    pub async fn investigations_on(
        &self,
        subjects: &[SubjectId],
        as_of: Option<Timestamp>,
    ) -> Result<Vec<InvestigationOnSubject>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            code_name: String,
            lead: String,
        }
        let mut reader = self.reader().await?;
        let mut found: Vec<InvestigationOnSubject> = vec![];
        let at = as_of.map(Timestamp::as_micros);
        for subject in subjects {
            let rows: Vec<Row> = reader
                .fetch_all(
                    "SELECT o.id, o.code_name, l.organisation AS lead FROM operations o \
                     JOIN operation_subjects s ON s.operation_id = o.id \
                     JOIN operation_roles l ON l.operation_id = o.id AND l.role = 'lead' \
                     WHERE s.subject_id = $1 AND ( \
                       ($2 IS NULL AND l.valid_until IS NULL) OR \
                       ($2 IS NOT NULL AND o.created_at <= $2 AND l.valid_from <= $2 \
                        AND (l.valid_until IS NULL OR l.valid_until > $2))) \
                     ORDER BY o.created_at, o.id",
                    params![subject.to_string(), at],
                )
                .await?;
            for r in rows {
                let operation = parse_column("id", &r.id)?;
                if found.iter().any(|f| f.operation == operation) {
                    continue;
                }
                found.push(InvestigationOnSubject {
                    operation,
                    code_name: CodeName::parse(&r.code_name).map_err(corrupt)?,
                    lead: parse_column("lead", &r.lead)?,
                });
            }
        }
        Ok(found)
    }
}

impl WriteTx {
    /// The operation `id`, read inside this change.
    pub async fn operation(&mut self, id: OperationId) -> Result<Operation, StoreError> {
        operation_in(&mut self.tx.exec(), id).await
    }

    /// Opens an operation (with no roles yet: add them with [`WriteTx::change_roles`]).
    /// A code name in use is a [`StoreError::Conflict`].
    pub async fn insert_operation(
        &mut self,
        new: &NewOperation,
        by: UserId,
    ) -> Result<OperationId, StoreError> {
        let id = OperationId::new();
        let now = Timestamp::now().as_micros();
        let strands = new
            .strands
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let inserted = self
            .tx
            .execute(
                "INSERT INTO operations (id, code_name, threat_areas, strands, origin_request, \
                 created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![
                    id.to_string(),
                    new.code_name.as_str(),
                    new.threat_areas.to_list(),
                    strands,
                    new.origin_request.map(|r| r.to_string()),
                    by.to_string(),
                    now
                ],
            )
            .await;
        if let Err(StoreError::Conflict(_)) = inserted {
            return Err(StoreError::Conflict(format!(
                "the code name `{}` is already in use",
                new.code_name
            )));
        }
        inserted?;
        self.add_operation_subjects(id, &new.subjects).await?;
        Ok(id)
    }

    /// Adds subjects to an operation; ones already on it are left alone.
    pub async fn add_operation_subjects(
        &mut self,
        id: OperationId,
        subjects: &[SubjectId],
    ) -> Result<(), StoreError> {
        for subject in subjects {
            self.tx
                .execute(
                    "INSERT INTO operation_subjects (operation_id, subject_id) \
                     SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM operation_subjects \
                     WHERE operation_id = $1 AND subject_id = $2)",
                    params![id.to_string(), subject.to_string()],
                )
                .await?;
        }
        Ok(())
    }

    /// Records a capability deployed on an operation; one already recorded is left alone.
    pub async fn add_operation_capability(
        &mut self,
        id: OperationId,
        capability: &str,
        by: UserId,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO operation_capabilities (operation_id, capability, added_by, added_at) \
                 SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM operation_capabilities \
                 WHERE operation_id = $1 AND capability = $2)",
                params![
                    id.to_string(),
                    capability,
                    by.to_string(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        Ok(())
    }

    /// Applies a role change worked out by [`RoleHistory::change_to`] on the history
    /// read by [`WriteTx::role_history`] in this same change.
    pub async fn change_roles(
        &mut self,
        id: OperationId,
        change: &RoleChange,
        at: Timestamp,
        by: UserId,
    ) -> Result<(), StoreError> {
        let spans = spans_in(&mut self.tx.exec(), id).await?;
        for index in &change.ending {
            let (row, _) = spans
                .get(*index)
                .ok_or_else(|| StoreError::Conflict("the roles changed meanwhile".to_owned()))?;
            let closed = self
                .tx
                .execute(
                    "UPDATE operation_roles SET valid_until = $2 WHERE id = $1 \
                     AND valid_until IS NULL",
                    params![row, at.as_micros()],
                )
                .await?;
            if closed == 0 {
                return Err(StoreError::Conflict(
                    "the roles changed meanwhile".to_owned(),
                ));
            }
        }
        for span in &change.starting {
            self.tx
                .execute(
                    "INSERT INTO operation_roles (id, operation_id, organisation, role, \
                     valid_from, valid_until, reason, recorded_by, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8)",
                    params![
                        uuid::Uuid::now_v7().to_string(),
                        id.to_string(),
                        span.organisation.as_str(),
                        span.role.as_str(),
                        span.from.as_micros(),
                        span.reason.as_str(),
                        by.to_string(),
                        Timestamp::now().as_micros()
                    ],
                )
                .await?;
        }
        Ok(())
    }

    /// The role history of `id`, read inside this change, in the order
    /// [`WriteTx::change_roles`] indexes it.
    pub async fn role_history(&mut self, id: OperationId) -> Result<RoleHistory, StoreError> {
        Ok(RoleHistory(
            spans_in(&mut self.tx.exec(), id)
                .await?
                .into_iter()
                .map(|(_, s)| s)
                .collect(),
        ))
    }

    /// Records an outcome.
    pub async fn insert_outcome(
        &mut self,
        id: OperationId,
        outcome: &OperationOutcome,
        by: UserId,
    ) -> Result<OutcomeId, StoreError> {
        let outcome_id = OutcomeId::new();
        let big = |v: u64| {
            i64::try_from(v).map_err(|_| StoreError::Conflict("amount too large".to_owned()))
        };
        self.tx
            .execute(
                "INSERT INTO operation_outcomes (id, operation_id, disruption, arrests, charges, \
                 drugs_grams, firearms, cash_pence, assets_denied_pence, description, \
                 occurred_at, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13)",
                params![
                    outcome_id.to_string(),
                    id.to_string(),
                    outcome.disruption.map(|d| d.as_str()),
                    i64::from(outcome.arrests),
                    i64::from(outcome.charges),
                    big(outcome.drugs_grams)?,
                    i64::from(outcome.firearms),
                    big(outcome.cash_pence)?,
                    big(outcome.assets_denied_pence)?,
                    outcome.description.as_str(),
                    outcome.occurred_at.as_micros(),
                    by.to_string(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        Ok(outcome_id)
    }
}
