//! Reference data: the organisations Concordat knows, the NCA capabilities partners can
//! request (Annex E) and the tasking and coordination groups (¶15, Annex C).
//!
//! The data lives in three TOML files under `crates/domain/reference/`, embedded in the
//! binary. [`ReferenceData::parse`] turns them into typed values and cross-checks them, so
//! every [`ReferenceData`] obeys the rules below:
//!
//! * codes are unique within each file, and every `parent`, `owner` and `reports_to` names
//!   something that exists;
//! * a territorial police force serves exactly one of England and Wales, Scotland or
//!   Northern Ireland; one in England and Wales belongs to exactly one ROCU region (fn 4,
//!   ¶21), and only such forces and ROCUs have a region (so nothing outside England and
//!   Wales has one, fn 13);
//! * a ROCU serves England and Wales and has a region, and each region has exactly one ROCU
//!   (¶21);
//! * island police forces (fn 6) serve exactly the Crown Dependencies;
//! * parent chains have no cycles; a command's parent is the national agency, and a unit's
//!   parent is a command or the national agency (¶7, Annex D);
//! * every capability is owned by a national-agency body (Annex E).

use serde::de::{self, Deserializer, SeqAccess, Unexpected, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// The name of the organisations file, as error messages cite it.
const ORGANISATIONS_FILE: &str = "organisations.toml";
/// The name of the capabilities file, as error messages cite it.
const CAPABILITIES_FILE: &str = "capabilities.toml";
/// The name of the groups file, as error messages cite it.
const GROUPS_FILE: &str = "groups.toml";

/// The shorthand for England and Wales, Scotland and Northern Ireland together.
const UK_WIDE: &str = "uk-wide";

/// The longest capability or group code accepted.
const MAX_SLUG_LEN: usize = 64;

/// A problem with reference data, or a value that is not a valid code or enum value.
///
/// Messages name the file and the code and field at fault, for example
/// ``organisations.toml: organisation `foo`: parent `bar` does not exist``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// An organisation code does not follow the format rules (see [`OrgCode`]).
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidCode {
        /// What kind of code it is, e.g. "organisation code".
        what: &'static str,
        /// The rejected text.
        value: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A string is not one of an enumeration's values.
    #[error("unknown {what} `{value}`; expected one of: {allowed}")]
    UnknownValue {
        /// The enumeration, e.g. "organisation kind".
        what: &'static str,
        /// The rejected text.
        value: String,
        /// The accepted values, comma-separated.
        allowed: String,
    },
    /// A set of jurisdictions was empty.
    #[error("a set of jurisdictions must contain at least one jurisdiction")]
    EmptyJurisdictions,
    /// A file is not valid TOML or does not have the expected shape; the message carries
    /// the line and column.
    #[error("{file}: {message}")]
    Toml {
        /// The file at fault.
        file: &'static str,
        /// The TOML parser's message, including the line and column.
        message: String,
    },
    /// Two records in one file share a code.
    #[error("{file}: duplicate {item} code `{code}`")]
    Duplicate {
        /// The file at fault.
        file: &'static str,
        /// What kind of record, e.g. "organisation".
        item: &'static str,
        /// The repeated code.
        code: String,
    },
    /// A record refers to a code that does not exist.
    #[error("{file}: {item} `{code}`: {field} `{target}` does not exist")]
    UnknownReference {
        /// The file at fault.
        file: &'static str,
        /// What kind of record, e.g. "organisation".
        item: &'static str,
        /// The code of the record that holds the reference.
        code: String,
        /// The field holding the reference, e.g. "parent".
        field: &'static str,
        /// The code referred to.
        target: String,
    },
    /// A record breaks a cross-check rule.
    #[error("{file}: {item} `{code}`: {message}")]
    Invalid {
        /// The file at fault.
        file: &'static str,
        /// What kind of record, e.g. "organisation" (or "region" for a region with no ROCU).
        item: &'static str,
        /// The code of the record at fault.
        code: String,
        /// The rule broken, naming the field.
        message: String,
    },
}

impl RegistryError {
    /// An [`RegistryError::Invalid`] for the record `code` of kind `item` in `file`.
    fn invalid(
        file: &'static str,
        item: &'static str,
        code: impl fmt::Display,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            file,
            item,
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Joins values with ", " for error messages.
fn allowed_list<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

/// Checks a code: lower-case ASCII letters, digits and hyphens, starting with a letter,
/// `2..=max` characters long. Returns the rule broken, if any.
fn slug_problem(s: &str, max: usize) -> Option<String> {
    if s.len() < 2 {
        Some("must be at least 2 characters long".to_owned())
    } else if s.len() > max {
        Some(format!("must be at most {max} characters long"))
    } else if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a lower-case letter".to_owned())
    } else if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("may contain only lower-case letters, digits and hyphens".to_owned())
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Organisation codes
// ---------------------------------------------------------------------------------------------

/// A stable organisation code: lower-case ASCII letters, digits and hyphens, 2..=40 chars,
/// starts with a letter.
///
/// Codes are how every other record (people, tasks, capabilities) refers to an
/// organisation, so they never change once in use. Serialised as a plain string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "west-yorkshire")]
pub struct OrgCode(String);

impl OrgCode {
    /// The shortest code accepted.
    pub const MIN_LEN: usize = 2;
    /// The longest code accepted.
    pub const MAX_LEN: usize = 40;

    /// Parses a code, rejecting anything that breaks the format rules.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        match slug_problem(s, Self::MAX_LEN) {
            None => Ok(Self(s.to_owned())),
            Some(reason) => Err(RegistryError::InvalidCode {
                what: "organisation code",
                value: s.to_owned(),
                reason,
            }),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrgCode {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for OrgCode {
    type Error = RegistryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match slug_problem(&s, Self::MAX_LEN) {
            None => Ok(Self(s)),
            Some(reason) => Err(RegistryError::InvalidCode {
                what: "organisation code",
                value: s,
                reason,
            }),
        }
    }
}

impl From<OrgCode> for String {
    fn from(code: OrgCode) -> Self {
        code.0
    }
}

impl AsRef<str> for OrgCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------------

/// Declares a closed enumeration stored as kebab-case text, with `ALL`, `as_str` (the serde
/// text), `name` (for display) and `FromStr`.
macro_rules! registry_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $text:literal, $human:literal;
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            ToSchema,
        )]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The value's stable text, identical to its serde form (for storing as TEXT).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value's human-readable name, for display.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant => $human,)+
                }
            }
        }

        impl fmt::Display for $name {
            /// Writes the value's stable text (as [`Self::as_str`]).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = RegistryError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| RegistryError::UnknownValue {
                        what: $what,
                        value: s.to_owned(),
                        allowed: allowed_list(Self::ALL.iter().map(Self::as_str)),
                    })
            }
        }
    };
}

registry_enum! {
    /// What sort of body an organisation is.
    pub enum OrganisationKind ("organisation kind") {
        /// The National Crime Agency itself (¶1).
        NationalAgency = "national-agency", "National agency";
        /// A command or directorate of the national agency (¶7, Annex D).
        NationalAgencyCommand = "national-agency-command", "National agency command";
        /// A unit, bureau or centre within a command of the national agency (Annex A, D, E).
        NationalAgencyUnit = "national-agency-unit", "National agency unit";
        /// A territorial police force: in England and Wales as defined in fn 4, or Police
        /// Scotland or the PSNI.
        TerritorialPolice = "territorial-police", "Territorial police force";
        /// The British Transport Police (¶9).
        BritishTransportPolice = "british-transport-police", "British Transport Police";
        /// A special police force, such as the Ministry of Defence Police.
        SpecialPolice = "special-police", "Special police force";
        /// A Regional Organised Crime Unit, the regional tier in England and Wales (¶21).
        Rocu = "rocu", "Regional Organised Crime Unit";
        /// A UK law enforcement agency other than a police force (fn 5).
        LawEnforcementAgency = "law-enforcement-agency", "Law enforcement agency";
        /// An island police force of the Crown Dependencies (fn 6).
        IslandForce = "island-force", "Island police force";
        /// A Joint Border Intelligence Unit, the gateway at the border (¶22).
        Jbiu = "jbiu", "Joint Border Intelligence Unit";
        /// A government department (¶3-4).
        GovernmentDepartment = "government-department", "Government department";
    }
}

