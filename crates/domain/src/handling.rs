//! Intelligence handling: the protective marking every sensitive record carries, the
//! grading of intelligence, need-to-know shares, and the one rule that decides whether a
//! reader may see a record (DESIGN.md parts 13 and 16).
//!
//! The marking follows the Government Security Classifications policy: three tiers
//! (OFFICIAL, SECRET, TOP SECRET); OFFICIAL-SENSITIVE is OFFICIAL with the SENSITIVE
//! caveat, not a fourth tier; descriptors, handling instructions and national caveats
//! such as UK EYES ONLY travel with the record. Intelligence is graded 3x5x2 (source
//! evaluation, intelligence assessment, handling code), as the College of Policing's
//! Authorised Professional Practice on intelligence management sets out; gradings made
//! under the older 5x5x5 system are kept exactly as given and never translated.

use crate::people::{Classification, Clearance, FieldError, Role, Roles, text_enum};
use crate::registry::OrgCode;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

text_enum! {
    /// A descriptor: the kind of sensitive information an OFFICIAL-SENSITIVE record holds.
    Descriptor, "marking.descriptors" {
        /// Personal information about an identifiable person.
        Personal = "personal",
        /// Commercially sensitive information.
        Commercial = "commercial",
        /// The location of sensitive assets or people (LOCSEN).
        Locsen = "locsen",
    }
}

text_enum! {
    /// A national caveat: who, by nationality, may ever see the record.
    NationalCaveat, "marking.national_caveats" {
        /// UK EYES ONLY: never released outside United Kingdom bodies.
        UkEyesOnly = "uk-eyes-only",
    }
}

crate::text::bounded_text! {
    /// A handling instruction in the originator's words ("Do not forward without the
    /// originator's consent").
    HandlingInstruction, "marking.handling", 500, false, "Not to be forwarded without the originator's consent."
}

/// A record's protective marking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, try_from = "MarkingInput")]
pub struct Marking {
    /// The tier.
    pub classification: Classification,
    /// Whether the SENSITIVE caveat applies (OFFICIAL only).
    #[serde(default)]
    pub sensitive: bool,
    /// What kind of sensitive information it holds (OFFICIAL-SENSITIVE only).
    #[serde(default)]
    pub descriptors: Vec<Descriptor>,
    /// National caveats.
    #[serde(default)]
    pub national_caveats: Vec<NationalCaveat>,
    /// Handling instructions in the originator's words.
    #[serde(default)]
    pub handling: Option<HandlingInstruction>,
}

/// A marking as it arrives, before its parts are checked against each other.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkingInput {
    classification: Classification,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    descriptors: Vec<Descriptor>,
    #[serde(default)]
    national_caveats: Vec<NationalCaveat>,
    #[serde(default)]
    handling: Option<HandlingInstruction>,
}

impl TryFrom<MarkingInput> for Marking {
    type Error = FieldError;
    fn try_from(input: MarkingInput) -> Result<Self, FieldError> {
        Marking::new(
            input.classification,
            input.sensitive,
            input.descriptors,
            input.national_caveats,
            input.handling,
        )
    }
}

impl Default for Marking {
    /// OFFICIAL, with no caveat: the routine business of law enforcement.
    fn default() -> Self {
        Self::official()
    }
}

impl Marking {
    /// Checks the parts against each other. The SENSITIVE caveat and descriptors belong
    /// to OFFICIAL only: everything at SECRET and above is sensitive by definition.
    pub fn new(
        classification: Classification,
        sensitive: bool,
        mut descriptors: Vec<Descriptor>,
        mut national_caveats: Vec<NationalCaveat>,
        handling: Option<HandlingInstruction>,
    ) -> Result<Self, FieldError> {
        if sensitive && classification != Classification::Official {
            return Err(FieldError::new(
                "sensitive",
                "the SENSITIVE caveat applies to OFFICIAL only; SECRET and TOP SECRET are sensitive by definition",
            ));
        }
        if !descriptors.is_empty() && !sensitive {
            return Err(FieldError::new(
                "descriptors",
                "descriptors are used with OFFICIAL-SENSITIVE only",
            ));
        }
        descriptors.sort();
        descriptors.dedup();
        national_caveats.sort();
        national_caveats.dedup();
        Ok(Self {
            classification,
            sensitive,
            descriptors,
            national_caveats,
            handling,
        })
    }

