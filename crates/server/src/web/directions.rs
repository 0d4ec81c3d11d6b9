//! Directed tasking in the browser (¶9, ¶11): the directions a user may see, a draft
//! with the legal preconditions shown as a checklist that explains each failure, and a
//! direction's page with the steps its state and the user's role allow (consent,
//! issue, acknowledgement, compliance). Each page is authorised by the rule of the API
//! route it mirrors, and calls the same services in `crate::directions`.

use super::operations::{org_name, organisation_choices};
use super::{
    Choice, Chrome, CsrfForm, FormState, PageUser, london, page, page_error, shown, words,
};
use crate::auth::{Authenticated, Principal};
use crate::authz::{may_call, permit_route};
use crate::directions::{self, DirectionDraft};
use crate::error::{AppError, Refusal};
use crate::{AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concordat_domain::direction::{
    ComplianceOutcome, ConsentAnswer, Direction, DirectionEvent, DirectionId, DirectionNote,
    DirectionRecipient, DirectionState, TransportConsent,
};
use concordat_domain::handling::RecordKind;
use concordat_domain::people::{FieldError, Role};
use concordat_domain::registry::OrgCode;
use concordat_domain::tasking::RequestState;
use concordat_store::RequestBox;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/directions", get(list))
        .route("/directions/new", get(new_direction).post(draft))
        .route("/directions/{id}", get(show))
        .route("/directions/{id}/consent-request", post(request_consent))
        .route("/directions/{id}/consent", post(record_consent))
        .route("/directions/{id}/issue", post(issue))
        .route("/directions/{id}/acknowledgement", post(acknowledge))
        .route("/directions/{id}/compliance", post(record_compliance))
}

fn state_tag(state: DirectionState) -> &'static str {
    match state {
        DirectionState::Drafted => "tag-grey",
        DirectionState::ConsentRequested => "tag-yellow",
        DirectionState::ConsentGiven | DirectionState::Acknowledged => "tag-green",
        DirectionState::Issued => "tag-orange",
        DirectionState::ConsentRefused | DirectionState::NotComplied => "tag-red",
        DirectionState::Complied => "tag-green",
    }
}

fn recipient_text(kind: DirectionRecipient) -> &'static str {
    match kind {
        DirectionRecipient::EnglandAndWalesForce => "A police force in England and Wales (¶9)",
        DirectionRecipient::BritishTransportPolice => {
            "The British Transport Police, with the Transport Secretary's consent (¶9)"
        }
        DirectionRecipient::HomeOfficeBorderFunctions => {
            "Home Office border functions, under the protocol (¶11)"
        }
    }
}

/// A message from the rules as a sentence.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The first line of the instructions, shortened for a table.
fn excerpt(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 90 {
        let short: String = line.chars().take(88).collect();
        format!("{}…", short.trim_end())
    } else {
        line.to_owned()
    }
}

struct DirectionRow {
    id: DirectionId,
    recipient: String,
    instructions: String,
    state: DirectionState,
    drafted: String,
    issued: Option<String>,
}

impl DirectionRow {
    fn state_tag(&self) -> &'static str {
        state_tag(self.state)
    }
}

#[derive(Template)]
#[template(path = "directions.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<DirectionRow>,
    may_draft: bool,
}

/// Whether `who` may draft: the API route's rule and the Director General's authority
/// the service requires (¶9).
fn may_direct(who: &Authenticated, path: &str) -> bool {
    may_call(who, "POST", path) && directions::require_dg_authority(who).is_ok()
}

async fn list(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/directions", &[]).await?;
        let found = directions::list(&state, &Principal(who.clone())).await?;
        Ok::<_, AppError>(ListPage {
            chrome: Chrome::new(&who, "/directions"),
            rows: found
                .iter()
                .map(|d| DirectionRow {
                    id: d.id,
                    recipient: org_name(&state, &d.recipient),
                    instructions: excerpt(d.instructions.as_str()),
                    state: d.state,
                    drafted: london(d.drafted_at),
                    issued: d.issued_at.map(london),
                })
                .collect(),
            may_draft: may_direct(&who, "/api/v1/directions"),
        })
    }
    .await;
    shown(result)
}

