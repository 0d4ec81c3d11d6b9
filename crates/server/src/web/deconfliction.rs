//! Deconfliction in the browser (DESIGN parts 7 and 8): my organisation's hits and
//! clashes awaiting acknowledgement (live: they are fetched again when a notification
//! arrives), its registrations and planned activity with a map drawn on the server;
//! registering a subject, planning activity, and acknowledging or resolving what they
//! find. Each page is authorised by the rule of the API route it mirrors, and calls the
//! same services.

use super::{
    Choice, Chrome, CsrfForm, FormState, PageUser, form_page, london, page, page_error, words,
};
use crate::auth::Authenticated;
use crate::authz::{may_call, permit_route};
use crate::deconfliction::{self, HitView, REGISTRARS, RegisterInput, ResolveInput};
use crate::error::AppError;
use crate::events::{self, ClashView, PlanInput};
use crate::reads::{record_read, record_reads};
use crate::{AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concordat_domain::deconfliction::{
    ContactDetail, ContactName, Disclosure, HitId, NOT_EXHAUSTIVE, OperationReference,
    PointOfContact, Registration, RegistrationId, Resolution,
};
use concordat_domain::events::{
    ActivityId, ActivityKind, ActivityState, ActivityTitle, ClashId, Place, PlannedActivity,
    Position, TimeWindow, london_time,
};
use concordat_domain::handling::{Marking, RecordKind};
use concordat_domain::people::{Classification, FieldError};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_matching::{AddressValue, Name, Record, Sex};
use serde::Deserialize;

pub(super) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/deconfliction", get(overview))
        .route(
            "/deconfliction/registrations/new",
            get(new_registration).post(register),
        )
        .route("/deconfliction/registrations/{id}", get(registration))
        .route(
            "/deconfliction/registrations/{id}/renewal",
            post(renew_registration),
        )
        .route(
            "/deconfliction/registrations/{id}/withdrawal",
            post(withdraw_registration),
        )
        .route("/deconfliction/hits/{id}", get(hit))
        .route(
            "/deconfliction/hits/{id}/acknowledgement",
            post(acknowledge_hit),
        )
        .route("/deconfliction/hits/{id}/resolution", post(resolve_hit))
        .route("/deconfliction/clashes/{id}", get(clash))
        .route(
            "/deconfliction/clashes/{id}/acknowledgement",
            post(acknowledge_clash),
        )
        .route(
            "/deconfliction/activities/new",
            get(new_activity).post(plan),
        )
        .route("/deconfliction/activities/{id}", get(activity))
        .route(
            "/deconfliction/activities/{id}/cancellation",
            post(cancel_activity),
        )
}

// ---------------------------------------------------------------------------------------
// Rows and words
// ---------------------------------------------------------------------------------------

fn short_name(state: &AppState, code: &OrgCode) -> String {
    state
        .rules
        .registry
        .organisation(code)
        .map_or_else(|| code.to_string(), |o| o.name.clone())
}

/// A hit as a row of a table.
struct HitRow {
    id: HitId,
    reference: String,
    other: String,
    strength: &'static str,
    found_at: String,
    acknowledged: bool,
    resolution: Option<String>,
}

impl HitRow {
    fn new(state: &AppState, hit: &HitView) -> Self {
        Self {
            id: hit.id,
            reference: hit.reference.to_string(),
            other: other_name(state, hit),
            strength: hit.strength.as_str(),
            found_at: london(hit.found_at),
            acknowledged: hit.acknowledged,
            resolution: hit.resolution.map(|r| words(r.as_str())),
        }
    }

    fn strength_tag(&self) -> &'static str {
        match self.strength {
            "strong" => "tag-red",
            "likely" => "tag-orange",
            _ => "tag-yellow",
        }
    }
}

fn other_name(state: &AppState, hit: &HitView) -> String {
    hit.other.organisation.as_ref().map_or_else(
        || "Another organisation (not disclosed)".to_owned(),
        |code| short_name(state, code),
    )
}

/// A clash as a row of a table.
struct ClashRow {
    id: ClashId,
    reference: String,
    activity: ActivityId,
    other_kind: String,
    other_window: String,
    distance: String,
    found_at: String,
    acknowledged: bool,
}

impl ClashRow {
    fn new(clash: &ClashView) -> Self {
        Self {
            id: clash.id,
            reference: clash.reference.clone(),
            activity: clash.activity,
            other_kind: capitalised(clash.other.kind.label()),
            other_window: clash.other.window.in_london(),
            distance: distance_text(clash.other.distance_band.as_str()),
            found_at: london(clash.found_at),
            acknowledged: clash.acknowledged,
        }
    }
}

fn capitalised(text: &str) -> String {
    words(text)
}

/// A distance band (`100m-250m`) in words (`100 m to 250 m`).
fn distance_text(band: &str) -> String {
    match band {
        "under-100m" => "Under 100 m".to_owned(),
        "over-2km" => "2 km or more".to_owned(),
        other => other
            .replace("km", " km")
            .replace('m', " m")
            .replace(" k m", " km")
            .replace('-', " to "),
    }
}

/// A registration as a row of a table.
struct RegistrationRow {
    id: RegistrationId,
    reference: String,
    kind: String,
    operation_reference: String,
    disclosure: String,
    expires_at: String,
    status: &'static str,
}

impl RegistrationRow {
    fn new(registration: &Registration, now: Timestamp) -> Self {
        Self {
            id: registration.id,
            reference: registration.reference.to_string(),
            kind: words(&registration.kind),
            operation_reference: registration
                .operation_reference
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            disclosure: disclosure_text(registration.disclosure).to_owned(),
            expires_at: london(registration.expires_at),
            status: registration_status(registration, now),
        }
    }

    fn status_tag(&self) -> &'static str {
        status_tag(self.status)
    }
}

fn registration_status(registration: &Registration, now: Timestamp) -> &'static str {
    if registration.withdrawn_at.is_some() {
        "withdrawn"
    } else if registration.is_live(now) {
        "live"
    } else {
        "expired"
    }
}

fn status_tag(status: &str) -> &'static str {
    match status {
        "live" | "planned" => "tag-green",
        "withdrawn" | "cancelled" => "tag-grey",
        _ => "tag-orange",
    }
}

fn disclosure_text(disclosure: Disclosure) -> &'static str {
    match disclosure {
        Disclosure::Open => "Open: organisation, contact and reference",
        Disclosure::AgencyNameOnly => "Organisation's name only",
        Disclosure::Restricted => "Restricted: the other side is told nothing",
    }
}

