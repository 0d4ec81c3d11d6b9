//! Tasking: subjects and their designations, requests and their history, decisions,
//! charging exceptions.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::decision::Decision;
use concordat_domain::operation::OperationId;
use concordat_domain::people::UserId;
use concordat_domain::registry::{OrgCode, ReferenceData};
use concordat_domain::subject::{
    Designation, DesignationBasis, PriorityDesignation, Subject, SubjectId, SubjectKind,
    SubjectName,
};
use concordat_domain::tasking::{
    CaseText, Geography, Request, RequestEvent, RequestId, RequestKind, RequestState, RequestTitle,
    Route,
};
use concordat_domain::threat::ThreatAreas;
use concordat_domain::time::Timestamp;
use serde::{Serialize, de::DeserializeOwned};
use std::collections::BTreeSet;

fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

fn from_json<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn opt_instant(column: &str, micros: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    micros.map(|m| parse_instant(column, m)).transpose()
}

// ---------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct SubjectRow {
    id: String,
    kind: String,
    name: String,
    organisation: String,
    level: String,
    basis: String,
    designated_by: String,
    designated_at: i64,
}

impl SubjectRow {
    fn into_domain(self) -> Result<Subject, StoreError> {
        Ok(Subject {
            id: parse_column("id", &self.id)?,
            kind: parse_column::<SubjectKind>("kind", &self.kind)?,
            name: SubjectName::parse(&self.name).map_err(corrupt)?,
            organisation: parse_column("organisation", &self.organisation)?,
            designation: designation(
                &self.level,
                &self.basis,
                &self.designated_by,
                self.designated_at,
            )?,
        })
    }
}

/// A designation from its columns.
pub(crate) fn designation(
    level: &str,
    basis: &str,
    by: &str,
    at: i64,
) -> Result<Designation, StoreError> {
    Ok(Designation {
        level: parse_column::<PriorityDesignation>("level", level)?,
        by: parse_column("designated_by", by)?,
        at: parse_instant("designated_at", at)?,
        basis: DesignationBasis::parse(basis).map_err(corrupt)?,
    })
}

/// Each subject with its latest designation.
macro_rules! subjects_select {
    () => {
        "SELECT s.id, s.kind, s.name, s.organisation, d.level, d.basis, \
     d.designated_by, d.designated_at FROM subjects s \
     JOIN subject_designations d ON d.subject_id = s.id \
     AND d.designated_at = (SELECT MAX(designated_at) FROM subject_designations \
                            WHERE subject_id = s.id)"
    };
}

async fn subject_in(db: &mut Exec<'_>, id: SubjectId) -> Result<Subject, StoreError> {
    let row: SubjectRow = db
        .fetch_one(
            concat!(subjects_select!(), " WHERE s.id = $1"),
            params![id.to_string()],
        )
        .await?;
    row.into_domain()
}

/// A subject to record, with its first designation.
#[derive(Debug, Clone)]
pub struct NewSubject {
    /// What it is.
    pub kind: SubjectKind,
    /// What it is called.
    pub name: SubjectName,
    /// The organisation recording it.
    pub organisation: OrgCode,
    /// Its first designation.
    pub level: PriorityDesignation,
    /// The basis for it.
    pub basis: DesignationBasis,
}

impl Store {
    /// The subject `id` with its current designation.
    pub async fn subject(&self, id: SubjectId) -> Result<Subject, StoreError> {
        let mut reader = self.reader().await?;
        subject_in(&mut reader.exec(), id).await
    }

