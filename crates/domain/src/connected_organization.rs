//! Connected organizations: partners, how their users are recognised, and their sponsors.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::enums::ConnectedOrganizationState;
use crate::error::{invalid, optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};
use crate::polymorphic::{self, tagged};

/// How a partner's users are recognised and sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// Email one-time passcode for addresses in this domain.
    Domain {
        domain_name: String,
        display_name: Option<String>,
    },
    /// The partner's own OpenID Connect provider (Gatehouse extension type
    /// `#gatehouse.oidcIdentitySource`): users are linked by issuer + subject.
    Oidc {
        domain_name: String,
        display_name: Option<String>,
        issuer_uri: String,
        /// Gatehouse's client registration at that provider.
        client_id: Option<String>,
        /// Write-only: accepted on input, never serialized (the store keeps it in a column of
        /// its own, outside the JSON that the API and the audit log show).
        client_secret: Option<ClientSecret>,
    },
    /// SAML / WS-Federation IdP for the domain.
    ExternalDomainFederation {
        domain_name: String,
        display_name: Option<String>,
        issuer_uri: String,
    },
    /// Another Entra tenant.
    AzureActiveDirectoryTenant {
        tenant_id: String,
        display_name: Option<String>,
    },
    CrossCloudAzureActiveDirectoryTenant {
        cloud_instance: String,
        tenant_id: String,
        display_name: Option<String>,
    },
    Social {
        social_identity_source_type: String,
        display_name: Option<String>,
    },
}

impl IdentitySource {
    pub fn odata_type(&self) -> &'static str {
        match self {
            IdentitySource::Domain { .. } => "#microsoft.graph.domainIdentitySource",
            IdentitySource::Oidc { .. } => OIDC_TYPE,
            IdentitySource::ExternalDomainFederation { .. } => "#microsoft.graph.externalDomainFederation",
            IdentitySource::AzureActiveDirectoryTenant { .. } => "#microsoft.graph.azureActiveDirectoryTenant",
            IdentitySource::CrossCloudAzureActiveDirectoryTenant { .. } => {
                "#microsoft.graph.crossCloudAzureActiveDirectoryTenant"
            }
            IdentitySource::Social { .. } => "#microsoft.graph.socialIdentitySource",
        }
    }

    /// The email domain this source answers for, if any.
    pub fn domain_name(&self) -> Option<&str> {
        match self {
            IdentitySource::Domain { domain_name, .. }
            | IdentitySource::Oidc { domain_name, .. }
            | IdentitySource::ExternalDomainFederation { domain_name, .. } => Some(domain_name),
            _ => None,
        }
    }

    pub fn issuer_uri(&self) -> Option<&str> {
        match self {
            IdentitySource::Oidc { issuer_uri, .. } | IdentitySource::ExternalDomainFederation { issuer_uri, .. } => {
                Some(issuer_uri)
            }
            _ => None,
        }
    }

    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            IdentitySource::AzureActiveDirectoryTenant { tenant_id, .. }
            | IdentitySource::CrossCloudAzureActiveDirectoryTenant { tenant_id, .. } => Some(tenant_id),
            _ => None,
        }
    }

    pub fn display_name(&self) -> Option<&str> {
        match self {
            IdentitySource::Domain { display_name, .. }
            | IdentitySource::Oidc { display_name, .. }
            | IdentitySource::ExternalDomainFederation { display_name, .. }
            | IdentitySource::AzureActiveDirectoryTenant { display_name, .. }
            | IdentitySource::CrossCloudAzureActiveDirectoryTenant { display_name, .. }
            | IdentitySource::Social { display_name, .. } => display_name.as_deref(),
        }
    }

    /// Normalise and check the source: lower-case valid domain, https issuer.
    pub fn validated(self) -> Result<Self, ValidationError> {
        Ok(match self {
            IdentitySource::Domain { domain_name, display_name } => {
                IdentitySource::Domain { domain_name: normalize_domain(&domain_name)?, display_name }
            }
            IdentitySource::Oidc { domain_name, display_name, issuer_uri, client_id, client_secret } => {
                let client_id = client_id.map(|c| c.trim().to_owned());
                if client_id.as_ref().is_some_and(|c| c.is_empty() || c.len() > 255 || c.chars().any(char::is_control))
                {
                    return invalid("identitySources", "clientId must be 1 to 255 printable characters");
                }
                if client_secret.as_ref().is_some_and(|c| c.0.is_empty() || c.0.len() > 1024) {
                    return invalid("identitySources", "clientSecret must be 1 to 1024 characters");
                }
                if client_secret.is_some() && client_id.is_none() {
                    return invalid("identitySources", "clientSecret needs the clientId it belongs to");
                }
                IdentitySource::Oidc {
                    domain_name: normalize_domain(&domain_name)?,
                    display_name,
                    issuer_uri: validate_issuer(&issuer_uri)?,
                    client_id,
                    client_secret,
                }
            }
            IdentitySource::ExternalDomainFederation { domain_name, display_name, issuer_uri } => {
                IdentitySource::ExternalDomainFederation {
                    domain_name: normalize_domain(&domain_name)?,
                    display_name,
                    issuer_uri: validate_issuer(&issuer_uri)?,
                }
            }
            IdentitySource::AzureActiveDirectoryTenant { tenant_id, display_name } => {
                IdentitySource::AzureActiveDirectoryTenant { tenant_id: validate_tenant(&tenant_id)?, display_name }
            }
            IdentitySource::CrossCloudAzureActiveDirectoryTenant { cloud_instance, tenant_id, display_name } => {
                if !["microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn"]
                    .contains(&cloud_instance.as_str())
                {
                    return invalid("identitySources", format!("unknown cloudInstance '{cloud_instance}'"));
                }
                IdentitySource::CrossCloudAzureActiveDirectoryTenant {
                    cloud_instance,
                    tenant_id: validate_tenant(&tenant_id)?,
                    display_name,
                }
            }
            s @ IdentitySource::Social { .. } => s,
        })
    }
}