/// Planned activity as a row of a table (numbered as on the map).
struct ActivityRow {
    number: usize,
    id: ActivityId,
    reference: String,
    title: String,
    kind: String,
    place: String,
    position: String,
    window: String,
    status: &'static str,
}

impl ActivityRow {
    fn new(number: usize, activity: &PlannedActivity) -> Self {
        Self {
            number,
            id: activity.id,
            reference: activity.reference.to_string(),
            title: activity.title.as_str().to_owned(),
            kind: capitalised(activity.kind.label()),
            place: place_text(&activity.place),
            position: format!(
                "{:.5}, {:.5}",
                activity.place.position.latitude, activity.place.position.longitude
            ),
            window: activity.window.in_london(),
            status: activity.state.as_str(),
        }
    }

    fn status_tag(&self) -> &'static str {
        status_tag(self.status)
    }
}

fn place_text(place: &Place) -> String {
    let mut parts = vec![];
    if let Some(address) = &place.address {
        parts.push(address.as_str().to_owned());
    }
    if let Some(postcode) = &place.postcode {
        parts.push(postcode.as_str().to_owned());
    }
    if parts.is_empty() {
        format!(
            "{:.5}, {:.5}",
            place.position.latitude, place.position.longitude
        )
    } else {
        parts.join(", ")
    }
}

// ---------------------------------------------------------------------------------------
// The overview
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "deconfliction.html")]
struct OverviewPage {
    chrome: Chrome,
    reads_hits: bool,
    reads_activity: bool,
    may_register: bool,
    may_plan: bool,
    may_acknowledge_clashes: bool,
    hits: Vec<HitRow>,
    clashes: Vec<ClashRow>,
    registrations: Vec<RegistrationRow>,
    activities: Vec<ActivityRow>,
    map: map::Map,
}

async fn overview(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
) -> Response {
    match overview_page(&state, &who, &source).await {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

async fn overview_page(
    state: &AppState,
    who: &Authenticated,
    source: &str,
) -> Result<OverviewPage, AppError> {
    let reads_hits = may_call(who, "GET", "/api/v1/hits");
    let reads_activity = may_call(who, "GET", "/api/v1/activities");
    if !reads_hits && !reads_activity {
        // Refused as the hits' route refuses.
        permit_route(state, who, "GET", "/api/v1/hits", &[]).await?;
    }
    let now = Timestamp::now();
    let (mut hits, mut registrations) = (vec![], vec![]);
    if reads_hits {
        permit_route(state, who, "GET", "/api/v1/hits", &[]).await?;
        let waiting: Vec<HitView> = deconfliction::hits(state, who)
            .await?
            .into_iter()
            .filter(|h| h.resolution.is_none())
            .collect();
        // Each hit shown discloses the other side: each is on the record.
        record_reads(
            state,
            who,
            source,
            "hit",
            waiting.iter().map(|h| h.id),
            "deconfliction",
        )
        .await?;
        hits = waiting.iter().map(|h| HitRow::new(state, h)).collect();
        permit_route(state, who, "GET", "/api/v1/registrations", &[]).await?;
        registrations = deconfliction::registrations(state, who)
            .await?
            .iter()
            .map(|r| RegistrationRow::new(r, now))
            .collect();
    }
    let (mut clashes, mut planned) = (vec![], vec![]);
    if reads_activity {
        permit_route(state, who, "GET", "/api/v1/clashes", &[]).await?;
        clashes = events::clashes(state, who)
            .await?
            .iter()
            .filter(|c| c.live && c.resolution.is_none())
            .map(ClashRow::new)
            .collect();
        permit_route(state, who, "GET", "/api/v1/activities", &[]).await?;
        planned = events::activities(state, who).await?;
    }
    let activities: Vec<ActivityRow> = planned
        .iter()
        .enumerate()
        .map(|(i, a)| ActivityRow::new(i + 1, a))
        .collect();
    let map = map::Map::of(
        "Map of my organisation's planned activity",
        &points(&planned),
    );
    Ok(OverviewPage {
        chrome: Chrome::new(who, "/deconfliction"),
        reads_hits,
        reads_activity,
        may_register: may_register(who),
        may_plan: may_call(who, "POST", "/api/v1/activities"),
        may_acknowledge_clashes: may_call(who, "POST", "/api/v1/clashes/{id}/acknowledgement"),
        hits,
        clashes,
        registrations,
        activities,
        map,
    })
}

/// The points of `activities` for the map, numbered as their rows are.
fn points(activities: &[PlannedActivity]) -> Vec<map::Point> {
    activities
        .iter()
        .enumerate()
        .map(|(i, a)| map::Point {
            label: (i + 1).to_string(),
            name: format!("{} {}", a.reference, a.title.as_str()),
            latitude: a.place.position.latitude,
            longitude: a.place.position.longitude,
        })
        .collect()
}

/// Whether `who` may register a subject: the API route lets analysts call it, but the
/// service registers only for case and tasking officers, so only they are offered it.
fn may_register(who: &Authenticated) -> bool {
    may_call(who, "POST", "/api/v1/registrations")
        && crate::tasking::require_any(who, REGISTRARS).is_ok()
}

// ---------------------------------------------------------------------------------------
// Registering a subject
// ---------------------------------------------------------------------------------------

/// The kinds of subject, as the matching engine records them.
const KINDS: &[(&str, &str, &str)] = &[
    (
        "person",
        "A person",
        "Names and aliases, date of birth, addresses, phones and identifiers",
    ),
    (
        "group",
        "A group",
        "An organised crime group or other named group",
    ),
    (
        "business",
        "A business",
        "Trading names, company number, address",
    ),
    ("vehicle", "A vehicle", "By its registration mark"),
    ("phone", "A phone number", ""),
    ("address", "An address", "A premises of interest"),
];

#[derive(Debug, Default, Deserialize)]
struct KindQuery {
    #[serde(default)]
    kind: String,
}

#[derive(Template)]
#[template(path = "deconfliction_registration_new.html")]
struct RegisterPage {
    chrome: Chrome,
    form: FormState,
    /// The kind chosen, once it is (step 2); empty before.
    kind: &'static str,
    kind_label: &'static str,
    noun: &'static str,
    kinds: Vec<Choice>,
    sexes: Vec<Choice>,
    disclosures: Vec<Choice>,
    markings: Vec<Choice>,
}

impl RegisterPage {
    fn new(who: &Authenticated, form: FormState, kind: Option<&'static str>) -> Self {
        Self {
            chrome: Chrome::new(who, "/deconfliction"),
            form,
            kind: kind.unwrap_or(""),
            noun: match kind {
                Some("phone") => "phone number",
                Some(other) => other,
                None => "",
            },
            kind_label: KINDS
                .iter()
                .find(|(k, _, _)| Some(*k) == kind)
                .map_or("", |(_, label, _)| label),
            kinds: KINDS
                .iter()
                .map(|(value, label, hint)| Choice::new(*value, *label).hinted(*hint))
                .collect(),
            sexes: vec![
                Choice::new("", "Not known"),
                Choice::new("female", "Female"),
                Choice::new("male", "Male"),
                Choice::new("other", "Other"),
            ],
            disclosures: vec![
                Choice::new("open", "Open").hinted(
                    "The other side of a hit sees your organisation, the point of contact and your reference",
                ),
                Choice::new("agency-name-only", "Organisation's name only")
                    .hinted("The other side sees only your organisation's name"),
                Choice::new("restricted", "Restricted").hinted(
                    "The other side is told nothing; you are told, and decide whether to make contact",
                ),
            ],
            markings: markings(),
        }
    }
}

fn markings() -> Vec<Choice> {
    vec![
        Choice::new("official", "OFFICIAL"),
        Choice::new("official-sensitive", "OFFICIAL-SENSITIVE"),
        Choice::new("secret", "SECRET").hinted("Only for readers vetted to SC or above"),
    ]
}

/// The marking chosen on a form, or the field in error.
fn read_marking(form: &mut FormState) -> Option<Marking> {
    match form.given("marking") {
        None | Some("official") => Some(Marking::tier(Classification::Official)),
        Some("official-sensitive") => {
            Marking::new(Classification::Official, true, vec![], vec![], None).ok()
        }
        Some("secret") => Some(Marking::tier(Classification::Secret)),
        Some(_) => {
            form.fail("marking", "Choose the protective marking");
            None
        }
    }
}

fn kind_of(raw: &str) -> Option<&'static str> {
    KINDS.iter().find(|(k, _, _)| *k == raw).map(|(k, _, _)| *k)
}

/// Refuses who may not register: the route's rule, then the service's (an analyst may
/// call the route, but the service refuses them).
async fn permit_register(state: &AppState, who: &Authenticated) -> Result<(), AppError> {
    permit_route(state, who, "POST", "/api/v1/registrations", &[]).await?;
    crate::tasking::require_any(who, REGISTRARS)
}

async fn new_registration(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Query(query): Query<KindQuery>,
) -> Response {
    if let Err(e) = permit_register(&state, &who).await {
        return page_error(e);
    }
    let kind = kind_of(&query.kind);
    let mut form = FormState::with(&[
        ("kind", kind.unwrap_or("")),
        ("disclosure", "open"),
        ("marking", "official"),
        ("sex", ""),
    ]);
    if !query.kind.is_empty() && kind.is_none() {
        form.fail("kind", "Choose what you are registering");
    }
    let page_ = RegisterPage::new(&who, form, kind);
    form_page(&page_.form, &page_)
}

/// The field of each kind that a blank record is shown against.
fn first_field(kind: &str) -> &'static str {
    match kind {
        "person" => "given",
        "group" | "business" => "name",
        "vehicle" => "registration",
        "phone" => "number",
        _ => "street",
    }
}

