//! Deconfliction: registrations of interest, their records, and the hits between them.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::deconfliction::{
    ContactDetail, ContactName, DeconflictionRef, Disclosure, HitId, OperationReference,
    PointOfContact, Registration, RegistrationId, Resolution,
};
use concordat_domain::operation::OperationId;
use concordat_domain::people::UserId;
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use serde::Serialize;

/// A registration to store.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    /// The organisation with the interest.
    pub organisation: OrgCode,
    /// The record's kind.
    pub kind: String,
    /// The record as JSON (the matching engine's form).
    pub record: String,
    /// The operation it is registered against.
    pub operation: Option<OperationId>,
    /// The owner's reference.
    pub operation_reference: Option<OperationReference>,
    /// Who to call.
    pub point_of_contact: PointOfContact,
    /// What the other side is told.
    pub disclosure: Disclosure,
    /// Who registered it.
    pub registered_by: UserId,
    /// When it stops matching unless renewed.
    pub expires_at: Timestamp,
}

/// A registration with its record and its number in the matching index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRegistration {
    /// The registration.
    pub registration: Registration,
    /// Its number in the matching index.
    pub seq: i64,
    /// The record, as JSON.
    pub record: String,
}

/// What the matching index holds of a live registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Its number in the index.
    pub seq: i64,
    /// The registration.
    pub id: RegistrationId,
    /// Its organisation.
    pub organisation: OrgCode,
    /// When it expires.
    pub expires_at: Timestamp,
    /// The record, as JSON.
    pub record: String,
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: String,
    seq: i64,
    reference: String,
    organisation: String,
    kind: String,
    record: String,
    operation_id: Option<String>,
    operation_reference: Option<String>,
    contact_name: String,
    contact_detail: String,
    disclosure: String,
    registered_at: i64,
    expires_at: i64,
    withdrawn_at: Option<i64>,
}

macro_rules! registrations_select {
    () => {
        "SELECT id, seq, reference, organisation, kind, record, operation_id, \
         operation_reference, contact_name, contact_detail, disclosure, registered_at, \
         expires_at, withdrawn_at FROM registrations"
    };
}

impl RegistrationRow {
    fn into_domain(self) -> Result<StoredRegistration, StoreError> {
        Ok(StoredRegistration {
            registration: Registration {
                id: parse_column("id", &self.id)?,
                reference: parse_column::<DeconflictionRef>("reference", &self.reference)?,
                organisation: parse_column("organisation", &self.organisation)?,
                kind: self.kind,
                operation: self
                    .operation_id
                    .map(|o| parse_column("operation_id", &o))
                    .transpose()?,
                operation_reference: self
                    .operation_reference
                    .map(|r| OperationReference::parse(&r).map_err(corrupt))
                    .transpose()?,
                point_of_contact: PointOfContact {
                    name: ContactName::parse(&self.contact_name).map_err(corrupt)?,
                    detail: ContactDetail::parse(&self.contact_detail).map_err(corrupt)?,
                },
                disclosure: parse_column::<Disclosure>("disclosure", &self.disclosure)?,
                registered_at: parse_instant("registered_at", self.registered_at)?,
                expires_at: parse_instant("expires_at", self.expires_at)?,
                withdrawn_at: self
                    .withdrawn_at
                    .map(|w| parse_instant("withdrawn_at", w))
                    .transpose()?,
            },
            seq: self.seq,
            record: self.record,
        })
    }
}

async fn registration_in(
    db: &mut Exec<'_>,
    id: RegistrationId,
) -> Result<StoredRegistration, StoreError> {
    let row: RegistrationRow = db
        .fetch_one(
            concat!(registrations_select!(), " WHERE id = $1"),
            params![id.to_string()],
        )
        .await?;
    row.into_domain()
}

/// A hit between two registrations, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredHit {
    /// Its identifier.
    pub id: HitId,
    /// One registration (the lower identifier).
    pub low: RegistrationId,
    /// The other.
    pub high: RegistrationId,
    /// How likely the two are the same, 0 to 1.
    pub probability: f64,
    /// The kinds of field that agreed or disagreed, with their levels and weights, as
    /// JSON.
    pub explanation: serde_json::Value,
    /// When it was found.
    pub created_at: Timestamp,
    /// When the low side acknowledged it.
    pub low_acknowledged_at: Option<Timestamp>,
    /// When the high side acknowledged it.
    pub high_acknowledged_at: Option<Timestamp>,
    /// What it turned out to be.
    pub resolution: Option<Resolution>,
    /// Who resolved it.
    pub resolved_by: Option<UserId>,
    /// When.
    pub resolved_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct HitRow {
    id: String,
    low: String,
    high: String,
    probability_ppm: i64,
    explanation: String,
    created_at: i64,
    low_acknowledged_at: Option<i64>,
    high_acknowledged_at: Option<i64>,
    resolution: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<i64>,
}

