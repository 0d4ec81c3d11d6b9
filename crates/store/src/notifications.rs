//! Notifications and webhooks: each user's inbox, numbered in commit order for live
//! streams, and each organisation's webhooks with their durable outbox of deliveries.
//!
//! A notice is written inside the transaction of the change it is about: its inbox
//! rows and its outbox rows commit with that change or not at all. The server's
//! `notify` module is the only caller that writes them.

use crate::db::{Exec, params};
use crate::{Store, StoreError, WriteTx, corrupt, parse_column, parse_instant};
use concordat_domain::notification::{
    DeliveryId, DeliveryState, NoticeKind, NoticeKinds, NotificationId, WebhookId, WebhookSecret,
    WebhookUrl,
};
use concordat_domain::people::{Classification, Clearance, Role, UserId};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

fn opt_instant(column: &str, micros: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    micros.map(|m| parse_instant(column, m)).transpose()
}

// ---------------------------------------------------------------------------------------
// The inbox
// ---------------------------------------------------------------------------------------

/// Something a user is told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// Its identifier.
    pub id: NotificationId,
    /// Its place in the order notifications were committed: a live stream's event id.
    pub seq: i64,
    /// What it is about.
    pub kind: NoticeKind,
    /// The record it is about, as `type:id`.
    pub record: String,
    /// What to tell the user.
    pub message: String,
    /// When.
    pub created_at: Timestamp,
    /// When the user read it.
    pub read_at: Option<Timestamp>,
}

/// Which of a user's notifications to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxFilter {
    /// All of them (the newest 500).
    All,
    /// Only those not yet read.
    Unread,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    seq: Option<i64>,
    kind: String,
    record: String,
    message: String,
    created_at: i64,
    read_at: Option<i64>,
}