/// One value per line of a text area, blank lines dropped.
fn lines(form: &FormState, name: &str) -> Vec<String> {
    form.value(name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn one(form: &FormState, name: &str) -> Vec<String> {
    form.given(name)
        .map(|v| vec![v.to_owned()])
        .unwrap_or_default()
}

fn address(form: &FormState) -> AddressValue {
    AddressValue {
        number: form.value("house").trim().to_owned(),
        lines: one(form, "street"),
        town: form.value("town").trim().to_owned(),
        county: String::new(),
        postcode: form.value("postcode").trim().to_owned(),
    }
}

fn addresses(form: &FormState) -> Vec<AddressValue> {
    let a = address(form);
    if a.number.is_empty() && a.lines.is_empty() && a.town.is_empty() && a.postcode.is_empty() {
        vec![]
    } else {
        vec![a]
    }
}

/// The record the form describes, as typed (the matching engine normalises it).
fn read_record(form: &FormState, kind: &str) -> Record {
    match kind {
        "person" => {
            let mut names = vec![Name::new(
                form.value("given").trim(),
                form.value("surname").trim(),
            )];
            names.extend(lines(form, "aliases").into_iter().map(Name::Full));
            Record::Person(concordat_matching::Person {
                names,
                date_of_birth: form.given("date_of_birth").map(str::to_owned),
                sex: form.given("sex").and_then(Sex::parse),
                addresses: addresses(form),
                phones: one(form, "phone"),
                emails: one(form, "email"),
                documents: one(form, "document"),
                national_ids: one(form, "national_id"),
            })
        }
        "group" => {
            let mut names = one(form, "name");
            names.extend(lines(form, "aliases"));
            Record::Group(concordat_matching::Group { names })
        }
        "business" => Record::Business(concordat_matching::Business {
            names: one(form, "name"),
            company_number: form.given("company_number").map(str::to_owned),
            addresses: addresses(form),
            phones: one(form, "phone"),
        }),
        "vehicle" => Record::Vehicle(concordat_matching::Vehicle {
            registration: form.value("registration").trim().to_owned(),
        }),
        "phone" => Record::Phone(concordat_matching::Phone {
            number: form.value("number").trim().to_owned(),
        }),
        _ => Record::Address(concordat_matching::Address {
            address: address(form),
        }),
    }
}

/// The point of contact on a form (`poc_name`, `poc_detail`), or the fields in error.
fn read_contact(form: &mut FormState) -> Option<PointOfContact> {
    let name = form.required(
        "poc_name",
        "The point of contact's name",
        "Enter the name of the point of contact",
        ContactName::parse,
    );
    let detail = form.required(
        "poc_detail",
        "The point of contact's telephone or email",
        "Enter how to reach the point of contact",
        ContactDetail::parse,
    );
    Some(PointOfContact {
        name: name?,
        detail: detail?,
    })
}

/// The registration the form describes, or the form with its errors.
fn read_registration(form: &mut FormState, kind: &str) -> Option<RegisterInput> {
    let record = read_record(form, kind);
    let operation_reference = form
        .optional(
            "operation_reference",
            "Your reference",
            OperationReference::parse,
        )
        .flatten();
    let point_of_contact = read_contact(form);
    let disclosure = form.required(
        "disclosure",
        "Disclosure",
        "Choose what the other side of a hit is told",
        |raw| raw.parse::<Disclosure>(),
    );
    let marking = read_marking(form);
    if form.has_errors() {
        return None;
    }
    Some(RegisterInput {
        record,
        operation: None,
        operation_reference,
        point_of_contact: point_of_contact?,
        disclosure: disclosure?,
        marking: marking?,
    })
}

async fn register(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        permit_register(&state, &who).await?;
        let Some(kind) = kind_of(form.value("kind")) else {
            form.fail("kind", "Choose what you are registering");
            return Ok(Err(None));
        };
        if let Some(input) = read_registration(&mut form, kind) {
            match deconfliction::register(&state, &who, &source, input).await {
                Ok(answer) => return Ok(Ok(answer.registration.id)),
                Err(e) => form.take(
                    e,
                    &[
                        ("record", first_field(kind)),
                        ("point_of_contact.name", "poc_name"),
                        ("point_of_contact.detail", "poc_detail"),
                    ],
                    first_field(kind),
                )?,
            }
        }
        Ok(Err(Some(kind)))
    }
    .await;
    match result {
        Ok(Ok(id)) => Redirect::to(&format!("/deconfliction/registrations/{id}")).into_response(),
        Ok(Err(kind)) => {
            let page_ = RegisterPage::new(&who, form, kind);
            form_page(&page_.form, &page_)
        }
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// A registration
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "deconfliction_registration.html")]
struct RegistrationPage {
    chrome: Chrome,
    banner: String,
    registration: Registration,
    status: &'static str,
    kind: String,
    registered_at: String,
    expires_at: String,
    withdrawn_at: Option<String>,
    details: Vec<(String, String)>,
    disclosure: &'static str,
    hits: Vec<HitRow>,
    note: &'static str,
    may_change: bool,
}

impl RegistrationPage {
    fn status_tag(&self) -> &'static str {
        status_tag(self.status)
    }
}

