//! Tenant-wide entitlement-management settings.

use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::enums::ExternalUserLifecycleAction;
use crate::error::{invalid, ValidationError};

fn domains(target: &str, list: Vec<String>) -> Result<Vec<String>, ValidationError> {
    if list.len() > 1000 {
        return invalid(target, format!("{target} holds at most 1000 domains"));
    }
    let mut out: Vec<String> = Vec::new();
    for d in list {
        let d = crate::connected_organization::normalize_domain(&d)
            .map_err(|e| ValidationError::new(target, format!("{target}: {}", e.message)))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub external_user_lifecycle_action: ExternalUserLifecycleAction,
    pub duration_until_external_user_deleted_after_blocked: Duration,
    /// Gatehouse extension: when not empty, only external users from these email domains may
    /// request or be assigned access (Graph keeps such lists in its B2B policies instead).
    pub external_domain_allow_list: Vec<String>,
    /// Gatehouse extension: external users from these domains are always refused.
    pub external_domain_deny_list: Vec<String>,
}

impl Default for Settings {
    /// Block a guest when their last assignment ends, delete them 30 days later.
    fn default() -> Self {
        Settings {
            external_user_lifecycle_action: ExternalUserLifecycleAction::BlockSignInAndDelete,
            duration_until_external_user_deleted_after_blocked: Duration::from_days(30),
            external_domain_allow_list: Vec::new(),
            external_domain_deny_list: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsPatch {
    pub external_user_lifecycle_action: Option<ExternalUserLifecycleAction>,
    pub duration_until_external_user_deleted_after_blocked: Option<Duration>,
    pub external_domain_allow_list: Option<Vec<String>>,
    pub external_domain_deny_list: Option<Vec<String>>,
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
        if let Some(list) = patch.external_domain_allow_list {
            self.external_domain_allow_list = domains("externalDomainAllowList", list)?;
        }
        if let Some(list) = patch.external_domain_deny_list {
            self.external_domain_deny_list = domains("externalDomainDenyList", list)?;
        }
        Ok(())
    }

    /// Why an external user from `domain` may not get access, if they may not.
    pub fn refuses_domain(&self, domain: &str) -> Option<String> {
        let domain = domain.to_ascii_lowercase();
        if self.external_domain_deny_list.contains(&domain) {
            return Some(format!("users from {domain} cannot be given access: the domain is on the deny list"));
        }
        if !self.external_domain_allow_list.is_empty() && !self.external_domain_allow_list.contains(&domain) {
            return Some(format!("users from {domain} cannot be given access: the domain is not on the allow list"));
        }
        None
    }
}
