//! Event deconfliction (DESIGN part 8; the "co-ordination and deconfliction services" of
//! Annex A): planned operational activity — where, when, what kind — and the rules that
//! decide when two organisations' activity clashes, what each side is told, and when an
//! alert no one has acknowledged goes to the 24/7 contact.
//!
//! Geometry is measured elsewhere (the `matching` crate's geodesic and R-tree); these
//! are the rules applied to the measurements.

use crate::deconfliction::{DeconflictionRef, PointOfContact};
use crate::operation::OperationId;
use crate::people::{FieldError, UserId, text_enum};
use crate::registry::OrgCode;
use crate::text::{bounded_text, uuid_id};
use crate::time::Timestamp;
use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use utoipa::ToSchema;

uuid_id! {
    /// A planned activity's identifier.
    ActivityId, "activity_id"
}

uuid_id! {
    /// A clash's identifier.
    ClashId, "clash_id"
}

text_enum! {
    /// What kind of operational activity is planned.
    ActivityKind, "kind" {
        /// Executing a warrant, or a search.
        WarrantOrSearch = "warrant-or-search",
        /// An arrest.
        Arrest = "arrest",
        /// Surveillance.
        Surveillance = "surveillance",
        /// A controlled delivery.
        ControlledDelivery = "controlled-delivery",
        /// A covert meeting.
        CovertMeeting = "covert-meeting",
        /// A test purchase.
        TestPurchase = "test-purchase",
        /// Anything else.
        Other = "other",
    }
}

impl ActivityKind {
    /// The kind in plain English, as an alert or a pack prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::WarrantOrSearch => "warrant or search",
            Self::Arrest => "arrest",
            Self::Surveillance => "surveillance",
            Self::ControlledDelivery => "controlled delivery",
            Self::CovertMeeting => "covert meeting",
            Self::TestPurchase => "test purchase",
            Self::Other => "other activity",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Place
// ---------------------------------------------------------------------------------------

/// The largest accuracy radius accepted, in metres: beyond it a position says too
/// little to deconflict against.
pub const MAX_ACCURACY_M: u32 = 5_000;

/// A WGS84 position, in degrees. Latitude −90 to 90, longitude −180 to 180; a position
/// at a pole or on the antimeridian is as good as any other.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, try_from = "PositionInput")]
pub struct Position {
    /// Degrees north (negative: south).
    pub latitude: f64,
    /// Degrees east (negative: west).
    pub longitude: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionInput {
    latitude: f64,
    longitude: f64,
}

impl TryFrom<PositionInput> for Position {
    type Error = FieldError;
    fn try_from(input: PositionInput) -> Result<Self, FieldError> {
        Position::new(input.latitude, input.longitude)
    }
}

impl Position {
    /// Checks the ranges.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, FieldError> {
        if !(latitude.is_finite() && (-90.0..=90.0).contains(&latitude)) {
            return Err(FieldError::new(
                "latitude",
                format!("{latitude} is not a latitude: give degrees from -90 to 90 (WGS84)"),
            ));
        }
        if !(longitude.is_finite() && (-180.0..=180.0).contains(&longitude)) {
            return Err(FieldError::new(
                "longitude",
                format!("{longitude} is not a longitude: give degrees from -180 to 180 (WGS84)"),
            ));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }
}

bounded_text! {
    /// The address of a place, as text (never geocoded: the position is what counts).
    AddressText, "place.address", 300, false, "Unit 4, Heartlands Trading Estate, Birmingham"
}

/// A UK postcode, stored in its usual form (`B7 5QT`): outward code, a space, inward code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "B7 5QT")]
pub struct Postcode(String);

impl Postcode {
    /// Parses a postcode written with or without the space, in any case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let refuse = || {
            FieldError::new(
                "place.postcode",
                format!("`{}` is not a UK postcode (such as B7 5QT)", raw.trim()),
            )
        };
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(refuse());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let b = inward.as_bytes();
        let inward_ok =
            b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic();
        // Outward: a letter or two, then a digit, then an optional digit or letter
        // (A9, A99, AA9, AA99, A9A, AA9A).
        let o = outward.as_bytes();
        let letters = o.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let rest = &o[letters..];
        let outward_ok = (1..=2).contains(&letters)
            && !rest.is_empty()
            && rest.len() <= 2
            && rest[0].is_ascii_digit()
            && rest.get(1).is_none_or(|c| c.is_ascii_alphanumeric());
        if inward_ok && outward_ok {
            Ok(Self(format!("{outward} {inward}")))
        } else {
            Err(refuse())
        }
    }

