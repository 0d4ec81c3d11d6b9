//! The Commitment-test policy (¶5, ¶13–18, Annex B), as data, and its evaluation.
//!
//! The national agency applies "a series of tests based on NCA commitments, in order to
//! judge whether it leads, supports and/or coordinates" (¶14). The tests' thresholds,
//! the control-strategy threat areas and the partners' remits change with the National
//! Control Strategy, so they live in a TOML file (`crates/domain/policy/default.toml`,
//! built in; a deployment may load its own), not in code. [`Policy::parse`] checks the
//! file against the registry once; a [`Policy`] is valid by construction.
//!
//! [`Policy::evaluate`] turns the facts of a request into a [`Recommendation`]: each test
//! with the facts that decided it, the best-placed lead with the reason, and the agency's
//! role. It only recommends; a person decides (¶17), and [`differences`] says how a
//! re-evaluation under another policy departs from the recommendation on record.

use crate::briefing::{ItemKind, Significance};
use crate::decision::{AgencyRole, CommitmentTest, Recommendation, TestResult};
use crate::events::ActivityKind;
use crate::operation::DisruptionGrade;
use crate::registry::{CapabilityCategory, Jurisdiction, OrgCode, Organisation, ReferenceData};
use crate::subject::{PriorityDesignation, Subject};
use crate::tasking::{RequestKind, ResolvedGeography, ResponseDeadlines, Sophistication, Urgency};
use crate::threat::{MainArea, ThreatArea, ThreatAreas};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;

/// The policy Concordat ships with.
const BUILTIN: &str = include_str!("../policy/default.toml");

/// Where the four commitments are set.
const COMMITMENTS: &str = "¶5";
/// Where the operational priorities are set.
const PRIORITIES: &str = "Annex B";
/// The longest policy version accepted.
const MAX_VERSION_LEN: usize = 64;

/// A checked Commitment-test policy: the thresholds of the tests, the response deadlines
/// and the remits that decide the best-placed lead.
///
/// Every code in it names an organisation of the registry it was parsed against, and its
/// national agency is a national-agency body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The version recorded with each recommendation.
    version: String,
    /// The national agency.
    national_agency: OrgCode,
    /// How long a receiver has to respond.
    deadlines: ResponseDeadlines,
    /// Designations that pass the priority-subjects test, in file order.
    designations: Vec<PriorityDesignation>,
    /// Annex E categories that count as not easily available to partners.
    categories: Vec<CapabilityCategory>,
    /// Urgencies that pass the urgent-action test.
    urgencies: Vec<Urgency>,
    /// The beyond-partner-capability criteria.
    beyond: BeyondCriteria,
    /// Control-strategy threat areas, in file order.
    priority_areas: Vec<ThreatArea>,
    /// How many Annex B main areas make an enabler across threat areas; at least 2.
    several_main_areas: usize,
    /// How many different existing leads call for coordination; at least 1.
    min_existing_leads: usize,
    /// Remit rules, in order of precedence.
    remit: Vec<Remit>,
    /// What the daily management pack counts as significant.
    significance: Significance,
}

/// An error in a policy file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PolicyError {
    /// The 1-based line of the offending text.
    pub line: usize,
    /// The 1-based column, in characters, of the offending text.
    pub column: usize,
    /// What is wrong, in plain English, naming the key.
    pub message: String,
}

/// What the policy needs to know about a request, resolved against the registry.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The organisation asking.
    pub requester: &'a Organisation,
    /// The organisation asked.
    pub receiver: &'a Organisation,
    /// What the request asks for.
    pub kind: &'a RequestKind,
    /// The threat areas concerned.
    pub threat_areas: &'a ThreatAreas,
    /// The subjects concerned.
    pub subjects: &'a [Subject],
    /// Where the activity is.
    pub geography: &'a ResolvedGeography,
    /// How sophisticated the criminality is.
    pub sophistication: Sophistication,
    /// How soon an answer is needed.
    pub urgency: Urgency,
    /// Operations already working on the request's subjects.
    pub existing: &'a [ExistingInvestigation],
}

/// An operation already working on one of the request's subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingInvestigation {
    /// The operation's code name.
    pub code_name: String,
    /// The organisation that leads it.
    pub lead: OrgCode,
}

impl Policy {
    /// The policy Concordat ships with (`crates/domain/policy/default.toml`).
    ///
    /// # Panics
    ///
    /// If the built-in file does not check against `registry`; a test proves it checks
    /// against the built-in reference data.
    pub fn builtin(registry: &ReferenceData) -> Policy {
        Self::parse(BUILTIN, registry).expect("the built-in policy checks against the registry")
    }

    /// Parses a policy file and checks it against `registry`.
    pub fn parse(text: &str, registry: &ReferenceData) -> Result<Policy, PolicyError> {
        let source = Source { text };
        // Syntax first, so that a syntax error is not reported as a bad value of a key.
        text.parse::<toml::Table>()
            .map_err(|e| source.toml_error(&e, false))?;
        let file: PolicyFile = toml::from_str(text).map_err(|e| source.toml_error(&e, true))?;
        source.check(file, registry)
    }

    /// The policy's version, recorded with every recommendation it makes.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What the daily management pack counts as significant.
    pub fn significance(&self) -> &Significance {
        &self.significance
    }

    /// How long a receiver has to respond at each urgency.
    pub fn deadlines(&self) -> ResponseDeadlines {
        self.deadlines
    }

    /// Applies the tests to a request, works out the best-placed lead and recommends the
    /// national agency's role (¶14).
    pub fn evaluate(&self, facts: &Facts<'_>, registry: &ReferenceData) -> Recommendation {
        let tests = vec![
            self.priority_subjects(facts),
            self.specialist_capability(facts, registry),
            self.urgent_action(facts),
            self.beyond_partner_capability(facts),
            self.operational_priorities(facts),
        ];
        let beyond = tests[3].passed;
        let (lead, lead_reason) = self.best_placed_lead(facts, registry, beyond);

        let existing_leads: BTreeSet<&OrgCode> = facts.existing.iter().map(|e| &e.lead).collect();
        let coordinate = matches!(facts.kind, RequestKind::Coordinate)
            || existing_leads.len() >= self.min_existing_leads;
        let lead_is_agency = registry
            .organisation(&lead)
            .is_some_and(|o| o.kind.is_national_agency_body());
        let role = if lead_is_agency {
            AgencyRole::combine(true, false, coordinate)
        } else if tests[..3].iter().any(|t| t.passed) {
            // ¶5, first to third commitments: the agency supports the partner that leads.
            AgencyRole::combine(false, true, coordinate)
        } else if coordinate {
            AgencyRole::Coordinate
        } else if beyond || tests[4].passed {
            AgencyRole::Support
        } else {
            AgencyRole::Decline
        };
        let referral = (role == AgencyRole::Decline).then(|| {
            if lead == facts.requester.code {
                // Referring a partner back to itself helps no one: its regional tier
                // is the next level up (¶21).
                facts
                    .requester
                    .region
                    .and_then(|r| registry.rocu_for_region(r))
                    .map_or_else(|| lead.clone(), |rocu| rocu.code.clone())
            } else {
                lead.clone()
            }
        });
        Recommendation {
            policy_version: self.version.clone(),
            role,
            lead,
            lead_reason,
            referral,
            tests,
        }
    }
}

