//! `subjectSet`: who is targeted by a policy, or who approves a stage.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::polymorphic::{self, tagged};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectSet {
    SingleUser { user_id: Uuid, description: Option<String> },
    GroupMembers { group_id: Uuid, description: Option<String> },
    ConnectedOrganizationMembers { connected_organization_id: Uuid, description: Option<String> },
    AttributeRuleMembers { membership_rule: String, description: Option<String> },
    SingleServicePrincipal { service_principal_id: String, description: Option<String> },
    RequestorManager { manager_level: i32 },
    TargetManager { manager_level: i32 },
    InternalSponsors,
    ExternalSponsors,
    TargetUserSponsors,
}

impl SubjectSet {
    pub fn type_name(&self) -> &'static str {
        match self {
            SubjectSet::SingleUser { .. } => "singleUser",
            SubjectSet::GroupMembers { .. } => "groupMembers",
            SubjectSet::ConnectedOrganizationMembers { .. } => "connectedOrganizationMembers",
            SubjectSet::AttributeRuleMembers { .. } => "attributeRuleMembers",
            SubjectSet::SingleServicePrincipal { .. } => "singleServicePrincipal",
            SubjectSet::RequestorManager { .. } => "requestorManager",
            SubjectSet::TargetManager { .. } => "targetManager",
            SubjectSet::InternalSponsors => "internalSponsors",
            SubjectSet::ExternalSponsors => "externalSponsors",
            SubjectSet::TargetUserSponsors => "targetUserSponsors",
        }
    }

    pub fn is_sponsor_set(&self) -> bool {
        matches!(self, SubjectSet::InternalSponsors | SubjectSet::ExternalSponsors)
    }
}

const TYPES: &[&str] = &[
    "singleUser",
    "groupMembers",
    "connectedOrganizationMembers",
    "attributeRuleMembers",
    "singleServicePrincipal",
    "requestorManager",
    "targetManager",
    "internalSponsors",
    "externalSponsors",
    "targetUserSponsors",
];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    user_id: Uuid,
    description: Option<String>,
    #[serde(rename = "isBackup")]
    _is_backup: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GroupIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    group_id: Uuid,
    description: Option<String>,
    #[serde(rename = "isBackup")]
    _is_backup: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OrgIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    connected_organization_id: Uuid,
    description: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    membership_rule: String,
    description: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SpIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    service_principal_id: String,
    description: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ManagerIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    manager_level: Option<i32>,
    #[serde(rename = "isBackup")]
    _is_backup: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EmptyIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    #[serde(rename = "isBackup")]
    _is_backup: Option<bool>,
}

impl schemars::JsonSchema for SubjectSet {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "subjectSet".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        use polymorphic::subtype_schema as of;
        let t = |name: &str| format!("#microsoft.graph.{name}");
        let names: Vec<String> = TYPES.iter().map(|n| t(n)).collect();
        let schemas = [
            of::<UserIn>(),
            of::<GroupIn>(),
            of::<OrgIn>(),
            of::<RuleIn>(),
            of::<SpIn>(),
            of::<ManagerIn>(),
            of::<ManagerIn>(),
            of::<EmptyIn>(),
            of::<EmptyIn>(),
            of::<EmptyIn>(),
        ];
        polymorphic::schema(names.iter().map(String::as_str).zip(schemas).map(|(n, s)| (n, s, &[][..])).collect())
    }
}

