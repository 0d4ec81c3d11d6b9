//! The daily management pack that the Daily Briefing Meeting reviews (DESIGN part 12;
//! the source document's Annex C ¶3: the national agency's daily management of the
//! response, with partners, from live information).
//!
//! A pack is made for a date and a scope and has three sections: significant events of
//! the previous 24 hours, significant operational plans for the next 72 hours, and urgent
//! operational and intelligence demands. What is "significant" is policy
//! ([`Significance`], the `[significance]` table of the policy file): every item says
//! which rule brought it in, and an item no rule brings in is left out.
//!
//! This module holds the rules and the pack; the server gathers the items from what the
//! reader may see, so a pack never shows a record its reader could not open.

use crate::events::ActivityKind;
use crate::handling::Marking;
use crate::operation::DisruptionGrade;
use crate::people::{Classification, FieldError, text_enum};
use crate::registry::{OrgCode, OrganisationKind, ReferenceData};
use crate::subject::PriorityDesignation;
use crate::tasking::Urgency;
use crate::text::uuid_id;
use crate::threat::ThreatArea;
use crate::time::Timestamp;
use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

uuid_id! {
    /// A kept pack's identifier.
    PackId, "pack_id"
}

// ---------------------------------------------------------------------------------------
// Scope and window
// ---------------------------------------------------------------------------------------

/// Whose business a pack covers: everything (the national meeting), or one
/// organisation's. A regional organised crime unit's scope is its whole region, and a
/// body's scope takes in the units under it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every organisation.
    National,
    /// One organisation (with its region, for a ROCU, and its units).
    Organisation(OrgCode),
}

impl Scope {
    /// Parses `national` or an organisation code that the registry knows.
    pub fn parse(raw: &str, registry: &ReferenceData) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if raw == "national" {
            return Ok(Self::National);
        }
        registry
            .organisations
            .iter()
            .find(|o| o.code.as_str() == raw)
            .map(|o| Self::Organisation(o.code.clone()))
            .ok_or_else(|| {
                FieldError::new(
                    "scope",
                    format!("`{raw}` is neither `national` nor a known organisation code"),
                )
            })
    }

    /// The scope an organisation's own pack has by default: national for the national
    /// agency's bodies, the organisation itself otherwise.
    pub fn default_for(org: &OrgCode, registry: &ReferenceData) -> Self {
        match registry.organisations.iter().find(|o| o.code == *org) {
            Some(o) if o.kind.is_national_agency_body() => Self::National,
            _ => Self::Organisation(org.clone()),
        }
    }

    /// Whether business of `org` falls within the scope.
    pub fn covers(&self, org: &OrgCode, registry: &ReferenceData) -> bool {
        let Self::Organisation(scope) = self else {
            return true;
        };
        if scope == org {
            return true;
        }
        let find = |code: &OrgCode| registry.organisations.iter().find(|o| o.code == *code);
        let (Some(scope), Some(other)) = (find(scope), find(org)) else {
            return false;
        };
        other.parent.as_ref() == Some(&scope.code)
            || (scope.kind == OrganisationKind::Rocu
                && scope.region.is_some()
                && other.region == scope.region)
    }

    /// Whether any of `orgs` falls within the scope.
    pub fn covers_any<'a>(
        &self,
        mut orgs: impl Iterator<Item = &'a OrgCode>,
        registry: &ReferenceData,
    ) -> bool {
        orgs.any(|o| self.covers(o, registry))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::National => f.write_str("national"),
            Self::Organisation(code) => f.write_str(code.as_str()),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(|e: FieldError| serde::de::Error::custom(e.message))
    }
}

/// The hours a pack looks back over and ahead to, around its cut-off: the meeting's
/// time on the pack's date, in London.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackWindow {
    /// The start of the previous 24 hours.
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    /// The cut-off: the meeting's time on the pack's date.
    #[schema(value_type = String, format = DateTime)]
    pub cutoff: Timestamp,
    /// The end of the next 72 hours.
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

/// Hours looked back over.
pub const LOOK_BACK_HOURS: i64 = 24;
/// Hours looked ahead to.
pub const LOOK_AHEAD_HOURS: i64 = 72;

