//! Outgoing webhooks: administering an organisation's webhooks (for the API and the
//! command line alike), and the dispatcher that delivers the outbox.
//!
//! A notice sent with [`crate::notify::send`] queues one delivery per matching active
//! webhook in the notice's own transaction, so a notice committed is a delivery owed,
//! whatever happens to this process. The dispatcher, a task started by
//! [`crate::serve`], claims due deliveries with a lease (a conditional UPDATE, so that
//! of several nodes exactly one sends each attempt), POSTs the JSON payload signed with
//! HMAC-SHA256, and records the outcome: delivered on 2xx; otherwise tried again after
//! an exponential back-off with jitter, up to a limit, then failed.
//!
//! What a receiver gets:
//! - `Concordat-Delivery`: the delivery's id (the same on every attempt: use it to
//!   ignore a repeat);
//! - `Concordat-Event`: the notice's kind;
//! - `Concordat-Timestamp`: seconds since the Unix epoch when this attempt was signed;
//! - `Concordat-Signature`: `sha256=` and the lower-case hex HMAC-SHA256, keyed with the
//!   webhook's secret, of `TIMESTAMP.BODY` (the timestamp header, a full stop, and the
//!   exact body bytes).
//!
//! Only notices about records marked OFFICIAL are delivered: a receiver is a machine,
//! not a vetted person. The server calls no address but the ones administrators
//! configure; redirects are not followed.

use crate::error::AppError;
use crate::{AppState, ServerConfig};
use concordat_domain::audit::{Actor, AuditEntry, RecordRef};
use concordat_domain::notification::{
    DeliveryId, NoticeKinds, WEBHOOK_SECRET_BYTES, WebhookId, WebhookSecret, WebhookUrl,
};
use concordat_domain::registry::OrgCode;
use concordat_domain::time::Timestamp;
use concordat_store::{
    AttemptOutcome, ClaimedDelivery, Delivery, NewWebhook, Store, StoreError, Webhook,
};
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;

/// The header carrying the delivery's id.
pub const DELIVERY_HEADER: &str = "concordat-delivery";
/// The header carrying the notice's kind.
pub const EVENT_HEADER: &str = "concordat-event";
/// The header carrying the time of signing, in seconds since the Unix epoch.
pub const TIMESTAMP_HEADER: &str = "concordat-timestamp";
/// The header carrying the signature, `sha256=HEX`.
pub const SIGNATURE_HEADER: &str = "concordat-signature";

/// How many deliveries one pass of the dispatcher claims at most.
const BATCH: i64 = 16;

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 60 * 60);

// ---------------------------------------------------------------------------------------
// Administration
// ---------------------------------------------------------------------------------------

/// Makes a webhook for `organisation` and returns it with its signing secret, which is
/// shown this once.
pub async fn create(
    store: &Store,
    actor: Actor,
    source: &str,
    organisation: &OrgCode,
    url: WebhookUrl,
    kinds: NoticeKinds,
) -> Result<(Webhook, WebhookSecret), AppError> {
    match store.organisation(organisation).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    }
    let mut bytes = [0u8; WEBHOOK_SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let secret = WebhookSecret::from_random(bytes);
    let mut tx = store.write().await?;
    let webhook = tx
        .insert_webhook(&NewWebhook {
            organisation: organisation.clone(),
            url,
            kinds,
            secret: secret.clone(),
        })
        .await?;
    tx.commit(
        AuditEntry::new(actor, "webhook.create")
            .record(RecordRef::new("webhook", webhook.id))
            .source(source)
            .detail(json!({
                "organisation": webhook.organisation,
                "url": webhook.url,
                "kinds": webhook.kinds,
            })),
    )
    .await?;
    Ok((webhook, secret))
}

/// Removes `organisation`'s webhook `id`: nothing more is sent to it, and deliveries
/// still pending fail. Removing a removed webhook changes and records nothing.
pub async fn remove(
    store: &Store,
    actor: Actor,
    source: &str,
    organisation: &OrgCode,
    id: WebhookId,
) -> Result<Webhook, AppError> {
    let mut tx = store.write().await?;
    let (webhook, was_active) = tx.disable_webhook(organisation, id).await?;
    if was_active {
        tx.commit(
            AuditEntry::new(actor, "webhook.remove")
                .record(RecordRef::new("webhook", id))
                .source(source)
                .detail(json!({ "organisation": organisation, "url": webhook.url })),
        )
        .await?;
    }
    Ok(webhook)
}

/// The deliveries to `organisation`'s webhook `id`, newest first.
pub async fn deliveries(
    store: &Store,
    organisation: &OrgCode,
    id: WebhookId,
) -> Result<Vec<Delivery>, AppError> {
    store.webhook(organisation, id).await?;
    Ok(store.deliveries(id, 200).await?)
}

