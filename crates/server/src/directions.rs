//! Directed tasking (¶9, ¶11), shared by the API and the command line: one way to
//! draft, ask consent for, issue, acknowledge and close a direction, and to record the
//! border protocol.
//!
//! The rules themselves live in `concordat_domain::direction`; this module gathers the
//! facts they need from the store (the voluntary request, the Transport Secretary's
//! consent, the latest border protocol record), decides who may see and do what, and
//! commits each change in one transaction with its audit entry.
//!
//! Who may see a direction: users of the national agency (or its commands and units)
//! holding the tasking-officer or senior-decision-maker role see every direction; users
//! of the recipient organisation with any role other than administrator see the
//! directions given to it. Anyone else is answered as if it did not exist. Only holders
//! of the Director General's delegated authority in the national agency draft, ask and
//! record consent, issue, record compliance and record the protocol; only the
//! recipient's tasking officers and senior decision-makers acknowledge.

use crate::AppState;
use crate::auth::{Authenticated, Principal};
use crate::error::{AppError, FieldProblem, Refusal};
use crate::notify::{self, Notice};
use concordat_domain::audit::{AuditEntry, RecordRef};
use concordat_domain::direction::{
    BorderProtocol, BorderProtocolRecord, ComplianceOutcome, ConsentAnswer, Direction,
    DirectionCase, DirectionChangeError, DirectionEvent, DirectionId, DirectionNote,
    DirectionRefusal, DirectionState, Instructions, ProtocolRecordId, TransportConsent,
    VoluntaryAttempt, check_draft, check_issue,
};
use concordat_domain::handling::RecordKind;
use concordat_domain::notification::NoticeKind;
use concordat_domain::people::{DgAuthority, Role};
use concordat_domain::registry::{OrgCode, Organisation, ReferenceData};
use concordat_domain::tasking::{Request, RequestId, RequestState};
use concordat_domain::time::Timestamp;
use concordat_store::{DirectionHistoryEntry, DirectionScope, WriteTx};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A direction to draft, parsed.
#[derive(Debug, Clone)]
pub struct DirectionDraft {
    /// The organisation to direct.
    pub recipient: OrgCode,
    /// The voluntary request that came before, if one was made.
    pub request: Option<RequestId>,
    /// What the chief officer is directed to do.
    pub instructions: Instructions,
    /// When it must be acted on by, if it says; in the future.
    pub needed_by: Option<Timestamp>,
}

