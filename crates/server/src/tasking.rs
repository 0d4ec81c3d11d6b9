//! Tasking shared by the API and the command line: subjects, requests both ways, the
//! recommendation, decisions, charging exceptions, operations and the deadline sweep.
//!
//! Every function here checks who may do what (organisation and role) before it reads
//! or changes anything, and every change is one store transaction committed with its
//! audit entry. A record the user's organisation may not see is answered as not found.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::notify::{self, Notice};
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::decision::{
    Charging, ChargingTerms, Decision, DecisionId, DepartureReason, NdmRationale, Outcome,
    ProposedDecision, Recommendation, Roles, check_decision,
};
use concordat_domain::handling::RecordKind;
use concordat_domain::notification::NoticeKind;
use concordat_domain::operation::{
    CodeName, Operation, OperationId, OperationOutcome, Reason, RoleHistory,
};
use concordat_domain::people::Role;
use concordat_domain::policy::{ExistingInvestigation, Facts, Policy, differences};
use concordat_domain::registry::{OrgCode, Organisation, ReferenceData};
use concordat_domain::subject::{
    Designation, DesignationBasis, PriorityDesignation, Subject, SubjectId, SubjectKind,
    SubjectName,
};
use concordat_domain::tasking::{
    CaseText, Geography, Request, RequestEvent, RequestId, RequestKind, RequestState, RequestTitle,
    Sophistication, Urgency, route,
};
use concordat_domain::threat::{Strand, ThreatAreas};
use concordat_domain::time::Timestamp;
use concordat_store::{
    DecisionRecord, NewOperation, NewSubject, OperationSummary, RequestBox, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The roles that read operational records. An account that is only an administrator
/// manages people, not casework.
pub const READERS: &[Role] = &[
    Role::TaskingOfficer,
    Role::CaseOfficer,
    Role::Analyst,
    Role::GroupChair,
    Role::SeniorDecisionMaker,
    Role::Viewer,
];

/// Refuses unless the user holds one of `roles`.
pub fn require_any(who: &Authenticated, roles: &[Role]) -> Result<(), AppError> {
    if roles.iter().any(|r| who.user.has_role(*r)) {
        return Ok(());
    }
    let names: Vec<String> = roles.iter().map(|r| r.as_str().replace('-', " ")).collect();
    Err(AppError::Forbidden(format!(
        "this needs one of these roles: {}",
        names.join(", ")
    )))
}

fn organisation<'a>(
    registry: &'a ReferenceData,
    field: &'static str,
    code: &OrgCode,
) -> Result<&'a Organisation, AppError> {
    registry
        .organisation(code)
        .ok_or_else(|| AppError::field(field, format!("there is no organisation `{code}`")))
}

fn audit(who: &Authenticated, action: &'static str, record: RecordRef, source: &str) -> AuditEntry {
    AuditEntry::new(who.actor(), action)
        .record(record)
        .source(source)
}

// ---------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------

/// A subject to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubjectInput {
    /// What it is.
    pub kind: SubjectKind,
    /// What it is called.
    pub name: SubjectName,
    /// Its designation (standard unless an analyst has assessed it).
    pub designation: PriorityDesignation,
    /// The basis for the designation.
    pub basis: DesignationBasis,
    /// Its protective marking; OFFICIAL if absent. Never above your own vetting.
    #[serde(default)]
    pub marking: concordat_domain::handling::Marking,
}

/// A subject with every designation it has had.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectDetail {
    /// The subject, with its current designation.
    #[serde(flatten)]
    pub subject: Subject,
    /// Every designation, oldest first.
    pub designations: Vec<Designation>,
}

/// Records a subject for the user's organisation. A designation other than standard
/// needs an analyst (¶5: designations are the analysts' assessment).
pub async fn create_subject(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    input: NewSubjectInput,
) -> Result<Subject, AppError> {
    require_any(
        who,
        &[Role::Analyst, Role::TaskingOfficer, Role::CaseOfficer],
    )?;
    if input.designation != PriorityDesignation::Standard {
        who.require(Role::Analyst)?;
    }
    let mut tx = state.store.write().await?;
    let subject = tx
        .insert_subject(
            &NewSubject {
                kind: input.kind,
                name: input.name,
                organisation: who.user.organisation.clone(),
                level: input.designation,
                basis: input.basis,
            },
            who.user.id,
        )
        .await?;
    crate::handling::mark_new(
        &mut tx,
        who,
        RecordKind::Subject,
        &subject.id.to_string(),
        &input.marking,
    )
    .await?;
    tx.commit(
        audit(
            who,
            "subject.create",
            RecordRef::new("subject", subject.id),
            source,
        )
        .detail(json!({ "kind": subject.kind, "designation": subject.designation.level })),
    )
    .await?;
    Ok(subject)
}

