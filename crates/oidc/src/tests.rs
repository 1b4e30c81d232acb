//! ID-token verification against tokens crafted here: each way a token can be wrong is refused
//! (wrong issuer, wrong audience, expired, issued in the future, signed by another key,
//! unsigned `alg: none`, a nonce from another sign-in), and a good one yields the person.
//! The keys in `test_keys/` are throwaway keys generated for these tests only.

use chrono::{Duration, TimeZone, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, ClientId, ClientSecret, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};

use super::{strict, verify, Refused};

const ISSUER: &str = "https://idp.fabrikam.example";
const CLIENT: &str = "gatehouse";
const NONCE: &str = "nonce-of-this-sign-in";

fn key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).expect("test key")
}

fn provider_key() -> CoreRsaPrivateSigningKey {
    key(include_str!("test_keys/provider.pem"))
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// The verifier Gatehouse would build for the provider whose published key is `provider.pem`.
fn verifier() -> CoreIdTokenVerifier<'static> {
    let jwks = CoreJsonWebKeySet::new(vec![provider_key().as_verification_key()]);
    strict(
        CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(CLIENT.into()),
            ClientSecret::new("secret".into()),
            IssuerUrl::new(ISSUER.into()).unwrap(),
            jwks,
        ),
        now(),
    )
}

struct Token {
    issuer: &'static str,
    audience: &'static str,
    issued: chrono::DateTime<Utc>,
    expires: chrono::DateTime<Utc>,
    nonce: &'static str,
    verified_email: bool,
}

impl Default for Token {
    fn default() -> Self {
        Token {
            issuer: ISSUER,
            audience: CLIENT,
            issued: now() - Duration::minutes(1),
            expires: now() + Duration::minutes(5),
            nonce: NONCE,
            verified_email: true,
        }
    }
}

impl Token {
    fn signed_by(&self, signing: &CoreRsaPrivateSigningKey) -> CoreIdToken {
        let claims = CoreIdTokenClaims::new(
            IssuerUrl::new(self.issuer.into()).unwrap(),
            vec![Audience::new(self.audience.into())],
            self.expires,
            self.issued,
            StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new("ana-sub".into()))
                .set_email(Some(EndUserEmail::new("Ana@Fabrikam.example".into())))
                .set_email_verified(Some(self.verified_email)),
            EmptyAdditionalClaims {},
        )
        .set_nonce(Some(Nonce::new(self.nonce.into())));
        CoreIdToken::new(claims, signing, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap()
    }

    fn signed(&self) -> CoreIdToken {
        self.signed_by(&provider_key())
    }
}

#[track_caller]
fn refused(token: &CoreIdToken, nonce: &str, needle: &str) {
    match verify(token, verifier(), nonce) {
        Err(Refused(reason)) => {
            assert!(reason.to_lowercase().contains(needle), "refused, but for '{reason}' rather than '{needle}'")
        }
        other => panic!("expected a refusal ({needle}), got {other:?}"),
    }
}

#[test]
fn a_good_token_names_the_person() {
    let person = verify(&Token::default().signed(), verifier(), NONCE).expect("a good token");
    assert_eq!(person.issuer, ISSUER);
    assert_eq!(person.subject, "ana-sub");
    assert_eq!(person.email.as_deref(), Some("ana@fabrikam.example"));
}

#[test]
fn an_unverified_address_is_not_used() {
    let person = verify(&Token { verified_email: false, ..Token::default() }.signed(), verifier(), NONCE).unwrap();
    assert_eq!(person.email, None);
}

#[test]
fn wrong_issuer_is_refused() {
    refused(&Token { issuer: "https://idp.contoso.example", ..Token::default() }.signed(), NONCE, "issuer");
}

#[test]
fn wrong_audience_is_refused() {
    refused(&Token { audience: "another-app", ..Token::default() }.signed(), NONCE, "audience");
}

#[test]
fn expired_is_refused() {
    let t = Token { issued: now() - Duration::hours(2), expires: now() - Duration::seconds(1), ..Token::default() };
    refused(&t.signed(), NONCE, "expired");
}

#[test]
fn not_yet_valid_is_refused() {
    let t = Token { issued: now() + Duration::minutes(10), expires: now() + Duration::minutes(20), ..Token::default() };
    refused(&t.signed(), NONCE, "not valid yet");
}

#[test]
fn another_key_is_refused() {
    let impostor = key(include_str!("test_keys/impostor.pem"));
    refused(&Token::default().signed_by(&impostor), NONCE, "signature");
}

#[test]
fn a_nonce_from_another_sign_in_is_refused() {
    refused(&Token::default().signed(), "nonce-of-another-sign-in", "nonce");
}

#[test]
fn unsigned_tokens_are_refused() {
    use base64::Engine;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = b64(serde_json::json!({"alg": "none", "typ": "JWT"}));
    let payload = b64(serde_json::json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "ana-sub", "nonce": NONCE,
        "iat": (now() - Duration::minutes(1)).timestamp(), "exp": (now() + Duration::minutes(5)).timestamp(),
    }));
    let unsigned: CoreIdToken = match format!("{header}.{payload}.").parse() {
        Ok(t) => t,
        // Refusing to even parse it is as good as refusing to verify it.
        Err(e) => {
            eprintln!("alg none: refused when parsing: {e}");
            return;
        }
    };
    eprintln!("alg none: parsed; verification must refuse it");
    refused(&unsigned, NONCE, "");
    assert!(verify(&unsigned, verifier(), NONCE).is_err());
}

fn plain_verifier() -> CoreIdTokenVerifier<'static> {
    let jwks = CoreJsonWebKeySet::new(vec![provider_key().as_verification_key()]);
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(CLIENT.into()),
        ClientSecret::new("secret".into()),
        IssuerUrl::new(ISSUER.into()).unwrap(),
        jwks,
    )
}

#[test]
fn tokens_are_read_from_their_text() {
    let text = Token::default().signed().to_string();
    let person = super::read_id_token(&text, plain_verifier(), NONCE, now()).expect("a good token");
    assert_eq!(person.subject, "ana-sub");
    for garbage in ["", "a.b", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA"] {
        match super::read_id_token(garbage, plain_verifier(), NONCE, now()) {
            Err(Refused(_)) => {}
            other => panic!("{garbage:?}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn a_discovery_document_must_name_its_own_issuer() {
    let issuer = IssuerUrl::new(ISSUER.into()).unwrap();
    let doc = |iss: &str| {
        serde_json::json!({
            "issuer": iss, "authorization_endpoint": format!("{iss}/auth"), "token_endpoint": format!("{iss}/token"),
            "jwks_uri": format!("{iss}/jwks"), "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
        })
        .to_string()
    };
    let m = super::parse_discovery(&issuer, doc(ISSUER).as_bytes()).expect("its own document");
    assert_eq!(m.issuer(), &issuer);
    let e = super::parse_discovery(&issuer, doc("https://idp.contoso.example").as_bytes()).unwrap_err();
    assert!(e.contains("instead of"), "{e}");
    let e = super::parse_discovery(&issuer, b"{\"issuer\": 1}").unwrap_err();
    assert!(e.contains("not valid"), "{e}");
    assert!(super::parse_jwks(b"{\"keys\": {}}").is_err());
    assert!(super::parse_jwks(br#"{"keys": []}"#).is_ok());
}