/// How a re-evaluation differs from the recommendation on record, in plain English lines
/// ("role: support -> lead", "lead: kent -> nca", "test beyond-partner-capability: failed
/// -> passed"). Empty = same.
///
/// The policy version, the wording of the lead's reason and the facts are not compared:
/// only what the recommendation says to do, and which tests it rests on.
pub fn differences(before: &Recommendation, after: &Recommendation) -> Vec<String> {
    let mut lines = Vec::new();
    if before.role != after.role {
        lines.push(format!("role: {} -> {}", before.role, after.role));
    }
    if before.lead != after.lead {
        lines.push(format!("lead: {} -> {}", before.lead, after.lead));
    }
    if before.referral != after.referral {
        let show = |r: &Option<OrgCode>| r.as_ref().map_or("none".to_owned(), OrgCode::to_string);
        lines.push(format!(
            "referral: {} -> {}",
            show(&before.referral),
            show(&after.referral)
        ));
    }
    let outcome = |r: &Recommendation, test: CommitmentTest| match r.result(test) {
        Some(t) if t.passed => "passed",
        Some(_) => "failed",
        None => "not run",
    };
    for &test in CommitmentTest::ALL {
        let (was, now) = (outcome(before, test), outcome(after, test));
        if was != now {
            lines.push(format!("test {test}: {was} -> {now}"));
        }
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// The criteria of the fourth commitment (¶5): any one met passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BeyondCriteria {
    /// At least this many ROCU regions; at least 1.
    min_regions: usize,
    /// At least this many jurisdictions; at least 1.
    min_jurisdictions: usize,
    /// Whether an international dimension counts.
    international: bool,
    /// Whether high sophistication counts.
    high_sophistication: bool,
}

/// A remit rule: a threat area whose best-placed lead is a given organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Remit {
    /// The threat area.
    threat_area: ThreatArea,
    /// The organisation with the remit.
    lead: OrgCode,
    /// Jurisdictions outside the lead's own where it may still lead by agreement.
    also_covers: Vec<Jurisdiction>,
}

impl Policy {
    /// ¶5, first commitment: Priority and High Priority OCGs, individuals and
    /// vulnerabilities.
    fn priority_subjects(&self, facts: &Facts<'_>) -> TestResult {
        let mut facts_found: Vec<String> = facts
            .subjects
            .iter()
            .filter(|s| self.designations.contains(&s.designation.level))
            .map(|s| {
                format!(
                    "{} ({}) is designated {}",
                    s.name,
                    words(s.kind.as_str()),
                    s.designation.level
                )
            })
            .collect();
        let passed = !facts_found.is_empty();
        if !passed {
            if facts.subjects.is_empty() {
                facts_found.push("the request names no subjects".to_owned());
            } else if self.designations.is_empty() {
                facts_found.push("the policy counts no designation as a priority".to_owned());
            } else {
                let levels: Vec<&str> = self.designations.iter().map(|d| d.as_str()).collect();
                facts_found.push(format!("no subject is designated {}", or_list(&levels)));
            }
        }
        result(
            CommitmentTest::PrioritySubjects,
            COMMITMENTS,
            passed,
            facts_found,
        )
    }

    /// ¶5, second commitment: a specialist capability not easily available to partners.
    fn specialist_capability(&self, facts: &Facts<'_>, registry: &ReferenceData) -> TestResult {
        let test = CommitmentTest::SpecialistCapability;
        let code = match facts.kind {
            RequestKind::Capability { capability } => capability,
            other => {
                let asks = match other {
                    RequestKind::TakeLead => "asks the agency to take the lead",
                    RequestKind::Coordinate => "asks the agency to coordinate",
                    _ => "asks for assistance",
                };
                let fact = format!("the request {asks}, not for a capability from Annex E");
                return result(test, COMMITMENTS, false, vec![fact]);
            }
        };
        let Some(capability) = registry.capability(code) else {
            let fact = format!("asks for `{code}`, which is not in the capability catalogue");
            return result(test, COMMITMENTS, false, vec![fact]);
        };
        let mut lines = vec![format!(
            "asks for {} (Annex E), provided by {}",
            capability.name, capability.owner
        )];
        let category = capability.category;
        let counts = self.categories.contains(&category);
        lines.push(if counts {
            format!(
                "its Annex E category, {}, counts as not easily available to partners",
                category.name()
            )
        } else {
            format!(
                "the policy does not count its Annex E category, {}, as not easily available to partners",
                category.name()
            )
        });
        let partner = !facts.requester.kind.is_national_agency_body();
        lines.push(if partner {
            format!(
                "the requester, {}, is a partner ({})",
                facts.requester.code,
                facts.requester.kind.name().to_lowercase()
            )
        } else {
            format!(
                "the requester, {}, is part of the national agency; the commitment is to partners",
                facts.requester.code
            )
        });
        result(test, COMMITMENTS, counts && partner, lines)
    }

    /// ¶5, third commitment: an immediate need for urgent action.
    fn urgent_action(&self, facts: &Facts<'_>) -> TestResult {
        let passed = self.urgencies.contains(&facts.urgency);
        let allowed: Vec<&str> = self.urgencies.iter().map(|u| u.as_str()).collect();
        let policy = if allowed.is_empty() {
            "no urgency counts".to_owned()
        } else {
            or_list(&allowed)
        };
        let fact = format!("urgency is {} (policy: {policy})", facts.urgency);
        result(
            CommitmentTest::UrgentAction,
            COMMITMENTS,
            passed,
            vec![fact],
        )
    }

    /// ¶5, fourth commitment: activity beyond the capability of partners.
    fn beyond_partner_capability(&self, facts: &Facts<'_>) -> TestResult {
        let criteria = self.beyond;
        let geography = facts.geography;
        let met = |yes: bool| if yes { "met" } else { "not met" };
        let mut lines = Vec::new();

        let regions = geography.regions.len();
        let by_regions = regions >= criteria.min_regions;
        lines.push(format!(
            "activity spans {} (policy: {} or more): {}",
            count(regions, "ROCU region", "ROCU regions"),
            criteria.min_regions,
            met(by_regions)
        ));

        let jurisdictions = geography.jurisdictions.len();
        let by_jurisdictions = jurisdictions >= criteria.min_jurisdictions;
        lines.push(format!(
            "activity spans {} (policy: {} or more): {}",
            count(jurisdictions, "jurisdiction", "jurisdictions"),
            criteria.min_jurisdictions,
            met(by_jurisdictions)
        ));

        let by_international = criteria.international && geography.international;
        lines.push(match (criteria.international, geography.international) {
            (true, true) => "activity reaches abroad: met".to_owned(),
            (true, false) => "activity does not reach abroad: not met".to_owned(),
            (false, _) => "the policy does not count an international dimension".to_owned(),
        });

        let high = facts.sophistication == Sophistication::High;
        let by_sophistication = criteria.high_sophistication && high;
        lines.push(if criteria.high_sophistication {
            format!(
                "criminal sophistication is {}: {}",
                facts.sophistication,
                met(high)
            )
        } else {
            "the policy does not count criminal sophistication".to_owned()
        });

        let passed = by_regions || by_jurisdictions || by_international || by_sophistication;
        result(
            CommitmentTest::BeyondPartnerCapability,
            COMMITMENTS,
            passed,
            lines,
        )
    }

