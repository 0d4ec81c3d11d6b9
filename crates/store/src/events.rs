//! Event deconfliction: planned activity and the clashes between activities.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::deconfliction::{
    ContactDetail, ContactName, DeconflictionRef, PointOfContact,
};
use concordat_domain::events::{
    ActivityId, ActivityKind, ActivityState, ActivityTitle, AddressText, ClashId, ClashNote,
    ClashResolution, Place, PlannedActivity, Position, Postcode, TimeWindow,
};
use concordat_domain::operation::OperationId;
use concordat_domain::people::UserId;
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;

/// Planned activity to store (the store gives it its identifier, index number and
/// reference).
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// Whose.
    pub organisation: OrgCode,
    /// The operation it belongs to.
    pub operation: Option<OperationId>,
    /// What kind.
    pub kind: ActivityKind,
    /// What it is.
    pub title: ActivityTitle,
    /// Where.
    pub place: Place,
    /// When.
    pub window: TimeWindow,
    /// Who to call.
    pub point_of_contact: PointOfContact,
    /// Whether it is covert.
    pub covert: bool,
    /// Whether it came with too little notice.
    pub late_notice: bool,
    /// Who entered it.
    pub entered_by: UserId,
}

/// An activity with its number in the spatial-temporal index.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredActivity {
    /// The activity.
    pub activity: PlannedActivity,
    /// Its number in the index.
    pub seq: i64,
}

/// A clash between two activities, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredClash {
    /// Its identifier.
    pub id: ClashId,
    /// The activity with the lower identifier.
    pub low: ActivityId,
    /// The other.
    pub high: ActivityId,
    /// The distance between their positions, in whole metres.
    pub distance_m: i64,
    /// When it was found.
    pub found_at: Timestamp,
    /// When the low side acknowledged it.
    pub low_acknowledged_at: Option<Timestamp>,
    /// When the high side acknowledged it.
    pub high_acknowledged_at: Option<Timestamp>,
    /// When it went to the 24/7 contacts unacknowledged.
    pub escalated_at: Option<Timestamp>,
    /// The watch officer who owns it.
    pub owner: Option<UserId>,
    /// How it was resolved.
    pub resolution: Option<ClashResolution>,
    /// The watch officer's note.
    pub resolution_note: Option<ClashNote>,
    /// Who resolved it.
    pub resolved_by: Option<UserId>,
    /// When.
    pub resolved_at: Option<Timestamp>,
    /// When it stopped being a clash (an activity cancelled or moved away).
    pub cleared_at: Option<Timestamp>,
}

impl StoredClash {
    /// Whether both sides have acknowledged it.
    pub fn acknowledged_by_both(&self) -> bool {
        self.low_acknowledged_at.is_some() && self.high_acknowledged_at.is_some()
    }

    /// Whether it still needs someone: not cleared and not resolved.
    pub fn is_open(&self) -> bool {
        self.cleared_at.is_none() && self.resolved_at.is_none()
    }
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: String,
    seq: i64,
    reference: String,
    organisation: String,
    operation_id: Option<String>,
    kind: String,
    title: String,
    latitude: String,
    longitude: String,
    accuracy_m: i64,
    address: Option<String>,
    postcode: Option<String>,
    starts_at: i64,
    ends_at: i64,
    contact_name: String,
    contact_detail: String,
    covert: i64,
    late_notice: i64,
    state: String,
    entered_by: String,
    entered_at: i64,
    updated_at: i64,
}

macro_rules! activities_select {
    () => {
        "SELECT id, seq, reference, organisation, operation_id, kind, title, latitude, \
         longitude, accuracy_m, address, postcode, starts_at, ends_at, contact_name, \
         contact_detail, covert, late_notice, state, entered_by, entered_at, updated_at \
         FROM activities"
    };
}

fn degrees(column: &str, text: &str) -> Result<f64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column}: `{text}` is not a number")))
}