impl<'de> Deserialize<'de> for SubjectSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = polymorphic::object::<D::Error>(Value::deserialize(d)?, "subjectSet")?;
        let t = polymorphic::type_name(&value);
        let what = "subjectSet";
        Ok(match t.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("singleuser") => {
                let v: UserIn = polymorphic::subtype(value, what)?;
                SubjectSet::SingleUser { user_id: v.user_id, description: v.description }
            }
            Some("groupmembers") => {
                let v: GroupIn = polymorphic::subtype(value, what)?;
                SubjectSet::GroupMembers { group_id: v.group_id, description: v.description }
            }
            Some("connectedorganizationmembers") => {
                let v: OrgIn = polymorphic::subtype(value, what)?;
                SubjectSet::ConnectedOrganizationMembers {
                    connected_organization_id: v.connected_organization_id,
                    description: v.description,
                }
            }
            Some("attributerulemembers") => {
                let v: RuleIn = polymorphic::subtype(value, what)?;
                SubjectSet::AttributeRuleMembers { membership_rule: v.membership_rule, description: v.description }
            }
            Some("singleserviceprincipal") => {
                let v: SpIn = polymorphic::subtype(value, what)?;
                SubjectSet::SingleServicePrincipal {
                    service_principal_id: v.service_principal_id,
                    description: v.description,
                }
            }
            Some("requestormanager") => {
                let v: ManagerIn = polymorphic::subtype(value, what)?;
                SubjectSet::RequestorManager { manager_level: v.manager_level.unwrap_or(1) }
            }
            Some("targetmanager") => {
                let v: ManagerIn = polymorphic::subtype(value, what)?;
                SubjectSet::TargetManager { manager_level: v.manager_level.unwrap_or(1) }
            }
            Some("internalsponsors") => {
                let _: EmptyIn = polymorphic::subtype(value, what)?;
                SubjectSet::InternalSponsors
            }
            Some("externalsponsors") => {
                let _: EmptyIn = polymorphic::subtype(value, what)?;
                SubjectSet::ExternalSponsors
            }
            Some("targetusersponsors") => {
                let _: EmptyIn = polymorphic::subtype(value, what)?;
                SubjectSet::TargetUserSponsors
            }
            _ => return Err(polymorphic::unknown_type(what, t.as_deref(), TYPES)),
        })
    }
}

impl Serialize for SubjectSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let body = match self {
            SubjectSet::SingleUser { user_id, description } => {
                json!({"userId": user_id, "description": description})
            }
            SubjectSet::GroupMembers { group_id, description } => {
                json!({"groupId": group_id, "description": description})
            }
            SubjectSet::ConnectedOrganizationMembers { connected_organization_id, description } => {
                json!({"connectedOrganizationId": connected_organization_id, "description": description})
            }
            SubjectSet::AttributeRuleMembers { membership_rule, description } => {
                json!({"membershipRule": membership_rule, "description": description})
            }
            SubjectSet::SingleServicePrincipal { service_principal_id, description } => {
                json!({"servicePrincipalId": service_principal_id, "description": description})
            }
            SubjectSet::RequestorManager { manager_level } | SubjectSet::TargetManager { manager_level } => {
                json!({"managerLevel": manager_level})
            }
            SubjectSet::InternalSponsors | SubjectSet::ExternalSponsors | SubjectSet::TargetUserSponsors => json!({}),
        };
        tagged(self.type_name(), body).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_type_with_or_without_hash() {
        let a: SubjectSet =
            serde_json::from_value(json!({"@odata.type": "#microsoft.graph.internalSponsors"})).unwrap();
        let b: SubjectSet = serde_json::from_value(json!({"@odata.type": "microsoft.graph.InternalSponsors"})).unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_value(&a).unwrap()["@odata.type"], "#microsoft.graph.internalSponsors");
    }

    #[test]
    fn refuses_unknown_type_and_unknown_fields() {
        let e = serde_json::from_value::<SubjectSet>(json!({"@odata.type": "#microsoft.graph.everyone"}));
        assert!(e.unwrap_err().to_string().contains("unknown subjectSet type 'everyone'"));
        let e = serde_json::from_value::<SubjectSet>(
            json!({"@odata.type": "#microsoft.graph.singleUser", "userId": Uuid::nil(), "usrId": 1}),
        );
        assert!(e.unwrap_err().to_string().contains("usrId"));
        let e = serde_json::from_value::<SubjectSet>(json!({"userId": Uuid::nil()}));
        assert!(e.unwrap_err().to_string().contains("needs an @odata.type"));
    }
}
