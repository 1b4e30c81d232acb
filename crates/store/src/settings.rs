//! The entitlement-management settings singleton.

use gatehouse_domain::duration::Duration;
use gatehouse_domain::enums::ExternalUserLifecycleAction;
use gatehouse_domain::settings::{PrivacyProfile, Settings};
use serde::{Deserialize, Serialize};

use crate::rows;
use crate::{Result, StoreError, Tx};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    external_user_lifecycle_action: ExternalUserLifecycleAction,
    duration_until_external_user_deleted_after_blocked: Duration,
    #[serde(default)]
    external_domain_allow_list: Vec<String>,
    #[serde(default)]
    external_domain_deny_list: Vec<String>,
    #[serde(default)]
    organization_display_name: Option<String>,
    #[serde(default)]
    privacy_profile: PrivacyProfile,
}

pub async fn get(conn: &mut Tx) -> Result<Settings> {
    let row =
        sqlx::query("SELECT body FROM settings WHERE id = 'entitlementManagement'").fetch_optional(&mut *conn).await?;
    match row {
        None => Ok(Settings::default()),
        Some(r) => {
            let s: Stored = rows::json(&r, "body")?;
            Ok(Settings {
                external_user_lifecycle_action: s.external_user_lifecycle_action,
                duration_until_external_user_deleted_after_blocked: s
                    .duration_until_external_user_deleted_after_blocked,
                external_domain_allow_list: s.external_domain_allow_list,
                external_domain_deny_list: s.external_domain_deny_list,
                organization_display_name: s.organization_display_name,
                privacy_profile: s.privacy_profile,
            })
        }
    }
}

pub async fn put(conn: &mut Tx, s: &Settings) -> Result<()> {
    let body = serde_json::to_string(&Stored {
        external_user_lifecycle_action: s.external_user_lifecycle_action,
        duration_until_external_user_deleted_after_blocked: s.duration_until_external_user_deleted_after_blocked,
        external_domain_allow_list: s.external_domain_allow_list.clone(),
        external_domain_deny_list: s.external_domain_deny_list.clone(),
        organization_display_name: s.organization_display_name.clone(),
        privacy_profile: s.privacy_profile.clone(),
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("DELETE FROM settings WHERE id = 'entitlementManagement'").execute(&mut *conn).await?;
    sqlx::query("INSERT INTO settings (id, body) VALUES ('entitlementManagement', $1)")
        .bind(body)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
