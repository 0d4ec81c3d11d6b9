//! Event deconfliction (DESIGN part 8): planning activity, finding clashes with other
//! organisations' activity in the spatial-temporal index, alerting both sides at once,
//! escalating what no one acknowledges, and the national 24/7 watch queue.
//!
//! The rules are `concordat_domain::events`; the index is `concordat_matching::events`,
//! held in memory and rebuilt from the store the first time it is needed. Activity is
//! seen only by its own organisation and the national watch; the other side of a clash
//! learns only what `told_of` allows.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::notify::Notice;
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::deconfliction::PointOfContact;
use concordat_domain::events::{
    ActivityId, ActivityKind, ActivityState, ActivityTitle, ClashId, ClashNote, ClashResolution,
    OtherActivity, Place, PlannedActivity, TimeWindow, told_of,
};
use concordat_domain::notification::NoticeKind;
use concordat_domain::operation::OperationId;
use concordat_domain::people::{Classification, Role};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_matching::events::{Activity, EventIndex, LatLon, geodesic_distance_m};
use concordat_store::{NewActivity, Store, StoredActivity, StoredClash, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::RwLock;
use utoipa::ToSchema;

/// Who plans activity for their organisation.
pub(crate) const PLANNERS: &[Role] = &[Role::CaseOfficer, Role::TaskingOfficer, Role::ControlRoom];

/// Who reads planned activity and clashes: casework roles and the control room.
pub(crate) const READERS: &[Role] = &[
    Role::TaskingOfficer,
    Role::CaseOfficer,
    Role::Analyst,
    Role::GroupChair,
    Role::SeniorDecisionMaker,
    Role::Viewer,
    Role::ControlRoom,
];

/// Who is alerted to a clash on their organisation's activity.
const ALERTED: &[Role] = &[Role::CaseOfficer, Role::TaskingOfficer];

/// The in-memory index of planned activity and what it needs to know of each entry.
#[derive(Default)]
pub struct Events {
    index: RwLock<Indexed>,
    loaded: tokio::sync::OnceCell<()>,
    /// One plan or change at a time, so two clashing plans entered at once see each other.
    planning: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Indexed {
    index: EventIndex,
    /// Index number -> (activity, organisation).
    entries: HashMap<u64, (ActivityId, OrgCode)>,
    /// Activity -> index number.
    seqs: HashMap<ActivityId, u64>,
    /// The last activity change (`change_seq`) the index has taken in.
    change: i64,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("activities", &self.len())
            .finish()
    }
}

fn poisoned() -> AppError {
    AppError::Internal(anyhow::anyhow!("the event index lock is poisoned"))
}

fn entry_of(activity: &PlannedActivity) -> Activity {
    Activity {
        at: LatLon {
            lat: activity.place.position.latitude,
            lon: activity.place.position.longitude,
        },
        reach_m: f64::from(activity.place.accuracy_m),
        starts: activity.window.starts_at.as_micros(),
        ends: activity.window.ends_at.as_micros(),
    }
}

fn seq_of(stored: &StoredActivity) -> u64 {
    u64::try_from(stored.seq).unwrap_or_default()
}

impl Events {
    /// How many activities the index holds.
    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.index.len()).unwrap_or(0)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads every planned activity that has not ended from the store, page by page,
    /// telling `progress` how many are in. Called at start-up (and by the first use).
    pub async fn rebuild(
        &self,
        store: &Store,
        mut progress: impl FnMut(u64),
    ) -> Result<usize, AppError> {
        let now = Timestamp::now();
        // Changes after this one are caught up later (see `catch_up`); those before it
        // are in the pages read below.
        let change = store.last_activity_change().await?;
        let mut all = Vec::new();
        let mut entries = HashMap::new();
        let mut seqs = HashMap::new();
        let mut after = 0;
        loop {
            let page = store.planned_activity_page(now, after, 20_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for stored in page {
                let seq = seq_of(&stored);
                all.push((seq, entry_of(&stored.activity)));
                entries.insert(
                    seq,
                    (stored.activity.id, stored.activity.organisation.clone()),
                );
                seqs.insert(stored.activity.id, seq);
            }
            progress(all.len() as u64);
        }
        let count = all.len();
        {
            let mut index = self.index.write().map_err(|_| poisoned())?;
            *index = Indexed {
                index: EventIndex::bulk(all),
                entries,
                seqs,
                change,
            };
        }
        let _ = self.loaded.set(());
        Ok(count)
    }

    /// The index, loaded from `store` if this is its first use, held for one plan or
    /// change at a time.
    async fn planning_lock(
        &self,
        store: &Store,
    ) -> Result<tokio::sync::MutexGuard<'_, ()>, AppError> {
        self.loaded
            .get_or_try_init(|| async {
                self.rebuild(store, |_| {}).await?;
                Ok::<(), AppError>(())
            })
            .await?;
        Ok(self.planning.lock().await)
    }

    /// Other organisations' planned activity that may clash with `footprint`: within
    /// the clash distance (allowing for accuracy) and the time margin. With distances.
    fn candidates(
        &self,
        activity: &PlannedActivity,
        rules: &concordat_domain::events::ClashRules,
    ) -> Result<Vec<(ActivityId, f64)>, AppError> {
        let index = self.index.read().map_err(|_| poisoned())?;
        let margin = rules.margin().as_micros() as i64;
        let entry = entry_of(activity);
        let found = index.index.within(
            entry.at,
            f64::from(rules.distance_m) + entry.reach_m,
            entry.starts.saturating_sub(margin),
            entry.ends.saturating_add(margin),
            |seq| {
                index
                    .entries
                    .get(&seq)
                    .is_none_or(|(id, org)| *org == activity.organisation || *id == activity.id)
            },
        );
        Ok(found
            .into_iter()
            .filter_map(|n| index.entries.get(&n.id).map(|(id, _)| (*id, n.distance_m)))
            .collect())
    }

    /// Takes in what any node planned, moved or cancelled since the index last looked,
    /// read inside `tx`: since writes are serialised, the check that follows sees every
    /// activity committed before it, whichever node wrote it.
    async fn catch_up(&self, tx: &mut WriteTx) -> Result<(), AppError> {
        let after = self.index.read().map_err(|_| poisoned())?.change;
        let now = Timestamp::now();
        for (stored, change) in tx.activities_changed_after(after).await? {
            let live = stored.activity.state == ActivityState::Planned
                && stored.activity.window.ends_at > now;
            if live {
                self.put(&stored)?;
            } else {
                self.take(stored.activity.id)?;
            }
            let mut index = self.index.write().map_err(|_| poisoned())?;
            index.change = index.change.max(change);
        }
        Ok(())
    }

    fn put(&self, stored: &StoredActivity) -> Result<(), AppError> {
        let mut index = self.index.write().map_err(|_| poisoned())?;
        let seq = seq_of(stored);
        index.index.insert(seq, entry_of(&stored.activity));
        index.entries.insert(
            seq,
            (stored.activity.id, stored.activity.organisation.clone()),
        );
        index.seqs.insert(stored.activity.id, seq);
        Ok(())
    }

    fn take(&self, id: ActivityId) -> Result<(), AppError> {
        let mut index = self.index.write().map_err(|_| poisoned())?;
        if let Some(seq) = index.seqs.remove(&id) {
            index.index.remove(seq);
            index.entries.remove(&seq);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Inputs and views
// ---------------------------------------------------------------------------------------

/// Planned activity as entered.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// What kind of activity.
    pub kind: ActivityKind,
    /// What it is, for the organisation's own people.
    pub title: ActivityTitle,
    /// Where: a WGS84 position (required), its accuracy, the address and postcode.
    pub place: Place,
    /// When.
    pub window: TimeWindow,
    /// Who to call about it.
    pub point_of_contact: PointOfContact,
    /// Whether it is covert.
    #[serde(default)]
    pub covert: bool,
    /// The operation it belongs to.
    #[serde(default)]
    pub operation: Option<OperationId>,
    /// For a 24/7 control room entering it for an officer without access: the
    /// organisation carrying it out (the national control room, any; another, its own).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub on_behalf_of: Option<OrgCode>,
}

/// A move or re-timing of planned activity.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    /// Where now.
    pub place: Place,
    /// When now.
    pub window: TimeWindow,
}

/// A clash as one side sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClashView {
    /// The clash.
    pub id: ClashId,
    /// The reader's own activity.
    pub activity: ActivityId,
    /// Its deconfliction reference.
    pub reference: String,
    /// What the reader is told of the other activity.
    pub other: OtherActivity,
    /// When it was found.
    pub found_at: Timestamp,
    /// Whether the reader's side has acknowledged it.
    pub acknowledged: bool,
    /// When it went to the 24/7 contacts, if it did.
    pub escalated_at: Option<Timestamp>,
    /// How the watch resolved it.
    pub resolution: Option<ClashResolution>,
    /// Whether it is still a clash (false once an activity is cancelled or moved away).
    pub live: bool,
}

