//! The store's behaviour, run on SQLite and on PostgreSQL alike.

use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::direction::{
    BorderProtocol, BorderProtocolRecord, Direction, DirectionEvent, DirectionId, DirectionNote,
    DirectionRecipient, DirectionState, Instructions, ProtocolRecordId, TransportConsent,
};
use concordat_domain::people::{Clearance, DgAuthority, DisplayName, Roles, UserStatus, Username};
use concordat_domain::registry::{OrgCode, ReferenceData};
use concordat_domain::time::Timestamp;
use concordat_store::{
    AuditFilter, DirectionScope, NewApiToken, NewSession, NewUser, Store, StoreError, TokenHash,
    UserFilter,
};

fn cli() -> Actor {
    Actor::Command {
        command: "test".to_owned(),
    }
}

fn hash(byte: char) -> TokenHash {
    TokenHash::from_hex(&byte.to_string().repeat(64)).expect("64 hex digits")
}

async fn seeded(store: &Store) {
    let data = ReferenceData::builtin().expect("reference data parses");
    let mut tx = store.write().await.expect("begin");
    tx.load_reference_data(&data).await.expect("load");
    tx.commit(AuditEntry::new(Actor::System, "reference-data.load"))
        .await
        .expect("commit");
}

fn new_user(name: &str, org: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).expect("valid"),
        display_name: DisplayName::parse("Test Person").expect("valid"),
        organisation: OrgCode::parse(org).expect("valid"),
        roles: Roles::parse_list("tasking-officer,viewer").expect("valid"),
        clearance: Clearance::Sc,
        dg_authority: DgAuthority::None,
        password_hash: "$argon2id$not-a-real-hash".to_owned(),
        must_change_password: true,
    }
}

async fn add_user(store: &Store, name: &str, org: &str) -> concordat_domain::people::User {
    let mut tx = store.write().await.expect("begin");
    let user = tx.insert_user(&new_user(name, org)).await.expect("insert");
    tx.commit(AuditEntry::new(cli(), "user.create").record(RecordRef::new("user", user.id)))
        .await
        .expect("commit");
    user
}

async fn reference_data_loads_and_reads_back(store: &Store) {
    seeded(store).await;
    let data = ReferenceData::builtin().expect("parses");
    let orgs = store.organisations().await.expect("read");
    assert_eq!(orgs.len(), data.organisations.len());
    for org in &data.organisations {
        let stored = store.organisation(&org.code).await.expect("present");
        assert_eq!(&stored, org);
    }
    assert_eq!(
        store.capabilities().await.expect("read").len(),
        data.capabilities.len()
    );
    assert_eq!(
        store.tasking_groups().await.expect("read").len(),
        data.groups.len()
    );
    // Loading again changes nothing and conflicts with nothing.
    seeded(store).await;
    assert_eq!(
        store.organisations().await.expect("read").len(),
        data.organisations.len()
    );
}

async fn users_round_trip_with_roles(store: &Store) {
    seeded(store).await;
    let created = add_user(store, "j.smith", "mps").await;
    let found = store
        .user_by_username(&Username::parse("J.Smith").expect("valid"))
        .await
        .expect("read")
        .expect("present");
    assert_eq!(found.user, created);
    assert_eq!(found.password_hash, "$argon2id$not-a-real-hash");
    add_user(store, "a.jones", "nca").await;
    let met = store
        .users(&UserFilter {
            organisation: Some(OrgCode::parse("mps").expect("valid")),
        })
        .await
        .expect("list");
    assert_eq!(met, vec![created.clone()]);
    assert_eq!(
        store
            .users(&UserFilter::default())
            .await
            .expect("list")
            .len(),
        2
    );
    assert_eq!(store.count_users().await.expect("count"), 2);
}