/// A subject the user may see, or not found.
pub async fn visible_subject(
    state: &AppState,
    who: &Authenticated,
    id: SubjectId,
) -> Result<SubjectDetail, AppError> {
    crate::authz::require(state, who, RecordKind::Subject, &id.to_string()).await?;
    let subject = state.store.subject(id).await?;
    let designations = state.store.designations(id).await?;
    Ok(SubjectDetail {
        subject,
        designations,
    })
}

/// The subjects the user's organisation may see.
pub async fn subjects(state: &AppState, who: &Authenticated) -> Result<Vec<Subject>, AppError> {
    require_any(who, READERS)?;
    let parties = state
        .store
        .subjects_visible_to(&who.user.organisation)
        .await?;
    crate::authz::retain_visible(
        state,
        who,
        RecordKind::Subject,
        parties,
        |s| s.id.to_string(),
        |id| async move { Ok(state.store.subject(crate::api::path_id(&id)?).await?) },
    )
    .await
}

/// A new designation of a subject.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationInput {
    /// The designation.
    pub designation: PriorityDesignation,
    /// Its basis.
    pub basis: DesignationBasis,
}

/// Records a new designation of one of the organisation's subjects, by an analyst.
pub async fn designate(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: SubjectId,
    input: DesignationInput,
) -> Result<SubjectDetail, AppError> {
    let detail = visible_subject(state, who, id).await?;
    who.require(Role::Analyst)?;
    if detail.subject.organisation != who.user.organisation {
        return Err(AppError::Forbidden(
            "only the recording organisation's analysts designate a subject".to_owned(),
        ));
    }
    let mut tx = state.store.write().await?;
    tx.designate(
        id,
        input.designation,
        &input.basis,
        who.user.id,
        Timestamp::now(),
    )
    .await?;
    tx.commit(
        audit(
            who,
            "subject.designate",
            RecordRef::new("subject", id),
            source,
        )
        .detail(json!({ "designation": input.designation })),
    )
    .await?;
    visible_subject(state, who, id).await
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// A request to raise, as a draft of the user's organisation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestInput {
    /// One line that says what it is about.
    pub title: RequestTitle,
    /// What it asks for.
    pub kind: RequestKind,
    /// The organisation asked.
    #[schema(value_type = String)]
    pub receiver: OrgCode,
    /// For capability or capacity at the border, the Joint Border Intelligence Unit
    /// that is the gateway (¶22).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub border_gateway: Option<OrgCode>,
    /// The threat areas concerned.
    pub threat_areas: ThreatAreas,
    /// The subjects concerned (ones the organisation may see).
    #[serde(default)]
    pub subjects: Vec<SubjectId>,
    /// Where the activity is.
    pub geography: Geography,
    /// How sophisticated the criminality is.
    #[serde(default = "standard")]
    pub sophistication: Sophistication,
    /// How soon an answer is needed.
    pub urgency: Urgency,
    /// The case: what is happening, what is asked, and why.
    pub case: CaseText,
    /// Its protective marking; OFFICIAL if absent. Never above your own vetting.
    #[serde(default)]
    pub marking: concordat_domain::handling::Marking,
}

fn standard() -> Sophistication {
    Sophistication::Standard
}

/// The request `id`, if the user may see it; otherwise not found.
pub async fn visible_request(
    state: &AppState,
    who: &Authenticated,
    id: RequestId,
) -> Result<Request, AppError> {
    crate::authz::require(state, who, RecordKind::Request, &id.to_string()).await?;
    Ok(state.store.request(id, &state.rules.registry).await?)
}

/// The requests the user's organisation sent or received.
pub async fn requests(
    state: &AppState,
    who: &Authenticated,
    which: RequestBox,
    in_state: Option<RequestState>,
) -> Result<Vec<Request>, AppError> {
    require_any(who, READERS)?;
    let parties = state
        .store
        .requests_for(
            &who.user.organisation,
            which,
            in_state,
            &state.rules.registry,
        )
        .await?;
    crate::authz::retain_visible(
        state,
        who,
        RecordKind::Request,
        parties,
        |r| r.id.to_string(),
        |id| async move {
            Ok(state
                .store
                .request(crate::api::path_id(&id)?, &state.rules.registry)
                .await?)
        },
    )
    .await
    .map(|found| {
        found
            .into_iter()
            .filter(|r| in_state.is_none_or(|s| r.state == s))
            .filter(|r| {
                let org = &who.user.organisation;
                match which {
                    RequestBox::All => true,
                    RequestBox::Sent => r.requester == *org,
                    RequestBox::Received => r.receiver == *org || r.route.gateway() == Some(org),
                }
            })
            .collect()
    })
}