/// What planning activity answers: the activity under its reference, and any clashes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanOutcome {
    /// The activity as stored, with its deconfliction reference.
    pub activity: PlannedActivity,
    /// The clashes it raised: both sides have been alerted.
    pub clashes: Vec<ClashView>,
    /// Whether it came with less notice than the rules ask.
    pub late_notice: bool,
}

/// A clash as the national watch sees it: both sides in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WatchClash {
    /// The clash as stored.
    pub id: ClashId,
    /// One activity.
    pub low: PlannedActivity,
    /// The other.
    pub high: PlannedActivity,
    /// The distance between their positions, in metres.
    pub distance_m: i64,
    /// When it was found.
    pub found_at: Timestamp,
    /// Whether each side has acknowledged it.
    pub acknowledged: [bool; 2],
    /// When it was escalated.
    pub escalated_at: Option<Timestamp>,
    /// The watch officer who owns it.
    pub owner: Option<String>,
    /// How it was resolved.
    pub resolution: Option<ClashResolution>,
    /// The resolution note.
    pub resolution_note: Option<ClashNote>,
    /// Whether it is still a clash.
    pub live: bool,
}

/// How a watch officer closes a clash.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClashResolutionInput {
    /// What it came to.
    pub resolution: ClashResolution,
    /// What was done.
    pub note: ClashNote,
}

