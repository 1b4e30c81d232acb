//! Sealing credentials at rest: connections' tokens, passwords and signing secrets are stored
//! encrypted with the server's secret key (AES-256-GCM from `ring`, a random 96-bit nonce per
//! value, the owning row's id as associated data so a sealed value moved to another row does not
//! open). The key comes from the configuration or a key file the binary creates at first start.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// The prefix of a sealed value: the format's version, so the key or cipher can change later.
const PREFIX: &str = "v1:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    #[error("the secret key must be 32 bytes (base64 of 32 random bytes); it is {0} bytes")]
    KeyLength(usize),
    #[error("the secret key is not base64")]
    KeyEncoding,
    /// Wrong key, or the stored value was changed.
    #[error("a stored credential cannot be opened with this server's secret key (was the key changed?)")]
    Open,
    #[error("no secret key is configured: credentials cannot be stored")]
    NoKey,
}

/// Seals and opens credentials with one key.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

impl Sealer {
    pub fn new(key: &[u8]) -> Result<Self, SecretsError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SecretsError::KeyLength(key.len()))?;
        Ok(Sealer { key: LessSafeKey::new(unbound), rng: SystemRandom::new() })
    }

    /// A key in its text form, as the configuration and the key file carry it.
    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| SecretsError::KeyEncoding)?;
        Self::new(&bytes)
    }

    /// A sealer with a new random key, for databases that last no longer than the process
    /// (benchmarks, tests).
    pub fn with_random_key() -> Self {
        Self::from_base64(&Self::generate_key()).expect("a generated key is 32 bytes of base64")
    }

    /// A new random key in its text form.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        SystemRandom::new().fill(&mut key).expect("the system's random source works");
        STANDARD.encode(key)
    }

    /// Seal `plaintext` for the row `owner`.
    pub fn seal(&self, plaintext: &[u8], owner: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("the system's random source works");
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(owner.as_bytes()), &mut buf)
            .expect("AES-GCM seals any length we store");
        let mut out = nonce.to_vec();
        out.extend(buf);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, SecretsError> {
        let raw = sealed.strip_prefix(PREFIX).ok_or(SecretsError::Open)?;
        let bytes = STANDARD.decode(raw).map_err(|_| SecretsError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretsError::Open);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretsError::Open)?;
        let mut body = body.to_vec();
        let plain =
            self.key.open_in_place(nonce, Aad::from(owner.as_bytes()), &mut body).map_err(|_| SecretsError::Open)?;
        Ok(plain.to_vec())
    }
}

impl crate::App {
    /// Seal a credential of the row `owner` with the server's key.
    pub(crate) fn seal(&self, plaintext: &[u8], owner: uuid::Uuid) -> Result<String, SecretsError> {
        Ok(self.sealer()?.seal(plaintext, &owner.to_string()))
    }

    /// Open a credential sealed for the row `owner`.
    pub(crate) fn open_sealed(&self, sealed: &str, owner: uuid::Uuid) -> Result<Vec<u8>, SecretsError> {
        self.sealer()?.open(sealed, &owner.to_string())
    }

    fn sealer(&self) -> Result<&Sealer, SecretsError> {
        self.sealer.as_deref().ok_or(SecretsError::NoKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::with_random_key()
    }

    #[test]
    fn seals_and_opens() {
        let s = sealer();
        let sealed = s.seal(b"bind password", "row-1");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("bind password"));
        assert_eq!(s.open(&sealed, "row-1").unwrap(), b"bind password");
        // A fresh nonce each time: the same value never looks the same twice.
        assert_ne!(s.seal(b"bind password", "row-1"), sealed);
    }

    #[test]
    fn another_row_another_key_or_a_changed_value_do_not_open() {
        let s = sealer();
        let sealed = s.seal(b"token", "row-1");
        assert_eq!(s.open(&sealed, "row-2"), Err(SecretsError::Open));
        assert_eq!(sealer().open(&sealed, "row-1"), Err(SecretsError::Open));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.open(std::str::from_utf8(&tampered).unwrap(), "row-1"), Err(SecretsError::Open));
        assert_eq!(s.open("v1:", "row-1"), Err(SecretsError::Open));
        assert_eq!(s.open("plain", "row-1"), Err(SecretsError::Open));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert_eq!(Sealer::from_base64("c2hvcnQ=").unwrap_err(), SecretsError::KeyLength(5));
        assert_eq!(Sealer::from_base64("not base64!").unwrap_err(), SecretsError::KeyEncoding);
    }
}
