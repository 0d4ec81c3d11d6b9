//! Intelligence handling shared by the API and the command line: graded intelligence
//! records, the markings of every sensitive record, and need-to-know shares.
//!
//! Who may see what is decided by [`crate::authz`]; this module adds the rules of
//! changing a marking (only a party, never above the marker's own clearance) and of
//! sharing (a recorded decision with a reason and an expiry; handling code C is never
//! shared onwards).

use crate::AppState;
use crate::auth::Authenticated;
use crate::authz;
use crate::error::AppError;
use crate::tasking::require_any;
use concordat_domain::audit::{AuditEntry, RecordRef};
use concordat_domain::handling::{
    Access, Grading, HandlingConditions, Intelligence, IntelligenceId, IntelligenceText,
    IntelligenceTitle, Marking, RecordKind, Share, ShareReason, may_share,
};
use concordat_domain::people::Role;
use concordat_domain::registry::OrgCode;
use concordat_domain::subject::SubjectId;
use concordat_domain::time::Timestamp;
use concordat_store::{ShareRecord, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The roles that record intelligence.
const RECORDERS: &[Role] = &[Role::Analyst, Role::TaskingOfficer, Role::CaseOfficer];

/// Refuses a marking above the user's own clearance: they could not read what they
/// marked.
pub fn check_marking_within_clearance(
    who: &Authenticated,
    marking: &Marking,
) -> Result<(), AppError> {
    if who.user.clearance.permits(marking.classification) {
        Ok(())
    } else {
        Err(AppError::field(
            "marking.classification",
            format!(
                "your vetting ({}) does not cover {}",
                who.user.clearance,
                marking.banner()
            ),
        ))
    }
}

/// Marks a new record inside the transaction that creates it, so that it is never
/// stored for a moment under a lower marking. OFFICIAL needs no row.
pub async fn mark_new(
    tx: &mut WriteTx,
    who: &Authenticated,
    kind: RecordKind,
    id: &str,
    marking: &Marking,
) -> Result<(), AppError> {
    check_marking_within_clearance(who, marking)?;
    if *marking != Marking::official() {
        tx.set_marking(kind, id, marking, who.user.id, Timestamp::now())
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Intelligence records
// ---------------------------------------------------------------------------------------

/// An intelligence record to keep.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntelligenceInput {
    /// What it is about.
    pub title: IntelligenceTitle,
    /// The intelligence, sanitised of its source.
    pub text: IntelligenceText,
    /// Its 3x5x2 grading, or a 5x5x5 grading exactly as given.
    pub grading: Grading,
    /// The subject it concerns (one the organisation may see).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub subject: Option<SubjectId>,
    /// Its protective marking; OFFICIAL if absent.
    #[serde(default)]
    pub marking: Marking,
}

/// An intelligence record as a reader sees it: with its marking, how they come to see
/// it, and the handling conditions they must follow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntelligenceView {
    /// The record.
    #[serde(flatten)]
    pub intelligence: Intelligence,
    /// Its marking.
    pub marking: Marking,
    /// The banner to print with it.
    pub banner: String,
    /// The grade as written (`1A P`).
    pub grade: String,
    /// Handling code C's conditions, which the reader must follow.
    pub conditions: Option<HandlingConditions>,
    /// When the reader's organisation sees it by a share, when that share lapses.
    pub shared_until: Option<Timestamp>,
}

impl IntelligenceView {
    fn new(intelligence: Intelligence, marking: Marking, access: Access) -> Self {
        Self {
            banner: marking.banner(),
            grade: intelligence.grading.code(),
            conditions: intelligence.grading.conditions().cloned(),
            shared_until: match access {
                Access::Party => None,
                Access::Shared { until } => Some(until),
            },
            intelligence,
            marking,
        }
    }
}

/// Records an intelligence record for the user's organisation.
pub async fn record_intelligence(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    input: NewIntelligenceInput,
) -> Result<IntelligenceView, AppError> {
    require_any(who, RECORDERS)?;
    if let Some(subject) = input.subject {
        authz::require(state, who, RecordKind::Subject, &subject.to_string())
            .await
            .map_err(|_| {
                AppError::field(
                    "subject",
                    format!("there is no subject `{subject}` your organisation can see"),
                )
            })?;
    }
    let record = Intelligence {
        id: IntelligenceId::new(),
        organisation: who.user.organisation.clone(),
        title: input.title,
        text: input.text,
        grading: input.grading,
        subject: input.subject,
        recorded_by: who.user.id,
        recorded_at: Timestamp::now(),
    };
    let id = record.id.to_string();
    let mut tx = state.store.write().await?;
    tx.insert_intelligence(&record).await?;
    mark_new(&mut tx, who, RecordKind::Intelligence, &id, &input.marking).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "intelligence.record")
            .record(RecordRef::new("intelligence", &id))
            .source(source)
            .detail(json!({ "grade": record.grading.code(), "marking": input.marking.banner() })),
    )
    .await?;
    Ok(IntelligenceView::new(record, input.marking, Access::Party))
}

