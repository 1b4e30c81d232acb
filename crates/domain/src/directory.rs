//! The host's directory: members and guests, and groups.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::connected_organization::normalize_domain;
use crate::enums::{ExternalUserState, UserType};
use crate::error::{invalid, optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};

/// How a person proves who they are: the issuer that authenticated them and its subject id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "objectIdentity")]
pub struct ObjectIdentity {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    /// `federated` (OIDC/SAML issuer), `emailAddress` (one-time passcode), `userPrincipalName`.
    pub sign_in_type: String,
    pub issuer: String,
    pub issuer_assigned_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "user")]
pub struct User {
    pub id: Uuid,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    pub user_principal_name: String,
    pub user_type: UserType,
    pub account_enabled: bool,
    pub external_user_state: Option<ExternalUserState>,
    /// Gatehouse extension: the connected organization a guest belongs to.
    pub connected_organization_id: Option<Uuid>,
    #[serde(skip)]
    pub manager_id: Option<Uuid>,
    pub identities: Vec<ObjectIdentity>,
    pub created_date_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewUser {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    #[schemars(required, email)]
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    pub user_principal_name: Option<String>,
    pub user_type: Option<UserType>,
    pub account_enabled: Option<bool>,
    pub external_user_state: Option<ExternalUserState>,
    pub connected_organization_id: Option<Uuid>,
    #[serde(default)]
    pub identities: Vec<ObjectIdentity>,
    /// Accepted for Graph scripts and dropped: Gatehouse stores no passwords; people sign in
    /// through an identity provider or a one-time passcode.
    #[serde(rename = "passwordProfile")]
    pub _password_profile: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserPatch {
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub surname: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub mail: Option<Option<String>>,
    pub account_enabled: Option<bool>,
    pub external_user_state: Option<ExternalUserState>,
    #[serde(rename = "passwordProfile")]
    pub _password_profile: Option<serde_json::Value>,
}

/// Lower-cases and checks an email address: one `@`, a plain local part, a valid domain.
pub fn normalize_email(mail: &str) -> Result<String, ValidationError> {
    let m = mail.trim();
    let Some((local, domain)) = m.rsplit_once('@') else {
        return invalid("mail", format!("'{mail}' is not an email address"));
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return invalid("mail", format!("'{mail}' is not an email address"));
    }
    let domain =
        normalize_domain(domain).map_err(|_| ValidationError::new("mail", format!("'{mail}' has no valid domain")))?;
    Ok(format!("{}@{domain}", local.to_ascii_lowercase()))
}

/// The domain part of a normalised address.
pub fn email_domain(mail: &str) -> Option<&str> {
    mail.rsplit_once('@').map(|(_, d)| d)
}

impl User {
    pub fn create(input: NewUser, id: Uuid, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        let mail = input.mail.as_deref().map(normalize_email).transpose()?;
        let user_type = input.user_type.unwrap_or(UserType::Member);
        let upn = match input.user_principal_name.as_deref().map(str::trim) {
            Some(upn) if !upn.is_empty() => bounded_upn(upn)?,
            _ => match (&mail, user_type) {
                (Some(m), UserType::Member) => m.clone(),
                (Some(m), UserType::Guest) => format!("{}#EXT#", m.replace('@', "_")),
                (None, _) => return invalid("userPrincipalName", "userPrincipalName or mail is required"),
            },
        };
        if user_type == UserType::Member && input.connected_organization_id.is_some() {
            return invalid("connectedOrganizationId", "only guests belong to a connected organization");
        }
        for i in &input.identities {
            if i.issuer.trim().is_empty() || i.issuer_assigned_id.trim().is_empty() {
                return invalid("identities", "each identity needs an issuer and an issuerAssignedId");
            }
        }
        Ok(User {
            id,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            given_name: optional_text("givenName", input.given_name.as_deref(), NAME_MAX)?,
            surname: optional_text("surname", input.surname.as_deref(), NAME_MAX)?,
            mail,
            mail_nickname: optional_text("mailNickname", input.mail_nickname.as_deref(), 64)?,
            user_principal_name: upn,
            user_type,
            account_enabled: input.account_enabled.unwrap_or(true),
            external_user_state: match user_type {
                UserType::Guest => Some(input.external_user_state.unwrap_or(ExternalUserState::PendingAcceptance)),
                UserType::Member => None,
            },
            connected_organization_id: input.connected_organization_id,
            manager_id: None,
            identities: input.identities,
            created_date_time: now,
        })
    }

    pub fn apply(&mut self, patch: UserPatch) -> Result<(), ValidationError> {
        if let Some(name) = patch.display_name {
            self.display_name = required_text("displayName", Some(&name), NAME_MAX)?;
        }
        if let Some(v) = patch.given_name {
            self.given_name = optional_text("givenName", v.as_deref(), NAME_MAX)?;
        }
        if let Some(v) = patch.surname {
            self.surname = optional_text("surname", v.as_deref(), NAME_MAX)?;
        }
        if let Some(v) = patch.mail {
            self.mail = v.as_deref().map(normalize_email).transpose()?;
        }
        if let Some(v) = patch.account_enabled {
            self.account_enabled = v;
        }
        if let Some(v) = patch.external_user_state {
            if self.user_type != UserType::Guest {
                return invalid("externalUserState", "only guests have an externalUserState");
            }
            self.external_user_state = Some(v);
        }
        Ok(())
    }

    pub fn is_guest(&self) -> bool {
        self.user_type == UserType::Guest
    }
}

fn bounded_upn(upn: &str) -> Result<String, ValidationError> {
    if upn.len() > 256 || upn.chars().any(char::is_whitespace) {
        return invalid("userPrincipalName", "userPrincipalName must be at most 256 characters without spaces");
    }
    Ok(upn.to_owned())
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "group")]
pub struct Group {
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub security_enabled: bool,
    pub mail_enabled: bool,
    pub created_date_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewGroup {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub security_enabled: Option<bool>,
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub group_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GroupPatch {
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub description: Option<Option<String>>,
    pub mail_nickname: Option<String>,
}

impl Group {
    pub fn create(input: NewGroup, id: Uuid, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        if !input.group_types.is_empty() {
            return invalid("groupTypes", "only security groups are supported; leave groupTypes empty");
        }
        Ok(Group {
            id,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            description: optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?,
            mail_nickname: optional_text("mailNickname", input.mail_nickname.as_deref(), 64)?,
            security_enabled: input.security_enabled.unwrap_or(true),
            mail_enabled: input.mail_enabled.unwrap_or(false),
            created_date_time: now,
        })
    }

    pub fn apply(&mut self, patch: GroupPatch) -> Result<(), ValidationError> {
        if let Some(name) = patch.display_name {
            self.display_name = required_text("displayName", Some(&name), NAME_MAX)?;
        }
        if let Some(d) = patch.description {
            self.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        if let Some(n) = patch.mail_nickname {
            self.mail_nickname = optional_text("mailNickname", Some(&n), 64)?;
        }
        Ok(())
    }
}

/// What an identity provider asserted about the person, after its token was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPerson {
    pub issuer: String,
    pub subject: String,
    /// Only set when the provider says the address is verified.
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
}

impl VerifiedPerson {
    /// The directory identity that links the person to their account.
    pub fn identity(&self) -> ObjectIdentity {
        ObjectIdentity {
            odata_type: None,
            sign_in_type: "federated".into(),
            issuer: self.issuer.clone(),
            issuer_assigned_id: self.subject.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(normalize_email(" Ana@Fabrikam.Example ").unwrap(), "ana@fabrikam.example");
        for bad in ["ana", "@x.com", "a@b", "a b@x.com", "a..b@x.com", "a@x..com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guest_defaults() {
        let input: NewUser = serde_json::from_value(serde_json::json!({
            "displayName": "Ana", "mail": "ana@fabrikam.example", "userType": "Guest"
        }))
        .unwrap();
        let u = User::create(input, Uuid::nil(), Utc::now()).unwrap();
        assert_eq!(u.external_user_state, Some(ExternalUserState::PendingAcceptance));
        assert_eq!(u.user_principal_name, "ana_fabrikam.example#EXT#");
    }
}