async fn a_taken_username_is_a_conflict_and_writes_nothing(store: &Store) {
    seeded(store).await;
    add_user(store, "j.smith", "mps").await;
    let before = store
        .audit_entries(&AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("audit");
    let mut tx = store.write().await.expect("begin");
    let err = tx
        .insert_user(&new_user("j.smith", "nca"))
        .await
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);
    let after = store
        .audit_entries(&AuditFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(before.len(), after.len());
}

async fn an_unknown_organisation_is_refused(store: &Store) {
    seeded(store).await;
    let mut tx = store.write().await.expect("begin");
    let err = tx
        .insert_user(&new_user("x.person", "no-such-force"))
        .await
        .expect_err("fk");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn an_uncommitted_change_is_rolled_back(store: &Store) {
    seeded(store).await;
    {
        let mut tx = store.write().await.expect("begin");
        tx.insert_user(&new_user("ghost", "mps"))
            .await
            .expect("insert");
        // Dropped without commit.
    }
    assert_eq!(store.count_users().await.expect("count"), 0);
}

async fn disabling_a_user_ends_their_sessions(store: &Store) {
    seeded(store).await;
    let user = add_user(store, "j.smith", "mps").await;
    let mut tx = store.write().await.expect("begin");
    tx.insert_session(&NewSession {
        token_hash: hash('a'),
        user_id: user.id,
        csrf_token: "csrf".into(),
        expires_at: Timestamp::now().plus(chrono::Duration::hours(1)),
        source: "127.0.0.1".into(),
    })
    .await
    .expect("session");
    tx.commit(AuditEntry::new(cli(), "session.sign-in"))
        .await
        .expect("commit");
    let session = store
        .session(&hash('a'))
        .await
        .expect("read")
        .expect("live");
    assert_eq!(session.user.id, user.id);
    assert_eq!(session.csrf_token, "csrf");

    let mut tx = store.write().await.expect("begin");
    tx.set_user_status(user.id, UserStatus::Disabled)
        .await
        .expect("disable");
    tx.commit(AuditEntry::new(cli(), "user.disable"))
        .await
        .expect("commit");
    assert!(store.session(&hash('a')).await.expect("read").is_none());
    assert_eq!(
        store.user(user.id).await.expect("read").status,
        UserStatus::Disabled
    );
}

async fn expired_sessions_are_not_returned(store: &Store) {
    seeded(store).await;
    let user = add_user(store, "j.smith", "mps").await;
    let mut tx = store.write().await.expect("begin");
    tx.insert_session(&NewSession {
        token_hash: hash('b'),
        user_id: user.id,
        csrf_token: "csrf".into(),
        expires_at: Timestamp::now().plus(chrono::Duration::seconds(-1)),
        source: String::new(),
    })
    .await
    .expect("session");
    tx.commit(AuditEntry::new(cli(), "session.sign-in"))
        .await
        .expect("commit");
    assert!(store.session(&hash('b')).await.expect("read").is_none());
}

async fn api_tokens_are_found_by_hash_and_revoked(store: &Store) {
    seeded(store).await;
    let user = add_user(store, "j.smith", "mps").await;
    let mut tx = store.write().await.expect("begin");
    let token = tx
        .insert_api_token(&NewApiToken {
            user_id: user.id,
            name: "laptop".into(),
            token_hash: hash('c'),
            expires_at: None,
        })
        .await
        .expect("token");
    tx.commit(AuditEntry::new(cli(), "token.create"))
        .await
        .expect("commit");
    let (found, owner) = store
        .api_token(&hash('c'))
        .await
        .expect("read")
        .expect("present");
    assert_eq!(found, token);
    assert_eq!(owner.id, user.id);
    assert!(found.is_usable(Timestamp::now()));
    assert!(store.api_token(&hash('d')).await.expect("read").is_none());

    let mut tx = store.write().await.expect("begin");
    assert!(tx.revoke_api_token(token.id).await.expect("revoke"));
    assert!(!tx.revoke_api_token(token.id).await.expect("again"));
    tx.commit(AuditEntry::new(cli(), "token.revoke"))
        .await
        .expect("commit");
    let (found, _) = store
        .api_token(&hash('c'))
        .await
        .expect("read")
        .expect("present");
    assert!(!found.is_usable(Timestamp::now()));
    assert_eq!(store.api_tokens_of(user.id).await.expect("list").len(), 1);
}

async fn every_commit_extends_a_sound_audit_chain(store: &Store) {
    seeded(store).await;
    for name in ["a.one", "b.two", "c.three"] {
        add_user(store, name, "mps").await;
    }
    let report = store.verify_audit_chain(|_| {}).await.expect("verify");
    assert_eq!(report.checked, 4);
    assert_eq!(report.first_break, None);
    let entries = store
        .audit_entries(&AuditFilter {
            record_kind: Some("user".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(entries.len(), 3);
    assert!(
        entries.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    assert_eq!(entries[0].hash, report.head);
}

async fn concurrent_writers_keep_one_chain(store: &Store) {
    seeded(store).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let tx = store.write().await.expect("begin");
            tx.commit(
                AuditEntry::new(Actor::System, "test.concurrent")
                    .detail(serde_json::json!({ "i": i })),
            )
            .await
            .expect("commit");
        }));
    }
    for task in tasks {
        task.await.expect("joined");
    }
    let report = store.verify_audit_chain(|_| {}).await.expect("verify");
    assert_eq!((report.checked, report.first_break), (13, None));
}

async fn the_database_refuses_to_change_the_audit_log(store: &Store) {
    seeded(store).await;
    let err = store
        .tamper_for_test("UPDATE audit_log SET actor_name = 'mallory'")
        .await;
    assert!(err.is_err(), "an update of the audit log must be refused");
    let err = store.tamper_for_test("DELETE FROM audit_log").await;
    assert!(err.is_err(), "a delete from the audit log must be refused");
}

async fn a_tampered_entry_is_caught_by_verification(store: &Store) {
    seeded(store).await;
    for name in ["a.one", "b.two", "c.three"] {
        add_user(store, name, "mps").await;
    }
    store
        .tamper_audit_entry_for_test(3, "mallory")
        .await
        .expect("tamper");
    let report = store.verify_audit_chain(|_| {}).await.expect("verify");
    let found = report.first_break.expect("the change is caught");
    assert_eq!(found.seq, 3);
    assert_eq!(report.checked, 2);
}

fn direction_to(recipient: &str, by: concordat_domain::people::UserId) -> Direction {
    Direction {
        id: DirectionId::new(),
        recipient: OrgCode::parse(recipient).expect("valid"),
        recipient_kind: DirectionRecipient::EnglandAndWalesForce,
        request: None,
        instructions: Instructions::parse("Provide a surveillance team.").expect("valid"),
        needed_by: Some(Timestamp::now()),
        state: DirectionState::Drafted,
        transport_consent: TransportConsent::NotRecorded,
        drafted_by: by,
        drafted_at: Timestamp::now(),
        issued_by: None,
        issued_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        compliance_note: None,
    }
}

async fn directions_round_trip_with_their_history(store: &Store) {
    seeded(store).await;
    let director = add_user(store, "nca.director", "nca").await;
    let officer = add_user(store, "kent.tasking", "kent").await;
    let kent = direction_to("kent", director.id);
    let essex = direction_to("essex", director.id);
    let mut tx = store.write().await.expect("begin");
    tx.insert_direction(&kent).await.expect("insert");
    tx.insert_direction(&essex).await.expect("insert");
    tx.commit(AuditEntry::new(cli(), "direction.draft"))
        .await
        .expect("commit");
    assert_eq!(store.direction(kent.id).await.expect("read"), kent);

    let issued = kent
        .after(DirectionEvent::Issue, director.id, Timestamp::now(), None)
        .expect("issued");
    let note = DirectionNote::parse("Team deployed.").expect("valid");
    let acknowledged = issued
        .after(
            DirectionEvent::Acknowledge,
            officer.id,
            Timestamp::now(),
            None,
        )
        .expect("acknowledged");
    let mut tx = store.write().await.expect("begin");
    assert_eq!(tx.direction(kent.id).await.expect("read in tx"), kent);
    tx.change_direction(&kent, &issued, DirectionEvent::Issue, director.id, None)
        .await
        .expect("issue");
    tx.change_direction(
        &issued,
        &acknowledged,
        DirectionEvent::Acknowledge,
        officer.id,
        Some(&note),
    )
    .await
    .expect("acknowledge");
    tx.commit(AuditEntry::new(cli(), "direction.issue"))
        .await
        .expect("commit");
    assert_eq!(store.direction(kent.id).await.expect("read"), acknowledged);

    // A change from a state the direction has left is a conflict, and stores nothing.
    let mut tx = store.write().await.expect("begin");
    let stale = tx
        .change_direction(&kent, &issued, DirectionEvent::Issue, director.id, None)
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    drop(tx);

    let history = store.direction_history(kent.id).await.expect("history");
    let steps: Vec<(&str, DirectionState)> = history
        .iter()
        .map(|h| (h.event.as_str(), h.state))
        .collect();
    assert_eq!(
        steps,
        [
            ("draft", DirectionState::Drafted),
            ("issue", DirectionState::Issued),
            ("acknowledge", DirectionState::Acknowledged),
        ]
    );
    assert_eq!(history[2].by, officer.id);
    assert_eq!(history[2].note.as_deref(), Some("Team deployed."));

    let all = store.directions(&DirectionScope::All).await.expect("list");
    assert_eq!(
        all.iter().map(|d| d.id).collect::<Vec<_>>(),
        [essex.id, kent.id]
    );
    let kents = store
        .directions(&DirectionScope::Recipient(
            OrgCode::parse("kent").expect("valid"),
        ))
        .await
        .expect("list");
    assert_eq!(kents, vec![acknowledged]);
    let err = store.tamper_for_test("DELETE FROM direction_events").await;
    assert!(err.is_err(), "a direction's history must not be deleted");
}

async fn the_latest_border_protocol_record_counts(store: &Store) {
    seeded(store).await;
    let director = add_user(store, "nca.director", "nca").await;
    assert_eq!(store.border_protocol().await.expect("read"), None);
    let record = |state, note: &str, micros| BorderProtocolRecord {
        id: ProtocolRecordId::new(),
        state,
        note: Some(DirectionNote::parse(note).expect("valid")),
        recorded_by: director.id,
        recorded_at: Timestamp::from_micros(micros).expect("valid"),
    };
    let signed = record(BorderProtocol::InForce, "Signed.", 1_000_000);
    let lapsed = record(BorderProtocol::NotInForce, "Lapsed.", 2_000_000);
    for r in [&signed, &lapsed] {
        let mut tx = store.write().await.expect("begin");
        tx.record_border_protocol(r).await.expect("record");
        tx.commit(AuditEntry::new(cli(), "border-protocol.record"))
            .await
            .expect("commit");
    }
    assert_eq!(
        store.border_protocol().await.expect("read"),
        Some(lapsed.clone())
    );
    let mut tx = store.write().await.expect("begin");
    assert_eq!(
        tx.border_protocol().await.expect("read"),
        Some(lapsed.clone())
    );
    drop(tx);
    assert_eq!(
        store.border_protocol_history().await.expect("history"),
        vec![lapsed, signed]
    );
    let err = store
        .tamper_for_test("UPDATE border_protocol_records SET state = 'in-force'")
        .await;
    assert!(err.is_err(), "protocol records must not be changed");
}

/// A subject, a request about it, a decision and an operation whose lead moves.
async fn tasking_records(store: &Store) -> (concordat_domain::tasking::Request, String) {
    use concordat_domain::decision::*;
    use concordat_domain::operation::{CodeName, Reason, RoleHistory};
    use concordat_domain::subject::*;
    use concordat_domain::tasking::*;
    use concordat_domain::threat::{Strand, ThreatArea, ThreatAreas};
    seeded(store).await;
    let user = add_user(store, "wm.tasking", "west-midlands").await;
    let registry = ReferenceData::builtin().expect("data");
    let code = |c: &str| OrgCode::parse(c).expect("code");
    let mut tx = store.write().await.expect("begin");
    let subject = tx
        .insert_subject(
            &concordat_store::NewSubject {
                kind: SubjectKind::OrganisedCrimeGroup,
                name: SubjectName::parse("Eastside group").expect("valid"),
                organisation: code("west-midlands"),
                level: PriorityDesignation::Priority,
                basis: DesignationBasis::parse("Firearms").expect("valid"),
            },
            user.id,
        )
        .await
        .expect("subject");
    let request = Request {
        id: RequestId::new(),
        title: RequestTitle::parse("Surveillance").expect("valid"),
        kind: RequestKind::Capability {
            capability: "specialist-surveillance".to_owned(),
        },
        requester: code("west-midlands"),
        receiver: code("nca"),
        route: Route::Direct,
        threat_areas: ThreatAreas::new([ThreatArea::OrganisedAcquisitiveCrime]).expect("one"),
        subjects: vec![subject.id],
        geography: Geography {
            areas: [code("west-midlands")].into_iter().collect(),
            international: false,
        },
        sophistication: Sophistication::Standard,
        urgency: Urgency::Routine,
        case: CaseText::parse("Robberies").expect("valid"),
        state: RequestState::Draft,
        raised_by: user.id,
        raised_at: Timestamp::now(),
        submitted_at: None,
        respond_by: None,
        overdue: false,
    };
    tx.insert_request(&request).await.expect("request");
    let now = Timestamp::now();
    tx.move_request(
        request.id,
        RequestState::Draft,
        RequestEvent::Submit,
        Some(user.id),
        None,
        Some((now, now.plus(chrono::Duration::days(14)))),
    )
    .await
    .expect("submit");
    let operation = tx
        .insert_operation(
            &concordat_store::NewOperation {
                code_name: CodeName::parse("Operation Nightjar").expect("valid"),
                threat_areas: request.threat_areas.clone(),
                strands: vec![Strand::Pursue],
                subjects: vec![subject.id],
                origin_request: Some(request.id),
            },
            user.id,
        )
        .await
        .expect("operation");
    let first = Roles {
        lead: code("west-midlands"),
        support: [code("nca")].into_iter().collect(),
        coordinate: Default::default(),
    };
    let reason = Reason::parse("accepted").expect("valid");
    let change = RoleHistory::default()
        .change_to(&first, now, &reason)
        .expect("opens");
    tx.change_roles(operation, &change, now, user.id)
        .await
        .expect("roles");
    let later = now.plus(chrono::Duration::days(30));
    let second = Roles {
        lead: code("nca"),
        support: [code("west-midlands")].into_iter().collect(),
        coordinate: Default::default(),
    };
    let history = tx.role_history(operation).await.expect("history");
    let change = history
        .change_to(&second, later, &Reason::parse("displaced").expect("valid"))
        .expect("moves");
    tx.change_roles(operation, &change, later, user.id)
        .await
        .expect("roles");
    let recommendation = Recommendation {
        policy_version: "test".to_owned(),
        role: AgencyRole::Support,
        lead: code("west-midlands"),
        lead_reason: "test".to_owned(),
        referral: None,
        tests: vec![],
    };
    let text = |t: &str| NdmText::parse(t).expect("valid");
    let decision = Decision {
        id: DecisionId::new(),
        request: request.id,
        outcome: Outcome::Accepted,
        roles: Some(first),
        referral: None,
        rationale: NdmRationale {
            information: text("a"),
            threat_and_risk: text("b"),
            powers_and_policy: text("c"),
            options_and_contingencies: text("d"),
            action_and_review: text("e"),
        },
        recommendation,
        agency_role: AgencyRole::Support,
        departure_reason: None,
        charging: Charging::None,
        decided_by: user.id,
        decided_at: now,
        supersedes: None,
    };
    tx.insert_decision(&decision, Some(operation))
        .await
        .expect("decision");
    tx.commit(AuditEntry::new(cli(), "test.tasking"))
        .await
        .expect("commit");
    let stored = store
        .request(request.id, &registry)
        .await
        .expect("reads back");
    let op = store.operation(operation).await.expect("operation");
    assert_eq!(
        op.roles.as_of(now).map(|r| r.lead),
        Some(code("west-midlands"))
    );
    assert_eq!(op.roles.as_of(later).map(|r| r.lead), Some(code("nca")));
    assert_eq!(op.roles.0.len(), 4);
    let decisions = store.decisions(request.id).await.expect("decisions");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].decision, decision);
    (stored, operation.to_string())
}