    /// OFFICIAL.
    pub fn official() -> Self {
        Self {
            classification: Classification::Official,
            sensitive: false,
            descriptors: Vec::new(),
            national_caveats: Vec::new(),
            handling: None,
        }
    }

    /// A bare tier, with no caveat.
    pub fn tier(classification: Classification) -> Self {
        Self {
            classification,
            ..Self::official()
        }
    }

    /// Whether a national caveat forbids release to `organisation`. Every organisation
    /// in the registry is a United Kingdom body, so UK EYES ONLY forbids nothing inside
    /// the system; it still travels with the record and is shown on every copy.
    pub fn forbids_release_to(&self, organisation_is_uk: bool) -> bool {
        self.national_caveats.contains(&NationalCaveat::UkEyesOnly) && !organisation_is_uk
    }

    /// The banner printed at the top and bottom of the record: `OFFICIAL-SENSITIVE
    /// PERSONAL UK EYES ONLY`.
    pub fn banner(&self) -> String {
        let mut parts = vec![match (self.classification, self.sensitive) {
            (Classification::Official, true) => "OFFICIAL-SENSITIVE".to_owned(),
            (Classification::Official, false) => "OFFICIAL".to_owned(),
            (Classification::Secret, _) => "SECRET".to_owned(),
            (Classification::TopSecret, _) => "TOP SECRET".to_owned(),
        }];
        parts.extend(self.descriptors.iter().map(|d| d.as_str().to_uppercase()));
        parts.extend(self.national_caveats.iter().map(|c| match c {
            NationalCaveat::UkEyesOnly => "UK EYES ONLY".to_owned(),
        }));
        parts.join(" ")
    }
}

impl fmt::Display for Marking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.banner())
    }
}

/// The tier of a collection of records (a list, a pack, an export): the highest tier of
/// what it holds. Bringing records together never raises the tier by itself, nor lowers
/// it: a collection of OFFICIAL records is OFFICIAL however many there are, and an
/// empty one is OFFICIAL.
pub fn aggregate_tier<'a>(markings: impl IntoIterator<Item = &'a Marking>) -> Classification {
    markings
        .into_iter()
        .map(|m| m.classification)
        .max()
        .unwrap_or(Classification::Official)
}

/// The marking of a collection: its tier ([`aggregate_tier`]), and every caveat any of
/// its records carries — the SENSITIVE caveat and descriptors while the collection stays
/// OFFICIAL, and every national caveat (a collection holding one UK EYES ONLY record is
/// UK EYES ONLY). Handling instructions stay with their records.
pub fn aggregate_marking<'a>(markings: impl IntoIterator<Item = &'a Marking>) -> Marking {
    let markings: Vec<&Marking> = markings.into_iter().collect();
    let classification = aggregate_tier(markings.iter().copied());
    let official = classification == Classification::Official;
    Marking {
        classification,
        sensitive: official && markings.iter().any(|m| m.sensitive),
        descriptors: if official {
            let mut all: Vec<Descriptor> = markings
                .iter()
                .flat_map(|m| m.descriptors.iter().copied())
                .collect();
            all.sort();
            all.dedup();
            all
        } else {
            vec![]
        },
        national_caveats: {
            let mut all: Vec<NationalCaveat> = markings
                .iter()
                .flat_map(|m| m.national_caveats.iter().copied())
                .collect();
            all.sort();
            all.dedup();
            all
        },
        handling: None,
    }
}

// ---------------------------------------------------------------------------------------
// Grading
// ---------------------------------------------------------------------------------------