/// A client secret: compared and stored, never shown (its `Debug` is redacted so that a
/// logged organization does not leak it).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(pub String);

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(…)")
    }
}

impl ClientSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

pub const OIDC_TYPE: &str = "#gatehouse.oidcIdentitySource";

fn validate_tenant(tenant: &str) -> Result<String, ValidationError> {
    match Uuid::parse_str(tenant.trim()) {
        Ok(id) => Ok(id.to_string()),
        Err(_) => invalid("identitySources", format!("tenantId '{tenant}' is not a GUID")),
    }
}

/// Issuers must be https; plain http is allowed only on loopback, for local IdPs in development.
pub fn validate_issuer(issuer: &str) -> Result<String, ValidationError> {
    let url = url::Url::parse(issuer.trim())
        .or_else(|_| invalid("identitySources", format!("issuerUri '{issuer}' is not a valid URL")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return invalid("identitySources", format!("issuerUri '{issuer}' must use https"));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return invalid("identitySources", format!("issuerUri '{issuer}' must be a plain https URL"));
    }
    Ok(issuer.trim().trim_end_matches('/').to_owned())
}

/// Lower-cases a DNS domain name and checks its syntax (RFC 1035 labels, a real TLD).
pub fn normalize_domain(domain: &str) -> Result<String, ValidationError> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why: &str| invalid("identitySources", format!("'{domain}' is not a valid domain name: {why}"));
    if d.is_empty() {
        return bad("it is empty");
    }
    if d.len() > 253 {
        return bad("it is longer than 253 characters");
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return bad("it needs at least two labels, like fabrikam.example");
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return bad("each label must be 1 to 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return bad("only letters, digits, '-' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label cannot start or end with '-'");
        }
    }
    let tld = labels[labels.len() - 1];
    if !(tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--")) {
        return bad("the top-level label must be alphabetic");
    }
    Ok(d)
}

