//! Directed tasking (¶9, ¶11): when the Director General may direct a chief officer,
//! and what must be on the record first.
//!
//! A direction is the last resort, for when voluntary arrangements cannot be made, or
//! cannot be made in time. Every condition here cites its paragraph, and a refused
//! draft lists every condition that failed, not just the first.

use crate::people::{DgAuthority, User};
use crate::registry::{BorderFunctions, Jurisdiction, Organisation, OrganisationKind};
use crate::tasking::Urgency;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who a direction can be given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DirectionRecipient {
    /// The chief officer of a territorial police force in England and Wales (¶9).
    EnglandAndWalesForce,
    /// The chief constable of the British Transport Police, with the Secretary of State
    /// for Transport's consent (¶9).
    BritishTransportPolice,
    /// Border Force and Home Office officials with border, immigration and customs
    /// functions, by policy, under a separate protocol (¶11).
    HomeOfficeBorderFunctions,
}

/// What became of the voluntary request that came before the direction (¶9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum VoluntaryAttempt {
    /// No voluntary request was made to the recipient.
    NotMade,
    /// The request is still open.
    Pending {
        /// Its urgency.
        urgency: Urgency,
        /// Whether its deadline can still be met.
        deadline: DeadlineOutlook,
    },
    /// The recipient accepted it.
    Accepted,
    /// The recipient declined it.
    Declined,
    /// It expired undecided.
    Expired,
}

/// Whether an open request's deadline can still be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineOutlook {
    /// There is still time for a voluntary answer.
    CanBeMet,
    /// A voluntary answer cannot come in time.
    CannotBeMet,
}

/// The Secretary of State for Transport's consent to directing the BTP (¶9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TransportConsent {
    /// Not asked for, or not yet answered.
    NotRecorded,
    /// Given, and recorded.
    Given,
    /// Refused.
    Refused,
}

/// Whether the protocol between the Home Secretary and the Director General on
/// border functions is recorded as in force (¶11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BorderProtocol {
    /// In force.
    InForce,
    /// Not in force.
    NotInForce,
}

/// The facts a direction is checked against.
#[derive(Debug, Clone, Copy)]
pub struct DirectionCase<'a> {
    /// Who drafts or issues it.
    pub drafter: &'a User,
    /// Whether the drafter belongs to the national agency or one of its commands or units.
    pub drafter_in_national_agency: bool,
    /// To whom.
    pub recipient: &'a Organisation,
    /// What became of the voluntary request.
    pub voluntary: VoluntaryAttempt,
    /// The Transport Secretary's consent, for the BTP.
    pub transport_consent: TransportConsent,
    /// The border protocol, for Home Office border functions.
    pub border_protocol: BorderProtocol,
}

/// A condition that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DirectionRefusal {
    /// Which condition: `authority`, `recipient`, `voluntary-route`, `consent`, `protocol`.
    pub condition: &'static str,
    /// The paragraph that sets it.
    pub paragraph: &'static str,
    /// What is wrong, in plain English.
    pub message: String,
}

fn refusal(
    condition: &'static str,
    paragraph: &'static str,
    message: impl Into<String>,
) -> DirectionRefusal {
    DirectionRefusal {
        condition,
        paragraph,
        message: message.into(),
    }
}

/// Whether `org` can receive a direction at all, and as what (¶9, ¶11).
pub fn recipient(org: &Organisation) -> Result<DirectionRecipient, DirectionRefusal> {
    if org.border_functions == BorderFunctions::HomeSecretary {
        return Ok(DirectionRecipient::HomeOfficeBorderFunctions);
    }
    match org.kind {
        OrganisationKind::TerritorialPolice
            if org.jurisdictions.is_only(Jurisdiction::EnglandAndWales) =>
        {
            Ok(DirectionRecipient::EnglandAndWalesForce)
        }
        OrganisationKind::BritishTransportPolice => Ok(DirectionRecipient::BritishTransportPolice),
        OrganisationKind::TerritorialPolice => Err(refusal(
            "recipient",
            "¶9",
            format!(
                "{} is not a police force in England and Wales; directions reach only those forces and the BTP",
                org.name
            ),
        )),
        OrganisationKind::IslandForce => Err(refusal(
            "recipient",
            "¶9",
            format!(
                "{} is an island force; island partners work with the agency by voluntary arrangement only",
                org.name
            ),
        )),
        kind if kind.is_national_agency_body() => Err(refusal(
            "recipient",
            "¶9",
            "the national agency does not direct itself; task it through its own tasking",
        )),
        _ => Err(refusal(
            "recipient",
            "¶9",
            format!(
                "{} cannot be directed: only England and Wales forces, the BTP and (¶11) Home Office border functions can",
                org.name
            ),
        )),
    }
}