    /// The subjects `ids`, in the order given; an unknown one is [`StoreError::NotFound`].
    pub async fn subjects_by_id(&self, ids: &[SubjectId]) -> Result<Vec<Subject>, StoreError> {
        let mut reader = self.reader().await?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.push(subject_in(&mut reader.exec(), *id).await?);
        }
        Ok(found)
    }

    /// The subjects `ids` with the designation each had at `as_of` (now when `None`),
    /// in the order given. A subject not yet designated then is left out.
    pub async fn subjects_as_of(
        &self,
        ids: &[SubjectId],
        as_of: Option<Timestamp>,
    ) -> Result<Vec<Subject>, StoreError> {
        let Some(at) = as_of else {
            return self.subjects_by_id(ids).await;
        };
        let mut reader = self.reader().await?;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<SubjectRow> = reader
                .fetch_optional(
                    "SELECT s.id, s.kind, s.name, s.organisation, d.level, d.basis, \
                     d.designated_by, d.designated_at FROM subjects s \
                     JOIN subject_designations d ON d.subject_id = s.id \
                     WHERE s.id = $1 AND d.designated_at <= $2 \
                     ORDER BY d.designated_at DESC, d.id DESC LIMIT 1",
                    params![id.to_string(), at.as_micros()],
                )
                .await?;
            if let Some(row) = row {
                found.push(row.into_domain()?);
            }
        }
        Ok(found)
    }

    /// The subjects `organisation` may see: its own, and those on requests and
    /// operations it is party to.
    pub async fn subjects_visible_to(
        &self,
        organisation: &OrgCode,
    ) -> Result<Vec<Subject>, StoreError> {
        let rows: Vec<SubjectRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    subjects_select!(),
                    " WHERE s.organisation = $1 \
                     OR s.id IN (SELECT rs.subject_id FROM request_subjects rs \
                        JOIN requests r ON r.id = rs.request_id \
                        WHERE r.requester = $1 OR (r.state <> 'draft' \
                        AND (r.receiver = $1 OR r.gateway = $1))) \
                     OR s.id IN (SELECT os.subject_id FROM operation_subjects os \
                        JOIN operation_roles o ON o.operation_id = os.operation_id \
                        WHERE o.organisation = $1) \
                     ORDER BY s.name, s.id",
                ),
                params![organisation.as_str()],
            )
            .await?;
        rows.into_iter().map(SubjectRow::into_domain).collect()
    }

    /// The organisations party to subject `id`: the one that recorded it, those
    /// sending, receiving or carrying a submitted request about it, and those with a
    /// role in an operation against it. Not found if there is no such subject.
    pub async fn subject_parties(&self, id: SubjectId) -> Result<Vec<OrgCode>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            organisation: String,
        }
        let mut reader = self.reader().await?;
        let owner: Row = reader
            .fetch_one(
                "SELECT organisation FROM subjects WHERE id = $1",
                params![id.to_string()],
            )
            .await?;
        let others: Vec<Row> = reader
            .fetch_all(
                "SELECT r.requester AS organisation FROM request_subjects rs \
                   JOIN requests r ON r.id = rs.request_id WHERE rs.subject_id = $1 \
                 UNION SELECT r.receiver FROM request_subjects rs \
                   JOIN requests r ON r.id = rs.request_id \
                   WHERE rs.subject_id = $1 AND r.state <> 'draft' \
                 UNION SELECT r.gateway FROM request_subjects rs \
                   JOIN requests r ON r.id = rs.request_id \
                   WHERE rs.subject_id = $1 AND r.state <> 'draft' AND r.gateway IS NOT NULL \
                 UNION SELECT o.organisation FROM operation_subjects os \
                   JOIN operation_roles o ON o.operation_id = os.operation_id \
                   WHERE os.subject_id = $1",
                params![id.to_string()],
            )
            .await?;
        let mut parties = vec![parse_column("subjects.organisation", &owner.organisation)?];
        for row in others {
            let org: OrgCode = parse_column("organisation", &row.organisation)?;
            if !parties.contains(&org) {
                parties.push(org);
            }
        }
        Ok(parties)
    }

    /// Every designation `id` has had, oldest first.
    pub async fn designations(&self, id: SubjectId) -> Result<Vec<Designation>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            level: String,
            basis: String,
            designated_by: String,
            designated_at: i64,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT level, basis, designated_by, designated_at FROM subject_designations \
                 WHERE subject_id = $1 ORDER BY designated_at, id",
                params![id.to_string()],
            )
            .await?;
        rows.into_iter()
            .map(|r| designation(&r.level, &r.basis, &r.designated_by, r.designated_at))
            .collect()
    }
}