impl PackWindow {
    /// The window of the pack for `date` with the meeting at `at` (London time). On the
    /// day the clocks go forward a meeting time in the skipped hour moves to the first
    /// minute after it; on the day they go back the earlier of the two is taken. The
    /// previous 24 hours are elapsed hours, so across a change of the clocks they do not
    /// begin at the same wall-clock time the day before.
    pub fn for_date(date: NaiveDate, at: NaiveTime) -> Self {
        let naive = date.and_time(at);
        let cutoff = London
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                let later = naive.checked_add_signed(chrono::Duration::hours(1))?;
                London.from_local_datetime(&later).earliest()
            })
            .map(|t| Timestamp::from(t.with_timezone(&chrono::Utc)))
            // A date so far out that London has no offset for it: treat the time as UTC.
            .unwrap_or_else(|| Timestamp::from(naive.and_utc()));
        Self {
            since: cutoff.plus(chrono::Duration::hours(-LOOK_BACK_HOURS)),
            cutoff,
            until: cutoff.plus(chrono::Duration::hours(LOOK_AHEAD_HOURS)),
        }
    }

    /// The date of the pack whose previous 24 hours hold `now`: today's, before the
    /// meeting; tomorrow's after it.
    pub fn date_covering(now: Timestamp, at: NaiveTime) -> NaiveDate {
        let today = london_date(now);
        if Self::for_date(today, at).cutoff > now {
            today
        } else {
            today.succ_opt().unwrap_or(today)
        }
    }

    /// Whether `t` is in the previous 24 hours.
    pub fn in_previous(&self, t: Timestamp) -> bool {
        self.since <= t && t < self.cutoff
    }

    /// Whether `t` is in the next 72 hours.
    pub fn in_next(&self, t: Timestamp) -> bool {
        self.cutoff <= t && t < self.until
    }

    /// Whether a span from `start` to `end` meets the next 72 hours.
    pub fn meets_next(&self, start: Timestamp, end: Timestamp) -> bool {
        start < self.until && end > self.cutoff
    }
}

/// A moment as London reads it: `Wed 2 Dec 07:00`.
pub fn london_text(t: Timestamp) -> String {
    t.to_datetime()
        .with_timezone(&London)
        .format("%a %-d %b %H:%M")
        .to_string()
}

/// The date in London at `t`.
pub fn london_date(t: Timestamp) -> NaiveDate {
    t.to_datetime().with_timezone(&London).date_naive()
}

/// Parses a pack date, `YYYY-MM-DD`.
pub fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            field,
            format!("`{}` is not a date such as 2026-12-02", raw.trim()),
        )
    })
}

