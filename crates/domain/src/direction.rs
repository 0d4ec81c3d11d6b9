//! Directed tasking (¶9, ¶11): when the Director General may direct a chief officer,
//! and what must be on the record first.
//!
//! A direction is the last resort, for when voluntary arrangements cannot be made, or
//! cannot be made in time. Every condition here cites its paragraph, and a refused
//! draft lists every condition that failed, not just the first.

use crate::people::{DgAuthority, FieldError, User, UserId, text_enum};
use crate::registry::{BorderFunctions, Jurisdiction, OrgCode, Organisation, OrganisationKind};
use crate::tasking::{Request, RequestId, RequestState, Urgency};
use crate::text::{bounded_text, uuid_id};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

text_enum! {
    /// Who a direction can be given to.
    DirectionRecipient, "recipient_kind" {
        /// The chief officer of a territorial police force in England and Wales (¶9).
        EnglandAndWalesForce = "england-and-wales-force",
        /// The chief constable of the British Transport Police, with the Secretary of
        /// State for Transport's consent (¶9).
        BritishTransportPolice = "british-transport-police",
        /// Border Force and Home Office officials with border, immigration and customs
        /// functions, by policy, under a separate protocol (¶11).
        HomeOfficeBorderFunctions = "home-office-border-functions",
    }
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

text_enum! {
    /// The Secretary of State for Transport's consent to directing the BTP (¶9).
    TransportConsent, "transport_consent" {
        /// Not asked for, or not yet answered.
        NotRecorded = "not-recorded",
        /// Given, and recorded.
        Given = "given",
        /// Refused.
        Refused = "refused",
    }
}

text_enum! {
    /// Whether the protocol between the Home Secretary and the Director General on
    /// border functions is recorded as in force (¶11).
    BorderProtocol, "state" {
        /// In force.
        InForce = "in-force",
        /// Not in force.
        NotInForce = "not-in-force",
    }
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

impl VoluntaryAttempt {
    /// What became of `request` as the voluntary route to a direction needed by
    /// `needed_by`, at `now` (¶9).
    ///
    /// An open request cannot be answered in time when it is flagged overdue, when its
    /// deadline has passed, or when the direction is needed before the request's
    /// deadline. A request never sent (a draft) or withdrawn was never made.
    pub fn of(request: &Request, needed_by: Option<Timestamp>, now: Timestamp) -> Self {
        match request.state {
            RequestState::Accepted => Self::Accepted,
            RequestState::DeclinedWithReferral => Self::Declined,
            RequestState::Expired => Self::Expired,
            RequestState::Draft | RequestState::Withdrawn => Self::NotMade,
            RequestState::Submitted | RequestState::UnderAssessment => {
                let too_late = request.overdue
                    || request
                        .respond_by
                        .is_some_and(|by| by < now || needed_by.is_some_and(|needed| needed < by));
                Self::Pending {
                    urgency: request.urgency,
                    deadline: if too_late {
                        DeadlineOutlook::CannotBeMet
                    } else {
                        DeadlineOutlook::CanBeMet
                    },
                }
            }
        }
    }
}

uuid_id! {
    /// A direction's identifier.
    DirectionId, "id"
}

bounded_text! {
    /// What the direction requires the chief officer to do.
    Instructions, "instructions", 20000, true, "Provide a firearms surveillance team for Operation ..."
}

bounded_text! {
    /// A note on a step of a direction: the Transport Secretary's answer, the outcome.
    DirectionNote, "note", 4000, true, "Consent given by letter of 3 March"
}

text_enum! {
    /// Where a direction stands.
    DirectionState, "state" {
        /// Written and checked against ¶9 and ¶11; not yet given.
        Drafted = "drafted",
        /// The Secretary of State for Transport has been asked for consent (BTP only).
        ConsentRequested = "consent-requested",
        /// The Secretary of State for Transport consented.
        ConsentGiven = "consent-given",
        /// The Secretary of State for Transport refused; it cannot be issued.
        ConsentRefused = "consent-refused",
        /// Given to the chief officer.
        Issued = "issued",
        /// The recipient has acknowledged it.
        Acknowledged = "acknowledged",
        /// The recipient complied.
        Complied = "complied",
        /// The recipient did not comply.
        NotComplied = "not-complied",
    }
}

/// Something that happens to a direction after it is drafted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DirectionEvent {
    /// The Transport Secretary is asked for consent (BTP only).
    RequestConsent,
    /// The Transport Secretary's consent is recorded.
    GiveConsent,
    /// The Transport Secretary's refusal is recorded.
    RefuseConsent,
    /// The direction is given to the chief officer.
    Issue,
    /// The recipient acknowledges it.
    Acknowledge,
    /// The recipient is recorded as having complied.
    Comply,
    /// The recipient is recorded as not having complied.
    NotComply,
}

impl DirectionEvent {
    /// The event's stable text, as its history shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestConsent => "request-consent",
            Self::GiveConsent => "give-consent",
            Self::RefuseConsent => "refuse-consent",
            Self::Issue => "issue",
            Self::Acknowledge => "acknowledge",
            Self::Comply => "comply",
            Self::NotComply => "not-comply",
        }
    }
}

