//! The second factor at sign-in: time-based one-time passwords (RFC 6238), as
//! authenticator apps make them — HMAC-SHA-1, six digits, a new code every 30 seconds.
//!
//! This module computes and checks codes for a given instant; it draws no random
//! numbers and reads no clock. The server generates secrets and passes the time in,
//! and the store remembers the last time step a user's code was accepted for, so that
//! a code is never accepted twice (RFC 6238 §5.2). The arithmetic is `totp-rs`'s.

use crate::people::{FieldError, Username};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use utoipa::ToSchema;

/// The name authenticator apps show beside a Concordat code.
pub const ISSUER: &str = "Concordat";

/// How many bytes a new secret has: 160 bits, as RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;

/// The shortest secret accepted when read back: 128 bits (RFC 4226 §4).
const MIN_SECRET_BYTES: usize = 16;

/// Seconds in one time step.
const STEP_SECONDS: u64 = 30;

/// Time steps either side of the current one whose codes are still accepted, for
/// clocks that drift and codes typed as they change (RFC 6238 §5.2 recommends one).
const SKEW_STEPS: u16 = 1;

/// A user's shared TOTP secret. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A secret from `SECRET_BYTES` random bytes (drawn by the caller).
    pub fn from_random(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes.to_vec())
    }

    /// Parses a secret in RFC 4648 base32 (upper case, no padding, as stored), of at
    /// least 128 bits.
    pub fn parse_base32(raw: &str) -> Result<Self, FieldError> {
        let bytes = Secret::try_from_base32(raw.trim())
            .map_err(|_| FieldError::new("totp_secret", "is not base32"))?
            .as_bytes()
            .to_vec();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(FieldError::new(
                "totp_secret",
                "must be at least 128 bits long",
            ));
        }
        Ok(Self(bytes))
    }

    /// The secret in RFC 4648 base32 without padding: what is stored, and what a
    /// person types into an authenticator app that cannot scan the URI.
    pub fn to_base32(&self) -> String {
        Secret::new(self.0.clone().into_boxed_slice()).to_base32()
    }

    /// The `otpauth://totp/...` URI for `account` that authenticator apps read (usually
    /// from a QR code), with issuer `Concordat`.
    pub fn otpauth_uri(&self, account: &Username) -> String {
        // A username has no `:` and the issuer is fixed, so the URI can always be made.
        self.totp(Some(account))
            .to_url()
            .unwrap_or_else(|_| unreachable!())
    }

    /// The code an authenticator shows at `at`.
    pub fn code_at(&self, at: Timestamp) -> TotpCode {
        TotpCode(self.totp(None).generate(unix_seconds(at)).to_string())
    }

    /// The time step whose code `code` is, if it is the code of the step at `at` or of
    /// one step either side. Whether that step was used before is the caller's to check.
    pub fn verify(&self, code: &TotpCode, at: Timestamp) -> Option<TotpStep> {
        self.totp(None)
            .check(&code.0, unix_seconds(at))
            .and_then(|step| i64::try_from(step).ok())
            .map(TotpStep)
    }

    fn totp(&self, account: Option<&Username>) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new(self.0.clone().into_boxed_slice()))
            .with_issuer(Some(ISSUER))
            .with_account_name(account.map(Username::as_str).unwrap_or_default())
            // The settings are fixed and the secret is at least 128 bits, which is all
            // `build` checks.
            .build()
            .unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// A six-digit code typed from an authenticator app. Spaces and hyphens people type
/// to group the digits are dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    /// Parses a code: six digits, ignoring spaces and hyphens. Errors name the field
    /// `totp`, as the sign-in request calls it.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                "totp",
                "must be the 6-digit security code from your authenticator app",
            ));
        }
        Ok(Self(digits))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpCode(<redacted>)")
    }
}

/// A 30-second time step since the Unix epoch, the counter a code is made from. Steps
/// only go forward, so a code is accepted only for a step later than the last one used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TotpStep(i64);

impl TotpStep {
    /// The step at `at`.
    pub fn at(at: Timestamp) -> Self {
        Self(at.as_micros().div_euclid(1_000_000 * STEP_SECONDS as i64))
    }