// ---------------------------------------------------------------------------------------
// Drafting, with the checklist
// ---------------------------------------------------------------------------------------

/// Where a precondition stands.
#[derive(PartialEq)]
enum Standing {
    /// Checked when the direction is drafted.
    Unchecked,
    Met,
    NotMet(String),
    /// It does not apply to this recipient.
    NotApplicable,
    /// Checked when the direction is issued.
    AtIssue,
}

/// One legal precondition of a direction, with where it stands.
struct Condition {
    /// The domain's name for it (`voluntary-route`), which refusals cite.
    name: &'static str,
    paragraph: &'static str,
    requirement: &'static str,
    standing: Standing,
}

impl Condition {
    fn class(&self) -> &'static str {
        match self.standing {
            Standing::Met => "met",
            Standing::NotMet(_) => "unmet",
            Standing::NotApplicable => "not-applicable",
            Standing::Unchecked | Standing::AtIssue => "pending",
        }
    }

    fn verdict(&self) -> &'static str {
        match self.standing {
            Standing::Met => "met",
            Standing::NotMet(_) => "not met",
            Standing::NotApplicable => "does not apply",
            Standing::Unchecked => "checked when you draft",
            Standing::AtIssue => "checked when the direction is issued",
        }
    }

    fn explanation(&self) -> &str {
        match &self.standing {
            Standing::NotMet(why) => why,
            _ => "",
        }
    }
}

/// The preconditions of ¶9 and ¶11, as `concordat_domain::direction::check_draft` and
/// `check_issue` name them.
const CONDITIONS: &[(&str, &str, &str)] = &[
    (
        "authority",
        "¶9",
        "You are the Director General, or hold the Director General's delegated authority, in the national agency",
    ),
    (
        "recipient",
        "¶9",
        "The recipient can be directed: a police force in England and Wales, the British Transport Police, or Home Office border functions under ¶11",
    ),
    (
        "voluntary-route",
        "¶9",
        "The recipient was asked voluntarily first, and declined, let the request expire, or cannot answer in time",
    ),
    (
        "protocol",
        "¶11",
        "For Home Office border functions: the protocol between the Home Secretary and the Director General is in force",
    ),
    (
        "consent",
        "¶9",
        "For the British Transport Police: the Secretary of State for Transport consents",
    ),
];

/// The checklist before anything is checked: only the drafter's authority is known.
fn checklist_unchecked(who: &Authenticated) -> Vec<Condition> {
    CONDITIONS
        .iter()
        .map(|(name, paragraph, requirement)| Condition {
            name,
            paragraph,
            requirement,
            standing: match (*name, directions::require_dg_authority(who)) {
                ("authority", Ok(())) => Standing::Met,
                ("authority", Err(AppError::Forbidden(why))) => Standing::NotMet(why),
                ("consent", _) => Standing::AtIssue,
                _ => Standing::Unchecked,
            },
        })
        .collect()
}

