//! Limits on sign-in attempts, per client address and per account name.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// Counts sign-in attempts. An address may try 20 times a minute, one account name
/// 5 times a minute; a burst uses the allowance up and then waits for it to refill.
pub struct SignInLimiter {
    by_address: DefaultKeyedRateLimiter<String>,
    by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl SignInLimiter {
    /// A limiter with `per_address` and `per_account` attempts a minute.
    pub fn new(per_address: NonZeroU32, per_account: NonZeroU32) -> Self {
        Self {
            by_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            by_account: RateLimiter::keyed(Quota::per_minute(per_account)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt from both allowances, or says how long to wait.
    pub fn check(&self, address: &str, account: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(now);
        self.by_address
            .check_key(&address.to_owned())
            .map_err(wait)?;
        self.by_account
            .check_key(&account.to_ascii_lowercase())
            .map_err(wait)?;
        Ok(())
    }

    /// Takes one attempt from the address's allowance only (starting a single
    /// sign-on, before anyone is named), or says how long to wait.
    pub fn check_address(&self, address: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        self.by_address
            .check_key(&address.to_owned())
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets keys whose allowance is full again, so memory stays bounded.
    pub fn sweep(&self) {
        self.by_address.retain_recent();
        self.by_account.retain_recent();
    }
}

impl Default for SignInLimiter {
    fn default() -> Self {
        Self::new(
            NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_across_addresses() {
        let limiter = SignInLimiter::default();
        for i in 0..5 {
            assert!(limiter.check(&format!("client-{i}"), "j.smith").is_ok());
        }
        let wait = limiter.check("client-9", "J.Smith").expect_err("limited");
        assert!(wait > Duration::ZERO);
        assert!(limiter.check("client-9", "a.jones").is_ok());
    }
}