async fn requests_decisions_and_role_history_round_trip(store: &Store) {
    let (request, _) = tasking_records(store).await;
    assert_eq!(
        request.state,
        concordat_domain::tasking::RequestState::Submitted
    );
    assert!(request.respond_by.is_some());
    let history = store.request_history(request.id).await.expect("history");
    let events: Vec<&str> = history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(events, ["raise", "submit"]);
    // As the deadline sweep sees it: not overdue now, overdue after its deadline.
    let registry = ReferenceData::builtin().expect("data");
    let now = Timestamp::now();
    assert!(
        store
            .requests_past_deadline(now, true, &registry)
            .await
            .expect("reads")
            .is_empty()
    );
    let later = now.plus(chrono::Duration::days(15));
    assert_eq!(
        store
            .requests_past_deadline(later, true, &registry)
            .await
            .expect("reads")
            .len(),
        1
    );
}

async fn the_database_refuses_to_change_decisions_and_designations(store: &Store) {
    tasking_records(store).await;
    for sql in [
        "UPDATE decisions SET outcome = 'declined'",
        "DELETE FROM decisions",
        "UPDATE subject_designations SET level = 'standard'",
        "DELETE FROM subject_designations",
    ] {
        assert!(
            store.tamper_for_test(sql).await.is_err(),
            "{sql} must be refused"
        );
    }
}

