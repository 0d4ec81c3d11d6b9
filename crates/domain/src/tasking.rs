//! Requests for tasking and assistance, both ways (¶9, ¶20–24): how a request travels
//! to its receiver, how urgent it is, and the states it passes through.
//!
//! What a request is made of lives here too: its kind, geography and case.

use crate::people::{FieldError, UserId, text_enum};
use crate::registry::{
    Engagement, Jurisdiction, OrgCode, Organisation, OrganisationKind, ReferenceData, RocuRegion,
};
use crate::subject::SubjectId;
use crate::text::{bounded_text, uuid_id};
use crate::threat::ThreatAreas;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

uuid_id! {
    /// A request's identifier.
    RequestId, "request_id"
}

/// What a request asks for (¶9, ¶20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RequestKind {
    /// Assistance: people, support or an investigation by the receiver.
    Assistance,
    /// A specialist capability from the catalogue (Annex E).
    Capability {
        /// The capability's code in the catalogue.
        capability: String,
    },
    /// That the national agency take the lead.
    TakeLead,
    /// That the national agency coordinate the response.
    Coordinate,
}

impl RequestKind {
    /// The kind's stable text, as stored.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Assistance => "assistance",
            Self::Capability { .. } => "capability",
            Self::TakeLead => "take-lead",
            Self::Coordinate => "coordinate",
        }
    }

    /// Rebuilds a kind from its stored text and capability code, checking the code
    /// against the catalogue.
    pub fn parse(
        kind: &str,
        capability: Option<&str>,
        registry: &ReferenceData,
    ) -> Result<Self, FieldError> {
        match (kind, capability) {
            ("assistance", None) => Ok(Self::Assistance),
            ("take-lead", None) => Ok(Self::TakeLead),
            ("coordinate", None) => Ok(Self::Coordinate),
            ("capability", Some(code)) => {
                if registry.capability(code).is_none() {
                    return Err(FieldError::new(
                        "kind.capability",
                        format!("`{code}` is not in the capability catalogue"),
                    ));
                }
                Ok(Self::Capability {
                    capability: code.to_owned(),
                })
            }
            ("capability", None) => Err(FieldError::new(
                "kind.capability",
                "name the capability asked for",
            )),
            ("assistance" | "take-lead" | "coordinate", Some(_)) => Err(FieldError::new(
                "kind.capability",
                "only a capability request names a capability",
            )),
            (other, _) => Err(FieldError::new(
                "kind.type",
                format!("`{other}` is not one of: assistance, capability, take-lead, coordinate"),
            )),
        }
    }

    /// The capability asked for, if any.
    pub fn capability(&self) -> Option<&str> {
        match self {
            Self::Capability { capability } => Some(capability),
            _ => None,
        }
    }
}

text_enum! {
    /// How sophisticated the criminality is (¶5, fourth commitment; Annex B).
    Sophistication, "sophistication" {
        /// Within what a partner normally handles.
        Standard = "standard",
        /// A high level of criminal sophistication.
        High = "high",
    }
}

/// Where the activity is: the areas of the organisations affected, and whether it
/// reaches abroad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Geography {
    /// Organisations whose areas the activity touches (forces, island forces, agencies).
    #[schema(value_type = Vec<String>)]
    pub areas: BTreeSet<OrgCode>,
    /// Whether the activity has an international dimension.
    pub international: bool,
}

/// The geography of a request, resolved against the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResolvedGeography {
    /// The ROCU regions the areas fall in.
    pub regions: BTreeSet<RocuRegion>,
    /// The jurisdictions the areas cover.
    pub jurisdictions: BTreeSet<Jurisdiction>,
    /// The territorial and island forces among the areas.
    #[schema(value_type = Vec<String>)]
    pub forces: BTreeSet<OrgCode>,
    /// Whether the activity reaches abroad.
    pub international: bool,
}

