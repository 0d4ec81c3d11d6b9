//! Operations in the browser (¶14, ¶18): the operations an organisation holds or held a
//! role in, and one operation's page: who led, supported and coordinated from when to
//! when, its subjects, capabilities and outcomes, with the forms to record an outcome
//! and to change the roles. Each page is authorised by the rule of the API route it
//! mirrors, and calls the same services.

use super::{
    Choice, Chrome, CsrfForm, FormState, PageUser, form_page, london, page, page_error, shown,
    words,
};
use crate::auth::Authenticated;
use crate::authz::{may_call, permit_route};
use crate::error::{AppError, FieldProblem};
use crate::reads::record_read;
use crate::tasking::{self, NewOperationInput, RoleChangeInput};
use crate::{AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concordat_domain::decision::Roles;
use concordat_domain::handling::RecordKind;
use concordat_domain::operation::{
    CodeName, DisruptionGrade, Operation, OperationId, OperationOutcome, OperationRole, Reason,
};
use concordat_domain::people::FieldError;
use concordat_domain::registry::OrgCode;
use concordat_domain::threat::{Strand, ThreatArea, ThreatAreas};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/operations", get(list))
        .route("/operations/new", get(new_operation).post(open))
        .route("/operations/{id}", get(show))
        .route("/operations/{id}/outcomes", post(record_outcome))
        .route("/operations/{id}/roles", post(change_roles))
}

/// An organisation's name, or its code if the registry does not know it.
pub(super) fn org_name(state: &AppState, code: &OrgCode) -> String {
    state
        .rules
        .registry
        .organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

/// Every organisation, by name, to choose from.
pub(super) fn organisation_choices(state: &AppState) -> Vec<Choice> {
    let mut list: Vec<Choice> = state
        .rules
        .registry
        .organisations
        .iter()
        .map(|o| Choice::new(o.code.as_str(), &o.name))
        .collect();
    list.sort_by(|a, b| a.label.cmp(&b.label));
    list
}

fn role_tag(role: OperationRole) -> &'static str {
    match role {
        OperationRole::Lead => "tag-green",
        OperationRole::Support => "tag-yellow",
        OperationRole::Coordinate => "tag-orange",
    }
}

/// An operation as a row of the list.
struct OperationRow {
    id: OperationId,
    code_name: String,
    lead: String,
    /// The user's organisation's roles now; empty if it held one before but none now.
    our_roles: Vec<OperationRole>,
    opened: String,
}

impl OperationRow {
    fn role_tag(&self, role: &OperationRole) -> &'static str {
        role_tag(*role)
    }
}

#[derive(Template)]
#[template(path = "operations.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<OperationRow>,
    may_open: bool,
}

async fn list(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let result = async {
        permit_route(&state, &who, "GET", "/api/v1/operations", &[]).await?;
        let mut rows = vec![];
        for summary in tasking::operations(&state, &who).await? {
            let operation = state.store.operation(summary.id).await?;
            let our_roles = operation
                .roles
                .0
                .iter()
                .filter(|s| s.until.is_none() && s.organisation == who.user.organisation)
                .map(|s| s.role)
                .collect();
            rows.push(OperationRow {
                id: summary.id,
                code_name: summary.code_name.as_str().to_owned(),
                lead: summary
                    .lead
                    .as_ref()
                    .map_or_else(|| "No lead now".to_owned(), |l| org_name(&state, l)),
                our_roles,
                opened: london(summary.created_at),
            });
        }
        Ok::<_, AppError>(ListPage {
            chrome: Chrome::new(&who, "/operations"),
            rows,
            may_open: may_call(&who, "POST", "/api/v1/operations"),
        })
    }
    .await;
    shown(result)
}

// ---------------------------------------------------------------------------------------
// Opening an operation
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "operation_new.html")]
struct OpenPage {
    chrome: Chrome,
    form: FormState,
    threat_areas: Vec<Choice>,
    strands: Vec<Choice>,
    subjects: Vec<Choice>,
    organisations: Vec<Choice>,
}

