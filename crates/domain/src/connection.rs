//! Connections: the target systems Gatehouse provisions into (a SCIM 2.0 application, an LDAP
//! directory, a webhook target), the resources they offer, and how healthy they are.
//!
//! A connection's settings are plain data; its credentials are [`Secret`]s that are accepted on
//! input and never serialized (the store seals them, the API never shows them).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enums::graph_enum;
use crate::error::{invalid, optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};

/// Origin systems of the resources connections offer (`accessPackageResource.originSystem`).
pub const ORIGIN_SCIM_GROUP: &str = "ScimGroup";
pub const ORIGIN_SCIM_APPLICATION: &str = "ScimApplication";
pub const ORIGIN_LDAP_GROUP: &str = "LdapGroup";
pub const ORIGIN_WEBHOOK: &str = "Webhook";

/// The role of a SCIM application resource: the person has an (active) account there.
pub const SCIM_USER_ROLE: &str = "User";

/// A credential: shown to nobody once stored. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

graph_enum!(ConnectionKind("connectionKind") { Scim = "scim", Ldap = "ldap", Webhook = "webhook" });

impl ConnectionKind {
    /// The kind of connection that provisions resources of `origin_system`.
    pub fn of_origin(origin_system: &str) -> Option<Self> {
        match origin_system {
            ORIGIN_SCIM_GROUP | ORIGIN_SCIM_APPLICATION => Some(ConnectionKind::Scim),
            ORIGIN_LDAP_GROUP => Some(ConnectionKind::Ldap),
            ORIGIN_WEBHOOK => Some(ConnectionKind::Webhook),
            _ => None,
        }
    }

    /// The origin systems this kind offers resources of.
    pub fn origin_systems(self) -> &'static [&'static str] {
        match self {
            ConnectionKind::Scim => &[ORIGIN_SCIM_GROUP, ORIGIN_SCIM_APPLICATION],
            ConnectionKind::Ldap => &[ORIGIN_LDAP_GROUP],
            ConnectionKind::Webhook => &[ORIGIN_WEBHOOK],
        }
    }
}

graph_enum!(
    /// What reconciliation does with holders no assignment explains: `report` them in the audit
    /// log and the portal, or `enforce` (report and remove them: Gatehouse is the only way into
    /// the roles it governs).
    ReconcileMode("reconcileMode") { Report = "report", Enforce = "enforce" }
);

// By hand: the enum is the macro's, whose variants take no attributes.
#[allow(clippy::derivable_impls)]
impl Default for ReconcileMode {
    fn default() -> Self {
        ReconcileMode::Report
    }
}

graph_enum!(
    /// A connection's health as its deliveries and checks saw it: `untested` (never contacted),
    /// `healthy`, or `degraded` (the target keeps failing: its jobs wait, none are lost, and are
    /// retried as it recovers).
    ConnectionStatus("connectionStatus") { Untested = "untested", Healthy = "healthy", Degraded = "degraded" }
);

#[allow(clippy::derivable_impls)]
impl Default for ConnectionStatus {
    fn default() -> Self {
        ConnectionStatus::Untested
    }
}

/// A SCIM 2.0 service provider. Authenticates with a bearer token, or with an OAuth 2.0
/// client-credentials grant at `token_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimSettings {
    pub base_url: String,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
}

/// An LDAP directory (OpenLDAP, Active Directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LdapSettings {
    /// `ldap://host:port` (with `start_tls`) or `ldaps://host:port`.
    pub url: String,
    pub start_tls: bool,
    /// PEM file of the CA that signed the directory's certificate (the system's roots otherwise).
    pub ca_file: Option<String>,
    pub bind_dn: String,
    pub people_base_dn: String,
    pub groups_base_dn: String,
    /// The attribute that names a person's entry (`uid` on OpenLDAP, `cn` on Active Directory).
    pub person_naming_attribute: String,
}

/// Anything else (a site, a team, a ticket queue): signed calls to grant and revoke a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettings {
    pub grant_url: String,
    pub revoke_url: String,
    /// The role names the target offers (each a resource role).
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionSettings {
    Scim(ScimSettings),
    Ldap(LdapSettings),
    Webhook(WebhookSettings),
}