// ---------------------------------------------------------------------------------------
// Access
// ---------------------------------------------------------------------------------------

use crate::tasking::require_any;

fn watch_only() -> AppError {
    AppError::Forbidden("only the national 24/7 watch (control room) does this".to_owned())
}

/// Refuses anyone who does not keep the national 24/7 watch.
pub fn require_watch(who: &Authenticated) -> Result<(), AppError> {
    if on_the_watch(who) {
        Ok(())
    } else {
        Err(watch_only())
    }
}

/// Whether `who` keeps the national 24/7 watch.
fn on_the_watch(who: &Authenticated) -> bool {
    who.in_national_agency() && who.user.has_role(Role::ControlRoom)
}

/// The organisation `who` plans for: their own, or (a control room) the one they enter
/// it for.
fn planning_for(who: &Authenticated, on_behalf_of: Option<&OrgCode>) -> Result<OrgCode, AppError> {
    match on_behalf_of {
        None => Ok(who.user.organisation.clone()),
        Some(org) if *org == who.user.organisation => Ok(org.clone()),
        Some(org) if on_the_watch(who) => Ok(org.clone()),
        Some(_) => Err(AppError::field(
            "on_behalf_of",
            "only the national 24/7 control room enters activity for another organisation",
        )),
    }
}

/// Activity `id`, if `who`'s organisation carries it out or `who` keeps the watch;
/// otherwise not found.
async fn own_activity(
    state: &AppState,
    who: &Authenticated,
    id: ActivityId,
) -> Result<StoredActivity, AppError> {
    let stored = state.store.activity(id).await?;
    if stored.activity.organisation == who.user.organisation || on_the_watch(who) {
        Ok(stored)
    } else {
        Err(AppError::NotFound)
    }
}

// ---------------------------------------------------------------------------------------
// Planning, changing, cancelling
// ---------------------------------------------------------------------------------------

