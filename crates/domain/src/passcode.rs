//! Email one-time passcodes: how long a code works, how many wrong tries it survives, and how
//! often codes may be sent. Pure: the store keeps challenges (the code only hashed), the app
//! generates and mails codes, this decides. Time is passed in.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// The rules for passcodes. The defaults are the installation's rules; tests may narrow them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasscodePolicy {
    /// Digits in a code: 8 gives 10^8 possibilities, so the 5 tries allowed per code and the
    /// send limits below keep guessing hopeless.
    pub digits: u32,
    /// How long a code works after it was sent.
    pub validity: Duration,
    /// Wrong tries before the code is locked out.
    pub max_attempts: u32,
    /// At most `per_address` codes to one address within `window`.
    pub per_address: u32,
    /// At most `per_client` codes requested from one client address within `window`.
    pub per_client: u32,
    pub window: Duration,
}

impl Default for PasscodePolicy {
    fn default() -> Self {
        PasscodePolicy {
            digits: 8,
            validity: Duration::minutes(10),
            max_attempts: 5,
            per_address: 5,
            per_client: 20,
            window: Duration::hours(1),
        }
    }
}

impl PasscodePolicy {
    /// Where the rate-limit window starts at `now`: codes sent since count.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Whether another code may be sent, given how many went to this address and were asked
    /// for from this client within the window.
    pub fn may_send(&self, sent_to_address: u32, sent_to_client: u32) -> Result<(), PasscodeRefusal> {
        if sent_to_address >= self.per_address {
            return Err(PasscodeRefusal::TooManyForAddress);
        }
        if sent_to_client >= self.per_client {
            return Err(PasscodeRefusal::TooManyFromClient);
        }
        Ok(())
    }

    /// A code of `digits` digits from 64 random bits (the bias of the modulo is below 10^-10).
    pub fn code_from(&self, random: u64) -> String {
        let modulus = 10u64.pow(self.digits);
        format!("{:0width$}", random % modulus, width = self.digits as usize)
    }

    /// Whether `input` is shaped like a code at all (digits only, right length); spaces people
    /// type between groups of digits are ignored.
    pub fn normalize_input(&self, input: &str) -> Option<String> {
        let code: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        (code.len() == self.digits as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
    }
}

/// One code sent to one address, as stored (the code itself only as a salted hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodeChallenge {
    pub id: Uuid,
    /// The normalised address the code went to.
    pub email: String,
    pub code_hash: String,
    /// The connected organization the address was recognised under at sending, if any.
    pub organization_id: Option<Uuid>,
    pub client_ip: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub expires_date_time: DateTime<Utc>,
    pub failed_attempts: u32,
    /// Set once the code was used, locked out, or replaced by a newer one.
    pub closed_date_time: Option<DateTime<Utc>>,
}

/// Why a code did not sign the person in, or why none was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasscodeRefusal {
    #[error("this code has expired; ask for a new one")]
    Expired,
    #[error("this code was already used or replaced by a newer one; ask for a new one")]
    Closed,
    #[error("too many wrong codes; ask for a new one")]
    LockedOut,
    #[error("the code is wrong; {remaining} tries left")]
    Wrong { remaining: u32 },
    #[error("too many codes were sent to this address; wait an hour and try again")]
    TooManyForAddress,
    #[error("too many codes were requested from your network; wait an hour and try again")]
    TooManyFromClient,
}

/// What a try did to the challenge: the caller stores the new state, whatever the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The code matched: the challenge is now closed (single use).
    Accepted,
    /// Refused (the last allowed wrong try also closes the challenge).
    Refused(PasscodeRefusal),
}

