//! Subject deconfliction as a service (DESIGN part 7): case officers register the
//! people, groups, businesses, vehicles, phones and places they are working on; each
//! registration is matched at once against every other organisation's; a match above
//! the threshold is a hit that both sides are told of, as far as each side's disclosure
//! allows. Neither side ever sees the other's record.
//!
//! The matching engine lives in memory ([`concordat_matching::Engine`]); the store
//! holds every registration and is the truth: the engine is rebuilt from it at
//! start-up and kept current as registrations are made, renewed, withdrawn or expire.
//! Registrations are made one at a time (a lock spans check, commit and index), so two
//! organisations registering the same person at once still find each other.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::notify::{self, Notice};
use crate::tasking::require_any;
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::deconfliction::{
    DeconflictionRef, Disclosure, HitId, NOT_EXHAUSTIVE, OperationReference, OtherSide,
    PointOfContact, Registration, RegistrationId, Resolution, is_told, other_side,
};
use concordat_domain::handling::RecordKind;
use concordat_domain::notification::NoticeKind;
use concordat_domain::operation::OperationId;
use concordat_domain::people::Role;
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_matching::{Engine, EngineConfig, FieldScore, Record, RecordId};
use concordat_store::{NewRegistration, Store, StoredHit, StoredRegistration, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use utoipa::ToSchema;

/// What the index knows of a registration besides its record.
#[derive(Debug, Clone)]
struct Entry {
    id: RegistrationId,
    organisation: OrgCode,
    expires_at: Timestamp,
}

/// The engine with what it needs to decide which candidates a check may consider.
struct Index {
    engine: Engine,
    entries: HashMap<RecordId, Entry>,
    /// Pairs resolved as different people, lower number first.
    suppressed: HashSet<(RecordId, RecordId)>,
    /// How many records the model was last estimated from.
    trained_on: usize,
}

/// The in-memory matching index over the live registrations.
pub struct Deconfliction {
    index: RwLock<Index>,
    registering: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Deconfliction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deconfliction")
            .field("records", &self.len())
            .finish()
    }
}

fn pair(a: RecordId, b: RecordId) -> (RecordId, RecordId) {
    if a < b { (a, b) } else { (b, a) }
}

fn seq_id(seq: i64) -> RecordId {
    RecordId::try_from(seq).unwrap_or_default()
}

fn poisoned() -> AppError {
    AppError::Internal(anyhow::anyhow!("the matching index lock is poisoned"))
}