/// Checks a draft direction: the drafter's authority, the recipient, and that the
/// voluntary route is exhausted or too slow (¶9, ¶11). Returns every failure.
pub fn check_draft(case: &DirectionCase<'_>) -> Result<DirectionRecipient, Vec<DirectionRefusal>> {
    let mut failures = vec![];
    if case.drafter.dg_authority != DgAuthority::Delegated || !case.drafter_in_national_agency {
        failures.push(refusal(
            "authority",
            "¶9",
            "only the Director General, or someone holding the Director General's delegated authority, may direct",
        ));
    }
    let recipient = recipient(case.recipient).map_err(|r| failures.push(r)).ok();
    match case.voluntary {
        VoluntaryAttempt::Declined | VoluntaryAttempt::Expired => {}
        VoluntaryAttempt::Pending {
            urgency: Urgency::Immediate | Urgency::Urgent,
            deadline: DeadlineOutlook::CannotBeMet,
        } => {}
        VoluntaryAttempt::Pending { urgency: Urgency::Routine, .. } => failures.push(refusal(
            "voluntary-route",
            "¶9",
            "a routine request is still open: wait for the voluntary answer",
        )),
        VoluntaryAttempt::Pending { .. } => failures.push(refusal(
            "voluntary-route",
            "¶9",
            "the open request's deadline can still be met: wait for the voluntary answer",
        )),
        VoluntaryAttempt::Accepted => failures.push(refusal(
            "voluntary-route",
            "¶9",
            "the recipient accepted the voluntary request; there is nothing to direct",
        )),
        VoluntaryAttempt::NotMade => failures.push(refusal(
            "voluntary-route",
            "¶9",
            "ask the recipient voluntarily first; a direction is for when that fails or cannot be in time",
        )),
    }
    if recipient == Some(DirectionRecipient::HomeOfficeBorderFunctions)
        && case.border_protocol != BorderProtocol::InForce
    {
        failures.push(refusal(
            "protocol",
            "¶11",
            "the protocol between the Home Secretary and the Director General is not recorded as in force",
        ));
    }
    match (recipient, failures.is_empty()) {
        (Some(r), true) => Ok(r),
        _ => Err(failures),
    }
}