impl fmt::Display for DirectionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_enum! {
    /// The Secretary of State for Transport's answer to a request for consent (¶9).
    ConsentAnswer, "answer" {
        /// Consent given.
        Given = "given",
        /// Consent refused.
        Refused = "refused",
    }
}

impl ConsentAnswer {
    /// The event that records this answer.
    pub fn event(self) -> DirectionEvent {
        match self {
            Self::Given => DirectionEvent::GiveConsent,
            Self::Refused => DirectionEvent::RefuseConsent,
        }
    }
}

text_enum! {
    /// Whether the recipient complied with a direction.
    ComplianceOutcome, "outcome" {
        /// Complied.
        Complied = "complied",
        /// Did not comply.
        NotComplied = "not-complied",
    }
}

impl ComplianceOutcome {
    /// The event that records this outcome.
    pub fn event(self) -> DirectionEvent {
        match self {
            Self::Complied => DirectionEvent::Comply,
            Self::NotComplied => DirectionEvent::NotComply,
        }
    }
}

/// A change a direction does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectionChangeError {
    /// The event is not possible in the direction's state.
    #[error("`{event}` is not possible while the direction is {from}")]
    NotNow {
        /// The state it was in.
        from: DirectionState,
        /// What was attempted.
        event: DirectionEvent,
    },
    /// Only a direction to the BTP asks for the Transport Secretary's consent (¶9).
    #[error(
        "only a direction to the British Transport Police needs the Secretary of State for Transport's consent (¶9)"
    )]
    ConsentNotNeeded,
}

impl DirectionState {
    /// The state after `event`, if the event is allowed now.
    pub fn apply(self, event: DirectionEvent) -> Result<Self, DirectionChangeError> {
        use DirectionEvent as E;
        use DirectionState as S;
        Ok(match (self, event) {
            (S::Drafted, E::RequestConsent) => S::ConsentRequested,
            (S::ConsentRequested, E::GiveConsent) => S::ConsentGiven,
            (S::ConsentRequested, E::RefuseConsent) => S::ConsentRefused,
            // Whether a draft to the BTP may be issued without consent is for
            // `check_issue`, which refuses it citing ¶9.
            (S::Drafted | S::ConsentGiven, E::Issue) => S::Issued,
            (S::Issued, E::Acknowledge) => S::Acknowledged,
            (S::Issued | S::Acknowledged, E::Comply) => S::Complied,
            (S::Issued | S::Acknowledged, E::NotComply) => S::NotComplied,
            (from, event) => return Err(DirectionChangeError::NotNow { from, event }),
        })
    }

    /// Whether nothing more can happen to the direction.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::ConsentRefused | Self::Complied | Self::NotComplied
        )
    }
}