impl OpenPage {
    async fn new(state: &AppState, who: &Authenticated, form: FormState) -> Result<Self, AppError> {
        let subjects = tasking::subjects(state, who)
            .await?
            .into_iter()
            .map(|s| {
                Choice::new(s.id.to_string(), s.name.as_str())
                    .hinted(words(s.designation.level.as_str()))
            })
            .collect();
        Ok(Self {
            chrome: Chrome::new(who, "/operations"),
            form,
            threat_areas: ThreatArea::ALL
                .iter()
                .map(|t| Choice::new(t.as_str(), words(t.as_str())))
                .collect(),
            strands: Strand::ALL
                .iter()
                .map(|s| Choice::new(s.as_str(), words(s.as_str())))
                .collect(),
            subjects,
            organisations: organisation_choices(state)
                .into_iter()
                .filter(|c| c.value != who.user.organisation.as_str())
                .collect(),
        })
    }
}

async fn new_operation(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", "/api/v1/operations", &[]).await?;
        OpenPage::new(&state, &who, FormState::default()).await
    }
    .await;
    shown(result)
}

fn org_code(raw: &str) -> Result<OrgCode, FieldError> {
    OrgCode::parse(raw).map_err(|e| FieldError::new("organisation", e.to_string()))
}

fn orgs(form: &FormState, name: &str) -> BTreeSet<OrgCode> {
    form.values(name)
        .into_iter()
        .filter_map(|v| OrgCode::parse(v).ok())
        .collect()
}

/// The operation the form describes, or the form with its errors.
fn read_open(form: &mut FormState) -> Option<NewOperationInput> {
    let code_name = form.required(
        "code_name",
        "The code name",
        "Enter a code name, such as Operation Nightjar",
        CodeName::parse,
    );
    let areas: Vec<ThreatArea> = form
        .values("threat_areas")
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let threat_areas = ThreatAreas::new(areas)
        .map_err(|_| form.fail("threat_areas", "Choose at least one threat area"))
        .ok();
    let strands: Vec<Strand> = form
        .values("strands")
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if strands.is_empty() {
        form.fail("strands", "Choose at least one strand");
    }
    let reason = form.required(
        "reason",
        "The reason",
        "Enter why the operation is opened",
        Reason::parse,
    );
    if form.has_errors() {
        return None;
    }
    Some(NewOperationInput {
        code_name: code_name?,
        threat_areas: threat_areas?,
        strands,
        subjects: form
            .values("subjects")
            .into_iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
        support: orgs(form, "support").into_iter().collect(),
        reason: reason?,
    })
}

async fn open(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", "/api/v1/operations", &[]).await?;
        if let Some(input) = read_open(&mut form) {
            match tasking::open_operation(&state, &who, &source, input).await {
                Ok(operation) => return Ok(Err(operation.id)),
                Err(e) => form.take(e, &[("roles", "support")], "code_name")?,
            }
        }
        Ok(Ok(OpenPage::new(&state, &who, form).await?))
    }
    .await;
    match result {
        Ok(Err(id)) => Redirect::to(&format!("/operations/{id}")).into_response(),
        Ok(Ok(page_)) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// An operation's page
// ---------------------------------------------------------------------------------------

/// A role held by an organisation, from a moment until another (or now).
struct SpanView {
    organisation: String,
    role: OperationRole,
    from: String,
    until: Option<String>,
    reason: String,
}

impl SpanView {
    fn role_tag(&self) -> &'static str {
        role_tag(self.role)
    }
}

/// What changed at one moment of the operation's life, newest first.
struct ChangeView {
    at: String,
    started: Vec<String>,
    ended: Vec<String>,
    reason: String,
}

struct OutcomeView {
    occurred: String,
    disruption: Option<DisruptionGrade>,
    results: Vec<String>,
    description: String,
    recorded: String,
}

impl OutcomeView {
    fn disruption_tag(&self) -> &'static str {
        match self.disruption {
            Some(DisruptionGrade::Major) => "tag-red",
            Some(DisruptionGrade::Moderate) => "tag-orange",
            Some(DisruptionGrade::Minor) | None => "tag-grey",
        }
    }
}