impl DirectionDraft {
    /// Parses a draft from raw input, naming every field in error.
    pub fn parse(
        recipient: &str,
        request: Option<&str>,
        instructions: &str,
        needed_by: Option<Timestamp>,
    ) -> Result<Self, AppError> {
        let mut errors = vec![];
        let mut problem = |field: &str, message: String| {
            errors.push(FieldProblem {
                field: field.to_owned(),
                message,
            });
        };
        let recipient = OrgCode::parse(recipient)
            .map_err(|e| problem("recipient", e.to_string()))
            .ok();
        let request = request
            .map(|r| r.parse::<RequestId>())
            .transpose()
            .map_err(|e| problem("request", e.message))
            .ok();
        let instructions = Instructions::parse(instructions)
            .map_err(|e| problem(Instructions::FIELD, e.message))
            .ok();
        if needed_by.is_some_and(|t| t <= Timestamp::now()) {
            problem("needed_by", "must be in the future".to_owned());
        }
        match (recipient, request, instructions) {
            (Some(recipient), Some(request), Some(instructions)) if errors.is_empty() => Ok(Self {
                recipient,
                request,
                instructions,
                needed_by,
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// A direction with its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectionView {
    /// The direction.
    #[serde(flatten)]
    pub direction: Direction,
    /// Every step so far, oldest first.
    pub history: Vec<DirectionHistoryEntry>,
}

/// The border protocol as recorded (¶11).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BorderProtocolView {
    /// Whether it is in force now: as the latest record says, or not if none.
    pub state: BorderProtocol,
    /// Every record, newest first.
    pub records: Vec<BorderProtocolRecord>,
}

/// Drafts a direction after checking it against ¶9 and ¶11.
///
/// A refused draft answers with every condition not met and stores nothing: neither
/// the draft nor an audit entry (the audit log records changes, and nothing changed).
pub async fn draft(
    state: &AppState,
    who: &Principal,
    source: &str,
    draft: DirectionDraft,
) -> Result<Direction, AppError> {
    require_dg_authority(who)?;
    let registry = &state.rules.registry;
    let recipient = registry.organisation(&draft.recipient).ok_or_else(|| {
        AppError::field(
            "recipient",
            format!("there is no organisation `{}`", draft.recipient),
        )
    })?;
    let now = Timestamp::now();
    let mut tx = state.store.write().await?;
    let voluntary = match draft.request {
        None => VoluntaryAttempt::NotMade,
        Some(id) => {
            let request = tx.request(id, registry).await?;
            if !request_visible_to(&request, &who.user.organisation, registry) {
                return Err(AppError::NotFound);
            }
            check_request_leads_to(&request, recipient, registry)?;
            VoluntaryAttempt::of(&request, draft.needed_by, now)
        }
    };
    let border_protocol = BorderProtocol::from_latest(tx.border_protocol().await?.as_ref());
    let case = DirectionCase {
        drafter: &who.user,
        drafter_in_national_agency: who.in_national_agency(),
        recipient,
        voluntary,
        transport_consent: TransportConsent::NotRecorded,
        border_protocol,
    };
    let recipient_kind =
        check_draft(&case).map_err(|r| refused("The direction cannot be drafted", r))?;
    let direction = Direction {
        id: DirectionId::new(),
        recipient: recipient.code.clone(),
        recipient_kind,
        request: draft.request,
        instructions: draft.instructions,
        needed_by: draft.needed_by,
        state: DirectionState::Drafted,
        transport_consent: TransportConsent::NotRecorded,
        drafted_by: who.user.id,
        drafted_at: now,
        issued_by: None,
        issued_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        compliance_note: None,
    };
    tx.insert_direction(&direction).await?;
    tx.commit(
        entry(who, source, "direction.draft", direction.id).detail(json!({
            "recipient": direction.recipient,
            "recipient_kind": direction.recipient_kind,
            "request": direction.request,
            "voluntary": voluntary,
            "border_protocol": border_protocol,
            "needed_by": direction.needed_by,
        })),
    )
    .await?;
    Ok(direction)
}

/// The directions `who` may see, newest first; none for those who may see none.
pub async fn list(state: &AppState, who: &Principal) -> Result<Vec<Direction>, AppError> {
    let scope = match sight(who) {
        Sight::All => DirectionScope::All,
        Sight::Recipient(org) => DirectionScope::Recipient(org),
        Sight::Nothing => return Ok(vec![]),
    };
    let recipient_only = matches!(scope, DirectionScope::Recipient(_));
    let mut found = state.store.directions(&scope).await?;
    if recipient_only {
        found.retain(is_given);
    }
    crate::authz::retain_visible(
        state,
        who,
        RecordKind::Direction,
        found,
        |d| d.id.to_string(),
        |id| async move { Ok(state.store.direction(crate::api::path_id(&id)?).await?) },
    )
    .await
}

/// The direction `id` with its history, if `who` may see it.
pub async fn show(
    state: &AppState,
    who: &Principal,
    id: DirectionId,
) -> Result<DirectionView, AppError> {
    let direction = state.store.direction(id).await?;
    if !may_see(who, &direction) {
        return Err(AppError::NotFound);
    }
    crate::authz::require(state, who, RecordKind::Direction, &id.to_string()).await?;
    let history = state.store.direction_history(id).await?;
    Ok(DirectionView { direction, history })
}

/// Records that the Secretary of State for Transport has been asked to consent to a
/// direction to the BTP (¶9).
pub async fn request_consent(
    state: &AppState,
    who: &Principal,
    source: &str,
    id: DirectionId,
) -> Result<Direction, AppError> {
    let mut tx = state.store.write().await?;
    let direction = visible_in(&mut tx, who, id).await?;
    require_dg_authority(who)?;
    let after = change(
        &mut tx,
        who,
        &direction,
        DirectionEvent::RequestConsent,
        None,
    )
    .await?;
    tx.commit(entry(who, source, "direction.request-consent", id))
        .await?;
    Ok(after)
}

/// Records the Secretary of State for Transport's answer (¶9).
pub async fn record_consent(
    state: &AppState,
    who: &Principal,
    source: &str,
    id: DirectionId,
    answer: ConsentAnswer,
    note: Option<DirectionNote>,
) -> Result<Direction, AppError> {
    let mut tx = state.store.write().await?;
    let direction = visible_in(&mut tx, who, id).await?;
    require_dg_authority(who)?;
    let event = answer.event();
    let after = change(&mut tx, who, &direction, event, note.as_ref()).await?;
    let action = match answer {
        ConsentAnswer::Given => "direction.give-consent",
        ConsentAnswer::Refused => "direction.refuse-consent",
    };
    tx.commit(entry(who, source, action, id).detail(json!({ "answer": answer, "note": note })))
        .await?;
    Ok(after)
}

/// Issues a direction after checking it again against the facts as they are now: the
/// voluntary request, the Transport Secretary's consent for the BTP, and the border
/// protocol for border functions. Tells the recipient's tasking officers and senior
/// decision-makers.
pub async fn issue(
    state: &AppState,
    who: &Principal,
    source: &str,
    id: DirectionId,
) -> Result<Direction, AppError> {
    let registry = &state.rules.registry;
    let mut tx = state.store.write().await?;
    let direction = visible_in(&mut tx, who, id).await?;
    require_dg_authority(who)?;
    let recipient = registry.organisation(&direction.recipient).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "direction {id} names {}, which is not in the registry",
            direction.recipient
        ))
    })?;
    let now = Timestamp::now();
    let voluntary = match direction.request {
        None => VoluntaryAttempt::NotMade,
        Some(request) => VoluntaryAttempt::of(
            &tx.request(request, registry).await?,
            direction.needed_by,
            now,
        ),
    };
    let border_protocol = BorderProtocol::from_latest(tx.border_protocol().await?.as_ref());
    let case = DirectionCase {
        drafter: &who.user,
        drafter_in_national_agency: who.in_national_agency(),
        recipient,
        voluntary,
        transport_consent: direction.transport_consent,
        border_protocol,
    };
    check_issue(&case).map_err(|r| refused("The direction cannot be issued", r))?;
    let after = change(&mut tx, who, &direction, DirectionEvent::Issue, None).await?;
    let message = format!(
        "A direction from the Director General (¶9) has been issued to {}; acknowledge it.",
        recipient.name
    );
    let cleared_for = tx
        .marking(RecordKind::Direction, &id.to_string())
        .await?
        .classification;
    let notified = notify::send(
        &mut tx,
        &Notice {
            organisation: recipient.code.clone(),
            roles: &[Role::TaskingOfficer, Role::SeniorDecisionMaker],
            cleared_for,
            kind: NoticeKind::DirectionIssued,
            record: RecordRef::new("direction", id),
            message,
        },
    )
    .await?
    .people;
    tx.commit(entry(who, source, "direction.issue", id).detail(json!({
        "recipient": direction.recipient,
        "voluntary": voluntary,
        "transport_consent": direction.transport_consent,
        "border_protocol": border_protocol,
        "notified": notified,
    })))
    .await?;
    Ok(after)
}

