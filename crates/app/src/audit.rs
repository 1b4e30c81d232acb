//! Audit records of the caller's transaction, chained when it commits.

use gatehouse_domain::audit::AuditRecord;
use gatehouse_store::WriteTx;
use serde::Serialize;

use crate::{Actor, App, Result};

pub(crate) struct Change<'a, B: Serialize, A: Serialize> {
    pub activity: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

impl App {
    // Async although it only queues the record: call sites read as the write they cause.
    pub(crate) async fn audit<B: Serialize, A: Serialize>(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        change: Change<'_, B, A>,
    ) -> Result<()> {
        let record = AuditRecord {
            id: crate::new_id(),
            activity_date_time: self.now(),
            actor_id: actor.id(),
            actor_display_name: actor.display_name(),
            activity: change.activity.to_owned(),
            target_type: change.target_type.to_owned(),
            target_id: change.target_id,
            before: change.before.map(|b| serde_json::to_value(b).expect("audited values serialize")),
            after: change.after.map(|a| serde_json::to_value(a).expect("audited values serialize")),
            correlation_id: actor.correlation_id.clone(),
        };
        tx.audit(record);
        Ok(())
    }
}

/// Shorthand for a create (no before) / delete (no after) / update record.
pub(crate) fn created<'a, A: Serialize>(
    activity: &'a str,
    target_type: &'a str,
    id: impl ToString,
    after: &'a A,
) -> Change<'a, (), A> {
    Change { activity, target_type, target_id: id.to_string(), before: None, after: Some(after) }
}

pub(crate) fn deleted<'a, B: Serialize>(
    activity: &'a str,
    target_type: &'a str,
    id: impl ToString,
    before: &'a B,
) -> Change<'a, B, ()> {
    Change { activity, target_type, target_id: id.to_string(), before: Some(before), after: None }
}

pub(crate) fn updated<'a, T: Serialize>(
    activity: &'a str,
    target_type: &'a str,
    id: impl ToString,
    before: &'a T,
    after: &'a T,
) -> Change<'a, T, T> {
    Change { activity, target_type, target_id: id.to_string(), before: Some(before), after: Some(after) }
}