/// Registrations get consecutive index numbers and references; a pair has one hit;
/// a "different person" resolution is kept as a suppressed pair.
async fn registrations_and_hits_round_trip(store: &Store) {
    use concordat_domain::deconfliction::*;
    seeded(store).await;
    let kent = add_user(store, "kent.case", "kent").await;
    let essex = add_user(store, "essex.case", "essex").await;
    let contact = PointOfContact {
        name: ContactName::parse("DS Smith").expect("valid"),
        detail: ContactDetail::parse("01234 567890").expect("valid"),
    };
    let new = |org: &str, by: concordat_domain::people::UserId, expires_in_days: i64| {
        concordat_store::NewRegistration {
            organisation: OrgCode::parse(org).expect("valid"),
            kind: "person".to_owned(),
            record: r#"{"kind":"person","names":[{"given":"John","surname":"Smith"}]}"#.to_owned(),
            operation: None,
            operation_reference: None,
            point_of_contact: contact.clone(),
            disclosure: Disclosure::Open,
            registered_by: by,
            expires_at: Timestamp::now().plus(chrono::Duration::days(expires_in_days)),
        }
    };
    let mut tx = store.write().await.expect("begin");
    let a = tx
        .insert_registration(&new("kent", kent.id, 730))
        .await
        .expect("a");
    let b = tx
        .insert_registration(&new("essex", essex.id, 730))
        .await
        .expect("b");
    let expired = tx
        .insert_registration(&new("essex", essex.id, -1))
        .await
        .expect("c");
    let explanation = serde_json::json!([{ "field": "surname", "level": "exact", "weight": 5.0 }]);
    let hit = tx
        .insert_hit(a.registration.id, b.registration.id, 0.97, &explanation)
        .await
        .expect("hit")
        .expect("new");
    assert_eq!(
        tx.insert_hit(b.registration.id, a.registration.id, 0.97, &explanation)
            .await
            .expect("again"),
        None,
        "one hit a pair"
    );
    tx.commit(AuditEntry::new(cli(), "test.registrations"))
        .await
        .expect("commit");
    assert_eq!(b.seq, a.seq + 1);
    assert_ne!(a.registration.reference, b.registration.reference);
    let back = store.registration(a.registration.id).await.expect("reads");
    assert_eq!(back, a);
    let now = Timestamp::now();
    assert_eq!(store.count_live_registrations(now).await.expect("count"), 2);
    let page = store.live_index_page(now, 0, 1).await.expect("page");
    assert_eq!(page.len(), 1);
    let rest = store
        .live_index_page(now, page[0].seq, 10)
        .await
        .expect("rest");
    assert_eq!(rest.len(), 1, "the expired one is not live: {expired:?}");
    let kent_org = OrgCode::parse("kent").expect("valid");
    assert_eq!(store.hits_of(&kent_org).await.expect("hits").len(), 1);

    let mut tx = store.write().await.expect("begin");
    tx.acknowledge_hit(hit, true).await.expect("ack");
    assert!(tx.acknowledge_hit(hit, true).await.is_err(), "once");
    tx.resolve_hit(hit, Resolution::DifferentPerson, kent.id)
        .await
        .expect("resolve");
    assert!(
        tx.resolve_hit(hit, Resolution::SamePerson, kent.id)
            .await
            .is_err()
    );
    tx.withdraw_registration(b.registration.id)
        .await
        .expect("withdraw");
    tx.commit(AuditEntry::new(cli(), "test.resolve"))
        .await
        .expect("commit");
    assert_eq!(
        store.suppressed_pairs().await.expect("pairs"),
        vec![(a.seq, b.seq)]
    );
    assert_eq!(store.count_live_registrations(now).await.expect("count"), 1);
}