impl OrganisationKind {
    /// Whether this is the national agency or one of its commands or units.
    pub fn is_national_agency_body(&self) -> bool {
        matches!(
            self,
            Self::NationalAgency | Self::NationalAgencyCommand | Self::NationalAgencyUnit
        )
    }
}

registry_enum! {
    /// A legal jurisdiction of the UK or the Crown Dependencies.
    pub enum Jurisdiction ("jurisdiction") {
        /// England and Wales.
        EnglandAndWales = "england-and-wales", "England and Wales";
        /// Scotland.
        Scotland = "scotland", "Scotland";
        /// Northern Ireland.
        NorthernIreland = "northern-ireland", "Northern Ireland";
        /// The Crown Dependencies: Jersey, Guernsey and the Isle of Man (fn 6).
        CrownDependencies = "crown-dependencies", "Crown Dependencies";
    }
}

/// A non-empty set of jurisdictions (sorted, no duplicates). "uk-wide" = England and Wales +
/// Scotland + Northern Ireland.
///
/// Serialised as a list of kebab-case strings; when deserialising, the string `"uk-wide"` is
/// also accepted as shorthand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, ToSchema)]
pub struct Jurisdictions(Vec<Jurisdiction>);

impl Jurisdictions {
    /// The set of the given jurisdictions, sorted and without duplicates; an empty list is
    /// an error.
    pub fn new(mut jurisdictions: Vec<Jurisdiction>) -> Result<Self, RegistryError> {
        if jurisdictions.is_empty() {
            return Err(RegistryError::EmptyJurisdictions);
        }
        jurisdictions.sort_unstable();
        jurisdictions.dedup();
        Ok(Self(jurisdictions))
    }

    /// England and Wales, Scotland and Northern Ireland.
    pub fn uk_wide() -> Self {
        Self(vec![
            Jurisdiction::EnglandAndWales,
            Jurisdiction::Scotland,
            Jurisdiction::NorthernIreland,
        ])
    }

    /// Whether the set covers all of England and Wales, Scotland and Northern Ireland.
    pub fn is_uk_wide(&self) -> bool {
        self.contains(Jurisdiction::EnglandAndWales)
            && self.contains(Jurisdiction::Scotland)
            && self.contains(Jurisdiction::NorthernIreland)
    }

    /// Whether the set includes `jurisdiction`.
    pub fn contains(&self, jurisdiction: Jurisdiction) -> bool {
        self.0.contains(&jurisdiction)
    }

    /// The jurisdictions, in declaration order of [`Jurisdiction`].
    pub fn iter(&self) -> impl Iterator<Item = Jurisdiction> + '_ {
        self.0.iter().copied()
    }

    /// Whether the set is exactly the one jurisdiction given.
    pub fn is_only(&self, jurisdiction: Jurisdiction) -> bool {
        self.0.as_slice() == [jurisdiction]
    }

    /// The jurisdictions as a slice.
    pub fn as_slice(&self) -> &[Jurisdiction] {
        &self.0
    }
}

impl Serialize for Jurisdictions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for j in &self.0 {
            seq.serialize_element(j)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Jurisdictions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Accepts a list of jurisdictions or the string "uk-wide".
        struct JurisdictionsVisitor;

        impl<'de> Visitor<'de> for JurisdictionsVisitor {
            type Value = Jurisdictions;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty list of jurisdictions or the string \"uk-wide\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Jurisdictions, E> {
                if v == UK_WIDE {
                    Ok(Jurisdictions::uk_wide())
                } else {
                    Err(E::invalid_value(Unexpected::Str(v), &self))
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Jurisdictions, A::Error> {
                let mut list = Vec::new();
                while let Some(j) = seq.next_element::<Jurisdiction>()? {
                    list.push(j);
                }
                Jurisdictions::new(list).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(JurisdictionsVisitor)
    }
}

registry_enum! {
    /// A ROCU region of England and Wales: each territorial force in England and Wales
    /// belongs to exactly one, and each has exactly one ROCU (¶21).
    pub enum RocuRegion ("ROCU region") {
        /// North East.
        NorthEast = "north-east", "North East";
        /// North West.
        NorthWest = "north-west", "North West";
        /// Yorkshire and the Humber.
        YorkshireAndTheHumber = "yorkshire-and-the-humber", "Yorkshire and the Humber";
        /// East Midlands.
        EastMidlands = "east-midlands", "East Midlands";
        /// West Midlands.
        WestMidlands = "west-midlands", "West Midlands";
        /// Eastern.
        Eastern = "eastern", "Eastern";
        /// South East.
        SouthEast = "south-east", "South East";
        /// South West.
        SouthWest = "south-west", "South West";
        /// London.
        London = "london", "London";
        /// Southern Wales.
        SouthernWales = "southern-wales", "Southern Wales";
    }
}

registry_enum! {
    /// How the national agency engages an organisation for tasking (¶21-24): via the regional
    /// tier / national gateway, or directly.
    pub enum Engagement ("engagement") {
        /// The normal route: through the ROCU regional tier for police forces in England and
        /// Wales (¶21), through the JBIU gateway at the border (¶22), and through the national
        /// tasking structure otherwise.
        ViaRegionalTier = "via-regional-tier", "Via the regional tier or national gateway";
        /// Directly between the national agency and the organisation (¶23-24, fn 13): the
        /// large metropolitan forces, Police Scotland, the PSNI and strategic partners such as
        /// HMRC. Also used for the national agency's own bodies, for which engagement does
        /// not apply.
        Direct = "direct", "Direct";
    }
}

registry_enum! {
    /// Whether an organisation carries out the border, immigration and customs functions
    /// under the direction and control of the Home Secretary, to which the national
    /// agency's directed tasking extends by policy under a separate protocol (¶11).
    pub enum BorderFunctions ("border functions") {
        /// It does not.
        None = "none", "None";
        /// Border Force and other Home Office officials with those functions (¶11).
        HomeSecretary = "home-secretary", "Under the Home Secretary";
    }
}

impl Default for BorderFunctions {
    /// Most organisations carry out no such functions.
    fn default() -> Self {
        Self::None
    }
}

impl Default for Engagement {
    /// Engagement via the regional tier, the normal route (¶21).
    fn default() -> Self {
        Self::ViaRegionalTier
    }
}

/// An organisation that takes part in tasking and deconfliction, or that the document names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// The organisation's stable code.
    pub code: OrgCode,
    /// The full official name.
    pub name: String,
    /// A shorter name for tight spaces.
    pub short_name: String,
    /// What sort of body it is.
    pub kind: OrganisationKind,
    /// Where it operates.
    pub jurisdictions: Jurisdictions,
    /// The ROCU region, for territorial police forces in England and Wales and for ROCUs.
    #[serde(default)]
    pub region: Option<RocuRegion>,
    /// The organisation it is part of, if any.
    #[serde(default)]
    pub parent: Option<OrgCode>,
    /// How the national agency engages it for tasking.
    #[serde(default)]
    pub engagement: Engagement,
    /// Whether it carries out the Home Secretary's border functions (¶11).
    #[serde(default)]
    pub border_functions: BorderFunctions,
}

registry_enum! {
    /// The box of Annex E a capability appears in.
    pub enum CapabilityCategory ("capability category") {
        /// Networks (England/Wales, and Scotland/Northern Ireland).
        Networks = "networks", "Networks";
        /// Intelligence and tasking.
        IntelligenceAndTasking = "intelligence-and-tasking", "Intelligence and tasking";
        /// Specialist capabilities and advice.
        SpecialistCapabilitiesAndAdvice =
            "specialist-capabilities-and-advice", "Specialist capabilities and advice";
        /// Civil recovery and tax.
        CivilRecoveryAndTax = "civil-recovery-and-tax", "Civil recovery and tax";
        /// Technical collection.
        TechnicalCollection = "technical-collection", "Technical collection";
        /// International.
        International = "international", "International";
        /// The National Cyber Crime Unit.
        Nccu = "nccu", "National Cyber Crime Unit";
        /// CEOP.
        Ceop = "ceop", "CEOP";
        /// The control centre and tasking and coordination box (unheaded in Annex E).
        ControlCentre = "control-centre", "Control centre";
    }
}

registry_enum! {
    /// Whether an Annex E item is a capability or advice.
    pub enum CapabilityKind ("capability kind") {
        /// An operational capability.
        Capability = "capability", "Capability";
        /// Advice.
        Advice = "advice", "Advice";
    }
}

/// An NCA operational capability that UK operational partners can access (Annex E, ¶25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// The capability's stable code, a kebab-case slug.
    pub code: String,
    /// The capability as Annex E words it.
    pub name: String,
    /// The Annex E box it appears in.
    pub category: CapabilityCategory,
    /// Whether it is a capability or advice.
    pub kind: CapabilityKind,
    /// The national-agency body that provides it.
    pub owner: OrgCode,
    /// One factual sentence from the document.
    pub description: String,
}