/// Plans activity and checks it at once against every other organisation's: the
/// answer carries its deconfliction reference and any clashes, and both sides of each
/// clash are alerted in the same transaction.
pub async fn plan(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    input: PlanInput,
) -> Result<PlanOutcome, AppError> {
    require_any(who, PLANNERS)?;
    let organisation = planning_for(who, input.on_behalf_of.as_ref())?;
    if organisation != who.user.organisation
        && state.store.organisation(&organisation).await.is_err()
    {
        return Err(AppError::field("on_behalf_of", "no such organisation"));
    }
    if let Some(operation) = input.operation {
        crate::authz::require(
            state,
            who,
            concordat_domain::handling::RecordKind::Operation,
            &operation.to_string(),
        )
        .await
        .map_err(|_| AppError::field("operation", "no such operation visible to you"))?;
    }
    let events = state.events.clone();
    let _planning = events.planning_lock(&state.store).await?;
    let rules = state.config.clash_rules;
    let now = Timestamp::now();
    let late_notice = rules.late_notice(now, &input.window);
    let mut tx = state.store.write().await?;
    events.catch_up(&mut tx).await?;
    let stored = tx
        .insert_activity(&NewActivity {
            organisation,
            operation: input.operation,
            kind: input.kind,
            title: input.title,
            place: input.place,
            window: input.window,
            point_of_contact: input.point_of_contact,
            covert: input.covert,
            late_notice,
            entered_by: who.user.id,
        })
        .await?;
    let raised = raise_clashes(state, &mut tx, &stored.activity, source).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "activity.plan")
            .record(RecordRef::new("activity", stored.activity.id))
            .source(source)
            .detail(json!({
                "reference": stored.activity.reference,
                "organisation": stored.activity.organisation,
                "kind": stored.activity.kind,
                "late_notice": late_notice,
                "clashes": raised.len(),
            })),
    )
    .await?;
    events.put(&stored)?;
    let clashes = raised
        .into_iter()
        .map(|(clash, theirs, distance)| ClashView {
            id: clash,
            activity: stored.activity.id,
            reference: stored.activity.reference.to_string(),
            other: told_of(&theirs, distance),
            found_at: now,
            acknowledged: false,
            escalated_at: None,
            resolution: None,
            live: true,
        })
        .collect();
    Ok(PlanOutcome {
        activity: stored.activity,
        clashes,
        late_notice,
    })
}

/// Finds and records the clashes of `mine`, alerting both sides and auditing each
/// disclosure. Returns the new clashes with the other activity and the distance.
async fn raise_clashes(
    state: &AppState,
    tx: &mut WriteTx,
    mine: &PlannedActivity,
    source: &str,
) -> Result<Vec<(ClashId, PlannedActivity, f64)>, AppError> {
    let rules = state.config.clash_rules;
    let mut raised = vec![];
    for (id, distance) in state.events.candidates(mine, &rules)? {
        let theirs = tx.activity(id).await?.activity;
        if theirs.state != ActivityState::Planned
            || !rules.clash(distance, &mine.footprint(), &theirs.footprint())
        {
            continue;
        }
        let Some(clash) = tx.insert_clash(mine.id, theirs.id, distance).await? else {
            continue;
        };
        for (owner, other) in [(mine, &theirs), (&theirs, mine)] {
            let told = told_of(other, distance);
            crate::notify::send(
                tx,
                &Notice {
                    organisation: owner.organisation.clone(),
                    roles: ALERTED,
                    cleared_for: Classification::Official,
                    kind: NoticeKind::ActivityClash,
                    record: RecordRef::new("clash", clash),
                    message: alert_message(owner, &told),
                },
            )
            .await?;
            tx.audit(
                AuditEntry::new(Actor::System, "activity.clash-disclosed")
                    .record(RecordRef::new("clash", clash))
                    .source(source)
                    .detail(json!({ "to": owner.organisation, "told": told })),
            )
            .await?;
        }
        raised.push((clash, theirs, distance));
    }
    Ok(raised)
}

