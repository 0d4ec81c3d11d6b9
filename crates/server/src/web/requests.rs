//! Requests for tasking and assistance in the browser (¶9, ¶20–24): raise one with a
//! guided form and the capability chooser, list them with filters, and open one to
//! read the recommendation test by test beside the decision form (the five stages of
//! the National Decision Model). Each page is authorised by the rule of the API route
//! it mirrors, and calls the same services.

use super::{
    Choice, Chrome, CsrfForm, FormState, PageUser, form_page, london, page, page_error, shown,
    words,
};
use crate::auth::Authenticated;
use crate::authz::permit_route;
use crate::error::AppError;
use crate::reads::record_read;
use crate::tasking::{self, DecisionInput, NewRequestInput, OperationChoice};
use crate::{AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concordat_domain::decision::{
    AgencyRole, DepartureReason, NdmRationale, NdmText, Outcome, Recommendation, Roles,
};
use concordat_domain::handling::{Marking, RecordKind};
use concordat_domain::operation::CodeName;
use concordat_domain::people::{Classification, FieldError, Role};
use concordat_domain::registry::{OrgCode, OrganisationKind};
use concordat_domain::subject::Subject;
use concordat_domain::tasking::{
    CaseText, Geography, Request, RequestEvent, RequestId, RequestKind, RequestState, RequestTitle,
    Urgency,
};
use concordat_domain::threat::{Strand, ThreatArea, ThreatAreas};
use concordat_store::{DecisionRecord, RequestBox, RequestHistoryEntry};
use serde::Deserialize;
use std::collections::BTreeSet;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/requests", get(list))
        .route("/requests/new", get(new_request).post(raise))
        .route("/requests/{id}", get(show))
        .route("/requests/{id}/submit", post(submit))
        .route("/requests/{id}/assessment", post(assess))
        .route("/requests/{id}/withdrawal", post(withdraw))
        .route("/requests/{id}/decision", post(decide))
}

/// A request as a row of a table.
pub(crate) struct RequestRow {
    pub(crate) id: RequestId,
    pub(crate) title: String,
    pub(crate) kind: String,
    pub(crate) requester: String,
    pub(crate) receiver: String,
    pub(crate) urgency: Urgency,
    pub(crate) state: RequestState,
    pub(crate) respond_by: String,
    pub(crate) overdue: bool,
}

impl RequestRow {
    pub(crate) fn new(state: &AppState, request: &Request) -> Self {
        Self {
            id: request.id,
            title: request.title.as_str().to_owned(),
            kind: kind_text(state, &request.kind),
            requester: short_name(state, &request.requester),
            receiver: short_name(state, &request.receiver),
            urgency: request.urgency,
            state: request.state,
            respond_by: request.respond_by.map(london).unwrap_or_default(),
            overdue: request.overdue,
        }
    }

    pub(crate) fn state_tag(&self) -> &'static str {
        state_tag(self.state)
    }

    pub(crate) fn urgency_tag(&self) -> &'static str {
        urgency_tag(self.urgency)
    }
}

/// The colour of a request's state.
fn state_tag(state: RequestState) -> &'static str {
    match state {
        RequestState::Draft => "tag-grey",
        RequestState::Submitted | RequestState::UnderAssessment => "tag-yellow",
        RequestState::Accepted => "tag-green",
        RequestState::DeclinedWithReferral | RequestState::Withdrawn => "tag-orange",
        RequestState::Expired => "tag-red",
    }
}

fn urgency_tag(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Immediate => "tag-red",
        Urgency::Urgent => "tag-orange",
        Urgency::Routine => "tag-grey",
    }
}

fn short_name(state: &AppState, code: &OrgCode) -> String {
    state
        .rules
        .registry
        .organisation(code)
        .map_or_else(|| code.to_string(), |o| o.short_name.clone())
}

