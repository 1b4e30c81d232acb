//! Failed credentials are throttled per client address: after `limit` failures of one kind
//! (bearer tokens, client secrets, one-time sign-in links) within `window`, that address gets
//! 429 with `Retry-After` for the rest of the window, even with a correct credential, while
//! every other address is unaffected. Failures are logged (kind and address, never the
//! secret) and counted in `/metrics`.
//!
//! Counters live in this process: each replica throttles what it sees. A shared store would
//! cost a write per failed guess, which is what an attacker wants; a replica's share is
//! enough to make guessing pointless.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::IntCounterVec;
use tokio::time::Instant;

/// What was guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    BearerToken,
    ClientSecret,
    SignInLink,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::BearerToken => "bearer_token",
            Credential::ClientSecret => "client_secret",
            Credential::SignInLink => "sign_in_link",
        }
    }
}

/// Settings `auth_failure_limit` and `auth_failure_window_seconds`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub limit: u32,
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits { limit: 20, window: Duration::from_secs(60) }
    }
}

/// More addresses than this are pruned of their finished windows.
const PRUNE_AT: usize = 10_000;

pub struct Throttle {
    limits: ThrottleLimits,
    windows: Mutex<HashMap<(IpAddr, Credential), (Instant, u32)>>,
    failures: IntCounterVec,
    throttled: IntCounterVec,
}

impl Throttle {
    pub fn new(limits: ThrottleLimits, failures: IntCounterVec, throttled: IntCounterVec) -> Self {
        Throttle { limits, windows: Mutex::new(HashMap::new()), failures, throttled }
    }

    /// `Err(retry after)` while `client` is throttled for `kind`. An unknown client (no
    /// address) is never throttled here: the accept loop always knows the peer.
    pub fn check(&self, client: Option<IpAddr>, kind: Credential) -> Result<(), Duration> {
        let Some(ip) = client else { return Ok(()) };
        let windows = self.windows.lock().expect("throttle");
        match windows.get(&(ip, kind)) {
            Some((start, count)) if *count >= self.limits.limit => {
                let left = (*start + self.limits.window).saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Ok(())
                } else {
                    self.throttled.with_label_values(&[kind.as_str()]).inc();
                    Err(left)
                }
            }
            _ => Ok(()),
        }
    }

    /// Record a failed credential from `client`.
    pub fn failed(&self, client: Option<IpAddr>, kind: Credential) {
        self.failures.with_label_values(&[kind.as_str()]).inc();
        let Some(ip) = client else { return };
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("throttle");
        if windows.len() > PRUNE_AT {
            let window = self.limits.window;
            windows.retain(|_, (start, _)| *start + window > now);
        }
        let entry = windows.entry((ip, kind)).or_insert((now, 0));
        if entry.0 + self.limits.window <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 == self.limits.limit {
            tracing::warn!(credential = kind.as_str(), client = %ip, failures = entry.1, "throttling a client after failed credentials");
        } else {
            tracing::info!(credential = kind.as_str(), client = %ip, "failed credential");
        }
    }
}

/// The `Retry-After` value for a wait: whole seconds, at least one.
pub fn retry_after(wait: Duration) -> String {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1).to_string()
}

#[cfg(test)]
mod tests {
    use prometheus::Opts;

    use super::*;

    fn throttle(limit: u32, window: Duration) -> Throttle {
        let c = |n: &str| IntCounterVec::new(Opts::new(n, n), &["credential"]).unwrap();
        Throttle::new(ThrottleLimits { limit, window }, c("f"), c("t"))
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_is_throttled_after_its_failures_and_only_it_only_for_the_window() {
        let t = throttle(3, Duration::from_secs(60));
        let (a, b) = (Some("203.0.113.1".parse().unwrap()), Some("203.0.113.2".parse().unwrap()));
        for _ in 0..3 {
            assert!(t.check(a, Credential::BearerToken).is_ok());
            t.failed(a, Credential::BearerToken);
        }
        let wait = t.check(a, Credential::BearerToken).unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(59));
        assert_eq!(retry_after(wait), "60");
        assert!(t.check(b, Credential::BearerToken).is_ok(), "another address is unaffected");
        assert!(t.check(a, Credential::ClientSecret).is_ok(), "each kind counts apart");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(t.check(a, Credential::BearerToken).is_ok(), "the window ends");
        assert_eq!(t.failures.with_label_values(&["bearer_token"]).get(), 3);
        assert_eq!(t.throttled.with_label_values(&["bearer_token"]).get(), 1);
    }
}