/// Acknowledges receipt of a direction, for the recipient organisation.
pub async fn acknowledge(
    state: &AppState,
    who: &Principal,
    source: &str,
    id: DirectionId,
) -> Result<Direction, AppError> {
    let mut tx = state.store.write().await?;
    let direction = visible_in(&mut tx, who, id).await?;
    let officer =
        who.user.has_role(Role::TaskingOfficer) || who.user.has_role(Role::SeniorDecisionMaker);
    if who.user.organisation != direction.recipient || !officer {
        return Err(AppError::Forbidden(
            "only the recipient's tasking officers and senior decision-makers acknowledge a direction"
                .to_owned(),
        ));
    }
    let after = change(&mut tx, who, &direction, DirectionEvent::Acknowledge, None).await?;
    tx.commit(entry(who, source, "direction.acknowledge", id))
        .await?;
    Ok(after)
}

/// Records whether the recipient complied.
pub async fn record_compliance(
    state: &AppState,
    who: &Principal,
    source: &str,
    id: DirectionId,
    outcome: ComplianceOutcome,
    note: Option<DirectionNote>,
) -> Result<Direction, AppError> {
    let mut tx = state.store.write().await?;
    let direction = visible_in(&mut tx, who, id).await?;
    require_dg_authority(who)?;
    let after = change(&mut tx, who, &direction, outcome.event(), note.as_ref()).await?;
    let action = match outcome {
        ComplianceOutcome::Complied => "direction.comply",
        ComplianceOutcome::NotComplied => "direction.not-comply",
    };
    tx.commit(entry(who, source, action, id).detail(json!({ "outcome": outcome, "note": note })))
        .await?;
    Ok(after)
}

/// The border protocol as recorded. Any signed-in user may read it: it says only
/// whether a protocol between two office holders is in force.
pub async fn border_protocol(
    state: &AppState,
    _who: &Principal,
) -> Result<BorderProtocolView, AppError> {
    let records = state.store.border_protocol_history().await?;
    Ok(BorderProtocolView {
        state: BorderProtocol::from_latest(records.first()),
        records,
    })
}

/// Records the border protocol as in force or not (¶11); the new record is the one
/// that counts from now on.
pub async fn set_border_protocol(
    state: &AppState,
    who: &Principal,
    source: &str,
    protocol: BorderProtocol,
    note: Option<DirectionNote>,
) -> Result<BorderProtocolRecord, AppError> {
    require_dg_authority(who)?;
    let record = BorderProtocolRecord {
        id: ProtocolRecordId::new(),
        state: protocol,
        note,
        recorded_by: who.user.id,
        recorded_at: Timestamp::now(),
    };
    let mut tx = state.store.write().await?;
    tx.record_border_protocol(&record).await?;
    tx.commit(
        AuditEntry::new(who.actor(), "border-protocol.record")
            .record(RecordRef::new("border-protocol", record.id))
            .source(source)
            .detail(json!({ "state": record.state, "note": record.note })),
    )
    .await?;
    Ok(record)
}

