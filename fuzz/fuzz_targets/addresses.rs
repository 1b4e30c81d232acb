//! Email addresses and domain names as people type them: normalising must be total, and what
//! it accepts must be stable (normalising again changes nothing).
#![no_main]

use gatehouse_domain::connected_organization::{normalize_domain, validate_issuer};
use gatehouse_domain::directory::{email_domain, normalize_email};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(mail) = normalize_email(text) {
        assert_eq!(normalize_email(&mail).as_deref(), Ok(mail.as_str()), "normalising an address twice");
        let domain = email_domain(&mail).expect("a normalised address has a domain");
        assert!(!domain.is_empty());
    }
    if let Ok(domain) = normalize_domain(text) {
        assert_eq!(normalize_domain(&domain).as_deref(), Ok(domain.as_str()), "normalising a domain twice");
    }
    let _ = validate_issuer(text);
});