impl Geography {
    /// Checks every area against the registry and works out regions and jurisdictions.
    pub fn resolve(&self, registry: &ReferenceData) -> Result<ResolvedGeography, FieldError> {
        let mut resolved = ResolvedGeography {
            regions: BTreeSet::new(),
            jurisdictions: BTreeSet::new(),
            forces: BTreeSet::new(),
            international: self.international,
        };
        for code in &self.areas {
            let org = registry.organisation(code).ok_or_else(|| {
                FieldError::new(
                    "geography.areas",
                    format!("`{code}` is not an organisation in the registry"),
                )
            })?;
            resolved.regions.extend(org.region);
            // ROCUs, forces and island forces cover their own jurisdictions; national
            // bodies do not narrow a geography.
            if matches!(
                org.kind,
                OrganisationKind::TerritorialPolice
                    | OrganisationKind::IslandForce
                    | OrganisationKind::Rocu
            ) {
                resolved.jurisdictions.extend(org.jurisdictions.iter());
            }
            if matches!(
                org.kind,
                OrganisationKind::TerritorialPolice | OrganisationKind::IslandForce
            ) {
                resolved.forces.insert(code.clone());
            }
        }
        Ok(resolved)
    }
}

bounded_text! {
    /// A request's title: one line that says what it is about.
    RequestTitle, "title", 200, false, "Armed surveillance on the Eastside CViT group"
}

bounded_text! {
    /// The requester's case: what is happening, what is asked, and why.
    CaseText, "case", 20000, true, "Three armed robberies of cash in transit since May..."
}

/// A request for tasking or assistance, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Request {
    /// Its identifier.
    pub id: RequestId,
    /// Its title.
    pub title: RequestTitle,
    /// What it asks for.
    pub kind: RequestKind,
    /// The organisation asking.
    #[schema(value_type = String)]
    pub requester: OrgCode,
    /// The organisation asked.
    #[schema(value_type = String)]
    pub receiver: OrgCode,
    /// How it travels (¶21–24).
    pub route: Route,
    /// The threat areas concerned.
    pub threat_areas: ThreatAreas,
    /// The subjects concerned.
    pub subjects: Vec<SubjectId>,
    /// Where the activity is.
    pub geography: Geography,
    /// How sophisticated the criminality is.
    pub sophistication: Sophistication,
    /// How soon an answer is needed.
    pub urgency: Urgency,
    /// The requester's case.
    pub case: CaseText,
    /// Where it stands.
    pub state: RequestState,
    /// Who raised it.
    pub raised_by: UserId,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// When it was submitted, if it has been.
    pub submitted_at: Option<Timestamp>,
    /// When the receiver must answer by (set on submission from the urgency).
    pub respond_by: Option<Timestamp>,
    /// Whether the overdue job has flagged it.
    pub overdue: bool,
}

/// The way a request reaches the organisation that is to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Route {
    /// Straight to the receiver: requests to the national agency, to partners it
    /// engages directly (¶23–24), and between the regional tier and the agency.
    Direct,
    /// Through the Regional Organised Crime Unit of the force's region (¶21).
    Rocu {
        /// The ROCU that carries the request.
        #[schema(value_type = String)]
        gateway: OrgCode,
    },
    /// Through Police Scotland or the PSNI in the devolved administrations (fn 13).
    DevolvedForce {
        /// The force that carries the request.
        #[schema(value_type = String)]
        gateway: OrgCode,
    },
    /// Through a Joint Border Intelligence Unit, for capability or capacity at the
    /// border (¶22).
    Jbiu {
        /// The JBIU that carries the request.
        #[schema(value_type = String)]
        gateway: OrgCode,
    },
}

impl Route {
    /// The organisation the request passes through, if any.
    pub fn gateway(&self) -> Option<&OrgCode> {
        match self {
            Route::Direct => None,
            Route::Rocu { gateway }
            | Route::DevolvedForce { gateway }
            | Route::Jbiu { gateway } => Some(gateway),
        }
    }

    /// The paragraph of the source document that sets this route.
    pub fn authority(&self) -> &'static str {
        match self {
            Route::Direct => "¶23–24",
            Route::Rocu { .. } => "¶21",
            Route::DevolvedForce { .. } => "¶21 fn 13",
            Route::Jbiu { .. } => "¶22",
        }
    }
}

/// Why a request cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// A request must go to another organisation.
    #[error("a request cannot be sent to its own organisation")]
    ToItself,
    /// The border gateway named is not a Joint Border Intelligence Unit.
    #[error("`{0}` is not a Joint Border Intelligence Unit (¶22)")]
    NotAJbiu(OrgCode),
    /// The registry lacks the gateway the rules call for.
    #[error("the registry has no {0} to route through")]
    MissingGateway(String),
}

