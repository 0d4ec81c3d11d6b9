//! Operations (¶14, ¶18): who leads, supports and coordinates, over time, and what
//! the operation achieved.
//!
//! Roles change over an operation's life (¶18), so they are kept as a history of spans
//! that can be read as of any moment. Exactly one organisation leads at any time.

use crate::decision::Roles;
use crate::people::{FieldError, UserId, text_enum};
use crate::registry::OrgCode;
use crate::subject::SubjectId;
use crate::tasking::RequestId;
use crate::text::{bounded_text, uuid_id};
use crate::threat::{Strand, ThreatAreas};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

uuid_id! {
    /// An operation's identifier.
    OperationId, "operation_id"
}

bounded_text! {
    /// An operation's code name.
    CodeName, "code_name", 80, false, "Operation Nightjar"
}

bounded_text! {
    /// Why roles changed, or how an outcome came about.
    Reason, "reason", 4000, true, "Robberies displaced across three regions."
}

text_enum! {
    /// A part an organisation plays in an operation (¶14).
    OperationRole, "role" {
        /// Leads the response and manages its operational risk.
        Lead = "lead",
        /// Supports the lead.
        Support = "support",
        /// Coordinates the agencies involved.
        Coordinate = "coordinate",
    }
}

/// An organisation's role over a span of time; `until` is open while the role holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleSpan {
    /// The organisation.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// Its role.
    pub role: OperationRole,
    /// From when (inclusive).
    pub from: Timestamp,
    /// Until when (exclusive), if it has ended.
    pub until: Option<Timestamp>,
    /// Why the role began.
    pub reason: Reason,
}

impl RoleSpan {
    /// Whether the span holds at `at`.
    pub fn holds_at(&self, at: Timestamp) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

/// A change that moves the current roles to new ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// Spans (by index in the history) that end at the change.
    pub ending: Vec<usize>,
    /// Spans that begin at the change.
    pub starting: Vec<RoleSpan>,
    /// Whether the lead changes: a first-class event (¶18).
    pub lead_changes: bool,
}

/// The roles of an operation over its life.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleHistory(pub Vec<RoleSpan>);

fn spans_of(roles: &Roles) -> BTreeSet<(OrgCode, OperationRole)> {
    std::iter::once((roles.lead.clone(), OperationRole::Lead))
        .chain(
            roles
                .support
                .iter()
                .map(|o| (o.clone(), OperationRole::Support)),
        )
        .chain(
            roles
                .coordinate
                .iter()
                .map(|o| (o.clone(), OperationRole::Coordinate)),
        )
        .collect()
}

fn roles_from<'a>(spans: impl Iterator<Item = &'a RoleSpan>) -> Option<Roles> {
    let holding: Vec<_> = spans.collect();
    let lead = holding
        .iter()
        .find(|s| s.role == OperationRole::Lead)?
        .organisation
        .clone();
    let of = |role| {
        holding
            .iter()
            .filter(|s| s.role == role)
            .map(|s| s.organisation.clone())
            .collect()
    };
    Some(Roles {
        lead,
        support: of(OperationRole::Support),
        coordinate: of(OperationRole::Coordinate),
    })
}

impl RoleHistory {
    /// The roles as they stood at `at`; `None` before the operation began.
    pub fn as_of(&self, at: Timestamp) -> Option<Roles> {
        roles_from(self.0.iter().filter(|s| s.holds_at(at)))
    }

    /// The roles that hold now (the spans still open).
    pub fn current(&self) -> Option<Roles> {
        roles_from(self.0.iter().filter(|s| s.until.is_none()))
    }

    /// Every organisation that has ever held a role.
    pub fn parties(&self) -> BTreeSet<OrgCode> {
        self.0.iter().map(|s| s.organisation.clone()).collect()
    }