/// Checks that every subject exists and that the organisation may see it.
async fn check_subjects(
    state: &AppState,
    who: &Authenticated,
    subjects: &[SubjectId],
) -> Result<(), AppError> {
    if subjects.is_empty() {
        return Ok(());
    }
    let visible = state
        .store
        .subjects_visible_to(&who.user.organisation)
        .await?;
    for id in subjects {
        if !visible.iter().any(|s| s.id == *id) {
            return Err(AppError::field(
                "subjects",
                format!("there is no subject `{id}` your organisation can see"),
            ));
        }
    }
    Ok(())
}

/// Raises a request as a draft of the user's organisation, routed by ¶21–24.
pub async fn raise(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    input: NewRequestInput,
) -> Result<Request, AppError> {
    require_any(who, &[Role::TaskingOfficer, Role::CaseOfficer])?;
    let registry = &state.rules.registry;
    let from = organisation(registry, "requester", &who.user.organisation)?;
    let to = organisation(registry, "receiver", &input.receiver)?;
    let gateway = input
        .border_gateway
        .as_ref()
        .map(|code| organisation(registry, "border_gateway", code))
        .transpose()?;
    let route = route(registry, from, to, gateway).map_err(|e| {
        let field = match e {
            concordat_domain::tasking::RoutingError::NotAJbiu(_) => "border_gateway",
            _ => "receiver",
        };
        AppError::field(field, e.to_string())
    })?;
    if let RequestKind::Capability { capability } = &input.kind
        && registry.capability(capability).is_none()
    {
        return Err(AppError::field(
            "kind.capability",
            format!("`{capability}` is not in the capability catalogue"),
        ));
    }
    input.geography.resolve(registry)?;
    check_subjects(state, who, &input.subjects).await?;
    let mut subjects = input.subjects;
    subjects.sort();
    subjects.dedup();
    let request = Request {
        id: RequestId::new(),
        title: input.title,
        kind: input.kind,
        requester: from.code.clone(),
        receiver: to.code.clone(),
        route,
        threat_areas: input.threat_areas,
        subjects,
        geography: input.geography,
        sophistication: input.sophistication,
        urgency: input.urgency,
        case: input.case,
        state: RequestState::Draft,
        raised_by: who.user.id,
        raised_at: Timestamp::now(),
        submitted_at: None,
        respond_by: None,
        overdue: false,
    };
    let mut tx = state.store.write().await?;
    tx.insert_request(&request).await?;
    crate::handling::mark_new(
        &mut tx,
        who,
        RecordKind::Request,
        &request.id.to_string(),
        &input.marking,
    )
    .await?;
    tx.commit(
        audit(who, "request.raise", RecordRef::new("request", request.id), source).detail(
            json!({ "receiver": request.receiver, "kind": request.kind.as_str(), "route": request.route }),
        ),
    )
    .await?;
    Ok(request)
}

/// Moves a request by `event`, checking who may: the requester's tasking officers
/// submit and withdraw; the receiver's tasking officers start the assessment.
pub async fn transition(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RequestId,
    event: RequestEvent,
    note: Option<String>,
) -> Result<Request, AppError> {
    let request = visible_request(state, who, id).await?;
    who.require(Role::TaskingOfficer)?;
    let (side, action) = match event {
        RequestEvent::Submit => (&request.requester, "request.submit"),
        RequestEvent::Withdraw => (&request.requester, "request.withdraw"),
        RequestEvent::StartAssessment => (&request.receiver, "request.start-assessment"),
        RequestEvent::Accept | RequestEvent::Decline | RequestEvent::Expire => {
            return Err(AppError::Conflict(
                "decisions and expiry have their own routes".to_owned(),
            ));
        }
    };
    if *side != who.user.organisation {
        return Err(AppError::Forbidden(format!(
            "only {side}'s tasking officers can do this"
        )));
    }
    let submitted = (event == RequestEvent::Submit).then(|| {
        let now = Timestamp::now();
        let allowed = state.rules.policy.deadlines().allowed(request.urgency);
        (now, now.plus(allowed))
    });
    let mut tx = state.store.write().await?;
    let to = tx
        .move_request(
            id,
            request.state,
            event,
            Some(who.user.id),
            note.as_deref(),
            submitted,
        )
        .await?;
    if event == RequestEvent::Submit {
        let message = format!(
            "{} request from {}: {}",
            request.urgency.as_str(),
            request.requester,
            request.title
        );
        let cleared_for = tx
            .marking(RecordKind::Request, &id.to_string())
            .await?
            .classification;
        for organisation in std::iter::once(&request.receiver).chain(request.route.gateway()) {
            notify::send(
                &mut tx,
                &Notice {
                    organisation: organisation.clone(),
                    roles: &[Role::TaskingOfficer],
                    cleared_for,
                    kind: NoticeKind::RequestReceived,
                    record: RecordRef::new("request", id),
                    message: message.clone(),
                },
            )
            .await?;
        }
    }
    tx.commit(
        audit(who, action, RecordRef::new("request", id), source)
            .detail(json!({ "from": request.state, "to": to })),
    )
    .await?;
    Ok(state.store.request(id, &state.rules.registry).await?)
}