registry_enum! {
    /// Whether a tasking and coordination group is national or regional (Annex C).
    pub enum GroupLevel ("group level") {
        /// One national group.
        National = "national", "National";
        /// One group in each ROCU region.
        Regional = "regional", "Regional";
    }
}

registry_enum! {
    /// What a tasking and coordination group is for (Annex C).
    pub enum GroupPurpose ("group purpose") {
        /// Strategic tasking and coordination.
        Strategic = "strategic", "Strategic";
        /// Tactical tasking and coordination.
        Tactical = "tactical", "Tactical";
        /// Tactical intelligence.
        TacticalIntelligence = "tactical-intelligence", "Tactical intelligence";
        /// Strategic intelligence.
        StrategicIntelligence = "strategic-intelligence", "Strategic intelligence";
        /// Threat governance (the Strategic Governance Groups, fn 12).
        Governance = "governance", "Governance";
        /// Daily management and briefing.
        DailyManagement = "daily-management", "Daily management";
    }
}

registry_enum! {
    /// How often a group meets, as the document states it.
    pub enum Cadence ("cadence") {
        /// Every day.
        Daily = "daily", "Daily";
        /// Every six weeks.
        SixWeekly = "six-weekly", "Every six weeks";
        /// Every three months.
        Quarterly = "quarterly", "Every three months";
        /// Every six months.
        SixMonthly = "six-monthly", "Every six months";
        /// The document does not say.
        NotStated = "not-stated", "Not stated";
    }
}

/// A national or regional tasking and coordination group or meeting (¶15, Annex C).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDefinition {
    /// The group's stable code, a kebab-case slug.
    pub code: String,
    /// The full name.
    pub name: String,
    /// The document's acronym; empty where the document gives none.
    pub acronym: String,
    /// National or regional.
    pub level: GroupLevel,
    /// What it is for.
    pub purpose: GroupPurpose,
    /// The chair's role as the document words it ("Not stated" where it names none).
    pub chair: String,
    /// How often it meets.
    pub cadence: Cadence,
    /// The code of the group it reports to or feeds, if any.
    #[serde(default)]
    pub reports_to: Option<String>,
    /// What it does, from the document.
    pub remit: String,
    /// Where the document describes it, e.g. "Annex C ¶2".
    pub source: String,
}

// ---------------------------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------------------------

/// The organisations file: an array of `[[organisation]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationsFile {
    /// The organisations.
    organisation: Vec<Organisation>,
}

/// The capabilities file: an array of `[[capability]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapabilitiesFile {
    /// The capabilities.
    capability: Vec<Capability>,
}

/// The groups file: an array of `[[group]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupsFile {
    /// The groups.
    group: Vec<GroupDefinition>,
}

/// Parses one TOML file, citing the file in any error.
fn parse_toml<T: de::DeserializeOwned>(file: &'static str, text: &str) -> Result<T, RegistryError> {
    toml::from_str(text).map_err(|e| RegistryError::Toml {
        file,
        message: e.to_string().trim_end().to_owned(),
    })
}

/// The organisations, capabilities and groups Concordat works with, cross-checked.
///
/// Deserialising runs the same cross-checks as [`ReferenceData::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "UncheckedReferenceData")]
pub struct ReferenceData {
    /// Every organisation, in file order.
    pub organisations: Vec<Organisation>,
    /// Every capability, in file order.
    pub capabilities: Vec<Capability>,
    /// Every group, in file order.
    pub groups: Vec<GroupDefinition>,
}

/// Reference data as deserialised, before the cross-checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncheckedReferenceData {
    /// The organisations.
    organisations: Vec<Organisation>,
    /// The capabilities.
    capabilities: Vec<Capability>,
    /// The groups.
    groups: Vec<GroupDefinition>,
}

impl TryFrom<UncheckedReferenceData> for ReferenceData {
    type Error = RegistryError;
    fn try_from(raw: UncheckedReferenceData) -> Result<Self, Self::Error> {
        Self::new(raw.organisations, raw.capabilities, raw.groups)
    }
}

impl ReferenceData {
    /// Cross-checks already-parsed records and assembles them (see the module documentation
    /// for the rules); errors cite the file each kind of record normally comes from.
    pub fn new(
        organisations: Vec<Organisation>,
        capabilities: Vec<Capability>,
        groups: Vec<GroupDefinition>,
    ) -> Result<Self, RegistryError> {
        check_organisations(&organisations)?;
        check_capabilities(&capabilities, &organisations)?;
        check_groups(&groups)?;
        Ok(Self {
            organisations,
            capabilities,
            groups,
        })
    }

    /// The reference data shipped with Concordat (the three TOML files, embedded with
    /// include_str!).
    pub fn builtin() -> Result<Self, RegistryError> {
        Self::parse(
            include_str!("../reference/organisations.toml"),
            include_str!("../reference/capabilities.toml"),
            include_str!("../reference/groups.toml"),
        )
    }

    /// Parses and cross-checks the three files.
    pub fn parse(
        organisations: &str,
        capabilities: &str,
        groups: &str,
    ) -> Result<Self, RegistryError> {
        let organisations =
            parse_toml::<OrganisationsFile>(ORGANISATIONS_FILE, organisations)?.organisation;
        let capabilities =
            parse_toml::<CapabilitiesFile>(CAPABILITIES_FILE, capabilities)?.capability;
        let groups = parse_toml::<GroupsFile>(GROUPS_FILE, groups)?.group;
        Self::new(organisations, capabilities, groups)
    }

    /// The organisation with this code, if any.
    pub fn organisation(&self, code: &OrgCode) -> Option<&Organisation> {
        self.organisations.iter().find(|o| &o.code == code)
    }

    /// Member forces of a ROCU (territorial forces whose region equals the ROCU's region).
    ///
    /// Empty if `rocu` is not the code of a ROCU.
    pub fn rocu_members(&self, rocu: &OrgCode) -> Vec<&Organisation> {
        let region = match self.organisation(rocu) {
            Some(Organisation {
                kind: OrganisationKind::Rocu,
                region: Some(region),
                ..
            }) => *region,
            _ => return Vec::new(),
        };
        self.organisations
            .iter()
            .filter(|o| o.kind == OrganisationKind::TerritorialPolice && o.region == Some(region))
            .collect()
    }

    /// The ROCU of a region (there is exactly one).
    pub fn rocu_for_region(&self, region: RocuRegion) -> Option<&Organisation> {
        self.organisations
            .iter()
            .find(|o| o.kind == OrganisationKind::Rocu && o.region == Some(region))
    }

    /// The organisations whose parent is `code`.
    pub fn children(&self, code: &OrgCode) -> Vec<&Organisation> {
        self.organisations
            .iter()
            .filter(|o| o.parent.as_ref() == Some(code))
            .collect()
    }

    /// The capability with this code, if any.
    pub fn capability(&self, code: &str) -> Option<&Capability> {
        self.capabilities.iter().find(|c| c.code == code)
    }