impl WriteTx {
    /// Records a subject with its first designation.
    pub async fn insert_subject(
        &mut self,
        new: &NewSubject,
        by: UserId,
    ) -> Result<Subject, StoreError> {
        let id = SubjectId::new();
        let now = Timestamp::now();
        self.tx
            .execute(
                "INSERT INTO subjects (id, kind, name, organisation, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    id.to_string(),
                    new.kind.as_str(),
                    new.name.as_str(),
                    new.organisation.as_str(),
                    by.to_string(),
                    now.as_micros()
                ],
            )
            .await?;
        let designation = self.designate(id, new.level, &new.basis, by, now).await?;
        Ok(Subject {
            id,
            kind: new.kind,
            name: new.name.clone(),
            organisation: new.organisation.clone(),
            designation,
        })
    }

    /// Records a new designation of subject `id`; earlier ones stay on the record.
    pub async fn designate(
        &mut self,
        id: SubjectId,
        level: PriorityDesignation,
        basis: &DesignationBasis,
        by: UserId,
        at: Timestamp,
    ) -> Result<Designation, StoreError> {
        self.tx
            .execute(
                "INSERT INTO subject_designations (id, subject_id, level, basis, designated_by, \
                 designated_at) VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    uuid::Uuid::now_v7().to_string(),
                    id.to_string(),
                    level.as_str(),
                    basis.as_str(),
                    by.to_string(),
                    at.as_micros()
                ],
            )
            .await?;
        Ok(Designation {
            level,
            by,
            at,
            basis: basis.clone(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: String,
    title: String,
    kind: String,
    capability: Option<String>,
    requester: String,
    receiver: String,
    route: String,
    threat_areas: String,
    areas: String,
    international: i64,
    sophistication: String,
    urgency: String,
    case_text: String,
    state: String,
    raised_by: String,
    raised_at: i64,
    submitted_at: Option<i64>,
    respond_by: Option<i64>,
    overdue_at: Option<i64>,
}

macro_rules! requests_select {
    () => {
        "SELECT r.id, r.title, r.kind, r.capability, r.requester, \
     r.receiver, r.route, r.threat_areas, r.areas, r.international, r.sophistication, \
     r.urgency, r.case_text, r.state, r.raised_by, r.raised_at, r.submitted_at, \
     r.respond_by, r.overdue_at FROM requests r"
    };
}

impl RequestRow {
    fn into_domain(
        self,
        subjects: Vec<SubjectId>,
        registry: &ReferenceData,
    ) -> Result<Request, StoreError> {
        let areas = self
            .areas
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|a| parse_column::<OrgCode>("areas", a))
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Request {
            id: parse_column("id", &self.id)?,
            title: RequestTitle::parse(&self.title).map_err(corrupt)?,
            kind: RequestKind::parse(&self.kind, self.capability.as_deref(), registry)
                .map_err(corrupt)?,
            requester: parse_column("requester", &self.requester)?,
            receiver: parse_column("receiver", &self.receiver)?,
            route: from_json::<Route>("route", &self.route)?,
            threat_areas: ThreatAreas::parse_list(&self.threat_areas).map_err(corrupt)?,
            subjects,
            geography: Geography {
                areas,
                international: self.international != 0,
            },
            sophistication: parse_column("sophistication", &self.sophistication)?,
            urgency: parse_column("urgency", &self.urgency)?,
            case: CaseText::parse(&self.case_text).map_err(corrupt)?,
            state: parse_column::<RequestState>("state", &self.state)?,
            raised_by: parse_column("raised_by", &self.raised_by)?,
            raised_at: parse_instant("raised_at", self.raised_at)?,
            submitted_at: opt_instant("submitted_at", self.submitted_at)?,
            respond_by: opt_instant("respond_by", self.respond_by)?,
            overdue: self.overdue_at.is_some(),
        })
    }
}

