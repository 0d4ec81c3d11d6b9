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

concordat_store::on_both_engines!(
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
