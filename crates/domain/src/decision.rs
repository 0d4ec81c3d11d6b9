//! The lead / support / coordinate decision (¶14, ¶17), its recommendation and its
//! rationale in the stages of the National Decision Model (fn 9).
//!
//! The policy ([`crate::policy`]) recommends; a person decides. A decision that
//! departs from the recommendation says why, and decisions are never edited: a change
//! is a new decision that supersedes the old one.

use crate::people::{FieldError, UserId, text_enum};
use crate::registry::{OrgCode, ReferenceData};
use crate::tasking::RequestId;
use crate::text::{bounded_text, uuid_id};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

text_enum! {
    /// What the national agency does about a request (¶14): lead, support and/or
    /// coordinate, or decline and refer it to whoever is better placed.
    AgencyRole, "role" {
        /// Lead the operational response.
        Lead = "lead",
        /// Support the partner that leads.
        Support = "support",
        /// Bring the agencies together to coordinate the response.
        Coordinate = "coordinate",
        /// Lead, and coordinate the partners working alongside.
        LeadAndCoordinate = "lead-and-coordinate",
        /// Support the lead, and coordinate the wider response.
        SupportAndCoordinate = "support-and-coordinate",
        /// Decline, with a referral.
        Decline = "decline",
    }
}

impl AgencyRole {
    /// The role made of leading, supporting and coordinating; `None` when none applies.
    pub fn combine(lead: bool, support: bool, coordinate: bool) -> Self {
        match (lead, support, coordinate) {
            (true, _, true) => Self::LeadAndCoordinate,
            (true, _, false) => Self::Lead,
            (false, true, true) => Self::SupportAndCoordinate,
            (false, true, false) => Self::Support,
            (false, false, true) => Self::Coordinate,
            (false, false, false) => Self::Decline,
        }
    }
}

text_enum! {
    /// A test the policy applies to a request.
    CommitmentTest, "test" {
        /// ¶5, first commitment: Priority and High Priority OCGs, individuals and
        /// vulnerabilities.
        PrioritySubjects = "priority-subjects",
        /// ¶5, second: a specialist capability not easily available (or normally
        /// affordable) to the partner.
        SpecialistCapability = "specialist-capability",
        /// ¶5, third: an immediate need for urgent action.
        UrgentAction = "urgent-action",
        /// ¶5, fourth: activity beyond the partner's capability.
        BeyondPartnerCapability = "beyond-partner-capability",
        /// Annex B: the agency's operational priorities.
        OperationalPriorities = "operational-priorities",
    }
}

/// One test, passed or failed, and the facts that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TestResult {
    /// Which test.
    pub test: CommitmentTest,
    /// Where the source document sets it.
    pub paragraph: String,
    /// Whether the request meets it.
    pub passed: bool,
    /// The facts that decided it, in plain English.
    pub facts: Vec<String>,
}

/// What the policy recommends, and why, test by test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    /// The version of the policy that made it.
    pub policy_version: String,
    /// What the national agency should do.
    pub role: AgencyRole,
    /// The best-placed lead agency.
    #[schema(value_type = String)]
    pub lead: OrgCode,
    /// Why that agency is best placed.
    pub lead_reason: String,
    /// Where to refer the request when the recommendation is to decline.
    #[schema(value_type = Option<String>)]
    pub referral: Option<OrgCode>,
    /// Each test, in order.
    pub tests: Vec<TestResult>,
}

impl Recommendation {
    /// The result of `test`, if the policy ran it.
    pub fn result(&self, test: CommitmentTest) -> Option<&TestResult> {
        self.tests.iter().find(|t| t.test == test)
    }
}

uuid_id! {
    /// A decision's identifier.
    DecisionId, "decision_id"
}

text_enum! {
    /// What the receiver decided.
    Outcome, "outcome" {
        /// Accepted: the roles below apply.
        Accepted = "accepted",
        /// Declined, and referred on.
        Declined = "declined",
    }
}

bounded_text! {
    /// One stage of a National Decision Model rationale.
    NdmText, "rationale", 8000, true, "CViT robberies in one region; firearms discharged."
}

bounded_text! {
    /// Why a decision departs from the recommendation.
    DepartureReason, "departure_reason", 4000, true, "The force has the capacity and the local knowledge."
}

bounded_text! {
    /// The terms of a charging exception both sides agreed (¶10).
    ChargingTerms, "charging.terms", 2000, true, "Overtime for the surveillance team, at cost."
}

/// A rationale in the five stages of the National Decision Model (¶14, fn 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NdmRationale {
    /// Gather information and intelligence.
    pub information: NdmText,
    /// Assess threat and risk, and develop a working strategy.
    pub threat_and_risk: NdmText,
    /// Consider powers and policy.
    pub powers_and_policy: NdmText,
    /// Identify options and contingencies.
    pub options_and_contingencies: NdmText,
    /// Take action and review what happened.
    pub action_and_review: NdmText,
}