async fn request_subjects(db: &mut Exec<'_>, id: &str) -> Result<Vec<SubjectId>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        subject_id: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            "SELECT subject_id FROM request_subjects WHERE request_id = $1 ORDER BY subject_id",
            params![id],
        )
        .await?;
    rows.iter()
        .map(|r| parse_column("subject_id", &r.subject_id))
        .collect()
}

async fn requests_in(
    db: &mut Exec<'_>,
    rows: Vec<RequestRow>,
    registry: &ReferenceData,
) -> Result<Vec<Request>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let subjects = request_subjects(db, &row.id).await?;
        out.push(row.into_domain(subjects, registry)?);
    }
    Ok(out)
}

async fn request_in(
    db: &mut Exec<'_>,
    id: RequestId,
    registry: &ReferenceData,
) -> Result<Request, StoreError> {
    let row: RequestRow = db
        .fetch_one(
            concat!(requests_select!(), " WHERE r.id = $1"),
            params![id.to_string()],
        )
        .await?;
    let mut found = requests_in(db, vec![row], registry).await?;
    found.pop().ok_or(StoreError::NotFound)
}

/// Which requests to list for an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBox {
    /// Requests it raised.
    Sent,
    /// Requests to it, or passing through it (drafts excluded).
    Received,
    /// Both.
    All,
}

/// One step in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RequestHistoryEntry {
    /// What happened: `raise`, `submit`, `start-assessment`, `accept`, `decline`,
    /// `withdraw`, `expire`, `overdue`.
    pub event: String,
    /// The state after it.
    pub state: RequestState,
    /// Who did it; none for the system.
    pub by: Option<UserId>,
    /// When.
    pub at: Timestamp,
    /// A note, if any.
    pub note: Option<String>,
}

impl Store {
    /// The request `id`.
    pub async fn request(
        &self,
        id: RequestId,
        registry: &ReferenceData,
    ) -> Result<Request, StoreError> {
        let mut reader = self.reader().await?;
        request_in(&mut reader.exec(), id, registry).await
    }

    /// The requests `organisation` sent or received, newest first. Optionally only
    /// those in `state`.
    pub async fn requests_for(
        &self,
        organisation: &OrgCode,
        which: RequestBox,
        state: Option<RequestState>,
        registry: &ReferenceData,
    ) -> Result<Vec<Request>, StoreError> {
        let mut reader = self.reader().await?;
        let (sent, received) = match which {
            RequestBox::Sent => (1, 0),
            RequestBox::Received => (0, 1),
            RequestBox::All => (1, 1),
        };
        let rows: Vec<RequestRow> = reader
            .fetch_all(
                concat!(requests_select!(),
                    " WHERE (($2 = 1 AND r.requester = $1) \
                        OR ($3 = 1 AND r.state <> 'draft' AND (r.receiver = $1 OR r.gateway = $1))) \
                     AND ($4 IS NULL OR r.state = $4) \
                     ORDER BY r.raised_at DESC, r.id DESC",
                ),
                params![
                    organisation.as_str(),
                    sent,
                    received,
                    state.map(RequestState::as_str)
                ],
            )
            .await?;
        requests_in(&mut reader.exec(), rows, registry).await
    }

    /// Every request, oldest first (for replaying the policy).
    pub async fn all_requests(&self, registry: &ReferenceData) -> Result<Vec<Request>, StoreError> {
        let mut reader = self.reader().await?;
        let rows: Vec<RequestRow> = reader
            .fetch_all(
                concat!(requests_select!(), " ORDER BY r.raised_at, r.id"),
                vec![],
            )
            .await?;
        requests_in(&mut reader.exec(), rows, registry).await
    }