/// Parses a meeting time, `HH:MM` (London).
pub fn parse_meeting_time(field: &'static str, raw: &str) -> Result<NaiveTime, FieldError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
        FieldError::new(
            field,
            format!("`{}` is not a time of day such as 07:00", raw.trim()),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------

text_enum! {
    /// The three sections of the pack.
    Section, "section" {
        /// Significant events of the previous 24 hours.
        PreviousDay = "previous-24-hours",
        /// Significant operational plans for the next 72 hours.
        NextDays = "next-72-hours",
        /// Urgent operational and intelligence demands.
        UrgentDemands = "urgent-demands",
    }
}

impl Section {
    /// The section's heading.
    pub fn heading(self) -> &'static str {
        match self {
            Self::PreviousDay => "Significant events of the previous 24 hours",
            Self::NextDays => "Significant operational plans for the next 72 hours",
            Self::UrgentDemands => "Urgent operational and intelligence demands",
        }
    }
}

text_enum! {
    /// What an item is.
    ItemKind, "kind" {
        /// A tasking decision (accept or decline) was recorded.
        Decision = "decision",
        /// The lead of an operation changed.
        LeadChange = "lead-change",
        /// A direction was issued, acknowledged or answered (¶9, ¶11).
        Direction = "direction",
        /// Two organisations' registrations of interest matched.
        DeconflictionHit = "deconfliction-hit",
        /// Two organisations' planned activity clashed.
        Clash = "clash",
        /// An operation recorded a disruption or other outcome.
        Disruption = "disruption",
        /// A subject's priority designation changed.
        Designation = "designation",
        /// Planned operational activity in the next 72 hours.
        PlannedActivity = "planned-activity",
        /// A request's response falls due in the next 72 hours.
        ResponseDue = "response-due",
        /// A direction is needed by a time in the next 72 hours.
        DirectionDue = "direction-due",
        /// An immediate or urgent request still open.
        OpenRequest = "open-request",
        /// A request past its response deadline.
        OverdueRequest = "overdue-request",
        /// A deconfliction hit the reader's side has not acknowledged.
        UnacknowledgedHit = "unacknowledged-hit",
        /// A clash alert the reader's side has not acknowledged.
        UnacknowledgedClash = "unacknowledged-clash",
    }
}

impl ItemKind {
    /// The section the item belongs in.
    pub fn section(self) -> Section {
        match self {
            Self::Decision
            | Self::LeadChange
            | Self::Direction
            | Self::DeconflictionHit
            | Self::Clash
            | Self::Disruption
            | Self::Designation => Section::PreviousDay,
            Self::PlannedActivity | Self::ResponseDue | Self::DirectionDue => Section::NextDays,
            Self::OpenRequest
            | Self::OverdueRequest
            | Self::UnacknowledgedHit
            | Self::UnacknowledgedClash => Section::UrgentDemands,
        }
    }
}

/// What an item is about, for the significance rules to weigh.
#[derive(Debug, Clone, Default)]
pub struct ItemFacts {
    /// The threat areas of the request or operation concerned.
    pub threat_areas: Vec<ThreatArea>,
    /// The urgency of the request concerned.
    pub urgency: Option<Urgency>,
    /// The highest priority designation among the subjects concerned (for a change of
    /// designation, the higher of before and after).
    pub designation: Option<PriorityDesignation>,
    /// The grade of a disruption.
    pub disruption: Option<DisruptionGrade>,
    /// The kind of planned activity.
    pub activity: Option<ActivityKind>,
}

/// Why an item is in the pack: the rule of the significance policy, and how the item
/// meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// The rule (`always`, `threat-areas`, `urgencies`, `designations`,
    /// `disruption-grades`, `activity-kinds`).
    pub rule: String,
    /// How the item meets it, in plain words.
    pub because: String,
}

/// A link from an item to the record it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordLink {
    /// The kind of record (`request`, `operation`, `direction`, `subject`, `hit`,
    /// `clash`, `activity`).
    pub kind: String,
    /// Its identifier.
    pub id: String,
    /// Where the API serves it.
    pub href: String,
}

/// One entry of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// When it happened, starts or falls due.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// One line saying what it is.
    pub title: String,
    /// More, where there is more to say.
    pub detail: Option<String>,
    /// The organisations concerned that the reader may know of.
    #[schema(value_type = Vec<String>)]
    pub organisations: Vec<OrgCode>,
    /// The record it is about.
    pub record: RecordLink,
    /// The record's protective marking as printed.
    pub banner: String,
    /// Why it is in the pack.
    pub reasons: Vec<Reason>,
}

/// One section of a pack, its items in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackSection {
    /// Which section.
    pub section: Section,
    /// Its heading.
    pub heading: String,
    /// Its items.
    pub items: Vec<Item>,
}

/// A daily management pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Pack {
    /// The meeting's date.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Whose business it covers.
    #[schema(value_type = String)]
    pub scope: Scope,
    /// The hours it covers.
    pub window: PackWindow,
    /// Who it was made for (username): it holds only what they may see.
    pub prepared_for: String,
    /// Their organisation.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
    /// The version of the policy whose significance rules chose the items.
    pub policy_version: String,
    /// The banner of the whole pack: its highest marking.
    pub banner: String,
    /// The highest tier of what it holds.
    pub classification: Classification,
    /// The three sections, in order.
    pub sections: Vec<PackSection>,
}