    /// A step as stored.
    pub fn from_stored(value: i64) -> Self {
        Self(value)
    }

    /// The step as stored.
    pub fn as_i64(self) -> i64 {
        self.0
    }

    /// The first instant of the step.
    pub fn start(self) -> Timestamp {
        Timestamp::from_micros(self.0.saturating_mul(1_000_000 * STEP_SECONDS as i64))
            .unwrap_or_else(|| Timestamp::from_micros(0).unwrap_or_else(|| unreachable!()))
    }
}

/// How an organisation's people must sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInPolicy {
    /// Whether every user must give a security code from an authenticator app as well
    /// as their password. Users without one set up can only set one up until they have.
    pub require_totp: bool,
}

/// Seconds since the Unix epoch; instants before it count as the epoch.
fn unix_seconds(at: Timestamp) -> u64 {
    u64::try_from(at.as_micros().div_euclid(1_000_000)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret of RFC 6238 Appendix B for SHA-1: the ASCII digits "1234567890" twice.
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    fn at_seconds(seconds: i64) -> Timestamp {
        Timestamp::from_micros(seconds * 1_000_000).expect("in range")
    }

    /// RFC 6238 Appendix B gives eight digits; an authenticator shows the last six.
    #[test]
    fn codes_match_the_rfc_6238_sha1_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let secret = rfc_secret();
        for (seconds, eight) in vectors {
            let six = &eight[2..];
            assert_eq!(
                secret.code_at(at_seconds(seconds)).as_str(),
                six,
                "T = {seconds}"
            );
            let code = TotpCode::parse(six).expect("six digits");
            assert_eq!(
                secret.verify(&code, at_seconds(seconds)),
                Some(TotpStep::at(at_seconds(seconds))),
                "T = {seconds}"
            );
        }
    }

    #[test]
    fn one_step_of_skew_is_accepted_and_two_are_not() {
        let secret = rfc_secret();
        let now = at_seconds(1_234_567_890);
        let step = TotpStep::at(now);
        let code_of = |offset: i64| secret.code_at(at_seconds(1_234_567_890 + offset * 30));
        assert_eq!(secret.verify(&code_of(0), now), Some(step));
        assert_eq!(secret.verify(&code_of(-1), now), Some(TotpStep(step.0 - 1)));
        assert_eq!(secret.verify(&code_of(1), now), Some(TotpStep(step.0 + 1)));
        assert_eq!(secret.verify(&code_of(-2), now), None);
        assert_eq!(secret.verify(&code_of(2), now), None);
    }

    #[test]
    fn codes_are_six_digits_with_spaces_allowed() {
        assert_eq!(TotpCode::parse(" 123 456 ").expect("ok").as_str(), "123456");
        assert_eq!(TotpCode::parse("123-456").expect("ok").as_str(), "123456");
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            let err = TotpCode::parse(bad).expect_err(bad);
            assert_eq!(err.field, "totp");
        }
    }

    #[test]
    fn secrets_round_trip_through_base32_and_never_print() {
        let secret = TotpSecret::from_random([7; SECRET_BYTES]);
        let text = secret.to_base32();
        assert_eq!(text.len(), 32);
        assert_eq!(TotpSecret::parse_base32(&text).expect("parses"), secret);
        assert!(TotpSecret::parse_base32("not base32!").is_err());
        assert!(TotpSecret::parse_base32("GEZDGNBV").is_err(), "too short");
        assert_eq!(format!("{secret:?}"), "TotpSecret(<redacted>)");
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_account() {
        let secret = rfc_secret();
        let name = Username::parse("j.smith").expect("valid");
        assert_eq!(
            secret.otpauth_uri(&name),
            format!(
                "otpauth://totp/Concordat:j.smith?secret={}&issuer=Concordat",
                secret.to_base32()
            )
        );
    }

    #[test]
    fn steps_are_thirty_seconds() {
        assert_eq!(TotpStep::at(at_seconds(59)), TotpStep(1));
        assert_eq!(TotpStep::at(at_seconds(60)), TotpStep(2));
        assert_eq!(TotpStep(2).start(), at_seconds(60));
    }
}