    /// Annex B: the control-strategy threat areas, and enablers across several threat
    /// areas.
    fn operational_priorities(&self, facts: &Facts<'_>) -> TestResult {
        let prioritised: Vec<&str> = facts
            .threat_areas
            .iter()
            .filter(|a| self.priority_areas.contains(a))
            .map(ThreatArea::as_str)
            .collect();
        let mut lines = Vec::new();
        if prioritised.is_empty() {
            let all: Vec<&str> = facts.threat_areas.iter().map(ThreatArea::as_str).collect();
            lines.push(format!(
                "no threat area of the request ({}) is a control-strategy priority",
                all.join(", ")
            ));
        } else {
            for area in &prioritised {
                lines.push(format!("{area} is a control-strategy priority"));
            }
        }
        let main_areas: BTreeSet<MainArea> = facts
            .threat_areas
            .iter()
            .map(ThreatArea::main_area)
            .collect();
        let enabler = main_areas.len() >= self.several_main_areas;
        let names: Vec<&str> = main_areas.iter().map(|m| m.as_str()).collect();
        lines.push(format!(
            "the threat areas span {}: {} (policy: {} or more for an enabler across threat areas)",
            count(main_areas.len(), "Annex B main area", "Annex B main areas"),
            names.join(", "),
            self.several_main_areas
        ));
        result(
            CommitmentTest::OperationalPriorities,
            PRIORITIES,
            !prioritised.is_empty() || enabler,
            lines,
        )
    }

    /// The best-placed lead and why, by the first rule that applies: remit, activity
    /// beyond partners, an existing investigation led by someone other than the asker,
    /// then geography.
    fn best_placed_lead(
        &self,
        facts: &Facts<'_>,
        registry: &ReferenceData,
        beyond_partners: bool,
    ) -> (OrgCode, String) {
        let geography = facts.geography;
        // ¶16: partners' statutory duties and remits come first.
        for rule in &self.remit {
            if !facts.threat_areas.contains(rule.threat_area) {
                continue;
            }
            let Some(org) = registry.organisation(&rule.lead) else {
                continue;
            };
            let covers = geography
                .jurisdictions
                .iter()
                .all(|&j| org.jurisdictions.contains(j) || rule.also_covers.contains(&j));
            if covers {
                let reason = format!(
                    "{} has the remit for {} and can act in every jurisdiction the activity touches",
                    rule.lead, rule.threat_area
                );
                return (rule.lead.clone(), reason);
            }
        }
        let agency = &self.national_agency;
        if beyond_partners {
            let reason = format!(
                "the activity is beyond the capability of partners (¶5), so the national agency, {agency}, is best placed"
            );
            return (agency.clone(), reason);
        }
        // An investigation the asker itself leads is the context of its request, not a
        // claim to lead: it is asking someone else to act.
        let asker_is_agency = facts.requester.kind.is_national_agency_body();
        let led_by_asker = |lead: &OrgCode| {
            *lead == facts.requester.code
                || (asker_is_agency
                    && registry
                        .organisation(lead)
                        .is_some_and(|o| o.kind.is_national_agency_body()))
        };
        if let Some(first) = facts.existing.iter().find(|e| !led_by_asker(&e.lead)) {
            let reason = format!(
                "{} already leads {} against the same subjects",
                first.lead, first.code_name
            );
            return (first.lead.clone(), reason);
        }
        let forces: Vec<&OrgCode> = geography.forces.iter().collect();
        match forces.as_slice() {
            [] => {
                if facts.requester.kind.is_national_agency_body() {
                    let reason = format!(
                        "the activity touches no force's area, so the receiver, {}, is best placed",
                        facts.receiver.code
                    );
                    (facts.receiver.code.clone(), reason)
                } else {
                    let reason = format!(
                        "the activity touches no force's area, so the requester, {}, is best placed",
                        facts.requester.code
                    );
                    (facts.requester.code.clone(), reason)
                }
            }
            [force] => {
                let reason = format!("{force} is the only force whose area the activity touches");
                ((*force).clone(), reason)
            }
            several => {
                // Several forces in one region: their ROCU, the regional tier (¶21).
                let regions: BTreeSet<_> = several
                    .iter()
                    .map(|code| registry.organisation(code).and_then(|o| o.region))
                    .collect();
                let one_region = match regions.iter().collect::<Vec<_>>().as_slice() {
                    [Some(region)] => Some(*region),
                    _ => None,
                };
                if let Some(rocu) = one_region.and_then(|r| registry.rocu_for_region(r)) {
                    let reason = format!(
                        "the activity touches {} forces, all in the {} region, so its ROCU, {}, is best placed",
                        several.len(),
                        rocu.region.map_or("same", |r| r.name()),
                        rocu.code
                    );
                    (rocu.code.clone(), reason)
                } else {
                    let reason = format!(
                        "the activity touches {} forces across regions or jurisdictions, so the national agency, {agency}, is best placed",
                        several.len()
                    );
                    (agency.clone(), reason)
                }
            }
        }
    }
}

/// A test result.
fn result(test: CommitmentTest, paragraph: &str, passed: bool, facts: Vec<String>) -> TestResult {
    TestResult {
        test,
        paragraph: paragraph.to_owned(),
        passed,
        facts,
    }
}

/// A code in words: `organised-crime-group` -> `organised crime group`.
fn words(code: &str) -> String {
    code.replace('-', " ")
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `1 region`, `3 regions`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

/// A policy file as written, before the checks. Values that are checked keep their span.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PolicyFile {
    /// The version.
    version: Spanned<String>,
    /// The national agency's code.
    national_agency: Spanned<String>,
    /// Response deadlines in minutes.
    deadlines: DeadlinesFile,
    /// The tests.
    tests: TestsFile,
    /// When to coordinate.
    coordinate: CoordinateFile,
    /// Remit rules.
    #[serde(default)]
    remit: Vec<RemitFile>,
    /// What the daily pack counts as significant (the default when absent).
    significance: Option<SignificanceFile>,
}

/// `[significance]`: every key optional, the default when absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SignificanceFile {
    always: Option<Vec<Spanned<String>>>,
    threat_areas: Option<Vec<Spanned<String>>>,
    urgencies: Option<Vec<Spanned<String>>>,
    designations: Option<Vec<Spanned<String>>>,
    disruption_grades: Option<Vec<Spanned<String>>>,
    activity_kinds: Option<Vec<Spanned<String>>>,
}

/// `[deadlines]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DeadlinesFile {
    /// Minutes for an immediate request.
    immediate: Spanned<u32>,
    /// Minutes for an urgent request.
    urgent: Spanned<u32>,
    /// Minutes for a routine request.
    routine: Spanned<u32>,
}

/// `[tests]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TestsFile {
    /// `[tests.priority-subjects]`.
    priority_subjects: PrioritySubjectsFile,
    /// `[tests.specialist-capability]`.
    specialist_capability: SpecialistCapabilityFile,
    /// `[tests.urgent-action]`.
    urgent_action: UrgentActionFile,
    /// `[tests.beyond-partner-capability]`.
    beyond_partner_capability: BeyondFile,
    /// `[tests.operational-priorities]`.
    operational_priorities: OperationalPrioritiesFile,
}

/// `[tests.priority-subjects]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PrioritySubjectsFile {
    /// Designations that pass.
    designations: Vec<Spanned<String>>,
}

/// `[tests.specialist-capability]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SpecialistCapabilityFile {
    /// Annex E categories that count.
    categories: Vec<Spanned<String>>,
}

/// `[tests.urgent-action]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct UrgentActionFile {
    /// Urgencies that pass.
    urgencies: Vec<Spanned<String>>,
}