impl NotificationRow {
    fn into_domain(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: parse_column("id", &self.id)?,
            seq: self
                .seq
                .ok_or_else(|| StoreError::Corrupt(format!("notification {}: no seq", self.id)))?,
            kind: parse_column("kind", &self.kind)?,
            record: self.record,
            message: self.message,
            created_at: parse_instant("created_at", self.created_at)?,
            read_at: opt_instant("read_at", self.read_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

impl Store {
    /// `user`'s notifications, newest first (at most 500).
    pub async fn notifications(
        &self,
        user: UserId,
        filter: InboxFilter,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut reader = self.reader().await?;
        let rows: Vec<NotificationRow> = match filter {
            InboxFilter::All => {
                reader
                    .fetch_all(
                        "SELECT id, seq, kind, record, message, created_at, read_at \
                         FROM notifications WHERE user_id = $1 \
                         ORDER BY seq DESC LIMIT 500",
                        params![user.to_string()],
                    )
                    .await?
            }
            InboxFilter::Unread => {
                reader
                    .fetch_all(
                        "SELECT id, seq, kind, record, message, created_at, read_at \
                         FROM notifications WHERE user_id = $1 AND read_at IS NULL \
                         ORDER BY seq DESC LIMIT 500",
                        params![user.to_string()],
                    )
                    .await?
            }
        };
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }

    /// How many of `user`'s notifications are unread.
    pub async fn unread_notifications(&self, user: UserId) -> Result<i64, StoreError> {
        let count: Count = self
            .reader()
            .await?
            .fetch_one(
                "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
                params![user.to_string()],
            )
            .await?;
        Ok(count.n)
    }

    /// `user`'s notifications committed after `seq`, oldest first, at most `limit`.
    /// Nothing for a user who is no longer active.
    pub async fn notifications_after(
        &self,
        user: UserId,
        seq: i64,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows: Vec<NotificationRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT n.id, n.seq, n.kind, n.record, n.message, n.created_at, n.read_at \
                 FROM notifications n JOIN users u ON u.id = n.user_id \
                 WHERE n.user_id = $1 AND n.seq > $2 AND u.status = 'active' \
                 ORDER BY n.seq LIMIT $3",
                params![user.to_string(), seq, limit],
            )
            .await?;
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }

    /// The `seq` of `user`'s latest notification (0 if none): where a new live stream
    /// starts when it is not resuming.
    pub async fn latest_notification_seq(&self, user: UserId) -> Result<i64, StoreError> {
        let count: Count = self
            .reader()
            .await?
            .fetch_one(
                "SELECT COALESCE(MAX(seq), 0) AS n FROM notifications WHERE user_id = $1",
                params![user.to_string()],
            )
            .await?;
        Ok(count.n)
    }
}

impl WriteTx {
    /// Tells every active user of `organisation` holding one of `roles`, and vetted for
    /// `cleared_for` (the classification of what the message is about), about `record`.
    /// A user not cleared for it is not told that it exists. Each is told once, however
    /// many of the roles they hold. Returns how many were told.
    ///
    /// Call it through the server's `notify` module, which also queues webhooks.
    pub async fn insert_notifications(
        &mut self,
        organisation: &OrgCode,
        roles: &[Role],
        cleared_for: Classification,
        kind: NoticeKind,
        record: &str,
        message: &str,
    ) -> Result<u64, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            clearance: String,
        }
        let mut users = BTreeMap::new();
        for role in roles {
            let rows: Vec<Row> = self
                .tx
                .fetch_all(
                    "SELECT u.id, u.clearance FROM users u JOIN user_roles r ON r.user_id = u.id \
                     WHERE u.organisation = $1 AND r.role = $2 AND u.status = 'active'",
                    params![organisation.as_str(), role.as_str()],
                )
                .await?;
            for row in rows {
                let clearance = parse_column::<Clearance>("clearance", &row.clearance)?;
                if clearance.permits(cleared_for) {
                    users.insert(row.id, ());
                }
            }
        }
        let now = Timestamp::now().as_micros();
        for user in users.keys() {
            self.tx
                .execute(
                    "INSERT INTO notifications (id, user_id, kind, record, message, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    params![
                        NotificationId::new().to_string(),
                        user,
                        kind.as_str(),
                        record,
                        message,
                        now
                    ],
                )
                .await?;
        }
        if !users.is_empty() {
            self.notified = true;
        }
        Ok(users.len() as u64)
    }

    /// Marks `user`'s notification `id` as read. Not found if it is not theirs or was
    /// read already.
    pub async fn mark_notification_read(
        &mut self,
        user: UserId,
        id: NotificationId,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE notifications SET read_at = $3 WHERE id = $1 AND user_id = $2 \
                 AND read_at IS NULL",
                params![
                    id.to_string(),
                    user.to_string(),
                    Timestamp::now().as_micros()
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Marks every unread notification of `user`'s as read; returns how many.
    pub async fn mark_all_notifications_read(&mut self, user: UserId) -> Result<u64, StoreError> {
        self.tx
            .execute(
                "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL",
                params![user.to_string(), Timestamp::now().as_micros()],
            )
            .await
    }

    /// Numbers the notifications this transaction wrote, after every notification
    /// already committed. Called by `commit` after the audit entry is appended, so
    /// that the chain's lock (PostgreSQL) or the write lock (SQLite) is held until the
    /// transaction commits: numbers are given in commit order, and a reader who has
    /// seen N has seen everything numbered before N.
    pub(crate) async fn number_notifications(&mut self) -> Result<(), StoreError> {
        #[derive(sqlx::FromRow)]
        struct Unnumbered {
            id: String,
        }
        let rows: Vec<Unnumbered> = self
            .tx
            .fetch_all(
                "SELECT id FROM notifications WHERE seq IS NULL ORDER BY created_at, id",
                params![],
            )
            .await?;
        let latest: Count = self
            .tx
            .fetch_one(
                "SELECT COALESCE(MAX(seq), 0) AS n FROM notifications",
                params![],
            )
            .await?;
        for (n, row) in (latest.n + 1..).zip(rows) {
            self.tx
                .execute(
                    "UPDATE notifications SET seq = $2 WHERE id = $1",
                    params![row.id, n],
                )
                .await?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------

/// An organisation's webhook, as its administrators see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Its identifier.
    pub id: WebhookId,
    /// The organisation whose notices it carries.
    pub organisation: OrgCode,
    /// Where deliveries are sent.
    pub url: WebhookUrl,
    /// Which notices it is sent.
    pub kinds: NoticeKinds,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was removed; nothing more is sent to a removed webhook.
    pub disabled_at: Option<Timestamp>,
}

/// A webhook to make.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// The organisation whose notices it carries.
    pub organisation: OrgCode,
    /// Where deliveries are sent.
    pub url: WebhookUrl,
    /// Which notices it is sent.
    pub kinds: NoticeKinds,
    /// The signing secret.
    pub secret: WebhookSecret,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: String,
    organisation: String,
    url: String,
    kinds: String,
    created_at: i64,
    disabled_at: Option<i64>,
}

impl WebhookRow {
    fn into_domain(self) -> Result<Webhook, StoreError> {
        Ok(Webhook {
            id: parse_column("id", &self.id)?,
            organisation: parse_column("organisation", &self.organisation)?,
            url: WebhookUrl::parse(&self.url).map_err(corrupt)?,
            kinds: NoticeKinds::parse_list(&self.kinds).map_err(corrupt)?,
            created_at: parse_instant("created_at", self.created_at)?,
            disabled_at: opt_instant("disabled_at", self.disabled_at)?,
        })
    }
}

/// One delivery of a notice to a webhook, as its administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Its identifier (the `Concordat-Delivery` header).
    pub id: DeliveryId,
    /// The notice's kind.
    pub kind: NoticeKind,
    /// The record the notice is about, as `type:id`.
    pub record: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// How many attempts have been made.
    pub attempts: i64,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it will next be tried, while pending.
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last answer, if there was one.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When the receiver accepted it.
    pub delivered_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    kind: String,
    record: String,
    state: String,
    attempts: i64,
    created_at: i64,
    next_attempt_at: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<i64>,
}

impl DeliveryRow {
    fn into_domain(self) -> Result<Delivery, StoreError> {
        let state: DeliveryState = parse_column("state", &self.state)?;
        Ok(Delivery {
            id: parse_column("id", &self.id)?,
            kind: parse_column("kind", &self.kind)?,
            record: self.record,
            state,
            attempts: self.attempts,
            created_at: parse_instant("created_at", self.created_at)?,
            next_attempt_at: match state {
                DeliveryState::Pending => {
                    Some(parse_instant("next_attempt_at", self.next_attempt_at)?)
                }
                DeliveryState::Delivered | DeliveryState::Failed => None,
            },
            last_status: self.last_status,
            last_error: self.last_error,
            delivered_at: opt_instant("delivered_at", self.delivered_at)?,
        })
    }
}

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Its identifier, which the payload carries too.
    pub id: DeliveryId,
    /// The webhook.
    pub webhook: WebhookId,
    /// The notice's kind.
    pub kind: NoticeKind,
    /// The record the notice is about, as `type:id`.
    pub record: String,
    /// The exact body to send, every attempt.
    pub payload: String,
}