#[derive(Template)]
#[template(path = "operation.html")]
struct OperationPage {
    chrome: Chrome,
    banner: String,
    id: OperationId,
    code_name: String,
    opened: String,
    origin_request: Option<String>,
    threat_areas: Vec<String>,
    strands: Vec<String>,
    lead_now: Option<String>,
    support_now: Vec<String>,
    coordinate_now: Vec<String>,
    /// Roles held now, then roles held before, newest first.
    current: Vec<SpanView>,
    past: Vec<SpanView>,
    changes: Vec<ChangeView>,
    subjects: Vec<String>,
    hidden_subjects: usize,
    capabilities: Vec<String>,
    outcomes: Vec<OutcomeView>,
    may_record: bool,
    may_change_roles: bool,
    outcome_form: FormState,
    roles_form: FormState,
    /// The errors of whichever form came back.
    problems: Vec<FieldProblem>,
    grades: Vec<Choice>,
    organisations: Vec<Choice>,
}

fn verb(role: OperationRole) -> &'static str {
    match role {
        OperationRole::Lead => "leads",
        OperationRole::Support => "supports",
        OperationRole::Coordinate => "coordinates",
    }
}

fn pounds(pence: u64) -> String {
    let whole = pence / 100;
    let rest = pence % 100;
    let mut digits = whole.to_string();
    let mut grouped = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        grouped = format!(",{tail}{grouped}");
    }
    if rest == 0 {
        format!("£{digits}{grouped}")
    } else {
        format!("£{digits}{grouped}.{rest:02}")
    }
}

fn results(outcome: &OperationOutcome) -> Vec<String> {
    let mut out = vec![];
    let mut count = |n: u64, one: &str, many: &str| {
        if n == 1 {
            out.push(format!("1 {one}"));
        } else if n > 1 {
            out.push(format!("{n} {many}"));
        }
    };
    count(outcome.arrests.into(), "arrest", "arrests");
    count(outcome.charges.into(), "charge", "charges");
    count(outcome.firearms.into(), "firearm seized", "firearms seized");
    if outcome.drugs_grams > 0 {
        out.push(format!("{} g of drugs seized", outcome.drugs_grams));
    }
    if outcome.cash_pence > 0 {
        out.push(format!("{} cash seized", pounds(outcome.cash_pence)));
    }
    if outcome.assets_denied_pence > 0 {
        out.push(format!(
            "{} of assets denied",
            pounds(outcome.assets_denied_pence)
        ));
    }
    out
}

fn roles_form_for(operation: &Operation) -> FormState {
    let mut values: Vec<(&str, String)> = vec![];
    if let Some(roles) = operation.roles.current() {
        values.push(("lead", roles.lead.to_string()));
        values.extend(roles.support.iter().map(|o| ("support", o.to_string())));
        values.extend(
            roles
                .coordinate
                .iter()
                .map(|o| ("coordinate", o.to_string())),
        );
    }
    let refs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    FormState::with(&refs)
}

