//! OpenID Connect as a relying party reads it: a provider's discovery document and key set,
//! and ID tokens, verified strictly (signature by the provider's published keys, issuer,
//! audience, expiry, issue time, nonce; `alg: none` and HMAC with an unknown secret are refused
//! by the `openidconnect` crate). Pure: the server fetches, this decides; time is passed in.

use chrono::{DateTime, Utc};
use gatehouse_domain::directory::VerifiedPerson;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{IssuerUrl, Nonce};
use thiserror::Error;

/// Clock skew tolerated on the token's issue time.
const ISSUED_IN_FUTURE_TOLERANCE_SECONDS: i64 = 60;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The verifier as Gatehouse uses it: `now` from the injected clock, and a token issued in the
/// future refused (besides the crate's signature, issuer, audience, expiry and `alg` checks).
pub fn strict(verifier: CoreIdTokenVerifier<'_>, now: DateTime<Utc>) -> CoreIdTokenVerifier<'_> {
    verifier.set_time_fn(move || now).set_issue_time_verifier_fn(move |iat| {
        if iat > now + chrono::Duration::seconds(ISSUED_IN_FUTURE_TOLERANCE_SECONDS) {
            Err("the token is not valid yet (issued in the future)".into())
        } else {
            Ok(())
        }
    })
}

/// A discovery document as a provider sent it: well-formed, and naming exactly the issuer it
/// was fetched from (OpenID Connect Discovery §4.3), which also stops one provider from
/// speaking for another.
pub fn parse_discovery(issuer: &IssuerUrl, body: &[u8]) -> Result<CoreProviderMetadata, String> {
    let m: CoreProviderMetadata = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| format!("the discovery document is not valid: {e}"))?;
    if m.issuer() != issuer {
        return Err(format!(
            "the discovery document names the issuer {} instead of {}",
            m.issuer().as_str(),
            issuer.as_str()
        ));
    }
    Ok(m)
}

/// A provider's published keys (`jwks_uri`).
pub fn parse_jwks(body: &[u8]) -> Result<CoreJsonWebKeySet, String> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| format!("the key set is not valid: {e}"))
}

/// Read and check an ID token as it arrived (compact JWS text) with `verifier`: the person it
/// names, or why it is refused.
pub fn read_id_token(
    raw: &str,
    verifier: CoreIdTokenVerifier<'_>,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<VerifiedPerson, Refused> {
    let token: CoreIdToken = raw.parse().map_err(|e: serde_json::Error| Refused(format!("not an ID token: {e}")))?;
    verify(&token, strict(verifier, now), nonce)
}

/// Check an ID token and read the person from it. The address counts only if the provider
/// says it is verified.
pub fn verify(
    id_token: &CoreIdToken,
    verifier: CoreIdTokenVerifier<'_>,
    nonce: &str,
) -> Result<VerifiedPerson, Refused> {
    let claims = id_token.claims(&verifier, &Nonce::new(nonce.to_owned())).map_err(|e| Refused(error_chain(&e)))?;
    let email = claims.email().filter(|_| claims.email_verified().unwrap_or(false)).map(|e| e.as_str().to_lowercase());
    Ok(VerifiedPerson {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email,
        display_name: claims.name().and_then(|c| c.get(None)).map(|v| v.as_str().to_owned()),
        given_name: claims.given_name().and_then(|c| c.get(None)).map(|v| v.as_str().to_owned()),
        surname: claims.family_name().and_then(|c| c.get(None)).map(|v| v.as_str().to_owned()),
    })
}

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests;
