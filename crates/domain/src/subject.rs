//! Subjects of tasking: organised crime groups, individuals and vulnerabilities, each
//! with a priority designation recorded by an analyst (¶5, Annex B).
//!
//! A fuller, scored assessment of groups comes with OCG mapping; here a designation is
//! the analyst's judgement with its date and basis.

use crate::people::{FieldError, UserId, text_enum};
use crate::registry::OrgCode;
use crate::text::{bounded_text, uuid_id};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

uuid_id! {
    /// A subject's identifier.
    SubjectId, "subject_id"
}

text_enum! {
    /// What a subject is (¶5, first commitment).
    SubjectKind, "kind" {
        /// An organised crime group.
        OrganisedCrimeGroup = "organised-crime-group",
        /// An individual.
        Individual = "individual",
        /// A vulnerability: a weakness criminals exploit (a system, a route, a sector).
        Vulnerability = "vulnerability",
    }
}

text_enum! {
    /// How a subject is prioritised (¶5): Priority and High Priority subjects engage the
    /// first commitment.
    PriorityDesignation, "designation" {
        /// High Priority.
        HighPriority = "high-priority",
        /// Priority.
        Priority = "priority",
        /// Neither.
        Standard = "standard",
    }
}

bounded_text! {
    /// What a subject is called: a group's working name, a person's name, a short title
    /// for a vulnerability.
    SubjectName, "name", 200, false, "Eastside cash-in-transit group"
}

bounded_text! {
    /// Why a subject carries its designation: the analyst's basis, in prose.
    DesignationBasis, "basis", 4000, true, "Three armed robberies in six weeks; access to firearms."
}

/// A designation as recorded: who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Designation {
    /// The designation.
    pub level: PriorityDesignation,
    /// The analyst who recorded it.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
    /// On what basis.
    pub basis: DesignationBasis,
}

/// A subject of tasking, owned by the organisation that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subject {
    /// Its identifier.
    pub id: SubjectId,
    /// What it is.
    pub kind: SubjectKind,
    /// What it is called.
    pub name: SubjectName,
    /// The organisation that recorded it.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// Its current designation.
    pub designation: Designation,
}

impl Subject {
    /// Whether its designation engages the first commitment of ¶5 (Priority or High
    /// Priority).
    pub fn is_prioritised(&self) -> bool {
        self.designation.level != PriorityDesignation::Standard
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {})",
            self.name,
            self.kind.as_str(),
            self.designation.level.as_str()
        )
    }
}

/// Parses a designation level from text (for the command line).
pub fn parse_designation(raw: &str) -> Result<PriorityDesignation, FieldError> {
    PriorityDesignation::from_str(raw.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(level: PriorityDesignation) -> Subject {
        Subject {
            id: SubjectId::new(),
            kind: SubjectKind::OrganisedCrimeGroup,
            name: SubjectName::parse("Eastside group").expect("valid"),
            organisation: OrgCode::parse("kent").expect("valid"),
            designation: Designation {
                level,
                by: UserId::new(),
                at: Timestamp::now(),
                basis: DesignationBasis::parse("Firearms access").expect("valid"),
            },
        }
    }

    /// ¶5: Priority and High Priority subjects engage the first commitment; others do not.
    #[test]
    fn priority_and_high_priority_subjects_are_prioritised() {
        assert!(subject(PriorityDesignation::HighPriority).is_prioritised());
        assert!(subject(PriorityDesignation::Priority).is_prioritised());
        assert!(!subject(PriorityDesignation::Standard).is_prioritised());
    }

    #[test]
    fn names_and_bases_are_trimmed_and_bounded() {
        assert_eq!(
            SubjectName::parse("  Eastside  ").expect("valid").as_str(),
            "Eastside"
        );
        assert_eq!(SubjectName::parse(" ").expect_err("empty").field, "name");
        assert!(SubjectName::parse(&"x".repeat(201)).is_err());
        assert!(SubjectName::parse("two\nlines").is_err());
        assert!(DesignationBasis::parse("line one\nline two").is_ok());
        assert_eq!(
            parse_designation("high-priority"),
            Ok(PriorityDesignation::HighPriority)
        );
        assert_eq!(
            parse_designation("top").expect_err("unknown").field,
            "designation"
        );
    }
}