impl ConnectionSettings {
    pub fn kind(&self) -> ConnectionKind {
        match self {
            ConnectionSettings::Scim(_) => ConnectionKind::Scim,
            ConnectionSettings::Ldap(_) => ConnectionKind::Ldap,
            ConnectionSettings::Webhook(_) => ConnectionKind::Webhook,
        }
    }

    /// Where the target is, for people (the environment's `connectionInfo.url`).
    pub fn url(&self) -> &str {
        match self {
            ConnectionSettings::Scim(s) => &s.base_url,
            ConnectionSettings::Ldap(s) => &s.url,
            ConnectionSettings::Webhook(s) => &s.grant_url,
        }
    }
}

/// A connection's credentials. Each kind uses its own: SCIM a bearer token or a client secret,
/// LDAP a bind password, a webhook its signing secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secrets {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_password: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<Secret>,
}

impl Secrets {
    /// The names of the credentials that are set, for people to see that they are.
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.bearer_token.is_some() {
            out.push("bearerToken");
        }
        if self.client_secret.is_some() {
            out.push("clientSecret");
        }
        if self.bind_password.is_some() {
            out.push("bindPassword");
        }
        if self.signing_secret.is_some() {
            out.push("signingSecret");
        }
        out
    }
}

/// How the connection is doing, written by the workers and by checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub status: ConnectionStatus,
    /// The target's last error, in its words.
    pub last_error: Option<String>,
    pub status_date_time: Option<DateTime<Utc>>,
    pub last_success_date_time: Option<DateTime<Utc>>,
    /// Transient failures since the last success.
    pub consecutive_failures: i64,
    /// While degraded, when the waiting jobs may try the target again.
    pub probe_after: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub settings: ConnectionSettings,
    pub secrets: Secrets,
    pub reconcile_mode: ReconcileMode,
    pub health: Health,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

impl Connection {
    pub fn kind(&self) -> ConnectionKind {
        self.settings.kind()
    }
}

/// What the API and the audit log show of a connection: everything but its credentials, whose
/// names are listed under `secretsSet` so people can see that they are there.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "connection")]
pub struct ConnectionView<'a> {
    pub id: Uuid,
    pub display_name: &'a str,
    pub description: Option<&'a str>,
    pub kind: ConnectionKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scim: Option<&'a ScimSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldap: Option<&'a LdapSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<&'a WebhookSettings>,
    pub secrets_set: Vec<&'static str>,
    pub reconcile_mode: ReconcileMode,
    pub status: ConnectionStatus,
    pub last_error: Option<&'a str>,
    pub status_date_time: Option<DateTime<Utc>>,
    pub last_success_date_time: Option<DateTime<Utc>>,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

impl Connection {
    pub fn view(&self) -> ConnectionView<'_> {
        let (scim, ldap, webhook) = match &self.settings {
            ConnectionSettings::Scim(s) => (Some(s), None, None),
            ConnectionSettings::Ldap(s) => (None, Some(s), None),
            ConnectionSettings::Webhook(s) => (None, None, Some(s)),
        };
        ConnectionView {
            id: self.id,
            display_name: &self.display_name,
            description: self.description.as_deref(),
            kind: self.kind(),
            scim,
            ldap,
            webhook,
            secrets_set: self.secrets.names(),
            reconcile_mode: self.reconcile_mode,
            status: self.health.status,
            last_error: self.health.last_error.as_deref(),
            status_date_time: self.health.status_date_time,
            last_success_date_time: self.health.last_success_date_time,
            created_date_time: self.created_date_time,
            modified_date_time: self.modified_date_time,
        }
    }
}

impl Serialize for Connection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
    }
}

/// `POST /v1.0/gatehouse/connections`: `kind` and the settings object of that kind.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewConnection {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    #[schemars(required)]
    pub kind: Option<ConnectionKind>,
    pub reconcile_mode: Option<ReconcileMode>,
    pub scim: Option<ScimInput>,
    pub ldap: Option<LdapInput>,
    pub webhook: Option<WebhookInput>,
}