text_enum! {
    /// 3x5x2 source evaluation: how far the source can be relied on.
    SourceEvaluation, "grading.source" {
        /// 1: reliable.
        Reliable = "1",
        /// 2: untested.
        Untested = "2",
        /// 3: not reliable.
        NotReliable = "3",
    }
}

text_enum! {
    /// 3x5x2 intelligence assessment: how far the content is known to be true.
    IntelligenceAssessment, "grading.intelligence" {
        /// A: known directly to the source.
        KnownDirectly = "A",
        /// B: known indirectly to the source but corroborated.
        KnownIndirectlyCorroborated = "B",
        /// C: known indirectly to the source.
        KnownIndirectly = "C",
        /// D: not known.
        NotKnown = "D",
        /// E: suspected to be false.
        SuspectedFalse = "E",
    }
}

crate::text::bounded_text! {
    /// The conditions that come with handling code C, shown to every recipient.
    HandlingConditions, "grading.conditions", 1000, true, "Share only with the SIO; no onward disclosure."
}

/// The 3x5x2 handling code: whether the intelligence may be disseminated onwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "code", deny_unknown_fields)]
pub enum HandlingCode {
    /// P: lawful sharing is permitted, subject to the marking.
    #[serde(rename = "P")]
    Permitted,
    /// C: may be disseminated only under the conditions given; no onward sharing.
    #[serde(rename = "C")]
    Conditions {
        /// The conditions, shown to the recipient.
        conditions: HandlingConditions,
    },
}

impl HandlingCode {
    /// Whether a recipient may share the record onwards. Handling code C forbids it:
    /// only the originating organisation shares a C-coded record.
    pub fn permits_onward_sharing(&self) -> bool {
        matches!(self, Self::Permitted)
    }
}

crate::text::bounded_text! {
    /// A 5x5x5 grading exactly as it was given ("B2 4"), kept and never translated.
    LegacyGrade, "grading.as_given", 20, false, "B2 4"
}

/// How an intelligence record is graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "system", deny_unknown_fields)]
pub enum Grading {
    /// The 3x5x2 system.
    #[serde(rename = "3x5x2")]
    ThreeFiveTwo {
        /// Source evaluation, 1 to 3.
        source: SourceEvaluation,
        /// Intelligence assessment, A to E.
        intelligence: IntelligenceAssessment,
        /// Handling code, P or C.
        handling: HandlingCode,
    },
    /// A grading under the older 5x5x5 system, stored as it was given. It is not
    /// mapped to 3x5x2: the two scales do not correspond, and a re-grading is a new
    /// assessment by a person, not a conversion.
    #[serde(rename = "5x5x5")]
    Legacy {
        /// The grade as written on the original report.
        as_given: LegacyGrade,
    },
}

impl Grading {
    /// Whether a recipient may share the record onwards: never under handling code C.
    /// A 5x5x5 grading's handling code is not interpreted, so only the originator shares
    /// it (the cautious reading).
    pub fn permits_onward_sharing(&self) -> bool {
        match self {
            Self::ThreeFiveTwo { handling, .. } => handling.permits_onward_sharing(),
            Self::Legacy { .. } => false,
        }
    }

    /// The conditions a recipient must be shown, if any.
    pub fn conditions(&self) -> Option<&HandlingConditions> {
        match self {
            Self::ThreeFiveTwo {
                handling: HandlingCode::Conditions { conditions },
                ..
            } => Some(conditions),
            _ => None,
        }
    }