fn org_name(state: &AppState, code: &OrgCode) -> String {
    state
        .rules
        .registry
        .organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

fn kind_text(state: &AppState, kind: &RequestKind) -> String {
    match kind {
        RequestKind::Assistance => "Assistance".into(),
        RequestKind::Capability { capability } => state
            .rules
            .registry
            .capability(capability)
            .map_or_else(|| capability.clone(), |c| c.name.clone()),
        RequestKind::TakeLead => "Take the lead".into(),
        RequestKind::Coordinate => "Coordinate".into(),
    }
}

/// Sorted for work: overdue first, then by the time an answer is due, undated last.
pub(crate) fn by_deadline(requests: &mut [Request]) {
    requests.sort_by_key(|r| (!r.overdue, r.respond_by.is_none(), r.respond_by));
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    r#box: String,
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct ListPage {
    chrome: Chrome,
    form: FormState,
    boxes: Vec<Choice>,
    states: Vec<Choice>,
    rows: Vec<RequestRow>,
    may_raise: bool,
}

async fn list(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "GET", "/api/v1/requests", &[]).await {
        return page_error(e);
    }
    let mut form = FormState::with(&[("box", &query.r#box), ("state", &query.state)]);
    let which = match query.r#box.as_str() {
        "" | "all" => RequestBox::All,
        "sent" => RequestBox::Sent,
        "received" => RequestBox::Received,
        _ => {
            form.fail("box", "Choose sent, received or all");
            RequestBox::All
        }
    };
    let in_state = form.optional("state", "State", |raw| raw.parse()).flatten();
    let mut requests = match tasking::requests(&state, &who, which, in_state).await {
        Ok(list) => list,
        Err(e) => return page_error(e),
    };
    by_deadline(&mut requests);
    let rows = requests
        .iter()
        .map(|r| RequestRow::new(&state, r))
        .collect();
    let list = ListPage {
        chrome: Chrome::new(&who, "/requests"),
        boxes: vec![
            Choice::new("all", "Sent and received"),
            Choice::new("sent", "Sent by my organisation"),
            Choice::new("received", "Received by my organisation"),
        ],
        states: RequestState::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), words(s.as_str())))
            .collect(),
        may_raise: crate::authz::may_call(&who, "POST", "/api/v1/requests"),
        form,
        rows,
    };
    form_page(&list.form, &list)
}

/// What the raise form offers.
#[derive(Template)]
#[template(path = "request_new.html")]
struct RaisePage {
    chrome: Chrome,
    form: FormState,
    kinds: Vec<Choice>,
    capabilities: Vec<CapabilityGroup>,
    receivers: Vec<Choice>,
    gateways: Vec<Choice>,
    threat_areas: Vec<Choice>,
    areas: Vec<Choice>,
    yes_no: Vec<Choice>,
    sophistications: Vec<Choice>,
    urgencies: Vec<Choice>,
    markings: Vec<Choice>,
    subjects: Vec<Choice>,
}

/// The capabilities of one category of the catalogue (Annex E), for the chooser.
struct CapabilityGroup {
    category: String,
    capabilities: Vec<Choice>,
}

