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

/// The outcome of each change of a batch, in the batch's order.
pub type BatchFuture<'a> = Pin<Box<dyn Future<Output = Vec<Result<(), ConnectorError>>> + Send + 'a>>;

/// One origin system (`AadGroup`, later SCIM, LDAP, webhooks). Boxed futures keep the trait
/// object-safe so the worker can hold connectors of every kind in one list.
pub trait Connector: Send + Sync {
    /// The `originSystem` this connector serves.
    fn origin_system(&self) -> &str;
    fn grant<'a>(&'a self, grant: &'a Grant) -> ConnectorFuture<'a>;
    fn revoke<'a>(&'a self, grant: &'a Grant) -> ConnectorFuture<'a>;

    /// Apply a batch of grants and revokes (`Grant::revoke`). The worker hands each connector
    /// everything it claimed for it at once, so a connector with a bulk interface (one
    /// transaction, SCIM `/Bulk`, one LDAP connection) overrides this; the default applies them
    /// one by one. One change failing must not fail the others.
    fn apply_all<'a>(&'a self, changes: &'a [Grant]) -> BatchFuture<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(changes.len());
            for change in changes {
                out.push(if change.revoke { self.revoke(change).await } else { self.grant(change).await });
            }
            out
        })
    }
}
