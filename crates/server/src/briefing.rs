//! Daily management and the Daily Briefing Meeting's pack (DESIGN part 12).
//!
//! A pack is made *for a reader*: every item comes from what that reader may see —
//! the same access-checked lists the API serves (requests, operations, subjects,
//! directions, hits, clashes, planned activity) — so a regional pack never shows what
//! its reader could not open, and an item about a record above their clearance or
//! outside their need to know is simply not there. The significance rules of the
//! policy ([`Significance`]) then keep what matters and say why; the scope keeps the
//! business of the organisations asked about.
//!
//! Packs are made on demand (`GET /api/v1/briefings/daily`, `concordat briefing daily`,
//! the `/briefing` page) and every morning at the meeting's time by [`keep_morning_packs`],
//! which keeps one for each user who prepares for or sits in the meeting. Reading a
//! pack is reading its records: each is entered in the audit log (view `briefing`).

use crate::AppState;
use crate::auth::{Authenticated, Credential, Principal};
use crate::error::AppError;
use chrono::NaiveDate;
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::briefing::{
    Item, ItemFacts, ItemKind, Pack, PackId, PackWindow, RecordLink, Scope, highest_designation,
    london_date,
};
use concordat_domain::direction::DirectionState;
use concordat_domain::events::ActivityState;
use concordat_domain::handling::{Marking, RecordKind, aggregate_marking};
use concordat_domain::operation::OperationRole;
use concordat_domain::people::{Role, UserStatus};
use concordat_domain::registry::OrgCode;
use concordat_domain::subject::PriorityDesignation;
use concordat_domain::tasking::{Request, RequestState};
use concordat_domain::time::Timestamp;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// The roles whose holders get a pack kept for them every morning: those who prepare
/// for the meeting and those who sit in it.
pub const PACK_ROLES: &[Role] = &[Role::TaskingOfficer, Role::SeniorDecisionMaker];

/// A link to a record the API serves.
fn link(kind: &str, path: &str, id: impl std::fmt::Display) -> RecordLink {
    RecordLink {
        kind: kind.to_owned(),
        id: id.to_string(),
        href: format!("/api/v1/{path}/{id}"),
    }
}

/// What the pack is being built from: the reader's own view of everything.
struct Gathered {
    items: Vec<Item>,
    /// Each item's marking, in step with `items`: the pack's is their aggregate.
    marks: Vec<Marking>,
    markings: HashMap<RecordKind, HashMap<String, Marking>>,
}

impl Gathered {
    /// Adds an item when the significance rules bring it in.
    #[allow(clippy::too_many_arguments)]
    fn offer(
        &mut self,
        state: &AppState,
        scope: &Scope,
        kind: ItemKind,
        at: Timestamp,
        title: String,
        detail: Option<String>,
        organisations: Vec<OrgCode>,
        record: RecordLink,
        marked_as: Option<(RecordKind, String)>,
        facts: &ItemFacts,
    ) {
        if !scope.covers_any(organisations.iter(), &state.rules.registry) {
            return;
        }
        let reasons = state.rules.policy.significance().reasons(kind, facts);
        if reasons.is_empty() {
            return;
        }
        let marking = marked_as
            .as_ref()
            .and_then(|(k, id)| self.markings.get(k).and_then(|m| m.get(id)))
            .cloned()
            .unwrap_or_else(Marking::official);
        let banner = marking.banner();
        self.marks.push(marking);
        let mut organisations = organisations;
        organisations.sort();
        organisations.dedup();
        self.items.push(Item {
            kind,
            at,
            title,
            detail,
            organisations,
            record,
            banner,
            reasons,
        });
    }
}

