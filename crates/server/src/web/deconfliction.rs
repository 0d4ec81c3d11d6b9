//! Deconfliction in the browser (DESIGN parts 7 and 8): my organisation's hits and
//! clashes awaiting acknowledgement (live: they are fetched again when a notification
//! arrives), its registrations and planned activity with a map drawn on the server;
//! registering a subject, planning activity, and acknowledging or resolving what they
//! find. Each page is authorised by the rule of the API route it mirrors, and calls the
//! same services.

use super::{
    Choice, Chrome, CsrfForm, FormState, PageUser, form_page, london, page, page_error, shown,
    words,
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

mod map;

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
        probability: if hit.probability >= 0.995 {
            "over 99%".to_owned()
        } else {
            format!("{:.0}%", hit.probability * 100.0)
        },
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
    shown(result)
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
    shown(result)
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