/// What a user may see of directions.
enum Sight {
    All,
    Recipient(OrgCode),
    Nothing,
}

fn sight(who: &Authenticated) -> Sight {
    let roles = &who.user.roles;
    if who.in_national_agency() {
        if roles.contains(Role::TaskingOfficer) || roles.contains(Role::SeniorDecisionMaker) {
            Sight::All
        } else {
            Sight::Nothing
        }
    } else if roles.iter().any(|r| r != Role::Administrator) {
        Sight::Recipient(who.user.organisation.clone())
    } else {
        Sight::Nothing
    }
}

fn may_see(who: &Authenticated, direction: &Direction) -> bool {
    match sight(who) {
        Sight::All => true,
        Sight::Recipient(org) => org == direction.recipient && is_given(direction),
        Sight::Nothing => false,
    }
}

/// Whether the direction has been issued: until then it is the agency's draft, and its
/// recipient does not see it.
pub(crate) fn is_given(direction: &Direction) -> bool {
    matches!(
        direction.state,
        DirectionState::Issued
            | DirectionState::Acknowledged
            | DirectionState::Complied
            | DirectionState::NotComplied
    )
}

/// Refuses anyone but a holder of the Director General's delegated authority in the
/// national agency (¶9).
pub(crate) fn require_dg_authority(who: &Authenticated) -> Result<(), AppError> {
    if who.user.dg_authority == DgAuthority::Delegated && who.in_national_agency() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the Director General, or a holder of the Director General's delegated authority, may do this (¶9)"
                .to_owned(),
        ))
    }
}

/// Reads direction `id` inside the change, answering 404 if `who` may not see it.
async fn visible_in(
    tx: &mut WriteTx,
    who: &Authenticated,
    id: DirectionId,
) -> Result<Direction, AppError> {
    let direction = tx.direction(id).await?;
    if may_see(who, &direction) {
        Ok(direction)
    } else {
        Err(AppError::NotFound)
    }
}

/// Applies `event` to `direction` and stores the result with its history entry.
async fn change(
    tx: &mut WriteTx,
    who: &Authenticated,
    direction: &Direction,
    event: DirectionEvent,
    note: Option<&DirectionNote>,
) -> Result<Direction, AppError> {
    let after = direction
        .after(event, who.user.id, Timestamp::now(), note)
        .map_err(|e| match e {
            DirectionChangeError::ConsentNotNeeded => AppError::Refused {
                title: "Consent cannot be asked for this direction".to_owned(),
                refusals: vec![Refusal {
                    condition: "consent".to_owned(),
                    paragraph: "¶9".to_owned(),
                    message: e.to_string(),
                }],
            },
            DirectionChangeError::NotNow { .. } => AppError::Conflict(e.to_string()),
        })?;
    tx.change_direction(direction, &after, event, who.user.id, note)
        .await?;
    Ok(after)
}

/// Whether `org` may see `request`: its own requests, requests to it or through it
/// once sent, and (the Director General's delegates acting for the whole agency) every
/// sent request raised by a national agency body.
fn request_visible_to(request: &Request, org: &OrgCode, registry: &ReferenceData) -> bool {
    if request.requester == *org {
        return true;
    }
    if request.state == RequestState::Draft {
        return false;
    }
    request.receiver == *org
        || request.route.gateway() == Some(org)
        || raised_by_agency(request, registry)
}

fn raised_by_agency(request: &Request, registry: &ReferenceData) -> bool {
    registry
        .organisation(&request.requester)
        .is_some_and(|o| o.kind.is_national_agency_body())
}

/// A direction follows the agency's own voluntary request to the same recipient (¶9).
fn check_request_leads_to(
    request: &Request,
    recipient: &Organisation,
    registry: &ReferenceData,
) -> Result<(), AppError> {
    let mut errors = vec![];
    if !raised_by_agency(request, registry) {
        errors.push(FieldProblem {
            field: "request".to_owned(),
            message: format!(
                "was raised by `{}`; a direction follows a request the national agency made (¶9)",
                request.requester
            ),
        });
    }
    if request.receiver != recipient.code {
        errors.push(FieldProblem {
            field: "request".to_owned(),
            message: format!(
                "was addressed to `{}`, not to the recipient `{}`",
                request.receiver, recipient.code
            ),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn refused(title: &str, refusals: Vec<DirectionRefusal>) -> AppError {
    AppError::Refused {
        title: title.to_owned(),
        refusals: refusals.into_iter().map(Refusal::from).collect(),
    }
}

fn entry(who: &Authenticated, source: &str, action: &'static str, id: DirectionId) -> AuditEntry {
    AuditEntry::new(who.actor(), action)
        .record(RecordRef::new("direction", id))
        .source(source)
}