/// A delivery this node has claimed and now attempts: everything needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub id: DeliveryId,
    /// The webhook.
    pub webhook: WebhookId,
    /// Where to send it.
    pub url: WebhookUrl,
    /// What to sign it with.
    pub secret: WebhookSecret,
    /// The notice's kind.
    pub kind: NoticeKind,
    /// The body.
    pub payload: String,
    /// Which attempt this is (1 for the first).
    pub attempt: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered {
        /// The status.
        status: i64,
    },
    /// It failed and will be tried again at `next_attempt_at`.
    Retry {
        /// The status, if the receiver answered.
        status: Option<i64>,
        /// What went wrong.
        error: String,
        /// When to try again.
        next_attempt_at: Timestamp,
    },
    /// It failed for the last time.
    GiveUp {
        /// The status, if the receiver answered.
        status: Option<i64>,
        /// What went wrong.
        error: String,
    },
}

async fn webhook_in(
    mut exec: Exec<'_>,
    organisation: &OrgCode,
    id: WebhookId,
) -> Result<Webhook, StoreError> {
    let row: WebhookRow = exec
        .fetch_one(
            "SELECT id, organisation, url, kinds, created_at, disabled_at FROM webhooks \
             WHERE id = $1 AND organisation = $2",
            params![id.to_string(), organisation.as_str()],
        )
        .await?;
    row.into_domain()
}