    /// Open requests whose deadline passed before `before`: all of them, or only those
    /// not yet flagged overdue.
    pub async fn requests_past_deadline(
        &self,
        before: Timestamp,
        unflagged_only: bool,
        registry: &ReferenceData,
    ) -> Result<Vec<Request>, StoreError> {
        let mut reader = self.reader().await?;
        let rows: Vec<RequestRow> = reader
            .fetch_all(
                concat!(
                    requests_select!(),
                    " WHERE r.state IN ('submitted', 'under-assessment') \
                     AND r.respond_by < $1 AND ($2 = 0 OR r.overdue_at IS NULL) \
                     ORDER BY r.respond_by"
                ),
                params![before.as_micros(), i64::from(unflagged_only)],
            )
            .await?;
        requests_in(&mut reader.exec(), rows, registry).await
    }

    /// The latest request from `requester` to `receiver`, for the voluntary-route check
    /// of a direction (¶9).
    pub async fn latest_request_between(
        &self,
        requester: &OrgCode,
        receiver: &OrgCode,
        registry: &ReferenceData,
    ) -> Result<Option<Request>, StoreError> {
        let mut reader = self.reader().await?;
        let rows: Vec<RequestRow> = reader
            .fetch_all(
                concat!(
                    requests_select!(),
                    " WHERE r.requester = $1 AND r.receiver = $2 AND r.state <> 'draft' \
                     ORDER BY r.raised_at DESC, r.id DESC LIMIT 1",
                ),
                params![requester.as_str(), receiver.as_str()],
            )
            .await?;
        Ok(requests_in(&mut reader.exec(), rows, registry).await?.pop())
    }

    /// What has happened to request `id`, oldest first.
    pub async fn request_history(
        &self,
        id: RequestId,
    ) -> Result<Vec<RequestHistoryEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            event: String,
            state: String,
            by_user: Option<String>,
            at: i64,
            note: Option<String>,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT event, state, by_user, at, note FROM request_events \
                 WHERE request_id = $1 ORDER BY at, id",
                params![id.to_string()],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(RequestHistoryEntry {
                    event: r.event,
                    state: parse_column("state", &r.state)?,
                    by: r.by_user.map(|u| parse_column("by_user", &u)).transpose()?,
                    at: parse_instant("at", r.at)?,
                    note: r.note,
                })
            })
            .collect()
    }
}

/// The text of a request event, as its history shows it.
pub fn event_name(event: RequestEvent) -> &'static str {
    match event {
        RequestEvent::Submit => "submit",
        RequestEvent::StartAssessment => "start-assessment",
        RequestEvent::Accept => "accept",
        RequestEvent::Decline => "decline",
        RequestEvent::Withdraw => "withdraw",
        RequestEvent::Expire => "expire",
    }
}

impl WriteTx {
    /// Re-reads request `id` inside this change, to check it before changing it.
    pub async fn request(
        &mut self,
        id: RequestId,
        registry: &ReferenceData,
    ) -> Result<Request, StoreError> {
        request_in(&mut self.tx.exec(), id, registry).await
    }

    /// Stores a new request (in its first state) with its subjects.
    pub async fn insert_request(&mut self, request: &Request) -> Result<(), StoreError> {
        let areas = request
            .geography
            .areas
            .iter()
            .map(OrgCode::as_str)
            .collect::<Vec<_>>()
            .join(",");
        self.tx
            .execute(
                "INSERT INTO requests (id, title, kind, capability, requester, receiver, route, \
                 gateway, threat_areas, areas, international, sophistication, urgency, \
                 case_text, state, raised_by, raised_at, submitted_at, respond_by, overdue_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                 $14, $15, $16, $17, $18, $19, NULL, $17)",
                params![
                    request.id.to_string(),
                    request.title.as_str(),
                    request.kind.as_str(),
                    request.kind.capability(),
                    request.requester.as_str(),
                    request.receiver.as_str(),
                    to_json(&request.route)?,
                    request.route.gateway().map(OrgCode::as_str),
                    request.threat_areas.to_list(),
                    areas,
                    i64::from(request.geography.international),
                    request.sophistication.as_str(),
                    request.urgency.as_str(),
                    request.case.as_str(),
                    request.state.as_str(),
                    request.raised_by.to_string(),
                    request.raised_at.as_micros(),
                    request.submitted_at.map(Timestamp::as_micros),
                    request.respond_by.map(Timestamp::as_micros),
                ],
            )
            .await?;
        for subject in &request.subjects {
            self.tx
                .execute(
                    "INSERT INTO request_subjects (request_id, subject_id) VALUES ($1, $2)",
                    params![request.id.to_string(), subject.to_string()],
                )
                .await?;
        }
        self.request_event(
            request.id,
            "raise",
            request.state,
            Some(request.raised_by),
            None,
        )
        .await
    }