/// How a request travels from `from` to `to` (¶21–24).
///
/// `at_the_border` names the JBIU when the request is for capability or capacity at the
/// border. Only requests from the national agency to its partners pass through a
/// gateway; partners ask the national agency, and the agency engages the large
/// metropolitan forces, the devolved forces and strategic partners, directly.
pub fn route(
    registry: &ReferenceData,
    from: &Organisation,
    to: &Organisation,
    at_the_border: Option<&Organisation>,
) -> Result<Route, RoutingError> {
    if from.code == to.code {
        return Err(RoutingError::ToItself);
    }
    if !from.kind.is_national_agency_body() || to.kind.is_national_agency_body() {
        // ¶9: the voluntary arrangements are two-way; a partner engages the agency directly.
        return Ok(Route::Direct);
    }
    // ¶22: at the border, the JBIUs are the gateway.
    if let Some(jbiu) = at_the_border {
        if jbiu.kind != OrganisationKind::Jbiu {
            return Err(RoutingError::NotAJbiu(jbiu.code.clone()));
        }
        if jbiu.code != to.code {
            return Ok(Route::Jbiu {
                gateway: jbiu.code.clone(),
            });
        }
        return Ok(Route::Direct);
    }
    // ¶24: the large metropolitan forces, the PSNI, Police Scotland and strategic
    // partners such as HMRC are engaged directly.
    if to.engagement == Engagement::Direct {
        return Ok(Route::Direct);
    }
    if to.kind == OrganisationKind::TerritorialPolice {
        // ¶21: forces in England and Wales are reached through their region's ROCU.
        if let Some(region) = to.region {
            let rocu = registry.rocu_for_region(region).ok_or_else(|| {
                RoutingError::MissingGateway(format!("ROCU for {}", region.name()))
            })?;
            return Ok(Route::Rocu {
                gateway: rocu.code.clone(),
            });
        }
    }
    // fn 13: in the devolved administrations, through Police Scotland and the PSNI.
    for devolved in [Jurisdiction::Scotland, Jurisdiction::NorthernIreland] {
        if to.jurisdictions.is_only(devolved) {
            let gateway = registry
                .organisations
                .iter()
                .find(|o| {
                    o.kind == OrganisationKind::TerritorialPolice
                        && o.jurisdictions.is_only(devolved)
                })
                .ok_or_else(|| {
                    RoutingError::MissingGateway(format!("territorial force in {devolved}"))
                })?;
            return Ok(Route::DevolvedForce {
                gateway: gateway.code.clone(),
            });
        }
    }
    // ¶23: everyone else is engaged directly.
    Ok(Route::Direct)
}

text_enum! {
    /// How soon a request needs an answer.
    Urgency, "urgency" {
        /// An immediate need for urgent action (¶5, third commitment): threat to life,
        /// a crime in action.
        Immediate = "immediate",
        /// Needed within the day.
        Urgent = "urgent",
        /// In the ordinary course of tasking.
        Routine = "routine",
    }
}

/// How long the receiver has to respond at each urgency. The source document sets no
/// figures; these defaults are configurable per deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResponseDeadlines {
    /// Minutes allowed for an immediate request.
    pub immediate_minutes: u32,
    /// Minutes allowed for an urgent request.
    pub urgent_minutes: u32,
    /// Minutes allowed for a routine request.
    pub routine_minutes: u32,
}

impl Default for ResponseDeadlines {
    fn default() -> Self {
        Self {
            immediate_minutes: 60,
            urgent_minutes: 24 * 60,
            routine_minutes: 14 * 24 * 60,
        }
    }
}

impl ResponseDeadlines {
    /// Checks that the deadlines are positive and tighten with urgency.
    pub fn new(
        immediate_minutes: u32,
        urgent_minutes: u32,
        routine_minutes: u32,
    ) -> Result<Self, String> {
        if immediate_minutes == 0 {
            return Err("the immediate deadline must be at least one minute".to_owned());
        }
        if !(immediate_minutes <= urgent_minutes && urgent_minutes <= routine_minutes) {
            return Err(
                "deadlines must not shorten as urgency falls (immediate <= urgent <= routine)"
                    .to_owned(),
            );
        }
        Ok(Self {
            immediate_minutes,
            urgent_minutes,
            routine_minutes,
        })
    }

    /// The time allowed for a request of `urgency`.
    pub fn allowed(&self, urgency: Urgency) -> chrono::Duration {
        let minutes = match urgency {
            Urgency::Immediate => self.immediate_minutes,
            Urgency::Urgent => self.urgent_minutes,
            Urgency::Routine => self.routine_minutes,
        };
        chrono::Duration::minutes(i64::from(minutes))
    }
}