macro_rules! hits_select {
    () => {
        "SELECT id, low, high, probability_ppm, explanation, created_at, \
         low_acknowledged_at, high_acknowledged_at, resolution, resolved_by, resolved_at \
         FROM hits"
    };
}

impl HitRow {
    fn into_domain(self) -> Result<StoredHit, StoreError> {
        let instant = |c: &str, v: Option<i64>| v.map(|v| parse_instant(c, v)).transpose();
        Ok(StoredHit {
            id: parse_column("id", &self.id)?,
            low: parse_column("low", &self.low)?,
            high: parse_column("high", &self.high)?,
            probability: self.probability_ppm as f64 / 1_000_000.0,
            explanation: serde_json::from_str(&self.explanation).map_err(corrupt)?,
            created_at: parse_instant("created_at", self.created_at)?,
            low_acknowledged_at: instant("low_acknowledged_at", self.low_acknowledged_at)?,
            high_acknowledged_at: instant("high_acknowledged_at", self.high_acknowledged_at)?,
            resolution: self
                .resolution
                .map(|r| parse_column::<Resolution>("resolution", &r))
                .transpose()?,
            resolved_by: self
                .resolved_by
                .map(|r| parse_column("resolved_by", &r))
                .transpose()?,
            resolved_at: instant("resolved_at", self.resolved_at)?,
        })
    }
}

impl Store {
    /// The registration `id`, with its record.
    pub async fn registration(&self, id: RegistrationId) -> Result<StoredRegistration, StoreError> {
        let mut reader = self.reader().await?;
        registration_in(&mut reader.exec(), id).await
    }

    /// `organisation`'s registrations, newest first.
    pub async fn registrations_of(
        &self,
        organisation: &OrgCode,
    ) -> Result<Vec<StoredRegistration>, StoreError> {
        let rows: Vec<RegistrationRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    registrations_select!(),
                    " WHERE organisation = $1 ORDER BY registered_at DESC, seq DESC"
                ),
                params![organisation.as_str()],
            )
            .await?;
        rows.into_iter().map(RegistrationRow::into_domain).collect()
    }

    /// Up to `limit` live registrations with `seq` above `after`, in order, with only
    /// what the matching index needs: a page of the start-up rebuild, kept lean because
    /// a large register is read whole.
    pub async fn live_index_page(
        &self,
        now: Timestamp,
        after: i64,
        limit: i64,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
            id: String,
            organisation: String,
            expires_at: i64,
            record: String,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT seq, id, organisation, expires_at, record FROM registrations \
                 WHERE withdrawn_at IS NULL AND expires_at > $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3",
                params![now.as_micros(), after, limit],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(IndexEntry {
                    seq: r.seq,
                    id: parse_column("id", &r.id)?,
                    organisation: parse_column("organisation", &r.organisation)?,
                    expires_at: parse_instant("expires_at", r.expires_at)?,
                    record: r.record,
                })
            })
            .collect()
    }

    /// How many registrations are live at `now`.
    pub async fn count_live_registrations(&self, now: Timestamp) -> Result<i64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Count {
            n: i64,
        }
        let count: Count = self
            .reader()
            .await?
            .fetch_one(
                "SELECT COUNT(*) AS n FROM registrations WHERE withdrawn_at IS NULL \
                 AND expires_at > $1",
                params![now.as_micros()],
            )
            .await?;
        Ok(count.n)
    }

    /// The hit `id`.
    pub async fn hit(&self, id: HitId) -> Result<StoredHit, StoreError> {
        let row: HitRow = self
            .reader()
            .await?
            .fetch_one(
                concat!(hits_select!(), " WHERE id = $1"),
                params![id.to_string()],
            )
            .await?;
        row.into_domain()
    }

    /// The hits on any of `organisation`'s registrations, newest first.
    pub async fn hits_of(&self, organisation: &OrgCode) -> Result<Vec<StoredHit>, StoreError> {
        let rows: Vec<HitRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    hits_select!(),
                    " WHERE low IN (SELECT id FROM registrations WHERE organisation = $1) \
                     OR high IN (SELECT id FROM registrations WHERE organisation = $1) \
                     ORDER BY created_at DESC, id DESC"
                ),
                params![organisation.as_str()],
            )
            .await?;
        rows.into_iter().map(HitRow::into_domain).collect()
    }

    /// The pairs (by index number) resolved as different people: never raised again.
    pub async fn suppressed_pairs(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            a: i64,
            b: i64,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT l.seq AS a, h2.seq AS b FROM hits h \
                 JOIN registrations l ON l.id = h.low JOIN registrations h2 ON h2.id = h.high \
                 WHERE h.resolution = 'different-person'",
                vec![],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.a, r.b)).collect())
    }
}