impl Deconfliction {
    /// An empty index with `config`.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            index: RwLock::new(Index {
                engine: Engine::new(config),
                entries: HashMap::new(),
                suppressed: HashSet::new(),
                trained_on: 0,
            }),
            registering: tokio::sync::Mutex::new(()),
        }
    }

    /// How many registrations are in the index.
    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.engine.len()).unwrap_or(0)
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rebuilds the index from the store's live registrations, page by page, telling
    /// `progress` how many of how many are in; then re-estimates the model.
    pub async fn rebuild(
        &self,
        store: &Store,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<usize, AppError> {
        let now = Timestamp::now();
        let total = u64::try_from(store.count_live_registrations(now).await?).unwrap_or(0);
        let config = self
            .index
            .read()
            .map_err(|_| poisoned())?
            .engine
            .config()
            .clone();
        let mut engine = Engine::new(config);
        let mut entries = HashMap::new();
        let mut loaded = 0u64;
        // Read the next page while this one is parsed and indexed.
        let page = |after: i64| {
            let store = store.clone();
            tokio::spawn(async move { store.live_index_page(now, after, 20_000).await })
        };
        let mut next = page(0);
        loop {
            let current = next
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the register: {e}")))??;
            let Some(last) = current.last() else { break };
            next = page(last.seq);
            for row in current {
                let record: Record = serde_json::from_str(&row.record).map_err(|e| {
                    AppError::Internal(anyhow::anyhow!(
                        "registration {} holds a record that cannot be read: {e}",
                        row.id
                    ))
                })?;
                let id = seq_id(row.seq);
                engine.insert(id, &record);
                entries.insert(
                    id,
                    Entry {
                        id: row.id,
                        organisation: row.organisation,
                        expires_at: row.expires_at,
                    },
                );
                loaded += 1;
            }
            progress(loaded, total.max(loaded));
        }
        engine.retrain();
        let suppressed = store
            .suppressed_pairs()
            .await?
            .into_iter()
            .map(|(a, b)| pair(seq_id(a), seq_id(b)))
            .collect();
        let count = engine.len();
        *self.index.write().map_err(|_| poisoned())? = Index {
            engine,
            entries,
            suppressed,
            trained_on: count,
        };
        Ok(count)
    }

    /// Re-estimates the model once the registrations have doubled since it was last
    /// estimated (from the first 100 on), so that it follows the data as it grows
    /// without retraining on every registration. Returns whether it retrained.
    pub fn retrain_if_grown(&self) -> Result<bool, AppError> {
        let mut index = self.index.write().map_err(|_| poisoned())?;
        let now = index.engine.len();
        if now < 100 || now < index.trained_on.saturating_mul(2) {
            return Ok(false);
        }
        index.engine.retrain();
        index.trained_on = now;
        Ok(true)
    }

    /// Removes registrations that expired by `now` from the index; returns how many.
    pub fn sweep_expired(&self, now: Timestamp) -> Result<usize, AppError> {
        let mut index = self.index.write().map_err(|_| poisoned())?;
        let expired: Vec<RecordId> = index
            .entries
            .iter()
            .filter(|(_, e)| e.expires_at <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            index.engine.remove(*id);
            index.entries.remove(id);
        }
        Ok(expired.len())
    }
}

/// How strong a hit is, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// Probability 0.95 or more.
    Strong,
    /// 0.8 to 0.95.
    Likely,
    /// Above the threshold, below 0.8.
    Possible,
}

impl Strength {
    /// The strength in words, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strong => "strong",
            Self::Likely => "likely",
            Self::Possible => "possible",
        }
    }

    fn of(probability: f64) -> Self {
        if probability >= 0.95 {
            Self::Strong
        } else if probability >= 0.8 {
            Self::Likely
        } else {
            Self::Possible
        }
    }
}

/// One field of a hit's explanation: which kind of field, how it compared, and its
/// weight. Never the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldEvidence {
    /// The kind of field: given-name, surname, date-of-birth, address, phone, ...
    pub field: String,
    /// How it compared: exact, nickname, phonetic, close, transposed, missing, ...
    pub level: String,
    /// Its weight of evidence, in bits.
    pub weight: f64,
}

fn evidence(scores: &[FieldScore]) -> Vec<FieldEvidence> {
    scores
        .iter()
        .map(|s| {
            let text = |v: serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_default();
            FieldEvidence {
                field: text(json!(s.field)),
                level: text(json!(s.level)),
                weight: (s.weight * 100.0).round() / 100.0,
            }
        })
        .collect()
}

/// A hit as one side sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitView {
    /// The hit.
    pub id: HitId,
    /// This side's registration.
    pub registration: RegistrationId,
    /// This side's deconfliction reference.
    pub reference: DeconflictionRef,
    /// How likely it is the same subject, 0 to 1.
    pub probability: f64,
    /// The same, in words.
    pub strength: Strength,
    /// Which kinds of field agreed or disagreed, and how much each weighed.
    pub explanation: Vec<FieldEvidence>,
    /// What this side may know of the other.
    pub other: OtherSide,
    /// When it was found.
    pub found_at: Timestamp,
    /// Whether this side has acknowledged it.
    pub acknowledged: bool,
    /// What it turned out to be, once resolved.
    pub resolution: Option<Resolution>,
}

