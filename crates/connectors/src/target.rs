//! One connection's target, whatever its kind: what the application services ask of it
//! (does it answer, which groups does it have) without knowing the protocol.

use gatehouse_domain::connection::{Connection, ConnectionSettings, Secret};
use serde::Serialize;
use serde_json::json;

use crate::error::TargetError;
use crate::ldap::LdapClient;
use crate::scim::ScimClient;

/// A group in a target, offered as a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroup {
    /// The target's id: a SCIM group id, an LDAP group's DN.
    pub origin_id: String,
    pub display_name: String,
    pub description: Option<String>,
}

impl From<crate::scim::ScimGroup> for TargetGroup {
    fn from(g: crate::scim::ScimGroup) -> Self {
        TargetGroup { origin_id: g.id, display_name: g.display_name, description: None }
    }
}

impl From<crate::ldap::LdapGroup> for TargetGroup {
    fn from(g: crate::ldap::LdapGroup) -> Self {
        TargetGroup { origin_id: g.dn, display_name: g.name, description: g.description }
    }
}

pub enum Target {
    Scim(ScimClient),
    Ldap(LdapClient),
    Webhook { http: reqwest::Client, grant_url: String, secret: Option<Secret> },
}

impl Target {
    pub fn new(http: reqwest::Client, c: &Connection) -> Result<Target, TargetError> {
        Ok(match &c.settings {
            ConnectionSettings::Scim(s) => Target::Scim(ScimClient::new(http, s, &c.secrets)?),
            ConnectionSettings::Ldap(s) => Target::Ldap(LdapClient::new(s, &c.secrets)?),
            ConnectionSettings::Webhook(s) => {
                Target::Webhook { http, grant_url: s.grant_url.clone(), secret: c.secrets.signing_secret.clone() }
            }
        })
    }

    /// Reach the target with the connection's credentials; says what was found.
    pub async fn check(&self) -> Result<String, TargetError> {
        match self {
            Target::Scim(c) => c.check().await.map(|n| format!("answers; it reports {n} users")),
            Target::Ldap(c) => {
                let mut s = c.session().await?;
                let found = s.search_groups("", 1).await;
                s.close().await;
                found.map(|_| "bound and searched the groups".to_owned())
            }
            // A signed ping: the receiver learns the secret works before real grants arrive.
            Target::Webhook { http, grant_url, secret } => {
                let secret =
                    secret.as_ref().ok_or_else(|| TargetError::permanent("the webhook has no signing secret"))?;
                let id = format!("ping_{}", uuid::Uuid::new_v4().simple());
                let body = json!({"type": "gatehouse.ping"});
                crate::webhook::post(http, grant_url, secret, &id, chrono::Utc::now().timestamp(), &body, None).await?;
                Ok("answered a signed ping".to_owned())
            }
        }
    }

    /// Groups whose name contains `text` (all when empty), at most `max`.
    pub async fn search_groups(&self, text: &str, max: usize) -> Result<Vec<TargetGroup>, TargetError> {
        match self {
            Target::Scim(c) => Ok(c.search_groups(text, max).await?.into_iter().map(TargetGroup::from).collect()),
            Target::Ldap(c) => {
                let mut s = c.session().await?;
                let found = s.search_groups(text, max).await;
                s.close().await;
                Ok(found?.into_iter().map(TargetGroup::from).collect())
            }
            Target::Webhook { .. } => {
                Err(TargetError::permanent("a webhook target has no groups; its roles are named on the connection"))
            }
        }
    }

    /// One group by its id; `None` when the target has no such group.
    pub async fn group(&self, origin_id: &str) -> Result<Option<TargetGroup>, TargetError> {
        match self {
            Target::Scim(c) => Ok(c.get_group(origin_id).await?.map(TargetGroup::from)),
            Target::Ldap(c) => {
                let mut s = c.session().await?;
                let found = s.group(origin_id).await;
                s.close().await;
                Ok(found?.map(TargetGroup::from))
            }
            Target::Webhook { .. } => Ok(None),
        }
    }
}