/// The daily pack for `date` and `scope` as `who` may see it. Nothing is written.
pub async fn daily(
    state: &AppState,
    who: &Authenticated,
    date: NaiveDate,
    scope: Scope,
) -> Result<Pack, AppError> {
    crate::tasking::require_any(who, crate::tasking::READERS)?;
    let window = PackWindow::for_date(date, state.config.briefing_at);
    let mut markings = HashMap::new();
    for kind in [
        RecordKind::Request,
        RecordKind::Operation,
        RecordKind::Subject,
        RecordKind::Direction,
        RecordKind::Registration,
    ] {
        markings.insert(kind, state.store.markings_of(kind).await?);
    }
    let mut g = Gathered {
        items: vec![],
        marks: vec![],
        markings,
    };
    let own = who.user.organisation.clone();

    let subjects: HashMap<_, _> = crate::tasking::subjects(state, who)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let designation_of = |r: &Request| {
        highest_designation(
            r.subjects
                .iter()
                .filter_map(|id| subjects.get(id))
                .map(|s| s.designation.level),
        )
    };
    let request_facts = |r: &Request| ItemFacts {
        threat_areas: r.threat_areas.iter().collect(),
        urgency: Some(r.urgency),
        designation: designation_of(r),
        ..ItemFacts::default()
    };
    let requests: HashMap<_, _> =
        crate::tasking::requests(state, who, concordat_store::RequestBox::All, None)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();

    // The previous 24 hours.
    for record in state
        .store
        .decisions_between(window.since, window.cutoff)
        .await?
    {
        let decision = &record.decision;
        let Some(request) = requests.get(&decision.request) else {
            continue;
        };
        let mut orgs = vec![request.requester.clone(), request.receiver.clone()];
        let detail = match &decision.roles {
            Some(roles) => {
                orgs.push(roles.lead.clone());
                Some(format!(
                    "Lead {}; support {}",
                    roles.lead,
                    if roles.support.is_empty() {
                        "none".to_owned()
                    } else {
                        roles
                            .support
                            .iter()
                            .map(OrgCode::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ))
            }
            None => decision
                .referral
                .as_ref()
                .map(|r| format!("Referred to {r}")),
        };
        g.offer(
            state,
            &scope,
            ItemKind::Decision,
            decision.decided_at,
            format!(
                "{} {}: {}",
                request.receiver,
                decision.outcome.as_str(),
                request.title
            ),
            detail,
            orgs,
            link("request", "requests", request.id),
            Some((RecordKind::Request, request.id.to_string())),
            &request_facts(request),
        );
    }

    for id in state
        .store
        .operations_changed_between(window.since, window.cutoff)
        .await?
    {
        if crate::authz::require(state, who, RecordKind::Operation, &id.to_string())
            .await
            .is_err()
        {
            continue;
        }
        let operation = state.store.operation(id).await?;
        let facts = ItemFacts {
            threat_areas: operation.threat_areas.iter().collect(),
            designation: highest_designation(
                operation
                    .subjects
                    .iter()
                    .filter_map(|s| subjects.get(s))
                    .map(|s| s.designation.level),
            ),
            ..ItemFacts::default()
        };
        let parties: Vec<OrgCode> = operation.roles.parties().into_iter().collect();
        let marked = Some((RecordKind::Operation, operation.id.to_string()));
        let leads: Vec<_> = operation
            .roles
            .0
            .iter()
            .filter(|s| s.role == OperationRole::Lead)
            .collect();
        for (n, span) in leads.iter().enumerate() {
            if n == 0 || !window.in_previous(span.from) {
                continue;
            }
            g.offer(
                state,
                &scope,
                ItemKind::LeadChange,
                span.from,
                format!(
                    "{}: lead passes from {} to {}",
                    operation.code_name,
                    leads[n - 1].organisation,
                    span.organisation
                ),
                Some(span.reason.to_string()),
                parties.clone(),
                link("operation", "operations", operation.id),
                marked.clone(),
                &facts,
            );
        }
        for outcome in &operation.outcomes {
            if !window.in_previous(outcome.recorded.at) {
                continue;
            }
            let o = &outcome.outcome;
            let grade = o.disruption.map_or("no disruption graded".to_owned(), |d| {
                format!("{} disruption", d.as_str())
            });
            g.offer(
                state,
                &scope,
                ItemKind::Disruption,
                outcome.recorded.at,
                format!("{}: {grade}", operation.code_name),
                Some(format!(
                    "{} arrests, {} charges, {} firearms seized. {}",
                    o.arrests, o.charges, o.firearms, o.description
                )),
                parties.clone(),
                link("operation", "operations", operation.id),
                marked.clone(),
                &ItemFacts {
                    disruption: o.disruption,
                    ..facts.clone()
                },
            );
        }
    }

    for (subject_id, now, before) in state
        .store
        .designations_between(window.since, window.cutoff)
        .await?
    {
        let Some(subject) = subjects.get(&subject_id) else {
            continue;
        };
        let was = before.as_ref().map(|b| b.level);
        if was == Some(now.level) || (was.is_none() && now.level == PriorityDesignation::Standard) {
            continue;
        }
        g.offer(
            state,
            &scope,
            ItemKind::Designation,
            now.at,
            match was {
                Some(was) => format!(
                    "{} re-designated {} (was {})",
                    subject.name,
                    now.level.as_str(),
                    was.as_str()
                ),
                None => format!("{} designated {}", subject.name, now.level.as_str()),
            },
            Some(now.basis.to_string()),
            vec![subject.organisation.clone()],
            link("subject", "subjects", subject.id),
            Some((RecordKind::Subject, subject.id.to_string())),
            &ItemFacts {
                designation: highest_designation([now.level].into_iter().chain(was)),
                ..ItemFacts::default()
            },
        );
    }

    let directions = crate::directions::list(state, &Principal(who.clone())).await?;
    for d in &directions {
        let orgs = vec![own.clone(), d.recipient.clone()];
        let marked = Some((RecordKind::Direction, d.id.to_string()));
        let steps = [(d.issued_at, "issued"), (d.acknowledged_at, "acknowledged")];
        for (at, what) in steps {
            let Some(at) = at.filter(|t| window.in_previous(*t)) else {
                continue;
            };
            g.offer(
                state,
                &scope,
                ItemKind::Direction,
                at,
                format!("Direction to {} {what}", d.recipient),
                Some(format!("Now {}", d.state.as_str())),
                orgs.clone(),
                link("direction", "directions", d.id),
                marked.clone(),
                &ItemFacts::default(),
            );
        }
        if let Some(due) = d.needed_by.filter(|t| window.in_next(*t))
            && matches!(
                d.state,
                DirectionState::Issued | DirectionState::Acknowledged
            )
        {
            g.offer(
                state,
                &scope,
                ItemKind::DirectionDue,
                due,
                format!("Direction to {} needed by this time", d.recipient),
                Some(format!("Now {}", d.state.as_str())),
                orgs.clone(),
                link("direction", "directions", d.id),
                marked.clone(),
                &ItemFacts::default(),
            );
        }
    }

    for hit in crate::deconfliction::hits(state, who).await? {
        let mut orgs = vec![own.clone()];
        orgs.extend(hit.other.organisation.clone());
        let other = hit.other.organisation.as_ref().map_or(
            "an organisation that does not disclose itself".to_owned(),
            |o| o.to_string(),
        );
        let marked = Some((RecordKind::Registration, hit.registration.to_string()));
        if window.in_previous(hit.found_at) {
            g.offer(
                state,
                &scope,
                ItemKind::DeconflictionHit,
                hit.found_at,
                format!(
                    "{} hit on {} with {other}",
                    hit.strength.as_str(),
                    hit.reference
                ),
                None,
                orgs.clone(),
                link("hit", "deconfliction/hits", hit.id),
                marked.clone(),
                &ItemFacts::default(),
            );
        }
        if !hit.acknowledged && hit.resolution.is_none() && hit.found_at < window.cutoff {
            g.offer(
                state,
                &scope,
                ItemKind::UnacknowledgedHit,
                hit.found_at,
                format!("Hit on {} with {other} not yet acknowledged", hit.reference),
                None,
                orgs,
                link("hit", "deconfliction/hits", hit.id),
                marked,
                &ItemFacts::default(),
            );
        }
    }

    for clash in crate::events::clashes(state, who).await? {
        let what = format!(
            "{} ({}) {}",
            clash.other.kind.as_str(),
            clash.other.distance_band.as_str(),
            clash.other.window.in_london()
        );
        if window.in_previous(clash.found_at) {
            g.offer(
                state,
                &scope,
                ItemKind::Clash,
                clash.found_at,
                format!("Clash on {} with {what}", clash.reference),
                clash
                    .resolution
                    .map(|r| format!("Resolved: {}", r.as_str())),
                vec![own.clone()],
                link("clash", "clashes", clash.id),
                None,
                &ItemFacts::default(),
            );
        }
        if clash.live && !clash.acknowledged && clash.found_at < window.cutoff {
            g.offer(
                state,
                &scope,
                ItemKind::UnacknowledgedClash,
                clash.found_at,
                format!("Clash alert on {} not yet acknowledged", clash.reference),
                clash
                    .escalated_at
                    .map(|t| format!("Escalated to the 24/7 contact at {t}")),
                vec![own.clone()],
                link("clash", "clashes", clash.id),
                None,
                &ItemFacts::default(),
            );
        }
    }

    // The next 72 hours.
    for activity in
        crate::events::activities_meeting(state, who, window.cutoff, window.until).await?
    {
        if activity.state != ActivityState::Planned {
            continue;
        }
        g.offer(
            state,
            &scope,
            ItemKind::PlannedActivity,
            activity.window.starts_at,
            format!(
                "{} {}: {} ({})",
                activity.organisation,
                activity.kind.as_str(),
                activity.title,
                activity.reference
            ),
            Some(format!(
                "{}{}{}",
                activity.window.in_london(),
                if activity.covert { "; covert" } else { "" },
                if activity.late_notice {
                    "; entered at short notice"
                } else {
                    ""
                }
            )),
            vec![activity.organisation.clone()],
            link("activity", "activities", activity.id),
            None,
            &ItemFacts {
                activity: Some(activity.kind),
                ..ItemFacts::default()
            },
        );
    }

    // Requests: due in the next 72 hours, and the urgent demands.
    for request in requests.values() {
        let open = matches!(
            request.state,
            RequestState::Submitted | RequestState::UnderAssessment
        );
        if !open {
            continue;
        }
        let orgs = vec![request.requester.clone(), request.receiver.clone()];
        let marked = Some((RecordKind::Request, request.id.to_string()));
        let facts = request_facts(request);
        let due = request.respond_by.unwrap_or(request.raised_at);
        if window.in_next(due) {
            g.offer(
                state,
                &scope,
                ItemKind::ResponseDue,
                due,
                format!("{} to answer: {}", request.receiver, request.title),
                Some(format!("{} urgency", request.urgency.as_str())),
                orgs.clone(),
                link("request", "requests", request.id),
                marked.clone(),
                &facts,
            );
        }
        let kind = if request.overdue {
            ItemKind::OverdueRequest
        } else {
            ItemKind::OpenRequest
        };
        g.offer(
            state,
            &scope,
            kind,
            due,
            format!(
                "{} {} request to {}: {}",
                if request.overdue { "Overdue" } else { "Open" },
                request.urgency.as_str(),
                request.receiver,
                request.title
            ),
            Some(format!(
                "From {}; {}",
                request.requester,
                request.state.as_str()
            )),
            orgs,
            link("request", "requests", request.id),
            marked,
            &facts,
        );
    }

    let marking = aggregate_marking(g.marks.iter());
    Ok(Pack::assemble(
        date,
        scope,
        window,
        who.user.username.to_string(),
        own,
        Timestamp::now(),
        state.rules.policy.version().to_owned(),
        &marking,
        g.items,
    ))
}

/// Enters every record in `pack` in the audit log as read by `who` (view `briefing`),
/// with one `briefing.read` entry for the pack.
pub async fn audit_read(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    pack: &Pack,
    kept: Option<PackId>,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    let mut seen = BTreeSet::new();
    for item in pack.sections.iter().flat_map(|s| &s.items) {
        if seen.insert((item.record.kind.clone(), item.record.id.clone())) {
            tx.audit(crate::reads::read_entry(
                who,
                source,
                &item.record.kind,
                &item.record.id,
                "briefing",
            ))
            .await?;
        }
    }
    let mut entry = AuditEntry::new(who.actor(), "briefing.read")
        .source(source)
        .detail(json!({
            "date": pack.date,
            "scope": pack.scope,
            "items": pack.len(),
            "banner": pack.banner,
        }));
    if let Some(id) = kept {
        entry = entry.record(RecordRef::new("pack", id));
    }
    tx.commit(entry).await?;
    Ok(())
}

/// Makes the pack for `date` and `scope` as `who` may see it, and audits the reading.
pub async fn read_daily(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    date: NaiveDate,
    scope: Scope,
) -> Result<Pack, AppError> {
    let pack = daily(state, who, date, scope).await?;
    audit_read(state, who, source, &pack, None).await?;
    Ok(pack)
}

/// The packs kept for `who`.
pub async fn kept(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<concordat_store::PackSummary>, AppError> {
    Ok(state.store.packs_of(who.user.id).await?)
}

/// A pack kept for `who` (anyone else's is not found), audited as read.
pub async fn open_kept(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: PackId,
) -> Result<Pack, AppError> {
    let (owner, pack) = state.store.pack(id).await?;
    if owner != who.user.id || !who.user.clearance.permits(pack.classification) {
        return Err(AppError::NotFound);
    }
    audit_read(state, who, source, &pack, Some(id)).await?;
    Ok(pack)
}

/// Makes and keeps the pack for `date` for `who`, in their default scope, unless one is
/// kept already. Returns whether one was kept now.
pub async fn keep(
    state: &AppState,
    who: &Authenticated,
    date: NaiveDate,
    source: &str,
) -> Result<bool, AppError> {
    let scope = Scope::default_for(&who.user.organisation, &state.rules.registry);
    if state
        .store
        .pack_kept(who.user.id, &date.to_string(), &scope)
        .await?
    {
        return Ok(false);
    }
    let pack = daily(state, who, date, scope).await?;
    let id = PackId::new();
    let mut tx = state.store.write().await?;
    let kept = tx
        .keep_pack(id, who.user.id, pack.classification, &pack)
        .await?;
    tx.commit(
        AuditEntry::new(Actor::System, "briefing.keep")
            .record(RecordRef::new("pack", id))
            .source(source)
            .detail(json!({
                "for": who.user.username,
                "date": pack.date,
                "scope": pack.scope,
                "items": pack.len(),
                "banner": pack.banner,
                "kept": kept,
            })),
    )
    .await?;
    Ok(kept)
}

/// Keeps the pack for `date` for every active user holding one of [`PACK_ROLES`] (in
/// their default scope), unless one is kept already. `progress` is told after each
/// user (done, of). Returns how many packs were kept now.
pub async fn keep_for_everyone(
    state: &AppState,
    date: NaiveDate,
    source: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, AppError> {
    let users: Vec<_> = state
        .store
        .users(&concordat_store::UserFilter::default())
        .await?
        .into_iter()
        .filter(|u| u.status == UserStatus::Active && PACK_ROLES.iter().any(|r| u.has_role(*r)))
        .collect();
    let total = users.len();
    let mut kept = 0;
    for (n, user) in users.into_iter().enumerate() {
        let username = user.username.to_string();
        let who = Authenticated::load(state, user, Credential::Command).await?;
        if who.pending().is_none() {
            // One reader's failure does not cost everyone else their pack.
            match keep(state, &who, date, source).await {
                Ok(true) => kept += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(user = %username, error = %e, "keeping a pack failed"),
            }
        }
        progress(n + 1, total);
    }
    Ok(kept)
}

/// The morning job: once the meeting's time has passed on `now`'s date (London), keeps
/// that day's pack for every active user holding one of [`PACK_ROLES`]. Returns how many
/// packs it kept. A pack already kept (by this node earlier, or another node) is left.
pub async fn keep_morning_packs(state: &AppState, now: Timestamp) -> Result<usize, AppError> {
    let at = state.config.briefing_at;
    let today = london_date(now);
    if PackWindow::for_date(today, at).cutoff > now {
        return Ok(0);
    }
    {
        let done = state.briefing_done.lock().map_err(|_| {
            AppError::Internal(anyhow::anyhow!("the morning pack marker was poisoned"))
        })?;
        if *done == Some(today) {
            return Ok(0);
        }
    }
    let kept = keep_for_everyone(state, today, "morning packs", |_, _| {}).await?;
    if let Ok(mut done) = state.briefing_done.lock() {
        *done = Some(today);
    }
    Ok(kept)
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

/// How a pack is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackFormat {
    /// The pack as JSON.
    Json,
    /// Markdown, for mail and records systems.
    Markdown,
    /// A printable HTML page.
    Html,
}

impl std::str::FromStr for PackFormat {
    type Err = concordat_domain::people::FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            other => Err(concordat_domain::people::FieldError::new(
                "format",
                format!("`{other}` is not one of: json, markdown, html"),
            )),
        }
    }
}

/// The printable page of a pack.
#[derive(askama::Template)]
#[template(path = "briefing.html")]
pub struct PackPage<'a> {
    /// The pack.
    pub pack: &'a Pack,
    /// Packs kept for the reader, to go back to (empty when printed on its own).
    pub kept: &'a [concordat_store::PackSummary],
    /// What was wrong with the date or scope asked for (the pack shown is then the
    /// default one).
    pub errors: &'a [crate::error::FieldProblem],
    /// The date as entered.
    pub date_value: String,
    /// The scope as entered.
    pub scope_value: String,
}

impl<'a> PackPage<'a> {
    /// The page of `pack` alone, as printed.
    pub fn standalone(pack: &'a Pack) -> Self {
        Self {
            pack,
            kept: &[],
            errors: &[],
            date_value: pack.date.to_string(),
            scope_value: pack.scope.to_string(),
        }
    }

    /// The error for `field`, if there is one.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// A moment as London reads it.
    pub fn london(&self, t: &Timestamp) -> String {
        concordat_domain::briefing::london_text(*t)
    }
}

/// The pack written out as `format`, with its media type.
pub fn render(pack: &Pack, format: PackFormat) -> Result<(&'static str, Vec<u8>), AppError> {
    use askama::Template as _;
    Ok(match format {
        PackFormat::Json => (
            "application/json",
            serde_json::to_vec_pretty(pack).map_err(|e| AppError::Internal(e.into()))?,
        ),
        PackFormat::Markdown => (
            "text/markdown; charset=utf-8",
            pack.to_markdown().into_bytes(),
        ),
        PackFormat::Html => (
            "text/html; charset=utf-8",
            PackPage::standalone(pack)
                .render()
                .map_err(|e| AppError::Internal(e.into()))?
                .into_bytes(),
        ),
    })
}
