//! Directed tasking (¶9, ¶11): directions and their history, and the record of the
//! border protocol.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::direction::{
    BorderProtocolRecord, Direction, DirectionEvent, DirectionId, DirectionNote, DirectionState,
    Instructions,
};
use concordat_domain::people::UserId;
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use serde::Serialize;

/// Which directions to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectionScope {
    /// Every direction (for the national agency's tasking officers and senior decision-makers).
    All,
    /// The directions given to one organisation.
    Recipient(OrgCode),
}

/// One step in a direction's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DirectionHistoryEntry {
    /// What happened: `draft`, `request-consent`, `give-consent`, `refuse-consent`,
    /// `issue`, `acknowledge`, `comply`, `not-comply`.
    pub event: String,
    /// The state after it.
    pub state: DirectionState,
    /// Who did it.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
    /// A note, if any.
    pub note: Option<String>,
}

fn opt_instant(column: &str, micros: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    micros.map(|m| parse_instant(column, m)).transpose()
}

fn opt_column<T: std::str::FromStr>(
    column: &str,
    value: Option<&str>,
) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    value.map(|v| parse_column(column, v)).transpose()
}

fn opt_note(column: &str, value: Option<&str>) -> Result<Option<DirectionNote>, StoreError> {
    value
        .map(|v| DirectionNote::parse(v).map_err(|e| corrupt(format!("{column}: {e}"))))
        .transpose()
}

#[derive(sqlx::FromRow)]
struct DirectionRow {
    id: String,
    recipient: String,
    recipient_kind: String,
    request_id: Option<String>,
    instructions: String,
    needed_by: Option<i64>,
    state: String,
    transport_consent: String,
    drafted_by: String,
    drafted_at: i64,
    issued_by: Option<String>,
    issued_at: Option<i64>,
    acknowledged_by: Option<String>,
    acknowledged_at: Option<i64>,
    compliance_note: Option<String>,
}

impl DirectionRow {
    fn into_domain(self) -> Result<Direction, StoreError> {
        Ok(Direction {
            id: parse_column("id", &self.id)?,
            recipient: parse_column("recipient", &self.recipient)?,
            recipient_kind: parse_column("recipient_kind", &self.recipient_kind)?,
            request: opt_column("request_id", self.request_id.as_deref())?,
            instructions: Instructions::parse(&self.instructions)
                .map_err(|e| corrupt(format!("instructions: {e}")))?,
            needed_by: opt_instant("needed_by", self.needed_by)?,
            state: parse_column("state", &self.state)?,
            transport_consent: parse_column("transport_consent", &self.transport_consent)?,
            drafted_by: parse_column("drafted_by", &self.drafted_by)?,
            drafted_at: parse_instant("drafted_at", self.drafted_at)?,
            issued_by: opt_column("issued_by", self.issued_by.as_deref())?,
            issued_at: opt_instant("issued_at", self.issued_at)?,
            acknowledged_by: opt_column("acknowledged_by", self.acknowledged_by.as_deref())?,
            acknowledged_at: opt_instant("acknowledged_at", self.acknowledged_at)?,
            compliance_note: opt_note("compliance_note", self.compliance_note.as_deref())?,
        })
    }
}

macro_rules! directions_select {
    () => {
        "SELECT id, recipient, recipient_kind, request_id, instructions, needed_by, state, \
         transport_consent, drafted_by, drafted_at, issued_by, issued_at, acknowledged_by, \
         acknowledged_at, compliance_note FROM directions"
    };
}

async fn direction_in(db: &mut Exec<'_>, id: DirectionId) -> Result<Direction, StoreError> {
    let row: DirectionRow = db
        .fetch_one(
            concat!(directions_select!(), " WHERE id = $1"),
            params![id.to_string()],
        )
        .await?;
    row.into_domain()
}

#[derive(sqlx::FromRow)]
struct ProtocolRow {
    id: String,
    state: String,
    note: Option<String>,
    recorded_by: String,
    recorded_at: i64,
}

impl ProtocolRow {
    fn into_domain(self) -> Result<BorderProtocolRecord, StoreError> {
        Ok(BorderProtocolRecord {
            id: parse_column("id", &self.id)?,
            state: parse_column("state", &self.state)?,
            note: opt_note("note", self.note.as_deref())?,
            recorded_by: parse_column("recorded_by", &self.recorded_by)?,
            recorded_at: parse_instant("recorded_at", self.recorded_at)?,
        })
    }
}

async fn latest_protocol_in(db: &mut Exec<'_>) -> Result<Option<BorderProtocolRecord>, StoreError> {
    let row: Option<ProtocolRow> = db
        .fetch_optional(
            "SELECT id, state, note, recorded_by, recorded_at FROM border_protocol_records \
             ORDER BY recorded_at DESC, id DESC LIMIT 1",
            vec![],
        )
        .await?;
    row.map(ProtocolRow::into_domain).transpose()
}

impl Store {
    /// The direction `id`.
    pub async fn direction(&self, id: DirectionId) -> Result<Direction, StoreError> {
        let mut reader = self.reader().await?;
        direction_in(&mut reader.exec(), id).await
    }