/// The checklist after the rules refused a draft to `recipient` with `refusals`: the
/// conditions refused are not met, the others are, or do not apply to this recipient.
fn checklist_refused(
    state: &AppState,
    recipient: Option<&OrgCode>,
    refusals: &[Refusal],
) -> Vec<Condition> {
    let kind = recipient
        .and_then(|code| state.rules.registry.organisation(code))
        .and_then(|org| concordat_domain::direction::recipient(org).ok());
    CONDITIONS
        .iter()
        .map(|(name, paragraph, requirement)| {
            let refused: Vec<&str> = refusals
                .iter()
                .filter(|r| r.condition == *name)
                .map(|r| r.message.as_str())
                .collect();
            let standing = if !refused.is_empty() {
                Standing::NotMet(capitalised(&refused.join("; ")))
            } else {
                match *name {
                    "protocol" if kind == Some(DirectionRecipient::HomeOfficeBorderFunctions) => {
                        Standing::Met
                    }
                    "protocol" => Standing::NotApplicable,
                    "consent" if kind == Some(DirectionRecipient::BritishTransportPolice) => {
                        Standing::AtIssue
                    }
                    "consent" => Standing::NotApplicable,
                    "recipient" if kind.is_none() => Standing::Unchecked,
                    _ => Standing::Met,
                }
            };
            Condition {
                name,
                paragraph,
                requirement,
                standing,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "direction_new.html")]
struct DraftPage {
    chrome: Chrome,
    form: FormState,
    checklist: Vec<Condition>,
    recipients: Vec<Choice>,
    requests: Vec<Choice>,
}

impl DraftPage {
    async fn new(
        state: &AppState,
        who: &Authenticated,
        form: FormState,
        checklist: Vec<Condition>,
    ) -> Result<Self, AppError> {
        let registry = &state.rules.registry;
        let recipients = organisation_choices(state)
            .into_iter()
            .filter(|c| {
                OrgCode::parse(&c.value)
                    .ok()
                    .and_then(|code| registry.organisation(&code))
                    .is_some_and(|o| !o.kind.is_national_agency_body())
            })
            .collect();
        // The agency's own requests, sent: a direction follows one (¶9).
        let requests = match crate::tasking::requests(state, who, RequestBox::All, None).await {
            Ok(found) => found
                .into_iter()
                .filter(|r| {
                    r.state != RequestState::Draft
                        && registry
                            .organisation(&r.requester)
                            .is_some_and(|o| o.kind.is_national_agency_body())
                })
                .map(|r| {
                    Choice::new(
                        r.id.to_string(),
                        format!(
                            "{} — to {} ({})",
                            r.title.as_str(),
                            org_name(state, &r.receiver),
                            r.state.as_str().replace('-', " ")
                        ),
                    )
                })
                .collect(),
            Err(AppError::Forbidden(_)) => vec![],
            Err(e) => return Err(e),
        };
        Ok(Self {
            chrome: Chrome::new(who, "/directions"),
            form,
            checklist,
            recipients,
            requests,
        })
    }
}

async fn new_direction(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", "/api/v1/directions", &[]).await?;
        let checklist = checklist_unchecked(&who);
        DraftPage::new(&state, &who, FormState::default(), checklist).await
    }
    .await;
    shown(result)
}

async fn draft(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", "/api/v1/directions", &[]).await?;
        let needed_by = form
            .optional("needed_by", "When it is needed by:", |raw| {
                concordat_domain::events::london_time("needed_by", raw)
            })
            .flatten();
        let mut checklist = checklist_unchecked(&who);
        let parsed = DirectionDraft::parse(
            form.value("recipient").trim(),
            form.given("request"),
            form.value("instructions"),
            needed_by,
        );
        let outcome = match parsed {
            Ok(_) if form.has_errors() => None,
            Ok(draft) => {
                Some(directions::draft(&state, &Principal(who.clone()), &source, draft).await)
            }
            Err(e) => Some(Err(e)),
        };
        match outcome {
            None => {}
            Some(Ok(direction)) => return Ok(Err(direction.id)),
            Some(Err(AppError::Refused { title, refusals })) => {
                let recipient = OrgCode::parse(form.value("recipient").trim()).ok();
                checklist = checklist_refused(&state, recipient.as_ref(), &refusals);
                form.take(AppError::Refused { title, refusals }, &[], "checklist")?;
            }
            Some(Err(AppError::Forbidden(why))) => {
                form.fail("checklist", capitalised(&why));
            }
            Some(Err(AppError::NotFound)) => {
                form.fail(
                    "request",
                    "The request is not one the national agency made that you may see",
                );
            }
            Some(Err(e)) => form.take(e, &[], "recipient")?,
        }
        Ok(Ok(DraftPage::new(&state, &who, form, checklist).await?))
    }
    .await;
    match result {
        Ok(Err(id)) => Redirect::to(&format!("/directions/{id}")).into_response(),
        Ok(Ok(page_)) => page(StatusCode::UNPROCESSABLE_ENTITY, &page_),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// A direction's page and its steps
// ---------------------------------------------------------------------------------------

struct HistoryView {
    event: String,
    state: DirectionState,
    at: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "direction.html")]
struct DirectionPage {
    chrome: Chrome,
    banner: String,
    direction: Direction,
    recipient: String,
    recipient_kind: &'static str,
    drafted: String,
    issued: Option<String>,
    acknowledged: Option<String>,
    needed_by: Option<String>,
    history: Vec<HistoryView>,
    may_request_consent: bool,
    may_consent: bool,
    may_issue: bool,
    may_acknowledge: bool,
    may_comply: bool,
    form: FormState,
    answers: Vec<Choice>,
    outcomes: Vec<Choice>,
}

impl DirectionPage {
    fn state_tag(&self) -> &'static str {
        state_tag(self.direction.state)
    }

    fn any_action(&self) -> bool {
        self.may_request_consent
            || self.may_consent
            || self.may_issue
            || self.may_acknowledge
            || self.may_comply
    }

    fn consent_text(&self) -> &'static str {
        match self.direction.transport_consent {
            TransportConsent::NotRecorded => "Not recorded",
            TransportConsent::Given => "Given",
            TransportConsent::Refused => "Refused",
        }
    }
}

