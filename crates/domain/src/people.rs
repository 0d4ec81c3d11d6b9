//! People who use Concordat: their identity, organisation, roles and clearance.

use crate::registry::OrgCode;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// A bad value for a field of a person, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field in error, as the API names it (`username`, `roles`, ...).
    pub field: &'static str,
    /// What is wrong, in plain English.
    pub message: String,
}

impl FieldError {
    /// An error for `field` saying `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

crate::text::uuid_id! {
    /// A user's identifier, a UUID (version 7, so identifiers sort by creation).
    UserId, "id"
}

/// A sign-in name: 3 to 64 characters of lower-case ASCII letters, digits, `.`, `_`
/// and `-`, starting with a letter. Stored lower-case so that sign-in is not
/// case-sensitive and no two accounts differ only by case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "j.smith")]
pub struct Username(String);

impl Username {
    /// Parses a sign-in name, folding it to lower case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim().to_ascii_lowercase();
        let len = name.chars().count();
        if !(3..=64).contains(&len) {
            return Err(FieldError::new(
                "username",
                "must be 3 to 64 characters long",
            ));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(FieldError::new("username", "must start with a letter"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(FieldError::new(
                "username",
                "may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(name))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as shown to others: 1 to 120 characters, no control characters,
/// surrounding white space removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "DS Jane Smith")]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let len = name.chars().count();
        if !(1..=120).contains(&len) {
            return Err(FieldError::new(
                "display_name",
                "must be 1 to 120 characters long",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "display_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

/// Declares a closed set of values stored and exchanged as kebab-case strings.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value as stored and exchanged.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(FieldError::new(
                        $field,
                        format!(
                            "`{other}` is not one of: {}",
                            Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// What a user may do. A user holds one or more roles; each grants its own
    /// permissions and none implies another.
    Role, "roles" {
        /// Manages organisations' users, tokens and reference data, and reads the audit log.
        Administrator = "administrator",
        /// Raises, routes, triages and decides requests for tasking and assistance.
        TaskingOfficer = "tasking-officer",
        /// Registers subjects and planned activity for deconfliction.
        CaseOfficer = "case-officer",
        /// Maintains OCG mapping, assessments and intelligence records.
        Analyst = "analyst",
        /// Chairs or runs the secretariat of a tasking and coordination group.
        GroupChair = "group-chair",
        /// Takes senior decisions and directions.
        SeniorDecisionMaker = "senior-decision-maker",
        /// Reads what their organisation may see, and changes nothing.
        Viewer = "viewer",
        /// Staffs a 24/7 control room: receives its organisation's escalated
        /// officer-safety alerts and enters planned activity for officers without access;
        /// in the national agency, keeps the watch queue over every clash.
        ControlRoom = "control-room",
    }
}

/// A non-empty set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<Role>", into = "Vec<Role>")]
#[schema(value_type = Vec<Role>)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    /// A set of roles; at least one is required.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Self, FieldError> {
        let set: BTreeSet<Role> = roles.into_iter().collect();
        if set.is_empty() {
            return Err(FieldError::new("roles", "at least one role is required"));
        }
        Ok(Self(set))
    }

    /// Parses a comma-separated list of role names, as the command line and the store write it.
    pub fn parse_list(text: &str) -> Result<Self, FieldError> {
        let roles = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Role::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles)
    }

    /// Whether the set holds `role`.
    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// The roles, in order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }
}

impl TryFrom<Vec<Role>> for Roles {
    type Error = FieldError;
    fn try_from(value: Vec<Role>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Roles> for Vec<Role> {
    fn from(value: Roles) -> Self {
        value.0.into_iter().collect()
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Role::as_str).collect();
        f.write_str(&names.join(","))
    }
}

text_enum! {
    /// The Government Security Classification tiers. OFFICIAL-SENSITIVE is OFFICIAL
    /// with a handling caveat, not a tier of its own.
    Classification, "classification" {
        /// OFFICIAL: the routine business of law enforcement.
        Official = "official",
        /// SECRET: very sensitive information, such as that about serious crime.
        Secret = "secret",
        /// TOP SECRET: the most sensitive information.
        TopSecret = "top-secret",
    }
}

text_enum! {
    /// A person's national security vetting level. It bounds the classification
    /// of what they may see (see [`Clearance::permits`]).
    Clearance, "clearance" {
        /// Baseline Personnel Security Standard.
        Bpss = "bpss",
        /// Counter-Terrorist Check.
        Ctc = "ctc",
        /// Security Check.
        Sc = "sc",
        /// Developed Vetting.
        Dv = "dv",
    }
}

impl Clearance {
    /// The highest classification this vetting level gives access to: BPSS and CTC to
    /// OFFICIAL, SC to SECRET, DV to TOP SECRET.
    pub fn highest(self) -> Classification {
        match self {
            Self::Bpss | Self::Ctc => Classification::Official,
            Self::Sc => Classification::Secret,
            Self::Dv => Classification::TopSecret,
        }
    }

    /// Whether this vetting level gives access to material of `classification`.
    pub fn permits(self, classification: Classification) -> bool {
        classification <= self.highest()
    }
}

text_enum! {
    /// Whether a senior decision-maker holds the Director General's delegated
    /// authority to issue directions (¶9).
    DgAuthority, "dg_authority" {
        /// No delegated authority.
        None = "none",
        /// Holds the Director General's delegated authority.
        Delegated = "delegated",
    }
}

text_enum! {
    /// Whether an account may sign in.
    UserStatus, "status" {
        /// The account may sign in and use its tokens.
        Active = "active",
        /// The account may not sign in; its sessions and tokens no longer work.
        Disabled = "disabled",
    }
}

/// How many failed sign-ins in a row an account takes before it is locked.
pub const FAILURES_BEFORE_LOCK: u32 = 5;

/// How long an account is locked after `failures` failed sign-ins in a row: not at
/// all below [`FAILURES_BEFORE_LOCK`], then one minute, doubling with each further
/// failure, at most a day (NCSC: throttle rather than lock out for good).
pub fn lockout(failures: u32) -> Option<chrono::Duration> {
    let beyond = failures.checked_sub(FAILURES_BEFORE_LOCK)?;
    let minutes = 1i64.checked_shl(beyond.min(20)).unwrap_or(i64::MAX);
    Some(chrono::Duration::minutes(minutes.min(24 * 60)))
}

/// The deny list of common passwords and stems (NCSC password guidance).
const COMMON_PASSWORDS: &str = include_str!("../reference/common-passwords.txt");

/// Whether `raw` is a common password: lower-cased and stripped of digits and symbols
/// around it, a stem on the deny list; or a run along the keyboard or the digits.
fn is_common_password(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    let stem = lower.trim_matches(|c: char| !c.is_alphabetic());
    let listed = COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|word| word == stem || word == lower);
    const RUNS: [&str; 4] = [
        "01234567890123456789",
        "98765432109876543210",
        "qwertyuiopasdfghjklzxcvbnm",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    ];
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let along_a_run = RUNS.iter().any(|run| {
        let doubled = format!("{run}{run}");
        doubled.contains(&compact)
    });
    listed || along_a_run
}

/// A new password, checked against the password policy: 12 to 256 characters, not all
/// the same character, not on the deny list of common passwords nor a run along the
/// keyboard (NCSC guidance: length and a deny list rather than composition rules).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// The shortest password accepted.
    pub const MIN_CHARS: usize = 12;

    /// Checks a proposed password against the policy.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at least {} characters long", Self::MIN_CHARS),
            ));
        }
        if len > 256 {
            return Err(FieldError::new(
                "password",
                "must be at most 256 characters long",
            ));
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(FieldError::new(
                "password",
                "must not repeat a single character",
            ));
        }
        if is_common_password(raw) {
            return Err(FieldError::new(
                "password",
                "is too common or too easy to guess: a phrase of three or more unrelated words is easier to remember and harder to guess",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password, to be hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// The access a user holds: who they are, where they belong, what they may do and see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// The user's identifier.
    pub id: UserId,
    /// Their sign-in name.
    pub username: Username,
    /// Their name as shown to others.
    pub display_name: DisplayName,
    /// The one organisation they belong to.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// What they may do.
    pub roles: Roles,
    /// Their vetting level.
    pub clearance: Clearance,
    /// Whether they hold the Director General's delegated authority.
    pub dg_authority: DgAuthority,
    /// Whether they may sign in.
    pub status: UserStatus,
    /// Whether they must choose a new password at next sign-in.
    pub must_change_password: bool,
    /// Whether they have set up a security code from an authenticator app, which
    /// sign-in then asks for.
    pub totp_enabled: bool,
    /// When the account was created.
    pub created_at: Timestamp,
}

impl User {
    /// Whether the user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// Whether the account may be used.
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

/// Checks the pairing of delegated authority with role and organisation: the Director
/// General's authority to direct (¶9) can be delegated only to a senior decision-maker
/// of the national agency or one of its commands or units.
pub fn check_dg_authority(
    dg_authority: DgAuthority,
    roles: &Roles,
    in_national_agency: bool,
) -> Result<(), FieldError> {
    if dg_authority == DgAuthority::None {
        return Ok(());
    }
    if !roles.contains(Role::SeniorDecisionMaker) {
        return Err(FieldError::new(
            "dg_authority",
            "only a senior decision-maker can hold the Director General's delegated authority (¶9)",
        ));
    }
    if !in_national_agency {
        return Err(FieldError::new(
            "dg_authority",
            "only national agency staff can hold the Director General's delegated authority (¶9)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_username(raw: &str, expected: Result<&str, &str>) {
        let got = Username::parse(raw);
        match expected {
            Ok(name) => assert_eq!(got.expect("valid").as_str(), name, "{raw:?}"),
            Err(msg) => {
                let err = got.expect_err(raw);
                assert_eq!(err.field, "username");
                assert!(err.message.contains(msg), "{raw:?}: {}", err.message);
            }
        }
    }

    #[test]
    fn usernames_are_folded_and_checked() {
        check_username("J.Smith", Ok("j.smith"));
        check_username("  ops_1 ", Ok("ops_1"));
        check_username("ab", Err("3 to 64"));
        check_username("1abc", Err("start with a letter"));
        check_username("a b c", Err("only letters"));
        check_username("jane@force", Err("only letters"));
    }

    #[test]
    fn display_names_refuse_control_characters_and_blanks() {
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
        assert_eq!(
            DisplayName::parse(" DS Smith ").expect("ok").as_str(),
            "DS Smith"
        );
    }

    #[test]
    fn roles_parse_from_lists_and_need_one() {
        let roles = Roles::parse_list("viewer, tasking-officer").expect("ok");
        assert!(roles.contains(Role::Viewer) && roles.contains(Role::TaskingOfficer));
        assert_eq!(roles.to_string(), "tasking-officer,viewer");
        assert_eq!(Roles::parse_list("").expect_err("empty").field, "roles");
        let err = Roles::parse_list("wizard").expect_err("unknown");
        assert!(
            err.message.contains("`wizard` is not one of"),
            "{}",
            err.message
        );
    }

    #[test]
    fn clearance_bounds_classification() {
        assert!(Clearance::Bpss.permits(Classification::Official));
        assert!(!Clearance::Ctc.permits(Classification::Secret));
        assert!(Clearance::Sc.permits(Classification::Secret));
        assert!(!Clearance::Sc.permits(Classification::TopSecret));
        assert!(Clearance::Dv.permits(Classification::TopSecret));
    }

    #[test]
    fn password_policy_prefers_length() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaaaaaa").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("correct horse battery")),
            "Ok(NewPassword(<redacted>))"
        );
    }

    /// Five failures in a row lock the account for a minute, doubling, at most a day.
    #[test]
    fn repeated_failures_lock_with_back_off() {
        assert_eq!(lockout(4), None);
        assert_eq!(lockout(5), Some(chrono::Duration::minutes(1)));
        assert_eq!(lockout(6), Some(chrono::Duration::minutes(2)));
        assert_eq!(lockout(9), Some(chrono::Duration::minutes(16)));
        assert_eq!(lockout(40), Some(chrono::Duration::days(1)));
        assert_eq!(lockout(u32::MAX), Some(chrono::Duration::days(1)));
    }

    /// NCSC: common passwords and keyboard runs are refused, however long.
    #[test]
    fn common_passwords_and_keyboard_runs_are_refused() {
        for refused in [
            "Password2026!",
            "password1234",
            "!!Liverpool1892",
            "qwertyuiop12",
            "QWERTYUIOPAS",
            "123456789012",
            "098765432109",
            "Concordat2026",
            "1qaz2wsx3edc",
        ] {
            let err = NewPassword::parse(refused).expect_err(refused);
            assert_eq!(err.field, "password");
            assert!(
                err.message.contains("too common"),
                "{refused}: {}",
                err.message
            );
        }
        for accepted in [
            "correct horse battery",
            "lantern-orchid-ferry-42",
            "Password is not my password",
        ] {
            assert!(NewPassword::parse(accepted).is_ok(), "{accepted}");
        }
    }

    /// ¶9: only a senior decision-maker of the national agency holds delegated DG authority.
    #[test]
    fn dg_authority_needs_senior_role_in_national_agency() {
        let senior = Roles::new([Role::SeniorDecisionMaker]).expect("ok");
        let analyst = Roles::new([Role::Analyst]).expect("ok");
        assert!(check_dg_authority(DgAuthority::Delegated, &senior, true).is_ok());
        assert!(check_dg_authority(DgAuthority::Delegated, &senior, false).is_err());
        assert!(check_dg_authority(DgAuthority::Delegated, &analyst, true).is_err());
        assert!(check_dg_authority(DgAuthority::None, &analyst, false).is_ok());
    }
}
