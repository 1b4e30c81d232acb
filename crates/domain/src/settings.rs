//! Tenant-wide entitlement-management settings.

use schemars::JsonSchema;
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "entitlementManagementSettings")]
pub struct Settings {
    pub external_user_lifecycle_action: ExternalUserLifecycleAction,
    pub duration_until_external_user_deleted_after_blocked: Duration,
    /// Gatehouse extension: when not empty, only external users from these email domains may
    /// request or be assigned access (Graph keeps such lists in its B2B policies instead).
    pub external_domain_allow_list: Vec<String>,
    /// Gatehouse extension: external users from these domains are always refused.
    pub external_domain_deny_list: Vec<String>,
    /// Gatehouse extension: the host organization's name, shown on its pages and mail.
    pub organization_display_name: Option<String>,
    /// Gatehouse extension, in the shape of Graph's `organization.privacyProfile`: the privacy
    /// statement external requestors accept, and whom to ask about it.
    pub privacy_profile: PrivacyProfile,
}

/// Graph `privacyProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "privacyProfile")]
pub struct PrivacyProfile {
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub contact_email: Option<String>,
    pub statement_url: Option<String>,
}

impl PrivacyProfile {
    fn validated(self) -> Result<PrivacyProfile, ValidationError> {
        let contact_email = match self.contact_email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(mail) => Some(crate::directory::normalize_email(mail).map_err(|_| {
                ValidationError::new(
                    "privacyProfile.contactEmail",
                    "privacyProfile.contactEmail must be an email address",
                )
            })?),
            None => None,
        };
        let statement_url = match self.statement_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => {
                let bad = || {
                    ValidationError::new(
                        "privacyProfile.statementUrl",
                        "privacyProfile.statementUrl must be an absolute http(s) URL of at most 2048 characters",
                    )
                };
                let url = url::Url::parse(raw).map_err(|_| bad())?;
                if !matches!(url.scheme(), "https" | "http") || raw.len() > 2048 || url.host().is_none() {
                    return Err(bad());
                }
                Some(url.to_string())
            }
            None => None,
        };
        Ok(PrivacyProfile { odata_type: None, contact_email, statement_url })
    }
}

impl Default for Settings {
    /// Block a guest when their last assignment ends, delete them 30 days later.
    fn default() -> Self {
        Settings {
            external_user_lifecycle_action: ExternalUserLifecycleAction::BlockSignInAndDelete,
            duration_until_external_user_deleted_after_blocked: Duration::from_days(30),
            external_domain_allow_list: Vec::new(),
            external_domain_deny_list: Vec::new(),
            organization_display_name: None,
            privacy_profile: PrivacyProfile::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsPatch {
    pub external_user_lifecycle_action: Option<ExternalUserLifecycleAction>,
    pub duration_until_external_user_deleted_after_blocked: Option<Duration>,
    pub external_domain_allow_list: Option<Vec<String>>,
    pub external_domain_deny_list: Option<Vec<String>>,
    pub organization_display_name: Option<String>,
    pub privacy_profile: Option<PrivacyProfile>,
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
        if let Some(name) = patch.organization_display_name {
            let name = name.trim();
            if name.chars().count() > crate::error::NAME_MAX || name.chars().any(char::is_control) {
                return invalid(
                    "organizationDisplayName",
                    format!(
                        "organizationDisplayName must be at most {} characters, without control characters",
                        crate::error::NAME_MAX
                    ),
                );
            }
            self.organization_display_name = Some(name.to_owned()).filter(|n| !n.is_empty());
        }
        if let Some(profile) = patch.privacy_profile {
            self.privacy_profile = profile.validated()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(v: serde_json::Value) -> SettingsPatch {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_privacy_profile_is_checked_and_normalised() {
        let mut s = Settings::default();
        s.apply(patch(serde_json::json!({"privacyProfile": {"contactEmail": " Privacy@Contoso.Example ",
            "statementUrl": "https://contoso.example/privacy"}, "organizationDisplayName": " Contoso "})))
            .unwrap();
        assert_eq!(s.privacy_profile.contact_email.as_deref(), Some("privacy@contoso.example"));
        assert_eq!(s.privacy_profile.statement_url.as_deref(), Some("https://contoso.example/privacy"));
        assert_eq!(s.organization_display_name.as_deref(), Some("Contoso"));
        for bad in ["javascript:alert(1)", "/privacy", "ftp://contoso.example/p", "data:text/html,x"] {
            let before = s.clone();
            let e = s.apply(patch(serde_json::json!({"privacyProfile": {"statementUrl": bad}}))).unwrap_err();
            assert_eq!(e.target.as_deref(), Some("privacyProfile.statementUrl"), "{bad}");
            assert_eq!(s, before, "a refused patch changes nothing");
        }
        let e = s.apply(patch(serde_json::json!({"privacyProfile": {"contactEmail": "not mail"}}))).unwrap_err();
        assert_eq!(e.target.as_deref(), Some("privacyProfile.contactEmail"));
        s.apply(patch(serde_json::json!({"privacyProfile": {}}))).unwrap();
        assert_eq!(s.privacy_profile, PrivacyProfile::default());
    }
}
