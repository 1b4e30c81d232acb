//! The OIDC peer is a real provider and usable as one: two `oidc-provider` instances with
//! different issuers, an authorization-code sign-in with PKCE and nonce driven by the
//! `openidconnect` crate as a relying party would, ID tokens verified against each provider's
//! discovery and JWKS, and the refusals the sign-in tests will lean on (another issuer's token,
//! a wrong PKCE verifier, an unknown account).

use gatehouse_testkit::peers::{OidcAccount, OidcClient, OidcClientAuth, OidcConfig, OidcPeer};
use openidconnect::core::{
    CoreClient, CoreErrorResponseType, CoreIdToken, CoreIdTokenVerifier, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AuthType, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use reqwest::Url;

const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";

type Rp = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The relying party's HTTP client: no redirects, as `openidconnect` asks (SSRF).
fn rp_http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn discover(peer: &OidcPeer) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(peer.issuer().to_owned()).unwrap(), &rp_http())
        .await
        .unwrap_or_else(|e| panic!("discovery at {}: {e:?}", peer.issuer()))
}

fn relying_party(metadata: CoreProviderMetadata, client: &OidcClient) -> Rp {
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.client_id.clone()),
        Some(ClientSecret::new(client.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());
    match client.auth {
        OidcClientAuth::ClientSecretBasic => rp.set_auth_type(AuthType::BasicAuth),
        OidcClientAuth::ClientSecretPost => rp.set_auth_type(AuthType::RequestBody),
    }
}

/// An authorization request as a relying party builds it: PKCE S256, state, nonce.
struct Started {
    url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

fn start_sign_in(rp: &Rp) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    Started { url, state, nonce, verifier }
}

/// The code from the provider's redirect, after checking it is the answer to this request, from
/// this issuer (RFC 9207 `iss`).
fn code_from(redirect: &Url, started: &Started, peer: &OidcPeer) -> AuthorizationCode {
    assert!(redirect.as_str().starts_with(REDIRECT_URI), "{redirect}");
    let param = |name: &str| redirect.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("error"), None, "{redirect}");
    assert_eq!(param("state").as_deref(), Some(started.state.secret().as_str()), "{redirect}");
    assert_eq!(param("iss").as_deref(), Some(peer.issuer()), "{redirect}");
    AuthorizationCode::new(param("code").unwrap_or_else(|| panic!("no code in {redirect}")))
}

fn peer_config(client: &OidcClient, account: &OidcAccount, consent_form: bool) -> OidcConfig {
    OidcConfig::new().client(client.clone()).account(account.clone()).consent_form(consent_form)
}

#[tokio::test]
async fn two_real_providers_sign_users_in_with_their_own_issuer_and_keys() {
    let alice = OidcAccount::new("alice", "Alice", "Archer", "alice@contoso.example");
    let bob = OidcAccount::new("bob", "Bob", "Baker", "bob@fabrikam.example");
    // The host's IdP grants consent silently; the partner's shows a consent page and takes the
    // secret in the body, so both interaction paths and both client auth methods are exercised.
    let host_client = OidcClient::new("gatehouse", "host-secret", REDIRECT_URI);
    let partner_client =
        OidcClient::new("gatehouse-at-fabrikam", "partner-secret", REDIRECT_URI).auth(OidcClientAuth::ClientSecretPost);
    let (host, partner) = tokio::join!(
        OidcPeer::start(peer_config(&host_client, &alice, false)),
        OidcPeer::start(peer_config(&partner_client, &bob, true)),
    );
    assert_ne!(host.issuer(), partner.issuer());

    let host_metadata = discover(&host).await;
    let partner_metadata = discover(&partner).await;
    assert_eq!(host_metadata.issuer().as_str(), host.issuer());
    let host_jwks = host_metadata.jwks().clone();
    let host_rp = relying_party(host_metadata, &host_client);
    let partner_rp = relying_party(partner_metadata, &partner_client);
    let http = rp_http();

    // Alice at the host IdP: authorization code with PKCE, the ID token verified (signature by
    // the JWKS from discovery, issuer, audience, nonce), her claims read from it.
    let browser = OidcPeer::browser();
    let started = start_sign_in(&host_rp);
    let redirect = host.sign_in(&browser, started.url.as_str(), "alice").await.expect("alice signs in");
    let code = code_from(&redirect, &started, &host);
    let tokens = host_rp
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange at the host IdP: {e:?}"));
    assert!(!tokens.access_token().secret().is_empty());
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&host_rp.id_token_verifier(), &started.nonce).expect("a valid ID token");
    assert_eq!(claims.issuer().as_str(), host.issuer());
    assert_eq!(claims.audiences().iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["gatehouse"]);
    assert_eq!(claims.subject().as_str(), "alice");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@contoso.example"));
    assert_eq!(claims.email_verified(), Some(true));
    assert_eq!(claims.given_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Alice"));
    assert_eq!(claims.family_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Archer"));
    // The same ID token with another nonce is someone else's sign-in.
    assert!(matches!(
        id_token.claims(&host_rp.id_token_verifier(), &Nonce::new("another".into())),
        Err(ClaimsVerificationError::InvalidNonce(_))
    ));

    // Bob at the partner's IdP, through its consent page.
    let started = start_sign_in(&partner_rp);
    let redirect = partner.sign_in(&OidcPeer::browser(), started.url.as_str(), "bob").await.expect("bob signs in");
    let code = code_from(&redirect, &started, &partner);
    let tokens = partner_rp
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange at the partner IdP: {e:?}"));
    let partner_token: CoreIdToken = tokens.id_token().expect("an ID token").clone();
    let claims = partner_token.claims(&partner_rp.id_token_verifier(), &started.nonce).expect("valid at the partner");
    assert_eq!(claims.issuer().as_str(), partner.issuer());
    assert_eq!(claims.email().map(|e| e.as_str()), Some("bob@fabrikam.example"));

    // The partner's token is not the host's: refused for its issuer, and, even with the issuer
    // and audience it does carry, its signature does not check out against the host's keys.
    assert!(matches!(
        partner_token.claims(&host_rp.id_token_verifier(), &started.nonce),
        Err(ClaimsVerificationError::InvalidIssuer(_))
    ));
    let partner_issuer_host_keys = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(partner_client.client_id.clone()),
        ClientSecret::new(partner_client.client_secret.clone()),
        IssuerUrl::new(partner.issuer().to_owned()).unwrap(),
        host_jwks,
    );
    assert!(matches!(
        partner_token.claims(&partner_issuer_host_keys, &started.nonce),
        Err(ClaimsVerificationError::SignatureVerification(_))
    ));

    // A code redeemed with the wrong PKCE verifier is refused by the provider. Alice's session
    // cookie carries this sign-in past the login form.
    let started = start_sign_in(&host_rp);
    let redirect = host.sign_in(&browser, started.url.as_str(), "alice").await.expect("alice signs in again");
    let code = code_from(&redirect, &started, &host);
    let refused = host_rp
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(64)))
        .request_async(&http)
        .await
        .expect_err("a wrong code_verifier must be refused");
    match refused {
        RequestTokenError::ServerResponse(e) => assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant, "{e:?}"),
        other => panic!("expected invalid_grant from the provider, got {other:?}"),
    }

    // Only configured accounts sign in: the partner's user is unknown at the host.
    let started = start_sign_in(&host_rp);
    let refused = host.sign_in(&OidcPeer::browser(), started.url.as_str(), "bob").await.expect_err("bob is unknown");
    assert!(refused.contains("403") && refused.contains("unknown account"), "{refused}");
}