async fn operation_page(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: OperationId,
    outcome_form: Option<FormState>,
    roles_form: Option<FormState>,
) -> Result<OperationPage, AppError> {
    let operation = tasking::visible_operation(state, who, id).await?;
    record_read(state, who, source, "operation", operation.id, "operation").await?;
    let marking = state
        .store
        .marking(RecordKind::Operation, &operation.id.to_string())
        .await?;
    let org = &who.user.organisation;
    let current_roles = operation.roles.current();
    let holds_now = operation
        .roles
        .0
        .iter()
        .any(|s| s.until.is_none() && s.organisation == *org);
    let route = |path| may_call(who, "POST", path);
    let may_record = holds_now && route("/api/v1/operations/{id}/outcomes");
    let may_change_roles = current_roles.as_ref().is_some_and(|r| r.lead == *org)
        && route("/api/v1/operations/{id}/roles");

    let span_view = |s: &concordat_domain::operation::RoleSpan| SpanView {
        organisation: org_name(state, &s.organisation),
        role: s.role,
        from: london(s.from),
        until: s.until.map(london),
        reason: s.reason.as_str().to_owned(),
    };
    let mut spans: Vec<_> = operation.roles.0.iter().collect();
    // Newest first; at one moment, the lead, then support, then coordination.
    spans.sort_by_key(|s| (std::cmp::Reverse(s.from), s.role));
    let current = spans
        .iter()
        .filter(|s| s.until.is_none())
        .map(|s| span_view(s))
        .collect();
    let past = spans
        .iter()
        .filter(|s| s.until.is_some())
        .map(|s| span_view(s))
        .collect();

    let mut moments: BTreeMap<i64, ChangeView> = BTreeMap::new();
    for span in &operation.roles.0 {
        let name = org_name(state, &span.organisation);
        let change = moments
            .entry(span.from.as_micros())
            .or_insert_with(|| ChangeView {
                at: london(span.from),
                started: vec![],
                ended: vec![],
                reason: String::new(),
            });
        change.started.push(format!("{name} {}", verb(span.role)));
        if change.reason.is_empty() {
            change.reason = span.reason.as_str().to_owned();
        }
        if let Some(until) = span.until {
            moments
                .entry(until.as_micros())
                .or_insert_with(|| ChangeView {
                    at: london(until),
                    started: vec![],
                    ended: vec![],
                    reason: String::new(),
                })
                .ended
                .push(format!("{name} no longer {}", verb(span.role)));
        }
    }
    let changes = moments.into_values().rev().collect();

    let visible = tasking::subjects(state, who).await?;
    let subjects: Vec<String> = operation
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
        .collect();
    let hidden_subjects = operation.subjects.len() - subjects.len();
    let capabilities = operation
        .capabilities
        .iter()
        .map(|code| {
            state
                .rules
                .registry
                .capability(code)
                .map_or_else(|| code.clone(), |c| c.name.clone())
        })
        .collect();
    let mut outcomes: Vec<OutcomeView> = operation
        .outcomes
        .iter()
        .map(|o| OutcomeView {
            occurred: london(o.outcome.occurred_at),
            disruption: o.outcome.disruption,
            results: results(&o.outcome),
            description: o.outcome.description.as_str().to_owned(),
            recorded: london(o.recorded.at),
        })
        .collect();
    outcomes.reverse();

    let outcome_form = outcome_form.unwrap_or_default();
    let roles_form = roles_form.unwrap_or_else(|| roles_form_for(&operation));
    let problems = outcome_form
        .errors
        .iter()
        .chain(&roles_form.errors)
        .map(|e| FieldProblem {
            field: e.field.clone(),
            message: e.message.clone(),
        })
        .collect();
    let names = |set: &BTreeSet<OrgCode>| set.iter().map(|c| org_name(state, c)).collect();
    Ok(OperationPage {
        chrome: Chrome::new(who, "/operations"),
        banner: marking.banner(),
        id: operation.id,
        code_name: operation.code_name.as_str().to_owned(),
        opened: london(operation.created.at),
        origin_request: operation.origin_request.map(|r| r.to_string()),
        threat_areas: operation
            .threat_areas
            .iter()
            .map(|t| words(t.as_str()))
            .collect(),
        strands: operation
            .strands
            .iter()
            .map(|s| words(s.as_str()))
            .collect(),
        lead_now: current_roles.as_ref().map(|r| org_name(state, &r.lead)),
        support_now: current_roles
            .as_ref()
            .map(|r| names(&r.support))
            .unwrap_or_default(),
        coordinate_now: current_roles
            .as_ref()
            .map(|r| names(&r.coordinate))
            .unwrap_or_default(),
        current,
        past,
        changes,
        subjects,
        hidden_subjects,
        capabilities,
        outcomes,
        may_record,
        may_change_roles,
        outcome_form,
        roles_form,
        problems,
        grades: vec![
            Choice::new("major", "Major").hinted("The group's capability is dismantled"),
            Choice::new("moderate", "Moderate"),
            Choice::new("minor", "Minor"),
            Choice::new("none", "No disruption to grade")
                .hinted("Record arrests, charges, seizures or assets denied below"),
        ],
        organisations: organisation_choices(state),
    })
}

fn operation_id(raw: &str) -> Result<OperationId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
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
            "/api/v1/operations/{id}",
            &[("id", &id)],
        )
        .await?;
        operation_page(&state, &who, &source, operation_id(&id)?, None, None).await
    }
    .await;
    shown(result)
}

/// A whole number typed in a field; blank is none.
fn count<T: std::str::FromStr + Default>(form: &mut FormState, name: &str, what: &str) -> T {
    match form.given(name).map(|v| v.replace(',', "")) {
        None => T::default(),
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            form.fail(
                name,
                format!("Enter the number of {what} as a whole number, such as 3"),
            );
            T::default()
        }),
    }
}