    /// The change that moves the current roles to `roles` at `at`, for `reason`.
    /// Roles that carry on are untouched; a change must not predate the latest one.
    pub fn change_to(
        &self,
        roles: &Roles,
        at: Timestamp,
        reason: &Reason,
    ) -> Result<RoleChange, FieldError> {
        if let Some(latest) = self.0.iter().map(|s| s.from).max()
            && at < latest
        {
            return Err(FieldError::new(
                "effective_from",
                "roles cannot change before their latest change",
            ));
        }
        let wanted = spans_of(roles);
        let current: BTreeSet<_> = self
            .0
            .iter()
            .filter(|s| s.until.is_none())
            .map(|s| (s.organisation.clone(), s.role))
            .collect();
        if wanted == current {
            return Err(FieldError::new(
                "roles",
                "the roles are already as given; nothing changes",
            ));
        }
        let ending = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.until.is_none() && !wanted.contains(&(s.organisation.clone(), s.role))
            })
            .map(|(i, _)| i)
            .collect();
        let starting = wanted
            .difference(&current)
            .map(|(organisation, role)| RoleSpan {
                organisation: organisation.clone(),
                role: *role,
                from: at,
                until: None,
                reason: reason.clone(),
            })
            .collect();
        let lead_changes = self.current().is_some_and(|c| c.lead != roles.lead);
        Ok(RoleChange {
            ending,
            starting,
            lead_changes,
        })
    }

    /// Applies a change made at `at`.
    pub fn apply(&mut self, change: RoleChange, at: Timestamp) {
        for i in change.ending {
            if let Some(span) = self.0.get_mut(i) {
                span.until = Some(at);
            }
        }
        self.0.extend(change.starting);
    }
}

text_enum! {
    /// How much an operation disrupted a group (¶14, Results).
    DisruptionGrade, "disruption" {
        /// A major disruption.
        Major = "major",
        /// A moderate disruption.
        Moderate = "moderate",
        /// A minor disruption.
        Minor = "minor",
    }
}

uuid_id! {
    /// An outcome's identifier.
    OutcomeId, "outcome_id"
}

/// What an operation achieved on one occasion (¶14, Results).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperationOutcome {
    /// The disruption, if one is claimed.
    pub disruption: Option<DisruptionGrade>,
    /// People arrested.
    #[serde(default)]
    pub arrests: u32,
    /// People charged.
    #[serde(default)]
    pub charges: u32,
    /// Drugs seized, in grams.
    #[serde(default)]
    pub drugs_grams: u64,
    /// Firearms seized.
    #[serde(default)]
    pub firearms: u32,
    /// Cash seized, in pence.
    #[serde(default)]
    pub cash_pence: u64,
    /// Criminal assets denied, in pence.
    #[serde(default)]
    pub assets_denied_pence: u64,
    /// What happened.
    pub description: Reason,
    /// When it happened.
    pub occurred_at: Timestamp,
}

impl OperationOutcome {
    /// Checks that the outcome records something.
    pub fn check(&self) -> Result<(), FieldError> {
        let nothing = self.disruption.is_none()
            && self.arrests == 0
            && self.charges == 0
            && self.drugs_grams == 0
            && self.firearms == 0
            && self.cash_pence == 0
            && self.assets_denied_pence == 0;
        if nothing {
            return Err(FieldError::new(
                "disruption",
                "an outcome records a disruption, arrests, charges, seizures or assets denied",
            ));
        }
        Ok(())
    }
}

/// Who recorded something, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recorded {
    /// By whom.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
}

/// An outcome as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordedOutcome {
    /// Its identifier.
    pub id: OutcomeId,
    /// What was achieved.
    #[serde(flatten)]
    pub outcome: OperationOutcome,
    /// Who recorded it, and when.
    pub recorded: Recorded,
}

/// An operation: what it is against, who plays which part over time, and what it
/// achieved (¶14, ¶18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Operation {
    /// Its identifier.
    pub id: OperationId,
    /// Its code name.
    pub code_name: CodeName,
    /// The threat areas it tackles.
    pub threat_areas: ThreatAreas,
    /// The 4P strands it works on.
    pub strands: Vec<Strand>,
    /// The subjects it works on.
    pub subjects: Vec<SubjectId>,
    /// The catalogue capabilities deployed on it.
    pub capabilities: Vec<String>,
    /// Who led, supported and coordinated, over time.
    pub roles: RoleHistory,
    /// What it achieved.
    pub outcomes: Vec<RecordedOutcome>,
    /// The request that created it, if one did.
    pub origin_request: Option<RequestId>,
    /// Who opened it, and when.
    pub created: Recorded,
}