/// The intelligence record `id`, if the user may see it.
pub async fn intelligence(
    state: &AppState,
    who: &Authenticated,
    id: IntelligenceId,
) -> Result<IntelligenceView, AppError> {
    let key = id.to_string();
    let access = authz::require(state, who, RecordKind::Intelligence, &key).await?;
    let record = state.store.intelligence(id).await?;
    let marking = state.store.marking(RecordKind::Intelligence, &key).await?;
    Ok(IntelligenceView::new(record, marking, access))
}

/// The intelligence records the user's organisation recorded or holds by a share, that
/// the user may see, newest first.
pub async fn intelligence_list(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<IntelligenceView>, AppError> {
    require_any(who, crate::tasking::READERS)?;
    let own = state.store.intelligence_of(&who.user.organisation).await?;
    let visible = authz::retain_visible(
        state,
        who,
        RecordKind::Intelligence,
        own,
        |i| i.id.to_string(),
        |id| async move { Ok(state.store.intelligence(crate::api::path_id(&id)?).await?) },
    )
    .await?;
    let markings = state.store.markings_of(RecordKind::Intelligence).await?;
    let mut views = Vec::with_capacity(visible.len());
    for record in visible {
        let key = record.id.to_string();
        let marking = markings.get(&key).cloned().unwrap_or_default();
        let access = if record.organisation == who.user.organisation {
            Access::Party
        } else {
            authz::require(state, who, RecordKind::Intelligence, &key).await?
        };
        views.push(IntelligenceView::new(record, marking, access));
    }
    Ok(views)
}

// ---------------------------------------------------------------------------------------
// Markings
// ---------------------------------------------------------------------------------------

/// A record's marking, as shown with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarkingView {
    /// The kind of record.
    pub kind: RecordKind,
    /// The record.
    pub id: String,
    /// Its marking.
    pub marking: Marking,
    /// The banner to print with it.
    pub banner: String,
}

/// The marking of record `id` of `kind`, if the user may see the record.
pub async fn marking(
    state: &AppState,
    who: &Authenticated,
    kind: RecordKind,
    id: &str,
) -> Result<MarkingView, AppError> {
    authz::require(state, who, kind, id).await?;
    let marking = state.store.marking(kind, id).await?;
    Ok(MarkingView {
        kind,
        id: id.to_owned(),
        banner: marking.banner(),
        marking,
    })
}

/// Re-marks record `id` of `kind`. Only a party re-marks a record, never above the
/// marker's own clearance; the old and new markings are in the audit log.
pub async fn remark(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    kind: RecordKind,
    id: &str,
    marking: Marking,
) -> Result<MarkingView, AppError> {
    if authz::require(state, who, kind, id).await? != Access::Party {
        return Err(AppError::Forbidden(
            "only an organisation party to the record changes its marking".to_owned(),
        ));
    }
    check_marking_within_clearance(who, &marking)?;
    let mut tx = state.store.write().await?;
    let before = tx.marking(kind, id).await?;
    tx.set_marking(kind, id, &marking, who.user.id, Timestamp::now())
        .await?;
    tx.commit(
        AuditEntry::new(who.actor(), "record.mark")
            .record(RecordRef::new(kind.as_str(), id))
            .source(source)
            .detail(json!({ "from": before.banner(), "to": marking.banner() })),
    )
    .await?;
    Ok(MarkingView {
        kind,
        id: id.to_owned(),
        banner: marking.banner(),
        marking,
    })
}

// ---------------------------------------------------------------------------------------
// Shares
// ---------------------------------------------------------------------------------------

/// A share to make.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareInput {
    /// The organisation to share with.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// Why it needs to know.
    pub reason: ShareReason,
    /// When the share lapses (RFC 3339).
    pub expires_at: Timestamp,
}