/// Checks a direction at issue: everything a draft needs, and for the BTP the
/// Transport Secretary's recorded consent (¶9).
pub fn check_issue(case: &DirectionCase<'_>) -> Result<DirectionRecipient, Vec<DirectionRefusal>> {
    let drafted = check_draft(case);
    let consent = match case.transport_consent {
        TransportConsent::Given => None,
        TransportConsent::NotRecorded => {
            Some("the Secretary of State for Transport's consent is not recorded")
        }
        TransportConsent::Refused => Some("the Secretary of State for Transport refused consent"),
    };
    let needs_consent = |r: &DirectionRecipient| *r == DirectionRecipient::BritishTransportPolice;
    match (drafted, consent) {
        (Ok(r), Some(why)) if needs_consent(&r) => Err(vec![refusal("consent", "¶9", why)]),
        (Err(mut failures), Some(why))
            if recipient(case.recipient).is_ok_and(|r| needs_consent(&r)) =>
        {
            failures.push(refusal("consent", "¶9", why));
            Err(failures)
        }
        (result, _) => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::{Clearance, DisplayName, Role, Roles, UserId, UserStatus, Username};
    use crate::registry::{OrgCode, ReferenceData};
    use crate::time::Timestamp;

    fn delegate() -> User {
        User {
            id: UserId::new(),
            username: Username::parse("nca.director").expect("valid"),
            display_name: DisplayName::parse("Director").expect("valid"),
            organisation: OrgCode::parse("nca").expect("valid"),
            roles: Roles::new([Role::SeniorDecisionMaker]).expect("valid"),
            clearance: Clearance::Dv,
            dg_authority: DgAuthority::Delegated,
            status: UserStatus::Active,
            must_change_password: false,
            created_at: Timestamp::now(),
        }
    }

    fn org(code: &str) -> Organisation {
        ReferenceData::builtin()
            .expect("data")
            .organisation(&OrgCode::parse(code).expect("code"))
            .expect("exists")
            .clone()
    }

    fn case<'a>(drafter: &'a User, recipient: &'a Organisation) -> DirectionCase<'a> {
        DirectionCase {
            drafter,
            drafter_in_national_agency: true,
            recipient,
            voluntary: VoluntaryAttempt::Declined,
            transport_consent: TransportConsent::NotRecorded,
            border_protocol: BorderProtocol::NotInForce,
        }
    }

    fn conditions(result: Result<DirectionRecipient, Vec<DirectionRefusal>>) -> Vec<&'static str> {
        result
            .err()
            .unwrap_or_default()
            .iter()
            .map(|r| r.condition)
            .collect()
    }

    /// ¶9: forces in England and Wales and the BTP can be directed; ¶11 border functions.
    #[test]
    fn each_kind_of_recipient_is_allowed_or_refused() {
        for (code, expected) in [
            ("kent", Ok(DirectionRecipient::EnglandAndWalesForce)),
            ("mps", Ok(DirectionRecipient::EnglandAndWalesForce)),
            ("dyfed-powys", Ok(DirectionRecipient::EnglandAndWalesForce)),
            ("btp", Ok(DirectionRecipient::BritishTransportPolice)),
            (
                "border-force",
                Ok(DirectionRecipient::HomeOfficeBorderFunctions),
            ),
            (
                "immigration-enforcement",
                Ok(DirectionRecipient::HomeOfficeBorderFunctions),
            ),
            ("police-scotland", Err("recipient")),
            ("psni", Err("recipient")),
            ("jersey-police", Err("recipient")),
            ("guernsey-police", Err("recipient")),
            ("isle-of-man-constabulary", Err("recipient")),
            ("hmrc", Err("recipient")),
            ("sfo", Err("recipient")),
            ("titan", Err("recipient")),
            ("nca", Err("recipient")),
            ("nca-occ", Err("recipient")),
            ("home-office", Err("recipient")),
        ] {
            let got = recipient(&org(code)).map_err(|r| {
                assert_eq!(r.paragraph, "¶9", "{code}");
                r.condition
            });
            assert_eq!(got, expected, "{code}");
        }
    }

    /// ¶9: the BTP only with the Transport Secretary's consent recorded before issue.
    #[test]
    fn the_btp_needs_the_transport_secretarys_consent_to_issue() {
        let (user, btp) = (delegate(), org("btp"));
        let mut c = case(&user, &btp);
        assert_eq!(
            check_draft(&c),
            Ok(DirectionRecipient::BritishTransportPolice)
        );
        assert_eq!(conditions(check_issue(&c)), vec!["consent"]);
        c.transport_consent = TransportConsent::Refused;
        assert_eq!(conditions(check_issue(&c)), vec!["consent"]);
        c.transport_consent = TransportConsent::Given;
        assert_eq!(
            check_issue(&c),
            Ok(DirectionRecipient::BritishTransportPolice)
        );
        // A force needs no consent.
        let kent = org("kent");
        assert_eq!(
            check_issue(&case(&user, &kent)),
            Ok(DirectionRecipient::EnglandAndWalesForce)
        );
    }

    /// ¶11: Border Force only while the separate protocol is in force.
    #[test]
    fn border_functions_need_the_protocol_in_force() {
        let (user, border) = (delegate(), org("border-force"));
        let mut c = case(&user, &border);
        let refused = check_draft(&c).expect_err("no protocol");
        assert_eq!(refused[0].condition, "protocol");
        assert_eq!(refused[0].paragraph, "¶11");
        c.border_protocol = BorderProtocol::InForce;
        assert_eq!(
            check_issue(&c),
            Ok(DirectionRecipient::HomeOfficeBorderFunctions)
        );
    }

    /// ¶9: only when voluntary arrangements cannot be made, or not in time.
    #[test]
    fn the_voluntary_route_must_be_exhausted_or_too_slow() {
        let (user, kent) = (delegate(), org("kent"));
        let mut c = case(&user, &kent);
        for (voluntary, allowed) in [
            (VoluntaryAttempt::Declined, true),
            (VoluntaryAttempt::Expired, true),
            (
                VoluntaryAttempt::Pending {
                    urgency: Urgency::Immediate,
                    deadline: DeadlineOutlook::CannotBeMet,
                },
                true,
            ),
            (
                VoluntaryAttempt::Pending {
                    urgency: Urgency::Urgent,
                    deadline: DeadlineOutlook::CannotBeMet,
                },
                true,
            ),
            (
                VoluntaryAttempt::Pending {
                    urgency: Urgency::Immediate,
                    deadline: DeadlineOutlook::CanBeMet,
                },
                false,
            ),
            (
                VoluntaryAttempt::Pending {
                    urgency: Urgency::Routine,
                    deadline: DeadlineOutlook::CannotBeMet,
                },
                false,
            ),
            (
                VoluntaryAttempt::Pending {
                    urgency: Urgency::Routine,
                    deadline: DeadlineOutlook::CanBeMet,
                },
                false,
            ),
            (VoluntaryAttempt::Accepted, false),
            (VoluntaryAttempt::NotMade, false),
        ] {
            c.voluntary = voluntary;
            let result = check_draft(&c);
            assert_eq!(result.is_ok(), allowed, "{voluntary:?}");
            if !allowed {
                assert_eq!(conditions(result), vec!["voluntary-route"], "{voluntary:?}");
            }
        }
    }

    /// ¶9: the Director General, or a holder of the delegated authority, directs.
    #[test]
    fn only_the_directors_delegates_may_direct_and_every_failure_is_listed() {
        let mut user = delegate();
        user.dg_authority = DgAuthority::None;
        let scotland = org("police-scotland");
        let mut c = case(&user, &scotland);
        c.voluntary = VoluntaryAttempt::NotMade;
        assert_eq!(
            conditions(check_draft(&c)),
            vec!["authority", "recipient", "voluntary-route"]
        );
        let delegate = delegate();
        let kent = org("kent");
        let mut c = case(&delegate, &kent);
        c.drafter_in_national_agency = false;
        assert_eq!(conditions(check_draft(&c)), vec!["authority"]);
    }
}