/// A second factor is set up unconfirmed, confirmed once, used for ever-later steps
/// only, and cleared; an organisation's policy reads back as written.
async fn totp_secrets_confirm_once_and_steps_are_used_once(store: &Store) {
    use concordat_domain::totp::{SECRET_BYTES, SignInPolicy, TotpSecret, TotpStep};
    seeded(store).await;
    let user = add_user(store, "j.smith", "mps").await;
    let name = Username::parse("j.smith").expect("valid");
    let read = || async {
        store
            .user_by_username(&name)
            .await
            .expect("read")
            .expect("present")
    };
    assert!(read().await.totp.is_none());
    assert!(!read().await.user.totp_enabled);

    let first = TotpSecret::from_random([1; SECRET_BYTES]);
    let second = TotpSecret::from_random([2; SECRET_BYTES]);
    let now = Timestamp::now();
    let step = TotpStep::at(now);
    let mut tx = store.write().await.expect("begin");
    tx.start_totp(user.id, &first).await.expect("start");
    // Starting again replaces a secret not yet confirmed.
    tx.start_totp(user.id, &second).await.expect("restart");
    // No step can be used before the secret is confirmed.
    assert!(!tx.use_totp_step(user.id, step).await.expect("use"));
    assert!(tx.confirm_totp(user.id, step, now).await.expect("confirm"));
    assert!(!tx.confirm_totp(user.id, step, now).await.expect("again"));
    assert!(matches!(
        tx.start_totp(user.id, &first).await,
        Err(StoreError::Conflict(_))
    ));
    tx.commit(AuditEntry::new(cli(), "test.totp"))
        .await
        .expect("commit");
    let stored = read().await;
    let totp = stored.totp.expect("set up");
    assert_eq!(totp.secret, second);
    assert_eq!(totp.confirmed_at, Some(now));
    assert_eq!(totp.last_step, Some(step));
    assert!(stored.user.totp_enabled);
    assert_eq!(store.user(user.id).await.expect("read"), stored.user);

    let mut tx = store.write().await.expect("begin");
    let next = TotpStep::from_stored(step.as_i64() + 1);
    assert!(!tx.use_totp_step(user.id, step).await.expect("replay"));
    assert!(tx.use_totp_step(user.id, next).await.expect("next"));
    assert!(!tx.use_totp_step(user.id, next).await.expect("replay"));
    assert!(!tx.use_totp_step(user.id, step).await.expect("earlier"));
    assert!(tx.clear_totp(user.id).await.expect("clear"));
    assert!(!tx.clear_totp(user.id).await.expect("nothing to clear"));
    tx.commit(AuditEntry::new(cli(), "test.totp"))
        .await
        .expect("commit");
    let cleared = read().await;
    assert!(cleared.totp.is_none() && !cleared.user.totp_enabled);

    let mps = OrgCode::parse("mps").expect("valid");
    assert_eq!(
        store.sign_in_policy(&mps).await.expect("read"),
        SignInPolicy::default()
    );
    let mut tx = store.write().await.expect("begin");
    let strict = SignInPolicy { require_totp: true };
    tx.set_sign_in_policy(&mps, strict).await.expect("set");
    assert!(matches!(
        tx.set_sign_in_policy(&OrgCode::parse("atlantis").expect("valid"), strict)
            .await,
        Err(StoreError::NotFound)
    ));
    tx.commit(AuditEntry::new(cli(), "test.policy"))
        .await
        .expect("commit");
    assert_eq!(store.sign_in_policy(&mps).await.expect("read"), strict);
    // Reloading the reference data keeps the policy.
    seeded(store).await;
    assert_eq!(store.sign_in_policy(&mps).await.expect("read"), strict);
    assert_eq!(
        store
            .sign_in_policy(&OrgCode::parse("kent").expect("valid"))
            .await
            .expect("read"),
        SignInPolicy::default()
    );
}

