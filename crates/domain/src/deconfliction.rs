//! Subject deconfliction (Annex A, Annex E; DESIGN part 7): registrations of interest,
//! what each side of a hit may be told, and how hits are resolved.
//!
//! The matching itself is the `matching` crate's; these are the rules of disclosure.
//! Neither side ever sees the other's record: a hit says that there is a match, how
//! strong it is and which kinds of field agree, and — as far as the other side allows —
//! who to call.

use crate::operation::OperationId;
use crate::people::{FieldError, text_enum};
use crate::registry::OrgCode;
use crate::text::{bounded_text, uuid_id};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

uuid_id! {
    /// A registration's identifier.
    RegistrationId, "registration_id"
}

uuid_id! {
    /// A hit's identifier.
    HitId, "hit_id"
}

text_enum! {
    /// How much the other side of a hit is told about this registration, set by its
    /// owner.
    Disclosure, "disclosure" {
        /// The other side sees the organisation, the point of contact and (if given) the
        /// operation reference.
        Open = "open",
        /// The other side sees only the organisation's name.
        AgencyNameOnly = "agency-name-only",
        /// The other side is told nothing; the owner is told and decides whether to make
        /// contact.
        Restricted = "restricted",
    }
}

text_enum! {
    /// What a hit turned out to be.
    Resolution, "resolution" {
        /// The same person (or group, vehicle...): the two sides have talked.
        SamePerson = "same-person",
        /// Not the same: the pair is never raised again.
        DifferentPerson = "different-person",
        /// The same, and the activity is deconflicted.
        Deconflicted = "deconflicted",
    }
}

bounded_text! {
    /// A point of contact's name.
    ContactName, "point_of_contact.name", 120, false, "DS Jane Smith"
}

bounded_text! {
    /// A point of contact's telephone number or email address.
    ContactDetail, "point_of_contact.detail", 200, false, "020 7946 0000, jane.smith@example.police.uk"
}

bounded_text! {
    /// The owner's own reference for the operation or interest.
    OperationReference, "operation_reference", 80, false, "Op NIGHTJAR / 24-117"
}

/// Who to call about a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointOfContact {
    /// Their name.
    pub name: ContactName,
    /// How to reach them.
    pub detail: ContactDetail,
}

/// A deconfliction reference number, `DCN-YYYY-NNNNNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "DCN-2026-000042")]
pub struct DeconflictionRef(String);

impl DeconflictionRef {
    /// The reference for the `number`th registration of `year`.
    pub fn new(year: i32, number: i64) -> Self {
        Self(format!("DCN-{year:04}-{number:06}"))
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeconflictionRef {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl FromStr for DeconflictionRef {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('-').collect();
        let digits = |p: &str, n: usize| p.len() >= n && p.bytes().all(|b| b.is_ascii_digit());
        match parts.as_slice() {
            ["DCN", year, number] if digits(year, 4) && digits(number, 6) => Ok(Self(s.to_owned())),
            _ => Err(FieldError::new(
                "reference",
                "is not a deconfliction reference (DCN-YYYY-NNNNNN)",
            )),
        }
    }
}

impl From<DeconflictionRef> for String {
    fn from(value: DeconflictionRef) -> Self {
        value.0
    }
}

impl fmt::Display for DeconflictionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registration as its owner sees it (the record itself is kept by the store and
/// the engine, and shown only to the owner's organisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    /// Its identifier.
    pub id: RegistrationId,
    /// Its deconfliction reference number.
    pub reference: DeconflictionRef,
    /// The organisation with the interest.
    #[schema(value_type = String)]
    pub organisation: OrgCode,
    /// What kind of record: person, group, business, vehicle, phone, address.
    pub kind: String,
    /// The operation it is registered against, if any (otherwise a standalone interest).
    pub operation: Option<OperationId>,
    /// The owner's own reference, shown to the other side when disclosure is open.
    pub operation_reference: Option<OperationReference>,
    /// Who to call.
    pub point_of_contact: PointOfContact,
    /// What the other side of a hit is told.
    pub disclosure: Disclosure,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// When it stops matching unless renewed.
    pub expires_at: Timestamp,
    /// When it was withdrawn, if it was.
    pub withdrawn_at: Option<Timestamp>,
}

impl Registration {
    /// Whether it still takes part in matching at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.withdrawn_at.is_none() && now < self.expires_at
    }
}

/// What one side of a hit is told about the other (Annex A: contact, never intelligence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OtherSide {
    /// The other organisation, unless it registered as restricted.
    #[schema(value_type = Option<String>)]
    pub organisation: Option<OrgCode>,
    /// Who to call, if the other side's disclosure is open.
    pub point_of_contact: Option<PointOfContact>,
    /// The other side's operation reference, if open and given.
    pub operation_reference: Option<OperationReference>,
    /// The other side's disclosure level.
    pub disclosure: Disclosure,
}