const SOURCE_TYPES: &[&str] = &[
    "domainIdentitySource",
    "externalDomainFederation",
    "azureActiveDirectoryTenant",
    "crossCloudAzureActiveDirectoryTenant",
    "socialIdentitySource",
    "gatehouse.oidcIdentitySource",
];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SourceIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    domain_name: Option<String>,
    display_name: Option<String>,
    issuer_uri: Option<String>,
    tenant_id: Option<String>,
    cloud_instance: Option<String>,
    social_identity_source_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl schemars::JsonSchema for IdentitySource {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "identitySource".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let fields = polymorphic::subtype_schema::<SourceIn>();
        let required: [&[&str]; 6] = [
            &["domainName"],
            &["domainName", "issuerUri"],
            &["domainName", "issuerUri"],
            &["tenantId"],
            &["cloudInstance", "tenantId"],
            &["socialIdentitySourceType"],
        ];
        let names: Vec<String> = SOURCE_TYPES
            .iter()
            .map(|n| if n.starts_with("gatehouse.") { format!("#{n}") } else { format!("#microsoft.graph.{n}") })
            .collect();
        let mut variants: Vec<_> =
            names.iter().map(String::as_str).zip(required).map(|(n, r)| (n, fields.clone(), r)).collect();
        // The OIDC source is Gatehouse's own: the only one that carries a client.
        for (name, schema, _) in variants.iter_mut() {
            if !name.starts_with("#gatehouse.") {
                if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                    props.remove("clientId");
                    props.remove("clientSecret");
                }
            }
        }
        polymorphic::schema(variants)
    }
}

impl<'de> Deserialize<'de> for IdentitySource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = polymorphic::object::<D::Error>(Value::deserialize(d)?, "identitySource")?;
        let t = polymorphic::type_name(&value);
        let v: SourceIn = polymorphic::subtype(value, "identitySource")?;
        let need = |field: Option<String>, name: &str| {
            field.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                D::Error::custom(format!("identitySource of type {} needs {name}", t.as_deref().unwrap_or("?")))
            })
        };
        let oidc = t.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("gatehouse.oidcIdentitySource"));
        if !oidc && (v.client_id.is_some() || v.client_secret.is_some()) {
            return Err(D::Error::custom("clientId and clientSecret belong to #gatehouse.oidcIdentitySource only"));
        }
        Ok(match t.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("domainidentitysource") => {
                IdentitySource::Domain { domain_name: need(v.domain_name, "domainName")?, display_name: v.display_name }
            }
            Some("gatehouse.oidcidentitysource") => IdentitySource::Oidc {
                domain_name: need(v.domain_name, "domainName")?,
                display_name: v.display_name,
                issuer_uri: need(v.issuer_uri, "issuerUri")?,
                client_id: v.client_id,
                client_secret: v.client_secret.map(ClientSecret),
            },
            Some("externaldomainfederation") => IdentitySource::ExternalDomainFederation {
                domain_name: need(v.domain_name, "domainName")?,
                display_name: v.display_name,
                issuer_uri: need(v.issuer_uri, "issuerUri")?,
            },
            Some("azureactivedirectorytenant") => IdentitySource::AzureActiveDirectoryTenant {
                tenant_id: need(v.tenant_id, "tenantId")?,
                display_name: v.display_name,
            },
            Some("crosscloudazureactivedirectorytenant") => IdentitySource::CrossCloudAzureActiveDirectoryTenant {
                cloud_instance: need(v.cloud_instance, "cloudInstance")?,
                tenant_id: need(v.tenant_id, "tenantId")?,
                display_name: v.display_name,
            },
            Some("socialidentitysource") => IdentitySource::Social {
                social_identity_source_type: need(v.social_identity_source_type, "socialIdentitySourceType")?,
                display_name: v.display_name,
            },
            _ => return Err(polymorphic::unknown_type("identitySource", t.as_deref(), SOURCE_TYPES)),
        })
    }
}

impl Serialize for IdentitySource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut body = match self {
            IdentitySource::Domain { domain_name, display_name } => {
                json!({"domainName": domain_name, "displayName": display_name})
            }
            // The client secret is write-only: never serialized.
            IdentitySource::Oidc { domain_name, display_name, issuer_uri, client_id, .. } => json!({
                "domainName": domain_name, "displayName": display_name, "issuerUri": issuer_uri, "clientId": client_id
            }),
            IdentitySource::ExternalDomainFederation { domain_name, display_name, issuer_uri } => {
                json!({"domainName": domain_name, "displayName": display_name, "issuerUri": issuer_uri})
            }
            IdentitySource::AzureActiveDirectoryTenant { tenant_id, display_name } => {
                json!({"tenantId": tenant_id, "displayName": display_name})
            }
            IdentitySource::CrossCloudAzureActiveDirectoryTenant { cloud_instance, tenant_id, display_name } => {
                json!({"cloudInstance": cloud_instance, "tenantId": tenant_id, "displayName": display_name})
            }
            IdentitySource::Social { social_identity_source_type, display_name } => {
                json!({"socialIdentitySourceType": social_identity_source_type, "displayName": display_name})
            }
        };
        let out = match self {
            IdentitySource::Oidc { .. } => {
                let mut map = serde_json::Map::new();
                map.insert("@odata.type".into(), Value::String(OIDC_TYPE.into()));
                if let Value::Object(fields) = body.take() {
                    map.extend(fields);
                }
                Value::Object(map)
            }
            other => tagged(other.odata_type().trim_start_matches("#microsoft.graph."), body),
        };
        out.serialize(s)
    }
}

