//! Sign-in at the HTTP edge: the session cookie, CSRF, the bootstrap link, sign-out and the
//! caller's own sessions. Identity providers (host and partner OpenID Connect, passcodes) hand
//! their verified person to [`cookie::signed_in`], which starts the session and sets the cookie.

pub mod cookie;
pub mod guest;
pub mod handlers;
pub mod oidc;
pub mod provider;

pub use cookie::{CSRF_HEADER, SESSION_COOKIE};