impl fmt::Display for RoleSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} from {}",
            self.organisation,
            self.role.as_str(),
            self.from.to_rfc3339()
        )?;
        if let Some(until) = self.until {
            write!(f, " until {}", until.to_rfc3339())?;
        }
        Ok(())
    }
}

/// Parses a role from text (for the command line).
pub fn parse_role(raw: &str) -> Result<OperationRole, FieldError> {
    OperationRole::from_str(raw.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> OrgCode {
        OrgCode::parse(c).expect("code")
    }

    fn roles(lead: &str, support: &[&str], coordinate: &[&str]) -> Roles {
        Roles {
            lead: code(lead),
            support: support.iter().map(|c| code(c)).collect(),
            coordinate: coordinate.iter().map(|c| code(c)).collect(),
        }
    }

    fn at(micros: i64) -> Timestamp {
        Timestamp::from_micros(micros).expect("in range")
    }

    fn reason(text: &str) -> Reason {
        Reason::parse(text).expect("valid")
    }

    /// ¶18 (a): the force leads with the agency in support; when the robberies
    /// displace across regions the lead moves to the agency and the force supports.
    /// The history reads correctly as of any moment.
    #[test]
    fn the_lead_moves_and_the_history_reads_as_of_any_moment() {
        let mut history = RoleHistory::default();
        let first = roles("west-midlands", &["nca"], &[]);
        let change = history
            .change_to(&first, at(100), &reason("accepted"))
            .expect("opens");
        assert!(!change.lead_changes);
        history.apply(change, at(100));
        let second = roles("nca", &["west-midlands"], &[]);
        let change = history
            .change_to(&second, at(200), &reason("displaced across regions"))
            .expect("moves");
        assert!(change.lead_changes);
        history.apply(change, at(200));

        assert_eq!(history.as_of(at(50)), None);
        assert_eq!(history.as_of(at(100)), Some(first.clone()));
        assert_eq!(history.as_of(at(199)), Some(first));
        assert_eq!(history.as_of(at(200)), Some(second.clone()));
        assert_eq!(history.current(), Some(second));
        assert_eq!(history.0.len(), 4);
        assert_eq!(history.parties().len(), 2);
    }

    #[test]
    fn roles_that_carry_on_are_untouched_and_changes_cannot_go_back_in_time() {
        let mut history = RoleHistory::default();
        let change = history
            .change_to(&roles("hmrc", &["kent"], &["nca"]), at(10), &reason("a"))
            .expect("opens");
        history.apply(change, at(10));
        let change = history
            .change_to(
                &roles("hmrc", &["kent", "essex"], &["nca"]),
                at(20),
                &reason("b"),
            )
            .expect("adds");
        assert!(change.ending.is_empty());
        assert_eq!(change.starting.len(), 1);
        assert!(!change.lead_changes);
        history.apply(change, at(20));
        assert_eq!(
            history
                .change_to(&roles("nca", &[], &[]), at(15), &reason("late"))
                .expect_err("backdated")
                .field,
            "effective_from"
        );
        assert_eq!(
            history
                .change_to(
                    &roles("hmrc", &["kent", "essex"], &["nca"]),
                    at(30),
                    &reason("same")
                )
                .expect_err("no change")
                .field,
            "roles"
        );
    }

    /// ¶14 Results: an outcome records something.
    #[test]
    fn an_outcome_records_something() {
        let mut outcome = OperationOutcome {
            disruption: None,
            arrests: 0,
            charges: 0,
            drugs_grams: 0,
            firearms: 0,
            cash_pence: 0,
            assets_denied_pence: 0,
            description: reason("warrant executed"),
            occurred_at: at(1),
        };
        assert_eq!(outcome.check().expect_err("empty").field, "disruption");
        outcome.arrests = 3;
        outcome.disruption = Some(DisruptionGrade::Major);
        assert!(outcome.check().is_ok());
    }
}
