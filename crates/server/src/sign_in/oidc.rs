//! The OpenID Connect relying party, used for the host's provider and for partners' own
//! providers alike: discovery (cached, size-limited), the authorization request with PKCE
//! (S256), state and nonce, and the code exchange. What the provider sends is read and
//! verified by the `gatehouse-oidc` crate (no IO there, so it can be fuzzed on its own).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gatehouse_app::sign_in::VerifiedPerson;
use gatehouse_oidc::{error_chain, parse_discovery, parse_jwks, strict, verify, Refused};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use thiserror::Error;

/// A provider's discovery document is fetched again after this long (key rotation).
const DISCOVERY_TTL: Duration = Duration::from_secs(600);
/// The largest discovery document or key set read from a provider.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

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
        verify(id_token, strict(client.id_token_verifier(), now), nonce).map_err(|Refused(why)| OidcError::Refused(why))
    }
}