/// The facts the policy weighs for `request`, as they stood at `as_of` (now, for a
/// live recommendation; the decision's time, for a replay).
async fn recommend_with(
    state: &AppState,
    policy: &Policy,
    request: &Request,
    as_of: Option<Timestamp>,
) -> Result<Recommendation, AppError> {
    let registry = &state.rules.registry;
    let requester = organisation(registry, "requester", &request.requester)?;
    let receiver = organisation(registry, "receiver", &request.receiver)?;
    let subjects = state.store.subjects_as_of(&request.subjects, as_of).await?;
    let geography = request.geography.resolve(registry)?;
    let existing: Vec<ExistingInvestigation> = state
        .store
        .investigations_on(&request.subjects, as_of)
        .await?
        .into_iter()
        .map(|i| ExistingInvestigation {
            code_name: i.code_name.to_string(),
            lead: i.lead,
        })
        .collect();
    Ok(policy.evaluate(
        &Facts {
            requester,
            receiver,
            kind: &request.kind,
            threat_areas: &request.threat_areas,
            subjects: &subjects,
            geography: &geography,
            sophistication: request.sophistication,
            urgency: request.urgency,
            existing: &existing,
        },
        registry,
    ))
}

/// What the policy recommends for a request the user may see, now.
pub async fn recommendation(
    state: &AppState,
    who: &Authenticated,
    id: RequestId,
) -> Result<Recommendation, AppError> {
    let request = visible_request(state, who, id).await?;
    recommend_with(state, &state.rules.policy, &request, None).await
}

/// Where an accepted request's work goes: a new operation, or one already running.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum OperationChoice {
    /// Open a new operation.
    Create {
        /// Its code name.
        code_name: CodeName,
        /// Its 4P strands.
        strands: Vec<Strand>,
    },
    /// Join an operation the decider's or the requester's organisation is party to;
    /// its roles change to the decision's.
    Join {
        /// The operation.
        operation: OperationId,
    },
}

/// A decision to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// Accepted or declined.
    pub outcome: Outcome,
    /// For an acceptance: who leads, supports and coordinates.
    #[serde(default)]
    pub roles: Option<Roles>,
    /// For a decline: who is better placed.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub referral: Option<OrgCode>,
    /// The rationale in the five stages of the National Decision Model.
    pub rationale: NdmRationale,
    /// Why the decision departs from the recommendation, when it does.
    #[serde(default)]
    pub departure_reason: Option<DepartureReason>,
    /// For an acceptance: the operation it creates or joins. Superseding an accepted
    /// decision keeps its operation when this is absent.
    #[serde(default)]
    pub operation: Option<OperationChoice>,
    /// The decision in force that this one replaces; required once a request is decided.
    #[serde(default)]
    pub supersedes: Option<DecisionId>,
}