    /// The grade as written: `1A P`, `3E C`, or the 5x5x5 grade as given.
    pub fn code(&self) -> String {
        match self {
            Self::ThreeFiveTwo {
                source,
                intelligence,
                handling,
            } => format!(
                "{}{} {}",
                source.as_str(),
                intelligence.as_str(),
                match handling {
                    HandlingCode::Permitted => "P",
                    HandlingCode::Conditions { .. } => "C",
                }
            ),
            Self::Legacy { as_given } => as_given.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Intelligence records
// ---------------------------------------------------------------------------------------

crate::text::uuid_id! {
    /// An intelligence record's identifier.
    IntelligenceId, "id"
}

crate::text::bounded_text! {
    /// What an intelligence record is about, in one line.
    IntelligenceTitle, "title", 200, false, "Courier seen collecting cash at Lime Street"
}

crate::text::bounded_text! {
    /// The intelligence itself, sanitised of the source's identity.
    IntelligenceText, "text", 20000, true, "A courier collects cash on Thursdays from the car wash."
}

/// A graded intelligence record owned by one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Intelligence {
    /// Its identifier.
    pub id: IntelligenceId,
    /// The organisation that recorded it: the originator.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// What it is about.
    pub title: IntelligenceTitle,
    /// The intelligence.
    pub text: IntelligenceText,
    /// Its grading.
    pub grading: Grading,
    /// The subject it concerns, if any.
    #[schema(value_type = Option<String>)]
    pub subject: Option<crate::subject::SubjectId>,
    /// Who recorded it.
    #[schema(value_type = String)]
    pub recorded_by: crate::people::UserId,
    /// When.
    pub recorded_at: Timestamp,
}

text_enum! {
    /// The kinds of record that carry a marking and can be shared.
    RecordKind, "kind" {
        /// A subject: a group, person or vulnerability.
        Subject = "subject",
        /// A request for tasking or assistance.
        Request = "request",
        /// An operation.
        Operation = "operation",
        /// A direction (¶9).
        Direction = "direction",
        /// A deconfliction registration.
        Registration = "registration",
        /// A graded intelligence record.
        Intelligence = "intelligence",
    }
}

// ---------------------------------------------------------------------------------------
// Need-to-know and the access rule
// ---------------------------------------------------------------------------------------

crate::text::bounded_text! {
    /// Why a record is shared: the need to know, on the record.
    ShareReason, "reason", 2000, true, "Joint surveillance of the same group from next week."
}

/// A record shared with another organisation by a recorded decision, until it expires
/// or is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Share {
    /// The organisation it is shared with.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// When the share lapses.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl Share {
    /// Whether the share is in force at `now`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Who is reading.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// Their organisation.
    pub organisation: &'a OrgCode,
    /// Their roles.
    pub roles: &'a Roles,
    /// Their vetting.
    pub clearance: Clearance,
}

/// What protects a record: its marking, the organisations party to it, and the shares.
#[derive(Debug, Clone)]
pub struct Protection {
    /// Its marking.
    pub marking: Marking,
    /// The organisations party to it (the owner, and for a request or operation the
    /// other sides).
    pub parties: Vec<OrgCode>,
    /// Shares with other organisations.
    pub shares: Vec<Share>,
}

/// Why a reader may see a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Their organisation is a party to it.
    Party,
    /// It is shared with their organisation until this instant.
    Shared {
        /// When the share lapses.
        until: Timestamp,
    },
}

/// The roles that read operational records. An account that is only an administrator
/// manages people, not casework.
pub const CASEWORK_ROLES: &[Role] = &[
    Role::TaskingOfficer,
    Role::CaseOfficer,
    Role::Analyst,
    Role::GroupChair,
    Role::SeniorDecisionMaker,
    Role::Viewer,
];

/// The access rule (DESIGN.md part 13 and the non-negotiables): a reader sees a record
/// only if their clearance covers its classification, their organisation is a party to
/// it or it is shared with them by a share in force, and one of their roles reads
/// casework. Otherwise the record, for them, does not exist (`None`).
pub fn access(reader: Reader<'_>, record: &Protection, now: Timestamp) -> Option<Access> {
    if !reader.clearance.permits(record.marking.classification) {
        return None;
    }
    if !CASEWORK_ROLES.iter().any(|r| reader.roles.contains(*r)) {
        return None;
    }
    if record.parties.iter().any(|p| p == reader.organisation) {
        return Some(Access::Party);
    }
    record
        .shares
        .iter()
        .filter(|s| s.organisation == *reader.organisation && s.in_force(now))
        .map(|s| s.expires_at)
        .max()
        .map(|until| Access::Shared { until })
}