    /// Moves request `id` from `from` to `to`, if it is still in `from` (a concurrent
    /// change makes this a [`StoreError::Conflict`]), and records the event.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_request(
        &mut self,
        id: RequestId,
        from: RequestState,
        event: RequestEvent,
        by: Option<UserId>,
        note: Option<&str>,
        submitted: Option<(Timestamp, Timestamp)>,
    ) -> Result<RequestState, StoreError> {
        let to = from
            .apply(event)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let now = Timestamp::now();
        let (submitted_at, respond_by) = match submitted {
            Some((at, by)) => (Some(at.as_micros()), Some(by.as_micros())),
            None => (None, None),
        };
        let changed = self
            .tx
            .execute(
                "UPDATE requests SET state = $3, updated_at = $4, \
                 submitted_at = COALESCE($5, submitted_at), respond_by = COALESCE($6, respond_by) \
                 WHERE id = $1 AND state = $2",
                params![
                    id.to_string(),
                    from.as_str(),
                    to.as_str(),
                    now.as_micros(),
                    submitted_at,
                    respond_by
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "the request changed meanwhile; reload it and try again".to_owned(),
            ));
        }
        self.request_event(id, event_name(event), to, by, note)
            .await?;
        Ok(to)
    }

    /// Flags request `id` as overdue at `at`.
    pub async fn flag_overdue(
        &mut self,
        id: RequestId,
        state: RequestState,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE requests SET overdue_at = $2 WHERE id = $1 AND overdue_at IS NULL",
                params![id.to_string(), at.as_micros()],
            )
            .await?;
        if changed == 1 {
            self.request_event(id, "overdue", state, None, None).await?;
        }
        Ok(changed == 1)
    }

    async fn request_event(
        &mut self,
        id: RequestId,
        event: &str,
        state: RequestState,
        by: Option<UserId>,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO request_events (id, request_id, event, state, by_user, at, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![
                    uuid::Uuid::now_v7().to_string(),
                    id.to_string(),
                    event,
                    state.as_str(),
                    by.map(|u| u.to_string()),
                    Timestamp::now().as_micros(),
                    note
                ],
            )
            .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------------------

/// A decision with the operation it created or joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DecisionRecord {
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
    /// The operation it created or joined, when accepted.
    pub operation: Option<OperationId>,
    /// Whether a later decision supersedes it.
    pub superseded: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    id: String,
    request_id: String,
    outcome: String,
    roles: Option<String>,
    referral: Option<String>,
    rationale: String,
    recommendation: String,
    agency_role: String,
    departure_reason: Option<String>,
    charging: String,
    operation_id: Option<String>,
    decided_by: String,
    decided_at: i64,
    supersedes: Option<String>,
    superseded: i64,
}