impl RaisePage {
    async fn new(state: &AppState, who: &Authenticated, form: FormState) -> Result<Self, AppError> {
        let registry = &state.rules.registry;
        let mut capabilities: Vec<CapabilityGroup> = vec![];
        for capability in &registry.capabilities {
            let category = capability.category.name().to_owned();
            let choice = Choice::new(&capability.code, &capability.name).hinted(format!(
                "{} ({})",
                capability.description,
                short_name(state, &capability.owner)
            ));
            match capabilities.iter_mut().find(|g| g.category == category) {
                Some(group) => group.capabilities.push(choice),
                None => capabilities.push(CapabilityGroup {
                    category,
                    capabilities: vec![choice],
                }),
            }
        }
        let organisations = |keep: &dyn Fn(OrganisationKind) -> bool| -> Vec<Choice> {
            let mut list: Vec<Choice> = registry
                .organisations
                .iter()
                .filter(|o| keep(o.kind) && o.code != who.user.organisation)
                .map(|o| Choice::new(o.code.as_str(), &o.name))
                .collect();
            list.sort_by(|a, b| a.label.cmp(&b.label));
            list
        };
        let subjects = tasking::subjects(state, who)
            .await?
            .into_iter()
            .map(|s: Subject| {
                Choice::new(s.id.to_string(), s.name.as_str())
                    .hinted(words(s.designation.level.as_str()))
            })
            .collect();
        Ok(Self {
            chrome: Chrome::new(who, "/requests"),
            form,
            kinds: vec![
                Choice::new("assistance", "Assistance")
                    .hinted("People, support or an investigation by the organisation asked"),
                Choice::new("capability", "A specialist capability")
                    .hinted("From the catalogue of capabilities (Annex E): choose it below"),
                Choice::new("take-lead", "That the national agency take the lead"),
                Choice::new(
                    "coordinate",
                    "That the national agency coordinate the response",
                ),
            ],
            capabilities,
            receivers: organisations(&|kind| kind != OrganisationKind::Jbiu),
            gateways: organisations(&|kind| kind == OrganisationKind::Jbiu),
            threat_areas: ThreatArea::ALL
                .iter()
                .map(|t| Choice::new(t.as_str(), words(t.as_str())))
                .collect(),
            areas: {
                let mut areas: Vec<Choice> = registry
                    .organisations
                    .iter()
                    .filter(|o| {
                        matches!(
                            o.kind,
                            OrganisationKind::TerritorialPolice
                                | OrganisationKind::IslandForce
                                | OrganisationKind::BritishTransportPolice
                                | OrganisationKind::SpecialPolice
                        )
                    })
                    .map(|o| Choice::new(o.code.as_str(), &o.name))
                    .collect();
                areas.sort_by(|a, b| a.label.cmp(&b.label));
                areas
            },
            yes_no: vec![Choice::new("no", "No"), Choice::new("yes", "Yes")],
            sophistications: vec![
                Choice::new("standard", "Standard"),
                Choice::new("high", "High")
                    .hinted("Sophisticated methods: encryption, corrupt insiders, complex finance"),
            ],
            urgencies: vec![
                Choice::new("immediate", "Immediate")
                    .hinted("Threat to life or loss of evidence now"),
                Choice::new("urgent", "Urgent").hinted("An answer is needed within days"),
                Choice::new("routine", "Routine"),
            ],
            markings: vec![
                Choice::new("official", "OFFICIAL"),
                Choice::new("official-sensitive", "OFFICIAL-SENSITIVE"),
                Choice::new("secret", "SECRET").hinted("Only for readers vetted to SC or above"),
            ],
            subjects,
        })
    }
}