impl Pack {
    /// Puts `items` into their sections, each in time order, under the pack's heading.
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        date: NaiveDate,
        scope: Scope,
        window: PackWindow,
        prepared_for: String,
        organisation: OrgCode,
        generated_at: Timestamp,
        policy_version: String,
        marking: &Marking,
        items: Vec<Item>,
    ) -> Self {
        let sections = Section::ALL
            .iter()
            .map(|&section| {
                let mut items: Vec<Item> = items
                    .iter()
                    .filter(|i| i.kind.section() == section)
                    .cloned()
                    .collect();
                items.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.title.cmp(&b.title)));
                PackSection {
                    section,
                    heading: section.heading().to_owned(),
                    items,
                }
            })
            .collect();
        Self {
            date,
            scope,
            window,
            prepared_for,
            organisation,
            generated_at,
            policy_version,
            banner: marking.banner(),
            classification: marking.classification,
            sections,
        }
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pack as Markdown, for mail and for records systems.
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let london = london_text;
        let _ = writeln!(out, "**{}**\n", self.banner);
        let _ = writeln!(
            out,
            "# Daily management pack: {} ({})\n",
            self.date.format("%A %-d %B %Y"),
            self.scope
        );
        let _ = writeln!(
            out,
            "Prepared for {} ({}) at {}. Covers {} to {} and ahead to {} (London). Significance policy {}.\n",
            self.prepared_for,
            self.organisation,
            london(self.generated_at),
            london(self.window.since),
            london(self.window.cutoff),
            london(self.window.until),
            self.policy_version
        );
        for section in &self.sections {
            let _ = writeln!(out, "## {}\n", section.heading);
            if section.items.is_empty() {
                let _ = writeln!(out, "Nothing significant.\n");
                continue;
            }
            for item in &section.items {
                let _ = writeln!(
                    out,
                    "- **{}** {} [{}]({}) `{}`",
                    london(item.at),
                    markdown_text(&item.title),
                    item.record.kind,
                    item.record.href,
                    item.banner
                );
                if let Some(detail) = &item.detail {
                    let _ = writeln!(out, "  - {}", markdown_text(detail));
                }
                let why: Vec<String> = item.reasons.iter().map(|r| r.because.clone()).collect();
                let _ = writeln!(out, "  - Why: {}", markdown_text(&why.join("; ")));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "**{}**", self.banner);
        out
    }
}

/// Text as Markdown shows it literally: the characters Markdown reads as markup are
/// escaped, and a line break becomes a space.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Significance
// ---------------------------------------------------------------------------------------

/// What makes an item significant enough for the pack: the `[significance]` table of the
/// policy file. An item is in the pack when at least one rule brings it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Significance {
    /// Kinds of item that are always significant.
    pub always: Vec<ItemKind>,
    /// Threat areas whose business is significant.
    pub threat_areas: Vec<ThreatArea>,
    /// Urgencies that are significant.
    pub urgencies: Vec<Urgency>,
    /// Designations that make business about a subject significant.
    pub designations: Vec<PriorityDesignation>,
    /// Disruption grades that are significant.
    pub disruption_grades: Vec<DisruptionGrade>,
    /// Kinds of planned activity that are significant.
    pub activity_kinds: Vec<ActivityKind>,
}

impl Default for Significance {
    /// The default: changes of lead, directions, hits, clashes, overdue requests and
    /// unacknowledged alerts always; otherwise immediate and urgent business, Priority
    /// and High Priority subjects (¶5), major and moderate disruptions, the threat areas
    /// where harm to people is most direct, and activity that puts officers through
    /// doors or among criminals.
    fn default() -> Self {
        Self {
            always: vec![
                ItemKind::LeadChange,
                ItemKind::Direction,
                ItemKind::DirectionDue,
                ItemKind::DeconflictionHit,
                ItemKind::Clash,
                ItemKind::OverdueRequest,
                ItemKind::UnacknowledgedHit,
                ItemKind::UnacknowledgedClash,
            ],
            threat_areas: vec![
                ThreatArea::Firearms,
                ThreatArea::KidnapAndExtortion,
                ThreatArea::ModernSlavery,
                ThreatArea::ChildSexualAbuse,
            ],
            urgencies: vec![Urgency::Immediate, Urgency::Urgent],
            designations: vec![
                PriorityDesignation::HighPriority,
                PriorityDesignation::Priority,
            ],
            disruption_grades: vec![DisruptionGrade::Major, DisruptionGrade::Moderate],
            activity_kinds: vec![
                ActivityKind::WarrantOrSearch,
                ActivityKind::Arrest,
                ActivityKind::ControlledDelivery,
                ActivityKind::CovertMeeting,
            ],
        }
    }
}