impl Store {
    /// `organisation`'s webhooks, removed ones included, oldest first.
    pub async fn webhooks(&self, organisation: &OrgCode) -> Result<Vec<Webhook>, StoreError> {
        let rows: Vec<WebhookRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT id, organisation, url, kinds, created_at, disabled_at FROM webhooks \
                 WHERE organisation = $1 ORDER BY created_at, id",
                params![organisation.as_str()],
            )
            .await?;
        rows.into_iter().map(WebhookRow::into_domain).collect()
    }

    /// `organisation`'s webhook `id`; not found if it is another organisation's.
    pub async fn webhook(
        &self,
        organisation: &OrgCode,
        id: WebhookId,
    ) -> Result<Webhook, StoreError> {
        let mut reader = self.reader().await?;
        webhook_in(reader.exec(), organisation, id).await
    }

    /// The deliveries to `webhook`, newest first (at most `limit`).
    pub async fn deliveries(
        &self,
        webhook: WebhookId,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT id, kind, record, state, attempts, created_at, next_attempt_at, \
                 last_status, last_error, delivered_at FROM webhook_deliveries \
                 WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                params![webhook.to_string(), limit],
            )
            .await?;
        rows.into_iter().map(DeliveryRow::into_domain).collect()
    }

    /// Deliveries due by `now` that no node holds, soonest first (at most `limit`).
    /// Another node may claim one first: claim each with [`WriteTx::claim_delivery`].
    pub async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
        }
        let rows: Vec<Row> = self
            .reader()
            .await?
            .fetch_all(
                "SELECT id FROM webhook_deliveries WHERE state = 'pending' \
                 AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
                 ORDER BY next_attempt_at, id LIMIT $2",
                params![now.as_micros(), limit],
            )
            .await?;
        rows.into_iter()
            .map(|r| parse_column("id", &r.id))
            .collect()
    }
}