/// Records the receiver's decision: checks it against the recommendation (a departure
/// needs a reason), takes the charging from an agreed exception (¶10), moves the
/// request, and opens or updates the operation with time-versioned roles.
pub async fn decide(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RequestId,
    input: DecisionInput,
) -> Result<DecisionRecord, AppError> {
    let request = visible_request(state, who, id).await?;
    who.require(Role::TaskingOfficer)?;
    if request.receiver != who.user.organisation {
        return Err(AppError::Forbidden(format!(
            "only {}'s tasking officers decide this request",
            request.receiver
        )));
    }
    let registry = &state.rules.registry;
    let recommendation = recommend_with(state, &state.rules.policy, &request, None).await?;
    let agency_role = check_decision(
        &ProposedDecision {
            outcome: input.outcome,
            roles: input.roles.clone(),
            referral: input.referral.clone(),
            departure_reason: input.departure_reason.clone(),
        },
        &recommendation,
        registry,
    )?;
    if input.outcome == Outcome::Declined && input.operation.is_some() {
        return Err(AppError::field(
            "operation",
            "a declined request opens no operation",
        ));
    }
    let now = Timestamp::now();
    let mut tx = state.store.write().await?;
    let earlier = tx.decisions(id).await?;
    let in_force = earlier.iter().rev().find(|d| !d.superseded);
    match (in_force, input.supersedes) {
        (None, Some(_)) => {
            return Err(AppError::field(
                "supersedes",
                "the request has no decision to supersede",
            ));
        }
        (Some(current), None) => {
            return Err(AppError::field(
                "supersedes",
                format!(
                    "the request is decided; name the decision in force ({}) to supersede it",
                    current.decision.id
                ),
            ));
        }
        (Some(current), Some(named)) if current.decision.id != named => {
            return Err(AppError::field(
                "supersedes",
                format!("the decision in force is {}", current.decision.id),
            ));
        }
        _ => {}
    }
    let charging = match tx.charging_proposal(id).await? {
        Some(p) => match (p.agreed_by, ChargingTerms::parse(&p.terms)) {
            (Some(agreed_by), Ok(terms)) => {
                let (requester_agreed_by, receiver_agreed_by) =
                    if p.proposed_side == request.requester {
                        (p.proposed_by, agreed_by)
                    } else {
                        (agreed_by, p.proposed_by)
                    };
                Charging::AgreedException {
                    terms,
                    requester_agreed_by,
                    receiver_agreed_by,
                }
            }
            _ => Charging::None,
        },
        None => Charging::None,
    };
    let event = match input.outcome {
        Outcome::Accepted => RequestEvent::Accept,
        Outcome::Declined => RequestEvent::Decline,
    };
    tx.move_request(id, request.state, event, Some(who.user.id), None, None)
        .await?;
    let operation = match (&input.roles, &input.operation, in_force) {
        (None, _, _) => None,
        (Some(roles), choice, previous) => {
            let reason = Reason::parse(&format!(
                "Decision on request \"{}\" ({})",
                request.title,
                agency_role.as_str()
            ))?;
            let operation = match (choice, previous.and_then(|p| p.operation)) {
                (Some(OperationChoice::Create { code_name, strands }), _) => {
                    tx.insert_operation(
                        &NewOperation {
                            code_name: code_name.clone(),
                            threat_areas: request.threat_areas.clone(),
                            strands: strands.clone(),
                            subjects: request.subjects.clone(),
                            origin_request: Some(id),
                        },
                        who.user.id,
                    )
                    .await?
                }
                (Some(OperationChoice::Join { operation }), _) => {
                    let joined = tx.operation(*operation).await.map_err(|e| match e {
                        StoreError::NotFound => AppError::field(
                            "operation.join.operation",
                            "there is no such operation your organisation is party to",
                        ),
                        other => other.into(),
                    })?;
                    let parties = joined.roles.parties();
                    if !parties.contains(&who.user.organisation)
                        && !parties.contains(&request.requester)
                    {
                        return Err(AppError::field(
                            "operation.join.operation",
                            "there is no such operation your organisation is party to",
                        ));
                    }
                    tx.add_operation_subjects(*operation, &request.subjects)
                        .await?;
                    *operation
                }
                (None, Some(kept)) => kept,
                (None, None) => {
                    return Err(AppError::field(
                        "operation",
                        "an acceptance creates or joins an operation",
                    ));
                }
            };
            let history = tx.role_history(operation).await?;
            if history.current().as_ref() != Some(roles) {
                let change = history.change_to(roles, now, &reason)?;
                tx.change_roles(operation, &change, now, who.user.id)
                    .await?;
                if change.lead_changes {
                    tx.audit(
                        audit(
                            who,
                            "operation.lead-change",
                            RecordRef::new("operation", operation),
                            source,
                        )
                        .detail(json!({ "lead": roles.lead, "reason": reason })),
                    )
                    .await?;
                }
            }
            if let RequestKind::Capability { capability } = &request.kind {
                tx.add_operation_capability(operation, capability, who.user.id)
                    .await?;
            }
            Some(operation)
        }
    };
    let decision = Decision {
        id: DecisionId::new(),
        request: id,
        outcome: input.outcome,
        roles: input.roles,
        referral: input.referral,
        rationale: input.rationale,
        recommendation,
        agency_role,
        departure_reason: input.departure_reason,
        charging,
        decided_by: who.user.id,
        decided_at: now,
        supersedes: input.supersedes,
    };
    tx.insert_decision(&decision, operation).await?;
    let message = format!(
        "{} {} your request: {}",
        request.receiver,
        input.outcome.as_str(),
        request.title
    );
    let cleared_for = tx
        .marking(RecordKind::Request, &id.to_string())
        .await?
        .classification;
    notify::send(
        &mut tx,
        &Notice {
            organisation: request.requester.clone(),
            roles: &[Role::TaskingOfficer],
            cleared_for,
            kind: NoticeKind::RequestDecided,
            record: RecordRef::new("request", id),
            message,
        },
    )
    .await?;
    tx.commit(
        audit(who, "request.decide", RecordRef::new("request", id), source).detail(json!({
            "decision": decision.id,
            "outcome": decision.outcome,
            "agency_role": decision.agency_role,
            "recommended": decision.recommendation.role,
            "departs": decision.departure_reason.is_some(),
            "operation": operation,
            "supersedes": decision.supersedes,
        })),
    )
    .await?;
    Ok(DecisionRecord {
        decision,
        operation,
        superseded: false,
    })
}