fn direction_id(raw: &str) -> Result<DirectionId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn direction_page(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: DirectionId,
    form: Option<FormState>,
) -> Result<DirectionPage, AppError> {
    let principal = Principal(who.clone());
    let view = directions::show(state, &principal, id).await?;
    crate::reads::record_read(state, &principal, source, "direction", id, "direction").await?;
    let marking = state
        .store
        .marking(RecordKind::Direction, &id.to_string())
        .await?;
    let direction = view.direction;
    let can = |event: DirectionEvent| direction.state.apply(event).is_ok();
    let btp = direction.recipient_kind == DirectionRecipient::BritishTransportPolice;
    let directs = |path: &str| may_direct(who, path);
    let officer =
        who.user.has_role(Role::TaskingOfficer) || who.user.has_role(Role::SeniorDecisionMaker);
    Ok(DirectionPage {
        chrome: Chrome::new(who, "/directions"),
        banner: marking.banner(),
        recipient: org_name(state, &direction.recipient),
        recipient_kind: recipient_text(direction.recipient_kind),
        drafted: london(direction.drafted_at),
        issued: direction.issued_at.map(london),
        acknowledged: direction.acknowledged_at.map(london),
        needed_by: direction.needed_by.map(london),
        history: view
            .history
            .into_iter()
            .map(|h| HistoryView {
                event: words(&h.event),
                state: h.state,
                at: london(h.at),
                note: h.note,
            })
            .collect(),
        may_request_consent: btp
            && can(DirectionEvent::RequestConsent)
            && directs("/api/v1/directions/{id}/consent-request"),
        may_consent: btp
            && can(DirectionEvent::GiveConsent)
            && directs("/api/v1/directions/{id}/consent"),
        may_issue: can(DirectionEvent::Issue)
            && (!btp || direction.transport_consent == TransportConsent::Given)
            && directs("/api/v1/directions/{id}/issue"),
        may_acknowledge: can(DirectionEvent::Acknowledge)
            && who.user.organisation == direction.recipient
            && officer
            && may_call(who, "POST", "/api/v1/directions/{id}/acknowledgement"),
        may_comply: can(DirectionEvent::Comply) && directs("/api/v1/directions/{id}/compliance"),
        form: form.unwrap_or_default(),
        answers: vec![
            Choice::new("given", "Consent given"),
            Choice::new("refused", "Consent refused").hinted("The direction cannot then be issued"),
        ],
        outcomes: vec![
            Choice::new("complied", "Complied"),
            Choice::new("not-complied", "Did not comply"),
        ],
        direction,
    })
}