fn alert_message(mine: &PlannedActivity, other: &OtherActivity) -> String {
    let contact = match &other.point_of_contact {
        Some(poc) => format!("call {} on {}", poc.name, poc.detail),
        None => "call the national 24/7 watch".to_owned(),
    };
    format!(
        "Officer safety: {} clashes with another organisation's {} {} away, {}; {}.",
        mine.reference,
        other.kind.label(),
        other.distance_band.as_str(),
        other.window.in_london(),
        contact
    )
}

/// Moves or re-times planned activity, then checks it again: clashes that no longer
/// hold are cleared and new ones raised.
pub async fn change(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: ActivityId,
    input: ChangeInput,
) -> Result<PlanOutcome, AppError> {
    require_any(who, PLANNERS)?;
    own_activity(state, who, id).await?;
    let events = state.events.clone();
    let _planning = events.planning_lock(&state.store).await?;
    let rules = state.config.clash_rules;
    let now = Timestamp::now();
    let late_notice = rules.late_notice(now, &input.window);
    let mut tx = state.store.write().await?;
    events.catch_up(&mut tx).await?;
    tx.update_activity(id, &input.place, &input.window, late_notice)
        .await?;
    let moved = tx.activity(id).await?;
    // Clashes that no longer hold are cleared; the rest stand.
    for clash in tx.live_clashes_of(id).await? {
        let other_id = if clash.low == id {
            clash.high
        } else {
            clash.low
        };
        let other = tx.activity(other_id).await?.activity;
        let distance = distance_between(&moved.activity, &other);
        if !rules.clash(distance, &moved.activity.footprint(), &other.footprint()) {
            tx.clear_clash(clash.id).await?;
        }
    }
    let raised = raise_clashes(state, &mut tx, &moved.activity, source).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "activity.change")
            .record(RecordRef::new("activity", id))
            .source(source)
            .detail(json!({ "window": moved.activity.window, "clashes": raised.len() })),
    )
    .await?;
    events.put(&moved)?;
    let clashes = views_of(state, &moved.activity.organisation, |c| {
        (c.low == id || c.high == id) && c.cleared_at.is_none()
    })
    .await?;
    Ok(PlanOutcome {
        activity: moved.activity,
        clashes,
        late_notice,
    })
}

fn distance_between(a: &PlannedActivity, b: &PlannedActivity) -> f64 {
    geodesic_distance_m(entry_of(a).at, entry_of(b).at)
}