/// A registration to make.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// What is registered: `{"kind": "person", "names": [{"given": "...", "surname":
    /// "..."}], "date_of_birth": "1980-04-01", ...}`, or a group, business, vehicle,
    /// phone or address.
    #[schema(value_type = Object)]
    pub record: Record,
    /// The operation it is registered against; a standalone interest if absent.
    #[serde(default)]
    pub operation: Option<OperationId>,
    /// Your own reference, shown to the other side when disclosure is open.
    #[serde(default)]
    pub operation_reference: Option<OperationReference>,
    /// Who the other side should call.
    pub point_of_contact: PointOfContact,
    /// What the other side of a hit is told.
    pub disclosure: Disclosure,
    /// Its protective marking; OFFICIAL if absent. Never above your own vetting.
    #[serde(default)]
    pub marking: concordat_domain::handling::Marking,
}

/// The answer to a registration.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationAnswer {
    /// The registration, with its reference and retention.
    pub registration: Registration,
    /// The hits it raised that this side is told of.
    pub hits: Vec<HitView>,
    /// Values too common to search on, so that a clean result is read for what it is.
    pub not_searched: Vec<NotSearched>,
    /// What a clean result does and does not mean.
    pub note: &'static str,
}

/// A registration with its record, for its own organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationDetail {
    /// The registration.
    #[serde(flatten)]
    pub registration: Registration,
    /// The record as registered.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

/// Who registers subjects and acknowledges or resolves their hits: case and tasking officers.
pub(crate) const REGISTRARS: &[Role] = &[Role::CaseOfficer, Role::TaskingOfficer];

fn kind_of(record: &Record) -> &'static str {
    match record {
        Record::Person(_) => "person",
        Record::Group(_) => "group",
        Record::Business(_) => "business",
        Record::Vehicle(_) => "vehicle",
        Record::Phone(_) => "phone",
        Record::Address(_) => "address",
    }
}

/// Whether the record says anything to match on.
fn is_blank(record: &Record) -> bool {
    let blank = |s: &str| s.trim().is_empty();
    let all_blank = |v: &[String]| v.iter().all(|s| blank(s));
    let address_blank = |a: &concordat_matching::AddressValue| {
        blank(&a.number) && all_blank(&a.lines) && blank(&a.town) && blank(&a.postcode)
    };
    match record {
        Record::Person(p) => {
            let names_blank = p.names.iter().all(|n| match n {
                concordat_matching::Name::Parts { given, surname } => {
                    blank(given) && blank(surname)
                }
                concordat_matching::Name::Full(full) => blank(full),
            });
            names_blank
                && p.date_of_birth.as_deref().is_none_or(blank)
                && p.addresses.iter().all(address_blank)
                && all_blank(&p.phones)
                && all_blank(&p.emails)
                && all_blank(&p.documents)
                && all_blank(&p.national_ids)
        }
        Record::Group(g) => all_blank(&g.names),
        Record::Business(b) => {
            all_blank(&b.names)
                && b.company_number.as_deref().is_none_or(blank)
                && b.addresses.iter().all(address_blank)
                && all_blank(&b.phones)
        }
        Record::Vehicle(v) => blank(&v.registration),
        Record::Phone(p) => blank(&p.number),
        Record::Address(a) => address_blank(&a.address),
    }
}

/// The view of `hit` for the side that owns `mine`, if that side is told of it.
fn view(hit: &StoredHit, mine: &Registration, theirs: &Registration) -> Option<HitView> {
    if !is_told(mine.disclosure, theirs.disclosure) {
        return None;
    }
    let explanation: Vec<FieldEvidence> =
        serde_json::from_value(hit.explanation.clone()).unwrap_or_default();
    let low_side = hit.low == mine.id;
    Some(HitView {
        id: hit.id,
        registration: mine.id,
        reference: mine.reference.clone(),
        probability: (hit.probability * 10_000.0).round() / 10_000.0,
        strength: Strength::of(hit.probability),
        explanation,
        other: other_side(theirs),
        found_at: hit.created_at,
        acknowledged: if low_side {
            hit.low_acknowledged_at.is_some()
        } else {
            hit.high_acknowledged_at.is_some()
        },
        resolution: hit.resolution,
    })
}