impl Significance {
    /// Why an item of `kind` about `facts` is significant: one reason per rule it meets,
    /// none when it is not significant.
    pub fn reasons(&self, kind: ItemKind, facts: &ItemFacts) -> Vec<Reason> {
        let mut reasons = vec![];
        let mut add = |rule: &str, because: String| {
            reasons.push(Reason {
                rule: rule.to_owned(),
                because,
            });
        };
        if self.always.contains(&kind) {
            add(
                "always",
                format!("every {} is significant", kind.as_str().replace('-', " ")),
            );
        }
        for area in &facts.threat_areas {
            if self.threat_areas.contains(area) {
                add(
                    "threat-areas",
                    format!("threat area {} is significant", area.as_str()),
                );
            }
        }
        if let Some(urgency) = facts.urgency.filter(|u| self.urgencies.contains(u)) {
            add("urgencies", format!("{} urgency", urgency.as_str()));
        }
        if let Some(level) = facts.designation.filter(|d| self.designations.contains(d)) {
            add(
                "designations",
                format!("concerns a subject designated {}", level.as_str()),
            );
        }
        if let Some(grade) = facts
            .disruption
            .filter(|g| self.disruption_grades.contains(g))
        {
            add(
                "disruption-grades",
                format!("{} disruption", grade.as_str()),
            );
        }
        if let Some(activity) = facts.activity.filter(|a| self.activity_kinds.contains(a)) {
            add(
                "activity-kinds",
                format!("{} is significant activity", activity.as_str()),
            );
        }
        reasons
    }
}

/// The highest of some designations, if any.
pub fn highest_designation(
    levels: impl IntoIterator<Item = PriorityDesignation>,
) -> Option<PriorityDesignation> {
    levels.into_iter().max_by_key(|d| match d {
        PriorityDesignation::HighPriority => 2,
        PriorityDesignation::Priority => 1,
        PriorityDesignation::Standard => 0,
    })
}