/// A direction from the Director General, or a delegate, to a chief officer (¶9, ¶11).
///
/// Invariants: `issued_by`/`issued_at` are set from issue on, `acknowledged_by`/
/// `acknowledged_at` from acknowledgement on, and `transport_consent` is
/// `NotRecorded` unless the recipient is the BTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Direction {
    /// Its identifier.
    pub id: DirectionId,
    /// The organisation directed.
    #[schema(value_type = String)]
    pub recipient: OrgCode,
    /// What sort of recipient it is, which decides the conditions.
    pub recipient_kind: DirectionRecipient,
    /// The voluntary request that came before it, if one was made.
    pub request: Option<RequestId>,
    /// What the chief officer is directed to do.
    pub instructions: Instructions,
    /// When it must be acted on by, if it says.
    pub needed_by: Option<Timestamp>,
    /// Where it stands.
    pub state: DirectionState,
    /// The Transport Secretary's consent, for the BTP.
    pub transport_consent: TransportConsent,
    /// Who drafted it.
    pub drafted_by: UserId,
    /// When.
    pub drafted_at: Timestamp,
    /// Who issued it.
    pub issued_by: Option<UserId>,
    /// When.
    pub issued_at: Option<Timestamp>,
    /// Who acknowledged it for the recipient.
    pub acknowledged_by: Option<UserId>,
    /// When.
    pub acknowledged_at: Option<Timestamp>,
    /// What was recorded with the outcome.
    pub compliance_note: Option<DirectionNote>,
}

impl Direction {
    /// The direction after `event`, done by `by` at `at` with `note`.
    pub fn after(
        &self,
        event: DirectionEvent,
        by: UserId,
        at: Timestamp,
        note: Option<&DirectionNote>,
    ) -> Result<Self, DirectionChangeError> {
        let consent_event = matches!(
            event,
            DirectionEvent::RequestConsent
                | DirectionEvent::GiveConsent
                | DirectionEvent::RefuseConsent
        );
        if consent_event && self.recipient_kind != DirectionRecipient::BritishTransportPolice {
            return Err(DirectionChangeError::ConsentNotNeeded);
        }
        let mut next = self.clone();
        next.state = self.state.apply(event)?;
        match event {
            DirectionEvent::RequestConsent => {}
            DirectionEvent::GiveConsent => next.transport_consent = TransportConsent::Given,
            DirectionEvent::RefuseConsent => next.transport_consent = TransportConsent::Refused,
            DirectionEvent::Issue => {
                next.issued_by = Some(by);
                next.issued_at = Some(at);
            }
            DirectionEvent::Acknowledge => {
                next.acknowledged_by = Some(by);
                next.acknowledged_at = Some(at);
            }
            DirectionEvent::Comply | DirectionEvent::NotComply => {
                next.compliance_note = note.cloned();
            }
        }
        Ok(next)
    }
}

uuid_id! {
    /// A border protocol record's identifier.
    ProtocolRecordId, "id"
}

/// A record that the protocol between the Home Secretary and the Director General on
/// border functions (¶11) is, or is no longer, in force. Records are only added; the
/// latest is the one that counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BorderProtocolRecord {
    /// Its identifier.
    pub id: ProtocolRecordId,
    /// In force or not.
    pub state: BorderProtocol,
    /// What it rests on (a reference to the signed protocol, say).
    pub note: Option<DirectionNote>,
    /// Who recorded it.
    pub recorded_by: UserId,
    /// When.
    pub recorded_at: Timestamp,
}

