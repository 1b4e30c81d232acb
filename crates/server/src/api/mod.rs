//! Graph-compatible API handlers: parse, call one service, render. Grouped by entity set.

pub mod approvals;
pub mod assignments;
pub mod audit;
pub mod catalogs;
pub mod clients;
pub mod connected_organizations;
pub mod connections;
pub mod custom_extensions;
pub mod directory;
pub mod ops;
pub mod packages;
pub mod policies;
pub mod requests;
pub mod role_assignments;
pub mod settings;
pub mod wire;

/// Entity-set paths as they appear in `@odata.context`.
pub const EM: &str = "identityGovernance/entitlementManagement";
