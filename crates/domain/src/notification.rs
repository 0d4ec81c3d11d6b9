//! Notifications and outgoing webhooks: what people are told about, and the addresses
//! an organisation's administrators configure for machines to be told at.
//!
//! A webhook receiver is a machine, not a vetted person, so it is only ever told about
//! records marked OFFICIAL ([`webhook_may_carry`]).

use crate::people::{Classification, FieldError, text_enum};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

text_enum! {
    /// What a notification is about.
    NoticeKind, "kinds" {
        /// A request for tasking or assistance arrived (or passed through a gateway).
        RequestReceived = "request-received",
        /// A request the organisation raised was decided.
        RequestDecided = "request-decided",
        /// A request the organisation received is past its response deadline.
        RequestOverdue = "request-overdue",
        /// A request the organisation raised expired undecided.
        RequestExpired = "request-expired",
        /// A direction from the Director General (¶9) was issued to the organisation.
        DirectionIssued = "direction-issued",
        /// Another organisation has an interest in a subject the organisation registered.
        DeconflictionHit = "deconfliction-hit",
        /// Another organisation plans activity where and when the organisation does.
        ActivityClash = "activity-clash",
        /// A clash went unacknowledged and is escalated to the 24/7 control rooms.
        ActivityClashEscalated = "activity-clash-escalated",
    }
}

crate::text::uuid_id! {
    /// A notification's identifier.
    NotificationId, "id"
}

crate::text::uuid_id! {
    /// A webhook's identifier.
    WebhookId, "id"
}

crate::text::uuid_id! {
    /// One delivery of one notice to one webhook; the receiver sees it in the
    /// `Concordat-Delivery` header and can use it to ignore a repeat.
    DeliveryId, "id"
}

/// Whether a notice about a record of `classification` may go to a webhook. A
/// receiver is a machine that holds no vetting, so only OFFICIAL records qualify.
pub fn webhook_may_carry(classification: Classification) -> bool {
    classification == Classification::Official
}

/// The longest webhook address accepted, in characters.
pub const WEBHOOK_URL_MAX: usize = 2048;