fn registration_id(raw: &str) -> Result<RegistrationId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// What a record says, as labelled lines.
fn record_details(record: &Record) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    let mut put = |label: &str, value: &str| {
        if !value.trim().is_empty() {
            out.push((label.to_owned(), value.to_owned()));
        }
    };
    let address_text = |a: &AddressValue| {
        let mut parts: Vec<&str> = vec![];
        let street = a.lines.join(", ");
        let first = if a.number.is_empty() {
            street.clone()
        } else {
            format!("{} {street}", a.number)
        };
        parts.push(first.trim());
        parts.extend([a.town.as_str(), a.county.as_str(), a.postcode.as_str()]);
        parts
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match record {
        Record::Person(p) => {
            for (i, name) in p.names.iter().enumerate() {
                let text = match name {
                    Name::Parts { given, surname } => format!("{given} {surname}"),
                    Name::Full(full) => full.clone(),
                };
                put(if i == 0 { "Name" } else { "Also known as" }, text.trim());
            }
            put("Date of birth", p.date_of_birth.as_deref().unwrap_or(""));
            if let Some(sex) = p.sex {
                put(
                    "Sex",
                    match sex {
                        Sex::Female => "Female",
                        Sex::Male => "Male",
                        Sex::Other => "Other",
                    },
                );
            }
            for a in &p.addresses {
                put("Address", &address_text(a));
            }
            for phone in &p.phones {
                put("Phone", phone);
            }
            for email in &p.emails {
                put("Email", email);
            }
            for document in &p.documents {
                put("Document", document);
            }
            for id in &p.national_ids {
                put("National identifier", id);
            }
        }
        Record::Group(g) => {
            for (i, name) in g.names.iter().enumerate() {
                put(if i == 0 { "Name" } else { "Also known as" }, name);
            }
        }
        Record::Business(b) => {
            for name in &b.names {
                put("Name", name);
            }
            put("Company number", b.company_number.as_deref().unwrap_or(""));
            for a in &b.addresses {
                put("Address", &address_text(a));
            }
            for phone in &b.phones {
                put("Phone", phone);
            }
        }
        Record::Vehicle(v) => put("Registration mark", &v.registration),
        Record::Phone(p) => put("Number", &p.number),
        Record::Address(a) => put("Address", &address_text(&a.address)),
    }
    out
}

async fn registration_page(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: &str,
) -> Result<RegistrationPage, AppError> {
    permit_route(
        state,
        who,
        "GET",
        "/api/v1/registrations/{id}",
        &[("id", id)],
    )
    .await?;
    let detail = deconfliction::registration(state, who, registration_id(id)?).await?;
    let registration = detail.registration;
    record_read(
        state,
        who,
        source,
        "registration",
        registration.id,
        "registration",
    )
    .await?;
    let marking = state
        .store
        .marking(RecordKind::Registration, &registration.id.to_string())
        .await?;
    let record: Option<Record> = serde_json::from_value(detail.record).ok();
    let mut hits = vec![];
    if may_call(who, "GET", "/api/v1/hits") {
        let mine: Vec<HitView> = deconfliction::hits(state, who)
            .await?
            .into_iter()
            .filter(|h| h.registration == registration.id)
            .collect();
        record_reads(
            state,
            who,
            source,
            "hit",
            mine.iter().map(|h| h.id),
            "registration",
        )
        .await?;
        hits = mine.iter().map(|h| HitRow::new(state, h)).collect();
    }
    let now = Timestamp::now();
    Ok(RegistrationPage {
        chrome: Chrome::new(who, "/deconfliction"),
        banner: marking.banner(),
        status: registration_status(&registration, now),
        kind: words(&registration.kind),
        registered_at: london(registration.registered_at),
        expires_at: london(registration.expires_at),
        withdrawn_at: registration.withdrawn_at.map(london),
        details: record.as_ref().map(record_details).unwrap_or_default(),
        disclosure: disclosure_text(registration.disclosure),
        hits,
        note: NOT_EXHAUSTIVE,
        may_change: registration.is_live(now)
            && may_call(who, "POST", "/api/v1/registrations/{id}/renewal")
            && crate::tasking::require_any(who, REGISTRARS).is_ok(),
        registration,
    })
}

async fn registration(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    match registration_page(&state, &who, &source, &id).await {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

async fn renew_registration(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/registrations/{id}/renewal";
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        deconfliction::renew(&state, &who, &source, registration_id(&id)?).await
    }
    .await;
    match result {
        Ok(detail) => Redirect::to(&format!(
            "/deconfliction/registrations/{}",
            detail.registration.id
        ))
        .into_response(),
        Err(e) => page_error(e),
    }
}

async fn withdraw_registration(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/registrations/{id}/withdrawal";
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        deconfliction::withdraw(&state, &who, &source, registration_id(&id)?).await
    }
    .await;
    match result {
        Ok(detail) => Redirect::to(&format!(
            "/deconfliction/registrations/{}",
            detail.registration.id
        ))
        .into_response(),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// A hit
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "deconfliction_hit.html")]
struct HitPage {
    chrome: Chrome,
    form: FormState,
    banner: String,
    hit: HitView,
    row: HitRow,
    probability: String,
    mine: Registration,
    other_organisation: String,
    other_disclosure: &'static str,
    may_act: bool,
    resolutions: Vec<Choice>,
}