// ---------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------

/// The `Concordat-Signature` value for `body` sent at `timestamp` (seconds):
/// `sha256=` and the hex HMAC-SHA256 of `TIMESTAMP.BODY` keyed with the secret.
pub fn signature(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes a key of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

// ---------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------

/// Installs rustls's ring crypto provider as the process default, unless one is
/// installed already (for `https` webhooks and identity providers). reqwest is built
/// without a provider of its own (`aws-lc-rs` would add a large C build), so building
/// any reqwest client in this process before this has run panics: [`crate::serve`] and
/// the server's own clients call it, and so must tests and tools that make clients of
/// their own.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client the dispatcher sends with: a timeout per attempt, no redirects,
/// TLS through rustls with the system's trust store.
pub fn client(config: &ServerConfig) -> Result<reqwest::Client, AppError> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(config.webhook_timeout)
        .connect_timeout(config.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("concordat/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("the webhook client")))
}

/// How long to wait before attempt `attempt + 1` after attempt `attempt` failed:
/// `base` doubled for each attempt before, at most [`MAX_BACKOFF`], with "equal
/// jitter" (between half and all of it), so that receivers coming back are not hit by
/// every retry at once.
pub fn backoff(base: Duration, attempt: i64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = base
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_BACKOFF);
    let half = full / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rand::rng().next_u64() % jitter_ms.saturating_add(1))
}

/// What one pass of the dispatcher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Deliveries accepted by their receivers.
    pub delivered: usize,
    /// Attempts that failed and will be tried again.
    pub retrying: usize,
    /// Deliveries given up.
    pub failed: usize,
}

impl Pass {
    /// Whether the pass attempted anything.
    pub fn is_empty(&self) -> bool {
        self.delivered + self.retrying + self.failed == 0
    }
}

/// Claims the deliveries due now and attempts each (concurrently), recording every
/// outcome. Tests call it to drain the outbox; [`run_dispatcher`] calls it in a loop.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> Result<Pass, AppError> {
    let now = Timestamp::now();
    let mut claimed = Vec::new();
    for id in state.store.due_deliveries(now, BATCH).await? {
        if let Some(delivery) = claim(state, id, now).await? {
            claimed.push(delivery);
        }
    }
    let attempts = claimed
        .into_iter()
        .map(|delivery| attempt(state, client, delivery));
    let mut pass = Pass::default();
    for outcome in futures_util::future::join_all(attempts).await {
        match outcome? {
            AttemptOutcome::Delivered { .. } => pass.delivered += 1,
            AttemptOutcome::Retry { .. } => pass.retrying += 1,
            AttemptOutcome::GiveUp { .. } => pass.failed += 1,
        }
    }
    Ok(pass)
}

async fn claim(
    state: &AppState,
    id: DeliveryId,
    now: Timestamp,
) -> Result<Option<ClaimedDelivery>, AppError> {
    // Long enough for the attempt to finish; a node that dies holding it lets go when
    // it runs out.
    let lease = state.config.webhook_timeout.saturating_mul(2) + Duration::from_secs(30);
    let lease_until = now.plus(chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX));
    let mut tx = state.store.write().await?;
    let Some(delivery) = tx.claim_delivery(id, now, lease_until).await? else {
        return Ok(None);
    };
    // The disclosure is on the record before it is made.
    tx.commit(
        AuditEntry::new(Actor::System, "webhook.send")
            .record(RecordRef::new("webhook-delivery", delivery.id))
            .source("webhook dispatcher")
            .detail(json!({
                "webhook": delivery.webhook,
                "url": delivery.url,
                "kind": delivery.kind,
                "attempt": delivery.attempt,
            })),
    )
    .await?;
    Ok(Some(delivery))
}

