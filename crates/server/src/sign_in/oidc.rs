//! The OpenID Connect relying party, used for the host's provider and for partners' own
//! providers alike: discovery (cached), the authorization request with PKCE (S256), state
//! and nonce, the code exchange, and strict ID-token verification (signature by the
//! provider's published keys, issuer, audience, expiry, issue time, nonce; `alg: none` and
//! HMAC with an unknown secret are refused by the `openidconnect` crate).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gatehouse_app::sign_in::VerifiedPerson;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use thiserror::Error;

/// A provider's discovery document is fetched again after this long (key rotation).
const DISCOVERY_TTL: Duration = Duration::from_secs(600);
/// The largest discovery document or key set read from a provider.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;
/// Clock skew tolerated on the token's issue time.
const ISSUED_IN_FUTURE_TOLERANCE_SECONDS: i64 = 60;

/// One provider as Gatehouse is registered with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Error)]
pub enum OidcError {
    #[error("the identity provider {issuer} could not be reached or described itself wrongly: {reason}")]
    Discovery { issuer: String, reason: String },
    #[error("the identity provider's answer was refused: {0}")]
    Refused(String),
    #[error("the identity provider did not issue tokens: {0}")]
    Exchange(String),
}

/// What the browser is sent to the provider with, and what must be kept until it comes back.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

pub struct RelyingParty {
    http: openidconnect::reqwest::Client,
    discovered: Mutex<HashMap<String, (CoreProviderMetadata, Instant)>>,
}

impl Default for RelyingParty {
    fn default() -> Self {
        RelyingParty {
            // Never follow redirects: a provider must answer its own endpoints (SSRF guard).
            http: openidconnect::reqwest::ClientBuilder::new()
                .redirect(openidconnect::reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("a TLS-capable HTTP client"),
            discovered: Mutex::new(HashMap::new()),
        }
    }
}

impl RelyingParty {
    /// Whether an OpenID provider answers at `issuer`: its discovery document, whose `issuer`
    /// must be exactly this one (OpenID Connect Discovery §4.3). Returns the issuer.
    pub async fn discover(&self, issuer: &str) -> Result<String, OidcError> {
        Ok(self.metadata(issuer).await?.issuer().as_str().to_owned())
    }

    async fn metadata(&self, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
        if let Some((m, at)) = self.discovered.lock().expect("discovery cache").get(issuer) {
            if at.elapsed() < DISCOVERY_TTL {
                return Ok(m.clone());
            }
        }
        let fail = |reason: String| OidcError::Discovery { issuer: issuer.to_owned(), reason };
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| fail(e.to_string()))?;
        let config = url.join(".well-known/openid-configuration").map_err(|e| fail(e.to_string()))?;
        let m = parse_discovery(&url, &self.fetch(config.as_str()).await.map_err(fail)?).map_err(fail)?;
        let keys = parse_jwks(&self.fetch(m.jwks_uri().url().as_str()).await.map_err(fail)?).map_err(fail)?;
        let m = m.set_jwks(keys);
        self.discovered.lock().expect("discovery cache").insert(issuer.to_owned(), (m.clone(), Instant::now()));
        Ok(m)
    }

    /// A provider's document, refused past [`MAX_DOCUMENT_BYTES`] (a hostile or broken
    /// provider must not make Gatehouse read without end).
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self.http.get(url).send().await.map_err(|e| error_chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{url} answered with more than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn client(
        &self,
        p: &ProviderConfig,
        redirect: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let m = self.metadata(&p.issuer).await?;
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| OidcError::Refused(format!("bad redirect URL {redirect}: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            m,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(p.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorization request: where to send the browser, and the secrets to keep.
    pub async fn start(&self, p: &ProviderConfig, redirect: &str) -> Result<Started, OidcError> {
        let client = self.client(p, redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchange the code and verify the ID token; the person it names.
    pub async fn finish(
        &self,
        p: &ProviderConfig,
        redirect: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedPerson, OidcError> {
        let client = self.client(p, redirect).await?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
        let tokens = exchange.request_async(&self.http).await.map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        let id_token = tokens.id_token().ok_or_else(|| OidcError::Refused("no ID token in the answer".into()))?;
        verify(id_token, strict(client.id_token_verifier(), now), nonce)
    }
}

/// The verifier as Gatehouse uses it: `now` from the injected clock, and a token issued in the
/// future refused (besides the crate's signature, issuer, audience, expiry and `alg` checks).
fn strict(verifier: CoreIdTokenVerifier<'_>, now: DateTime<Utc>) -> CoreIdTokenVerifier<'_> {
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
) -> Result<VerifiedPerson, OidcError> {
    let token: CoreIdToken =
        raw.parse().map_err(|e: serde_json::Error| OidcError::Refused(format!("not an ID token: {e}")))?;
    verify(&token, strict(verifier, now), nonce)
}

/// Check an ID token and read the person from it. The address counts only if the provider
/// says it is verified.
fn verify(id_token: &CoreIdToken, verifier: CoreIdTokenVerifier<'_>, nonce: &str) -> Result<VerifiedPerson, OidcError> {
    let claims =
        id_token.claims(&verifier, &Nonce::new(nonce.to_owned())).map_err(|e| OidcError::Refused(error_chain(&e)))?;
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

fn error_chain(e: &dyn std::error::Error) -> String {
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
#[path = "oidc_tests.rs"]
mod tests;