    /// The directions in `scope`, newest first.
    pub async fn directions(&self, scope: &DirectionScope) -> Result<Vec<Direction>, StoreError> {
        let recipient = match scope {
            DirectionScope::All => None,
            DirectionScope::Recipient(org) => Some(org.as_str()),
        };
        let rows: Vec<DirectionRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    directions_select!(),
                    " WHERE ($1 IS NULL OR recipient = $1) ORDER BY drafted_at DESC, id DESC"
                ),
                params![recipient],
            )
            .await?;
        rows.into_iter().map(DirectionRow::into_domain).collect()
    }

    /// What has happened to direction `id`, oldest first.
    pub async fn direction_history(
        &self,
        id: DirectionId,
    ) -> Result<Vec<DirectionHistoryEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            event: String,
            state: String,
            by_user: String,
            at: i64,
            note: Option<String>,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT event, state, by_user, at, note FROM direction_events \
                 WHERE direction_id = $1 ORDER BY at, id",
                params![id.to_string()],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DirectionHistoryEntry {
                    event: r.event,
                    state: parse_column("state", &r.state)?,
                    by: parse_column("by_user", &r.by_user)?,
                    at: parse_instant("at", r.at)?,
                    note: r.note,
                })
            })
            .collect()
    }

    /// The latest record of the border protocol, if there is one.
    pub async fn border_protocol(&self) -> Result<Option<BorderProtocolRecord>, StoreError> {
        let mut reader = self.reader().await?;
        latest_protocol_in(&mut reader.exec()).await
    }

    /// Every record of the border protocol, newest first.
    pub async fn border_protocol_history(&self) -> Result<Vec<BorderProtocolRecord>, StoreError> {
        let rows: Vec<ProtocolRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT id, state, note, recorded_by, recorded_at FROM border_protocol_records \
                 ORDER BY recorded_at DESC, id DESC",
                vec![],
            )
            .await?;
        rows.into_iter().map(ProtocolRow::into_domain).collect()
    }
}

impl WriteTx {
    /// Re-reads direction `id` inside this change, to check it before changing it.
    pub async fn direction(&mut self, id: DirectionId) -> Result<Direction, StoreError> {
        direction_in(&mut self.tx.exec(), id).await
    }

    /// The latest record of the border protocol, read inside this change.
    pub async fn border_protocol(&mut self) -> Result<Option<BorderProtocolRecord>, StoreError> {
        latest_protocol_in(&mut self.tx.exec()).await
    }

    /// Stores a newly drafted direction and the `draft` step of its history.
    pub async fn insert_direction(&mut self, direction: &Direction) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO directions (id, recipient, recipient_kind, request_id, \
                 instructions, needed_by, state, transport_consent, drafted_by, drafted_at, \
                 issued_by, issued_at, acknowledged_by, acknowledged_at, compliance_note, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                 $14, $15, $10)",
                params![
                    direction.id.to_string(),
                    direction.recipient.as_str(),
                    direction.recipient_kind.as_str(),
                    direction.request.map(|r| r.to_string()),
                    direction.instructions.as_str(),
                    direction.needed_by.map(Timestamp::as_micros),
                    direction.state.as_str(),
                    direction.transport_consent.as_str(),
                    direction.drafted_by.to_string(),
                    direction.drafted_at.as_micros(),
                    direction.issued_by.map(|u| u.to_string()),
                    direction.issued_at.map(Timestamp::as_micros),
                    direction.acknowledged_by.map(|u| u.to_string()),
                    direction.acknowledged_at.map(Timestamp::as_micros),
                    direction
                        .compliance_note
                        .as_ref()
                        .map(DirectionNote::as_str),
                ],
            )
            .await?;
        self.direction_event(
            direction.id,
            "draft",
            direction.state,
            direction.drafted_by,
            direction.drafted_at,
            None,
        )
        .await
    }

    /// Stores `after`, the result of `event` on `before`, if the direction is still as
    /// `before` left it (a concurrent change makes this a [`StoreError::Conflict`]), and
    /// records the step.
    pub async fn change_direction(
        &mut self,
        before: &Direction,
        after: &Direction,
        event: DirectionEvent,
        by: UserId,
        note: Option<&DirectionNote>,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now();
        let changed = self
            .tx
            .execute(
                "UPDATE directions SET state = $3, transport_consent = $4, issued_by = $5, \
                 issued_at = $6, acknowledged_by = $7, acknowledged_at = $8, \
                 compliance_note = $9, updated_at = $10 WHERE id = $1 AND state = $2",
                params![
                    before.id.to_string(),
                    before.state.as_str(),
                    after.state.as_str(),
                    after.transport_consent.as_str(),
                    after.issued_by.map(|u| u.to_string()),
                    after.issued_at.map(Timestamp::as_micros),
                    after.acknowledged_by.map(|u| u.to_string()),
                    after.acknowledged_at.map(Timestamp::as_micros),
                    after.compliance_note.as_ref().map(DirectionNote::as_str),
                    now.as_micros(),
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the direction changed meanwhile; reload it and try again".to_owned(),
            ));
        }
        self.direction_event(
            after.id,
            event.as_str(),
            after.state,
            by,
            now,
            note.map(DirectionNote::as_str),
        )
        .await
    }

    /// Adds a record of the border protocol; it becomes the latest.
    pub async fn record_border_protocol(
        &mut self,
        record: &BorderProtocolRecord,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO border_protocol_records (id, state, note, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                params![
                    record.id.to_string(),
                    record.state.as_str(),
                    record.note.as_ref().map(DirectionNote::as_str),
                    record.recorded_by.to_string(),
                    record.recorded_at.as_micros(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn direction_event(
        &mut self,
        id: DirectionId,
        event: &str,
        state: DirectionState,
        by: UserId,
        at: Timestamp,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO direction_events (id, direction_id, event, state, by_user, at, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![
                    uuid::Uuid::now_v7().to_string(),
                    id.to_string(),
                    event,
                    state.as_str(),
                    by.to_string(),
                    at.as_micros(),
                    note
                ],
            )
            .await?;
        Ok(())
    }
}