async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    delivery: ClaimedDelivery,
) -> Result<AttemptOutcome, AppError> {
    let timestamp = Timestamp::now().as_micros() / 1_000_000;
    let signature = signature(&delivery.secret, timestamp, delivery.payload.as_bytes());
    let sent = client
        .post(delivery.url.as_str())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(DELIVERY_HEADER, delivery.id.to_string())
        .header(EVENT_HEADER, delivery.kind.as_str())
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature)
        .body(delivery.payload.clone())
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) if response.status().is_success() => {
            (Some(i64::from(response.status().as_u16())), None)
        }
        Ok(response) => (
            Some(i64::from(response.status().as_u16())),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(e) => (None, Some(describe(&e))),
    };
    let outcome = match (status, error) {
        (Some(status), None) => AttemptOutcome::Delivered { status },
        (status, Some(error)) if delivery.attempt >= i64::from(state.config.webhook_attempts) => {
            AttemptOutcome::GiveUp { status, error }
        }
        (status, error) => {
            let wait = backoff(state.config.webhook_backoff_base, delivery.attempt);
            AttemptOutcome::Retry {
                status,
                error: error.unwrap_or_default(),
                next_attempt_at: Timestamp::now()
                    .plus(chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)),
            }
        }
    };
    let action = match &outcome {
        AttemptOutcome::Delivered { .. } => "webhook.delivered",
        AttemptOutcome::Retry { .. } => "webhook.retry",
        AttemptOutcome::GiveUp { .. } => "webhook.failed",
    };
    let mut tx = state.store.write().await?;
    match tx.finish_delivery(delivery.id, &outcome).await {
        Ok(()) => {}
        // Removed while it was in flight: the removal already failed it.
        Err(StoreError::NotFound) => return Ok(outcome),
        Err(e) => return Err(e.into()),
    }
    let (status, error) = match &outcome {
        AttemptOutcome::Delivered { status } => (Some(*status), None),
        AttemptOutcome::Retry { status, error, .. } | AttemptOutcome::GiveUp { status, error } => {
            (*status, Some(error.clone()))
        }
    };
    tx.commit(
        AuditEntry::new(Actor::System, action)
            .record(RecordRef::new("webhook-delivery", delivery.id))
            .source("webhook dispatcher")
            .detail(json!({
                "webhook": delivery.webhook,
                "attempt": delivery.attempt,
                "status": status,
                "error": error,
            })),
    )
    .await?;
    if let AttemptOutcome::GiveUp { error, .. } = &outcome {
        tracing::warn!(delivery = %delivery.id, webhook = %delivery.webhook, %error, "webhook delivery failed for good");
    }
    Ok(outcome)
}

/// A transport error in a sentence, with its causes (the top level alone says only
/// "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "the receiver did not answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect to the receiver".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

/// Delivers the outbox until the server stops: a pass whenever notices are committed
/// in this process, and at least every `webhook_poll_every` (for those committed by
/// other nodes and for retries coming due). A pass in progress is finished, never cut
/// off, so that no claimed delivery is left leased.
pub async fn run_dispatcher(state: AppState, mut stop: tokio::sync::watch::Receiver<()>) {
    let client = match client(&state.config) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = ?e, "webhooks will not be delivered: no HTTP client");
            return;
        }
    };
    let mut woken = state.hub.on_commit();
    loop {
        let busy = match deliver_due(&state, &client).await {
            Ok(pass) => !pass.is_empty(),
            Err(e) => {
                tracing::warn!(error = ?e, "the webhook dispatcher failed a pass");
                false
            }
        };
        if busy {
            // More may be due at once; but let a stop through between passes.
            if stop.has_changed().unwrap_or(true) {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.webhook_poll_every) => {}
            changed = woken.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(state.config.webhook_poll_every).await;
                }
            }
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        let secret = WebhookSecret::from_random([1; WEBHOOK_SECRET_BYTES]);
        let a = signature(&secret, 1_700_000_000, b"{\"a\":1}");
        assert!(a.starts_with("sha256="));
        assert_eq!(a.len(), "sha256=".len() + 64);
        assert_eq!(a, signature(&secret, 1_700_000_000, b"{\"a\":1}"));
        assert_ne!(a, signature(&secret, 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(a, signature(&secret, 1_700_000_000, b"{\"a\":2}"));
        let other = WebhookSecret::from_random([2; WEBHOOK_SECRET_BYTES]);
        assert_ne!(a, signature(&other, 1_700_000_000, b"{\"a\":1}"));
    }

    #[test]
    fn the_readme_example_verifies_what_the_server_signs() {
        // The Python example in the README computes the same value for these inputs.
        let secret = WebhookSecret::from_random([7; WEBHOOK_SECRET_BYTES]);
        assert_eq!(
            signature(&secret, 1_700_000_000, b"{\"a\":1}"),
            "sha256=96b17a2c0c09080b42bcdb78119993fc48360063bd76a345702ffe9293a59985"
        );
    }

    #[test]
    fn back_off_doubles_with_jitter_up_to_a_ceiling() {
        let base = Duration::from_secs(10);
        for attempt in 1..=4 {
            let full = base * 2u32.pow(u32::try_from(attempt - 1).expect("small"));
            for _ in 0..50 {
                let wait = backoff(base, attempt);
                assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
            }
        }
        assert!(backoff(base, 1_000) <= MAX_BACKOFF);
        assert!(backoff(base, -3) <= base);
        assert_eq!(backoff(Duration::ZERO, 5), Duration::ZERO);
    }
}
