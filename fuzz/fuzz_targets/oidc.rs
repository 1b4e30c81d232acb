//! What an identity provider sends the relying party: its discovery document, its key set, and
//! ID tokens (compact JWS text), read by `gatehouse-oidc` as sign-in does. Reading must be total, a
//! document must name the issuer it was fetched from, and no token the fuzzer makes up passes
//! verification against the provider's real key.
#![no_main]

use chrono::TimeZone;
use gatehouse_oidc::{parse_discovery, parse_jwks, read_id_token};
use libfuzzer_sys::fuzz_target;
use openidconnect::core::{CoreIdTokenVerifier, CoreJsonWebKeySet, CoreRsaPrivateSigningKey};
use openidconnect::{ClientId, IssuerUrl, JsonWebKeyId, PrivateSigningKey};

const ISSUER: &str = "https://idp.fabrikam.example";

fuzz_target!(|data: &[u8]| {
    let issuer = IssuerUrl::new(ISSUER.into()).expect("issuer");
    if let Ok(m) = parse_discovery(&issuer, data) {
        assert_eq!(m.issuer(), &issuer, "a discovery document for another issuer was accepted");
    }
    let _ = parse_jwks(data);
    let Ok(raw) = std::str::from_utf8(data) else { return };
    // The throwaway test key of the server's own ID-token tests.
    let key = CoreRsaPrivateSigningKey::from_pem(
        include_str!("../../crates/oidc/src/test_keys/provider.pem"),
        Some(JsonWebKeyId::new("k1".into())),
    )
    .expect("test key");
    let jwks = CoreJsonWebKeySet::new(vec![key.as_verification_key()]);
    let verifier = CoreIdTokenVerifier::new_public_client(ClientId::new("gatehouse".into()), issuer, jwks);
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    assert!(read_id_token(raw.trim(), verifier, "nonce", now).is_err(), "a made-up ID token was accepted");
});