impl PasscodeChallenge {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: Uuid,
        email: String,
        code_hash: String,
        organization_id: Option<Uuid>,
        client_ip: Option<String>,
        now: DateTime<Utc>,
        policy: &PasscodePolicy,
    ) -> Self {
        PasscodeChallenge {
            id,
            email,
            code_hash,
            organization_id,
            client_ip,
            created_date_time: now,
            expires_date_time: now + policy.validity,
            failed_attempts: 0,
            closed_date_time: None,
        }
    }

    /// Whether the challenge can still take a try at `now`.
    pub fn check_open(&self, now: DateTime<Utc>, policy: &PasscodePolicy) -> Result<(), PasscodeRefusal> {
        if self.failed_attempts >= policy.max_attempts {
            Err(PasscodeRefusal::LockedOut)
        } else if self.closed_date_time.is_some() {
            Err(PasscodeRefusal::Closed)
        } else if now >= self.expires_date_time {
            Err(PasscodeRefusal::Expired)
        } else {
            Ok(())
        }
    }

    /// A try at `now`; `matches` is whether the typed code hashes to `code_hash` (compared
    /// by the caller, which owns hashing). Updates the challenge.
    pub fn attempt(&mut self, matches: bool, now: DateTime<Utc>, policy: &PasscodePolicy) -> Attempt {
        if let Err(refusal) = self.check_open(now, policy) {
            return Attempt::Refused(refusal);
        }
        if matches {
            self.closed_date_time = Some(now);
            return Attempt::Accepted;
        }
        self.failed_attempts += 1;
        if self.failed_attempts >= policy.max_attempts {
            self.closed_date_time = Some(now);
            return Attempt::Refused(PasscodeRefusal::LockedOut);
        }
        Attempt::Refused(PasscodeRefusal::Wrong { remaining: policy.max_attempts - self.failed_attempts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
    }

    fn challenge() -> PasscodeChallenge {
        let p = PasscodePolicy::default();
        PasscodeChallenge::new(Uuid::nil(), "a@b.example".into(), "h".into(), None, None, t0(), &p)
    }

    #[test]
    fn codes_have_the_configured_length() {
        let p = PasscodePolicy::default();
        assert_eq!(p.code_from(0), "00000000");
        assert_eq!(p.code_from(u64::MAX).len(), 8);
        assert_eq!(p.normalize_input(" 1234 5678 ").as_deref(), Some("12345678"));
        for bad in ["1234567", "123456789", "1234567a", "", "١٢٣٤٥٦٧٨"] {
            assert_eq!(p.normalize_input(bad), None, "{bad}");
        }
    }

    #[test]
    fn valid_ten_minutes_then_expired() {
        let p = PasscodePolicy::default();
        let c = challenge();
        assert_eq!(c.check_open(t0() + Duration::seconds(599), &p), Ok(()));
        assert_eq!(c.check_open(t0() + Duration::minutes(10), &p), Err(PasscodeRefusal::Expired));
        let mut c = challenge();
        assert_eq!(c.attempt(true, t0() + Duration::minutes(11), &p), Attempt::Refused(PasscodeRefusal::Expired));
    }

    #[test]
    fn single_use() {
        let p = PasscodePolicy::default();
        let mut c = challenge();
        assert_eq!(c.attempt(true, t0(), &p), Attempt::Accepted);
        assert_eq!(c.attempt(true, t0(), &p), Attempt::Refused(PasscodeRefusal::Closed));
    }

    #[test]
    fn five_wrong_tries_lock_the_code_even_for_the_right_one() {
        let p = PasscodePolicy::default();
        let mut c = challenge();
        for remaining in (1..5).rev() {
            assert_eq!(c.attempt(false, t0(), &p), Attempt::Refused(PasscodeRefusal::Wrong { remaining }));
        }
        assert_eq!(c.attempt(false, t0(), &p), Attempt::Refused(PasscodeRefusal::LockedOut));
        assert_eq!(c.attempt(true, t0(), &p), Attempt::Refused(PasscodeRefusal::LockedOut));
        assert!(c.closed_date_time.is_some());
    }

    #[test]
    fn send_limits_per_address_and_client() {
        let p = PasscodePolicy::default();
        assert_eq!(p.may_send(4, 19), Ok(()));
        assert_eq!(p.may_send(5, 0), Err(PasscodeRefusal::TooManyForAddress));
        assert_eq!(p.may_send(0, 20), Err(PasscodeRefusal::TooManyFromClient));
        assert_eq!(p.window_start(t0()), t0() - Duration::hours(1));
    }

    proptest! {
        /// Whatever the sequence of tries and times, a challenge accepts at most once, never
        /// after its expiry, and never after `max_attempts` wrong tries.
        #[test]
        fn at_most_one_acceptance(tries in proptest::collection::vec((any::<bool>(), 0i64..900), 0..20)) {
            let p = PasscodePolicy::default();
            let mut c = challenge();
            let mut accepted = 0;
            let mut wrong = 0;
            for (matches, second) in tries {
                let now = t0() + Duration::seconds(second);
                match c.attempt(matches, now, &p) {
                    Attempt::Accepted => {
                        accepted += 1;
                        prop_assert!(now < c.expires_date_time);
                        prop_assert!(wrong < p.max_attempts);
                    }
                    Attempt::Refused(PasscodeRefusal::Wrong { .. } | PasscodeRefusal::LockedOut) if !matches => wrong += 1,
                    Attempt::Refused(_) => {}
                }
            }
            prop_assert!(accepted <= 1);
            prop_assert!(c.failed_attempts <= p.max_attempts);
        }

        #[test]
        fn codes_are_always_digits(r in any::<u64>()) {
            let p = PasscodePolicy::default();
            let code = p.code_from(r);
            prop_assert_eq!(p.normalize_input(&code), Some(code));
        }
    }
}
