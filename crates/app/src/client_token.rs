//! Access tokens for API clients: JWTs signed by Gatehouse with Ed25519, checked strictly —
//! the algorithm (EdDSA only, so `none` and HMAC tricks fail), the key id, the signature, the
//! issuer, the audience, and expiry and not-before against the injected clock (the
//! `jsonwebtoken` crate would read the system clock, so it checks only the signature and the
//! names, and the times are checked here).

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "urn:gatehouse";
pub const AUDIENCE: &str = "urn:gatehouse:api";
/// How long an access token works.
pub const LIFETIME_MINUTES: i64 = 60;
/// Clock difference tolerated between replicas for not-before.
const SKEW_SECONDS: i64 = 30;

/// The signing key (PKCS#8 and raw public key).
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub public: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn generate(kid: String) -> SigningKey {
        use ring::signature::KeyPair;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("the system RNG works");
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a key ring just made");
        SigningKey { kid, pkcs8: pkcs8.as_ref().to_vec(), public: pair.public_key().as_ref().to_vec() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The service principal's id.
    pub sub: Uuid,
    pub client_id: String,
    /// Space-separated scopes.
    pub scp: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
}

impl Claims {
    pub fn new(sub: Uuid, client_id: &str, scopes: &str, now: DateTime<Utc>) -> Claims {
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub,
            client_id: client_id.into(),
            scp: scopes.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + Duration::minutes(LIFETIME_MINUTES)).timestamp(),
            jti: Uuid::new_v4(),
        }
    }
}

pub fn mint(key: &SigningKey, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&key.pkcs8)).expect("Ed25519 signing works")
}

/// Why a token was refused; the caller only ever learns "invalid, expired or revoked".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed or not signed by this Gatehouse: {0}")]
    Invalid(String),
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
}

pub fn check(key: &SigningKey, token: &str, now: DateTime<Utc>) -> Result<Claims, Rejection> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| Rejection::Invalid(e.to_string()))?;
    if header.alg != Algorithm::EdDSA || header.kid.as_deref() != Some(key.kid.as_str()) {
        return Err(Rejection::Invalid("unexpected algorithm or key id".into()));
    }
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "nbf"]);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_ed_der(&key.public), &validation)
        .map_err(|e| Rejection::Invalid(e.to_string()))?;
    let c = data.claims;
    let now = now.timestamp();
    if c.exp <= now {
        return Err(Rejection::Expired);
    }
    if c.nbf > now + SKEW_SECONDS || c.iat > now + SKEW_SECONDS {
        return Err(Rejection::NotYetValid);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn claims() -> Claims {
        Claims::new(Uuid::nil(), "client", "EntitlementManagement.Read.All", now())
    }

    #[test]
    fn a_fresh_token_checks_out() {
        let key = SigningKey::generate("k1".into());
        let token = mint(&key, &claims());
        assert_eq!(check(&key, &token, now() + Duration::minutes(59)), Ok(claims_with_jti(&token)));
    }

    fn claims_with_jti(token: &str) -> Claims {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn times_are_checked_against_the_given_clock() {
        let key = SigningKey::generate("k1".into());
        let token = mint(&key, &claims());
        assert_eq!(check(&key, &token, now() + Duration::minutes(60)), Err(Rejection::Expired));
        assert_eq!(check(&key, &token, now() - Duration::minutes(5)), Err(Rejection::NotYetValid));
    }

    #[test]
    fn wrong_issuer_audience_key_or_kid_is_refused() {
        let key = SigningKey::generate("k1".into());
        for tamper in
            [|c: &mut Claims| c.iss = "urn:someone-else".into(), |c: &mut Claims| c.aud = "urn:another-api".into()]
        {
            let mut c = claims();
            tamper(&mut c);
            assert!(matches!(check(&key, &mint(&key, &c), now()), Err(Rejection::Invalid(_))));
        }
        let other = SigningKey::generate("k1".into());
        assert!(matches!(check(&key, &mint(&other, &claims()), now()), Err(Rejection::Invalid(_))));
        let renamed = SigningKey { kid: "k2".into(), ..key.clone() };
        assert!(matches!(check(&key, &mint(&renamed, &claims()), now()), Err(Rejection::Invalid(_))));
    }

    #[test]
    fn unsigned_and_altered_tokens_are_refused() {
        let key = SigningKey::generate("k1".into());
        let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let body = b64(serde_json::to_value(claims()).unwrap());
        for alg in ["none", "HS256"] {
            let header = b64(serde_json::json!({"alg": alg, "kid": "k1", "typ": "JWT"}));
            assert!(check(&key, &format!("{header}.{body}."), now()).is_err(), "{alg}");
        }
        // A scope raised in a signed token breaks the signature.
        let token = mint(&key, &claims());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut raised = claims_with_jti(&token);
        raised.scp = "EntitlementManagement.ReadWrite.All".into();
        parts[1] = b64(serde_json::to_value(raised).unwrap());
        assert!(matches!(check(&key, &parts.join("."), now()), Err(Rejection::Invalid(_))));
    }
}