text_enum! {
    /// Where a request stands.
    RequestState, "state" {
        /// Being written; only its author's organisation sees it.
        Draft = "draft",
        /// Sent, awaiting the receiver.
        Submitted = "submitted",
        /// The receiver is assessing it against the Commitment tests.
        UnderAssessment = "under-assessment",
        /// Accepted: the receiver leads, supports and/or coordinates.
        Accepted = "accepted",
        /// Declined, with a referral to whoever is better placed.
        DeclinedWithReferral = "declined-with-referral",
        /// Withdrawn by the requester before a decision.
        Withdrawn = "withdrawn",
        /// Not decided by its deadline.
        Expired = "expired",
    }
}

/// Something that happens to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestEvent {
    /// The requester sends it.
    Submit,
    /// The receiver starts assessing it.
    StartAssessment,
    /// The receiver accepts it.
    Accept,
    /// The receiver declines it and refers it on.
    Decline,
    /// The requester withdraws it.
    Withdraw,
    /// Its deadline passes undecided.
    Expire,
}

/// A transition the request's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a request that is {from:?} cannot be {event:?}")]
pub struct TransitionError {
    /// The state it was in.
    pub from: RequestState,
    /// What was attempted.
    pub event: RequestEvent,
}

impl RequestState {
    /// The state after `event`, if the event is allowed now.
    pub fn apply(self, event: RequestEvent) -> Result<RequestState, TransitionError> {
        use RequestEvent as E;
        use RequestState as S;
        let next = match (self, event) {
            (S::Draft, E::Submit) => S::Submitted,
            (S::Submitted, E::StartAssessment) => S::UnderAssessment,
            // A decided request can be decided again: the new decision supersedes the
            // old one, which stays on the record.
            (
                S::Submitted | S::UnderAssessment | S::Accepted | S::DeclinedWithReferral,
                E::Accept,
            ) => S::Accepted,
            (
                S::Submitted | S::UnderAssessment | S::Accepted | S::DeclinedWithReferral,
                E::Decline,
            ) => S::DeclinedWithReferral,
            (S::Draft | S::Submitted | S::UnderAssessment, E::Withdraw) => S::Withdrawn,
            (S::Submitted | S::UnderAssessment, E::Expire) => S::Expired,
            (from, event) => return Err(TransitionError { from, event }),
        };
        Ok(next)
    }

    /// Whether nothing more can happen to the request.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Accepted | Self::DeclinedWithReferral | Self::Withdrawn | Self::Expired
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> ReferenceData {
        ReferenceData::builtin().expect("reference data")
    }

