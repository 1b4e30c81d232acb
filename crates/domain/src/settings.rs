//! Tenant-wide entitlement-management settings.

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::enums::ExternalUserLifecycleAction;
use crate::error::{invalid, ValidationError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub external_user_lifecycle_action: ExternalUserLifecycleAction,
    pub duration_until_external_user_deleted_after_blocked: Duration,
}

impl Default for Settings {
    /// Block a guest when their last assignment ends, delete them 30 days later.
    fn default() -> Self {
        Settings {
            external_user_lifecycle_action: ExternalUserLifecycleAction::BlockSignInAndDelete,
            duration_until_external_user_deleted_after_blocked: Duration::from_days(30),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsPatch {
    pub external_user_lifecycle_action: Option<ExternalUserLifecycleAction>,
    pub duration_until_external_user_deleted_after_blocked: Option<Duration>,
}

impl Settings {
    pub fn apply(&mut self, patch: SettingsPatch) -> Result<(), ValidationError> {
        if let Some(action) = patch.external_user_lifecycle_action {
            if action == ExternalUserLifecycleAction::UnknownFutureValue {
                return invalid(
                    "externalUserLifecycleAction",
                    "externalUserLifecycleAction must be none, blockSignIn or blockSignInAndDelete",
                );
            }
            self.external_user_lifecycle_action = action;
        }
        if let Some(d) = patch.duration_until_external_user_deleted_after_blocked {
            if d > Duration::from_days(3660) {
                return invalid("durationUntilExternalUserDeletedAfterBlocked", "must be at most 3660 days");
            }
            self.duration_until_external_user_deleted_after_blocked = d;
        }
        Ok(())
    }
}
