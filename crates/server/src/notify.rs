//! The one way to tell people and machines about something: a [`Notice`], sent with
//! [`send`] inside the write transaction of the change it is about, so that it is
//! committed with that change or not at all.
//!
//! A notice is addressed to an organisation and some of its roles. Each active user of
//! the organisation who holds one of the roles and is vetted for the record's
//! classification gets it in their inbox (and on their live stream, see
//! `api/notifications.rs`); each of the organisation's active webhooks that takes the
//! notice's kind gets a delivery queued in the outbox (see [`crate::webhooks`]) — but
//! only for a record marked OFFICIAL, because a webhook receiver is a machine that
//! holds no vetting.

use crate::error::AppError;
use concordat_domain::audit::RecordRef;
use concordat_domain::notification::{DeliveryId, NoticeKind, webhook_may_carry};
use concordat_domain::people::{Classification, Role};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_store::{NewDelivery, WriteTx};
use serde_json::json;
use tokio::sync::watch;

/// Something to tell an organisation.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The organisation told.
    pub organisation: OrgCode,
    /// Which of its people: those holding any of these roles.
    pub roles: &'static [Role],
    /// The classification of what the notice is about: only those vetted for it are
    /// told, and webhooks only when it is OFFICIAL.
    pub cleared_for: Classification,
    /// What it is about.
    pub kind: NoticeKind,
    /// The record it is about.
    pub record: RecordRef,
    /// What to say.
    pub message: String,
}

/// Whom a notice reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// How many people it went to.
    pub people: u64,
    /// How many webhook deliveries were queued.
    pub webhooks: u64,
}

/// Sends `notice` inside `tx`: inbox rows for the people it reaches and an outbox row
/// for each webhook that takes it, all committed with the change.
pub async fn send(tx: &mut WriteTx, notice: &Notice) -> Result<Sent, AppError> {
    let record = format!("{}:{}", notice.record.kind, notice.record.id);
    let people = tx
        .insert_notifications(
            &notice.organisation,
            notice.roles,
            notice.cleared_for,
            notice.kind,
            &record,
            &notice.message,
        )
        .await?;
    let mut webhooks = 0;
    if webhook_may_carry(notice.cleared_for) {
        let now = Timestamp::now();
        for webhook in tx.webhooks_for(&notice.organisation, notice.kind).await? {
            let id = DeliveryId::new();
            let payload = json!({
                "id": id,
                "kind": notice.kind,
                "organisation": notice.organisation,
                "record": { "kind": notice.record.kind, "id": notice.record.id },
                "message": notice.message,
                "classification": notice.cleared_for,
                "created_at": now,
            });
            tx.enqueue_delivery(&NewDelivery {
                id,
                webhook,
                kind: notice.kind,
                record: record.clone(),
                payload: payload.to_string(),
            })
            .await?;
            webhooks += 1;
        }
    }
    Ok(Sent { people, webhooks })
}

/// What wakes the live streams and the webhook dispatcher in this process early, and
/// what tells them the server is stopping. Notices committed by other nodes are found
/// by looking at the store at a short interval; this only shortens the wait.
#[derive(Debug)]
pub struct Hub {
    committed: watch::Sender<u64>,
    stopping: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            committed: watch::channel(0).0,
            stopping: watch::channel(false).0,
        }
    }
}

impl Hub {
    /// Says that notifications were committed.
    pub fn committed(&self) {
        self.committed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever notifications are committed in this process.
    pub fn on_commit(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Says the server is stopping: live streams end so that it can.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// A receiver that turns `true` when the server stops.
    pub fn on_stop(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}