fn notify_message(reference: &DeconflictionRef, other: &OtherSide) -> String {
    match &other.organisation {
        Some(org) => format!("Deconfliction hit on {reference}: {org} has an interest"),
        None => format!("Deconfliction hit on {reference}: another organisation has an interest"),
    }
}

/// The live registrations of other organisations that `record` matches, best first:
/// never the organisation's own, an expired one, `seq` itself, or a pair already
/// resolved as different people.
async fn candidates(
    state: &AppState,
    record: &Record,
    organisation: &OrgCode,
    seq: Option<RecordId>,
    now: Timestamp,
) -> Result<
    (
        Vec<(concordat_matching::Match, StoredRegistration)>,
        Vec<NotSearched>,
    ),
    AppError,
> {
    let (found, too_common): (Vec<(concordat_matching::Match, RegistrationId)>, _) = {
        let index = state.deconfliction.index.read().map_err(|_| poisoned())?;
        let exclude = |id: RecordId| {
            Some(id) == seq
                || seq.is_some_and(|s| index.suppressed.contains(&pair(s, id)))
                || index
                    .entries
                    .get(&id)
                    .is_none_or(|e| e.organisation == *organisation || e.expires_at <= now)
        };
        let outcome = index.engine.check_outcome(record, &exclude);
        let found = outcome
            .matches
            .into_iter()
            .filter_map(|m| index.entries.get(&m.id).map(|e| (m.clone(), e.id)))
            .collect();
        let too_common = outcome
            .too_common
            .into_iter()
            .map(|t| NotSearched {
                field: t.field.as_str().to_owned(),
                holders: t.holders,
            })
            .collect();
        (found, too_common)
    };
    let mut out = Vec::with_capacity(found.len());
    for (m, id) in found {
        out.push((m, state.store.registration(id).await?));
    }
    Ok((out, too_common))
}

/// A value of the record so common in the register (a hostel's address, a switchboard
/// number, a placeholder date of birth) that it was not used to look for matches.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotSearched {
    /// The kind of field.
    pub field: String,
    /// How many registrations hold the value.
    pub holders: usize,
}

/// Records a hit between `mine` and each candidate not already paired with it, tells
/// each side as far as the other allows, and audits each disclosure. Returns the new
/// hits.
async fn record_hits(
    tx: &mut WriteTx,
    mine: &Registration,
    others: &[(concordat_matching::Match, StoredRegistration)],
    source: &str,
) -> Result<Vec<(HitId, f64, serde_json::Value, Registration)>, AppError> {
    let mut raised = vec![];
    for (m, theirs) in others {
        let explanation = json!(evidence(&m.explanation));
        let Some(hit) = tx
            .insert_hit(mine.id, theirs.registration.id, m.probability, &explanation)
            .await?
        else {
            continue;
        };
        let theirs = &theirs.registration;
        // Only those vetted for both registrations' markings hear of the hit.
        let cleared_for = std::cmp::max(
            tx.marking(RecordKind::Registration, &mine.id.to_string())
                .await?
                .classification,
            tx.marking(RecordKind::Registration, &theirs.id.to_string())
                .await?
                .classification,
        );
        // Each side is told as far as the other allows (Annex A: contact, not content).
        for (owner, other) in [(mine, theirs), (theirs, mine)] {
            if !is_told(owner.disclosure, other.disclosure) {
                continue;
            }
            notify::send(
                tx,
                &Notice {
                    organisation: owner.organisation.clone(),
                    roles: REGISTRARS,
                    cleared_for,
                    kind: NoticeKind::DeconflictionHit,
                    record: RecordRef::new("hit", hit),
                    message: notify_message(&owner.reference, &other_side(other)),
                },
            )
            .await?;
            tx.audit(
                AuditEntry::new(Actor::System, "deconfliction.disclose")
                    .record(RecordRef::new("hit", hit))
                    .source(source)
                    .detail(json!({
                        "to": owner.organisation,
                        "about": other.reference,
                        "disclosure": other.disclosure,
                    })),
            )
            .await?;
        }
        raised.push((hit, m.probability, explanation, theirs.clone()));
    }
    Ok(raised)
}