async fn new_request(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/requests", &[]).await {
        return page_error(e);
    }
    let form = FormState::with(&[
        ("kind", "assistance"),
        ("international", "no"),
        ("sophistication", "standard"),
        ("marking", "official"),
    ]);
    match RaisePage::new(&state, &who, form).await {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

/// The request the raise form describes, or the form with its errors.
fn read_raise(form: &mut FormState) -> Option<NewRequestInput> {
    let title = form.required("title", "The title", "Enter a title", RequestTitle::parse);
    let kind = match form.given("kind") {
        Some("assistance") => Some(RequestKind::Assistance),
        Some("take-lead") => Some(RequestKind::TakeLead),
        Some("coordinate") => Some(RequestKind::Coordinate),
        Some("capability") => match form.given("capability") {
            Some(code) => Some(RequestKind::Capability {
                capability: code.to_owned(),
            }),
            None => {
                form.fail("capability", "Choose the capability you need");
                None
            }
        },
        _ => {
            form.fail("kind", "Choose what you are asking for");
            None
        }
    };
    let receiver = form.required(
        "receiver",
        "The organisation",
        "Choose the organisation you are asking",
        org_code,
    );
    let border_gateway = form
        .optional("border_gateway", "The gateway", org_code)
        .flatten();
    let threat_areas: Vec<ThreatArea> = form
        .values("threat_areas")
        .into_iter()
        .filter_map(|v| v.parse::<ThreatArea>().ok())
        .collect();
    let threat_areas = match ThreatAreas::new(threat_areas) {
        Ok(areas) => Some(areas),
        Err(_) => {
            form.fail("threat_areas", "Choose at least one threat area");
            None
        }
    };
    let areas: BTreeSet<OrgCode> = form
        .values("areas")
        .into_iter()
        .filter_map(|v| OrgCode::parse(v).ok())
        .collect();
    let international = form.chosen("international", "yes");
    let sophistication = form.required(
        "sophistication",
        "Sophistication",
        "Choose how sophisticated the criminality is",
        |raw| raw.parse(),
    );
    let urgency = form.required(
        "urgency",
        "Urgency",
        "Choose how soon an answer is needed",
        |raw| raw.parse(),
    );
    let case = form.required(
        "case",
        "The case",
        "Enter the case: what is happening, what you ask and why",
        CaseText::parse,
    );
    let marking = match form.given("marking") {
        None | Some("official") => Some(Marking::tier(Classification::Official)),
        Some("official-sensitive") => {
            Marking::new(Classification::Official, true, vec![], vec![], None).ok()
        }
        Some("secret") => Some(Marking::tier(Classification::Secret)),
        Some(_) => {
            form.fail("marking", "Choose the protective marking");
            None
        }
    };
    let subjects = form
        .values("subjects")
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if form.has_errors() {
        return None;
    }
    Some(NewRequestInput {
        title: title?,
        kind: kind?,
        receiver: receiver?,
        border_gateway,
        threat_areas: threat_areas?,
        subjects,
        geography: Geography {
            areas,
            international,
        },
        sophistication: sophistication?,
        urgency: urgency?,
        case: case?,
        marking: marking?,
    })
}

async fn raise(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/requests", &[]).await {
        return page_error(e);
    }
    if let Some(input) = read_raise(&mut form) {
        match tasking::raise(&state, &who, &source, input).await {
            Ok(request) => {
                return Redirect::to(&format!("/requests/{}", request.id)).into_response();
            }
            Err(e) => {
                if let Err(other) = form.take(
                    e,
                    &[("geography", "areas"), ("geography.areas", "areas")],
                    "title",
                ) {
                    return page_error(other);
                }
            }
        }
    }
    match RaisePage::new(&state, &who, form).await {
        Ok(page_) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}

/// A decision as the page shows it.
struct DecisionView {
    outcome: Outcome,
    agency_role: String,
    lead: Option<String>,
    support: Vec<String>,
    coordinate: Vec<String>,
    referral: Option<String>,
    rationale: NdmRationale,
    departure_reason: Option<String>,
    decided_at: String,
    operation: Option<String>,
    superseded: bool,
}

struct HistoryView {
    event: String,
    state: RequestState,
    at: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    chrome: Chrome,
    banner: String,
    request: Request,
    kind: String,
    requester: String,
    receiver: String,
    route: String,
    raised_at: String,
    respond_by: Option<String>,
    areas: Vec<String>,
    subjects: Vec<String>,
    history: Vec<HistoryView>,
    decisions: Vec<DecisionView>,
    recommendation: Option<Recommendation>,
    lead_name: String,
    referral_name: Option<String>,
    /// What the user may do here, each decided by the rules as well as the role.
    may_submit: bool,
    may_assess: bool,
    may_withdraw: bool,
    may_decide: bool,
    form: FormState,
    outcomes: Vec<Choice>,
    organisations: Vec<Choice>,
    strands: Vec<Choice>,
    operation_choices: Vec<Choice>,
    /// The decision in force, which a new one supersedes.
    in_force: Option<String>,
}

impl RequestPage {
    fn state_tag(&self) -> &'static str {
        state_tag(self.request.state)
    }

    fn urgency_tag(&self) -> &'static str {
        urgency_tag(self.request.urgency)
    }

    fn test_name(&self, test: &str) -> String {
        words(test)
    }
}