/// A partner organization.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "connectedOrganization")]
pub struct ConnectedOrganization {
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub identity_sources: Vec<IdentitySource>,
    pub state: ConnectedOrganizationState,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

/// Body of `POST connectedOrganizations`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewConnectedOrganization {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    #[serde(default)]
    #[schemars(required, length(min = 1, max = 50))]
    pub identity_sources: Vec<IdentitySource>,
    pub state: Option<ConnectedOrganizationState>,
}

/// Body of `PATCH connectedOrganizations/{id}`. Absent means unchanged.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectedOrganizationPatch {
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub description: Option<Option<String>>,
    pub identity_sources: Option<Vec<IdentitySource>>,
    pub state: Option<ConnectedOrganizationState>,
}

fn validate_sources(sources: Vec<IdentitySource>) -> Result<Vec<IdentitySource>, ValidationError> {
    if sources.is_empty() {
        return invalid("identitySources", "at least one identity source is required");
    }
    if sources.len() > 50 {
        return invalid("identitySources", "at most 50 identity sources are allowed");
    }
    let sources = sources.into_iter().map(IdentitySource::validated).collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::new();
    for s in &sources {
        if let Some(d) = s.domain_name() {
            if !seen.insert(d.to_owned()) {
                return invalid("identitySources", format!("domain '{d}' is listed twice"));
            }
        }
    }
    Ok(sources)
}

fn validate_state(state: ConnectedOrganizationState) -> Result<ConnectedOrganizationState, ValidationError> {
    if state == ConnectedOrganizationState::UnknownFutureValue {
        return invalid("state", "state must be configured or proposed");
    }
    Ok(state)
}

impl ConnectedOrganization {
    pub fn create(input: NewConnectedOrganization, id: Uuid, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        Ok(ConnectedOrganization {
            id,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            description: optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?,
            identity_sources: validate_sources(input.identity_sources)?,
            state: validate_state(input.state.unwrap_or(ConnectedOrganizationState::Configured))?,
            created_date_time: now,
            modified_date_time: now,
        })
    }

    pub fn apply(&mut self, patch: ConnectedOrganizationPatch, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if let Some(name) = patch.display_name {
            self.display_name = required_text("displayName", Some(&name), NAME_MAX)?;
        }
        if let Some(description) = patch.description {
            self.description = optional_text("description", description.as_deref(), DESCRIPTION_MAX)?;
        }
        if let Some(sources) = patch.identity_sources {
            self.identity_sources = validate_sources(sources)?;
        }
        if let Some(state) = patch.state {
            self.state = validate_state(state)?;
        }
        self.modified_date_time = now;
        Ok(())
    }

    /// Every email domain this organization answers for.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.identity_sources.iter().filter_map(IdentitySource::domain_name)
    }
}

/// Which sponsor list of a connected organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SponsorKind {
    Internal,
    External,
}

