//! The Gatehouse domain: entitlement-management types, the rules that validate them, and the
//! OData query language. Pure: no IO, no async, and no clock reads — callers pass `now` and ids.

pub mod access_package;
pub mod answers;
pub mod approval;
pub mod assignment;
pub mod audit;
pub mod authorization;
pub mod catalog;
pub mod connected_organization;
pub mod connection;
pub mod custom_extension;
pub mod datetime;
pub mod directory;
pub mod duration;
pub mod enums;
pub mod error;
pub mod evaluation;
pub mod home_realm;
pub mod input;
pub mod odata;
pub mod passcode;
pub mod policy;
pub mod polymorphic;
pub mod principal;
pub mod provisioning;
pub mod question;
pub mod reconcile;
pub mod request;
pub mod request_hold;
pub mod request_input;
pub mod role_assignment;
pub mod session;
pub mod settings;
pub mod subject_set;

pub use error::ValidationError;
#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod rules_tests;