async fn request_page(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: RequestId,
    form: Option<FormState>,
) -> Result<RequestPage, AppError> {
    let request = tasking::visible_request(state, who, id).await?;
    record_read(state, who, source, "request", request.id, "request").await?;
    let marking = state
        .store
        .marking(RecordKind::Request, &request.id.to_string())
        .await?;
    let history = state
        .store
        .request_history(request.id)
        .await?
        .into_iter()
        .map(|h: RequestHistoryEntry| HistoryView {
            event: words(&h.event),
            state: h.state,
            at: london(h.at),
            note: h.note,
        })
        .collect();
    let records: Vec<DecisionRecord> = state.store.decisions(request.id).await?;
    let in_force = records
        .iter()
        .rev()
        .find(|d| !d.superseded)
        .map(|d| d.decision.id.to_string());
    let decisions = records
        .into_iter()
        .rev()
        .map(|d| DecisionView {
            outcome: d.decision.outcome,
            agency_role: words(d.decision.agency_role.as_str()),
            lead: d.decision.roles.as_ref().map(|r| org_name(state, &r.lead)),
            support: d
                .decision
                .roles
                .as_ref()
                .map(|r| r.support.iter().map(|c| org_name(state, c)).collect())
                .unwrap_or_default(),
            coordinate: d
                .decision
                .roles
                .as_ref()
                .map(|r| r.coordinate.iter().map(|c| org_name(state, c)).collect())
                .unwrap_or_default(),
            referral: d.decision.referral.as_ref().map(|c| org_name(state, c)),
            rationale: d.decision.rationale,
            departure_reason: d.decision.departure_reason.map(|r| r.as_str().to_owned()),
            decided_at: london(d.decision.decided_at),
            operation: d.operation.map(|o| o.to_string()),
            superseded: d.superseded,
        })
        .collect();
    let is_requester = request.requester == who.user.organisation;
    let is_receiver = request.receiver == who.user.organisation;
    let tasking_officer = who.user.has_role(Role::TaskingOfficer);
    let may = |event: RequestEvent| request.state.apply(event).is_ok();
    let may_decide = is_receiver && tasking_officer && may(RequestEvent::Accept);
    let recommendation = if request.state == RequestState::Draft {
        None
    } else {
        Some(tasking::recommendation(state, who, request.id).await?)
    };
    let form = form.unwrap_or_else(|| {
        let mut values: Vec<(&str, String)> = vec![("operation", "create".into())];
        if let Some(rec) = &recommendation {
            // The recommendation's roles, so that deciding as recommended is choosing
            // "Accept" and writing the rationale.
            values.push(("lead", rec.lead.to_string()));
            if let Some(referral) = &rec.referral {
                values.push(("referral", referral.to_string()));
            }
            let agency = state
                .rules
                .registry
                .organisations
                .iter()
                .find(|o| o.kind == OrganisationKind::NationalAgency)
                .map(|o| o.code.to_string());
            if let Some(agency) = agency {
                let (support, coordinate) = match rec.role {
                    AgencyRole::Support => (true, false),
                    AgencyRole::Coordinate | AgencyRole::LeadAndCoordinate => (false, true),
                    AgencyRole::SupportAndCoordinate => (true, true),
                    _ => (false, false),
                };
                if support {
                    values.push(("support", agency.clone()));
                }
                if coordinate {
                    values.push(("coordinate", agency));
                }
            }
        }
        let refs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        FormState::with(&refs)
    });
    let mut organisations: Vec<Choice> = state
        .rules
        .registry
        .organisations
        .iter()
        .map(|o| Choice::new(o.code.as_str(), &o.name))
        .collect();
    organisations.sort_by(|a, b| a.label.cmp(&b.label));
    let operation_choices = if may_decide {
        tasking::operations(state, who)
            .await?
            .into_iter()
            .map(|o| Choice::new(o.id.to_string(), o.code_name.as_str()))
            .collect()
    } else {
        vec![]
    };
    let subjects = {
        let visible = tasking::subjects(state, who).await?;
        request
            .subjects
            .iter()
            .filter_map(|id| visible.iter().find(|s| s.id == *id))
            .map(|s| {
                format!(
                    "{} ({})",
                    s.name.as_str(),
                    words(s.designation.level.as_str())
                )
            })
            .collect()
    };
    Ok(RequestPage {
        chrome: Chrome::new(who, "/requests"),
        banner: marking.banner(),
        kind: kind_text(state, &request.kind),
        requester: org_name(state, &request.requester),
        receiver: org_name(state, &request.receiver),
        route: match request.route.gateway() {
            Some(gateway) => format!("Through {}", org_name(state, gateway)),
            None => "Direct".into(),
        },
        raised_at: london(request.raised_at),
        respond_by: request.respond_by.map(london),
        areas: request
            .geography
            .areas
            .iter()
            .map(|c| org_name(state, c))
            .collect(),
        subjects,
        history,
        decisions,
        lead_name: recommendation
            .as_ref()
            .map(|r| org_name(state, &r.lead))
            .unwrap_or_default(),
        referral_name: recommendation
            .as_ref()
            .and_then(|r| r.referral.as_ref())
            .map(|c| org_name(state, c)),
        recommendation,
        may_submit: is_requester && tasking_officer && may(RequestEvent::Submit),
        may_assess: is_receiver && tasking_officer && may(RequestEvent::StartAssessment),
        may_withdraw: is_requester && tasking_officer && may(RequestEvent::Withdraw),
        may_decide,
        form,
        outcomes: vec![
            Choice::new("accepted", "Accept").hinted("Name who leads, supports and coordinates"),
            Choice::new("declined", "Decline and refer")
                .hinted("Name who is better placed to act (¶14)"),
        ],
        organisations,
        strands: Strand::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), words(s.as_str())))
            .collect(),
        operation_choices,
        in_force,
        request,
    })
}

