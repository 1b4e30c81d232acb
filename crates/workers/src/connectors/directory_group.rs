//! The built-in connector: membership of a directory group stored by Gatehouse itself.

use gatehouse_app::delivery::{Grant, JobError};
use gatehouse_domain::audit::AuditRecord;
use gatehouse_domain::connection::Connection;
use gatehouse_store::{directory, Store, StoreError, WriteTx};
use uuid::Uuid;

use super::{BatchFuture, Change, Connector};

pub struct DirectoryGroupConnector {
    store: Store,
    clock: std::sync::Arc<dyn gatehouse_app::Clock>,
}

fn database(e: StoreError) -> JobError {
    JobError::Transient(format!("directory database: {e}"))
}

impl DirectoryGroupConnector {
    pub fn new(store: Store, clock: std::sync::Arc<dyn gatehouse_app::Clock>) -> Self {
        DirectoryGroupConnector { store, clock }
    }

    /// Every change in one transaction: the memberships and their audit records land together.
    async fn change_all(&self, changes: &[Change]) -> Vec<Result<(), JobError>> {
        let applied = async {
            let mut tx = self.store.begin().await.map_err(database)?;
            let mut out = Vec::with_capacity(changes.len());
            for (_, change) in changes {
                out.push(self.change(&mut tx, change).await?);
            }
            tx.commit().await.map_err(database)?;
            Ok::<_, JobError>(out)
        };
        match applied.await {
            Ok(out) => out,
            // The database failed: nothing was applied, every change is retried.
            Err(e) => super::fail_all(changes, e),
        }
    }

    /// One change. The outer error is the database's (abandon the batch), the inner one this
    /// change's own (the group is gone): it fails alone, for good.
    async fn change(&self, tx: &mut WriteTx, grant: &Grant) -> Result<Result<(), JobError>, JobError> {
        let Ok(group) = Uuid::parse_str(&grant.resource_origin_id) else {
            return Ok(Err(JobError::Permanent(format!("'{}' is not a directory group id", grant.resource_origin_id))));
        };
        if directory::get_group(tx, group).await.map_err(database)?.is_none() {
            return Ok(Err(JobError::Permanent(format!("directory group '{group}' no longer exists"))));
        }
        let add = !grant.revoke;
        let changed = if add {
            directory::add_member(tx, group, grant.target_id).await.map_err(database)?
        } else {
            directory::remove_member(tx, group, grant.target_id).await.map_err(database)?
        };
        if changed {
            let change = serde_json::json!({"memberId": grant.target_id, "requestId": grant.request_id, "role": grant.role_display_name});
            tx.audit(AuditRecord {
                id: Uuid::new_v4(),
                activity_date_time: self.clock.now(),
                actor_id: None,
                actor_display_name: "Gatehouse".into(),
                activity: if add { "group.addMember" } else { "group.removeMember" }.into(),
                target_type: "group".into(),
                target_id: group.to_string(),
                before: (!add).then(|| change.clone()),
                after: add.then_some(change),
                correlation_id: Some(grant.request_id.to_string()),
            });
        }
        Ok(Ok(()))
    }
}

impl Connector for DirectoryGroupConnector {
    fn origin_systems(&self) -> &[&'static str] {
        &[gatehouse_domain::catalog::ORIGIN_DIRECTORY_GROUP]
    }

    fn apply_all<'a>(&'a self, _: Option<&'a Connection>, changes: &'a [Change]) -> BatchFuture<'a> {
        Box::pin(self.change_all(changes))
    }
}