impl WriteTx {
    /// Makes a webhook.
    pub async fn insert_webhook(&mut self, new: &NewWebhook) -> Result<Webhook, StoreError> {
        let id = WebhookId::new();
        let now = Timestamp::now();
        self.tx
            .execute(
                "INSERT INTO webhooks (id, organisation, url, kinds, secret, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    id.to_string(),
                    new.organisation.as_str(),
                    new.url.as_str(),
                    new.kinds.to_string(),
                    new.secret.expose(),
                    now.as_micros()
                ],
            )
            .await?;
        Ok(Webhook {
            id,
            organisation: new.organisation.clone(),
            url: new.url.clone(),
            kinds: new.kinds.clone(),
            created_at: now,
            disabled_at: None,
        })
    }

    /// Removes `organisation`'s webhook `id`: nothing more is sent to it and what was
    /// still pending fails. Returns the webhook and whether it was active until now
    /// (removing a removed webhook changes nothing). Not found if it is another
    /// organisation's.
    pub async fn disable_webhook(
        &mut self,
        organisation: &OrgCode,
        id: WebhookId,
    ) -> Result<(Webhook, bool), StoreError> {
        let now = Timestamp::now().as_micros();
        let changed = self
            .tx
            .execute(
                "UPDATE webhooks SET disabled_at = $3 \
                 WHERE id = $1 AND organisation = $2 AND disabled_at IS NULL",
                params![id.to_string(), organisation.as_str(), now],
            )
            .await?;
        if changed > 0 {
            self.tx
                .execute(
                    "UPDATE webhook_deliveries SET state = 'failed', lease_until = NULL, \
                     last_error = 'the webhook was removed' \
                     WHERE webhook_id = $1 AND state = 'pending'",
                    params![id.to_string()],
                )
                .await?;
        }
        let webhook = webhook_in(self.tx.exec(), organisation, id).await?;
        Ok((webhook, changed > 0))
    }

    /// `organisation`'s active webhooks that are sent notices of `kind`.
    pub async fn webhooks_for(
        &mut self,
        organisation: &OrgCode,
        kind: NoticeKind,
    ) -> Result<Vec<WebhookId>, StoreError> {
        let rows: Vec<WebhookRow> = self
            .tx
            .fetch_all(
                "SELECT id, organisation, url, kinds, created_at, disabled_at FROM webhooks \
                 WHERE organisation = $1 AND disabled_at IS NULL ORDER BY id",
                params![organisation.as_str()],
            )
            .await?;
        let mut ids = Vec::new();
        for row in rows {
            let webhook = row.into_domain()?;
            if webhook.kinds.contains(kind) {
                ids.push(webhook.id);
            }
        }
        Ok(ids)
    }

    /// Queues a delivery, due at once.
    pub async fn enqueue_delivery(&mut self, new: &NewDelivery) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        self.tx
            .execute(
                "INSERT INTO webhook_deliveries \
                 (id, webhook_id, kind, record, payload, state, attempts, created_at, \
                  next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                params![
                    new.id.to_string(),
                    new.webhook.to_string(),
                    new.kind.as_str(),
                    &new.record,
                    &new.payload,
                    now
                ],
            )
            .await?;
        Ok(())
    }

    /// Claims delivery `id` for an attempt until `lease_until`, if it is still due and
    /// no other node holds it: one conditional UPDATE, so of several nodes exactly one
    /// wins. Counts the attempt. `None` if another node got there first.
    pub async fn claim_delivery(
        &mut self,
        id: DeliveryId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let changed = self
            .tx
            .execute(
                "UPDATE webhook_deliveries SET lease_until = $3, attempts = attempts + 1 \
                 WHERE id = $1 AND state = 'pending' AND next_attempt_at <= $2 \
                 AND (lease_until IS NULL OR lease_until <= $2)",
                params![id.to_string(), now.as_micros(), lease_until.as_micros()],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            webhook_id: String,
            url: String,
            secret: String,
            kind: String,
            payload: String,
            attempts: i64,
        }
        let row: Row = self
            .tx
            .fetch_one(
                "SELECT d.id, d.webhook_id, w.url, w.secret, d.kind, d.payload, d.attempts \
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.id = $1",
                params![id.to_string()],
            )
            .await?;
        Ok(Some(ClaimedDelivery {
            id: parse_column("id", &row.id)?,
            webhook: parse_column("webhook_id", &row.webhook_id)?,
            url: WebhookUrl::parse(&row.url).map_err(corrupt)?,
            secret: WebhookSecret::parse(&row.secret).map_err(corrupt)?,
            kind: parse_column("kind", &row.kind)?,
            payload: row.payload,
            attempt: row.attempts,
        }))
    }

    /// Records how an attempt at delivery `id` ended and lets go of it.
    pub async fn finish_delivery(
        &mut self,
        id: DeliveryId,
        outcome: &AttemptOutcome,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().as_micros();
        let changed = match outcome {
            AttemptOutcome::Delivered { status } => {
                self.tx
                    .execute(
                        "UPDATE webhook_deliveries SET state = 'delivered', lease_until = NULL, \
                         last_status = $2, last_error = NULL, delivered_at = $3 \
                         WHERE id = $1 AND state = 'pending'",
                        params![id.to_string(), *status, now],
                    )
                    .await?
            }
            AttemptOutcome::Retry {
                status,
                error,
                next_attempt_at,
            } => {
                self.tx
                    .execute(
                        "UPDATE webhook_deliveries SET lease_until = NULL, last_status = $2, \
                         last_error = $3, next_attempt_at = $4 \
                         WHERE id = $1 AND state = 'pending'",
                        params![
                            id.to_string(),
                            *status,
                            error.as_str(),
                            next_attempt_at.as_micros()
                        ],
                    )
                    .await?
            }
            AttemptOutcome::GiveUp { status, error } => {
                self.tx
                    .execute(
                        "UPDATE webhook_deliveries SET state = 'failed', lease_until = NULL, \
                         last_status = $2, last_error = $3 WHERE id = $1 AND state = 'pending'",
                        params![id.to_string(), *status, error.as_str()],
                    )
                    .await?
            }
        };
        if changed == 0 {
            // Removed meanwhile: the removal already failed it.
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
