//! Connectors make a resource role real in its origin system. Every connector is idempotent:
//! granting twice is one grant, revoking what is not held succeeds.

use std::future::Future;
use std::pin::Pin;

use gatehouse_app::delivery::Grant;

/// Why a grant or revoke failed, in words an administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConnectorError(pub String);

pub type ConnectorFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ConnectorError>> + Send + 'a>>;

/// One origin system (`AadGroup`, later SCIM, LDAP, webhooks). Boxed futures keep the trait
/// object-safe so the worker can hold connectors of every kind in one list.
pub trait Connector: Send + Sync {
    /// The `originSystem` this connector serves.
    fn origin_system(&self) -> &str;
    fn grant<'a>(&'a self, grant: &'a Grant) -> ConnectorFuture<'a>;
    fn revoke<'a>(&'a self, grant: &'a Grant) -> ConnectorFuture<'a>;
}