/// Registers a subject of interest for the user's organisation and matches it against
/// every other organisation's live registrations.
pub async fn register(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    input: RegisterInput,
) -> Result<RegistrationAnswer, AppError> {
    require_any(who, REGISTRARS)?;
    if is_blank(&input.record) {
        return Err(AppError::field(
            "record",
            "says nothing to match on: give at least a name, a date of birth or an identifier",
        ));
    }
    if let Some(operation) = input.operation {
        crate::tasking::visible_operation(state, who, operation)
            .await
            .map_err(|e| match e {
                AppError::NotFound => AppError::field(
                    "operation",
                    "there is no such operation your organisation is party to",
                ),
                other => other,
            })?;
    }
    let organisation = who.user.organisation.clone();
    let now = Timestamp::now();
    let retention = chrono::Duration::from_std(state.config.registration_retention)
        .unwrap_or(chrono::Duration::days(730));
    let record_json = serde_json::to_string(&input.record)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("record: {e}")))?;
    let deconfliction = &state.deconfliction;
    let _one_at_a_time = deconfliction.registering.lock().await;
    let (others, not_searched) = candidates(state, &input.record, &organisation, None, now).await?;
    let mut tx = state.store.write().await?;
    let stored = tx
        .insert_registration(&NewRegistration {
            organisation: organisation.clone(),
            kind: kind_of(&input.record).to_owned(),
            record: record_json,
            operation: input.operation,
            operation_reference: input.operation_reference,
            point_of_contact: input.point_of_contact,
            disclosure: input.disclosure,
            registered_by: who.user.id,
            expires_at: now.plus(retention),
        })
        .await?;
    let mine = stored.registration.clone();
    crate::handling::mark_new(
        &mut tx,
        who,
        RecordKind::Registration,
        &mine.id.to_string(),
        &input.marking,
    )
    .await?;
    let raised = record_hits(&mut tx, &mine, &others, source).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "deconfliction.register")
            .record(RecordRef::new("registration", mine.id))
            .source(source)
            .detail(json!({
                "reference": mine.reference,
                "kind": mine.kind,
                "disclosure": mine.disclosure,
                "hits": raised.len(),
            })),
    )
    .await?;
    {
        let mut index = deconfliction.index.write().map_err(|_| poisoned())?;
        let id = seq_id(stored.seq);
        index.engine.insert(id, &input.record);
        index.entries.insert(
            id,
            Entry {
                id: mine.id,
                organisation: organisation.clone(),
                expires_at: mine.expires_at,
            },
        );
    }
    let hits = raised
        .into_iter()
        .filter_map(|(hit, probability, explanation, theirs)| {
            let stored_hit = StoredHit {
                id: hit,
                low: mine.id.min(theirs.id),
                high: mine.id.max(theirs.id),
                probability,
                explanation,
                created_at: now,
                low_acknowledged_at: None,
                high_acknowledged_at: None,
                resolution: None,
                resolved_by: None,
                resolved_at: None,
            };
            view(&stored_hit, &mine, &theirs)
        })
        .collect();
    Ok(RegistrationAnswer {
        registration: mine,
        hits,
        not_searched,
        note: NOT_EXHAUSTIVE,
    })
}