fn hit_id(raw: &str) -> Result<HitId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn hit_page(
    state: &AppState,
    who: &Authenticated,
    source: &str,
    id: &str,
    form: Option<FormState>,
) -> Result<HitPage, AppError> {
    // No API route reads one hit: the list's rule, then the hit must be one the
    // organisation is told of (as the acknowledgement's rule asks).
    permit_route(state, who, "GET", "/api/v1/hits", &[]).await?;
    let id = hit_id(id)?;
    let (stored, hit) = deconfliction::own_hit(state, who, id).await?;
    record_read(state, who, source, "hit", hit.id, "hit").await?;
    let mine = state
        .store
        .registration(hit.registration)
        .await?
        .registration;
    let theirs = if stored.low == hit.registration {
        stored.high
    } else {
        stored.low
    };
    let markings = [
        state
            .store
            .marking(RecordKind::Registration, &hit.registration.to_string())
            .await?,
        state
            .store
            .marking(RecordKind::Registration, &theirs.to_string())
            .await?,
    ];
    // The existence of a hit is as sensitive as the more sensitive of its two sides.
    let banner = markings
        .iter()
        .max_by_key(|m| (m.classification, m.sensitive))
        .map(Marking::banner)
        .unwrap_or_default();
    Ok(HitPage {
        chrome: Chrome::new(who, "/deconfliction"),
        form: form.unwrap_or_default(),
        banner,
        row: HitRow::new(state, &hit),
        probability: format!("{:.0}%", hit.probability * 100.0),
        other_organisation: other_name(state, &hit),
        other_disclosure: disclosure_text(hit.other.disclosure),
        may_act: may_call(who, "POST", "/api/v1/hits/{id}/acknowledgement")
            && crate::tasking::require_any(who, REGISTRARS).is_ok(),
        resolutions: vec![
            Choice::new("same-person", "The same subject")
                .hinted("Both sides have talked and are working on the same subject"),
            Choice::new("different-person", "A different subject")
                .hinted("Not the same: this pair is never raised again"),
            Choice::new("deconflicted", "Deconflicted")
                .hinted("The same subject, and the two sides' activity is deconflicted"),
        ],
        mine,
        hit,
    })
}

async fn hit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    match hit_page(&state, &who, &source, &id, None).await {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

async fn acknowledge_hit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/hits/{id}/acknowledgement";
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        deconfliction::acknowledge(&state, &who, &source, hit_id(&id)?).await
    }
    .await;
    match result {
        Ok(hit) => Redirect::to(&format!("/deconfliction/hits/{}", hit.id)).into_response(),
        Err(e) => page_error(e),
    }
}

async fn resolve_hit(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/hits/{id}/resolution";
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        let hit = hit_id(&id)?;
        let resolution = form.required(
            "resolution",
            "The resolution",
            "Choose what the hit turned out to be",
            |raw| raw.parse::<Resolution>(),
        );
        if let Some(resolution) = resolution {
            match deconfliction::resolve(&state, &who, &source, hit, ResolveInput { resolution })
                .await
            {
                Ok(_) => return Ok(Err(hit)),
                Err(e) => form.take(e, &[], "resolution")?,
            }
        }
        Ok(Ok(hit_page(&state, &who, &source, &id, Some(form)).await?))
    }
    .await;
    match result {
        Ok(Err(hit)) => Redirect::to(&format!("/deconfliction/hits/{hit}")).into_response(),
        Ok(Ok(page_)) => form_page(&page_.form, &page_),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// A clash
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "deconfliction_clash.html")]
struct ClashPage {
    chrome: Chrome,
    clash: ClashView,
    row: ClashRow,
    escalated_at: Option<String>,
    resolution: Option<String>,
    may_acknowledge: bool,
}

fn clash_id(raw: &str) -> Result<ClashId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn clash(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        // No API route reads one clash: the list's rule, then one of the list's.
        permit_route(&state, &who, "GET", "/api/v1/clashes", &[]).await?;
        let id = clash_id(&id)?;
        let clash = events::clashes(&state, &who)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(AppError::NotFound)?;
        Ok::<_, AppError>(ClashPage {
            chrome: Chrome::new(&who, "/deconfliction"),
            row: ClashRow::new(&clash),
            escalated_at: clash.escalated_at.map(london),
            resolution: clash.resolution.map(|r| words(r.as_str())),
            may_acknowledge: !clash.acknowledged
                && clash.live
                && may_call(&who, "POST", "/api/v1/clashes/{id}/acknowledgement"),
            clash,
        })
    }
    .await;
    match result {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

async fn acknowledge_clash(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/clashes/{id}/acknowledgement";
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        events::acknowledge(&state, &who, &source, clash_id(&id)?).await
    }
    .await;
    match result {
        // Back where the officer acknowledged it: the overview or the clash's page.
        Ok(_) if form.value("from") == "deconfliction" => {
            Redirect::to("/deconfliction#clashes").into_response()
        }
        Ok(clash) => Redirect::to(&format!("/deconfliction/clashes/{}", clash.id)).into_response(),
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// Planned activity
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "deconfliction_activity_new.html")]
struct PlanPage {
    chrome: Chrome,
    form: FormState,
    kinds: Vec<Choice>,
    yes_no: Vec<Choice>,
}

impl PlanPage {
    fn new(who: &Authenticated, form: FormState) -> Self {
        Self {
            chrome: Chrome::new(who, "/deconfliction"),
            form,
            kinds: ActivityKind::ALL
                .iter()
                .map(|k| Choice::new(k.as_str(), capitalised(k.label())))
                .collect(),
            yes_no: vec![
                Choice::new("no", "No"),
                Choice::new("yes", "Yes").hinted(
                    "The other side of a clash is told to call the national 24/7 watch, not your point of contact",
                ),
            ],
        }
    }
}

async fn new_activity(State(state): State<AppState>, PageUser(who): PageUser) -> Response {
    if let Err(e) = permit_route(&state, &who, "POST", "/api/v1/activities", &[]).await {
        return page_error(e);
    }
    let form = FormState::with(&[("covert", "no"), ("accuracy_m", "50")]);
    page(StatusCode::OK, &PlanPage::new(&who, form))
}