/// An amount in pounds (`1,250` or `1250.50`) as pence; blank is none.
fn pence(form: &mut FormState, name: &str, what: &str) -> u64 {
    let Some(raw) = form.given(name).map(|v| v.replace([',', '£'], "")) else {
        return 0;
    };
    let (whole, part) = raw.split_once('.').unwrap_or((raw.as_str(), "00"));
    let parsed = (|| {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let part: u64 = part.parse().ok()?;
        whole.checked_mul(100)?.checked_add(part)
    })();
    parsed.unwrap_or_else(|| {
        form.fail(
            name,
            format!("Enter {what} in pounds, such as 1250 or 1250.50"),
        );
        0
    })
}

/// The outcome the form describes, or the form with its errors.
fn read_outcome(form: &mut FormState) -> Option<OperationOutcome> {
    let disruption = match form.given("disruption") {
        None | Some("none") => None,
        Some(raw) => match raw.parse::<DisruptionGrade>() {
            Ok(grade) => Some(grade),
            Err(_) => {
                form.fail("disruption", "Choose major, moderate, minor or none");
                None
            }
        },
    };
    let arrests = count(form, "arrests", "arrests");
    let charges = count(form, "charges", "charges");
    let firearms = count(form, "firearms", "firearms seized");
    let drugs_grams = count(form, "drugs_grams", "grams of drugs seized");
    let cash_pence = pence(form, "cash", "the cash seized");
    let assets_denied_pence = pence(form, "assets_denied", "the assets denied");
    let description = form.required(
        "description",
        "The description",
        "Describe what happened",
        Reason::parse,
    );
    let occurred_at = form.required(
        "occurred_at",
        "When it happened:",
        "Enter when it happened, such as 2026-11-03 06:00",
        |raw| concordat_domain::events::london_time("occurred_at", raw),
    );
    if form.has_errors() {
        return None;
    }
    Some(OperationOutcome {
        disruption,
        arrests,
        charges,
        drugs_grams,
        firearms,
        cash_pence,
        assets_denied_pence,
        description: description?,
        occurred_at: occurred_at?,
    })
}

async fn record_outcome(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/operations/{id}/outcomes";
    let result = async {
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        let id = operation_id(&id)?;
        if let Some(outcome) = read_outcome(&mut form) {
            match tasking::record_outcome(&state, &who, &source, id, outcome).await {
                Ok(_) => return Ok(Err(id)),
                Err(e) => form.take(e, &[], "disruption")?,
            }
        }
        Ok(Ok(operation_page(
            &state,
            &who,
            &source,
            id,
            Some(form),
            None,
        )
        .await?))
    }
    .await;
    match result {
        Ok(Err(id)) => Redirect::to(&format!("/operations/{id}#outcomes")).into_response(),
        Ok(Ok(page_)) => page(StatusCode::UNPROCESSABLE_ENTITY, &page_),
        Err(e) => page_error(e),
    }
}

/// The roles the form describes, or the form with its errors.
fn read_roles(form: &mut FormState) -> Option<RoleChangeInput> {
    let lead = form.required("lead", "The lead", "Choose the lead organisation", org_code);
    let reason = form.required(
        "reason",
        "The reason",
        "Enter why the roles change",
        Reason::parse,
    );
    if form.has_errors() {
        return None;
    }
    Some(RoleChangeInput {
        roles: Roles {
            lead: lead?,
            support: orgs(form, "support"),
            coordinate: orgs(form, "coordinate"),
        },
        reason: reason?,
    })
}

async fn change_roles(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let path = "/api/v1/operations/{id}/roles";
    let result = async {
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        let id = operation_id(&id)?;
        if let Some(input) = read_roles(&mut form) {
            match tasking::change_roles(&state, &who, &source, id, input).await {
                Ok(_) => return Ok(Err(id)),
                Err(e) => form.take(
                    e,
                    &[
                        ("roles", "lead"),
                        ("roles.lead", "lead"),
                        ("effective_from", "lead"),
                    ],
                    "lead",
                )?,
            }
        }
        Ok(Ok(operation_page(
            &state,
            &who,
            &source,
            id,
            None,
            Some(form),
        )
        .await?))
    }
    .await;
    match result {
        Ok(Err(id)) => Redirect::to(&format!("/operations/{id}#timeline")).into_response(),
        Ok(Ok(page_)) => page(StatusCode::UNPROCESSABLE_ENTITY, &page_),
        Err(e) => page_error(e),
    }
}