/// Whether records of `kind` can be shared. A deconfliction registration never is: the
/// other side learns of a match, never the record. A direction goes to its recipient by
/// being issued, not by a share.
fn shareable(kind: RecordKind) -> bool {
    !matches!(kind, RecordKind::Registration | RecordKind::Direction)
}

/// The shares of record `id` of `kind` the user may know of: every share, for a party;
/// only the share with their own organisation, for a recipient.
pub async fn shares(
    state: &AppState,
    who: &Authenticated,
    kind: RecordKind,
    id: &str,
) -> Result<Vec<ShareRecord>, AppError> {
    let access = authz::require(state, who, kind, id).await?;
    let all = state.store.shares(kind, id).await?;
    Ok(match access {
        Access::Party => all,
        Access::Shared { .. } => all
            .into_iter()
            .filter(|s| s.share.organisation == who.user.organisation)
            .collect(),
    })
}

/// Shares record `id` of `kind` with another organisation, for a reason, until an
/// expiry: an explicit, audited act. Handling code C is never shared onwards.
pub async fn share(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    kind: RecordKind,
    id: &str,
    input: NewShareInput,
) -> Result<ShareRecord, AppError> {
    let access = authz::require(state, who, kind, id).await?;
    if !shareable(kind) {
        return Err(AppError::Conflict(format!(
            "a {kind} is not shared: {}",
            if kind == RecordKind::Registration {
                "the other side of a match learns of the match, never the record"
            } else {
                "a direction reaches its recipient when it is issued"
            }
        )));
    }
    if state
        .rules
        .registry
        .organisation(&input.organisation)
        .is_none()
    {
        return Err(AppError::field(
            "organisation",
            format!("there is no organisation `{}`", input.organisation),
        ));
    }
    let protection = authz::protection(state, kind, id).await?;
    let grading = match kind {
        RecordKind::Intelligence => Some(
            state
                .store
                .intelligence(crate::api::path_id(id)?)
                .await?
                .grading,
        ),
        _ => None,
    };
    let now = Timestamp::now();
    // Every organisation in the registry is a United Kingdom body.
    may_share(
        access,
        &protection,
        grading.as_ref(),
        &input.organisation,
        true,
        input.expires_at,
        now,
    )
    .map_err(|refusal| match refusal {
        concordat_domain::handling::ShareRefusal::ExpiryPassed
        | concordat_domain::handling::ShareRefusal::BeyondOwnShare => {
            AppError::field("expires_at", refusal.to_string())
        }
        concordat_domain::handling::ShareRefusal::AlreadyParty => {
            AppError::field("organisation", refusal.to_string())
        }
        other => AppError::Forbidden(other.to_string()),
    })?;
    let record = ShareRecord {
        id: uuid::Uuid::now_v7(),
        record_kind: kind,
        record_id: id.to_owned(),
        share: Share {
            organisation: input.organisation,
            expires_at: input.expires_at,
            revoked_at: None,
        },
        reason: input.reason,
        shared_by: who.user.id,
        shared_by_organisation: who.user.organisation.clone(),
        shared_at: now,
    };
    let mut tx = state.store.write().await?;
    tx.insert_share(&record).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "record.share")
            .record(RecordRef::new(kind.as_str(), id))
            .source(source)
            .detail(json!({
                "share": record.id,
                "with": record.share.organisation,
                "until": record.share.expires_at,
                "reason": record.reason,
            })),
    )
    .await?;
    Ok(record)
}

/// Revokes share `id`: the organisation that made it may, and only while the user can
/// still see the record.
pub async fn revoke_share(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: uuid::Uuid,
) -> Result<ShareRecord, AppError> {
    require_any(who, crate::authz::MARKERS)?;
    let share = state.store.share(id).await?;
    if share.shared_by_organisation != who.user.organisation {
        return Err(AppError::NotFound);
    }
    authz::require(state, who, share.record_kind, &share.record_id).await?;
    let mut tx = state.store.write().await?;
    if !tx.revoke_share(id, who.user.id, Timestamp::now()).await? {
        return Err(AppError::Conflict(
            "the share is already revoked".to_owned(),
        ));
    }
    tx.commit(
        AuditEntry::new(who.actor(), "record.share-revoke")
            .record(RecordRef::new(share.record_kind.as_str(), &share.record_id))
            .source(source)
            .detail(json!({ "share": id, "with": share.share.organisation })),
    )
    .await?;
    Ok(state.store.share(id).await?)
}
