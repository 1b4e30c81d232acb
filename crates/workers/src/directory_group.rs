//! The built-in connector: membership of a directory group stored by Gatehouse itself.

use gatehouse_app::delivery::Grant;
use gatehouse_domain::audit::AuditRecord;
use gatehouse_store::{directory, Store};
use uuid::Uuid;

use crate::connector::{Connector, ConnectorError, ConnectorFuture};

pub struct DirectoryGroupConnector {
    store: Store,
    clock: std::sync::Arc<dyn gatehouse_app::Clock>,
}

impl DirectoryGroupConnector {
    pub fn new(store: Store, clock: std::sync::Arc<dyn gatehouse_app::Clock>) -> Self {
        DirectoryGroupConnector { store, clock }
    }

    async fn change(&self, grant: &Grant, add: bool) -> Result<(), ConnectorError> {
        let fail = |e: gatehouse_store::StoreError| ConnectorError(format!("directory database: {e}"));
        let group = Uuid::parse_str(&grant.resource_origin_id)
            .map_err(|_| ConnectorError(format!("'{}' is not a directory group id", grant.resource_origin_id)))?;
        let mut tx = self.store.begin().await.map_err(fail)?;
        if directory::get_group(&mut tx, group).await.map_err(fail)?.is_none() {
            return Err(ConnectorError(format!("directory group '{group}' no longer exists")));
        }
        let changed = if add {
            directory::add_member(&mut tx, group, grant.target_id).await.map_err(fail)?
        } else {
            directory::remove_member(&mut tx, group, grant.target_id).await.map_err(fail)?
        };
        if changed {
            let change = serde_json::json!({"memberId": grant.target_id, "requestId": grant.request_id, "role": grant.role_display_name});
            let record = AuditRecord {
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
            };
            gatehouse_store::audit::append(&mut tx, &record).await.map_err(fail)?;
        }
        tx.commit().await.map_err(|e| ConnectorError(format!("directory database: {e}")))?;
        Ok(())
    }
}

impl Connector for DirectoryGroupConnector {
    fn origin_system(&self) -> &str {
        gatehouse_domain::catalog::ORIGIN_DIRECTORY_GROUP
    }

    fn grant<'a>(&'a self, grant: &'a Grant) -> ConnectorFuture<'a> {
        Box::pin(self.change(grant, true))
    }

    fn revoke<'a>(&'a self, grant: &'a Grant) -> ConnectorFuture<'a> {
        Box::pin(self.change(grant, false))
    }
}
