//! Connectors make a resource role real in its origin system: the built-in directory group,
//! SCIM applications, LDAP groups and webhook targets. Every connector is idempotent: granting
//! twice is one grant, revoking what is not held succeeds.
//!
//! The protocol clients live in `gatehouse-connectors`; these types decide what to call for a
//! grant or a revoke (find or create the person's account, add the membership, deactivate or
//! delete the account once nothing is left) and keep the accounts Gatehouse made on record.

pub mod directory_group;
pub mod ldap;
pub mod people;
pub mod scim;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;

use gatehouse_app::delivery::{Grant, JobError};
use gatehouse_connectors::{TargetError, TargetErrorKind};
use gatehouse_domain::connection::Connection;
use uuid::Uuid;

/// One change of a batch: the job's id (a webhook's `webhook-id`, the same on every retry) and
/// what it grants or revokes.
pub type Change = (Uuid, Grant);

/// The outcome of each change of a batch, in the batch's order.
pub type BatchFuture<'a> = Pin<Box<dyn Future<Output = Vec<Result<(), JobError>>> + Send + 'a>>;

/// One kind of origin system. Boxed futures keep the trait object-safe so the worker can hold
/// connectors of every kind in one list.
pub trait Connector: Send + Sync {
    /// The `originSystem`s this connector provisions.
    fn origin_systems(&self) -> &[&'static str];

    /// Apply a batch of grants and revokes (`Grant::revoke`), all of one connection (`None`
    /// for the built-in directory). The worker hands each connector everything it claimed for
    /// one connection at once, so it can use one session or transaction. One change failing
    /// must not fail the others; when the target turns out to be out, the rest wait.
    fn apply_all<'a>(&'a self, connection: Option<&'a Connection>, changes: &'a [Change]) -> BatchFuture<'a>;
}

/// How a target's failure affects the job.
pub fn job_error(e: TargetError) -> JobError {
    match e.kind {
        TargetErrorKind::Unreachable | TargetErrorKind::Unauthorized => JobError::Outage(e.message),
        TargetErrorKind::Transient => JobError::Transient(e.message),
        TargetErrorKind::Permanent => JobError::Permanent(e.message),
    }
}

/// Run `each` over the changes in order; once one finds the target out, the rest are not tried
/// and wait with the same reason.
pub(crate) async fn in_order<'a, F, Fut>(changes: &'a [Change], mut each: F) -> Vec<Result<(), JobError>>
where
    F: FnMut(&'a Change) -> Fut,
    Fut: Future<Output = Result<(), JobError>>,
{
    let mut out = Vec::with_capacity(changes.len());
    let mut outage: Option<String> = None;
    for change in changes {
        if let Some(why) = &outage {
            out.push(Err(JobError::Outage(why.clone())));
            continue;
        }
        let r = each(change).await;
        if let Err(JobError::Outage(why)) = &r {
            outage = Some(why.clone());
        }
        out.push(r);
    }
    out
}

/// The connection a remote connector was handed, or why there is none.
pub(crate) fn require(connection: Option<&Connection>) -> Result<&Connection, JobError> {
    connection
        .ok_or_else(|| JobError::Permanent("the resource names no connection; add it again from its connection".into()))
}

/// The people a batch is for. (A collected list: an iterator borrowing the batch inside a
/// boxed future trips the compiler's higher-ranked lifetime inference.)
pub(crate) fn targets(changes: &[Change]) -> Vec<Uuid> {
    changes.iter().map(|(_, g)| g.target_id).collect()
}