/// The user's organisation's registrations.
pub async fn registrations(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<Registration>, AppError> {
    require_any(who, crate::tasking::READERS)?;
    let own = state
        .store
        .registrations_of(&who.user.organisation)
        .await?
        .into_iter()
        .map(|s| s.registration)
        .collect();
    crate::authz::retain_visible(
        state,
        who,
        RecordKind::Registration,
        own,
        |r| r.id.to_string(),
        |id| async move {
            Ok(state
                .store
                .registration(crate::api::path_id(&id)?)
                .await?
                .registration)
        },
    )
    .await
}

/// One of the organisation's registrations with its record; others' do not exist.
async fn own(
    state: &AppState,
    who: &Authenticated,
    id: RegistrationId,
) -> Result<StoredRegistration, AppError> {
    crate::authz::require(state, who, RecordKind::Registration, &id.to_string()).await?;
    Ok(state.store.registration(id).await?)
}

/// One of the organisation's registrations, with its record.
pub async fn registration(
    state: &AppState,
    who: &Authenticated,
    id: RegistrationId,
) -> Result<RegistrationDetail, AppError> {
    let stored = own(state, who, id).await?;
    Ok(RegistrationDetail {
        record: serde_json::from_str(&stored.record).unwrap_or_default(),
        registration: stored.registration,
    })
}

/// Renews a registration for another retention period from now.
pub async fn renew(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RegistrationId,
) -> Result<RegistrationDetail, AppError> {
    let stored = own(state, who, id).await?;
    require_any(who, REGISTRARS)?;
    let now = Timestamp::now();
    if !stored.registration.is_live(now) {
        return Err(AppError::Conflict(
            "an expired or withdrawn registration cannot be renewed; register again".to_owned(),
        ));
    }
    let retention = chrono::Duration::from_std(state.config.registration_retention)
        .unwrap_or(chrono::Duration::days(730));
    let expires_at = now.plus(retention);
    // Renewing re-checks the registration against everything registered since, under
    // the model as it is now; pairs already raised or resolved are not raised again.
    let record: Record = serde_json::from_str(&stored.record)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored record: {e}")))?;
    let _one_at_a_time = state.deconfliction.registering.lock().await;
    let seq = seq_id(stored.seq);
    let (others, _) = candidates(state, &record, &who.user.organisation, Some(seq), now).await?;
    let mut tx = state.store.write().await?;
    tx.renew_registration(id, expires_at).await?;
    let mut renewed = stored.registration.clone();
    renewed.expires_at = expires_at;
    record_hits(&mut tx, &renewed, &others, source).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "deconfliction.renew")
            .record(RecordRef::new("registration", id))
            .source(source),
    )
    .await?;
    if let Some(entry) = state
        .deconfliction
        .index
        .write()
        .map_err(|_| poisoned())?
        .entries
        .get_mut(&seq_id(stored.seq))
    {
        entry.expires_at = expires_at;
    }
    registration(state, who, id).await
}

/// Withdraws a registration: it no longer matches.
pub async fn withdraw(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RegistrationId,
) -> Result<RegistrationDetail, AppError> {
    let stored = own(state, who, id).await?;
    require_any(who, REGISTRARS)?;
    let mut tx = state.store.write().await?;
    tx.withdraw_registration(id).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "deconfliction.withdraw")
            .record(RecordRef::new("registration", id))
            .source(source),
    )
    .await?;
    {
        let mut index = state.deconfliction.index.write().map_err(|_| poisoned())?;
        let seq = seq_id(stored.seq);
        index.engine.remove(seq);
        index.entries.remove(&seq);
    }
    registration(state, who, id).await
}

/// The hits on the organisation's registrations that it is told of, newest first.
/// Each registration is read once, however many hits it has.
pub async fn hits(state: &AppState, who: &Authenticated) -> Result<Vec<HitView>, AppError> {
    require_any(who, crate::tasking::READERS)?;
    let org = &who.user.organisation;
    let mut read: HashMap<RegistrationId, Registration> = HashMap::new();
    let mut views = vec![];
    for hit in state.store.hits_of(org).await? {
        for id in [hit.low, hit.high] {
            if let std::collections::hash_map::Entry::Vacant(slot) = read.entry(id) {
                slot.insert(state.store.registration(id).await?.registration);
            }
        }
        if let (Some(low), Some(high)) = (read.get(&hit.low), read.get(&hit.high))
            && let Some(v) = side_view(&hit, low, high, org)
        {
            let other = other_registration(&hit, v.registration);
            views.push((v, other));
        }
    }
    // A hit is about the reader's own registration (so their organisation is a party
    // and their role reads casework, checked above): they hear of it only if their
    // vetting covers both registrations' markings, theirs and the other side's — the
    // existence of a SECRET interest is itself SECRET. One read of the markings for all.
    let markings = state.store.markings_of(RecordKind::Registration).await?;
    let cleared = |id: RegistrationId| {
        markings
            .get(&id.to_string())
            .is_none_or(|m| who.user.clearance.permits(m.classification))
    };
    let visible: Vec<HitView> = views
        .into_iter()
        .filter(|(view, other)| cleared(view.registration) && cleared(*other))
        .map(|(view, _)| view)
        .collect();
    Ok(visible)
}