/// Why a share is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareRefusal {
    /// Only a party shares a record; a recipient shares onwards only if the grading
    /// allows it, and handling code C never does.
    #[error(
        "this record is graded with handling code C (or an ungraded 5x5x5 code): only the originating organisation may share it"
    )]
    HandlingCodeC,
    /// A record shared with the reader's organisation cannot be shared onwards by it
    /// beyond the share's own expiry.
    #[error(
        "a record shared with your organisation cannot be shared for longer than your own share"
    )]
    BeyondOwnShare,
    /// Sharing with a party is meaningless.
    #[error("that organisation is already a party to the record")]
    AlreadyParty,
    /// The expiry must be in the future.
    #[error("the expiry must be in the future")]
    ExpiryPassed,
    /// The national caveat forbids it.
    #[error("the record is UK EYES ONLY")]
    NationalCaveat,
}

/// Whether `reader`, who can see the record with `access`, may share it with
/// `recipient` until `expires_at`. A party may share any record it owns, within the
/// national caveats; a recipient may share onwards only a record whose grading permits
/// it, and never beyond its own share. Handling code C is enforced here: the conditions
/// forbid onward sharing.
pub fn may_share(
    access: Access,
    record: &Protection,
    grading: Option<&Grading>,
    recipient: &OrgCode,
    recipient_is_uk: bool,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), ShareRefusal> {
    if expires_at <= now {
        return Err(ShareRefusal::ExpiryPassed);
    }
    if record.parties.contains(recipient) {
        return Err(ShareRefusal::AlreadyParty);
    }
    if record.marking.forbids_release_to(recipient_is_uk) {
        return Err(ShareRefusal::NationalCaveat);
    }
    match access {
        Access::Party => Ok(()),
        Access::Shared { until } => {
            if grading.is_some_and(|g| !g.permits_onward_sharing()) {
                return Err(ShareRefusal::HandlingCodeC);
            }
            if expires_at > until {
                return Err(ShareRefusal::BeyondOwnShare);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(code: &str) -> OrgCode {
        code.parse().expect("valid")
    }

    fn roles(list: &[Role]) -> Roles {
        Roles::new(list.to_vec()).expect("valid")
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_micros(seconds * 1_000_000).expect("valid")
    }

    fn protection(
        classification: Classification,
        parties: &[&str],
        shares: Vec<Share>,
    ) -> Protection {
        Protection {
            marking: Marking::tier(classification),
            parties: parties.iter().map(|p| org(p)).collect(),
            shares,
        }
    }

    fn share(to: &str, expires: i64) -> Share {
        Share {
            organisation: org(to),
            expires_at: at(expires),
            revoked_at: None,
        }
    }

    #[test]
    fn official_sensitive_is_official_with_a_caveat_not_a_tier() {
        let marking = Marking::new(
            Classification::Official,
            true,
            vec![Descriptor::Personal],
            vec![NationalCaveat::UkEyesOnly],
            None,
        )
        .expect("valid");
        assert_eq!(marking.classification, Classification::Official);
        assert_eq!(marking.banner(), "OFFICIAL-SENSITIVE PERSONAL UK EYES ONLY");
        let secret_sensitive =
            Marking::new(Classification::Secret, true, vec![], vec![], None).expect_err("refused");
        assert_eq!(secret_sensitive.field, "sensitive");
        let descriptor_without_caveat = Marking::new(
            Classification::Official,
            false,
            vec![Descriptor::Commercial],
            vec![],
            None,
        )
        .expect_err("refused");
        assert_eq!(descriptor_without_caveat.field, "descriptors");
        assert_eq!(
            Marking::tier(Classification::TopSecret).banner(),
            "TOP SECRET"
        );
    }

    #[test]
    fn markings_are_read_from_json_and_checked() {
        let marking: Marking = serde_json::from_str(
            r#"{"classification":"official","sensitive":true,"descriptors":["locsen"],"handling":"Originator only"}"#,
        )
        .expect("valid");
        assert_eq!(marking.banner(), "OFFICIAL-SENSITIVE LOCSEN");
        assert!(
            serde_json::from_str::<Marking>(r#"{"classification":"secret","sensitive":true}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<Marking>(r#"{"classification":"restricted"}"#).is_err());
    }

    #[test]
    fn aggregating_records_never_raises_or_lowers_the_tier() {
        let official = Marking::official();
        let secret = Marking::tier(Classification::Secret);
        let many_official = vec![official.clone(); 10_000];
        assert_eq!(aggregate_tier(&many_official), Classification::Official);
        assert_eq!(
            aggregate_tier([&official, &secret, &official]),
            Classification::Secret
        );
        assert_eq!(aggregate_tier([]), Classification::Official);
    }

    #[test]
    fn a_collection_carries_every_caveat_of_what_it_holds() {
        let personal = Marking::new(
            Classification::Official,
            true,
            vec![Descriptor::Personal],
            vec![],
            None,
        )
        .expect("valid");
        let eyes_only = Marking::new(
            Classification::Official,
            false,
            vec![],
            vec![NationalCaveat::UkEyesOnly],
            None,
        )
        .expect("valid");
        let official = Marking::official();
        assert_eq!(
            aggregate_marking([&official, &personal, &eyes_only]).banner(),
            "OFFICIAL-SENSITIVE PERSONAL UK EYES ONLY"
        );
        let secret = Marking::tier(Classification::Secret);
        assert_eq!(
            aggregate_marking([&personal, &secret, &eyes_only]).banner(),
            "SECRET UK EYES ONLY"
        );
        assert_eq!(aggregate_marking([]).banner(), "OFFICIAL");
        assert_eq!(
            aggregate_marking(vec![&official; 1_000]).banner(),
            "OFFICIAL"
        );
    }

    #[test]
    fn gradings_are_written_as_the_codes_officers_know() {
        let graded: Grading = serde_json::from_str(
            r#"{"system":"3x5x2","source":"1","intelligence":"B","handling":{"code":"P"}}"#,
        )
        .expect("valid");
        assert_eq!(graded.code(), "1B P");
        assert!(graded.permits_onward_sharing());
        let conditional: Grading = serde_json::from_str(
            r#"{"system":"3x5x2","source":"3","intelligence":"E","handling":{"code":"C","conditions":"SIO only"}}"#,
        )
        .expect("valid");
        assert_eq!(conditional.code(), "3E C");
        assert_eq!(
            conditional.conditions().expect("valid").as_str(),
            "SIO only"
        );
        assert!(!conditional.permits_onward_sharing());
        assert!(
            serde_json::from_str::<Grading>(
                r#"{"system":"3x5x2","source":"4","intelligence":"A","handling":{"code":"P"}}"#
            )
            .is_err(),
            "there is no source evaluation 4 in 3x5x2"
        );
        assert!(
            serde_json::from_str::<Grading>(
                r#"{"system":"3x5x2","source":"1","intelligence":"A","handling":{"code":"C"}}"#
            )
            .is_err(),
            "handling code C needs its conditions"
        );
    }

    #[test]
    fn legacy_5x5x5_gradings_are_kept_as_given_and_never_translated() {
        let legacy: Grading =
            serde_json::from_str(r#"{"system":"5x5x5","as_given":"B2 4"}"#).expect("valid");
        assert_eq!(legacy.code(), "B2 4");
        assert_eq!(
            serde_json::to_value(&legacy).expect("valid"),
            serde_json::json!({"system": "5x5x5", "as_given": "B2 4"})
        );
        assert!(!legacy.permits_onward_sharing());
    }

    #[test]
    fn a_reader_sees_a_record_only_with_clearance_party_or_share_and_a_casework_role() {
        let analyst = roles(&[Role::Analyst]);
        let admin = roles(&[Role::Administrator]);
        let met = org("met");
        let now = at(1_000);
        let reader = |clearance| Reader {
            organisation: &met,
            roles: &analyst,
            clearance,
        };
        let secret_of_met = protection(Classification::Secret, &["met"], vec![]);
        assert_eq!(
            access(reader(Clearance::Sc), &secret_of_met, now),
            Some(Access::Party)
        );
        assert_eq!(
            access(reader(Clearance::Ctc), &secret_of_met, now),
            None,
            "clearance"
        );
        let admin_reader = Reader {
            organisation: &met,
            roles: &admin,
            clearance: Clearance::Dv,
        };
        assert_eq!(access(admin_reader, &secret_of_met, now), None, "role");
        let official_of_gmp = protection(Classification::Official, &["gmp"], vec![]);
        assert_eq!(
            access(reader(Clearance::Dv), &official_of_gmp, now),
            None,
            "party"
        );
    }

    #[test]
    fn a_share_gives_access_until_it_expires_or_is_revoked() {
        let analyst = roles(&[Role::Analyst]);
        let met = org("met");
        let reader = Reader {
            organisation: &met,
            roles: &analyst,
            clearance: Clearance::Sc,
        };
        let shared = protection(
            Classification::Official,
            &["gmp"],
            vec![share("met", 2_000)],
        );
        assert_eq!(
            access(reader, &shared, at(1_999)),
            Some(Access::Shared { until: at(2_000) })
        );
        assert_eq!(access(reader, &shared, at(2_000)), None, "expired");
        let mut revoked = shared.clone();
        revoked.shares[0].revoked_at = Some(at(1_500));
        assert_eq!(access(reader, &revoked, at(1_600)), None, "revoked");
        let secret_shared = protection(
            Classification::TopSecret,
            &["gmp"],
            vec![share("met", 2_000)],
        );
        assert_eq!(
            access(reader, &secret_shared, at(1_000)),
            None,
            "a share never overrides clearance"
        );
    }

    #[test]
    fn handling_code_c_is_not_shared_onwards() {
        let record = protection(
            Classification::Official,
            &["gmp"],
            vec![share("met", 5_000)],
        );
        let c: Grading = serde_json::from_str(
            r#"{"system":"3x5x2","source":"2","intelligence":"C","handling":{"code":"C","conditions":"SIO only"}}"#,
        )
        .expect("valid");
        let p: Grading = serde_json::from_str(
            r#"{"system":"3x5x2","source":"2","intelligence":"C","handling":{"code":"P"}}"#,
        )
        .expect("valid");
        let now = at(1_000);
        let onward = Access::Shared { until: at(5_000) };
        assert_eq!(
            may_share(onward, &record, Some(&c), &org("wmp"), true, at(4_000), now),
            Err(ShareRefusal::HandlingCodeC)
        );
        assert_eq!(
            may_share(onward, &record, Some(&p), &org("wmp"), true, at(4_000), now),
            Ok(())
        );
        assert_eq!(
            may_share(onward, &record, Some(&p), &org("wmp"), true, at(6_000), now),
            Err(ShareRefusal::BeyondOwnShare)
        );
        assert_eq!(
            may_share(
                Access::Party,
                &record,
                Some(&c),
                &org("wmp"),
                true,
                at(9_000),
                now
            ),
            Ok(()),
            "the originator shares its own C-coded record"
        );
        assert_eq!(
            may_share(
                Access::Party,
                &record,
                None,
                &org("gmp"),
                true,
                at(9_000),
                now
            ),
            Err(ShareRefusal::AlreadyParty)
        );
        assert_eq!(
            may_share(
                Access::Party,
                &record,
                None,
                &org("wmp"),
                true,
                at(900),
                now
            ),
            Err(ShareRefusal::ExpiryPassed)
        );
        let mut eyes_only = record.clone();
        eyes_only.marking.national_caveats = vec![NationalCaveat::UkEyesOnly];
        assert_eq!(
            may_share(
                Access::Party,
                &eyes_only,
                None,
                &org("wmp"),
                false,
                at(9_000),
                now
            ),
            Err(ShareRefusal::NationalCaveat)
        );
    }
}