impl SponsorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SponsorKind::Internal => "internal",
            SponsorKind::External => "external",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    fn new_org(v: Value) -> Result<ConnectedOrganization, String> {
        let input: NewConnectedOrganization = serde_json::from_value(v).map_err(|e| e.to_string())?;
        ConnectedOrganization::create(input, Uuid::nil(), now()).map_err(|e| e.to_string())
    }

    #[test]
    fn domain_names() {
        assert_eq!(normalize_domain("Fabrikam.Example.").unwrap(), "fabrikam.example");
        assert_eq!(normalize_domain("a-b.c.co").unwrap(), "a-b.c.co");
        for bad in ["", "fabrikam", "-a.com", "a-.com", "a..com", "a b.com", "a.c0m1", "a.123", "x@y.com", "ä.com"] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
        assert!(normalize_domain(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn create_from_graph_body() {
        let org = new_org(json!({
            "displayName": "Fabrikam", "description": "Tier-1 supplier",
            "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource",
                                  "domainName": "Fabrikam.example", "displayName": "fabrikam.example"}],
            "state": "configured"
        }))
        .unwrap();
        assert_eq!(org.domains().collect::<Vec<_>>(), vec!["fabrikam.example"]);
        let out = serde_json::to_value(&org).unwrap();
        assert_eq!(out["identitySources"][0]["@odata.type"], "#microsoft.graph.domainIdentitySource");
        assert_eq!(out["state"], "configured");
    }

    #[test]
    fn refusals() {
        assert!(new_org(json!({"identitySources": []})).unwrap_err().contains("displayName is required"));
        assert!(new_org(json!({"displayName": "X", "identitySources": []}))
            .unwrap_err()
            .contains("at least one identity source"));
        let dup = json!({"displayName": "X", "identitySources": [
            {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "a.com"},
            {"@odata.type": "#microsoft.graph.externalDomainFederation", "domainName": "A.com", "issuerUri": "https://idp.a.com"}]});
        assert!(new_org(dup).unwrap_err().contains("listed twice"));
        let http = json!({"displayName": "X", "identitySources": [
            {"@odata.type": "#gatehouse.oidcIdentitySource", "domainName": "a.com", "issuerUri": "http://idp.a.com"}]});
        assert!(new_org(http).unwrap_err().contains("must use https"));
        let unknown = json!({"displayName": "X", "identitySources": [], "colour": "red"});
        assert!(new_org(unknown).unwrap_err().contains("colour"));
        let state = json!({"displayName": "X", "state": "pending",
            "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "a.com"}]});
        assert!(new_org(state).unwrap_err().contains("unknown connectedOrganizationState"));
    }

    #[test]
    fn loopback_oidc_issuer_is_allowed_for_development() {
        let org = new_org(json!({"displayName": "X", "identitySources": [
            {"@odata.type": "gatehouse.oidcIdentitySource", "domainName": "a.com", "issuerUri": "http://127.0.0.1:9000/"}]}))
        .unwrap();
        assert_eq!(org.identity_sources[0].issuer_uri(), Some("http://127.0.0.1:9000"));
        assert_eq!(serde_json::to_value(&org).unwrap()["identitySources"][0]["@odata.type"], OIDC_TYPE);
    }

    #[test]
    fn client_secret_is_write_only() {
        let org = new_org(json!({"displayName": "X", "identitySources": [
            {"@odata.type": "#gatehouse.oidcIdentitySource", "domainName": "a.com", "issuerUri": "https://idp.a.com",
             "clientId": "gatehouse", "clientSecret": "s3cret-value"}]}))
        .unwrap();
        let IdentitySource::Oidc { client_id, client_secret, .. } = &org.identity_sources[0] else { panic!() };
        assert_eq!(client_id.as_deref(), Some("gatehouse"));
        assert_eq!(client_secret.as_ref().map(ClientSecret::expose), Some("s3cret-value"));
        let out = serde_json::to_string(&org).unwrap();
        assert!(out.contains("\"clientId\":\"gatehouse\"") && !out.contains("s3cret"), "{out}");
        assert!(!format!("{org:?}").contains("s3cret"));
        let orphan = json!({"displayName": "X", "identitySources": [
            {"@odata.type": "#gatehouse.oidcIdentitySource", "domainName": "a.com", "issuerUri": "https://idp.a.com",
             "clientSecret": "x"}]});
        assert!(new_org(orphan).unwrap_err().contains("needs the clientId"));
        let misplaced = json!({"displayName": "X", "identitySources": [
            {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "a.com", "clientId": "x"}]});
        assert!(new_org(misplaced).unwrap_err().contains("oidcIdentitySource only"));
    }

    proptest! {
        #[test]
        fn normalize_domain_is_total_and_idempotent(s in "[a-zA-Z0-9.-]{0,70}") {
            if let Ok(d) = normalize_domain(&s) {
                prop_assert_eq!(normalize_domain(&d).unwrap(), d);
            }
        }
    }
}