fn degrees(field: &'static str) -> impl FnOnce(&str) -> Result<f64, FieldError> {
    move |raw| {
        raw.trim().parse::<f64>().map_err(|_| {
            FieldError::new(
                field,
                format!("`{}` is not a number of degrees", raw.trim()),
            )
        })
    }
}

/// The activity the plan form describes, or the form with its errors.
fn read_plan(form: &mut FormState) -> Option<PlanInput> {
    let kind = form.required(
        "kind",
        "The kind of activity",
        "Choose what kind of activity it is",
        |raw| raw.parse::<ActivityKind>(),
    );
    let title = form.required(
        "title",
        "The title",
        "Enter what the activity is",
        ActivityTitle::parse,
    );
    let latitude = form.required(
        "latitude",
        "The latitude",
        "Enter the latitude, such as 52.4862",
        degrees("latitude"),
    );
    let longitude = form.required(
        "longitude",
        "The longitude",
        "Enter the longitude, such as -1.8904",
        degrees("longitude"),
    );
    let position = match (latitude, longitude) {
        (Some(lat), Some(lon)) => match Position::new(lat, lon) {
            Ok(p) => Some(p),
            Err(e) => {
                let field = if e.field == "longitude" {
                    "longitude"
                } else {
                    "latitude"
                };
                form.fail(field, format!("The {field} {}", e.message));
                None
            }
        },
        _ => None,
    };
    let accuracy = form
        .optional("accuracy_m", "The accuracy", |raw| {
            raw.trim().parse::<u32>().map_err(|_| {
                FieldError::new("accuracy_m", "must be a whole number of metres, such as 50")
            })
        })
        .map(Option::unwrap_or_default);
    let address = form
        .optional(
            "address",
            "The address",
            concordat_domain::events::AddressText::parse,
        )
        .flatten();
    let postcode = form
        .optional(
            "postcode",
            "The postcode",
            concordat_domain::events::Postcode::parse,
        )
        .flatten();
    let place = match (position, accuracy) {
        // The domain's own reading of a place (its accuracy limit), as the API's.
        (Some(position), Some(accuracy_m)) => {
            match serde_json::from_value::<Place>(serde_json::json!({
                "position": position,
                "accuracy_m": accuracy_m,
                "address": address,
                "postcode": postcode,
            })) {
                Ok(place) => Some(place),
                Err(e) => {
                    let text = e.to_string();
                    let message = text.split_once(": ").map_or(text.as_str(), |(_, m)| m);
                    form.fail("accuracy_m", format!("The accuracy: {message}"));
                    None
                }
            }
        }
        _ => None,
    };
    let starts_at = form.required(
        "starts_at",
        "The start",
        "Enter when it starts, such as 2026-11-03T06:00",
        |raw| london_time("starts_at", raw),
    );
    let ends_at = form.required(
        "ends_at",
        "The end",
        "Enter when it ends, such as 2026-11-03T09:00",
        |raw| london_time("ends_at", raw),
    );
    let window = match (starts_at, ends_at) {
        (Some(s), Some(e)) => match TimeWindow::new(s, e) {
            Ok(w) => Some(w),
            Err(e) => {
                form.fail(
                    "ends_at",
                    format!("The end {}", e.message.replace("starts_at", "the start")),
                );
                None
            }
        },
        _ => None,
    };
    let point_of_contact = read_contact(form);
    let covert = form.chosen("covert", "yes");
    if form.has_errors() {
        return None;
    }
    Some(PlanInput {
        kind: kind?,
        title: title?,
        place: place?,
        window: window?,
        point_of_contact: point_of_contact?,
        covert,
        operation: None,
        on_behalf_of: None,
    })
}

async fn plan(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    CsrfForm(PageUser(who), mut form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        permit_route(&state, &who, "POST", "/api/v1/activities", &[]).await?;
        if let Some(input) = read_plan(&mut form) {
            match events::plan(&state, &who, &source, input).await {
                Ok(outcome) => return Ok(Some(outcome.activity.id)),
                Err(e) => form.take(
                    e,
                    &[
                        ("place.address", "address"),
                        ("place.postcode", "postcode"),
                        ("point_of_contact.name", "poc_name"),
                        ("point_of_contact.detail", "poc_detail"),
                    ],
                    "title",
                )?,
            }
        }
        Ok(None)
    }
    .await;
    match result {
        Ok(Some(id)) => Redirect::to(&format!("/deconfliction/activities/{id}")).into_response(),
        Ok(None) => {
            let page_ = PlanPage::new(&who, form);
            form_page(&page_.form, &page_)
        }
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "deconfliction_activity.html")]
struct ActivityPage {
    chrome: Chrome,
    activity: PlannedActivity,
    row: ActivityRow,
    organisation: String,
    clashes: Vec<ClashRow>,
    map: map::Map,
    may_cancel: bool,
}

fn activity_id(raw: &str) -> Result<ActivityId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn activity(
    State(state): State<AppState>,
    PageUser(who): PageUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        permit_route(
            &state,
            &who,
            "GET",
            "/api/v1/activities/{id}",
            &[("id", &id)],
        )
        .await?;
        let activity = events::activity(&state, &who, activity_id(&id)?).await?;
        let clashes = events::clashes(&state, &who)
            .await?
            .iter()
            .filter(|c| c.activity == activity.id && c.live)
            .map(ClashRow::new)
            .collect();
        Ok::<_, AppError>(ActivityPage {
            chrome: Chrome::new(&who, "/deconfliction"),
            row: ActivityRow::new(1, &activity),
            organisation: short_name(&state, &activity.organisation),
            clashes,
            map: map::Map::of(
                &format!("Map of {}", activity.reference),
                &points(std::slice::from_ref(&activity)),
            ),
            may_cancel: activity.state == ActivityState::Planned
                && may_call(&who, "POST", "/api/v1/activities/{id}/cancellation"),
            activity,
        })
    }
    .await;
    match result {
        Ok(page_) => page(StatusCode::OK, &page_),
        Err(e) => page_error(e),
    }
}

async fn cancel_activity(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    CsrfForm(PageUser(who), _form): CsrfForm<FormState>,
) -> Response {
    let result = async {
        let path = "/api/v1/activities/{id}/cancellation";
        permit_route(&state, &who, "POST", path, &[("id", &id)]).await?;
        events::cancel(&state, &who, &source, activity_id(&id)?).await
    }
    .await;
    match result {
        Ok(activity) => {
            Redirect::to(&format!("/deconfliction/activities/{}", activity.id)).into_response()
        }
        Err(e) => page_error(e),
    }
}

// ---------------------------------------------------------------------------------------
// The map
// ---------------------------------------------------------------------------------------