    /// The group with this code, if any.
    pub fn group(&self, code: &str) -> Option<&GroupDefinition> {
        self.groups.iter().find(|g| g.code == code)
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-checks
// ---------------------------------------------------------------------------------------------

/// Checks that a text field is not blank.
fn require_text(
    file: &'static str,
    item: &'static str,
    code: &str,
    field: &'static str,
    value: &str,
) -> Result<(), RegistryError> {
    if value.trim().is_empty() {
        Err(RegistryError::invalid(
            file,
            item,
            code,
            format!("`{field}` must not be empty"),
        ))
    } else {
        Ok(())
    }
}

/// Checks a capability or group code.
fn check_slug(file: &'static str, item: &'static str, code: &str) -> Result<(), RegistryError> {
    match slug_problem(code, MAX_SLUG_LEN) {
        None => Ok(()),
        Some(reason) => Err(RegistryError::invalid(
            file,
            item,
            code,
            format!("`code` {reason}"),
        )),
    }
}

/// Checks the organisations on their own (see the module documentation for the rules).
fn check_organisations(orgs: &[Organisation]) -> Result<(), RegistryError> {
    const F: &str = ORGANISATIONS_FILE;
    const ITEM: &str = "organisation";

    let mut by_code: BTreeMap<&OrgCode, &Organisation> = BTreeMap::new();
    for org in orgs {
        if by_code.insert(&org.code, org).is_some() {
            return Err(RegistryError::Duplicate {
                file: F,
                item: ITEM,
                code: org.code.to_string(),
            });
        }
    }

    for org in orgs {
        let code = org.code.as_str();
        let invalid = |message: &str| RegistryError::invalid(F, ITEM, code, message);
        require_text(F, ITEM, code, "name", &org.name)?;
        require_text(F, ITEM, code, "short_name", &org.short_name)?;

        // Parents exist, and the national agency's hierarchy is agency > command > unit
        // (¶7, Annex D).
        let parent = match &org.parent {
            None => None,
            Some(p) => Some(
                *by_code
                    .get(p)
                    .ok_or_else(|| RegistryError::UnknownReference {
                        file: F,
                        item: ITEM,
                        code: code.to_owned(),
                        field: "parent",
                        target: p.to_string(),
                    })?,
            ),
        };
        match (org.kind, parent.map(|p| p.kind)) {
            (OrganisationKind::NationalAgency, Some(_)) => {
                return Err(invalid(
                    "`parent`: the national agency must not have a parent",
                ));
            }
            (OrganisationKind::NationalAgencyCommand, None) => {
                return Err(invalid(
                    "`parent`: a national-agency command must have the national agency as its parent",
                ));
            }
            (OrganisationKind::NationalAgencyCommand, Some(k))
                if k != OrganisationKind::NationalAgency =>
            {
                return Err(invalid(&format!(
                    "`parent`: a national-agency command's parent must be the national agency, not a {}",
                    k.as_str()
                )));
            }
            (OrganisationKind::NationalAgencyUnit, None) => {
                return Err(invalid(
                    "`parent`: a national-agency unit must have a command or the national agency as its parent",
                ));
            }
            (OrganisationKind::NationalAgencyUnit, Some(k))
                if !matches!(
                    k,
                    OrganisationKind::NationalAgency | OrganisationKind::NationalAgencyCommand
                ) =>
            {
                return Err(invalid(&format!(
                    "`parent`: a national-agency unit's parent must be a command or the national agency, not a {}",
                    k.as_str()
                )));
            }
            _ => {}
        }

        // Territorial police serve one jurisdiction (fn 4, fn 13).
        if org.kind == OrganisationKind::TerritorialPolice
            && (org.jurisdictions.as_slice().len() != 1
                || org.jurisdictions.contains(Jurisdiction::CrownDependencies))
        {
            return Err(invalid(
                "`jurisdictions`: a territorial police force serves exactly one of england-and-wales, scotland or northern-ireland",
            ));
        }

        // Island police forces are those of the Crown Dependencies (fn 6).
        if org.kind == OrganisationKind::IslandForce
            && !org.jurisdictions.is_only(Jurisdiction::CrownDependencies)
        {
            return Err(invalid(
                "`jurisdictions`: an island police force must have exactly [\"crown-dependencies\"]",
            ));
        }

        // Regions: ROCU regions exist only in England and Wales (¶21, fn 13).
        let in_england_and_wales = org.jurisdictions.contains(Jurisdiction::EnglandAndWales);
        let region_rule = match (org.kind, org.region) {
            (OrganisationKind::Rocu, _)
                if !org.jurisdictions.is_only(Jurisdiction::EnglandAndWales) =>
            {
                Some("`jurisdictions`: a ROCU must have exactly [\"england-and-wales\"]")
            }
            (OrganisationKind::Rocu, None) => {
                Some("`region` is required: a ROCU serves one ROCU region")
            }
            (OrganisationKind::TerritorialPolice, None) if in_england_and_wales => Some(
                "`region` is required: a territorial police force in England and Wales belongs to one ROCU region",
            ),
            (OrganisationKind::Rocu | OrganisationKind::TerritorialPolice, _)
                if in_england_and_wales =>
            {
                None
            }
            (_, Some(_)) if in_england_and_wales => Some(
                "`region` must be absent: only territorial police forces in England and Wales and ROCUs have a ROCU region",
            ),
            (_, Some(_)) => Some(
                "`region` must be absent: an organisation outside England and Wales has no ROCU region",
            ),
            (_, None) => None,
        };
        if let Some(message) = region_rule {
            return Err(invalid(message));
        }
    }

    // Exactly one ROCU per region (¶21).
    for region in RocuRegion::ALL {
        let rocus: Vec<&str> = orgs
            .iter()
            .filter(|o| o.kind == OrganisationKind::Rocu && o.region == Some(region))
            .map(|o| o.code.as_str())
            .collect();
        match rocus.as_slice() {
            [_] => {}
            [] => {
                return Err(RegistryError::invalid(
                    F,
                    "region",
                    region.as_str(),
                    "no ROCU serves this region (each region must have exactly one)",
                ));
            }
            many => {
                return Err(RegistryError::invalid(
                    F,
                    "region",
                    region.as_str(),
                    format!(
                        "more than one ROCU serves this region ({}); each region must have exactly one",
                        many.join(", ")
                    ),
                ));
            }
        }
    }

    // Parent chains end.
    for org in orgs {
        let mut seen: Vec<&str> = vec![org.code.as_str()];
        let mut current = org;
        while let Some(parent) = current.parent.as_ref().and_then(|p| by_code.get(p)) {
            seen.push(parent.code.as_str());
            if parent.code == org.code {
                return Err(RegistryError::invalid(
                    F,
                    ITEM,
                    &org.code,
                    format!(
                        "`parent`: the parent chain forms a cycle ({})",
                        seen.join(" -> ")
                    ),
                ));
            }
            if seen.len() > orgs.len() + 1 {
                // A cycle further up the chain; it is reported for an organisation on it.
                break;
            }
            current = parent;
        }
    }

    Ok(())
}

/// Checks the capabilities against the organisations.
fn check_capabilities(caps: &[Capability], orgs: &[Organisation]) -> Result<(), RegistryError> {
    const F: &str = CAPABILITIES_FILE;
    const ITEM: &str = "capability";

    let mut codes = BTreeSet::new();
    for cap in caps {
        check_slug(F, ITEM, &cap.code)?;
        if !codes.insert(cap.code.as_str()) {
            return Err(RegistryError::Duplicate {
                file: F,
                item: ITEM,
                code: cap.code.clone(),
            });
        }
        require_text(F, ITEM, &cap.code, "name", &cap.name)?;
        require_text(F, ITEM, &cap.code, "description", &cap.description)?;
        let owner = orgs.iter().find(|o| o.code == cap.owner).ok_or_else(|| {
            RegistryError::UnknownReference {
                file: F,
                item: ITEM,
                code: cap.code.clone(),
                field: "owner",
                target: cap.owner.to_string(),
            }
        })?;
        if !owner.kind.is_national_agency_body() {
            return Err(RegistryError::invalid(
                F,
                ITEM,
                &cap.code,
                format!(
                    "`owner` `{}` is a {}; a capability's owner must be the national agency or one of its commands or units",
                    owner.code,
                    owner.kind.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the groups on their own.
fn check_groups(groups: &[GroupDefinition]) -> Result<(), RegistryError> {
    const F: &str = GROUPS_FILE;
    const ITEM: &str = "group";

    let mut by_code: BTreeMap<&str, &GroupDefinition> = BTreeMap::new();
    for group in groups {
        check_slug(F, ITEM, &group.code)?;
        if by_code.insert(group.code.as_str(), group).is_some() {
            return Err(RegistryError::Duplicate {
                file: F,
                item: ITEM,
                code: group.code.clone(),
            });
        }
    }
    for group in groups {
        let code = group.code.as_str();
        require_text(F, ITEM, code, "name", &group.name)?;
        require_text(F, ITEM, code, "chair", &group.chair)?;
        require_text(F, ITEM, code, "remit", &group.remit)?;
        require_text(F, ITEM, code, "source", &group.source)?;
        if let Some(target) = &group.reports_to
            && !by_code.contains_key(target.as_str())
        {
            return Err(RegistryError::UnknownReference {
                file: F,
                item: ITEM,
                code: code.to_owned(),
                field: "reports_to",
                target: target.clone(),
            });
        }
    }
    for group in groups {
        let mut seen = vec![group.code.as_str()];
        let mut current = group;
        while let Some(next) = current.reports_to.as_deref().and_then(|t| by_code.get(t)) {
            seen.push(next.code.as_str());
            if next.code == group.code {
                return Err(RegistryError::invalid(
                    F,
                    ITEM,
                    &group.code,
                    format!(
                        "`reports_to`: the reporting chain forms a cycle ({})",
                        seen.join(" -> ")
                    ),
                ));
            }
            if seen.len() > groups.len() + 1 {
                break;
            }
            current = next;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> ReferenceData {
        ReferenceData::builtin().expect("the built-in reference data is valid")
    }

    fn code(s: &str) -> OrgCode {
        OrgCode::parse(s).expect("test codes are valid")
    }

    fn org<'a>(data: &'a ReferenceData, c: &str) -> &'a Organisation {
        data.organisation(&code(c))
            .unwrap_or_else(|| panic!("organisation `{c}` is in the built-in data"))
    }

    fn england_and_wales_forces(data: &ReferenceData) -> Vec<&Organisation> {
        data.organisations
            .iter()
            .filter(|o| {
                o.kind == OrganisationKind::TerritorialPolice
                    && o.jurisdictions.contains(Jurisdiction::EnglandAndWales)
            })
            .collect()
    }

    #[test]
    fn builtin_loads() {
        let data = data();
        assert!(data.organisations.len() > 43);
        assert!(!data.capabilities.is_empty());
        assert!(!data.groups.is_empty());
    }

    #[test]
    fn there_are_43_territorial_forces_in_england_and_wales() {
        // fn 4: the forces maintained under s.2 Police Act 1996, the MPS and the City of London.
        let data = data();
        let forces = england_and_wales_forces(&data);
        assert_eq!(forces.len(), 43);
        for force in forces {
            assert!(
                force.jurisdictions.is_only(Jurisdiction::EnglandAndWales),
                "{}",
                force.code
            );
            assert!(force.region.is_some(), "{} has a region", force.code);
        }
    }

    #[test]
    fn each_region_has_one_rocu_and_the_expected_members() {
        let data = data();
        let expected = [
            (RocuRegion::NorthEast, 3, "nersou"),
            (RocuRegion::NorthWest, 6, "titan"),
            (RocuRegion::YorkshireAndTheHumber, 4, "yh-rocu"),
            (RocuRegion::EastMidlands, 5, "emsou"),
            (RocuRegion::WestMidlands, 4, "wm-rocu"),
            (RocuRegion::Eastern, 6, "ersou"),
            (RocuRegion::SouthEast, 5, "serocu"),
            (RocuRegion::SouthWest, 5, "zephyr"),
            (RocuRegion::London, 2, "london-rocu"),
            (RocuRegion::SouthernWales, 3, "tarian"),
        ];
        assert_eq!(expected.len(), RocuRegion::ALL.len());
        for (region, members, rocu) in expected {
            let rocus: Vec<_> = data
                .organisations
                .iter()
                .filter(|o| o.kind == OrganisationKind::Rocu && o.region == Some(region))
                .collect();
            assert_eq!(rocus.len(), 1, "{} has one ROCU", region.name());
            assert_eq!(rocus[0].code.as_str(), rocu);
            assert_eq!(
                data.rocu_for_region(region).map(|o| o.code.as_str()),
                Some(rocu)
            );
            assert_eq!(
                data.rocu_members(&code(rocu)).len(),
                members,
                "{}",
                region.name()
            );
        }
        let total: usize = expected.iter().map(|(_, n, _)| n).sum();
        assert_eq!(total, 43);
    }

    #[test]
    fn rocu_members_of_named_rocus() {
        let data = data();
        let names = |rocu: &str| -> Vec<&str> {
            let mut v: Vec<&str> = data
                .rocu_members(&code(rocu))
                .into_iter()
                .map(|o| o.name.as_str())
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(
            names("yh-rocu"),
            [
                "Humberside Police",
                "North Yorkshire Police",
                "South Yorkshire Police",
                "West Yorkshire Police"
            ]
        );
        assert_eq!(
            names("tarian"),
            ["Dyfed-Powys Police", "Gwent Police", "South Wales Police"]
        );
        assert_eq!(
            names("london-rocu"),
            ["City of London Police", "Metropolitan Police Service"]
        );
        assert!(names("titan").contains(&"North Wales Police"));
        // Not a ROCU: no members.
        assert!(data.rocu_members(&code("west-yorkshire")).is_empty());
        assert!(data.rocu_members(&code("no-such-org")).is_empty());
    }

    #[test]
    fn island_forces_serve_exactly_the_crown_dependencies() {
        // fn 6.
        let data = data();
        let mut islands: Vec<&str> = data
            .organisations
            .iter()
            .filter(|o| o.kind == OrganisationKind::IslandForce)
            .map(|o| {
                assert!(
                    o.jurisdictions.is_only(Jurisdiction::CrownDependencies),
                    "{}",
                    o.code
                );
                assert_eq!(o.region, None);
                o.name.as_str()
            })
            .collect();
        islands.sort_unstable();
        assert_eq!(
            islands,
            [
                "Guernsey Police",
                "Isle of Man Constabulary",
                "States of Jersey Police"
            ]
        );
    }

    #[test]
    fn devolved_forces_have_no_region() {
        // fn 13.
        let data = data();
        let scotland = org(&data, "police-scotland");
        assert_eq!(scotland.region, None);
        assert!(scotland.jurisdictions.is_only(Jurisdiction::Scotland));
        let psni = org(&data, "psni");
        assert_eq!(psni.region, None);
        assert!(psni.jurisdictions.is_only(Jurisdiction::NorthernIreland));
        let btp = org(&data, "btp");
        assert_eq!(btp.kind, OrganisationKind::BritishTransportPolice);
        assert_eq!(
            btp.jurisdictions.iter().collect::<Vec<_>>(),
            [Jurisdiction::EnglandAndWales, Jurisdiction::Scotland]
        );
    }

    #[test]
    fn no_orphan_parents_or_owners() {
        let data = data();
        for o in &data.organisations {
            if let Some(parent) = &o.parent {
                assert!(
                    data.organisation(parent).is_some(),
                    "{} -> {}",
                    o.code,
                    parent
                );
            }
        }
        for c in &data.capabilities {
            let owner = data.organisation(&c.owner).expect("owner exists");
            assert!(owner.kind.is_national_agency_body(), "{}", c.code);
        }
        for g in &data.groups {
            if let Some(target) = &g.reports_to {
                assert!(data.group(target).is_some(), "{} -> {}", g.code, target);
            }
        }
        // The commands of ¶7 are all children of the agency.
        let mut commands: Vec<&str> = data
            .children(&code("nca"))
            .iter()
            .map(|o| o.code.as_str())
            .collect();
        commands.sort_unstable();
        assert_eq!(
            commands,
            ["nca-ceop", "nca-ecc", "nca-iod", "nca-nccu", "nca-occ"]
        );
        // The IOD includes the six parts of Annex D.
        let iod: Vec<&str> = data
            .children(&code("nca-iod"))
            .iter()
            .map(|o| o.code.as_str())
            .collect();
        for part in [
            "nca-nih",
            "nca-intelligence-collection",
            "nca-investigations",
            "nca-borders",
            "nca-international",
            "nca-specialist-support",
        ] {
            assert!(iod.contains(&part), "{part}");
        }
    }

    #[test]
    fn direct_engagement_is_exactly_the_paragraph_24_set() {
        // ¶24 (and fn 13); the national agency's own bodies are "direct" because engagement
        // does not apply to them.
        let data = data();
        let mut direct: Vec<&str> = data
            .organisations
            .iter()
            .filter(|o| !o.kind.is_national_agency_body() && o.engagement == Engagement::Direct)
            .map(|o| o.code.as_str())
            .collect();
        direct.sort_unstable();
        assert_eq!(
            direct,
            [
                "greater-manchester",
                "hmrc",
                "merseyside",
                "mps",
                "police-scotland",
                "psni",
                "west-midlands",
                "west-yorkshire"
            ]
        );
        assert!(
            data.organisations
                .iter()
                .filter(|o| o.kind.is_national_agency_body())
                .all(|o| o.engagement == Engagement::Direct)
        );
    }

    #[test]
    fn every_annex_e_capability_is_present() {
        let data = data();
        let expected: &[(CapabilityCategory, CapabilityKind, &str)] = {
            use CapabilityCategory as C;
            use CapabilityKind::{Advice, Capability as Cap};
            &[
                (
                    C::Networks,
                    Cap,
                    "Investigation network (England and Wales)",
                ),
                (
                    C::Networks,
                    Cap,
                    "Investigation network (Scotland and Northern Ireland)",
                ),
                (C::IntelligenceAndTasking, Cap, "Assessments"),
                (C::IntelligenceAndTasking, Cap, "Deconfliction"),
                (
                    C::IntelligenceAndTasking,
                    Cap,
                    "Target discovery/development",
                ),
                (
                    C::IntelligenceAndTasking,
                    Cap,
                    "UK Financial Intelligence Unit",
                ),
                (
                    C::IntelligenceAndTasking,
                    Cap,
                    "Organised Crime Fusion Centre",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Anti kidnap/extortion",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "International Corruption Unit",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Vulnerable Persons support",
                ),
                (C::SpecialistCapabilitiesAndAdvice, Cap, "Expert Evidence"),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Serious Crime Analysis",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Specialist Operations Centre",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Crime Operational Support",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Missing Persons Bureau",
                ),
                (C::SpecialistCapabilitiesAndAdvice, Cap, "Forensics"),
                (C::SpecialistCapabilitiesAndAdvice, Cap, "Cyber Support"),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Technical Operations support",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Specialist Surveillance",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "UK Protected Persons Service",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Cap,
                    "Financial Investigator accreditation",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Advice,
                    "Child Protection",
                ),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Advice,
                    "Human trafficking (Modern Slavery)",
                ),
                (C::SpecialistCapabilitiesAndAdvice, Advice, "Cyber (NCCU)"),
                (
                    C::SpecialistCapabilitiesAndAdvice,
                    Advice,
                    "Prisons/Lifetime Management",
                ),
                (
                    C::CivilRecoveryAndTax,
                    Cap,
                    "Civil Recovery and Tax investigations",
                ),
                (C::TechnicalCollection, Cap, "Lawful Intercept"),
                (C::International, Cap, "Liaison officer network"),
                (C::International, Cap, "INTERPOL/Europol liaison"),
                (C::International, Cap, "UK ICB – Interpol"),
                (C::International, Cap, "UK ICB – Europol"),
                (
                    C::International,
                    Cap,
                    "Fugitives (incl. European Arrest Warrants)",
                ),
                (
                    C::International,
                    Cap,
                    "Child Sexual Exploitation Referral Bureau",
                ),
                (C::International, Cap, "SIRENE"),
                (C::Nccu, Cap, "Complex cyber crime investigators"),
                (
                    C::Nccu,
                    Cap,
                    "Specialist child online exploitation investigators",
                ),
                (C::ControlCentre, Cap, "NCA Control Centre (24/7)"),
                (C::ControlCentre, Cap, "NCA Tasking and Coordination"),
                (C::ControlCentre, Cap, "National Tasking and Coordination"),
                (
                    C::Ceop,
                    Cap,
                    "Specialist Child Protection Investigations capability",
                ),
            ]
        };
        for (category, kind, name) in expected {
            let cap = data
                .capabilities
                .iter()
                .find(|c| c.name == *name)
                .unwrap_or_else(|| panic!("capability `{name}` is present"));
            assert_eq!((cap.category, cap.kind), (*category, *kind), "{name}");
        }
        assert_eq!(
            data.capabilities.len(),
            expected.len(),
            "no capabilities beyond Annex E"
        );
        for category in CapabilityCategory::ALL {
            assert!(
                data.capabilities.iter().any(|c| c.category == category),
                "{} has a capability",
                category.name()
            );
        }
    }

    #[test]
    fn annex_c_groups_have_the_right_chair_and_cadence() {
        let data = data();
        let expected = [
            (
                "NSTCG",
                GroupLevel::National,
                GroupPurpose::Strategic,
                "Director General NCA",
                Cadence::SixMonthly,
                None,
            ),
            (
                "RSTCG",
                GroupLevel::Regional,
                GroupPurpose::Strategic,
                "Regional National Policing Chair",
                Cadence::SixMonthly,
                None,
            ),
            (
                "NTTCG",
                GroupLevel::National,
                GroupPurpose::Tactical,
                "Deputy Director General NCA",
                Cadence::Quarterly,
                None,
            ),
            (
                "NTIG",
                GroupLevel::National,
                GroupPurpose::TacticalIntelligence,
                "Deputy Director Intelligence Hub",
                Cadence::SixWeekly,
                Some("nttcg"),
            ),
            (
                "RTIG",
                GroupLevel::Regional,
                GroupPurpose::TacticalIntelligence,
                "Head of the ROCU",
                Cadence::NotStated,
                Some("rttcg"),
            ),
            (
                "RTTCG",
                GroupLevel::Regional,
                GroupPurpose::Tactical,
                "Regional national policing lead",
                Cadence::NotStated,
                None,
            ),
            (
                "NSIG",
                GroupLevel::National,
                GroupPurpose::StrategicIntelligence,
                "Not stated",
                Cadence::NotStated,
                Some("nstcg"),
            ),
            (
                "SGG",
                GroupLevel::National,
                GroupPurpose::Governance,
                "Not stated",
                Cadence::NotStated,
                Some("nttcg"),
            ),
            (
                "DBM",
                GroupLevel::National,
                GroupPurpose::DailyManagement,
                "Senior NCA officer",
                Cadence::Daily,
                None,
            ),
        ];
        for (acronym, level, purpose, chair, cadence, reports_to) in expected {
            let g = data
                .groups
                .iter()
                .find(|g| g.acronym == acronym)
                .unwrap_or_else(|| panic!("group {acronym} is present"));
            assert_eq!(g.level, level, "{acronym}");
            assert_eq!(g.purpose, purpose, "{acronym}");
            assert_eq!(g.chair, chair, "{acronym}");
            assert_eq!(g.cadence, cadence, "{acronym}");
            assert_eq!(g.reports_to.as_deref(), reports_to, "{acronym}");
        }
        // The daily management meetings feed the DBM (Annex C ¶3).
        for name in [
            "NCA Daily Management Meeting",
            "Regional Daily Management Meeting",
        ] {
            let g = data
                .groups
                .iter()
                .find(|g| g.name == name)
                .unwrap_or_else(|| panic!("{name} is present"));
            assert_eq!(g.cadence, Cadence::Daily);
            assert_eq!(g.purpose, GroupPurpose::DailyManagement);
            assert_eq!(g.reports_to.as_deref(), Some("dbm"));
        }
        assert_eq!(data.groups.len(), expected.len() + 2);
    }

    #[test]
    fn org_code_parse() {
        for ok in [
            "nca",
            "ab",
            "west-yorkshire",
            "jbiu-north",
            "a1",
            &"a".repeat(40),
        ] {
            let c = OrgCode::parse(ok).expect("valid code");
            assert_eq!(c.as_str(), ok);
            assert_eq!(c.to_string(), ok);
            assert_eq!(ok.parse::<OrgCode>().as_ref(), Ok(&c));
        }
        for bad in [
            "",
            "a",
            "1abc",
            "-abc",
            "NCA",
            "west_yorkshire",
            "west yorkshire",
            "café",
            &"a".repeat(41),
        ] {
            let err = OrgCode::parse(bad).expect_err("invalid code");
            assert!(
                err.to_string().contains("invalid organisation code"),
                "{err}"
            );
        }
    }

    #[test]
    fn org_code_serde_is_a_validated_string() {
        let c: OrgCode = serde_json::from_str("\"nca-ecc\"").expect("valid");
        assert_eq!(c.as_str(), "nca-ecc");
        assert_eq!(
            serde_json::to_string(&c).expect("serialises"),
            "\"nca-ecc\""
        );
        let err = serde_json::from_str::<OrgCode>("\"Bad Code\"").expect_err("invalid");
        assert!(
            err.to_string()
                .contains("invalid organisation code `Bad Code`"),
            "{err}"
        );
    }

    #[test]
    fn enum_text_matches_serde_and_round_trips() {
        fn check<T>(all: &[T])
        where
            T: Serialize + FromStr<Err = RegistryError> + PartialEq + fmt::Debug + Copy,
            T: AsStrForTest,
        {
            for v in all {
                let json = serde_json::to_string(v).expect("serialises");
                assert_eq!(json, format!("\"{}\"", v.text()));
                assert_eq!(v.text().parse::<T>().as_ref(), Ok(v));
            }
        }
        check(&OrganisationKind::ALL);
        check(&Jurisdiction::ALL);
        check(&RocuRegion::ALL);
        check(&Engagement::ALL);
        check(&CapabilityCategory::ALL);
        check(&CapabilityKind::ALL);
        check(&GroupLevel::ALL);
        check(&GroupPurpose::ALL);
        check(&Cadence::ALL);
        assert_eq!(
            RocuRegion::YorkshireAndTheHumber.name(),
            "Yorkshire and the Humber"
        );
        let err = "nowhere".parse::<RocuRegion>().expect_err("unknown region");
        assert_eq!(
            err.to_string(),
            "unknown ROCU region `nowhere`; expected one of: north-east, north-west, \
             yorkshire-and-the-humber, east-midlands, west-midlands, eastern, south-east, \
             south-west, london, southern-wales"
        );
    }

    trait AsStrForTest {
        fn text(&self) -> &'static str;
    }
    macro_rules! as_str_for_test {
        ($($t:ty),+) => { $(impl AsStrForTest for $t { fn text(&self) -> &'static str { self.as_str() } })+ };
    }
    as_str_for_test!(
        OrganisationKind,
        Jurisdiction,
        RocuRegion,
        Engagement,
        CapabilityCategory,
        CapabilityKind,
        GroupLevel,
        GroupPurpose,
        Cadence
    );

    #[test]
    fn jurisdictions_set_semantics() {
        use Jurisdiction::*;
        let j = Jurisdictions::new(vec![Scotland, EnglandAndWales, Scotland]).expect("non-empty");
        assert_eq!(j.iter().collect::<Vec<_>>(), [EnglandAndWales, Scotland]);
        assert!(!j.is_uk_wide());
        assert!(Jurisdictions::uk_wide().is_uk_wide());
        assert_eq!(
            Jurisdictions::new(vec![]),
            Err(RegistryError::EmptyJurisdictions)
        );
        assert_eq!(
            serde_json::to_string(&Jurisdictions::uk_wide()).expect("serialises"),
            r#"["england-and-wales","scotland","northern-ireland"]"#
        );
        let from_shorthand: Jurisdictions = serde_json::from_str("\"uk-wide\"").expect("shorthand");
        assert_eq!(from_shorthand, Jurisdictions::uk_wide());
        assert!(serde_json::from_str::<Jurisdictions>("\"scotland\"").is_err());
        assert!(serde_json::from_str::<Jurisdictions>("[]").is_err());
    }

    #[test]
    fn serialised_reference_data_round_trips() {
        let data = data();
        let json = serde_json::to_string(&data).expect("serialises");
        let back: ReferenceData = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, data);
        // Deserialising runs the cross-checks.
        let mut broken = data.clone();
        broken.organisations[1].parent = Some(code("nowhere"));
        let json = serde_json::to_string(&broken).expect("serialises");
        let err = serde_json::from_str::<ReferenceData>(&json).expect_err("cross-checked");
        assert!(
            err.to_string().contains("parent `nowhere` does not exist"),
            "{err}"
        );
    }

    // ---- Cross-check rules: small bad inputs ----

    /// A minimal valid organisations file: the agency, a command, a unit, one force and
    /// a ROCU for every region except `skip`.
    fn minimal_orgs(skip: Option<RocuRegion>) -> String {
        let mut s = String::from(
            r#"
[[organisation]]
code = "nca"
name = "National Crime Agency"
short_name = "NCA"
kind = "national-agency"
jurisdictions = "uk-wide"
engagement = "direct"

[[organisation]]
code = "nca-occ"
name = "Organised Crime Command"
short_name = "OCC"
kind = "national-agency-command"
jurisdictions = "uk-wide"
parent = "nca"

[[organisation]]
code = "nca-unit"
name = "A unit"
short_name = "Unit"
kind = "national-agency-unit"
jurisdictions = "uk-wide"
parent = "nca-occ"

[[organisation]]
code = "kent"
name = "Kent Police"
short_name = "Kent"
kind = "territorial-police"
jurisdictions = ["england-and-wales"]
region = "south-east"
"#,
        );
        for region in RocuRegion::ALL.into_iter().filter(|r| Some(*r) != skip) {
            s.push_str(&format!(
                "\n[[organisation]]\ncode = \"rocu-{r}\"\nname = \"ROCU {r}\"\nshort_name = \"ROCU\"\n\
                 kind = \"rocu\"\njurisdictions = [\"england-and-wales\"]\nregion = \"{r}\"\n",
                r = region.as_str()
            ));
        }
        s
    }

    const MINIMAL_CAPS: &str = r#"
[[capability]]
code = "lawful-intercept"
name = "Lawful Intercept"
category = "technical-collection"
kind = "capability"
owner = "nca-unit"
description = "Lawful intercept."
"#;

    const MINIMAL_GROUPS: &str = r#"
[[group]]
code = "nttcg"
name = "National Tactical Tasking and Coordination Group"
acronym = "NTTCG"
level = "national"
purpose = "tactical"
chair = "Deputy Director General NCA"
cadence = "quarterly"
remit = "Tasking."
source = "Annex C ¶2"
"#;

    /// Parses the minimal files with extra records appended, and expects an error whose
    /// message contains every fragment in `expected`.
    fn check(extra_orgs: &str, extra_caps: &str, extra_groups: &str, expected: &[&str]) {
        check_files(
            &(minimal_orgs(None) + extra_orgs),
            &(MINIMAL_CAPS.to_owned() + extra_caps),
            &(MINIMAL_GROUPS.to_owned() + extra_groups),
            expected,
        );
    }

    fn check_files(orgs: &str, caps: &str, groups: &str, expected: &[&str]) {
        let err = ReferenceData::parse(orgs, caps, groups).expect_err("the input is invalid");
        let msg = err.to_string();
        for fragment in expected {
            assert!(
                msg.contains(fragment),
                "`{msg}` should contain `{fragment}`"
            );
        }
    }

    fn org_toml(code: &str, kind: &str, jurisdictions: &str, extra: &str) -> String {
        format!(
            "\n[[organisation]]\ncode = \"{code}\"\nname = \"Name of {code}\"\nshort_name = \"{code}\"\n\
             kind = \"{kind}\"\njurisdictions = {jurisdictions}\n{extra}\n"
        )
    }

    #[test]
    fn minimal_files_are_valid() {
        let data = ReferenceData::parse(&minimal_orgs(None), MINIMAL_CAPS, MINIMAL_GROUPS)
            .expect("the minimal files are valid");
        assert_eq!(data.rocu_members(&code("rocu-south-east")).len(), 1);
        assert_eq!(org(&data, "kent").engagement, Engagement::ViaRegionalTier);
    }

    #[test]
    fn rejects_duplicate_codes() {
        check(
            &org_toml(
                "kent",
                "territorial-police",
                "[\"england-and-wales\"]",
                "region = \"south-east\"",
            ),
            "",
            "",
            &["organisations.toml", "duplicate organisation code `kent`"],
        );
        check(
            "",
            MINIMAL_CAPS,
            "",
            &[
                "capabilities.toml",
                "duplicate capability code `lawful-intercept`",
            ],
        );
        check(
            "",
            "",
            MINIMAL_GROUPS,
            &["groups.toml", "duplicate group code `nttcg`"],
        );
    }

    #[test]
    fn rejects_unknown_references() {
        check(
            &org_toml(
                "foo",
                "law-enforcement-agency",
                "\"uk-wide\"",
                "parent = \"bar\"",
            ),
            "",
            "",
            &["organisations.toml: organisation `foo`: parent `bar` does not exist"],
        );
        check(
            "",
            &MINIMAL_CAPS
                .replace("lawful-intercept", "other")
                .replace("nca-unit", "nca-nowhere"),
            "",
            &["capabilities.toml: capability `other`: owner `nca-nowhere` does not exist"],
        );
        check(
            "",
            "",
            &MINIMAL_GROUPS
                .replace("\"nttcg\"", "\"ntig\"")
                .replace("remit", "reports_to = \"nowhere\"\nremit"),
            &["groups.toml: group `ntig`: reports_to `nowhere` does not exist"],
        );
    }

    #[test]
    fn rejects_bad_regions() {
        let cases: &[(&str, &[&str])] = &[
            (
                &org_toml(
                    "surrey",
                    "territorial-police",
                    "[\"england-and-wales\"]",
                    "",
                ),
                &["organisation `surrey`", "`region` is required"],
            ),
            (
                &org_toml(
                    "scots",
                    "territorial-police",
                    "[\"scotland\"]",
                    "region = \"north-east\"",
                ),
                &[
                    "organisation `scots`",
                    "`region` must be absent",
                    "outside England and Wales",
                ],
            ),
            (
                &org_toml(
                    "isle",
                    "island-force",
                    "[\"crown-dependencies\"]",
                    "region = \"south-west\"",
                ),
                &["organisation `isle`", "`region` must be absent"],
            ),
            (
                &org_toml("jbiu-x", "jbiu", "\"uk-wide\"", "region = \"london\""),
                &["organisation `jbiu-x`", "`region` must be absent"],
            ),
            (
                &org_toml(
                    "two-places",
                    "territorial-police",
                    "[\"england-and-wales\", \"scotland\"]",
                    "region = \"london\"",
                ),
                &[
                    "organisation `two-places`",
                    "`jurisdictions`",
                    "exactly one",
                ],
            ),
        ];
        for (extra, expected) in cases {
            check(extra, "", "", expected);
        }
    }

    #[test]
    fn rejects_rocu_rule_breaches() {
        // A ROCU without a region.
        check(
            &org_toml("rocu-x", "rocu", "[\"england-and-wales\"]", ""),
            "",
            "",
            &["organisation `rocu-x`", "`region` is required"],
        );
        // A second ROCU in a region.
        check(
            &org_toml(
                "rocu-y",
                "rocu",
                "[\"england-and-wales\"]",
                "region = \"london\"",
            ),
            "",
            "",
            &[
                "region `london`",
                "more than one ROCU",
                "rocu-london, rocu-y",
            ],
        );
        // A region without a ROCU.
        check_files(
            &minimal_orgs(Some(RocuRegion::Eastern)),
            MINIMAL_CAPS,
            MINIMAL_GROUPS,
            &["organisations.toml: region `eastern`: no ROCU serves this region"],
        );
    }

    #[test]
    fn rejects_island_forces_outside_the_crown_dependencies() {
        check(
            &org_toml("isle", "island-force", "\"uk-wide\"", ""),
            "",
            "",
            &[
                "organisation `isle`",
                "`jurisdictions`",
                "crown-dependencies",
            ],
        );
        check(
            &org_toml(
                "isle",
                "island-force",
                "[\"crown-dependencies\", \"england-and-wales\"]",
                "",
            ),
            "",
            "",
            &["organisation `isle`", "`jurisdictions`"],
        );
    }

    #[test]
    fn rejects_parent_cycles() {
        let extra = org_toml(
            "agency-a",
            "law-enforcement-agency",
            "\"uk-wide\"",
            "parent = \"agency-b\"",
        ) + &org_toml(
            "agency-b",
            "law-enforcement-agency",
            "\"uk-wide\"",
            "parent = \"agency-a\"",
        );
        check(
            &extra,
            "",
            "",
            &[
                "organisation `agency-a`",
                "cycle",
                "agency-a -> agency-b -> agency-a",
            ],
        );
        check(
            &org_toml(
                "selfish",
                "law-enforcement-agency",
                "\"uk-wide\"",
                "parent = \"selfish\"",
            ),
            "",
            "",
            &["organisation `selfish`", "cycle"],
        );
        // Groups too.
        let groups = MINIMAL_GROUPS.replace("remit", "reports_to = \"nttcg\"\nremit");
        check_files(
            &minimal_orgs(None),
            MINIMAL_CAPS,
            &groups,
            &["group `nttcg`", "cycle"],
        );
    }

    #[test]
    fn rejects_bad_national_agency_hierarchy() {
        let cases: &[(&str, &[&str])] = &[
            // A unit under a unit.
            (
                &org_toml(
                    "nca-sub",
                    "national-agency-unit",
                    "\"uk-wide\"",
                    "parent = \"nca-unit\"",
                ),
                &[
                    "organisation `nca-sub`",
                    "`parent`",
                    "command or the national agency",
                ],
            ),
            // A unit under a police force.
            (
                &org_toml(
                    "nca-sub",
                    "national-agency-unit",
                    "\"uk-wide\"",
                    "parent = \"kent\"",
                ),
                &[
                    "organisation `nca-sub`",
                    "`parent`",
                    "not a territorial-police",
                ],
            ),
            // A unit without a parent.
            (
                &org_toml("nca-sub", "national-agency-unit", "\"uk-wide\"", ""),
                &["organisation `nca-sub`", "must have a command"],
            ),
            // A command under a command.
            (
                &org_toml(
                    "nca-cmd",
                    "national-agency-command",
                    "\"uk-wide\"",
                    "parent = \"nca-occ\"",
                ),
                &[
                    "organisation `nca-cmd`",
                    "`parent`",
                    "must be the national agency",
                ],
            ),
            // The agency with a parent.
            (
                &org_toml(
                    "nca-two",
                    "national-agency",
                    "\"uk-wide\"",
                    "parent = \"nca\"",
                ),
                &["organisation `nca-two`", "must not have a parent"],
            ),
        ];
        for (extra, expected) in cases {
            check(extra, "", "", expected);
        }
    }

    #[test]
    fn rejects_capabilities_owned_outside_the_national_agency() {
        check(
            "",
            &MINIMAL_CAPS
                .replace("lawful-intercept", "force-thing")
                .replace("nca-unit", "kent"),
            "",
            &[
                "capabilities.toml: capability `force-thing`",
                "`owner` `kent` is a territorial-police",
            ],
        );
    }

    #[test]
    fn rejects_malformed_files_with_the_line() {
        let cases: &[(&str, &[&str])] = &[
            // TOML syntax error.
            ("\n[[organisation]\n", &["organisations.toml", "line"]),
            // Bad code.
            (
                &org_toml("Bad_Code", "jbiu", "\"uk-wide\"", ""),
                &[
                    "organisations.toml",
                    "line",
                    "invalid organisation code `Bad_Code`",
                ],
            ),
            // Bad kind.
            (
                &org_toml("foo", "police", "\"uk-wide\"", ""),
                &["organisations.toml", "line", "police", "national-agency"],
            ),
            // Bad jurisdiction shorthand.
            (
                &org_toml("foo", "jbiu", "\"everywhere\"", ""),
                &["organisations.toml", "line", "everywhere", "uk-wide"],
            ),
            // Empty jurisdictions.
            (
                &org_toml("foo", "jbiu", "[]", ""),
                &["organisations.toml", "line", "at least one"],
            ),
            // Unknown field.
            (
                &org_toml("foo", "jbiu", "\"uk-wide\"", "regoin = \"london\""),
                &["organisations.toml", "line", "regoin"],
            ),
        ];
        for (extra, expected) in cases {
            check(extra, "", "", expected);
        }
        check(
            "",
            &MINIMAL_CAPS.replace("lawful-intercept", "bad code"),
            "",
            &["capabilities.toml: capability `bad code`: `code` may contain only"],
        );
        check(
            "",
            "",
            &MINIMAL_GROUPS.replace("quarterly", "monthly"),
            &["groups.toml", "line", "monthly"],
        );
        check(
            &org_toml("blank", "jbiu", "\"uk-wide\"", "").replace("Name of blank", " "),
            "",
            "",
            &["organisation `blank`: `name` must not be empty"],
        );
    }
}