/// `[tests.beyond-partner-capability]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct BeyondFile {
    /// Minimum ROCU regions.
    min_regions: Spanned<u32>,
    /// Minimum jurisdictions.
    min_jurisdictions: Spanned<u32>,
    /// Whether international counts.
    international: bool,
    /// Whether high sophistication counts.
    high_sophistication: bool,
}

/// `[tests.operational-priorities]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct OperationalPrioritiesFile {
    /// Control-strategy threat areas.
    threat_areas: Vec<Spanned<String>>,
    /// Main areas that make an enabler.
    several_main_areas: Spanned<u32>,
}

/// `[coordinate]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CoordinateFile {
    /// Different existing leads that call for coordination.
    min_existing_leads: Spanned<u32>,
}

/// `[[remit]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RemitFile {
    /// The threat area.
    threat_area: Spanned<String>,
    /// The organisation with the remit.
    lead: Spanned<String>,
    /// Jurisdictions outside the lead's own where it may still lead.
    #[serde(default)]
    also_covers: Vec<Spanned<String>>,
}

/// The text of a policy file, for locating errors.
struct Source<'t> {
    /// The whole file.
    text: &'t str,
}

impl Source<'_> {
    /// An error at the byte range `span` saying `message`.
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> PolicyError {
        let (line, column) = self.locate(span.start);
        PolicyError {
            line,
            column,
            message: message.into(),
        }
    }

    /// The 1-based line and character column of a byte offset.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    /// A TOML error as a policy error. For a value of the wrong shape, the message is
    /// prefixed with the key (or table) at fault, which the TOML parser does not name.
    fn toml_error(&self, e: &toml::de::Error, name_key: bool) -> PolicyError {
        let span = e.span().unwrap_or(0..0);
        // Say "whole number" where serde says "u32": the reader writes TOML, not Rust.
        let message = e
            .message()
            .trim_end()
            .replace('\n', "; ")
            .replace("expected u32", "expected a whole number");
        match name_key.then(|| self.key_at(span.start)).flatten() {
            Some(key) => self.error(span, format!("{key}: {message}")),
            None => self.error(span, message),
        }
    }

    /// The dotted key whose value starts at `offset`, or the table the line at `offset`
    /// belongs to, by reading the text around it.
    fn key_at(&self, offset: usize) -> Option<String> {
        let (line_no, column) = self.locate(offset);
        let lines: Vec<&str> = self.text.lines().collect();
        let line = lines.get(line_no - 1)?;
        let table = lines[..line_no]
            .iter()
            .rev()
            .map(|l| l.trim_start())
            .find(|l| l.starts_with('['))
            .and_then(|header| {
                let name = header.trim_start_matches('[');
                name.find(']').map(|end| name[..end].trim().to_owned())
            });
        let before: String = line.chars().take(column - 1).collect();
        let key = before
            .trim_end()
            .strip_suffix('=')
            .map(|k| k.trim().trim_matches('"').to_owned())
            .filter(|k| !k.is_empty());
        match (table, key) {
            (Some(table), Some(key)) => Some(format!("{table}.{key}")),
            (None, Some(key)) => Some(key),
            (Some(table), None) => Some(table),
            (None, None) => None,
        }
    }

    /// Checks a parsed file against the registry and builds the policy.
    fn check(&self, file: PolicyFile, registry: &ReferenceData) -> Result<Policy, PolicyError> {
        let version = file.version.get_ref().trim();
        if version.is_empty() {
            return Err(self.error(file.version.span(), "version: must not be blank"));
        }
        if version.chars().count() > MAX_VERSION_LEN || version.chars().any(char::is_control) {
            return Err(self.error(
                file.version.span(),
                format!("version: must be one line of at most {MAX_VERSION_LEN} characters"),
            ));
        }

        let national_agency =
            self.organisation("national-agency", &file.national_agency, registry)?;
        if !national_agency.kind.is_national_agency_body() {
            return Err(self.error(
                file.national_agency.span(),
                format!(
                    "national-agency: `{}` is not a national-agency body (it is a {})",
                    national_agency.code,
                    national_agency.kind.name().to_lowercase()
                ),
            ));
        }

        let d = &file.deadlines;
        let (immediate, urgent, routine) = (
            *d.immediate.get_ref(),
            *d.urgent.get_ref(),
            *d.routine.get_ref(),
        );
        let deadlines = ResponseDeadlines::new(immediate, urgent, routine).map_err(|message| {
            let (key, span) = if immediate == 0 {
                ("immediate", d.immediate.span())
            } else if immediate > urgent {
                ("urgent", d.urgent.span())
            } else {
                ("routine", d.routine.span())
            };
            self.error(span, format!("deadlines.{key}: {message}"))
        })?;

        let tests = &file.tests;
        let designations = self.values(
            "tests.priority-subjects.designations",
            &tests.priority_subjects.designations,
            PriorityDesignation::ALL,
            |d| d.as_str(),
        )?;
        let categories = self.values(
            "tests.specialist-capability.categories",
            &tests.specialist_capability.categories,
            &CapabilityCategory::ALL,
            |c| c.as_str(),
        )?;
        let urgencies = self.values(
            "tests.urgent-action.urgencies",
            &tests.urgent_action.urgencies,
            Urgency::ALL,
            |u| u.as_str(),
        )?;
        let beyond = &tests.beyond_partner_capability;
        let beyond = BeyondCriteria {
            min_regions: self.at_least(
                "tests.beyond-partner-capability.min-regions",
                &beyond.min_regions,
                1,
            )?,
            min_jurisdictions: self.at_least(
                "tests.beyond-partner-capability.min-jurisdictions",
                &beyond.min_jurisdictions,
                1,
            )?,
            international: beyond.international,
            high_sophistication: beyond.high_sophistication,
        };
        let priorities = &tests.operational_priorities;
        let priority_areas = self.values(
            "tests.operational-priorities.threat-areas",
            &priorities.threat_areas,
            ThreatArea::ALL,
            |a| a.as_str(),
        )?;
        let several_main_areas = self.at_least(
            "tests.operational-priorities.several-main-areas",
            &priorities.several_main_areas,
            2,
        )?;
        let min_existing_leads = self.at_least(
            "coordinate.min-existing-leads",
            &file.coordinate.min_existing_leads,
            1,
        )?;

        let mut remit: Vec<Remit> = Vec::new();
        for rule in &file.remit {
            let threat_area = self.value(
                "remit.threat-area",
                &rule.threat_area,
                ThreatArea::ALL,
                |a| a.as_str(),
            )?;
            if remit.iter().any(|r| r.threat_area == threat_area) {
                return Err(self.error(
                    rule.threat_area.span(),
                    format!("remit.threat-area: `{threat_area}` already has an earlier remit rule"),
                ));
            }
            let lead = self
                .organisation("remit.lead", &rule.lead, registry)?
                .code
                .clone();
            let also_covers = self.values(
                "remit.also-covers",
                &rule.also_covers,
                &Jurisdiction::ALL,
                |j| j.as_str(),
            )?;
            remit.push(Remit {
                threat_area,
                lead,
                also_covers,
            });
        }

        let significance = match &file.significance {
            None => Significance::default(),
            Some(table) => self.significance(table)?,
        };

        Ok(Policy {
            significance,
            version: version.to_owned(),
            national_agency: national_agency.code.clone(),
            deadlines,
            designations,
            categories,
            urgencies,
            beyond,
            priority_areas,
            several_main_areas,
            min_existing_leads,
            remit,
        })
    }

    /// The `[significance]` table, each key absent taking its default.
    fn significance(&self, table: &SignificanceFile) -> Result<Significance, PolicyError> {
        let d = Significance::default();
        Ok(Significance {
            always: self.values_or(
                "significance.always",
                &table.always,
                ItemKind::ALL,
                |k| k.as_str(),
                d.always,
            )?,
            threat_areas: self.values_or(
                "significance.threat-areas",
                &table.threat_areas,
                ThreatArea::ALL,
                |a| a.as_str(),
                d.threat_areas,
            )?,
            urgencies: self.values_or(
                "significance.urgencies",
                &table.urgencies,
                Urgency::ALL,
                |u| u.as_str(),
                d.urgencies,
            )?,
            designations: self.values_or(
                "significance.designations",
                &table.designations,
                PriorityDesignation::ALL,
                |p| p.as_str(),
                d.designations,
            )?,
            disruption_grades: self.values_or(
                "significance.disruption-grades",
                &table.disruption_grades,
                DisruptionGrade::ALL,
                |g| g.as_str(),
                d.disruption_grades,
            )?,
            activity_kinds: self.values_or(
                "significance.activity-kinds",
                &table.activity_kinds,
                ActivityKind::ALL,
                |k| k.as_str(),
                d.activity_kinds,
            )?,
        })
    }

    /// The values of an optional key, or `default` when the key is absent.
    fn values_or<T: Copy + PartialEq>(
        &self,
        key: &str,
        values: &Option<Vec<Spanned<String>>>,
        all: &[T],
        text: impl Fn(&T) -> &'static str,
        default: Vec<T>,
    ) -> Result<Vec<T>, PolicyError> {
        match values {
            None => Ok(default),
            Some(values) => self.values(key, values, all, text),
        }
    }

    /// The organisation `value` names, for `key`.
    fn organisation<'r>(
        &self,
        key: &str,
        value: &Spanned<String>,
        registry: &'r ReferenceData,
    ) -> Result<&'r Organisation, PolicyError> {
        OrgCode::parse(value.get_ref())
            .ok()
            .and_then(|code| registry.organisation(&code))
            .ok_or_else(|| {
                self.error(
                    value.span(),
                    format!(
                        "{key}: `{}` is not an organisation in the registry",
                        value.get_ref()
                    ),
                )
            })
    }

    /// One of `all`, by its text, for `key`.
    fn value<T: Copy>(
        &self,
        key: &str,
        value: &Spanned<String>,
        all: &[T],
        text: impl Fn(&T) -> &'static str,
    ) -> Result<T, PolicyError> {
        all.iter()
            .find(|v| text(v) == value.get_ref())
            .copied()
            .ok_or_else(|| {
                let allowed: Vec<&str> = all.iter().map(&text).collect();
                self.error(
                    value.span(),
                    format!(
                        "{key}: `{}` is not one of: {}",
                        value.get_ref(),
                        allowed.join(", ")
                    ),
                )
            })
    }

    /// A list of values of `all`, for `key`, each once.
    fn values<T: Copy + PartialEq>(
        &self,
        key: &str,
        values: &[Spanned<String>],
        all: &[T],
        text: impl Fn(&T) -> &'static str,
    ) -> Result<Vec<T>, PolicyError> {
        let mut parsed = Vec::with_capacity(values.len());
        for value in values {
            let v = self.value(key, value, all, &text)?;
            if parsed.contains(&v) {
                return Err(self.error(
                    value.span(),
                    format!("{key}: `{}` is listed twice", value.get_ref()),
                ));
            }
            parsed.push(v);
        }
        Ok(parsed)
    }

    /// A count of at least `min`, for `key`.
    fn at_least(&self, key: &str, value: &Spanned<u32>, min: u32) -> Result<usize, PolicyError> {
        let n = *value.get_ref();
        if n < min {
            return Err(self.error(value.span(), format!("{key}: must be at least {min}")));
        }
        usize::try_from(n).map_err(|_| self.error(value.span(), format!("{key}: too large")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::UserId;
    use crate::subject::{Designation, DesignationBasis, SubjectId, SubjectKind, SubjectName};
    use crate::tasking::Geography;
    use crate::time::Timestamp;

    fn data() -> ReferenceData {
        ReferenceData::builtin().expect("reference data")
    }

    fn code(c: &str) -> OrgCode {
        OrgCode::parse(c).expect("code")
    }

    fn subject(name: &str, kind: SubjectKind, level: PriorityDesignation) -> Subject {
        Subject {
            id: SubjectId::new(),
            kind,
            name: SubjectName::parse(name).expect("name"),
            organisation: code("nca"),
            designation: Designation {
                level,
                by: UserId::new(),
                at: Timestamp::now(),
                basis: DesignationBasis::parse("Analyst's assessment").expect("basis"),
            },
        }
    }

    /// A request as a story tells it, in codes.
    struct Case {
        requester: &'static str,
        receiver: &'static str,
        kind: RequestKind,
        threat_areas: Vec<ThreatArea>,
        subjects: Vec<Subject>,
        areas: Vec<&'static str>,
        international: bool,
        sophistication: Sophistication,
        urgency: Urgency,
        existing: Vec<(&'static str, &'static str)>,
    }

    impl Case {
        /// A routine, standard, domestic request with no subjects or existing operations.
        fn new(requester: &'static str, receiver: &'static str, kind: RequestKind) -> Self {
            Self {
                requester,
                receiver,
                kind,
                threat_areas: vec![],
                subjects: vec![],
                areas: vec![],
                international: false,
                sophistication: Sophistication::Standard,
                urgency: Urgency::Routine,
                existing: vec![],
            }
        }
    }

    /// Evaluates `case` under `policy` against the built-in reference data.
    fn evaluate(policy: &Policy, case: &Case) -> Recommendation {
        let data = data();
        let org = |c: &str| data.organisation(&code(c)).expect("organisation");
        let threat_areas = ThreatAreas::new(case.threat_areas.iter().copied()).expect("areas");
        let geography = Geography {
            areas: case.areas.iter().map(|a| code(a)).collect(),
            international: case.international,
        }
        .resolve(&data)
        .expect("geography");
        let existing: Vec<ExistingInvestigation> = case
            .existing
            .iter()
            .map(|(name, lead)| ExistingInvestigation {
                code_name: (*name).to_owned(),
                lead: code(lead),
            })
            .collect();
        let facts = Facts {
            requester: org(case.requester),
            receiver: org(case.receiver),
            kind: &case.kind,
            threat_areas: &threat_areas,
            subjects: &case.subjects,
            geography: &geography,
            sophistication: case.sophistication,
            urgency: case.urgency,
            existing: &existing,
        };
        policy.evaluate(&facts, &data)
    }

    fn recommend(case: &Case) -> Recommendation {
        evaluate(&Policy::builtin(&data()), case)
    }

    /// Which tests passed, in order.
    fn passes(r: &Recommendation) -> Vec<bool> {
        r.tests.iter().map(|t| t.passed).collect()
    }

    fn facts_of(r: &Recommendation, test: CommitmentTest) -> String {
        r.result(test).expect("test run").facts.join("\n")
    }

    /// ¶18 (a), first stage: a force investigates CViT robberies and asks for surveillance.
    fn cvit_stage_one() -> Case {
        Case {
            threat_areas: vec![ThreatArea::OrganisedAcquisitiveCrime],
            subjects: vec![subject(
                "Eastside CViT group",
                SubjectKind::OrganisedCrimeGroup,
                PriorityDesignation::HighPriority,
            )],
            areas: vec!["west-midlands"],
            ..Case::new(
                "west-midlands",
                "nca",
                RequestKind::Capability {
                    capability: "specialist-surveillance".into(),
                },
            )
        }
    }

    /// ¶18 (a), second stage: the robberies displace across regions.
    fn cvit_stage_two() -> Case {
        Case {
            areas: vec!["west-midlands", "greater-manchester", "avon-and-somerset"],
            existing: vec![("Operation Kestrel", "west-midlands")],
            ..Case {
                kind: RequestKind::TakeLead,
                ..cvit_stage_one()
            }
        }
    }

    #[test]
    fn the_built_in_policy_parses_and_has_a_version() {
        let policy = Policy::builtin(&data());
        assert_eq!(policy.version(), "2026.1");
        assert_eq!(policy.deadlines(), ResponseDeadlines::default());
    }

    /// ¶18 (a): a force leads, the agency supports with surveillance.
    #[test]
    fn a_force_asking_for_surveillance_against_a_high_priority_group_is_supported() {
        let r = recommend(&cvit_stage_one());
        assert_eq!(r.role, AgencyRole::Support);
        assert_eq!(r.lead, code("west-midlands"));
        assert_eq!(r.referral, None);
        assert_eq!(r.policy_version, "2026.1");
        assert_eq!(passes(&r), [true, true, false, false, false]);
        let priority = r.result(CommitmentTest::PrioritySubjects).expect("run");
        assert_eq!(priority.paragraph, "¶5");
        assert_eq!(
            priority.facts,
            ["Eastside CViT group (organised crime group) is designated high-priority"]
        );
        let capability = facts_of(&r, CommitmentTest::SpecialistCapability);
        assert!(
            capability.contains(
                "asks for Specialist Surveillance (Annex E), provided by nca-intelligence-collection"
            ),
            "{capability}"
        );
        assert!(r.lead_reason.contains("only force"), "{}", r.lead_reason);
    }

    /// ¶18 (a): when the group displaces across regions, the lead moves to the agency.
    #[test]
    fn activity_displaced_across_regions_moves_the_lead_to_the_agency() {
        let r = recommend(&cvit_stage_two());
        assert_eq!(r.role, AgencyRole::Lead);
        assert_eq!(r.lead, code("nca"));
        let beyond = r
            .result(CommitmentTest::BeyondPartnerCapability)
            .expect("run");
        assert!(beyond.passed);
        assert!(
            beyond
                .facts
                .contains(&"activity spans 3 ROCU regions (policy: 2 or more): met".to_owned()),
            "{:?}",
            beyond.facts
        );
        assert!(r.lead_reason.contains("beyond the capability of partners"));
    }

    /// ¶18 (b): a high-priority vulnerability in one region goes to that region's ROCU.
    #[test]
    fn fraud_concentrated_in_one_region_is_led_by_its_rocu_with_agency_support() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud, ThreatArea::CyberCrime],
            subjects: vec![subject(
                "Banking malware",
                SubjectKind::Vulnerability,
                PriorityDesignation::HighPriority,
            )],
            areas: vec!["kent", "surrey", "sussex"],
            ..Case::new("nca-nccu", "serocu", RequestKind::Assistance)
        };
        let r = recommend(&case);
        assert_eq!(r.role, AgencyRole::Support);
        assert_eq!(r.lead, code("serocu"));
        assert_eq!(passes(&r), [true, false, false, false, true]);
        assert!(r.lead_reason.contains("South East"), "{}", r.lead_reason);
        let priorities = r
            .result(CommitmentTest::OperationalPriorities)
            .expect("run");
        assert_eq!(priorities.paragraph, "Annex B");
        assert!(priorities.facts[0].contains("cyber-crime is a control-strategy priority"));
    }

    /// ¶18 (c): HMRC leads on the predicate tax offences; the agency coordinates and
    /// supports the forces already investigating.
    #[test]
    fn money_laundering_with_tax_offences_is_led_by_hmrc_and_coordinated_by_the_agency() {
        let case = Case {
            threat_areas: vec![ThreatArea::MoneyLaundering, ThreatArea::RevenueOffences],
            subjects: vec![subject(
                "Harbour Street group",
                SubjectKind::OrganisedCrimeGroup,
                PriorityDesignation::Priority,
            )],
            areas: vec!["lancashire", "mps", "jersey-police"],
            existing: vec![
                ("Operation Ash", "lancashire"),
                ("Operation Birch", "mps"),
                ("Operation Cedar", "jersey-police"),
            ],
            ..Case::new("lancashire", "nca", RequestKind::Coordinate)
        };
        let r = recommend(&case);
        assert_eq!(r.role, AgencyRole::SupportAndCoordinate);
        assert_eq!(r.lead, code("hmrc"));
        assert!(r.lead_reason.contains("remit for revenue-offences"));
        assert_eq!(passes(&r), [true, false, false, true, true]);
        let beyond = facts_of(&r, CommitmentTest::BeyondPartnerCapability);
        assert!(beyond.contains("spans 2 ROCU regions"), "{beyond}");
        assert!(beyond.contains("spans 2 jurisdictions"), "{beyond}");
    }

    /// ¶16: a remit rule names the lead only where that lead can act.
    #[test]
    fn a_remit_is_skipped_where_its_lead_cannot_act() {
        let fraud = |area: &'static str| Case {
            threat_areas: vec![ThreatArea::SeriousOrComplexFraud],
            areas: vec![area],
            ..Case::new(area, "nca", RequestKind::Assistance)
        };
        // The SFO covers England, Wales and Northern Ireland, not Scotland.
        assert_eq!(recommend(&fraud("kent")).lead, code("sfo"));
        let scottish = recommend(&fraud("police-scotland"));
        assert_eq!(scottish.lead, code("police-scotland"));

        // A remit org limited to England and Wales, in a test policy.
        let policy = Policy::parse(
            &MINIMAL.replace(
                "threat-area = \"revenue-offences\"\nlead = \"hmrc\"",
                "threat-area = \"prisons\"\nlead = \"noms\"",
            ),
            &data(),
        )
        .expect("valid");
        let prisons = |area: &'static str| Case {
            threat_areas: vec![ThreatArea::Prisons],
            areas: vec![area],
            ..Case::new(area, "nca", RequestKind::Assistance)
        };
        assert_eq!(evaluate(&policy, &prisons("cumbria")).lead, code("noms"));
        assert_eq!(
            evaluate(&policy, &prisons("police-scotland")).lead,
            code("police-scotland")
        );
    }

    /// ¶14: the agency declines what no test supports, and refers a partner to its region.
    #[test]
    fn a_request_that_meets_no_test_is_declined_and_referred_to_the_regional_tier() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud],
            subjects: vec![subject(
                "Doorstep fraudster",
                SubjectKind::Individual,
                PriorityDesignation::Standard,
            )],
            areas: vec!["kent"],
            ..Case::new("kent", "nca", RequestKind::Assistance)
        };
        let r = recommend(&case);
        assert_eq!(passes(&r), [false; 5]);
        assert_eq!(r.role, AgencyRole::Decline);
        assert_eq!(r.lead, code("kent"));
        assert_eq!(r.referral, Some(code("serocu")));
        assert_eq!(
            r.result(CommitmentTest::PrioritySubjects)
                .expect("run")
                .facts,
            ["no subject is designated priority or high-priority"]
        );
        let capability = facts_of(&r, CommitmentTest::SpecialistCapability);
        assert!(capability.contains("asks for assistance"), "{capability}");
    }

    /// ¶5, third commitment: an immediate need makes the agency support the lead.
    #[test]
    fn an_immediate_need_is_supported() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas: vec!["kent"],
            urgency: Urgency::Immediate,
            ..Case::new("kent", "nca", RequestKind::Assistance)
        };
        let r = recommend(&case);
        assert_eq!(passes(&r), [false, false, true, false, false]);
        assert_eq!(r.role, AgencyRole::Support);
        assert_eq!(
            facts_of(&r, CommitmentTest::UrgentAction),
            "urgency is immediate (policy: immediate)"
        );
    }

    /// ¶5, second commitment: the commitment is to partners, not the agency's own bodies.
    #[test]
    fn a_capability_asked_for_by_the_agency_itself_does_not_pass_the_specialist_test() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas: vec!["kent"],
            ..Case::new(
                "nca-ecc",
                "nca",
                RequestKind::Capability {
                    capability: "cyber-support".into(),
                },
            )
        };
        let r = recommend(&case);
        let capability = r.result(CommitmentTest::SpecialistCapability).expect("run");
        assert!(!capability.passed);
        assert!(
            capability.facts[2].contains("is part of the national agency"),
            "{:?}",
            capability.facts
        );
    }

    /// ¶5, fourth commitment: international reach and high sophistication each count.
    #[test]
    fn international_or_sophisticated_activity_goes_beyond_partners() {
        let base = || Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas: vec!["kent"],
            ..Case::new("kent", "nca", RequestKind::Assistance)
        };
        for case in [
            Case {
                international: true,
                ..base()
            },
            Case {
                sophistication: Sophistication::High,
                ..base()
            },
        ] {
            let r = recommend(&case);
            assert_eq!(passes(&r), [false, false, false, true, false]);
            assert_eq!((r.role, r.lead), (AgencyRole::Lead, code("nca")));
        }
    }

    /// Annex B: an enabler across several main areas is an operational priority.
    #[test]
    fn threats_spanning_several_main_areas_are_an_operational_priority() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud, ThreatArea::Prisons],
            areas: vec!["kent"],
            ..Case::new("kent", "nca", RequestKind::Assistance)
        };
        let r = recommend(&case);
        assert_eq!(passes(&r), [false, false, false, false, true]);
        assert_eq!(r.role, AgencyRole::Support);
        let facts = facts_of(&r, CommitmentTest::OperationalPriorities);
        assert!(
            facts.contains("span 2 Annex B main areas: organised-crime, economic-crime"),
            "{facts}"
        );
    }

    /// ¶14: several forces already leading on the same subjects call for coordination.
    #[test]
    fn several_existing_leads_call_for_coordination_by_the_first_lead() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas: vec!["kent"],
            existing: vec![("Operation Ash", "kent"), ("Operation Birch", "essex")],
            ..Case::new("surrey", "nca", RequestKind::Assistance)
        };
        let r = recommend(&case);
        assert_eq!(r.role, AgencyRole::Coordinate);
        assert_eq!(r.lead, code("kent"));
        assert_eq!(
            r.lead_reason,
            "kent already leads Operation Ash against the same subjects"
        );
    }

    /// ¶18 (b): the agency's own operation on the subject does not make it the lead of
    /// the investigation it asks a ROCU to take on.
    #[test]
    fn the_askers_own_investigation_does_not_make_it_the_lead() {
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas: vec!["kent", "surrey"],
            existing: vec![("Operation Kestrel", "nca-nccu")],
            ..Case::new("nca-nccu", "serocu", RequestKind::Assistance)
        };
        let r = recommend(&case);
        assert_eq!(r.lead, code("serocu"), "{}", r.lead_reason);
        let case = Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas: vec!["kent"],
            existing: vec![("Operation Ash", "kent"), ("Operation Elm", "essex")],
            ..Case::new("kent", "nca", RequestKind::Assistance)
        };
        assert_eq!(recommend(&case).lead, code("essex"));
    }

    /// Several forces in different regions, or none: the agency, or the requester.
    #[test]
    fn geography_decides_the_lead_when_nothing_else_does() {
        let mut policy_text = MINIMAL.replace("min-regions = 2", "min-regions = 9");
        policy_text = policy_text.replace("min-jurisdictions = 2", "min-jurisdictions = 9");
        let policy = Policy::parse(&policy_text, &data()).expect("valid");
        let case = |areas: Vec<&'static str>| Case {
            threat_areas: vec![ThreatArea::Fraud],
            areas,
            ..Case::new("kent", "nca", RequestKind::Assistance)
        };
        assert_eq!(
            evaluate(&policy, &case(vec!["kent", "essex"])).lead,
            code("nca")
        );
        assert_eq!(
            evaluate(&policy, &case(vec!["kent", "police-scotland"])).lead,
            code("nca")
        );
        assert_eq!(
            evaluate(&policy, &case(vec!["surrey", "sussex"])).lead,
            code("serocu")
        );
        assert_eq!(evaluate(&policy, &case(vec![])).lead, code("kent"));
        let from_the_agency = Case {
            threat_areas: vec![ThreatArea::Fraud],
            ..Case::new("nca", "hmrc", RequestKind::Assistance)
        };
        assert_eq!(evaluate(&policy, &from_the_agency).lead, code("hmrc"));
    }

    #[test]
    fn differences_report_role_lead_and_test_changes() {
        let before = recommend(&cvit_stage_one());
        let after = recommend(&cvit_stage_two());
        assert!(differences(&before, &before.clone()).is_empty());
        assert_eq!(
            differences(&before, &after),
            [
                "role: support -> lead",
                "lead: west-midlands -> nca",
                "test specialist-capability: passed -> failed",
                "test beyond-partner-capability: failed -> passed",
            ]
        );
        let declined = Recommendation {
            role: AgencyRole::Decline,
            referral: Some(code("wm-rocu")),
            tests: vec![],
            ..before.clone()
        };
        let lines = differences(&before, &declined);
        assert!(lines.contains(&"role: support -> decline".to_owned()));
        assert!(lines.contains(&"referral: none -> wm-rocu".to_owned()));
        assert!(lines.contains(&"test priority-subjects: passed -> not run".to_owned()));
    }

    /// A replay under a stricter policy: two regions no longer go beyond partners.
    #[test]
    fn a_stricter_policy_changes_the_recommendation_for_two_regions() {
        let data = data();
        let stricter = Policy::parse(STRICTER, &data).expect("the fixture is valid");
        assert_eq!(stricter.version(), "2026.2-test");
        let case = Case {
            areas: vec!["west-midlands", "greater-manchester"],
            ..cvit_stage_two()
        };
        let before = evaluate(&Policy::builtin(&data), &case);
        let after = evaluate(&stricter, &case);
        assert_eq!(
            differences(&before, &after),
            ["test beyond-partner-capability: passed -> failed"]
        );
        // The asker's own operation is no claim to lead; two regions still need the agency.
        assert!(
            after.lead_reason.contains("across regions"),
            "{}",
            after.lead_reason
        );
    }

    // -----------------------------------------------------------------------------------------
    // Errors in policy files
    // -----------------------------------------------------------------------------------------

    /// A small valid policy whose line numbers the error tests rely on.
    const MINIMAL: &str = r#"version = "test"