/// Cancels planned activity: it leaves the index and its clashes are cleared.
pub async fn cancel(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: ActivityId,
) -> Result<PlannedActivity, AppError> {
    require_any(who, PLANNERS)?;
    own_activity(state, who, id).await?;
    let events = state.events.clone();
    let _planning = events.planning_lock(&state.store).await?;
    let mut tx = state.store.write().await?;
    events.catch_up(&mut tx).await?;
    tx.cancel_activity(id).await?;
    for clash in tx.live_clashes_of(id).await? {
        tx.clear_clash(clash.id).await?;
    }
    tx.commit(
        AuditEntry::new(who.actor(), "activity.cancel")
            .record(RecordRef::new("activity", id))
            .source(source),
    )
    .await?;
    events.take(id)?;
    Ok(state.store.activity(id).await?.activity)
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// The organisation's activity that has not ended (the watch: everyone's), soonest first.
pub async fn activities(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<PlannedActivity>, AppError> {
    require_any(who, READERS)?;
    let now = Timestamp::now();
    let stored = if on_the_watch(who) {
        state
            .store
            .activities_between(now, Timestamp::now().plus(chrono::Duration::days(3650)))
            .await?
    } else {
        state
            .store
            .activities_of(&who.user.organisation, now)
            .await?
    };
    Ok(stored.into_iter().map(|s| s.activity).collect())
}

/// The organisation's activity (the watch: everyone's) whose window meets
/// `from..until`, soonest first, cancelled activity included.
pub async fn activities_meeting(
    state: &AppState,
    who: &Authenticated,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<PlannedActivity>, AppError> {
    require_any(who, READERS)?;
    let stored = state.store.activities_between(from, until).await?;
    let watch = on_the_watch(who);
    Ok(stored
        .into_iter()
        .map(|s| s.activity)
        .filter(|a| watch || a.organisation == who.user.organisation)
        .collect())
}

/// One activity of the organisation's (or any, for the watch).
pub async fn activity(
    state: &AppState,
    who: &Authenticated,
    id: ActivityId,
) -> Result<PlannedActivity, AppError> {
    require_any(who, READERS)?;
    Ok(own_activity(state, who, id).await?.activity)
}

/// The clash `clash` as the side owning `mine` sees it.
fn side_view(clash: &StoredClash, mine: &PlannedActivity, theirs: &PlannedActivity) -> ClashView {
    let low_side = clash.low == mine.id;
    ClashView {
        id: clash.id,
        activity: mine.id,
        reference: mine.reference.to_string(),
        other: told_of(theirs, clash.distance_m as f64),
        found_at: clash.found_at,
        acknowledged: if low_side {
            clash.low_acknowledged_at.is_some()
        } else {
            clash.high_acknowledged_at.is_some()
        },
        escalated_at: clash.escalated_at,
        resolution: clash.resolution,
        live: clash.cleared_at.is_none(),
    }
}

/// The clashes on the organisation's activity, newest first.
pub async fn clashes(state: &AppState, who: &Authenticated) -> Result<Vec<ClashView>, AppError> {
    require_any(who, READERS)?;
    views_of(state, &who.user.organisation, |_| true).await
}

/// `org`'s side of each of its clashes that `keep` keeps, newest first. Each activity is
/// read once, however many clashes it has.
async fn views_of(
    state: &AppState,
    org: &OrgCode,
    keep: impl Fn(&StoredClash) -> bool,
) -> Result<Vec<ClashView>, AppError> {
    let mut read: HashMap<ActivityId, PlannedActivity> = HashMap::new();
    let mut views = vec![];
    for clash in state.store.clashes_of(org).await? {
        if !keep(&clash) {
            continue;
        }
        for id in [clash.low, clash.high] {
            if let std::collections::hash_map::Entry::Vacant(slot) = read.entry(id) {
                slot.insert(state.store.activity(id).await?.activity);
            }
        }
        if let (Some(low), Some(high)) = (read.get(&clash.low), read.get(&clash.high))
            && let Some(view) = side_of(&clash, low, high, org)
        {
            views.push(view);
        }
    }
    Ok(views)
}

/// `org`'s side of `clash` (between `low` and `high`), if it has one.
fn side_of(
    clash: &StoredClash,
    low: &PlannedActivity,
    high: &PlannedActivity,
    org: &OrgCode,
) -> Option<ClashView> {
    if low.organisation == *org {
        Some(side_view(clash, low, high))
    } else if high.organisation == *org {
        Some(side_view(clash, high, low))
    } else {
        None
    }
}

async fn view_for(
    state: &AppState,
    clash: &StoredClash,
    org: &OrgCode,
) -> Result<Option<ClashView>, AppError> {
    let low = state.store.activity(clash.low).await?.activity;
    let high = state.store.activity(clash.high).await?.activity;
    Ok(side_of(clash, &low, &high, org))
}

/// Acknowledges a clash for the reader's side.
pub async fn acknowledge(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: ClashId,
) -> Result<ClashView, AppError> {
    let clash = state.store.clash(id).await?;
    let org = &who.user.organisation;
    let view = view_for(state, &clash, org)
        .await?
        .ok_or(AppError::NotFound)?;
    require_any(who, PLANNERS)?;
    let mut tx = state.store.write().await?;
    tx.acknowledge_clash(id, clash.low == view.activity).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "activity.clash-acknowledged")
            .record(RecordRef::new("clash", id))
            .source(source),
    )
    .await?;
    let clash = state.store.clash(id).await?;
    view_for(state, &clash, org)
        .await?
        .ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------
// Escalation and the national watch
// ---------------------------------------------------------------------------------------

/// Sends every live clash still unacknowledged `escalate_after` after it was found to
/// the 24/7 control rooms of both organisations and to the national watch. Returns how
/// many went. Safe to run on several nodes: each clash escalates once.
pub async fn escalate(state: &AppState, now: Timestamp) -> Result<usize, AppError> {
    let rules = state.config.clash_rules;
    let cutoff = Timestamp::from_micros(
        now.as_micros()
            .saturating_sub(rules.escalate_after().as_micros() as i64),
    )
    .unwrap_or(now);
    let national = state
        .rules
        .registry
        .organisations
        .iter()
        .find(|o| o.kind == concordat_domain::registry::OrganisationKind::NationalAgency)
        .map(|o| o.code.clone());
    let mut escalated = 0;
    for clash in state.store.clashes_to_escalate(cutoff).await? {
        let mut tx = state.store.write().await?;
        if !tx.escalate_clash(clash.id).await? {
            continue;
        }
        let low = tx.activity(clash.low).await?.activity;
        let high = tx.activity(clash.high).await?.activity;
        let mut told = vec![];
        for org in [
            Some(&low.organisation),
            Some(&high.organisation),
            national.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if told.contains(&org) {
                continue;
            }
            told.push(org);
            crate::notify::send(
                &mut tx,
                &Notice {
                    organisation: org.clone(),
                    roles: &[Role::ControlRoom],
                    cleared_for: Classification::Official,
                    kind: NoticeKind::ActivityClashEscalated,
                    record: RecordRef::new("clash", clash.id),
                    message: format!(
                        "Unacknowledged officer-safety clash between {} and {}, found {}: call both points of contact.",
                        low.reference,
                        high.reference,
                        clash.found_at.to_datetime().format("%H:%M UTC")
                    ),
                },
            )
            .await?;
        }
        tx.commit(
            AuditEntry::new(Actor::System, "activity.clash-escalated")
                .record(RecordRef::new("clash", clash.id))
                .source("escalation sweep")
                .detail(json!({ "to": told })),
        )
        .await?;
        escalated += 1;
    }
    Ok(escalated)
}

/// The national watch queue: every clash found in the last `days` days, newest first,
/// with both sides in full.
pub async fn watch_queue(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<WatchClash>, AppError> {
    require_watch(who)?;
    let since = Timestamp::now().plus(chrono::Duration::days(-30));
    let mut queue = vec![];
    for clash in state.store.clashes_since(since).await? {
        queue.push(watch_view(state, clash).await?);
    }
    Ok(queue)
}

async fn watch_view(state: &AppState, clash: StoredClash) -> Result<WatchClash, AppError> {
    let owner = match clash.owner {
        Some(id) => Some(state.store.user(id).await?.username.to_string()),
        None => None,
    };
    Ok(WatchClash {
        id: clash.id,
        low: state.store.activity(clash.low).await?.activity,
        high: state.store.activity(clash.high).await?.activity,
        distance_m: clash.distance_m,
        found_at: clash.found_at,
        acknowledged: [
            clash.low_acknowledged_at.is_some(),
            clash.high_acknowledged_at.is_some(),
        ],
        escalated_at: clash.escalated_at,
        owner,
        resolution: clash.resolution,
        resolution_note: clash.resolution_note,
        live: clash.cleared_at.is_none(),
    })
}

/// A watch officer takes ownership of a clash.
pub async fn take_ownership(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: ClashId,
) -> Result<WatchClash, AppError> {
    require_watch(who)?;
    state.store.clash(id).await?;
    let mut tx = state.store.write().await?;
    tx.own_clash(id, who.user.id).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "activity.clash-owned")
            .record(RecordRef::new("clash", id))
            .source(source),
    )
    .await?;
    watch_view(state, state.store.clash(id).await?).await
}

/// A watch officer records how a clash was resolved.
pub async fn resolve(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: ClashId,
    input: ClashResolutionInput,
) -> Result<WatchClash, AppError> {
    require_watch(who)?;
    state.store.clash(id).await?;
    let mut tx = state.store.write().await?;
    tx.resolve_clash(id, input.resolution, &input.note, who.user.id)
        .await?;
    tx.commit(
        AuditEntry::new(who.actor(), "activity.clash-resolved")
            .record(RecordRef::new("clash", id))
            .source(source)
            .detail(json!({ "resolution": input.resolution })),
    )
    .await?;
    watch_view(state, state.store.clash(id).await?).await
}