/// Who pays (¶10): capabilities are free of charge unless an exception is agreed by
/// both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "basis", rename_all = "kebab-case")]
pub enum Charging {
    /// No charge.
    None,
    /// An exception the requester and the receiver both agreed.
    AgreedException {
        /// Its terms.
        terms: ChargingTerms,
        /// The requester's officer who agreed.
        requester_agreed_by: UserId,
        /// The receiver's officer who agreed.
        receiver_agreed_by: UserId,
    },
}

/// A decision on a request, immutable once recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// Its identifier.
    pub id: DecisionId,
    /// The request decided.
    pub request: RequestId,
    /// Accepted or declined.
    pub outcome: Outcome,
    /// The roles, when accepted.
    pub roles: Option<Roles>,
    /// Where a declined request is referred.
    #[schema(value_type = Option<String>)]
    pub referral: Option<OrgCode>,
    /// The rationale, stage by stage.
    pub rationale: NdmRationale,
    /// What the policy recommended when the decision was taken.
    pub recommendation: Recommendation,
    /// What the decision means for the national agency.
    pub agency_role: AgencyRole,
    /// Why the decision departs from the recommendation, when it does.
    pub departure_reason: Option<DepartureReason>,
    /// Who pays.
    pub charging: Charging,
    /// Who decided.
    pub decided_by: UserId,
    /// When.
    pub decided_at: Timestamp,
    /// The decision this one replaces, if any.
    pub supersedes: Option<DecisionId>,
}

/// Who leads, supports and coordinates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Roles {
    /// The lead agency: one, always.
    #[schema(value_type = String)]
    pub lead: OrgCode,
    /// The organisations that support.
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub support: BTreeSet<OrgCode>,
    /// The organisations that coordinate.
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub coordinate: BTreeSet<OrgCode>,
}

impl Roles {
    /// Checks the organisations against the registry and that the lead does not also
    /// support.
    pub fn check(&self, registry: &ReferenceData) -> Result<(), FieldError> {
        for (field, code) in std::iter::once(("roles.lead", &self.lead))
            .chain(self.support.iter().map(|c| ("roles.support", c)))
            .chain(self.coordinate.iter().map(|c| ("roles.coordinate", c)))
        {
            if registry.organisation(code).is_none() {
                return Err(FieldError::new(
                    field,
                    format!("`{code}` is not an organisation in the registry"),
                ));
            }
        }
        if self.support.contains(&self.lead) {
            return Err(FieldError::new(
                "roles.support",
                "the lead agency does not also support itself",
            ));
        }
        Ok(())
    }

    /// What these roles mean for the national agency: whether any of its bodies leads,
    /// supports or coordinates.
    pub fn agency_role(&self, registry: &ReferenceData) -> AgencyRole {
        let agency = |code: &OrgCode| {
            registry
                .organisation(code)
                .is_some_and(|o| o.kind.is_national_agency_body())
        };
        AgencyRole::combine(
            agency(&self.lead),
            self.support.iter().any(agency),
            self.coordinate.iter().any(agency),
        )
    }
}

/// A decision as a decider proposes it, before the rules check it.
#[derive(Debug, Clone)]
pub struct ProposedDecision {
    /// Accepted or declined.
    pub outcome: Outcome,
    /// The roles, for an acceptance.
    pub roles: Option<Roles>,
    /// The referral, for a decline.
    pub referral: Option<OrgCode>,
    /// Why it departs from the recommendation, if it does.
    pub departure_reason: Option<DepartureReason>,
}

/// The checks on a decision: an acceptance names roles and no referral; a decline
/// names a referral and no roles (¶14); departing from the recommendation needs a
/// reason (¶17: professional judgement, on the record). Returns the agency's role.
pub fn check_decision(
    proposed: &ProposedDecision,
    recommendation: &Recommendation,
    registry: &ReferenceData,
) -> Result<AgencyRole, FieldError> {
    let role = match (proposed.outcome, &proposed.roles, &proposed.referral) {
        (Outcome::Accepted, Some(roles), None) => {
            roles.check(registry)?;
            roles.agency_role(registry)
        }
        (Outcome::Accepted, None, _) => {
            return Err(FieldError::new(
                "roles",
                "an acceptance names the lead agency and any supporting or coordinating ones",
            ));
        }
        (Outcome::Accepted, Some(_), Some(_)) => {
            return Err(FieldError::new(
                "referral",
                "an accepted request is not referred",
            ));
        }
        (Outcome::Declined, None, Some(referral)) => {
            if registry.organisation(referral).is_none() {
                return Err(FieldError::new(
                    "referral",
                    format!("`{referral}` is not an organisation in the registry"),
                ));
            }
            AgencyRole::Decline
        }
        (Outcome::Declined, _, None) => {
            return Err(FieldError::new(
                "referral",
                "a declined request is referred to whoever is better placed (¶14)",
            ));
        }
        (Outcome::Declined, Some(_), Some(_)) => {
            return Err(FieldError::new("roles", "a declined request has no roles"));
        }
    };
    let departs = role != recommendation.role
        || proposed
            .roles
            .as_ref()
            .is_some_and(|r| r.lead != recommendation.lead);
    if departs && proposed.departure_reason.is_none() {
        return Err(FieldError::new(
            "departure_reason",
            format!(
                "the decision departs from the recommendation ({} with {} leading); say why",
                recommendation.role.as_str(),
                recommendation.lead
            ),
        ));
    }
    Ok(role)
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |set: &BTreeSet<OrgCode>| {
            set.iter()
                .map(OrgCode::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "lead {}", self.lead)?;
        if !self.support.is_empty() {
            write!(f, "; support {}", list(&self.support))?;
        }
        if !self.coordinate.is_empty() {
            write!(f, "; coordinate {}", list(&self.coordinate))?;
        }
        Ok(())
    }
}