impl FromStr for Scope {
    type Err = FieldError;
    /// `national` or an organisation code (not checked against the registry: use
    /// [`Scope::parse`] for input).
    fn from_str(s: &str) -> Result<Self, FieldError> {
        if s == "national" {
            Ok(Self::National)
        } else {
            OrgCode::parse(s)
                .map(Self::Organisation)
                .map_err(|e| FieldError::new("scope", e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> ReferenceData {
        ReferenceData::builtin().expect("the built-in registry loads")
    }

    fn date(raw: &str) -> NaiveDate {
        parse_date("date", raw).expect("a date")
    }

    fn seven() -> NaiveTime {
        NaiveTime::from_hms_opt(7, 0, 0).expect("a time")
    }

    fn utc(raw: &str) -> Timestamp {
        Timestamp::from(
            chrono::DateTime::parse_from_rfc3339(raw)
                .expect("rfc3339")
                .with_timezone(&chrono::Utc),
        )
    }

    #[test]
    fn a_winter_pack_runs_from_seven_to_seven_utc_and_looks_three_days_ahead() {
        let w = PackWindow::for_date(date("2026-12-02"), seven());
        assert_eq!(w.cutoff, utc("2026-12-02T07:00:00Z"));
        assert_eq!(w.since, utc("2026-12-01T07:00:00Z"));
        assert_eq!(w.until, utc("2026-12-05T07:00:00Z"));
        assert!(
            w.in_previous(utc("2026-12-01T23:30:00Z")),
            "across midnight"
        );
        assert!(!w.in_previous(w.cutoff));
        assert!(w.in_next(w.cutoff));
        assert!(w.meets_next(utc("2026-12-02T05:00:00Z"), utc("2026-12-02T08:00:00Z")));
        assert!(!w.meets_next(utc("2026-12-02T05:00:00Z"), utc("2026-12-02T07:00:00Z")));
    }

    #[test]
    fn a_summer_pack_cuts_off_at_seven_london_which_is_six_utc() {
        let w = PackWindow::for_date(date("2026-07-01"), seven());
        assert_eq!(w.cutoff, utc("2026-07-01T06:00:00Z"));
    }

    #[test]
    fn the_day_the_clocks_go_forward_looks_back_24_elapsed_hours() {
        // 29 March 2026: 01:00 GMT becomes 02:00 BST.
        let w = PackWindow::for_date(date("2026-03-29"), seven());
        assert_eq!(w.cutoff, utc("2026-03-29T06:00:00Z"));
        assert_eq!(
            w.since,
            utc("2026-03-28T06:00:00Z"),
            "07:00 the day before was 07:00 GMT"
        );
        // A meeting set in the skipped hour moves past it.
        let odd = PackWindow::for_date(
            date("2026-03-29"),
            NaiveTime::from_hms_opt(1, 30, 0).expect("t"),
        );
        assert_eq!(odd.cutoff, utc("2026-03-29T01:30:00Z"));
    }

    #[test]
    fn the_day_the_clocks_go_back_takes_the_earlier_of_a_repeated_time() {
        // 25 October 2026: 02:00 BST becomes 01:00 GMT.
        let w = PackWindow::for_date(
            date("2026-10-25"),
            NaiveTime::from_hms_opt(1, 30, 0).expect("t"),
        );
        assert_eq!(w.cutoff, utc("2026-10-25T00:30:00Z"));
        let seven = PackWindow::for_date(date("2026-10-25"), seven());
        assert_eq!(seven.cutoff, utc("2026-10-25T07:00:00Z"));
    }

    #[test]
    fn the_first_and_last_dates_there_are_make_a_window_without_panicking() {
        for date in [NaiveDate::MIN, NaiveDate::MAX] {
            let w = PackWindow::for_date(date, seven());
            assert!(w.since <= w.cutoff && w.cutoff <= w.until);
        }
    }

    #[test]
    fn the_pack_covering_now_is_todays_before_the_meeting_and_tomorrows_after() {
        assert_eq!(
            PackWindow::date_covering(utc("2026-12-02T06:59:00Z"), seven()),
            date("2026-12-02")
        );
        assert_eq!(
            PackWindow::date_covering(utc("2026-12-02T07:00:00Z"), seven()),
            date("2026-12-03")
        );
    }

    #[test]
    fn dates_and_times_that_are_not_are_refused_naming_the_field() {
        assert_eq!(
            parse_date("date", "2026-02-30").expect_err("refused").field,
            "date"
        );
        assert_eq!(
            parse_date("date", "yesterday").expect_err("refused").field,
            "date"
        );
        assert_eq!(
            parse_meeting_time("at", "25:00")
                .expect_err("refused")
                .field,
            "at"
        );
    }

    #[test]
    fn a_scope_is_national_or_a_known_organisation() {
        let registry = registry();
        assert_eq!(Scope::parse("national", &registry), Ok(Scope::National));
        let err = Scope::parse("atlantis", &registry).expect_err("refused");
        assert_eq!(err.field, "scope");
        let rocu = registry
            .organisations
            .iter()
            .find(|o| o.kind == OrganisationKind::Rocu)
            .expect("a ROCU");
        assert_eq!(
            Scope::parse(rocu.code.as_str(), &registry),
            Ok(Scope::Organisation(rocu.code.clone()))
        );
    }

    #[test]
    fn a_rocu_scope_takes_in_its_region_and_no_other() {
        let registry = registry();
        let rocu = registry
            .organisations
            .iter()
            .find(|o| o.kind == OrganisationKind::Rocu && o.region.is_some())
            .expect("a ROCU with a region");
        let scope = Scope::Organisation(rocu.code.clone());
        let in_region = registry
            .organisations
            .iter()
            .find(|o| o.kind == OrganisationKind::TerritorialPolice && o.region == rocu.region)
            .expect("a force in the region");
        let elsewhere = registry
            .organisations
            .iter()
            .find(|o| {
                o.kind == OrganisationKind::TerritorialPolice
                    && o.region.is_some()
                    && o.region != rocu.region
            })
            .expect("a force elsewhere");
        assert!(scope.covers(&rocu.code, &registry));
        assert!(scope.covers(&in_region.code, &registry));
        assert!(!scope.covers(&elsewhere.code, &registry));
        assert!(Scope::National.covers(&elsewhere.code, &registry));
        // A force's own scope is the force alone.
        let force = Scope::Organisation(in_region.code.clone());
        assert!(!force.covers(&rocu.code, &registry));
    }

    #[test]
    fn the_national_agency_defaults_to_the_national_scope() {
        let registry = registry();
        let agency = registry
            .organisations
            .iter()
            .find(|o| o.kind == OrganisationKind::NationalAgency)
            .expect("the agency");
        assert_eq!(Scope::default_for(&agency.code, &registry), Scope::National);
    }

    #[test]
    fn every_item_kind_belongs_to_one_section() {
        for section in Section::ALL {
            assert!(
                ItemKind::ALL.iter().any(|k| k.section() == *section),
                "{section} has kinds"
            );
        }
    }

    #[test]
    fn significance_gives_a_reason_per_rule_met_and_none_for_routine_business() {
        let policy = Significance::default();
        let routine = ItemFacts {
            threat_areas: vec![ThreatArea::Fraud],
            urgency: Some(Urgency::Routine),
            designation: Some(PriorityDesignation::Standard),
            ..ItemFacts::default()
        };
        assert!(policy.reasons(ItemKind::Decision, &routine).is_empty());

        let urgent_firearms = ItemFacts {
            threat_areas: vec![ThreatArea::Firearms, ThreatArea::Drugs],
            urgency: Some(Urgency::Immediate),
            designation: Some(PriorityDesignation::HighPriority),
            ..ItemFacts::default()
        };
        let rules: Vec<String> = policy
            .reasons(ItemKind::Decision, &urgent_firearms)
            .into_iter()
            .map(|r| r.rule)
            .collect();
        assert_eq!(rules, ["threat-areas", "urgencies", "designations"]);

        let lead = policy.reasons(ItemKind::LeadChange, &ItemFacts::default());
        assert_eq!(lead[0].rule, "always");
        assert_eq!(lead[0].because, "every lead change is significant");

        let minor = ItemFacts {
            disruption: Some(DisruptionGrade::Minor),
            ..ItemFacts::default()
        };
        assert!(policy.reasons(ItemKind::Disruption, &minor).is_empty());
        let major = ItemFacts {
            disruption: Some(DisruptionGrade::Major),
            ..ItemFacts::default()
        };
        assert_eq!(
            policy.reasons(ItemKind::Disruption, &major)[0].because,
            "major disruption"
        );

        let surveillance = ItemFacts {
            activity: Some(ActivityKind::Surveillance),
            ..ItemFacts::default()
        };
        assert!(
            policy
                .reasons(ItemKind::PlannedActivity, &surveillance)
                .is_empty()
        );
        let warrant = ItemFacts {
            activity: Some(ActivityKind::WarrantOrSearch),
            ..ItemFacts::default()
        };
        assert_eq!(policy.reasons(ItemKind::PlannedActivity, &warrant).len(), 1);
    }

    #[test]
    fn markdown_escapes_what_users_typed() {
        assert_eq!(markdown_text("a *b* [c](d)\n#e"), r"a \*b\* \[c\](d) \#e");
    }

    #[test]
    fn the_highest_designation_wins() {
        assert_eq!(
            highest_designation([
                PriorityDesignation::Standard,
                PriorityDesignation::HighPriority,
                PriorityDesignation::Priority
            ]),
            Some(PriorityDesignation::HighPriority)
        );
        assert_eq!(highest_designation([]), None);
    }
}
