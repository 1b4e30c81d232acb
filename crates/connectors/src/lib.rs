//! Clients of the target systems Gatehouse provisions into. Each speaks one protocol — SCIM 2.0
//! ([`scim`]), LDAP ([`ldap`]), signed webhooks ([`webhook`], Standard Webhooks) — and knows
//! nothing of jobs or the database: the workers decide what to grant and record what happened,
//! the application services use these clients to check a connection and search its groups.
//!
//! Every failure is a [`TargetError`] whose [`TargetErrorKind`] says what to do next: wait for
//! an unreachable target or refused credentials (the connection is out), retry a call that may
//! pass, or give up on a change the target refused for good.

pub mod error;
mod http;
pub mod ldap;
pub mod scim;
pub mod target;
pub mod webhook;

pub use error::{TargetError, TargetErrorKind};
pub use http::client as http_client;
pub use target::{Target, TargetGroup};