/// `PATCH /v1.0/gatehouse/connections/{id}`: what is given changes; credentials left out are kept.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionPatch {
    #[schemars(length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub description: Option<Option<String>>,
    pub reconcile_mode: Option<ReconcileMode>,
    pub scim: Option<ScimInput>,
    pub ldap: Option<LdapInput>,
    pub webhook: Option<WebhookInput>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScimInput {
    /// The SCIM base URL (`https://app.example/scim/v2`).
    pub base_url: Option<String>,
    /// Write-only.
    pub bearer_token: Option<String>,
    /// OAuth 2.0 client credentials instead of a bearer token.
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    /// Write-only.
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LdapInput {
    pub url: Option<String>,
    pub start_tls: Option<bool>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<Option<String>>,
    pub bind_dn: Option<String>,
    /// Write-only.
    pub bind_password: Option<String>,
    pub people_base_dn: Option<String>,
    pub groups_base_dn: Option<String>,
    pub person_naming_attribute: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookInput {
    pub grant_url: Option<String>,
    pub revoke_url: Option<String>,
    pub roles: Option<Vec<String>>,
    /// Write-only. Standard Webhooks form, `whsec_` + base64 of 24 to 64 random bytes; left
    /// out on creation, one is generated and shown once.
    pub signing_secret: Option<String>,
}

const SECRET_MAX: usize = 4096;

fn secret(target: &str, value: Option<String>) -> Result<Option<Secret>, ValidationError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() || v.len() > SECRET_MAX => {
            invalid(target, format!("{target} must be 1 to {SECRET_MAX} characters"))
        }
        Some(v) => Ok(Some(Secret(v))),
    }
}