impl DecisionRow {
    pub(crate) fn into_domain(self) -> Result<DecisionRecord, StoreError> {
        Ok(DecisionRecord {
            decision: Decision {
                id: parse_column("id", &self.id)?,
                request: parse_column("request_id", &self.request_id)?,
                outcome: parse_column("outcome", &self.outcome)?,
                roles: self.roles.map(|r| from_json("roles", &r)).transpose()?,
                referral: self
                    .referral
                    .map(|r| parse_column("referral", &r))
                    .transpose()?,
                rationale: from_json("rationale", &self.rationale)?,
                recommendation: from_json("recommendation", &self.recommendation)?,
                agency_role: parse_column("agency_role", &self.agency_role)?,
                departure_reason: self
                    .departure_reason
                    .map(|r| from_json("departure_reason", &r))
                    .transpose()?,
                charging: from_json("charging", &self.charging)?,
                decided_by: parse_column("decided_by", &self.decided_by)?,
                decided_at: parse_instant("decided_at", self.decided_at)?,
                supersedes: self
                    .supersedes
                    .map(|s| parse_column("supersedes", &s))
                    .transpose()?,
            },
            operation: self
                .operation_id
                .map(|o| parse_column("operation_id", &o))
                .transpose()?,
            superseded: self.superseded != 0,
        })
    }
}

macro_rules! decisions_select {
    () => {
        "SELECT d.id, d.request_id, d.outcome, d.roles, d.referral, \
     d.rationale, d.recommendation, d.agency_role, d.departure_reason, d.charging, \
     d.operation_id, d.decided_by, d.decided_at, d.supersedes, \
     (SELECT COUNT(*) FROM decisions later WHERE later.supersedes = d.id) AS superseded \
     FROM decisions d"
    };
}
pub(crate) use decisions_select;

async fn decisions_in(
    db: &mut Exec<'_>,
    request: RequestId,
) -> Result<Vec<DecisionRecord>, StoreError> {
    let rows: Vec<DecisionRow> = db
        .fetch_all(
            concat!(
                decisions_select!(),
                " WHERE d.request_id = $1 ORDER BY d.decided_at, d.id",
            ),
            params![request.to_string()],
        )
        .await?;
    rows.into_iter().map(DecisionRow::into_domain).collect()
}

impl Store {
    /// The decisions on request `request`, oldest first.
    pub async fn decisions(&self, request: RequestId) -> Result<Vec<DecisionRecord>, StoreError> {
        let mut reader = self.reader().await?;
        decisions_in(&mut reader.exec(), request).await
    }

    /// The decision in force on every decided request, oldest request first (for
    /// replaying the policy).
    pub async fn current_decisions(&self) -> Result<Vec<DecisionRecord>, StoreError> {
        let rows: Vec<DecisionRow> = self
            .reader()
            .await?
            .fetch_all(
                concat!(
                    decisions_select!(),
                    " WHERE NOT EXISTS (SELECT 1 FROM decisions later \
                        WHERE later.supersedes = d.id) ORDER BY d.decided_at, d.id",
                ),
                vec![],
            )
            .await?;
        rows.into_iter().map(DecisionRow::into_domain).collect()
    }
}

impl WriteTx {
    /// The decisions on `request`, read inside this change.
    pub async fn decisions(
        &mut self,
        request: RequestId,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        decisions_in(&mut self.tx.exec(), request).await
    }

    /// Records a decision. Superseding a decision that is already superseded is a
    /// [`StoreError::Conflict`].
    pub async fn insert_decision(
        &mut self,
        decision: &Decision,
        operation: Option<OperationId>,
    ) -> Result<(), StoreError> {
        let inserted = self
            .tx
            .execute(
                "INSERT INTO decisions (id, request_id, outcome, roles, referral, rationale, \
                 recommendation, agency_role, departure_reason, charging, operation_id, \
                 decided_by, decided_at, supersedes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14)",
                params![
                    decision.id.to_string(),
                    decision.request.to_string(),
                    decision.outcome.as_str(),
                    decision.roles.as_ref().map(to_json).transpose()?,
                    decision.referral.as_ref().map(OrgCode::as_str),
                    to_json(&decision.rationale)?,
                    to_json(&decision.recommendation)?,
                    decision.agency_role.as_str(),
                    decision
                        .departure_reason
                        .as_ref()
                        .map(to_json)
                        .transpose()?,
                    to_json(&decision.charging)?,
                    operation.map(|o| o.to_string()),
                    decision.decided_by.to_string(),
                    decision.decided_at.as_micros(),
                    decision.supersedes.map(|d| d.to_string()),
                ],
            )
            .await;
        if let Err(StoreError::Conflict(_)) = inserted {
            return Err(StoreError::Conflict(
                "that decision has already been superseded".to_owned(),
            ));
        }
        inserted.map(|_| ())
    }
}