/// An organisation's code typed or chosen in a form.
fn org_code(raw: &str) -> Result<OrgCode, FieldError> {
    OrgCode::parse(raw).map_err(|e| FieldError::new("organisation", e.to_string()))
}

fn request_id(raw: &str) -> Result<RequestId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/requests/{id}", &[("id", &id)]).await?;
        request_page(&state, &who, &source, request_id(&id)?, None).await
    }
    .await;
    shown(result)
}

/// Moves the request by `event` as the API route `path` does, then back to its page.
async fn move_request(
    state: AppState,
    who: Authenticated,
    source: String,
    id: String,
    path: &'static str,
    event: RequestEvent,
    note: Option<String>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        tasking::transition(&state, &who, &source, request_id(&id)?, event, note).await
    }
    .await;
    match result {
        Ok(request) => Redirect::to(&format!("/requests/{}", request.id)).into_response(),
        Err(e) => page_error(e),
    }
}

async fn submit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/requests/{id}/submit";
    move_request(state, who, source, id, path, RequestEvent::Submit, None).await
}

async fn assess(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/requests/{id}/assessment";
    let event = RequestEvent::StartAssessment;
    move_request(state, who, source, id, path, event, None).await
}

async fn withdraw(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/requests/{id}/withdraw";
    let note = form.given("note").map(str::to_owned);
    move_request(state, who, source, id, path, RequestEvent::Withdraw, note).await
}