/// Where a webhook is delivered: an absolute `http` or `https` URL with a host, no
/// user name or password (it would be shown wherever the webhook is listed) and no
/// fragment. The server calls no address but these, which administrators configure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "https://alerts.example.police.uk/concordat")]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Parses an address, naming what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(FieldError::new("url", "must not be empty"));
        }
        if text.chars().count() > WEBHOOK_URL_MAX {
            return Err(FieldError::new(
                "url",
                format!("must be at most {WEBHOOK_URL_MAX} characters long"),
            ));
        }
        let url = url::Url::parse(text)
            .map_err(|e| FieldError::new("url", format!("is not an absolute URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FieldError::new(
                "url",
                format!("must be http or https, not `{}`", url.scheme()),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(FieldError::new("url", "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(
                "url",
                "must not carry a user name or password; the signature proves who sends",
            ));
        }
        if url.fragment().is_some() {
            return Err(FieldError::new("url", "must not have a fragment (`#...`)"));
        }
        Ok(Self(url.to_string()))
    }

    /// The address as stored and called.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the address is called over TLS.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl TryFrom<String> for WebhookUrl {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WebhookUrl> for String {
    fn from(value: WebhookUrl) -> Self {
        value.0
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of notice a webhook is sent: at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<NoticeKind>", into = "Vec<NoticeKind>")]
#[schema(value_type = Vec<NoticeKind>)]
pub struct NoticeKinds(BTreeSet<NoticeKind>);

impl NoticeKinds {
    /// A set of kinds; at least one is required.
    pub fn new(kinds: impl IntoIterator<Item = NoticeKind>) -> Result<Self, FieldError> {
        let set: BTreeSet<NoticeKind> = kinds.into_iter().collect();
        if set.is_empty() {
            return Err(FieldError::new("kinds", "at least one kind is required"));
        }
        Ok(Self(set))
    }

    /// Parses a comma-separated list, as the command line and the store write it.
    pub fn parse_list(text: &str) -> Result<Self, FieldError> {
        let kinds = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(NoticeKind::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(kinds)
    }

    /// Whether `kind` is among them.
    pub fn contains(&self, kind: NoticeKind) -> bool {
        self.0.contains(&kind)
    }

    /// The kinds, in order.
    pub fn iter(&self) -> impl Iterator<Item = NoticeKind> + '_ {
        self.0.iter().copied()
    }
}

impl TryFrom<Vec<NoticeKind>> for NoticeKinds {
    type Error = FieldError;
    fn try_from(value: Vec<NoticeKind>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<NoticeKinds> for Vec<NoticeKind> {
    fn from(value: NoticeKinds) -> Self {
        value.0.into_iter().collect()
    }
}

impl fmt::Display for NoticeKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(NoticeKind::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// The secret a webhook's deliveries are signed with (HMAC-SHA256), shared with the
/// receiver. Unlike a password it must be kept as it is, to sign with; it is shown to
/// the administrator once, when made, and its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

/// How many random bytes make a webhook secret.
pub const WEBHOOK_SECRET_BYTES: usize = 32;

/// The prefix that marks a webhook secret, so that one found in a file is recognised.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

impl WebhookSecret {
    /// A secret from random bytes the caller drew (this crate draws none).
    pub fn from_random(bytes: [u8; WEBHOOK_SECRET_BYTES]) -> Self {
        Self(format!("{WEBHOOK_SECRET_PREFIX}{}", hex::encode(bytes)))
    }

    /// A secret as stored.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let hex_part = text
            .strip_prefix(WEBHOOK_SECRET_PREFIX)
            .ok_or_else(|| FieldError::new("secret", "is not a webhook secret"))?;
        if hex_part.len() != WEBHOOK_SECRET_BYTES * 2
            || !hex_part.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(FieldError::new("secret", "is not a webhook secret"));
        }
        Ok(Self(text.to_owned()))
    }

    /// The secret itself: the key the receiver verifies signatures with.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

text_enum! {
    /// Where a delivery stands.
    DeliveryState, "state" {
        /// Not yet delivered; it will be tried (again) at its next attempt.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Given up: every attempt failed, or the webhook was removed.
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_error(raw: &str) -> String {
        WebhookUrl::parse(raw).expect_err(raw).message
    }

    #[test]
    fn webhook_addresses_are_absolute_http_or_https_with_a_host() {
        for good in [
            "https://alerts.example.police.uk/concordat",
            "http://10.0.0.7:8080/hook?source=concordat",
            "  http://127.0.0.1:9/  ",
        ] {
            let url = WebhookUrl::parse(good).expect(good);
            assert_eq!(url.as_str(), url.as_str().trim());
        }
        assert!(url_error("").contains("empty"));
        assert!(url_error("alerts.example/hook").contains("absolute"));
        assert!(url_error("ftp://example.org/x").contains("http or https"));
        assert!(url_error("file:///etc/passwd").contains("http or https"));
        assert!(url_error("https://user:pw@example.org/").contains("password"));
        assert!(url_error("https://example.org/#x").contains("fragment"));
        let long = format!("https://example.org/{}", "a".repeat(WEBHOOK_URL_MAX));
        assert!(url_error(&long).contains("at most"));
        assert!(
            WebhookUrl::parse("https://example.org/")
                .expect("ok")
                .is_https()
        );
    }

    #[test]
    fn a_webhook_hears_only_of_official_records() {
        assert!(webhook_may_carry(Classification::Official));
        assert!(!webhook_may_carry(Classification::Secret));
        assert!(!webhook_may_carry(Classification::TopSecret));
    }

    #[test]
    fn kinds_are_a_non_empty_set_read_from_a_list() {
        let kinds = NoticeKinds::parse_list("request-received, deconfliction-hit,request-received")
            .expect("valid");
        assert_eq!(kinds.to_string(), "request-received,deconfliction-hit");
        assert!(kinds.contains(NoticeKind::DeconflictionHit));
        assert!(!kinds.contains(NoticeKind::RequestDecided));
        assert_eq!(
            NoticeKinds::parse_list(" , ").expect_err("empty").field,
            "kinds"
        );
        assert!(
            NoticeKinds::parse_list("request-received,gossip")
                .expect_err("unknown")
                .message
                .contains("gossip")
        );
    }

    #[test]
    fn secrets_never_print_and_read_back_as_made() {
        let secret = WebhookSecret::from_random([7; WEBHOOK_SECRET_BYTES]);
        assert!(!format!("{secret:?}").contains("0707"));
        assert_eq!(
            WebhookSecret::parse(secret.expose()).expect("valid"),
            secret
        );
        assert!(WebhookSecret::parse("whsec_zz").is_err());
        assert!(WebhookSecret::parse("0707").is_err());
    }
}