/// True for hosts that never leave the machine: plain http and ldap are allowed only there.
pub fn is_loopback(host: Option<&str>) -> bool {
    match host {
        Some("localhost") => true,
        Some(h) => {
            h.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// An http(s) URL for calls that carry credentials or personal data: https, or http on loopback.
pub fn validate_http_url(target: &str, value: &str) -> Result<String, ValidationError> {
    let v = value.trim();
    let url = url::Url::parse(v).or_else(|_| invalid(target, format!("{target} '{value}' is not a valid URL")))?;
    if url.host_str().is_none() || url.cannot_be_a_base() {
        return invalid(target, format!("{target} '{value}' needs a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return invalid(target, format!("{target} must not carry credentials; set them as the connection's secrets"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url.host_str()) => {}
        "http" => return invalid(target, format!("{target} '{value}' must use https (plain http only on loopback)")),
        other => return invalid(target, format!("{target} '{value}' must be an https URL, not {other}")),
    }
    if url.fragment().is_some() {
        return invalid(target, format!("{target} '{value}' must not have a fragment"));
    }
    Ok(v.trim_end_matches('/').to_owned())
}

/// A distinguished name: `attr=value` parts separated by commas. The directory checks the rest.
pub fn validate_dn(target: &str, value: &str) -> Result<String, ValidationError> {
    let v = required_text(target, Some(value), 1024)?;
    let ok = split_dn(&v).iter().all(|rdn| {
        rdn.split_once('=').is_some_and(|(a, val)| {
            let a = a.trim();
            !a.is_empty()
                && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !val.trim().is_empty()
        })
    });
    if !ok {
        return invalid(
            target,
            format!("{target} '{value}' is not a distinguished name like cn=admin,dc=example,dc=org"),
        );
    }
    Ok(v)
}

/// The RDNs of a DN, honouring `\,` escapes.
pub fn split_dn(dn: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn validate_ldap_url(url: &str, start_tls: bool) -> Result<String, ValidationError> {
    let t = "ldap.url";
    let v = url.trim();
    let parsed = url::Url::parse(v).or_else(|_| invalid(t, format!("ldap.url '{url}' is not a valid URL")))?;
    if parsed.host_str().is_none() {
        return invalid(t, format!("ldap.url '{url}' needs a host"));
    }
    if parsed.path().len() > 1 || parsed.query().is_some() || !parsed.username().is_empty() {
        return invalid(t, format!("ldap.url '{url}' must be just ldap://host:port or ldaps://host:port"));
    }
    match parsed.scheme() {
        "ldaps" if start_tls => invalid("ldap.startTls", "startTls is for ldap:// URLs; ldaps:// is TLS already"),
        "ldaps" => Ok(v.trim_end_matches('/').to_owned()),
        "ldap" if start_tls || is_loopback(parsed.host_str()) => Ok(v.trim_end_matches('/').to_owned()),
        "ldap" => invalid(
            t,
            format!("ldap.url '{url}' would send the bind password in clear: use ldaps://, or set startTls (plain ldap only on loopback)"),
        ),
        other => invalid(t, format!("ldap.url '{url}' must be ldap:// or ldaps://, not {other}://")),
    }
}

fn attribute_name(target: &str, value: &str) -> Result<String, ValidationError> {
    let v = value.trim();
    let ok = v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && v.len() <= 64
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return invalid(target, format!("{target} '{value}' is not an attribute name like uid or cn"));
    }
    Ok(v.to_owned())
}

/// The Standard Webhooks secret format: `whsec_` and base64 of the key bytes.
pub fn validate_signing_secret(value: &str) -> Result<(), ValidationError> {
    let t = "webhook.signingSecret";
    let Some(b64) = value.strip_prefix("whsec_") else {
        return invalid(t, "signingSecret must be whsec_ followed by base64 (the Standard Webhooks form)");
    };
    let len = decoded_len(b64).ok_or_else(|| ValidationError::new(t, "signingSecret after whsec_ is not base64"))?;
    if !(24..=64).contains(&len) {
        return invalid(t, format!("signingSecret must hold 24 to 64 bytes; it holds {len}"));
    }
    Ok(())
}

/// Length of standard base64 with padding, or `None` when it is not base64. (The domain has no
/// base64 crate; the connectors decode it for real.)
fn decoded_len(b64: &str) -> Option<usize> {
    let b = b64.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return None;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    if pad > 2 || !b[..b.len() - pad].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/') {
        return None;
    }
    Some(b.len() / 4 * 3 - pad)
}

const MAX_ROLES: usize = 50;

fn validate_roles(roles: Vec<String>) -> Result<Vec<String>, ValidationError> {
    let t = "webhook.roles";
    if roles.is_empty() || roles.len() > MAX_ROLES {
        return invalid(t, format!("webhook.roles must name 1 to {MAX_ROLES} roles"));
    }
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for r in roles {
        let r = required_text(t, Some(&r), 64)?;
        if out.iter().any(|o| o.eq_ignore_ascii_case(&r)) {
            return invalid(t, format!("role '{r}' is named twice"));
        }
        out.push(r);
    }
    Ok(out)
}

fn nonempty(target: &str, v: Option<String>) -> Result<Option<String>, ValidationError> {
    optional_text(target, v.as_deref(), 1024)
}

impl ScimInput {
    fn apply(self, current: Option<&ScimSettings>, secrets: &mut Secrets) -> Result<ScimSettings, ValidationError> {
        let base_url = match (self.base_url, current) {
            (Some(u), _) => validate_http_url("scim.baseUrl", &u)?,
            (None, Some(c)) => c.base_url.clone(),
            (None, None) => return invalid("scim.baseUrl", "scim.baseUrl is required"),
        };
        let mut s = ScimSettings {
            base_url,
            token_url: current.and_then(|c| c.token_url.clone()),
            client_id: current.and_then(|c| c.client_id.clone()),
            scope: current.and_then(|c| c.scope.clone()),
        };
        let bearer = secret("scim.bearerToken", self.bearer_token)?;
        let client_secret = secret("scim.clientSecret", self.client_secret)?;
        if let Some(u) = self.token_url {
            s.token_url = Some(validate_http_url("scim.tokenUrl", &u)?);
        }
        if let Some(c) = self.client_id {
            s.client_id = nonempty("scim.clientId", Some(c))?;
        }
        if let Some(sc) = self.scope {
            s.scope = nonempty("scim.scope", Some(sc))?;
        }
        // One way to authenticate: a bearer token given now drops the client credentials, and
        // client credentials given now drop the token.
        if bearer.is_some() {
            if s.token_url.is_some() && (client_secret.is_some() || current.is_none()) {
                return invalid(
                    "scim.bearerToken",
                    "give a bearerToken or client credentials (tokenUrl, clientId, clientSecret), not both",
                );
            }
            s.token_url = None;
            s.client_id = None;
            s.scope = None;
            secrets.client_secret = None;
            secrets.bearer_token = bearer;
        } else if client_secret.is_some() || s.token_url.is_some() {
            secrets.bearer_token = None;
            if client_secret.is_some() {
                secrets.client_secret = client_secret;
            }
        }
        let oauth = s.token_url.is_some() || s.client_id.is_some() || secrets.client_secret.is_some();
        if oauth && (s.token_url.is_none() || s.client_id.is_none() || secrets.client_secret.is_none()) {
            return invalid("scim.tokenUrl", "client credentials need all of tokenUrl, clientId and clientSecret");
        }
        if !oauth && secrets.bearer_token.is_none() {
            return invalid(
                "scim.bearerToken",
                "a SCIM connection needs a bearerToken or client credentials (tokenUrl, clientId, clientSecret)",
            );
        }
        secrets.bind_password = None;
        secrets.signing_secret = None;
        Ok(s)
    }
}

impl LdapInput {
    fn apply(self, current: Option<&LdapSettings>, secrets: &mut Secrets) -> Result<LdapSettings, ValidationError> {
        let start_tls = self.start_tls.or(current.map(|c| c.start_tls)).unwrap_or(false);
        let url = match (self.url, current) {
            (Some(u), _) => u,
            (None, Some(c)) => c.url.clone(),
            (None, None) => return invalid("ldap.url", "ldap.url is required"),
        };
        let pick = |given: Option<String>, cur: Option<&String>, target: &str| -> Result<String, ValidationError> {
            match (given, cur) {
                (Some(v), _) => validate_dn(target, &v),
                (None, Some(c)) => Ok(c.clone()),
                (None, None) => invalid(target, format!("{target} is required")),
            }
        };
        let s = LdapSettings {
            url: validate_ldap_url(&url, start_tls)?,
            start_tls,
            ca_file: match self.ca_file {
                Some(v) => nonempty("ldap.caFile", v)?,
                None => current.and_then(|c| c.ca_file.clone()),
            },
            bind_dn: pick(self.bind_dn, current.map(|c| &c.bind_dn), "ldap.bindDn")?,
            people_base_dn: pick(self.people_base_dn, current.map(|c| &c.people_base_dn), "ldap.peopleBaseDn")?,
            groups_base_dn: pick(self.groups_base_dn, current.map(|c| &c.groups_base_dn), "ldap.groupsBaseDn")?,
            person_naming_attribute: match (self.person_naming_attribute, current) {
                (Some(a), _) => attribute_name("ldap.personNamingAttribute", &a)?,
                (None, Some(c)) => c.person_naming_attribute.clone(),
                (None, None) => "uid".to_owned(),
            },
        };
        if let Some(p) = secret("ldap.bindPassword", self.bind_password)? {
            secrets.bind_password = Some(p);
        }
        if secrets.bind_password.is_none() {
            return invalid("ldap.bindPassword", "ldap.bindPassword is required");
        }
        secrets.bearer_token = None;
        secrets.client_secret = None;
        secrets.signing_secret = None;
        Ok(s)
    }
}

impl WebhookInput {
    /// `generated` is the secret to use when none is given or stored (the caller makes it
    /// random; the domain has no randomness).
    fn apply(
        self,
        current: Option<&WebhookSettings>,
        secrets: &mut Secrets,
        generated: impl FnOnce() -> String,
    ) -> Result<WebhookSettings, ValidationError> {
        let url = |given: Option<String>, cur: Option<&String>, target: &str| -> Result<String, ValidationError> {
            match (given, cur) {
                (Some(v), _) => validate_http_url(target, &v),
                (None, Some(c)) => Ok(c.clone()),
                (None, None) => invalid(target, format!("{target} is required")),
            }
        };
        let s = WebhookSettings {
            grant_url: url(self.grant_url, current.map(|c| &c.grant_url), "webhook.grantUrl")?,
            revoke_url: url(self.revoke_url, current.map(|c| &c.revoke_url), "webhook.revokeUrl")?,
            roles: match (self.roles, current) {
                (Some(r), _) => validate_roles(r)?,
                (None, Some(c)) => c.roles.clone(),
                (None, None) => {
                    return invalid("webhook.roles", "webhook.roles is required (the role names the target offers)")
                }
            },
        };
        if let Some(given) = self.signing_secret {
            validate_signing_secret(&given)?;
            secrets.signing_secret = Some(Secret(given));
        }
        if secrets.signing_secret.is_none() {
            secrets.signing_secret = Some(Secret(generated()));
        }
        secrets.bearer_token = None;
        secrets.client_secret = None;
        secrets.bind_password = None;
        Ok(s)
    }
}

/// The one settings object of the connection's kind; the others must be absent.
fn only_kind(kind: ConnectionKind, scim: bool, ldap: bool, webhook: bool) -> Result<(), ValidationError> {
    for (k, present) in [(ConnectionKind::Scim, scim), (ConnectionKind::Ldap, ldap), (ConnectionKind::Webhook, webhook)]
    {
        if present && k != kind {
            return invalid(k.as_str(), format!("a {kind} connection takes settings under '{kind}', not '{k}'"));
        }
    }
    Ok(())
}

impl Connection {
    /// A new connection. `generated_secret` makes a webhook signing secret when none is given.
    pub fn create(
        input: NewConnection,
        id: Uuid,
        now: DateTime<Utc>,
        generated_secret: impl FnOnce() -> String,
    ) -> Result<Self, ValidationError> {
        let display_name = required_text("displayName", input.display_name.as_deref(), NAME_MAX)?;
        let description = optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?;
        let kind = input.kind.ok_or_else(|| ValidationError::new("kind", "kind is required: scim, ldap or webhook"))?;
        only_kind(kind, input.scim.is_some(), input.ldap.is_some(), input.webhook.is_some())?;
        let mut secrets = Secrets::default();
        let missing =
            || ValidationError::new(kind.as_str(), format!("a {kind} connection needs its settings under '{kind}'"));
        let settings = match kind {
            ConnectionKind::Scim => {
                ConnectionSettings::Scim(input.scim.ok_or_else(missing)?.apply(None, &mut secrets)?)
            }
            ConnectionKind::Ldap => {
                ConnectionSettings::Ldap(input.ldap.ok_or_else(missing)?.apply(None, &mut secrets)?)
            }
            ConnectionKind::Webhook => ConnectionSettings::Webhook(input.webhook.ok_or_else(missing)?.apply(
                None,
                &mut secrets,
                generated_secret,
            )?),
        };
        Ok(Connection {
            id,
            display_name,
            description,
            settings,
            secrets,
            reconcile_mode: input.reconcile_mode.unwrap_or_default(),
            health: Health::default(),
            created_date_time: now,
            modified_date_time: now,
        })
    }

    /// Apply a patch; credentials it leaves out are kept. Changing where the target is or how
    /// to reach it makes the connection untested again, degraded or not.
    pub fn apply(&mut self, patch: ConnectionPatch, now: DateTime<Utc>) -> Result<(), ValidationError> {
        let kind = self.kind();
        only_kind(kind, patch.scim.is_some(), patch.ldap.is_some(), patch.webhook.is_some())?;
        if let Some(n) = patch.display_name {
            self.display_name = required_text("displayName", Some(&n), NAME_MAX)?;
        }
        if let Some(d) = patch.description {
            self.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        if let Some(m) = patch.reconcile_mode {
            self.reconcile_mode = m;
        }
        let mut secrets = self.secrets.clone();
        let before = self.settings.clone();
        self.settings = match (&self.settings, patch.scim, patch.ldap, patch.webhook) {
            (ConnectionSettings::Scim(c), Some(p), _, _) => ConnectionSettings::Scim(p.apply(Some(c), &mut secrets)?),
            (ConnectionSettings::Ldap(c), _, Some(p), _) => ConnectionSettings::Ldap(p.apply(Some(c), &mut secrets)?),
            (ConnectionSettings::Webhook(c), _, _, Some(p)) => {
                ConnectionSettings::Webhook(
                    p.apply(Some(c), &mut secrets, || unreachable!("a stored webhook has a secret"))?,
                )
            }
            (s, _, _, _) => s.clone(),
        };
        let reached_differently = before != self.settings || secrets != self.secrets;
        self.secrets = secrets;
        if reached_differently {
            // Nothing is known of the new way in yet (a degraded connection's jobs may try it).
            self.health.status = ConnectionStatus::Untested;
            self.health.last_error = None;
            self.health.consecutive_failures = 0;
            self.health.probe_after = None;
        }
        self.modified_date_time = now;
        Ok(())
    }
}

/// How failures and successes move a connection between healthy and degraded.
pub mod health {
    use chrono::{DateTime, Duration, Utc};

    use super::{ConnectionStatus, Health};

    /// Transient failures in a row, with no success between, that make a connection degraded.
    pub const DEGRADED_AFTER: i64 = 3;

    /// What a batch of deliveries (or a check) did to the connection.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Change {
        /// Nothing an administrator needs to hear of.
        None,
        /// It started failing: jobs wait from now on.
        Degraded,
        /// It answers again: the waiting jobs run now.
        Recovered,
    }

    /// The wait before a degraded connection is tried again: a quarter of how long it has been
    /// degraded, between 5 s and a minute, with `jitter` in [0, 1) spreading replicas' probes
    /// over ±20 %. A short outage is noticed over within seconds; a long one is not hammered.
    pub fn probe_delay(degraded_for: Duration, jitter: f64) -> Duration {
        let base = (degraded_for.num_milliseconds() / 4).clamp(5_000, 60_000) as f64;
        Duration::milliseconds((base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as i64)
    }

    impl Health {
        /// Record successes and transient failures seen at `now`. A success clears the
        /// failure count; failures alone past [`DEGRADED_AFTER`] degrade.
        pub fn record(
            &mut self,
            successes: usize,
            failures: usize,
            last_error: Option<&str>,
            now: DateTime<Utc>,
            jitter: f64,
        ) -> Change {
            let was = self.status;
            if successes > 0 {
                self.consecutive_failures = 0;
                self.last_success_date_time = Some(now);
                self.probe_after = None;
                if was != ConnectionStatus::Healthy {
                    self.status = ConnectionStatus::Healthy;
                    self.status_date_time = Some(now);
                    self.last_error = None;
                }
                return if was == ConnectionStatus::Degraded { Change::Recovered } else { Change::None };
            }
            if failures == 0 {
                return Change::None;
            }
            self.consecutive_failures += failures as i64;
            self.last_error = last_error.map(str::to_owned).or(self.last_error.take());
            if self.consecutive_failures < DEGRADED_AFTER {
                return Change::None;
            }
            let change = if was == ConnectionStatus::Degraded {
                Change::None
            } else {
                self.status = ConnectionStatus::Degraded;
                self.status_date_time = Some(now);
                Change::Degraded
            };
            let since = self.status_date_time.unwrap_or(now);
            self.probe_after = Some(now + probe_delay(now - since, jitter));
            change
        }
    }
}

/// Backoff for a job that failed for a passing reason: 2 s doubling to five minutes, with
/// `jitter` in [0, 1) spreading retries over ±25 % so a recovered target is not hit by every
/// job at the same instant.
pub fn retry_delay(attempt: i64, jitter: f64) -> chrono::Duration {
    let steps = attempt.clamp(1, 20) as u32 - 1;
    let base = (2_000i64.saturating_mul(1i64 << steps.min(10))).min(300_000) as f64;
    chrono::Duration::milliseconds((base * (0.75 + 0.5 * jitter.clamp(0.0, 1.0))) as i64)
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
