//! The session cookie and its CSRF token.
//!
//! The cookie is `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` when the public URL is https.
//! `SameSite=Lax` already keeps cross-site POSTs from carrying it; the CSRF token is the second
//! lock, required on every state-changing call a cookie authenticates (header
//! `X-CSRF-Token`, or the `csrf` field of a form).

use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_app::sessions::SignedIn;

use crate::state::AppState;

pub const SESSION_COOKIE: &str = "gatehouse_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name`, if the request carries exactly one.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned());
    let first = found.next()?;
    // Two cookies of one name (a subdomain planting one) is ambiguous: take neither.
    found.next().is_none().then_some(first)
}

fn secure(state: &AppState) -> bool {
    state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}

/// `Set-Cookie` for a value, or for removing the cookie when `value` is None.
pub fn set(state: &AppState, name: &str, value: Option<&str>, max_age_seconds: i64) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    let cookie = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&cookie).expect("cookie values are URL-safe base64")
}

pub use gatehouse_app::auth::same_secret;

/// A person just signed in: set the session cookie (a fresh secret, so a cookie planted before
/// sign-in is never promoted) and send them on.
pub fn signed_in(state: &AppState, signed: &SignedIn, to: &str) -> Response {
    let age = (signed.session.expires_date_time - signed.session.created_date_time).num_seconds();
    let mut r = (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response();
    r.headers_mut().append(SET_COOKIE, set(state, SESSION_COOKIE, Some(&signed.secret), age));
    r
}

/// Only local paths may be a destination after sign-in: never another site.
pub fn safe_return_to(to: Option<&str>) -> String {
    match to {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() < 512 => p.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; gatehouse_session=abc; b=2"));
        assert_eq!(read(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(read(&h, "missing"), None);
        h.append(COOKIE, HeaderValue::from_static("gatehouse_session=other"));
        assert_eq!(read(&h, SESSION_COOKIE), None, "two cookies of one name are ambiguous");
    }

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to(Some("/myaccess/packages/1")), "/myaccess/packages/1");
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "evil"] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