impl BorderProtocol {
    /// The protocol as the latest record says; not in force if nothing was ever recorded.
    pub fn from_latest(latest: Option<&BorderProtocolRecord>) -> Self {
        latest.map_or(Self::NotInForce, |r| r.state)
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
            totp_enabled: false,
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

    fn drafted(kind: DirectionRecipient) -> Direction {
        Direction {
            id: DirectionId::new(),
            recipient: OrgCode::parse("btp").expect("code"),
            recipient_kind: kind,
            request: None,
            instructions: Instructions::parse("Provide a team").expect("valid"),
            needed_by: None,
            state: DirectionState::Drafted,
            transport_consent: TransportConsent::NotRecorded,
            drafted_by: UserId::new(),
            drafted_at: Timestamp::now(),
            issued_by: None,
            issued_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            compliance_note: None,
        }
    }

    /// Each allowed step of the lifecycle, and a sample of those refused.
    #[test]
    fn directions_move_only_along_their_lifecycle() {
        use DirectionEvent as E;
        use DirectionState as S;
        for (from, event, to) in [
            (S::Drafted, E::RequestConsent, S::ConsentRequested),
            (S::ConsentRequested, E::GiveConsent, S::ConsentGiven),
            (S::ConsentRequested, E::RefuseConsent, S::ConsentRefused),
            (S::Drafted, E::Issue, S::Issued),
            (S::ConsentGiven, E::Issue, S::Issued),
            (S::Issued, E::Acknowledge, S::Acknowledged),
            (S::Issued, E::Comply, S::Complied),
            (S::Acknowledged, E::Comply, S::Complied),
            (S::Issued, E::NotComply, S::NotComplied),
            (S::Acknowledged, E::NotComply, S::NotComplied),
        ] {
            assert_eq!(from.apply(event), Ok(to), "{from} + {event}");
        }
        for (from, event) in [
            (S::Drafted, E::GiveConsent),
            (S::Drafted, E::Acknowledge),
            (S::ConsentRequested, E::Issue),
            (S::ConsentRefused, E::Issue),
            (S::ConsentGiven, E::RequestConsent),
            (S::Issued, E::Issue),
            (S::Acknowledged, E::Acknowledge),
            (S::Complied, E::NotComply),
            (S::NotComplied, E::Acknowledge),
        ] {
            assert_eq!(
                from.apply(event),
                Err(DirectionChangeError::NotNow { from, event }),
                "{from} + {event}"
            );
        }
        assert!(S::ConsentRefused.is_final() && S::Complied.is_final());
        assert!(!S::Issued.is_final());
    }

    /// ¶9: only the BTP needs the Transport Secretary's consent, so only it is asked.
    #[test]
    fn consent_is_asked_only_for_the_btp() {
        let by = UserId::new();
        let now = Timestamp::now();
        let force = drafted(DirectionRecipient::EnglandAndWalesForce);
        assert_eq!(
            force.after(DirectionEvent::RequestConsent, by, now, None),
            Err(DirectionChangeError::ConsentNotNeeded)
        );
        let btp = drafted(DirectionRecipient::BritishTransportPolice);
        let asked = btp
            .after(DirectionEvent::RequestConsent, by, now, None)
            .expect("asked");
        let given = asked
            .after(DirectionEvent::GiveConsent, by, now, None)
            .expect("given");
        assert_eq!(
            (given.state, given.transport_consent),
            (DirectionState::ConsentGiven, TransportConsent::Given)
        );
        let refused = asked
            .after(DirectionEvent::RefuseConsent, by, now, None)
            .expect("refused");
        assert_eq!(refused.transport_consent, TransportConsent::Refused);
    }

    /// Issue, acknowledgement and the outcome record who, when and what.
    #[test]
    fn each_step_records_who_and_when() {
        let (issuer, officer) = (UserId::new(), UserId::new());
        let now = Timestamp::now();
        let note = DirectionNote::parse("Team deployed").expect("valid");
        let issued = drafted(DirectionRecipient::EnglandAndWalesForce)
            .after(DirectionEvent::Issue, issuer, now, None)
            .expect("issued");
        assert_eq!(
            (issued.issued_by, issued.issued_at),
            (Some(issuer), Some(now))
        );
        let acknowledged = issued
            .after(DirectionEvent::Acknowledge, officer, now, None)
            .expect("acknowledged");
        assert_eq!(acknowledged.acknowledged_by, Some(officer));
        let complied = acknowledged
            .after(DirectionEvent::Comply, issuer, now, Some(&note))
            .expect("complied");
        assert_eq!(complied.state, DirectionState::Complied);
        assert_eq!(complied.compliance_note, Some(note));
        assert_eq!(complied.issued_by, Some(issuer));
    }

    fn request(state: RequestState, urgency: Urgency, respond_in_minutes: i64) -> Request {
        use crate::tasking::{
            CaseText, Geography, RequestKind, RequestTitle, Route, Sophistication,
        };
        use crate::threat::{ThreatArea, ThreatAreas};
        let now = Timestamp::now();
        Request {
            id: RequestId::new(),
            title: RequestTitle::parse("Surveillance").expect("valid"),
            kind: RequestKind::Assistance,
            requester: OrgCode::parse("nca").expect("code"),
            receiver: OrgCode::parse("kent").expect("code"),
            route: Route::Direct,
            threat_areas: ThreatAreas::new([ThreatArea::Firearms]).expect("valid"),
            subjects: vec![],
            geography: Geography {
                areas: Default::default(),
                international: false,
            },
            sophistication: Sophistication::High,
            urgency,
            case: CaseText::parse("Armed robberies").expect("valid"),
            state,
            raised_by: UserId::new(),
            raised_at: now,
            submitted_at: Some(now),
            respond_by: Some(now.plus(chrono::Duration::minutes(respond_in_minutes))),
            overdue: false,
        }
    }

    /// ¶9: how the voluntary request's fate is read for the check.
    #[test]
    fn the_voluntary_attempt_is_read_from_the_request() {
        use RequestState as S;
        let now = Timestamp::now();
        let soon = Some(now.plus(chrono::Duration::minutes(10)));
        let later = Some(now.plus(chrono::Duration::minutes(120)));
        let pending = |urgency, deadline| VoluntaryAttempt::Pending { urgency, deadline };
        for (state, urgency, respond_in, needed_by, expected) in [
            (
                S::Accepted,
                Urgency::Routine,
                60,
                None,
                VoluntaryAttempt::Accepted,
            ),
            (
                S::DeclinedWithReferral,
                Urgency::Routine,
                60,
                None,
                VoluntaryAttempt::Declined,
            ),
            (
                S::Expired,
                Urgency::Routine,
                60,
                None,
                VoluntaryAttempt::Expired,
            ),
            (
                S::Draft,
                Urgency::Routine,
                60,
                None,
                VoluntaryAttempt::NotMade,
            ),
            (
                S::Withdrawn,
                Urgency::Routine,
                60,
                None,
                VoluntaryAttempt::NotMade,
            ),
            (
                S::Submitted,
                Urgency::Immediate,
                60,
                soon,
                pending(Urgency::Immediate, DeadlineOutlook::CannotBeMet),
            ),
            (
                S::UnderAssessment,
                Urgency::Immediate,
                60,
                later,
                pending(Urgency::Immediate, DeadlineOutlook::CanBeMet),
            ),
            (
                S::Submitted,
                Urgency::Urgent,
                -5,
                None,
                pending(Urgency::Urgent, DeadlineOutlook::CannotBeMet),
            ),
            (
                S::Submitted,
                Urgency::Routine,
                60,
                None,
                pending(Urgency::Routine, DeadlineOutlook::CanBeMet),
            ),
        ] {
            let r = request(state, urgency, respond_in);
            assert_eq!(
                VoluntaryAttempt::of(&r, needed_by, now),
                expected,
                "{state} {urgency} {respond_in} {needed_by:?}"
            );
        }
        let mut overdue = request(S::Submitted, Urgency::Urgent, 60);
        overdue.overdue = true;
        assert_eq!(
            VoluntaryAttempt::of(&overdue, None, now),
            pending(Urgency::Urgent, DeadlineOutlook::CannotBeMet)
        );
    }

    #[test]
    fn the_latest_protocol_record_counts_and_none_means_not_in_force() {
        assert_eq!(
            BorderProtocol::from_latest(None),
            BorderProtocol::NotInForce
        );
        let record = BorderProtocolRecord {
            id: ProtocolRecordId::new(),
            state: BorderProtocol::InForce,
            note: None,
            recorded_by: UserId::new(),
            recorded_at: Timestamp::now(),
        };
        assert_eq!(
            BorderProtocol::from_latest(Some(&record)),
            BorderProtocol::InForce
        );
    }
}
