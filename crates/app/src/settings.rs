//! Entitlement-management settings.

use gatehouse_domain::settings::{Settings, SettingsPatch};

use crate::audit::updated;
use crate::{Actor, App, Result};

impl App {
    pub async fn get_settings(&self) -> Result<Settings> {
        let mut conn = self.store.conn().await?;
        Ok(gatehouse_store::settings::get(&mut conn).await?)
    }

    pub async fn update_settings(&self, actor: &Actor, patch: SettingsPatch) -> Result<Settings> {
        let mut tx = self.store.begin().await?;
        let before = gatehouse_store::settings::get(&mut tx).await?;
        let mut after = before.clone();
        after.apply(patch)?;
        gatehouse_store::settings::put(&mut tx, &after).await?;
        self.audit(
            &mut tx,
            actor,
            updated("settings.update", "entitlementManagementSettings", "singleton", &before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

impl App {
    pub async fn list_audit(
        &self,
        scope: gatehouse_store::query::Where,
        q: crate::ListQuery<'_>,
    ) -> Result<crate::Page<gatehouse_domain::audit::AuditRecord>> {
        let mut conn = self.store.conn().await?;
        let page =
            gatehouse_store::query::list_ordered(&mut conn, &gatehouse_store::audit::SCHEMA, scope, q, "t.seq ASC")
                .await?;
        crate::Page::from_rows(page, gatehouse_store::audit::from_row)
    }

    /// Recompute the audit chain (as `gatehouse audit verify` does). It reads every record,
    /// so the audit page runs it when asked, not on every view.
    pub async fn verify_audit(&self) -> Result<gatehouse_store::audit::Verification> {
        let mut conn = self.store.conn().await?;
        Ok(gatehouse_store::audit::verify(&mut conn).await?)
    }
}