/// Parses an organisation list such as `nca,kent` (for the command line).
pub fn parse_orgs(field: &'static str, raw: &str) -> Result<BTreeSet<OrgCode>, FieldError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| OrgCode::from_str(s).map_err(|e| FieldError::new(field, e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> OrgCode {
        OrgCode::parse(c).expect("code")
    }

    fn recommendation(role: AgencyRole, lead: &str) -> Recommendation {
        Recommendation {
            policy_version: "test".into(),
            role,
            lead: code(lead),
            lead_reason: "test".into(),
            referral: None,
            tests: vec![],
        }
    }

    fn accept(lead: &str, support: &[&str], coordinate: &[&str]) -> ProposedDecision {
        ProposedDecision {
            outcome: Outcome::Accepted,
            roles: Some(Roles {
                lead: code(lead),
                support: support.iter().map(|c| code(c)).collect(),
                coordinate: coordinate.iter().map(|c| code(c)).collect(),
            }),
            referral: None,
            departure_reason: None,
        }
    }

    fn registry() -> ReferenceData {
        ReferenceData::builtin().expect("data")
    }

    /// ¶14: the agency's role follows from which of its bodies lead, support or coordinate.
    #[test]
    fn the_agency_role_follows_from_the_roles() {
        let data = registry();
        let role = |d: ProposedDecision| d.roles.expect("roles").agency_role(&data);
        assert_eq!(role(accept("kent", &["nca"], &[])), AgencyRole::Support);
        assert_eq!(role(accept("nca", &["kent"], &[])), AgencyRole::Lead);
        assert_eq!(
            role(accept("hmrc", &["nca-ecc"], &["nca"])),
            AgencyRole::SupportAndCoordinate
        );
        assert_eq!(
            role(accept("nca", &[], &["nca"])),
            AgencyRole::LeadAndCoordinate
        );
        assert_eq!(role(accept("hmrc", &[], &["nca"])), AgencyRole::Coordinate);
    }

    /// ¶17: a decision may depart from the recommendation, but only with a reason.
    #[test]
    fn departing_from_the_recommendation_needs_a_reason() {
        let data = registry();
        let rec = recommendation(AgencyRole::Support, "kent");
        assert_eq!(
            check_decision(&accept("kent", &["nca"], &[]), &rec, &data),
            Ok(AgencyRole::Support)
        );
        let err = check_decision(&accept("nca", &["kent"], &[]), &rec, &data).expect_err("departs");
        assert_eq!(err.field, "departure_reason");
        let err = check_decision(&accept("essex", &["nca"], &[]), &rec, &data)
            .expect_err("another lead departs");
        assert_eq!(err.field, "departure_reason");
        let mut reasoned = accept("nca", &["kent"], &[]);
        reasoned.departure_reason = Some(DepartureReason::parse("Kent asked us").expect("valid"));
        assert_eq!(check_decision(&reasoned, &rec, &data), Ok(AgencyRole::Lead));
    }

    /// ¶14: a decline is referred to someone better placed, and carries no roles.
    #[test]
    fn a_decline_names_a_referral() {
        let data = registry();
        let rec = recommendation(AgencyRole::Decline, "kent");
        let decline = |referral: Option<&str>| ProposedDecision {
            outcome: Outcome::Declined,
            roles: None,
            referral: referral.map(code),
            departure_reason: None,
        };
        assert_eq!(
            check_decision(&decline(Some("serocu")), &rec, &data),
            Ok(AgencyRole::Decline)
        );
        assert_eq!(
            check_decision(&decline(None), &rec, &data)
                .expect_err("no referral")
                .field,
            "referral"
        );
        assert_eq!(
            check_decision(&decline(Some("nowhere")), &rec, &data)
                .expect_err("unknown")
                .field,
            "referral"
        );
        let mut no_roles = accept("kent", &[], &[]);
        no_roles.roles = None;
        assert_eq!(
            check_decision(&no_roles, &rec, &data)
                .expect_err("roles")
                .field,
            "roles"
        );
    }

    #[test]
    fn roles_name_real_organisations_and_the_lead_does_not_support_itself() {
        let data = registry();
        let rec = recommendation(AgencyRole::Support, "kent");
        assert_eq!(
            check_decision(&accept("kent", &["kent"], &[]), &rec, &data)
                .expect_err("self-support")
                .field,
            "roles.support"
        );
        assert_eq!(
            check_decision(&accept("kent", &["nowhere"], &[]), &rec, &data)
                .expect_err("unknown")
                .field,
            "roles.support"
        );
    }
}