/// Whether `mine`'s owner is told of a hit with `theirs` at all: not when the other
/// side is restricted, unless this side is restricted too (then its owner is told, and
/// decides whether to make contact).
pub fn is_told(mine: Disclosure, theirs: Disclosure) -> bool {
    theirs != Disclosure::Restricted || mine == Disclosure::Restricted
}

/// What the owner of one registration is told about the other side of a hit, as the
/// other side's disclosure allows.
pub fn other_side(theirs: &Registration) -> OtherSide {
    let open = theirs.disclosure == Disclosure::Open;
    OtherSide {
        organisation: (theirs.disclosure != Disclosure::Restricted)
            .then(|| theirs.organisation.clone()),
        point_of_contact: open.then(|| theirs.point_of_contact.clone()),
        operation_reference: if open {
            theirs.operation_reference.clone()
        } else {
            None
        },
        disclosure: theirs.disclosure,
    }
}

/// The plain statement every answer to a registration carries.
pub const NOT_EXHAUSTIVE: &str = "A clean result does not rule out a conflict: agencies that do not use Concordat, and registrations that have expired, are not checked.";

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(org: &str, disclosure: Disclosure) -> Registration {
        Registration {
            id: RegistrationId::new(),
            reference: DeconflictionRef::new(2026, 1),
            organisation: OrgCode::parse(org).expect("valid"),
            kind: "person".to_owned(),
            operation: None,
            operation_reference: Some(OperationReference::parse("Op WREN").expect("valid")),
            point_of_contact: PointOfContact {
                name: ContactName::parse("DS Smith").expect("valid"),
                detail: ContactDetail::parse("020 7946 0000").expect("valid"),
            },
            disclosure,
            registered_at: Timestamp::now(),
            expires_at: Timestamp::now().plus(chrono::Duration::days(730)),
            withdrawn_at: None,
        }
    }

    /// Open: organisation, contact and operation reference; agency name only: the
    /// organisation; restricted: nothing.
    #[test]
    fn each_disclosure_level_tells_the_other_side_only_what_it_allows() {
        let open = other_side(&registration("kent", Disclosure::Open));
        assert_eq!(
            open.organisation.map(|o| o.to_string()),
            Some("kent".into())
        );
        assert!(open.point_of_contact.is_some() && open.operation_reference.is_some());
        let name_only = other_side(&registration("kent", Disclosure::AgencyNameOnly));
        assert!(name_only.organisation.is_some());
        assert!(name_only.point_of_contact.is_none() && name_only.operation_reference.is_none());
        let restricted = other_side(&registration("kent", Disclosure::Restricted));
        assert_eq!(restricted.organisation, None);
        assert!(restricted.point_of_contact.is_none());
    }

    /// Restricted: the other side is told nothing; the restricted owner is told.
    #[test]
    fn a_restricted_registration_is_hidden_from_the_other_side_but_its_owner_is_told() {
        use Disclosure::*;
        assert!(is_told(Open, Open));
        assert!(is_told(Open, AgencyNameOnly));
        assert!(!is_told(Open, Restricted));
        assert!(!is_told(AgencyNameOnly, Restricted));
        assert!(is_told(Restricted, Open));
        assert!(is_told(Restricted, Restricted));
    }

    #[test]
    fn references_have_one_form_and_registrations_expire() {
        let r = DeconflictionRef::new(2026, 42);
        assert_eq!(r.as_str(), "DCN-2026-000042");
        assert_eq!("DCN-2026-000042".parse::<DeconflictionRef>(), Ok(r));
        assert!("DCN-26-1".parse::<DeconflictionRef>().is_err());
        let mut reg = registration("kent", Disclosure::Open);
        assert!(reg.is_live(Timestamp::now()));
        assert!(!reg.is_live(reg.expires_at));
        reg.withdrawn_at = Some(Timestamp::now());
        assert!(!reg.is_live(Timestamp::now()));
    }
}