impl ActivityRow {
    fn into_domain(self) -> Result<StoredActivity, StoreError> {
        let position = Position::new(
            degrees("latitude", &self.latitude)?,
            degrees("longitude", &self.longitude)?,
        )
        .map_err(corrupt)?;
        let place = Place {
            position,
            accuracy_m: u32::try_from(self.accuracy_m)
                .map_err(|_| StoreError::Corrupt("accuracy_m out of range".to_owned()))?,
            address: self
                .address
                .map(|a| AddressText::parse(&a).map_err(corrupt))
                .transpose()?,
            postcode: self
                .postcode
                .map(|p| Postcode::parse(&p).map_err(corrupt))
                .transpose()?,
        };
        let window = TimeWindow::new(
            parse_instant("starts_at", self.starts_at)?,
            parse_instant("ends_at", self.ends_at)?,
        )
        .map_err(corrupt)?;
        Ok(StoredActivity {
            activity: PlannedActivity {
                id: parse_column("id", &self.id)?,
                reference: parse_column::<DeconflictionRef>("reference", &self.reference)?,
                organisation: parse_column("organisation", &self.organisation)?,
                operation: self
                    .operation_id
                    .map(|o| parse_column("operation_id", &o))
                    .transpose()?,
                kind: parse_column("kind", &self.kind)?,
                title: ActivityTitle::parse(&self.title).map_err(corrupt)?,
                place,
                window,
                point_of_contact: PointOfContact {
                    name: ContactName::parse(&self.contact_name).map_err(corrupt)?,
                    detail: ContactDetail::parse(&self.contact_detail).map_err(corrupt)?,
                },
                covert: self.covert != 0,
                late_notice: self.late_notice != 0,
                state: parse_column("state", &self.state)?,
                entered_by: parse_column("entered_by", &self.entered_by)?,
                entered_at: parse_instant("entered_at", self.entered_at)?,
                updated_at: parse_instant("updated_at", self.updated_at)?,
            },
            seq: self.seq,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClashRow {
    id: String,
    low: String,
    high: String,
    distance_m: i64,
    found_at: i64,
    low_acknowledged_at: Option<i64>,
    high_acknowledged_at: Option<i64>,
    escalated_at: Option<i64>,
    owner: Option<String>,
    resolution: Option<String>,
    resolution_note: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<i64>,
    cleared_at: Option<i64>,
}

macro_rules! clashes_select {
    () => {
        "SELECT id, low, high, distance_m, found_at, low_acknowledged_at, \
         high_acknowledged_at, escalated_at, owner, resolution, resolution_note, \
         resolved_by, resolved_at, cleared_at FROM clashes"
    };
}

fn instant(column: &str, value: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    value.map(|v| parse_instant(column, v)).transpose()
}

impl ClashRow {
    fn into_domain(self) -> Result<StoredClash, StoreError> {
        Ok(StoredClash {
            id: parse_column("id", &self.id)?,
            low: parse_column("low", &self.low)?,
            high: parse_column("high", &self.high)?,
            distance_m: self.distance_m,
            found_at: parse_instant("found_at", self.found_at)?,
            low_acknowledged_at: instant("low_acknowledged_at", self.low_acknowledged_at)?,
            high_acknowledged_at: instant("high_acknowledged_at", self.high_acknowledged_at)?,
            escalated_at: instant("escalated_at", self.escalated_at)?,
            owner: self.owner.map(|o| parse_column("owner", &o)).transpose()?,
            resolution: self
                .resolution
                .map(|r| parse_column::<ClashResolution>("resolution", &r))
                .transpose()?,
            resolution_note: self
                .resolution_note
                .map(|n| ClashNote::parse(&n).map_err(corrupt))
                .transpose()?,
            resolved_by: self
                .resolved_by
                .map(|r| parse_column("resolved_by", &r))
                .transpose()?,
            resolved_at: instant("resolved_at", self.resolved_at)?,
            cleared_at: instant("cleared_at", self.cleared_at)?,
        })
    }
}

async fn activity_in(db: &mut Exec<'_>, id: ActivityId) -> Result<StoredActivity, StoreError> {
    let row: ActivityRow = db
        .fetch_one(
            concat!(activities_select!(), " WHERE id = $1"),
            params![id.to_string()],
        )
        .await?;
    row.into_domain()
}

async fn activities_where(
    db: &mut Exec<'_>,
    sql: &'static str,
    args: Vec<crate::db::Param>,
) -> Result<Vec<StoredActivity>, StoreError> {
    let rows: Vec<ActivityRow> = db.fetch_all(sql, args).await?;
    rows.into_iter().map(ActivityRow::into_domain).collect()
}

async fn clashes_where(
    db: &mut Exec<'_>,
    sql: &'static str,
    args: Vec<crate::db::Param>,
) -> Result<Vec<StoredClash>, StoreError> {
    let rows: Vec<ClashRow> = db.fetch_all(sql, args).await?;
    rows.into_iter().map(ClashRow::into_domain).collect()
}

impl Store {
    /// The activity `id`.
    pub async fn activity(&self, id: ActivityId) -> Result<StoredActivity, StoreError> {
        activity_in(&mut self.reader().await?.exec(), id).await
    }

    /// `organisation`'s activity ending after `after`, soonest first.
    pub async fn activities_of(
        &self,
        organisation: &OrgCode,
        after: Timestamp,
    ) -> Result<Vec<StoredActivity>, StoreError> {
        activities_where(
            &mut self.reader().await?.exec(),
            concat!(
                activities_select!(),
                " WHERE organisation = $1 AND ends_at > $2 ORDER BY starts_at, seq"
            ),
            params![organisation.as_str(), after.as_micros()],
        )
        .await
    }

    /// Every activity whose window overlaps `from..until`, any organisation, soonest
    /// first (for the 24/7 watch and the daily packs).
    pub async fn activities_between(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredActivity>, StoreError> {
        activities_where(
            &mut self.reader().await?.exec(),
            concat!(
                activities_select!(),
                " WHERE starts_at < $2 AND ends_at > $1 ORDER BY starts_at, seq"
            ),
            params![from.as_micros(), until.as_micros()],
        )
        .await
    }

    /// Up to `limit` planned activities ending after `now` with `seq` above `after`, in
    /// order: a page of the start-up rebuild of the index.
    pub async fn planned_activity_page(
        &self,
        now: Timestamp,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredActivity>, StoreError> {
        activities_where(
            &mut self.reader().await?.exec(),
            concat!(
                activities_select!(),
                " WHERE state = 'planned' AND ends_at > $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            params![now.as_micros(), after, limit],
        )
        .await
    }

    /// The highest activity change number written so far (0 when none).
    pub async fn last_activity_change(&self) -> Result<i64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            n: Option<i64>,
        }
        let row: Row = self
            .reader()
            .await?
            .fetch_one("SELECT MAX(change_seq) AS n FROM activities", params![])
            .await?;
        Ok(row.n.unwrap_or(0))
    }

    /// The clash `id`.
    pub async fn clash(&self, id: ClashId) -> Result<StoredClash, StoreError> {
        let row: ClashRow = self
            .reader()
            .await?
            .fetch_one(
                concat!(clashes_select!(), " WHERE id = $1"),
                params![id.to_string()],
            )
            .await?;
        row.into_domain()
    }

    /// The clashes that involve `organisation`'s activity, newest first.
    pub async fn clashes_of(&self, organisation: &OrgCode) -> Result<Vec<StoredClash>, StoreError> {
        clashes_where(
            &mut self.reader().await?.exec(),
            concat!(
                clashes_select!(),
                " WHERE low IN (SELECT id FROM activities WHERE organisation = $1) \
                 OR high IN (SELECT id FROM activities WHERE organisation = $1) \
                 ORDER BY found_at DESC, id"
            ),
            params![organisation.as_str()],
        )
        .await
    }

    /// Every clash found at or after `since`, newest first (the 24/7 watch queue).
    pub async fn clashes_since(&self, since: Timestamp) -> Result<Vec<StoredClash>, StoreError> {
        clashes_where(
            &mut self.reader().await?.exec(),
            concat!(
                clashes_select!(),
                " WHERE found_at >= $1 ORDER BY found_at DESC, id"
            ),
            params![since.as_micros()],
        )
        .await
    }

    /// Live clashes not acknowledged by both sides, not yet escalated, found at or
    /// before `raised_by`.
    pub async fn clashes_to_escalate(
        &self,
        raised_by: Timestamp,
    ) -> Result<Vec<StoredClash>, StoreError> {
        clashes_where(
            &mut self.reader().await?.exec(),
            concat!(
                clashes_select!(),
                " WHERE cleared_at IS NULL AND resolved_at IS NULL AND escalated_at IS NULL \
                 AND (low_acknowledged_at IS NULL OR high_acknowledged_at IS NULL) \
                 AND found_at <= $1 ORDER BY found_at, id"
            ),
            params![raised_by.as_micros()],
        )
        .await
    }
}

impl WriteTx {
    /// The activity `id`, read inside the transaction.
    pub async fn activity(&mut self, id: ActivityId) -> Result<StoredActivity, StoreError> {
        activity_in(&mut self.tx.exec(), id).await
    }

    /// Stores planned activity with the next index number and deconfliction reference
    /// (the series subject registrations use).
    pub async fn insert_activity(
        &mut self,
        new: &NewActivity,
    ) -> Result<StoredActivity, StoreError> {
        let now = Timestamp::now();
        let year = now.year();
        let seq = self.next_counter("activity").await?;
        let change = self.next_counter("activity-change").await?;
        let number = self.next_counter(&format!("reference-{year}")).await?;
        let activity = PlannedActivity {
            id: ActivityId::new(),
            reference: DeconflictionRef::new(year, number),
            organisation: new.organisation.clone(),
            operation: new.operation,
            kind: new.kind,
            title: new.title.clone(),
            place: new.place.clone(),
            window: new.window,
            point_of_contact: new.point_of_contact.clone(),
            covert: new.covert,
            late_notice: new.late_notice,
            state: ActivityState::Planned,
            entered_by: new.entered_by,
            entered_at: now,
            updated_at: now,
        };
        self.tx
            .execute(
                "INSERT INTO activities (id, seq, reference, organisation, operation_id, kind, \
                 title, latitude, longitude, accuracy_m, address, postcode, starts_at, ends_at, \
                 contact_name, contact_detail, covert, late_notice, state, entered_by, \
                 entered_at, updated_at, change_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
                params![
                    activity.id.to_string(),
                    seq,
                    activity.reference.as_str(),
                    activity.organisation.as_str(),
                    activity.operation.map(|o| o.to_string()),
                    activity.kind.as_str(),
                    activity.title.as_str(),
                    activity.place.position.latitude.to_string(),
                    activity.place.position.longitude.to_string(),
                    i64::from(activity.place.accuracy_m),
                    activity.place.address.as_ref().map(AddressText::as_str),
                    activity.place.postcode.as_ref().map(Postcode::as_str),
                    activity.window.starts_at.as_micros(),
                    activity.window.ends_at.as_micros(),
                    activity.point_of_contact.name.as_str(),
                    activity.point_of_contact.detail.as_str(),
                    i64::from(activity.covert),
                    i64::from(activity.late_notice),
                    activity.state.as_str(),
                    activity.entered_by.to_string(),
                    now.as_micros(),
                    now.as_micros(),
                    change,
                ],
            )
            .await?;
        Ok(StoredActivity { activity, seq })
    }

    /// Every activity written (planned, moved or cancelled) after change number
    /// `after`, with the change number it is at now, in order: what a node's index has
    /// not seen yet. Read inside the write transaction, it includes every commit before.
    pub async fn activities_changed_after(
        &mut self,
        after: i64,
    ) -> Result<Vec<(StoredActivity, i64)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            activity: ActivityRow,
            change_seq: i64,
        }
        let rows: Vec<Row> = self
            .tx
            .fetch_all(
                "SELECT id, seq, reference, organisation, operation_id, kind, title, latitude, \
                 longitude, accuracy_m, address, postcode, starts_at, ends_at, contact_name, \
                 contact_detail, covert, late_notice, state, entered_by, entered_at, updated_at, \
                 change_seq FROM activities WHERE change_seq > $1 ORDER BY change_seq",
                params![after],
            )
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.activity.into_domain()?, r.change_seq)))
            .collect()
    }