/// A map of planned activity drawn on the server as SVG: the positions projected onto
/// a coarse outline of Great Britain and Ireland with a graticule, each point numbered
/// as its row in the table beside it. No tiles, nothing from outside hosts.
mod map {
    /// The width of the drawing, in its own units.
    pub(super) const WIDTH: f64 = 600.0;
    const MARGIN: f64 = 0.5;

    /// A point to draw.
    pub(crate) struct Point {
        /// Its number, as in the table.
        pub(crate) label: String,
        /// What it is (said to screen readers in the description).
        pub(crate) name: String,
        pub(crate) latitude: f64,
        pub(crate) longitude: f64,
    }

    /// The part of the earth drawn: west, east, south, north, in degrees.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub(crate) struct Frame {
        pub(crate) west: f64,
        pub(crate) east: f64,
        pub(crate) south: f64,
        pub(crate) north: f64,
    }

    /// The British Isles, as drawn when every point is within them.
    pub(super) const BRITISH_ISLES: Frame = Frame {
        west: -11.0,
        east: 2.5,
        south: 49.5,
        north: 61.0,
    };

    impl Frame {
        /// The frame widened to hold every point, with a margin around those outside.
        pub(crate) fn holding(self, points: &[(f64, f64)]) -> Self {
            let mut frame = self;
            for &(lat, lon) in points {
                frame.west = frame.west.min(lon - MARGIN);
                frame.east = frame.east.max(lon + MARGIN);
                frame.south = frame.south.min(lat - MARGIN);
                frame.north = frame.north.max(lat + MARGIN);
            }
            frame.south = frame.south.max(-89.0);
            frame.north = frame.north.min(89.0);
            frame.west = frame.west.max(-180.0);
            frame.east = frame.east.min(180.0);
            frame
        }

        /// How much narrower a degree of longitude is than one of latitude in the
        /// middle of the frame (an equirectangular projection true at that latitude).
        fn squash(self) -> f64 {
            ((self.south + self.north) / 2.0)
                .to_radians()
                .cos()
                .max(0.05)
        }

        /// The height of the drawing for [`WIDTH`], keeping the scale the same both ways.
        pub(crate) fn height(self) -> f64 {
            WIDTH * (self.north - self.south) / ((self.east - self.west) * self.squash())
        }

        /// Where (`latitude`, `longitude`) falls on the drawing: x from the west edge,
        /// y from the north edge (north is up).
        pub(crate) fn project(self, latitude: f64, longitude: f64) -> (f64, f64) {
            let x = (longitude - self.west) / (self.east - self.west) * WIDTH;
            let y = (self.north - latitude) / (self.north - self.south) * self.height();
            (x, y)
        }
    }

    /// A coarse outline of Great Britain and of Ireland (longitude, latitude), for
    /// orientation only.
    const GREAT_BRITAIN: &[(f64, f64)] = &[
        (-5.7, 50.07),
        (-5.2, 49.96),
        (-4.1, 50.35),
        (-3.5, 50.6),
        (-2.45, 50.52),
        (-0.8, 50.72),
        (0.25, 50.73),
        (1.38, 51.13),
        (1.45, 51.38),
        (0.9, 51.55),
        (1.3, 51.95),
        (1.75, 52.48),
        (1.3, 52.93),
        (0.3, 52.85),
        (0.35, 53.15),
        (0.12, 53.58),
        (-0.08, 54.12),
        (-0.6, 54.49),
        (-1.2, 54.7),
        (-1.42, 55.02),
        (-2.0, 55.77),
        (-2.5, 56.0),
        (-2.58, 56.28),
        (-2.07, 57.15),
        (-1.78, 57.5),
        (-2.0, 57.69),
        (-4.0, 57.6),
        (-3.08, 58.44),
        (-3.03, 58.64),
        (-3.37, 58.67),
        (-5.0, 58.62),
        (-5.16, 57.9),
        (-5.7, 57.28),
        (-5.83, 57.0),
        (-6.22, 56.73),
        (-5.47, 56.41),
        (-5.8, 55.3),
        (-4.63, 55.46),
        (-4.86, 54.64),
        (-3.6, 54.95),
        (-3.64, 54.49),
        (-2.9, 54.07),
        (-3.05, 53.4),
        (-3.85, 53.33),
        (-4.63, 53.31),
        (-4.78, 52.78),
        (-4.08, 52.41),
        (-5.3, 51.88),
        (-4.95, 51.6),
        (-4.3, 51.57),
        (-3.17, 51.45),
        (-2.7, 51.6),
        (-3.0, 51.35),
        (-3.47, 51.2),
        (-4.53, 51.02),
        (-5.03, 50.55),
    ];

    const IRELAND: &[(f64, f64)] = &[
        (-7.37, 55.38),
        (-6.15, 55.22),
        (-5.65, 54.65),
        (-5.45, 54.4),
        (-6.05, 54.0),
        (-6.08, 53.35),
        (-6.0, 52.98),
        (-6.36, 52.17),
        (-7.0, 52.13),
        (-8.25, 51.8),
        (-9.82, 51.45),
        (-10.45, 52.15),
        (-9.93, 52.56),
        (-9.1, 53.22),
        (-10.24, 53.4),
        (-10.2, 53.95),
        (-10.05, 54.3),
        (-8.6, 54.3),
        (-8.8, 54.65),
        (-8.28, 55.15),
    ];

    /// One line of the graticule with its label.
    pub(crate) struct GridLine {
        pub(crate) x1: String,
        pub(crate) y1: String,
        pub(crate) x2: String,
        pub(crate) y2: String,
        pub(crate) label: String,
        pub(crate) label_x: String,
        pub(crate) label_y: String,
    }

    /// A point as drawn.
    pub(crate) struct Mark {
        pub(crate) label: String,
        pub(crate) name: String,
        pub(crate) x: String,
        pub(crate) y: String,
        pub(crate) label_x: String,
        pub(crate) label_y: String,
    }

    /// The drawing, ready for the template.
    pub(crate) struct Map {
        pub(crate) title: String,
        pub(crate) description: String,
        pub(crate) width: String,
        pub(crate) height: String,
        pub(crate) outlines: Vec<String>,
        pub(crate) grid: Vec<GridLine>,
        pub(crate) marks: Vec<Mark>,
    }

    fn n(value: f64) -> String {
        format!("{value:.1}")
    }

    fn degrees(value: f64, positive: char, negative: char) -> String {
        let hemisphere = if value < 0.0 { negative } else { positive };
        format!("{}°{hemisphere}", value.abs())
    }

    impl Map {
        /// The map of `points` under `title`.
        pub(crate) fn of(title: &str, points: &[Point]) -> Self {
            let at: Vec<(f64, f64)> = points.iter().map(|p| (p.latitude, p.longitude)).collect();
            let frame = BRITISH_ISLES.holding(&at);
            let height = frame.height();
            let outline = |coast: &[(f64, f64)]| {
                coast
                    .iter()
                    .map(|&(lon, lat)| {
                        let (x, y) = frame.project(lat, lon);
                        format!("{},{}", n(x), n(y))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let step = grid_step(frame.east - frame.west);
            let mut grid = vec![];
            let mut lon = (frame.west / step).ceil() * step;
            while lon <= frame.east {
                let (x, _) = frame.project(frame.north, lon);
                grid.push(GridLine {
                    x1: n(x),
                    y1: n(0.0),
                    x2: n(x),
                    y2: n(height),
                    label: degrees(lon, 'E', 'W'),
                    label_x: n(x + 3.0),
                    label_y: n(height - 4.0),
                });
                lon += step;
            }
            let step = grid_step(frame.north - frame.south);
            let mut lat = (frame.south / step).ceil() * step;
            while lat <= frame.north {
                let (_, y) = frame.project(lat, frame.west);
                grid.push(GridLine {
                    x1: n(0.0),
                    y1: n(y),
                    x2: n(WIDTH),
                    y2: n(y),
                    label: degrees(lat, 'N', 'S'),
                    label_x: n(3.0),
                    label_y: n(y - 3.0),
                });
                lat += step;
            }
            let marks = points
                .iter()
                .map(|p| {
                    let (x, y) = frame.project(p.latitude, p.longitude);
                    Mark {
                        label: p.label.clone(),
                        name: p.name.clone(),
                        x: n(x),
                        y: n(y),
                        label_x: n(x + 7.0),
                        label_y: n(y - 7.0),
                    }
                })
                .collect();
            let description = if points.is_empty() {
                "No planned activity to show.".to_owned()
            } else {
                let list: Vec<String> = points
                    .iter()
                    .map(|p| {
                        format!(
                            "{}: {} at {:.4}, {:.4}",
                            p.label, p.name, p.latitude, p.longitude
                        )
                    })
                    .collect();
                format!(
                    "{} numbered point{} on an outline of Great Britain and Ireland. {}.",
                    points.len(),
                    if points.len() == 1 { "" } else { "s" },
                    list.join("; ")
                )
            };
            Self {
                title: title.to_owned(),
                description,
                width: n(WIDTH),
                height: n(height),
                outlines: vec![outline(GREAT_BRITAIN), outline(IRELAND)],
                grid,
                marks,
            }
        }
    }

    /// A graticule step in degrees for a span: about four to eight lines.
    fn grid_step(span: f64) -> f64 {
        [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0]
            .into_iter()
            .find(|step| span / step <= 8.0)
            .unwrap_or(90.0)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn close(a: f64, b: f64) -> bool {
            (a - b).abs() < 1e-6
        }

        /// The frame's corners are the drawing's corners, and north is up.
        #[test]
        fn corners_project_to_the_corners_of_the_drawing() {
            let f = BRITISH_ISLES;
            let (x, y) = f.project(f.north, f.west);
            assert!(close(x, 0.0) && close(y, 0.0));
            let (x, y) = f.project(f.south, f.east);
            assert!(close(x, WIDTH) && close(y, f.height()));
            let (_, north) = f.project(58.0, -3.0);
            let (_, south) = f.project(51.0, -3.0);
            assert!(north < south, "further north is higher on the drawing");
            let (west, _) = f.project(53.0, -6.0);
            let (east, _) = f.project(53.0, 0.0);
            assert!(west < east, "further east is further right");
        }

        /// A degree of latitude and one of longitude at the middle latitude are drawn
        /// in proportion (an equirectangular projection true at the frame's middle).
        #[test]
        fn the_scale_is_true_at_the_middle_latitude() {
            let f = BRITISH_ISLES;
            let mid = (f.north + f.south) / 2.0;
            let (x0, y0) = f.project(mid, -3.0);
            let (x1, _) = f.project(mid, -2.0);
            let (_, y1) = f.project(mid - 1.0, -3.0);
            let lon_degree = x1 - x0;
            let lat_degree = y1 - y0;
            assert!(close(lon_degree / lat_degree, mid.to_radians().cos()));
        }

        /// Birmingham falls in England on the drawing: south of Manchester, east of
        /// Cardiff, well inside the frame.
        #[test]
        fn known_places_fall_where_they_should() {
            let f = BRITISH_ISLES;
            let birmingham = f.project(52.4862, -1.8904);
            let manchester = f.project(53.4808, -2.2426);
            let cardiff = f.project(51.4816, -3.1791);
            assert!(birmingham.1 > manchester.1);
            assert!(birmingham.0 > cardiff.0);
            assert!(birmingham.0 > 0.0 && birmingham.0 < WIDTH);
            assert!(birmingham.1 > 0.0 && birmingham.1 < f.height());
        }

        /// A point outside the British Isles widens the frame to hold it, with a margin.
        #[test]
        fn the_frame_widens_to_hold_points_outside_it() {
            assert_eq!(BRITISH_ISLES.holding(&[(52.0, -1.0)]), BRITISH_ISLES);
            let gibraltar = BRITISH_ISLES.holding(&[(36.14, -5.35)]);
            assert!(gibraltar.south < 36.14);
            assert_eq!(gibraltar.north, BRITISH_ISLES.north);
            let (x, y) = gibraltar.project(36.14, -5.35);
            assert!(x > 0.0 && x < WIDTH && y > 0.0 && y < gibraltar.height());
        }

        /// The drawing numbers its points, describes them for screen readers and has a
        /// labelled graticule.
        #[test]
        fn the_map_numbers_and_describes_its_points() {
            let map = Map::of(
                "Planned activity",
                &[Point {
                    label: "1".into(),
                    name: "DCN-2026-000001 Warrant".into(),
                    latitude: 52.4862,
                    longitude: -1.8904,
                }],
            );
            assert_eq!(map.marks.len(), 1);
            assert_eq!(map.marks[0].label, "1");
            assert!(map.description.contains("DCN-2026-000001 Warrant"));
            assert!(map.grid.iter().any(|g| g.label == "2°W"));
            assert!(map.grid.iter().any(|g| g.label == "54°N"));
            assert_eq!(map.outlines.len(), 2);
            let empty = Map::of("Nothing", &[]);
            assert!(empty.marks.is_empty());
            assert!(empty.description.contains("No planned activity"));
        }
    }
}