    /// The postcode as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Postcode {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, FieldError> {
        Self::parse(&value)
    }
}

impl From<Postcode> for String {
    fn from(value: Postcode) -> Self {
        value.0
    }
}

/// Where an activity happens: a position (required: no geocoding service is asked),
/// how accurate it is, and the address and postcode as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, try_from = "PlaceInput")]
pub struct Place {
    /// The position.
    pub position: Position,
    /// How far from the position the activity may really be, in metres (0 to 5,000).
    pub accuracy_m: u32,
    /// The address as text.
    pub address: Option<AddressText>,
    /// The postcode.
    pub postcode: Option<Postcode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceInput {
    position: Position,
    #[serde(default)]
    accuracy_m: u32,
    #[serde(default)]
    address: Option<AddressText>,
    #[serde(default)]
    postcode: Option<Postcode>,
}

impl TryFrom<PlaceInput> for Place {
    type Error = FieldError;
    fn try_from(input: PlaceInput) -> Result<Self, FieldError> {
        if input.accuracy_m > MAX_ACCURACY_M {
            return Err(FieldError::new(
                "accuracy_m",
                format!(
                    "{} m is too vague to deconflict against; at most {MAX_ACCURACY_M} m",
                    input.accuracy_m
                ),
            ));
        }
        Ok(Self {
            position: input.position,
            accuracy_m: input.accuracy_m,
            address: input.address,
            postcode: input.postcode,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// The longest window accepted: a plan longer than a fortnight is several plans.
pub const MAX_WINDOW: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// When an activity happens: from `starts_at` up to `ends_at` (instants; a window may
/// cross midnight or a change of the clocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, try_from = "WindowInput")]
pub struct TimeWindow {
    /// When it starts.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// When it ends.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowInput {
    starts_at: Timestamp,
    ends_at: Timestamp,
}

impl TryFrom<WindowInput> for TimeWindow {
    type Error = FieldError;
    fn try_from(input: WindowInput) -> Result<Self, FieldError> {
        TimeWindow::new(input.starts_at, input.ends_at)
    }
}

impl TimeWindow {
    /// Checks that it ends after it starts, and lasts at most [`MAX_WINDOW`].
    pub fn new(starts_at: Timestamp, ends_at: Timestamp) -> Result<Self, FieldError> {
        if ends_at <= starts_at {
            return Err(FieldError::new("ends_at", "must be after starts_at"));
        }
        let length = ends_at.as_micros() - starts_at.as_micros();
        if length > MAX_WINDOW.as_micros() as i64 {
            return Err(FieldError::new(
                "ends_at",
                "the window is longer than 14 days; record each phase as its own activity",
            ));
        }
        Ok(Self { starts_at, ends_at })
    }

    /// Whether the two windows overlap once each is widened by `margin` — activity an
    /// hour apart at one address can still meet on the doorstep. Windows that only
    /// touch, with no margin, do not overlap.
    pub fn meets(&self, other: &TimeWindow, margin: Duration) -> bool {
        let pad = margin.as_micros() as i64;
        self.starts_at.as_micros() < other.ends_at.as_micros().saturating_add(pad)
            && other.starts_at.as_micros() < self.ends_at.as_micros().saturating_add(pad)
    }

    /// The window as people in the UK read it: `Sat 24 Oct 2026 22:00 – Sun 25 Oct 01:30
    /// (GMT)`, in Europe/London time with the zone of each end.
    pub fn in_london(&self) -> String {
        let start = London.from_utc_datetime(&self.starts_at.to_datetime().naive_utc());
        let end = London.from_utc_datetime(&self.ends_at.to_datetime().naive_utc());
        let end_format = if start.date_naive() == end.date_naive() {
            "%H:%M %Z"
        } else {
            "%a %-d %b %H:%M %Z"
        };
        format!(
            "{} – {}",
            start.format("%a %-d %b %Y %H:%M %Z"),
            end.format(end_format)
        )
    }
}

/// A date and time on a UK clock (`2026-10-25T01:30`), as an instant. A time the clocks
/// skip (spring) does not exist and is refused; a time they pass twice (autumn) is
/// refused unless given with its offset, as RFC 3339 (`2026-10-25T01:30:00+01:00`).
pub fn london_time(field: &'static str, raw: &str) -> Result<Timestamp, FieldError> {
    let raw = raw.trim();
    if let Ok(exact) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(Timestamp::from(exact.with_timezone(&chrono::Utc)));
    }
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            FieldError::new(
                field,
                format!("`{raw}` is not a date and time such as 2026-11-03T06:00"),
            )
        })?;
    match London.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(Timestamp::from(t.with_timezone(&chrono::Utc))),
        LocalResult::Ambiguous(first, second) => Err(FieldError::new(
            field,
            format!(
                "{raw} happens twice in London as the clocks go back: give the offset ({} or {})",
                first.format("%Y-%m-%dT%H:%M%:z"),
                second.format("%Y-%m-%dT%H:%M%:z")
            ),
        )),
        LocalResult::None => Err(FieldError::new(
            field,
            format!("{raw} does not exist in London: the clocks go forward past it"),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------

/// How event deconfliction is tuned. Set by the operator; the defaults suit a UK
/// force area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClashRules {
    /// Activity closer than this, in metres (allowing for each position's accuracy),
    /// can clash.
    pub distance_m: u32,
    /// How far apart in time two windows may be and still clash, in minutes.
    pub margin_minutes: u32,
    /// Activity entered with less notice than this, in minutes, is flagged.
    pub advance_notice_minutes: u32,
    /// How long an alert may go unacknowledged before it goes to the organisation's
    /// 24/7 contact, in minutes.
    pub escalate_after_minutes: u32,
}

impl Default for ClashRules {
    fn default() -> Self {
        Self {
            distance_m: 500,
            margin_minutes: 60,
            advance_notice_minutes: 60,
            escalate_after_minutes: 15,
        }
    }
}

impl ClashRules {
    /// The margin as a duration.
    pub fn margin(&self) -> Duration {
        Duration::from_secs(u64::from(self.margin_minutes) * 60)
    }

    /// The escalation delay as a duration.
    pub fn escalate_after(&self) -> Duration {
        Duration::from_secs(u64::from(self.escalate_after_minutes) * 60)
    }

    /// Whether two places `distance_m` apart (between their positions) can be the same
    /// ground: the nearest their accuracy allows is within the clash distance.
    pub fn near(&self, distance_m: f64, a: &Place, b: &Place) -> bool {
        distance_m - f64::from(a.accuracy_m) - f64::from(b.accuracy_m) <= f64::from(self.distance_m)
    }

    /// Whether two activities clash: different organisations, near each other, and
    /// meeting in time. Activity of one organisation never clashes with its own (it
    /// deconflicts its own plans).
    pub fn clash(&self, distance_m: f64, a: &Footprint<'_>, b: &Footprint<'_>) -> bool {
        a.organisation != b.organisation
            && self.near(distance_m, a.place, b.place)
            && a.window.meets(b.window, self.margin())
    }

    /// Whether activity entered at `entered_at` for `window` came with too little
    /// notice for anyone else to deconflict against it.
    pub fn late_notice(&self, entered_at: Timestamp, window: &TimeWindow) -> bool {
        let notice = window.starts_at.as_micros() - entered_at.as_micros();
        notice < i64::from(self.advance_notice_minutes) * 60_000_000
    }

    /// Whether an alert raised at `raised_at` and still unacknowledged at `now` goes to
    /// the 24/7 contact.
    pub fn escalates(&self, raised_at: Timestamp, now: Timestamp) -> bool {
        now.as_micros() - raised_at.as_micros() >= self.escalate_after().as_micros() as i64
    }
}

/// What the rules need of an activity.
#[derive(Debug, Clone, Copy)]
pub struct Footprint<'a> {
    /// Whose.
    pub organisation: &'a OrgCode,
    /// Where.
    pub place: &'a Place,
    /// When.
    pub window: &'a TimeWindow,
}

text_enum! {
    /// How far apart two clashing activities are, as told to each side: a band, never
    /// the other side's position.
    DistanceBand, "distance_band" {
        /// Under 100 m: the same building or street.
        Under100m = "under-100m",
        /// 100 to 250 m.
        From100To250m = "100m-250m",
        /// 250 to 500 m.
        From250To500m = "250m-500m",
        /// 500 m to 1 km.
        From500mTo1km = "500m-1km",
        /// 1 to 2 km.
        From1To2km = "1km-2km",
        /// 2 km or more.
        Over2km = "over-2km",
    }
}

impl DistanceBand {
    /// The band of a distance between positions, in metres.
    pub fn of(distance_m: f64) -> Self {
        match distance_m {
            d if d < 100.0 => Self::Under100m,
            d if d < 250.0 => Self::From100To250m,
            d if d < 500.0 => Self::From250To500m,
            d if d < 1_000.0 => Self::From500mTo1km,
            d if d < 2_000.0 => Self::From1To2km,
            _ => Self::Over2km,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------

bounded_text! {
    /// What the activity is about, for the owner's own people.
    ActivityTitle, "title", 200, false, "Warrant, 14 Heartlands Road"
}

text_enum! {
    /// Where a planned activity stands.
    ActivityState, "state" {
        /// Planned: it takes part in deconfliction.
        Planned = "planned",
        /// Cancelled: it no longer clashes with anything.
        Cancelled = "cancelled",
    }
}

/// Planned operational activity, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlannedActivity {
    /// Its identifier.
    pub id: ActivityId,
    /// Its deconfliction reference number (the same series as subject registrations).
    pub reference: DeconflictionRef,
    /// The organisation carrying it out.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// The operation it belongs to, if any.
    pub operation: Option<OperationId>,
    /// What kind of activity.
    pub kind: ActivityKind,
    /// What it is, in the owner's words.
    pub title: ActivityTitle,
    /// Where.
    pub place: Place,
    /// When.
    pub window: TimeWindow,
    /// Who to call about it.
    pub point_of_contact: PointOfContact,
    /// Whether it is covert: the other side of a clash is then told to call the 24/7
    /// watch rather than given this point of contact.
    pub covert: bool,
    /// Whether it was entered with less notice than the rules ask.
    pub late_notice: bool,
    /// Planned or cancelled.
    pub state: ActivityState,
    /// Who entered it.
    pub entered_by: UserId,
    /// When it was entered.
    pub entered_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl PlannedActivity {
    /// What the clash rules need of it.
    pub fn footprint(&self) -> Footprint<'_> {
        Footprint {
            organisation: &self.organisation,
            place: &self.place,
            window: &self.window,
        }
    }
}

/// What one side of a clash is told about the other's activity: its kind, its time
/// window, how far away it is as a band, and who to call — nothing of its purpose, its
/// operation or its exact place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OtherActivity {
    /// What kind of activity.
    pub kind: ActivityKind,
    /// When.
    pub window: TimeWindow,
    /// How far from the reader's own activity.
    pub distance_band: DistanceBand,
    /// Who to call; absent when the activity is covert (call the 24/7 watch, which
    /// knows both sides).
    pub point_of_contact: Option<PointOfContact>,
    /// Whether contact goes through the 24/7 watch.
    pub through_the_watch: bool,
}

/// What the owner of one activity is told about `theirs`, `distance_m` away.
pub fn told_of(theirs: &PlannedActivity, distance_m: f64) -> OtherActivity {
    OtherActivity {
        kind: theirs.kind,
        window: theirs.window,
        distance_band: DistanceBand::of(distance_m),
        point_of_contact: (!theirs.covert).then(|| theirs.point_of_contact.clone()),
        through_the_watch: theirs.covert,
    }
}

text_enum! {
    /// How the 24/7 watch closed a clash.
    ClashResolution, "resolution" {
        /// The two sides have spoken and the plans no longer conflict.
        Deconflicted = "deconflicted",
        /// One side moved or re-timed its activity.
        Rescheduled = "rescheduled",
        /// It was not a real conflict (the same operation, a joint plan...).
        NoConflict = "no-conflict",
    }
}

bounded_text! {
    /// How a clash was resolved, in the watch officer's words.
    ClashNote, "note", 2000, true, "Spoke to both SIOs; Kent moved its entry to 07:00."
}

impl fmt::Display for PlannedActivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}), {}",
            self.reference,
            self.title,
            self.kind.label(),
            self.window.in_london()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deconfliction::{ContactDetail, ContactName};

