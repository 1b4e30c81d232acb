//! Sign-in sessions: how a person authenticated, and when a session stops being valid. Pure:
//! the store keeps sessions, the server carries them in a cookie, this decides.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

crate::graph_enum!(
    /// How the person behind a session proved who they are: the host organization's OpenID
    /// Connect provider (members), a connected organization's own provider (its guests), a
    /// one-time passcode mailed to the address, or the one-time link printed for the first
    /// administrator of a fresh install.
    AuthMethod("authMethod") {
        HostOidc = "hostOidc",
        PartnerOidc = "partnerOidc",
        EmailPasscode = "emailPasscode",
        BootstrapLink = "bootstrapLink",
    }
);

/// When sessions end on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Without a request for this long, the session ends.
    pub idle: Duration,
    /// However active, a session ends this long after sign-in.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { idle: Duration::minutes(60), absolute: Duration::hours(12) }
    }
}

/// A session as stored (without its secret, which only the browser holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub auth_method: AuthMethod,
    /// The issuer that vouched for the person (OIDC), or none.
    pub identity_issuer: Option<String>,
    /// Forms and cookie-authenticated API writes must echo this.
    pub csrf_token: String,
    pub created_date_time: DateTime<Utc>,
    pub last_seen_date_time: DateTime<Utc>,
    /// The absolute end.
    pub expires_date_time: DateTime<Utc>,
    /// Set when the person signed out or an administrator revoked it.
    pub ended_date_time: Option<DateTime<Utc>>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Why a session no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    SignedOut,
    Idle,
    Expired,
}

impl Session {
    /// A new session at `now` under `policy`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        id: Uuid,
        user_id: Uuid,
        auth_method: AuthMethod,
        identity_issuer: Option<String>,
        csrf_token: String,
        now: DateTime<Utc>,
        policy: SessionPolicy,
    ) -> Session {
        Session {
            id,
            user_id,
            auth_method,
            identity_issuer,
            csrf_token,
            created_date_time: now,
            last_seen_date_time: now,
            expires_date_time: now + policy.absolute,
            ended_date_time: None,
            client_ip: None,
            user_agent: None,
        }
    }

    /// Whether the session still authenticates its holder at `now`.
    pub fn check(&self, now: DateTime<Utc>, policy: SessionPolicy) -> Result<(), SessionEnd> {
        if self.ended_date_time.is_some() {
            Err(SessionEnd::SignedOut)
        } else if now >= self.expires_date_time {
            Err(SessionEnd::Expired)
        } else if now - self.last_seen_date_time >= policy.idle {
            Err(SessionEnd::Idle)
        } else {
            Ok(())
        }
    }

    /// Recording every request would make every read a write; a minute's resolution is
    /// plenty for an idle timeout counted in minutes.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_date_time >= Duration::minutes(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64, m: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap() + Duration::hours(h) + Duration::minutes(m)
    }

    fn session() -> Session {
        Session::start(Uuid::nil(), Uuid::nil(), AuthMethod::HostOidc, None, "c".into(), at(0, 0), Default::default())
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let p = SessionPolicy::default();
        let mut s = session();
        assert_eq!(s.check(at(0, 59), p), Ok(()));
        assert_eq!(s.check(at(1, 0), p), Err(SessionEnd::Idle));
        // Activity keeps it alive, but never past the absolute end.
        for h in 0..12 {
            s.last_seen_date_time = at(h, 30);
            assert_eq!(s.check(at(h, 45), p), Ok(()), "hour {h}");
        }
        s.last_seen_date_time = at(11, 59);
        assert_eq!(s.check(at(12, 0), p), Err(SessionEnd::Expired));
    }

    #[test]
    fn signed_out_is_final() {
        let mut s = session();
        s.ended_date_time = Some(at(0, 1));
        assert_eq!(s.check(at(0, 2), SessionPolicy::default()), Err(SessionEnd::SignedOut));
    }

    #[test]
    fn touches_at_most_once_a_minute() {
        let s = session();
        assert!(!s.needs_touch(at(0, 0) + Duration::seconds(59)));
        assert!(s.needs_touch(at(0, 1)));
    }
}