    /// Moves or re-times planned activity `id` (it keeps its reference and index number).
    pub async fn update_activity(
        &mut self,
        id: ActivityId,
        place: &Place,
        window: &TimeWindow,
        late_notice: bool,
    ) -> Result<(), StoreError> {
        let change = self.next_counter("activity-change").await?;
        let changed = self
            .tx
            .execute(
                "UPDATE activities SET latitude = $2, longitude = $3, accuracy_m = $4, \
                 address = $5, postcode = $6, starts_at = $7, ends_at = $8, late_notice = $9, \
                 updated_at = $10, change_seq = $11 WHERE id = $1 AND state = 'planned'",
                params![
                    id.to_string(),
                    place.position.latitude.to_string(),
                    place.position.longitude.to_string(),
                    i64::from(place.accuracy_m),
                    place.address.as_ref().map(AddressText::as_str),
                    place.postcode.as_ref().map(Postcode::as_str),
                    window.starts_at.as_micros(),
                    window.ends_at.as_micros(),
                    i64::from(late_notice),
                    Timestamp::now().as_micros(),
                    change,
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the activity is cancelled and cannot change".to_owned(),
            ));
        }
        Ok(())
    }

    /// Cancels planned activity `id`.
    pub async fn cancel_activity(&mut self, id: ActivityId) -> Result<(), StoreError> {
        let change = self.next_counter("activity-change").await?;
        let changed = self
            .tx
            .execute(
                "UPDATE activities SET state = 'cancelled', updated_at = $2, change_seq = $3 \
                 WHERE id = $1 AND state = 'planned'",
                params![id.to_string(), Timestamp::now().as_micros(), change],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the activity is already cancelled".to_owned(),
            ));
        }
        Ok(())
    }

    /// The live clashes of activity `id`.
    pub async fn live_clashes_of(
        &mut self,
        id: ActivityId,
    ) -> Result<Vec<StoredClash>, StoreError> {
        clashes_where(
            &mut self.tx.exec(),
            concat!(
                clashes_select!(),
                " WHERE (low = $1 OR high = $1) AND cleared_at IS NULL ORDER BY found_at, id"
            ),
            params![id.to_string()],
        )
        .await
    }

    /// Records a clash between `a` and `b`, unless the pair already has a live one.
    /// Returns the new clash.
    pub async fn insert_clash(
        &mut self,
        a: ActivityId,
        b: ActivityId,
        distance_m: f64,
    ) -> Result<Option<ClashId>, StoreError> {
        let (low, high) = if a < b { (a, b) } else { (b, a) };
        #[derive(sqlx::FromRow)]
        struct Count {
            n: i64,
        }
        let live: Count = self
            .tx
            .fetch_one(
                "SELECT COUNT(*) AS n FROM clashes WHERE low = $1 AND high = $2 \
                 AND cleared_at IS NULL",
                params![low.to_string(), high.to_string()],
            )
            .await?;
        if live.n > 0 {
            return Ok(None);
        }
        let id = ClashId::new();
        self.tx
            .execute(
                "INSERT INTO clashes (id, low, high, distance_m, found_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                params![
                    id.to_string(),
                    low.to_string(),
                    high.to_string(),
                    distance_m.round() as i64,
                    Timestamp::now().as_micros(),
                ],
            )
            .await?;
        Ok(Some(id))
    }

    /// Marks clash `id` as no longer a clash.
    pub async fn clear_clash(&mut self, id: ClashId) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE clashes SET cleared_at = $2 WHERE id = $1 AND cleared_at IS NULL",
                params![id.to_string(), Timestamp::now().as_micros()],
            )
            .await?;
        Ok(())
    }

    /// Acknowledges clash `id` for one side.
    pub async fn acknowledge_clash(
        &mut self,
        id: ClashId,
        low_side: bool,
    ) -> Result<(), StoreError> {
        let sql = if low_side {
            "UPDATE clashes SET low_acknowledged_at = $2 WHERE id = $1 \
             AND low_acknowledged_at IS NULL"
        } else {
            "UPDATE clashes SET high_acknowledged_at = $2 WHERE id = $1 \
             AND high_acknowledged_at IS NULL"
        };
        self.tx
            .execute(sql, params![id.to_string(), Timestamp::now().as_micros()])
            .await?;
        Ok(())
    }

    /// Marks clash `id` as escalated; false if another node already did.
    pub async fn escalate_clash(&mut self, id: ClashId) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE clashes SET escalated_at = $2 WHERE id = $1 AND escalated_at IS NULL",
                params![id.to_string(), Timestamp::now().as_micros()],
            )
            .await?;
        Ok(changed > 0)
    }

    /// A watch officer takes ownership of clash `id`.
    pub async fn own_clash(&mut self, id: ClashId, owner: UserId) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE clashes SET owner = $2 WHERE id = $1",
                params![id.to_string(), owner.to_string()],
            )
            .await?;
        Ok(())
    }

    /// Records how clash `id` was resolved.
    pub async fn resolve_clash(
        &mut self,
        id: ClashId,
        resolution: ClashResolution,
        note: &ClashNote,
        by: UserId,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE clashes SET resolution = $2, resolution_note = $3, resolved_by = $4, \
                 resolved_at = $5 WHERE id = $1 AND resolved_at IS NULL",
                params![
                    id.to_string(),
                    resolution.as_str(),
                    note.as_str(),
                    by.to_string(),
                    Timestamp::now().as_micros(),
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the clash is already resolved".to_owned(),
            ));
        }
        Ok(())
    }
}