national-agency = "nca"
[deadlines]
immediate = 60
urgent = 1440
routine = 20160
[tests.priority-subjects]
designations = ["priority", "high-priority"]
[tests.specialist-capability]
categories = ["specialist-capabilities-and-advice"]
[tests.urgent-action]
urgencies = ["immediate"]
[tests.beyond-partner-capability]
min-regions = 2
min-jurisdictions = 2
international = true
high-sophistication = true
[tests.operational-priorities]
threat-areas = ["drugs", "cyber-crime"]
several-main-areas = 2
[coordinate]
min-existing-leads = 2
[[remit]]
threat-area = "revenue-offences"
lead = "hmrc"
"#;

    const STRICTER: &str = include_str!("../policy/fixtures/revenue-first-stricter.toml");
    const BROKEN_REMIT: &str = include_str!("../policy/fixtures/broken-remit.toml");

    /// Parses `MINIMAL` with `from` replaced by `to`, expecting an error at `line` and
    /// `column` whose message contains each of `expected`.
    fn check_error(from: &str, to: &str, line: usize, column: usize, expected: &[&str]) {
        assert!(MINIMAL.contains(from), "{from}");
        let err = Policy::parse(&MINIMAL.replacen(from, to, 1), &data()).expect_err("invalid");
        assert_eq!((err.line, err.column), (line, column), "{err}");
        for part in expected {
            assert!(err.message.contains(part), "{part:?} not in {err}");
        }
    }

    #[test]
    fn the_minimal_policy_and_the_fixtures_parse() {
        let data = data();
        let policy = Policy::parse(MINIMAL, &data).expect("valid");
        assert_eq!(policy.version(), "test");
        Policy::parse(STRICTER, &data).expect("valid");
    }

    #[test]
    fn the_built_in_significance_rules_are_the_default_and_a_policy_without_them_takes_it() {
        let data = data();
        assert_eq!(
            Policy::builtin(&data).significance(),
            &Significance::default()
        );
        let policy = Policy::parse(MINIMAL, &data).expect("valid");
        assert_eq!(policy.significance(), &Significance::default());
    }

    #[test]
    fn significance_rules_are_read_key_by_key_and_a_bad_value_is_placed() {
        let data = data();
        let text = format!("{MINIMAL}[significance]\nurgencies = [\"immediate\"]\n");
        let policy = Policy::parse(&text, &data).expect("valid");
        assert_eq!(policy.significance().urgencies, [Urgency::Immediate]);
        assert_eq!(
            policy.significance().always,
            Significance::default().always,
            "a key left out keeps its default"
        );
        let bad = format!("{MINIMAL}[significance]\nalways = [\"clash\", \"gossip\"]\n");
        let err = Policy::parse(&bad, &data).expect_err("invalid");
        assert_eq!((err.line, err.column), (27, 20), "{err}");
        assert!(err.message.contains("significance.always"), "{err}");
    }

    #[test]
    fn a_syntax_error_is_reported_with_its_line() {
        check_error("[coordinate]", "[coordinate", 21, 12, &[]);
    }

    #[test]
    fn an_unknown_key_is_reported_with_its_table() {
        check_error(
            "international = true",
            "internationl = true",
            16,
            1,
            &[
                "tests.beyond-partner-capability: ",
                "unknown field `internationl`",
            ],
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        check_error(
            "min-regions = 2",
            "min-regions = \"two\"",
            14,
            15,
            &[
                "tests.beyond-partner-capability.min-regions: ",
                "invalid type",
            ],
        );
    }

    #[test]
    fn a_missing_key_is_reported() {
        check_error(
            "urgent = 1440\n",
            "",
            3,
            1,
            &["deadlines: ", "missing field `urgent`"],
        );
    }

    #[test]
    fn an_unknown_remit_lead_is_refused() {
        check_error(
            "lead = \"hmrc\"",
            "lead = \"hmrcc\"",
            25,
            8,
            &["remit.lead: `hmrcc` is not an organisation in the registry"],
        );
        let err = Policy::parse(BROKEN_REMIT, &data()).expect_err("broken");
        assert_eq!(err.line, 26, "{err}");
        assert_eq!(
            err.to_string(),
            "line 26, column 8: remit.lead: `hmrcc` is not an organisation in the registry"
        );
    }

    #[test]
    fn an_unknown_threat_area_is_refused_with_the_areas_allowed() {
        check_error(
            "\"cyber-crime\"",
            "\"cybercrime\"",
            19,
            26,
            &[
                "tests.operational-priorities.threat-areas: `cybercrime` is not one of: drugs,",
                "cyber-crime",
            ],
        );
        check_error(
            "threat-area = \"revenue-offences\"",
            "threat-area = \"tax\"",
            24,
            15,
            &["remit.threat-area: `tax` is not one of"],
        );
    }

    #[test]
    fn unknown_designations_categories_and_urgencies_are_refused() {
        check_error(
            "\"high-priority\"",
            "\"top\"",
            8,
            29,
            &[
                "tests.priority-subjects.designations: `top` is not one of: high-priority, priority, standard",
            ],
        );
        check_error(
            "[\"specialist-capabilities-and-advice\"]",
            "[\"surveillance\"]",
            10,
            15,
            &[
                "tests.specialist-capability.categories: `surveillance`",
                "networks",
            ],
        );
        check_error(
            "[\"immediate\"]",
            "[\"now\"]",
            12,
            14,
            &["tests.urgent-action.urgencies: `now` is not one of: immediate, urgent, routine"],
        );
        check_error(
            "[\"priority\", \"high-priority\"]",
            "[\"priority\", \"priority\"]",
            8,
            29,
            &["`priority` is listed twice"],
        );
    }

    #[test]
    fn the_national_agency_must_be_a_national_agency_body() {
        check_error(
            "national-agency = \"nca\"",
            "national-agency = \"kent\"",
            2,
            19,
            &["national-agency: `kent` is not a national-agency body"],
        );
        check_error(
            "national-agency = \"nca\"",
            "national-agency = \"nsa\"",
            2,
            19,
            &["national-agency: `nsa` is not an organisation in the registry"],
        );
    }

    #[test]
    fn bad_deadlines_are_refused() {
        check_error(
            "urgent = 1440",
            "urgent = 30",
            5,
            10,
            &["deadlines.urgent: deadlines must not shorten"],
        );
        check_error(
            "immediate = 60",
            "immediate = 0",
            4,
            13,
            &["deadlines.immediate: the immediate deadline must be at least one minute"],
        );
        check_error(
            "immediate = 60",
            "immediate = -5",
            4,
            13,
            &["deadlines.immediate: "],
        );
    }

    #[test]
    fn thresholds_below_their_minimum_are_refused() {
        check_error(
            "min-regions = 2",
            "min-regions = 0",
            14,
            15,
            &["tests.beyond-partner-capability.min-regions: must be at least 1"],
        );
        check_error(
            "several-main-areas = 2",
            "several-main-areas = 1",
            20,
            22,
            &["several-main-areas: must be at least 2"],
        );
    }

    #[test]
    fn a_blank_version_is_refused() {
        check_error(
            "version = \"test\"",
            "version = \" \"",
            1,
            11,
            &["version: must not be blank"],
        );
    }

    #[test]
    fn a_threat_area_with_two_remit_rules_is_refused() {
        let text =
            format!("{MINIMAL}[[remit]]\nthreat-area = \"revenue-offences\"\nlead = \"sfo\"\n");
        let err = Policy::parse(&text, &data()).expect_err("duplicate");
        assert_eq!((err.line, err.column), (27, 15), "{err}");
        assert!(
            err.message.contains("already has an earlier remit rule"),
            "{err}"
        );
    }
}