    fn org<'a>(data: &'a ReferenceData, code: &str) -> &'a Organisation {
        data.organisation(&OrgCode::parse(code).expect("code"))
            .expect("exists")
    }

    /// One routing case: from, to, the JBIU if at the border, and the expected route.
    fn check(from: &str, to: &str, border: Option<&str>, expected: Route) {
        let data = registry();
        let got = route(
            &data,
            org(&data, from),
            org(&data, to),
            border.map(|b| org(&data, b)),
        );
        assert_eq!(got, Ok(expected), "{from} -> {to} (border: {border:?})");
    }

    fn via(kind: fn(OrgCode) -> Route, code: &str) -> Route {
        kind(OrgCode::parse(code).expect("code"))
    }

    fn rocu(gateway: OrgCode) -> Route {
        Route::Rocu { gateway }
    }

    fn devolved(gateway: OrgCode) -> Route {
        Route::DevolvedForce { gateway }
    }

    fn jbiu(gateway: OrgCode) -> Route {
        Route::Jbiu { gateway }
    }

    /// ¶21: the national agency reaches a force in England and Wales through its ROCU.
    #[test]
    fn forces_in_england_and_wales_are_reached_through_their_rocu() {
        check("nca", "cumbria", None, via(rocu, "titan"));
        check("nca-occ", "kent", None, via(rocu, "serocu"));
        check("nca", "gwent", None, via(rocu, "tarian"));
        check("nca", "city-of-london", None, via(rocu, "london-rocu"));
    }

    /// ¶24: the large metropolitan forces, Scotland, Northern Ireland and HMRC directly.
    #[test]
    fn partners_named_in_paragraph_24_are_engaged_directly() {
        for to in [
            "mps",
            "west-yorkshire",
            "greater-manchester",
            "west-midlands",
            "merseyside",
            "police-scotland",
            "psni",
            "hmrc",
        ] {
            check("nca", to, None, Route::Direct);
        }
    }

    /// ¶22: capability or capacity at the border goes through a JBIU.
    #[test]
    fn requests_at_the_border_go_through_a_jbiu() {
        check(
            "nca",
            "border-force",
            Some("jbiu-heathrow"),
            via(jbiu, "jbiu-heathrow"),
        );
        check(
            "nca",
            "kent",
            Some("jbiu-south-east-and-europe"),
            via(jbiu, "jbiu-south-east-and-europe"),
        );
        let data = registry();
        let err = route(
            &data,
            org(&data, "nca"),
            org(&data, "kent"),
            Some(org(&data, "kent")),
        );
        assert_eq!(
            err,
            Err(RoutingError::NotAJbiu(
                OrgCode::parse("kent").expect("code")
            ))
        );
    }

    /// ¶23, ¶9: other partners directly, and partners reach the agency directly.
    #[test]
    fn other_partners_and_requests_to_the_agency_are_direct() {
        check("nca", "sfo", None, Route::Direct);
        check("nca", "btp", None, Route::Direct);
        check("nca", "jersey-police", None, Route::Direct);
        check("cumbria", "nca", None, Route::Direct);
        check("titan", "nca-nccu", None, Route::Direct);
    }

    /// ¶21 fn 13: in the devolved administrations, through Police Scotland or the PSNI.
    #[test]
    fn devolved_partners_are_reached_through_their_national_force() {
        let data = registry();
        for (jurisdiction, gateway) in [
            (Jurisdiction::Scotland, "police-scotland"),
            (Jurisdiction::NorthernIreland, "psni"),
        ] {
            let mut partner = org(&data, "sfo").clone();
            partner.code = OrgCode::parse("devolved-agency").expect("code");
            partner.jurisdictions =
                crate::registry::Jurisdictions::new(vec![jurisdiction]).expect("one");
            partner.engagement = Engagement::ViaRegionalTier;
            assert_eq!(
                route(&data, org(&data, "nca"), &partner, None),
                Ok(via(devolved, gateway))
            );
        }
    }

    #[test]
    fn a_request_to_itself_is_refused() {
        let data = registry();
        assert_eq!(
            route(&data, org(&data, "nca"), org(&data, "nca"), None),
            Err(RoutingError::ToItself)
        );
    }

    #[test]
    fn deadlines_tighten_with_urgency() {
        let d = ResponseDeadlines::default();
        assert!(d.allowed(Urgency::Immediate) < d.allowed(Urgency::Urgent));
        assert!(d.allowed(Urgency::Urgent) < d.allowed(Urgency::Routine));
        assert!(ResponseDeadlines::new(0, 10, 10).is_err());
        assert!(ResponseDeadlines::new(60, 30, 100).is_err());
        assert_eq!(
            ResponseDeadlines::new(30, 60, 60)
                .expect("valid")
                .allowed(Urgency::Immediate),
            chrono::Duration::minutes(30)
        );
    }

    #[test]
    fn requests_move_only_along_their_lifecycle() {
        use RequestEvent as E;
        use RequestState as S;
        let decided = S::Draft
            .apply(E::Submit)
            .and_then(|s| s.apply(E::StartAssessment))
            .and_then(|s| s.apply(E::Accept));
        assert_eq!(decided, Ok(S::Accepted));
        assert!(S::Accepted.is_final());
        assert_eq!(S::Submitted.apply(E::Decline), Ok(S::DeclinedWithReferral));
        assert_eq!(S::Accepted.apply(E::Decline), Ok(S::DeclinedWithReferral));
        assert_eq!(S::UnderAssessment.apply(E::Expire), Ok(S::Expired));
        assert_eq!(S::Draft.apply(E::Withdraw), Ok(S::Withdrawn));
        for (from, event) in [
            (S::Draft, E::Accept),
            (S::Accepted, E::Withdraw),
            (S::Expired, E::Submit),
            (S::Draft, E::Expire),
            (S::Withdrawn, E::StartAssessment),
        ] {
            assert_eq!(
                from.apply(event),
                Err(TransitionError { from, event }),
                "{from:?} + {event:?}"
            );
        }
    }
}