impl WriteTx {
    /// The next value of counter `name`, starting at 1.
    pub async fn next_counter(&mut self, name: &str) -> Result<i64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            value: i64,
        }
        let changed = self
            .tx
            .execute(
                "UPDATE counters SET value = value + 1 WHERE name = $1",
                params![name],
            )
            .await?;
        if changed == 0 {
            self.tx
                .execute(
                    "INSERT INTO counters (name, value) VALUES ($1, 1)",
                    params![name],
                )
                .await?;
        }
        let row: Row = self
            .tx
            .fetch_one("SELECT value FROM counters WHERE name = $1", params![name])
            .await?;
        Ok(row.value)
    }

    /// Stores a registration with the next index number and reference.
    pub async fn insert_registration(
        &mut self,
        new: &NewRegistration,
    ) -> Result<StoredRegistration, StoreError> {
        let now = Timestamp::now();
        let year = now.year();
        let seq = self.next_counter("registration").await?;
        let number = self.next_counter(&format!("reference-{year}")).await?;
        let registration = Registration {
            id: RegistrationId::new(),
            reference: DeconflictionRef::new(year, number),
            organisation: new.organisation.clone(),
            kind: new.kind.clone(),
            operation: new.operation,
            operation_reference: new.operation_reference.clone(),
            point_of_contact: new.point_of_contact.clone(),
            disclosure: new.disclosure,
            registered_at: now,
            expires_at: new.expires_at,
            withdrawn_at: None,
        };
        self.tx
            .execute(
                "INSERT INTO registrations (id, seq, reference, organisation, kind, record, \
                 operation_id, operation_reference, contact_name, contact_detail, disclosure, \
                 registered_by, registered_at, expires_at, withdrawn_at) VALUES ($1, $2, $3, \
                 $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)",
                params![
                    registration.id.to_string(),
                    seq,
                    registration.reference.as_str(),
                    registration.organisation.as_str(),
                    registration.kind.as_str(),
                    new.record.as_str(),
                    registration.operation.map(|o| o.to_string()),
                    registration
                        .operation_reference
                        .as_ref()
                        .map(OperationReference::as_str),
                    registration.point_of_contact.name.as_str(),
                    registration.point_of_contact.detail.as_str(),
                    registration.disclosure.as_str(),
                    new.registered_by.to_string(),
                    now.as_micros(),
                    registration.expires_at.as_micros(),
                ],
            )
            .await?;
        Ok(StoredRegistration {
            registration,
            seq,
            record: new.record.clone(),
        })
    }

    /// Sets when a live registration expires (a renewal).
    pub async fn renew_registration(
        &mut self,
        id: RegistrationId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE registrations SET expires_at = $2 WHERE id = $1 AND withdrawn_at IS NULL",
                params![id.to_string(), expires_at.as_micros()],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Withdraws a registration: it no longer matches.
    pub async fn withdraw_registration(&mut self, id: RegistrationId) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE registrations SET withdrawn_at = $2 WHERE id = $1 AND withdrawn_at IS NULL",
                params![id.to_string(), Timestamp::now().as_micros()],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the registration is already withdrawn".to_owned(),
            ));
        }
        Ok(())
    }

    /// Records a hit between two registrations, once per pair; returns it, or `None`
    /// when the pair already has one.
    pub async fn insert_hit(
        &mut self,
        a: RegistrationId,
        b: RegistrationId,
        probability: f64,
        explanation: &serde_json::Value,
    ) -> Result<Option<HitId>, StoreError> {
        let (low, high) = if a < b { (a, b) } else { (b, a) };
        let id = HitId::new();
        let ppm = (probability.clamp(0.0, 1.0) * 1_000_000.0).round() as i64;
        let inserted = self
            .tx
            .execute(
                "INSERT INTO hits (id, low, high, probability_ppm, explanation, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS \
                 (SELECT 1 FROM hits WHERE low = $2 AND high = $3)",
                params![
                    id.to_string(),
                    low.to_string(),
                    high.to_string(),
                    ppm,
                    explanation.to_string(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        Ok((inserted == 1).then_some(id))
    }

    /// Records that the side owning `registration` acknowledged hit `id`.
    pub async fn acknowledge_hit(&mut self, id: HitId, low_side: bool) -> Result<(), StoreError> {
        let sql = if low_side {
            "UPDATE hits SET low_acknowledged_at = $2 WHERE id = $1 AND low_acknowledged_at IS NULL"
        } else {
            "UPDATE hits SET high_acknowledged_at = $2 WHERE id = $1 AND high_acknowledged_at IS NULL"
        };
        let changed = self
            .tx
            .execute(sql, params![id.to_string(), Timestamp::now().as_micros()])
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict("already acknowledged".to_owned()));
        }
        Ok(())
    }

    /// Resolves hit `id`, once.
    pub async fn resolve_hit(
        &mut self,
        id: HitId,
        resolution: Resolution,
        by: UserId,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE hits SET resolution = $2, resolved_by = $3, resolved_at = $4 \
                 WHERE id = $1 AND resolution IS NULL",
                params![
                    id.to_string(),
                    resolution.as_str(),
                    by.to_string(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the hit is already resolved".to_owned(),
            ));
        }
        Ok(())
    }
}
