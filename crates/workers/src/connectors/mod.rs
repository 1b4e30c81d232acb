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
use std::sync::Arc;

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

/// The connector that provisions `origin_system`, if any.
pub fn for_origin<'a>(connectors: &'a [Arc<dyn Connector>], origin_system: &str) -> Option<&'a Arc<dyn Connector>> {
    connectors.iter().find(|c| c.origin_systems().contains(&origin_system))
}

/// The same failure for every change of a batch (nothing could start).
pub(crate) fn fail_all(changes: &[Change], e: JobError) -> Vec<Result<(), JobError>> {
    changes.iter().map(|_| Err(e.clone())).collect()
}

/// How many people's changes a connector works on at once.
pub(crate) const PEOPLE_AT_ONCE: usize = 8;

/// Run `each` over the changes: one person's changes in their order, up to `concurrency`
/// people at once. Once a change finds the target out, the changes not started yet are not
/// tried and wait with the same reason. Outcomes come back in the batch's order.
pub(crate) async fn per_person<'a, F, Fut>(
    changes: &'a [Change],
    concurrency: usize,
    each: F,
) -> Vec<Result<(), JobError>>
where
    F: Fn(&'a Change) -> Fut,
    Fut: Future<Output = Result<(), JobError>>,
{
    use futures::StreamExt;
    let mut people: Vec<(Uuid, Vec<usize>)> = Vec::new();
    for (i, (_, g)) in changes.iter().enumerate() {
        match people.iter_mut().find(|(p, _)| *p == g.target_id) {
            Some((_, idx)) => idx.push(i),
            None => people.push((g.target_id, vec![i])),
        }
    }
    let outage: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let (each, outage) = (&each, &outage);
    let done: Vec<Vec<(usize, Result<(), JobError>)>> = futures::stream::iter(people)
        .map(|(_, idx)| async move {
            let mut out = Vec::with_capacity(idx.len());
            for i in idx {
                let known = outage.lock().expect("outage").clone();
                if let Some(why) = known {
                    out.push((i, Err(JobError::Outage(why))));
                    continue;
                }
                let r = each(&changes[i]).await;
                if let Err(JobError::Outage(why)) = &r {
                    *outage.lock().expect("outage") = Some(why.clone());
                }
                out.push((i, r));
            }
            out
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut all: Vec<(usize, Result<(), JobError>)> = done.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
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