/// A charging exception to propose (¶10).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargingInput {
    /// Its terms.
    pub terms: ChargingTerms,
}

/// The side of the request the user's organisation is on, for charging: the
/// requester's or the receiver's tasking officers only.
async fn charging_side(
    state: &AppState,
    who: &Authenticated,
    id: RequestId,
) -> Result<OrgCode, AppError> {
    let request = visible_request(state, who, id).await?;
    who.require(Role::TaskingOfficer)?;
    let org = who.user.organisation.clone();
    if org != request.requester && org != request.receiver {
        return Err(AppError::Forbidden(
            "only the requester and the receiver agree charging".to_owned(),
        ));
    }
    Ok(org)
}

/// Proposes a charging exception; either side's tasking officers may. The other side
/// must agree before a decision carries it.
pub async fn propose_charging(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RequestId,
    input: ChargingInput,
) -> Result<concordat_store::ChargingProposal, AppError> {
    let org = charging_side(state, who, id).await?;
    let mut tx = state.store.write().await?;
    tx.propose_charging(id, input.terms.as_str(), who.user.id, &org)
        .await?;
    tx.commit(audit(
        who,
        "request.charging-propose",
        RecordRef::new("request", id),
        source,
    ))
    .await?;
    state
        .store
        .charging_proposal(id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Agrees the other side's charging proposal.
pub async fn agree_charging(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RequestId,
) -> Result<concordat_store::ChargingProposal, AppError> {
    let org = charging_side(state, who, id).await?;
    let mut tx = state.store.write().await?;
    let proposal = tx
        .charging_proposal(id)
        .await?
        .ok_or_else(|| AppError::Conflict("no charging exception has been proposed".to_owned()))?;
    if proposal.agreed_by.is_some() {
        return Err(AppError::Conflict(
            "the exception is already agreed".to_owned(),
        ));
    }
    if proposal.proposed_side == org {
        return Err(AppError::Forbidden(
            "the other side must agree a charging exception (¶10)".to_owned(),
        ));
    }
    tx.agree_charging(id, who.user.id).await?;
    tx.commit(audit(
        who,
        "request.charging-agree",
        RecordRef::new("request", id),
        source,
    ))
    .await?;
    state
        .store
        .charging_proposal(id)
        .await?
        .ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/// An operation to open, led by the user's organisation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperationInput {
    /// Its code name.
    pub code_name: CodeName,
    /// The threat areas it tackles.
    pub threat_areas: ThreatAreas,
    /// Its 4P strands.
    pub strands: Vec<Strand>,
    /// Its subjects (ones the organisation may see).
    #[serde(default)]
    pub subjects: Vec<SubjectId>,
    /// Organisations supporting from the start.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub support: Vec<OrgCode>,
    /// Why it is opened.
    pub reason: Reason,
}

/// Opens an operation led by the user's organisation.
pub async fn open_operation(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    input: NewOperationInput,
) -> Result<Operation, AppError> {
    who.require(Role::TaskingOfficer)?;
    check_subjects(state, who, &input.subjects).await?;
    let roles = Roles {
        lead: who.user.organisation.clone(),
        support: input.support.into_iter().collect(),
        coordinate: Default::default(),
    };
    roles.check(&state.rules.registry)?;
    let now = Timestamp::now();
    let mut tx = state.store.write().await?;
    let id = tx
        .insert_operation(
            &NewOperation {
                code_name: input.code_name,
                threat_areas: input.threat_areas,
                strands: input.strands,
                subjects: input.subjects,
                origin_request: None,
            },
            who.user.id,
        )
        .await?;
    let change = RoleHistory::default().change_to(&roles, now, &input.reason)?;
    tx.change_roles(id, &change, now, who.user.id).await?;
    tx.commit(
        audit(
            who,
            "operation.open",
            RecordRef::new("operation", id),
            source,
        )
        .detail(json!({ "roles": roles })),
    )
    .await?;
    Ok(state.store.operation(id).await?)
}

/// The operation `id`, if the user's organisation has ever held a role in it.
pub async fn visible_operation(
    state: &AppState,
    who: &Authenticated,
    id: OperationId,
) -> Result<Operation, AppError> {
    crate::authz::require(state, who, RecordKind::Operation, &id.to_string()).await?;
    Ok(state.store.operation(id).await?)
}

/// The operations the user's organisation has held a role in or that are shared with
/// it, newest first, without those above the user's clearance.
pub async fn operations(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<OperationSummary>, AppError> {
    require_any(who, READERS)?;
    let parties = state.store.operations_of(&who.user.organisation).await?;
    crate::authz::retain_visible(
        state,
        who,
        RecordKind::Operation,
        parties,
        |o| o.id.to_string(),
        |id| async move {
            let operation = state.store.operation(crate::api::path_id(&id)?).await?;
            Ok(OperationSummary {
                id: operation.id,
                code_name: operation.code_name,
                lead: operation.roles.current().map(|r| r.lead),
                created_at: operation.created.at,
            })
        },
    )
    .await
}

/// New roles for an operation, from a moment, for a reason.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChangeInput {
    /// Who leads, supports and coordinates from now on.
    pub roles: Roles,
    /// Why: changing the lead is on the record with its reason (¶18).
    pub reason: Reason,
}

/// Changes an operation's roles: the current lead's tasking officers may.
pub async fn change_roles(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: OperationId,
    input: RoleChangeInput,
) -> Result<Operation, AppError> {
    let operation = visible_operation(state, who, id).await?;
    who.require(Role::TaskingOfficer)?;
    let lead = operation.roles.current().map(|r| r.lead);
    if lead.as_ref() != Some(&who.user.organisation) {
        return Err(AppError::Forbidden(
            "only the lead organisation's tasking officers change the roles".to_owned(),
        ));
    }
    input.roles.check(&state.rules.registry)?;
    let now = Timestamp::now();
    let mut tx = state.store.write().await?;
    let history = tx.role_history(id).await?;
    let change = history.change_to(&input.roles, now, &input.reason)?;
    let action = if change.lead_changes {
        "operation.lead-change"
    } else {
        "operation.roles-change"
    };
    tx.change_roles(id, &change, now, who.user.id).await?;
    tx.commit(
        audit(who, action, RecordRef::new("operation", id), source)
            .detail(json!({ "roles": input.roles, "reason": input.reason })),
    )
    .await?;
    Ok(state.store.operation(id).await?)
}

/// Records an outcome: tasking or case officers of an organisation holding a role now.
pub async fn record_outcome(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: OperationId,
    outcome: OperationOutcome,
) -> Result<Operation, AppError> {
    let operation = visible_operation(state, who, id).await?;
    require_any(who, &[Role::TaskingOfficer, Role::CaseOfficer])?;
    let holds_now = operation
        .roles
        .0
        .iter()
        .any(|s| s.until.is_none() && s.organisation == who.user.organisation);
    if !holds_now {
        return Err(AppError::Forbidden(
            "only organisations with a role in the operation now record its outcomes".to_owned(),
        ));
    }
    outcome.check()?;
    let mut tx = state.store.write().await?;
    let outcome_id = tx.insert_outcome(id, &outcome, who.user.id).await?;
    tx.commit(
        audit(
            who,
            "operation.outcome",
            RecordRef::new("operation", id),
            source,
        )
        .detail(json!({ "outcome": outcome_id, "disruption": outcome.disruption })),
    )
    .await?;
    Ok(state.store.operation(id).await?)
}

// ---------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------

/// What a sweep of deadlines did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Requests newly flagged overdue.
    pub flagged: usize,
    /// Requests expired.
    pub expired: usize,
}

/// Flags requests past their deadline and tells the receiver's tasking officers;
/// expires those undecided `expire_after` past it. Run by the background job.
pub async fn sweep_deadlines(state: &AppState, now: Timestamp) -> Result<SweepReport, AppError> {
    let registry = &state.rules.registry;
    let mut report = SweepReport::default();
    for request in state
        .store
        .requests_past_deadline(now, true, registry)
        .await?
    {
        let mut tx = state.store.write().await?;
        if !tx.flag_overdue(request.id, request.state, now).await? {
            continue;
        }
        let message = format!(
            "Overdue: {} request from {} was due by {}: {}",
            request.urgency.as_str(),
            request.requester,
            request
                .respond_by
                .map(Timestamp::to_rfc3339)
                .unwrap_or_default(),
            request.title
        );
        let cleared_for = tx
            .marking(RecordKind::Request, &request.id.to_string())
            .await?
            .classification;
        notify::send(
            &mut tx,
            &Notice {
                organisation: request.receiver.clone(),
                roles: &[Role::TaskingOfficer],
                cleared_for,
                kind: NoticeKind::RequestOverdue,
                record: RecordRef::new("request", request.id),
                message,
            },
        )
        .await?;
        tx.commit(
            AuditEntry::new(Actor::System, "request.overdue")
                .record(RecordRef::new("request", request.id))
                .source("deadline sweep"),
        )
        .await?;
        report.flagged += 1;
    }
    let grace =
        chrono::Duration::from_std(state.config.expire_after).unwrap_or(chrono::Duration::MAX);
    let cutoff = Timestamp::from_micros(
        now.as_micros()
            .saturating_sub(grace.num_microseconds().unwrap_or(i64::MAX)),
    )
    .unwrap_or(now);
    for request in state
        .store
        .requests_past_deadline(cutoff, false, registry)
        .await?
    {
        let mut tx = state.store.write().await?;
        match tx
            .move_request(
                request.id,
                request.state,
                RequestEvent::Expire,
                None,
                None,
                None,
            )
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        let cleared_for = tx
            .marking(RecordKind::Request, &request.id.to_string())
            .await?
            .classification;
        notify::send(
            &mut tx,
            &Notice {
                organisation: request.requester.clone(),
                roles: &[Role::TaskingOfficer],
                cleared_for,
                kind: NoticeKind::RequestExpired,
                record: RecordRef::new("request", request.id),
                message: format!("Expired undecided: {}", request.title),
            },
        )
        .await?;
        tx.commit(
            AuditEntry::new(Actor::System, "request.expire")
                .record(RecordRef::new("request", request.id))
                .source("deadline sweep"),
        )
        .await?;
        report.expired += 1;
    }
    Ok(report)
}

/// Sweeps deadlines every `every` until the server stops.
pub async fn run_deadline_sweeps(state: AppState) {
    let mut ticks = tokio::time::interval(state.config.deadline_sweep_every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match state.deconfliction.sweep_expired(Timestamp::now()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "registrations left the matching index"),
            Err(e) => tracing::warn!(error = %e, "registration expiry sweep failed"),
        }
        let deconfliction = state.deconfliction.clone();
        match tokio::task::spawn_blocking(move || deconfliction.retrain_if_grown()).await {
            Ok(Ok(true)) => tracing::info!("deconfliction model re-estimated"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "re-estimating the model failed"),
            Err(e) => tracing::warn!(error = %e, "re-estimating the model failed"),
        }
        match crate::events::escalate(&state, Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(escalated = n, "unacknowledged clashes escalated"),
            Err(e) => tracing::warn!(error = %e, "clash escalation sweep failed"),
        }
        if state.config.morning_packs {
            match crate::briefing::keep_morning_packs(&state, Timestamp::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(kept = n, "morning packs kept"),
                Err(e) => tracing::warn!(error = %e, "keeping the morning packs failed"),
            }
        }
        match sweep_deadlines(&state, Timestamp::now()).await {
            Ok(r) if r.flagged + r.expired > 0 => {
                tracing::info!(flagged = r.flagged, expired = r.expired, "deadline sweep");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Policy replay
// ---------------------------------------------------------------------------------------

/// How one decided request fares under another policy.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayLine {
    /// The request.
    pub request: RequestId,
    /// Its title.
    pub title: String,
    /// The decision in force.
    pub decision: DecisionId,
    /// The policy version that recommended at the time.
    pub recorded_version: String,
    /// What would change, in plain English; empty when nothing would.
    pub changes: Vec<String>,
    /// Whether the decision taken would now depart from the recommendation.
    pub decision_would_depart: bool,
}

/// Re-evaluates every request's decision in force against `policy`, with the facts
/// as they stood when it was decided. `progress` is told after each request.
pub async fn replay(
    state: &AppState,
    policy: &Policy,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<ReplayLine>, AppError> {
    let decisions = state.store.current_decisions().await?;
    let total = decisions.len();
    let mut lines = Vec::with_capacity(total);
    for (done, record) in decisions.into_iter().enumerate() {
        let decision = record.decision;
        let request = state
            .store
            .request(decision.request, &state.rules.registry)
            .await?;
        let before = Timestamp::from_micros(decision.decided_at.as_micros().saturating_sub(1));
        let after = recommend_with(state, policy, &request, before).await?;
        let departs_now = after.role != decision.agency_role
            || decision
                .roles
                .as_ref()
                .is_some_and(|r| r.lead != after.lead);
        lines.push(ReplayLine {
            request: request.id,
            title: request.title.to_string(),
            decision: decision.id,
            recorded_version: decision.recommendation.policy_version.clone(),
            changes: differences(&decision.recommendation, &after),
            decision_would_depart: departs_now,
        });
        progress(done + 1, total);
    }
    Ok(lines)
}