async fn show(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        permit_route(
            &state,
            &who,
            "GET",
            "/api/v1/directions/{id}",
            &[("id", &id)],
        )
        .await?;
        direction_page(&state, &who, &source, direction_id(&id)?, None).await
    }
    .await;
    shown(result)
}

/// What a step of a direction does, given the form it came with.
enum Step {
    RequestConsent,
    Consent,
    Issue,
    Acknowledge,
    Compliance,
}

fn note(form: &mut FormState) -> Option<Option<DirectionNote>> {
    form.optional("note", "The note", DirectionNote::parse)
}

fn parse_field<T: std::str::FromStr>(
    form: &mut FormState,
    name: &'static str,
    missing: &str,
) -> Option<T> {
    form.required(name, "The answer", missing, |raw| {
        raw.parse::<T>()
            .map_err(|_| FieldError::new(name, "is not one of the choices"))
    })
}

/// Takes `step` on direction `id` as the API route `path` does, then back to its page;
/// a refusal is shown on the page with the form as typed.
async fn take_step(
    state: AppState,
    who: Authenticated,
    source: String,
    id: String,
    path: &'static str,
    step: Step,
    mut form: FormState,
) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        let id = direction_id(&id)?;
        let principal = Principal(who.clone());
        let (who_, source_) = (&principal, source.as_str());
        let done = match step {
            Step::RequestConsent => {
                Some(directions::request_consent(&state, who_, source_, id).await)
            }
            Step::Issue => Some(directions::issue(&state, who_, source_, id).await),
            Step::Acknowledge => Some(directions::acknowledge(&state, who_, source_, id).await),
            Step::Consent => {
                let answer = parse_field::<ConsentAnswer>(
                    &mut form,
                    "answer",
                    "Choose whether consent was given or refused",
                );
                let note = note(&mut form);
                match (answer, note) {
                    (Some(answer), Some(note)) if !form.has_errors() => Some(
                        directions::record_consent(&state, who_, source_, id, answer, note).await,
                    ),
                    _ => None,
                }
            }
            Step::Compliance => {
                let outcome = parse_field::<ComplianceOutcome>(
                    &mut form,
                    "outcome",
                    "Choose whether the recipient complied",
                );
                let note = note(&mut form);
                match (outcome, note) {
                    (Some(outcome), Some(note)) if !form.has_errors() => Some(
                        directions::record_compliance(&state, who_, source_, id, outcome, note)
                            .await,
                    ),
                    _ => None,
                }
            }
        };
        match done {
            Some(Ok(_)) => return Ok(Err(id)),
            Some(Err(e)) => form.take(e, &[], "actions")?,
            None => {}
        }
        Ok(Ok(
            direction_page(&state, &who, &source, id, Some(form)).await?
        ))
    }
    .await;
    match result {
        Ok(Err(id)) => Redirect::to(&format!("/directions/{id}")).into_response(),
        Ok(Ok(page_)) => page(StatusCode::UNPROCESSABLE_ENTITY, &page_),
        Err(e) => page_error(e),
    }
}

async fn request_consent(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/directions/{id}/consent-request";
    take_step(state, who, source, id, path, Step::RequestConsent, form).await
}

async fn record_consent(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/directions/{id}/consent";
    take_step(state, who, source, id, path, Step::Consent, form).await
}

async fn issue(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/directions/{id}/issue";
    take_step(state, who, source, id, path, Step::Issue, form).await
}

async fn acknowledge(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/directions/{id}/acknowledgement";
    take_step(state, who, source, id, path, Step::Acknowledge, form).await
}

async fn record_compliance(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/directions/{id}/compliance";
    take_step(state, who, source, id, path, Step::Compliance, form).await
}