/// The registration on the other side of `hit` from `mine`.
fn other_registration(hit: &StoredHit, mine: RegistrationId) -> RegistrationId {
    if mine == hit.low { hit.high } else { hit.low }
}

/// The view of `hit` (between `low` and `high`) for `org`, if it owns one side and is
/// told of it.
fn side_view(
    hit: &StoredHit,
    low: &Registration,
    high: &Registration,
    org: &OrgCode,
) -> Option<HitView> {
    if low.organisation == *org {
        view(hit, low, high)
    } else if high.organisation == *org {
        view(hit, high, low)
    } else {
        None
    }
}

/// A hit the user's organisation is told of, or not found.
pub(crate) async fn own_hit(
    state: &AppState,
    who: &Authenticated,
    id: HitId,
) -> Result<(StoredHit, HitView), AppError> {
    let hit = state.store.hit(id).await?;
    let low = state.store.registration(hit.low).await?.registration;
    let high = state.store.registration(hit.high).await?.registration;
    let view = side_view(&hit, &low, &high, &who.user.organisation).ok_or(AppError::NotFound)?;
    crate::authz::require(
        state,
        who,
        RecordKind::Registration,
        &view.registration.to_string(),
    )
    .await?;
    // The other side's registration is not the reader's to read, but its marking still
    // decides whether the reader may know of the hit (see `hits`).
    let other = other_registration(&hit, view.registration);
    let marking = state
        .store
        .marking(RecordKind::Registration, &other.to_string())
        .await?;
    if !who.user.clearance.permits(marking.classification) {
        return Err(AppError::NotFound);
    }
    Ok((hit, view))
}

/// Acknowledges a hit for the user's side.
pub async fn acknowledge(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: HitId,
) -> Result<HitView, AppError> {
    let (hit, view) = own_hit(state, who, id).await?;
    require_any(who, REGISTRARS)?;
    let mut tx = state.store.write().await?;
    tx.acknowledge_hit(id, hit.low == view.registration).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "deconfliction.acknowledge")
            .record(RecordRef::new("hit", id))
            .source(source),
    )
    .await?;
    Ok(own_hit(state, who, id).await?.1)
}

/// A resolution of a hit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// What it turned out to be.
    pub resolution: Resolution,
}

/// Resolves a hit; "different person" suppresses the pair from then on.
pub async fn resolve(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: HitId,
    input: ResolveInput,
) -> Result<HitView, AppError> {
    let (hit, _) = own_hit(state, who, id).await?;
    require_any(who, REGISTRARS)?;
    let mut tx = state.store.write().await?;
    tx.resolve_hit(id, input.resolution, who.user.id).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "deconfliction.resolve")
            .record(RecordRef::new("hit", id))
            .source(source)
            .detail(json!({ "resolution": input.resolution })),
    )
    .await?;
    if input.resolution == Resolution::DifferentPerson {
        let low = state.store.registration(hit.low).await?.seq;
        let high = state.store.registration(hit.high).await?.seq;
        state
            .deconfliction
            .index
            .write()
            .map_err(|_| poisoned())?
            .suppressed
            .insert(pair(seq_id(low), seq_id(high)));
    }
    Ok(own_hit(state, who, id).await?.1)
}