/// Notifications written by concurrent changes are numbered in the order those
/// changes commit, with no number given twice; one rolled back leaves nothing.
async fn notifications_are_numbered_in_commit_order(store: &Store) {
    use concordat_domain::notification::NoticeKind;
    use concordat_domain::people::{Classification, Role};
    use concordat_store::InboxFilter;
    seeded(store).await;
    let user = add_user(store, "n.officer", "nca").await;
    let nca = OrgCode::parse("nca").expect("valid");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, nca) = (store.clone(), nca.clone());
        tasks.push(tokio::spawn(async move {
            let mut tx = store.write().await.expect("begin");
            let told = tx
                .insert_notifications(
                    &nca,
                    &[Role::TaskingOfficer, Role::Viewer],
                    Classification::Official,
                    NoticeKind::RequestReceived,
                    &format!("request:{i}"),
                    "news",
                )
                .await
                .expect("notify");
            assert_eq!(told, 1, "told once, whatever roles they hold");
            tx.commit(AuditEntry::new(Actor::System, "test.notify"))
                .await
                .expect("commit");
        }));
    }
    for task in tasks {
        task.await.expect("joined");
    }
    let mut tx = store.write().await.expect("begin");
    tx.insert_notifications(
        &nca,
        &[Role::TaskingOfficer],
        Classification::Official,
        NoticeKind::RequestReceived,
        "request:rolled-back",
        "never",
    )
    .await
    .expect("notify");
    drop(tx);
    // Not vetted for TOP SECRET: not told.
    let mut tx = store.write().await.expect("begin");
    let told = tx
        .insert_notifications(
            &nca,
            &[Role::TaskingOfficer],
            Classification::TopSecret,
            NoticeKind::RequestReceived,
            "request:top-secret",
            "never",
        )
        .await
        .expect("notify");
    assert_eq!(told, 0);
    tx.commit(AuditEntry::new(Actor::System, "test.notify"))
        .await
        .expect("commit");

    let all = store
        .notifications(user.id, InboxFilter::All)
        .await
        .expect("read");
    let mut seqs: Vec<i64> = all.iter().map(|n| n.seq).collect();
    seqs.reverse();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    assert_eq!(
        store.latest_notification_seq(user.id).await.expect("read"),
        8
    );
    let after = store
        .notifications_after(user.id, 5, 100)
        .await
        .expect("read");
    assert_eq!(
        after.iter().map(|n| n.seq).collect::<Vec<_>>(),
        vec![6, 7, 8]
    );
    assert_eq!(store.unread_notifications(user.id).await.expect("read"), 8);
}