    fn at(raw: &str) -> Timestamp {
        london_time("t", raw).expect("a time")
    }

    fn place(lat: f64, lon: f64, accuracy_m: u32) -> Place {
        Place {
            position: Position::new(lat, lon).expect("valid"),
            accuracy_m,
            address: None,
            postcode: None,
        }
    }

    fn window(from: &str, to: &str) -> TimeWindow {
        TimeWindow::new(at(from), at(to)).expect("valid")
    }

    #[test]
    fn positions_out_of_range_are_refused_by_name() {
        assert_eq!(
            Position::new(90.5, 0.0).expect_err("refused").field,
            "latitude"
        );
        assert_eq!(
            Position::new(0.0, -180.01).expect_err("refused").field,
            "longitude"
        );
        assert_eq!(
            Position::new(f64::NAN, 0.0).expect_err("refused").field,
            "latitude"
        );
        assert!(
            Position::new(-90.0, 180.0).is_ok(),
            "the poles and the antimeridian exist"
        );
        let err = serde_json::from_str::<Place>(
            r#"{"position":{"latitude":52.4,"longitude":-1.9},"accuracy_m":9000}"#,
        )
        .expect_err("refused");
        assert!(err.to_string().contains("accuracy_m"), "{err}");
    }

    #[test]
    fn postcodes_are_read_in_any_case_and_spacing() {
        for (raw, stored) in [
            ("b7 5qt", "B7 5QT"),
            ("SW1A1AA", "SW1A 1AA"),
            ("M1 1AE", "M1 1AE"),
            ("EC1A 1BB", "EC1A 1BB"),
            ("cr2 6xh", "CR2 6XH"),
        ] {
            assert_eq!(Postcode::parse(raw).expect(raw).as_str(), stored);
        }
        for bad in ["", "B7", "12345", "B7 5Q1", "BBB7 5QT", "B7 5QTX", "Б7 5QT"] {
            assert_eq!(
                Postcode::parse(bad).expect_err("refused").field,
                "place.postcode",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_window_must_end_after_it_starts_and_not_run_for_weeks() {
        let t = at("2026-11-03T06:00");
        assert_eq!(TimeWindow::new(t, t).expect_err("refused").field, "ends_at");
        assert!(TimeWindow::new(t, at("2026-11-30T06:00")).is_err());
    }

    /// Windows crossing midnight overlap as instants do; the margin bridges a gap.
    #[test]
    fn windows_meet_across_midnight_and_within_the_margin() {
        let night = window("2026-11-03T22:00", "2026-11-04T02:00");
        let early = window("2026-11-04T01:00", "2026-11-04T03:00");
        let dawn = window("2026-11-04T05:00", "2026-11-04T07:00");
        let hour = Duration::from_secs(3600);
        assert!(night.meets(&early, Duration::ZERO));
        assert!(!night.meets(&dawn, hour), "three hours apart");
        assert!(night.meets(&dawn, Duration::from_secs(4 * 3600)));
        let touching = window("2026-11-04T02:00", "2026-11-04T03:00");
        assert!(!night.meets(&touching, Duration::ZERO));
        assert!(night.meets(&touching, hour));
    }

    /// 25 October 2026: at 02:00 BST the clocks go back to 01:00 GMT. A window from
    /// 00:30 to 03:30 lasts four hours, and 01:30 happens twice.
    #[test]
    fn the_clocks_going_back_and_forward_are_understood() {
        let autumn = window("2026-10-25T00:30", "2026-10-25T03:30");
        assert_eq!(
            autumn.ends_at.as_micros() - autumn.starts_at.as_micros(),
            4 * 3_600_000_000
        );
        let twice = london_time("starts_at", "2026-10-25T01:30").expect_err("refused");
        assert!(twice.message.contains("twice"), "{}", twice.message);
        assert!(twice.message.contains("+01:00") && twice.message.contains("+00:00"));
        let gmt = london_time("starts_at", "2026-10-25T01:30:00+00:00").expect("with offset");
        assert!(autumn.meets(
            &TimeWindow::new(gmt, gmt.plus(chrono::Duration::minutes(10))).expect("valid"),
            Duration::ZERO
        ));
        let skipped = london_time("starts_at", "2026-03-29T01:30").expect_err("refused");
        assert!(
            skipped.message.contains("does not exist"),
            "{}",
            skipped.message
        );
        assert_eq!(autumn.in_london(), "Sun 25 Oct 2026 00:30 BST – 03:30 GMT");
        let overnight = window("2026-11-03T22:00", "2026-11-04T02:00");
        assert_eq!(
            overnight.in_london(),
            "Tue 3 Nov 2026 22:00 GMT – Wed 4 Nov 02:00 GMT"
        );
    }

    #[test]
    fn nearness_allows_for_each_positions_accuracy() {
        let rules = ClashRules::default();
        let exact = place(52.48, -1.90, 0);
        let vague = place(52.48, -1.90, 300);
        assert!(rules.near(150.0, &exact, &exact));
        assert!(!rules.near(700.0, &exact, &exact));
        assert!(rules.near(700.0, &exact, &vague), "could be 400 m apart");
        assert!(!rules.near(5_000.0, &vague, &vague));
    }

    #[test]
    fn activity_clashes_only_with_another_organisations() {
        let rules = ClashRules::default();
        let (kent, met) = (
            OrgCode::parse("kent").expect("code"),
            OrgCode::parse("mps").expect("code"),
        );
        let here = place(51.27, 0.52, 0);
        let when = window("2026-11-03T06:00", "2026-11-03T09:00");
        let a = Footprint {
            organisation: &kent,
            place: &here,
            window: &when,
        };
        let b = Footprint {
            organisation: &met,
            place: &here,
            window: &when,
        };
        assert!(rules.clash(150.0, &a, &b));
        assert!(
            !rules.clash(150.0, &a, &a),
            "an organisation deconflicts its own plans"
        );
        assert!(!rules.clash(5_000.0, &a, &b), "5 km apart");
        let next_day = window("2026-11-04T06:00", "2026-11-04T09:00");
        let c = Footprint {
            organisation: &met,
            place: &here,
            window: &next_day,
        };
        assert!(!rules.clash(150.0, &a, &c), "a day apart");
    }

    #[test]
    fn short_notice_is_flagged_and_silence_escalates() {
        let rules = ClashRules::default();
        let when = window("2026-11-03T06:00", "2026-11-03T09:00");
        assert!(rules.late_notice(at("2026-11-03T05:30"), &when));
        assert!(!rules.late_notice(at("2026-11-03T04:59"), &when));
        assert!(
            rules.late_notice(at("2026-11-03T07:00"), &when),
            "already started"
        );
        let raised = at("2026-11-03T05:00");
        assert!(!rules.escalates(raised, at("2026-11-03T05:14")));
        assert!(rules.escalates(raised, at("2026-11-03T05:15")));
    }

    #[test]
    fn distances_are_told_as_bands() {
        assert_eq!(DistanceBand::of(0.0), DistanceBand::Under100m);
        assert_eq!(DistanceBand::of(150.0), DistanceBand::From100To250m);
        assert_eq!(DistanceBand::of(499.9), DistanceBand::From250To500m);
        assert_eq!(DistanceBand::of(1_500.0), DistanceBand::From1To2km);
        assert_eq!(DistanceBand::of(9_000.0), DistanceBand::Over2km);
    }

    #[test]
    fn the_other_side_learns_kind_time_band_and_contact_and_no_more() {
        let theirs = PlannedActivity {
            id: ActivityId::new(),
            reference: DeconflictionRef::new(2026, 7),
            organisation: OrgCode::parse("mps").expect("code"),
            operation: None,
            kind: ActivityKind::Arrest,
            title: ActivityTitle::parse("Arrest of the courier").expect("valid"),
            place: place(51.5, -0.1, 10),
            window: window("2026-11-03T06:00", "2026-11-03T09:00"),
            point_of_contact: PointOfContact {
                name: ContactName::parse("DS Okafor").expect("valid"),
                detail: ContactDetail::parse("020 7230 1212").expect("valid"),
            },
            covert: false,
            late_notice: false,
            state: ActivityState::Planned,
            entered_by: UserId::new(),
            entered_at: at("2026-11-01T09:00"),
            updated_at: at("2026-11-01T09:00"),
        };
        let told = told_of(&theirs, 150.0);
        assert_eq!(told.kind, ActivityKind::Arrest);
        assert_eq!(told.distance_band, DistanceBand::From100To250m);
        assert_eq!(
            told.point_of_contact.as_ref().map(|p| p.name.as_str()),
            Some("DS Okafor")
        );
        let text = serde_json::to_string(&told).expect("serialises");
        for secret in ["courier", "51.5", "mps", "DCN-"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let covert = PlannedActivity {
            covert: true,
            ..theirs
        };
        let told = told_of(&covert, 150.0);
        assert!(told.point_of_contact.is_none() && told.through_the_watch);
    }
}