// ---------------------------------------------------------------------------------------
// Charging exceptions (¶10)
// ---------------------------------------------------------------------------------------

/// A proposed exception to free-of-charge support, and its agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChargingProposal {
    /// The request.
    pub request: RequestId,
    /// The terms proposed.
    pub terms: String,
    /// Who proposed them.
    pub proposed_by: UserId,
    /// For which side.
    #[schema(value_type = String)]
    pub proposed_side: OrgCode,
    /// When.
    pub proposed_at: Timestamp,
    /// Who on the other side agreed, if anyone has.
    pub agreed_by: Option<UserId>,
    /// When.
    pub agreed_at: Option<Timestamp>,
}

impl Store {
    /// The charging proposal on `request`, if any.
    pub async fn charging_proposal(
        &self,
        request: RequestId,
    ) -> Result<Option<ChargingProposal>, StoreError> {
        let mut reader = self.reader().await?;
        charging_in(&mut reader.exec(), request).await
    }
}

async fn charging_in(
    db: &mut Exec<'_>,
    request: RequestId,
) -> Result<Option<ChargingProposal>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        terms: String,
        proposed_by: String,
        proposed_side: String,
        proposed_at: i64,
        agreed_by: Option<String>,
        agreed_at: Option<i64>,
    }
    let row: Option<Row> = db
        .fetch_optional(
            "SELECT terms, proposed_by, proposed_side, proposed_at, agreed_by, agreed_at \
             FROM charging_exceptions WHERE request_id = $1",
            params![request.to_string()],
        )
        .await?;
    row.map(|r| {
        Ok(ChargingProposal {
            request,
            terms: r.terms,
            proposed_by: parse_column("proposed_by", &r.proposed_by)?,
            proposed_side: parse_column("proposed_side", &r.proposed_side)?,
            proposed_at: parse_instant("proposed_at", r.proposed_at)?,
            agreed_by: r
                .agreed_by
                .map(|a| parse_column("agreed_by", &a))
                .transpose()?,
            agreed_at: opt_instant("agreed_at", r.agreed_at)?,
        })
    })
    .transpose()
}

impl WriteTx {
    /// The charging proposal on `request`, read inside this change.
    pub async fn charging_proposal(
        &mut self,
        request: RequestId,
    ) -> Result<Option<ChargingProposal>, StoreError> {
        charging_in(&mut self.tx.exec(), request).await
    }

    /// Proposes (or replaces an unagreed proposal of) a charging exception.
    pub async fn propose_charging(
        &mut self,
        request: RequestId,
        terms: &str,
        by: UserId,
        side: &OrgCode,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        self.tx
            .execute(
                "DELETE FROM charging_exceptions WHERE request_id = $1 AND agreed_by IS NULL",
                params![request.to_string()],
            )
            .await?;
        let inserted = self
            .tx
            .execute(
                "INSERT INTO charging_exceptions (request_id, terms, proposed_by, proposed_side, \
                 proposed_at) VALUES ($1, $2, $3, $4, $5)",
                params![
                    request.to_string(),
                    terms,
                    by.to_string(),
                    side.as_str(),
                    now
                ],
            )
            .await;
        if let Err(StoreError::Conflict(_)) = inserted {
            return Err(StoreError::Conflict(
                "a charging exception is already agreed on this request".to_owned(),
            ));
        }
        inserted.map(|_| ())
    }

    /// Records the other side's agreement to the proposal.
    pub async fn agree_charging(
        &mut self,
        request: RequestId,
        by: UserId,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE charging_exceptions SET agreed_by = $2, agreed_at = $3 \
                 WHERE request_id = $1 AND agreed_by IS NULL",
                params![
                    request.to_string(),
                    by.to_string(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