/// The day's business as a pack reads it, and packs kept once per user, date and scope.
async fn the_days_business_is_read_by_window_and_packs_are_kept_once(store: &Store) {
    use concordat_domain::briefing::{Pack, PackId, PackWindow, Scope};
    use concordat_domain::handling::Marking;
    let (request, operation) = tasking_records(store).await;
    let now = Timestamp::now();
    let (before, after) = (
        now.plus(chrono::Duration::hours(-1)),
        now.plus(chrono::Duration::hours(1)),
    );
    let decisions = store.decisions_between(before, after).await.expect("reads");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].decision.request, request.id);
    assert!(
        store
            .decisions_between(after, after.plus(chrono::Duration::hours(1)))
            .await
            .expect("reads")
            .is_empty(),
        "a window after it holds none"
    );
    let designations = store
        .designations_between(before, after)
        .await
        .expect("reads");
    assert!(!designations.is_empty());
    assert!(
        designations[0].2.is_none(),
        "a first designation has none before it"
    );
    let changed = store
        .operations_changed_between(before, after)
        .await
        .expect("reads");
    assert_eq!(
        changed.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [operation]
    );

    let user = add_user(store, "nca.briefed", "nca").await;
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
    let pack = Pack::assemble(
        date,
        Scope::National,
        PackWindow::for_date(
            date,
            chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("time"),
        ),
        "nca.briefed".to_owned(),
        OrgCode::parse("nca").expect("code"),
        now,
        "2026.1".to_owned(),
        &Marking::official(),
        vec![],
    );
    let id = PackId::new();
    let mut tx = store.write().await.expect("begin");
    assert!(
        tx.keep_pack(id, user.id, pack.classification, &pack)
            .await
            .expect("kept")
    );
    assert!(
        !tx.keep_pack(PackId::new(), user.id, pack.classification, &pack)
            .await
            .expect("no error"),
        "one per user, date and scope"
    );
    tx.commit(AuditEntry::new(cli(), "test.keep"))
        .await
        .expect("commit");
    let kept = store.packs_of(user.id).await.expect("reads");
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].id, kept[0].date.as_str()), (id, "2026-12-02"));
    assert!(
        store
            .pack_kept(user.id, "2026-12-02", &Scope::National)
            .await
            .expect("reads")
    );
    let (owner, read) = store.pack(id).await.expect("reads");
    assert_eq!((owner, read), (user.id, pack));
}

concordat_store::on_both_engines!(
    the_days_business_is_read_by_window_and_packs_are_kept_once,
    notifications_are_numbered_in_commit_order,
    totp_secrets_confirm_once_and_steps_are_used_once,
    registrations_and_hits_round_trip,
    requests_decisions_and_role_history_round_trip,
    the_database_refuses_to_change_decisions_and_designations,
    reference_data_loads_and_reads_back,
    users_round_trip_with_roles,
    a_taken_username_is_a_conflict_and_writes_nothing,
    an_unknown_organisation_is_refused,
    an_uncommitted_change_is_rolled_back,
    disabling_a_user_ends_their_sessions,
    expired_sessions_are_not_returned,
    api_tokens_are_found_by_hash_and_revoked,
    every_commit_extends_a_sound_audit_chain,
    concurrent_writers_keep_one_chain,
    the_database_refuses_to_change_the_audit_log,
    a_tampered_entry_is_caught_by_verification,
    directions_round_trip_with_their_history,
    the_latest_border_protocol_record_counts,
);