/// The decision the form describes, or the form with its errors.
fn read_decision(form: &mut FormState, in_force: Option<&str>) -> Option<DecisionInput> {
    let outcome = form.required(
        "outcome",
        "The decision",
        "Choose whether to accept or decline",
        |raw| raw.parse(),
    );
    let orgs = |form: &FormState, name: &str| -> BTreeSet<OrgCode> {
        form.values(name)
            .into_iter()
            .filter_map(|v| OrgCode::parse(v).ok())
            .collect()
    };
    let ndm = |form: &mut FormState, name: &str, stage: &str| {
        form.required(
            name,
            stage,
            &format!("Enter {}", stage.to_lowercase()),
            NdmText::parse,
        )
    };
    let information = ndm(form, "information", "The information and intelligence");
    let threat_and_risk = ndm(form, "threat_and_risk", "The threat and risk");
    let powers_and_policy = ndm(form, "powers_and_policy", "The powers and policy");
    let options_and_contingencies = ndm(
        form,
        "options_and_contingencies",
        "The options and contingencies",
    );
    let action_and_review = ndm(form, "action_and_review", "The action and review");
    let departure_reason = form
        .optional("departure_reason", "The reason", DepartureReason::parse)
        .flatten();
    let (roles, referral, operation) = match outcome {
        Some(Outcome::Accepted) => {
            let lead = form.required("lead", "The lead", "Choose the lead agency", org_code);
            let operation = match form.given("operation") {
                Some("join") => form
                    .required(
                        "join_operation",
                        "The operation",
                        "Choose the operation to join",
                        |raw| {
                            raw.parse().map_err(|_| {
                                FieldError::new("join_operation", "is not an operation")
                            })
                        },
                    )
                    .map(|operation| Some(OperationChoice::Join { operation })),
                _ if in_force.is_some() && form.given("code_name").is_none() => Some(None),
                _ => {
                    let code_name = form.required(
                        "code_name",
                        "The code name",
                        "Enter a code name for the new operation",
                        CodeName::parse,
                    );
                    let strands: Vec<Strand> = form
                        .values("strands")
                        .into_iter()
                        .filter_map(|v| v.parse::<Strand>().ok())
                        .collect();
                    if strands.is_empty() {
                        form.fail("strands", "Choose at least one strand");
                    }
                    code_name.map(|code_name| Some(OperationChoice::Create { code_name, strands }))
                }
            };
            let roles = lead.map(|lead| Roles {
                support: orgs(form, "support"),
                coordinate: orgs(form, "coordinate"),
                lead,
            });
            (roles, None, operation)
        }
        Some(Outcome::Declined) => {
            let referral = form.required(
                "referral",
                "The referral",
                "Choose who is better placed to act",
                org_code,
            );
            (None, referral, Some(None))
        }
        None => (None, None, None),
    };
    if form.has_errors() {
        return None;
    }
    Some(DecisionInput {
        outcome: outcome?,
        roles,
        referral,
        rationale: NdmRationale {
            information: information?,
            threat_and_risk: threat_and_risk?,
            powers_and_policy: powers_and_policy?,
            options_and_contingencies: options_and_contingencies?,
            action_and_review: action_and_review?,
        },
        departure_reason,
        operation: operation?,
        supersedes: in_force.and_then(|d| d.parse().ok()),
    })
}

async fn decide(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/requests/{id}/decisions";
    let result = async {
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        let id = request_id(&id)?;
        let in_force = state
            .store
            .decisions(id)
            .await?
            .into_iter()
            .rev()
            .find(|d| !d.superseded)
            .map(|d| d.decision.id.to_string());
        if let Some(input) = read_decision(&mut form, in_force.as_deref()) {
            match tasking::decide(&state, &who, &source, id, input).await {
                Ok(_) => return Ok(Err(id)),
                Err(e) => form.take(
                    e,
                    &[
                        ("roles", "lead"),
                        ("roles.lead", "lead"),
                        ("rationale.information", "information"),
                        ("rationale.threat_and_risk", "threat_and_risk"),
                        ("rationale.powers_and_policy", "powers_and_policy"),
                        (
                            "rationale.options_and_contingencies",
                            "options_and_contingencies",
                        ),
                        ("rationale.action_and_review", "action_and_review"),
                        ("operation", "code_name"),
                    ],
                    "outcome",
                )?,
            }
        }
        Ok(Ok(
            request_page(&state, &who, &source, id, Some(form)).await?
        ))
    }
    .await;
    match result {
        Ok(Err(id)) => Redirect::to(&format!("/requests/{id}")).into_response(),
        Ok(Ok(page_)) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}
