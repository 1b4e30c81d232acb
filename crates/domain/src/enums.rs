//! Graph enumerations. Parsed case-insensitively (doc examples send `"UserAdd"`, `"Delivered"`),
//! always emitted in canonical camelCase.

/// Defines a Graph enum with canonical wire names, case-insensitive parsing and serde.
#[macro_export]
macro_rules! graph_enum {
    ($(#[$meta:meta])* $name:ident ($wire:literal) { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The Graph property type name, used in error messages.
            pub const WIRE_NAME: &'static str = $wire;

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }

            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s).ok_or_else(|| format!(
                    "unknown {} value '{}'; expected one of: {}", $wire, s, Self::expected()))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $wire.into()
            }
            // Input is read case-insensitively; the schema offers the canonical spellings.
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let values: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                schemars::json_schema!({"type": "string", "enum": values})
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use graph_enum;

graph_enum!(
    /// Whether a connected organization was made by an admin or proposed by the service.
    ConnectedOrganizationState("connectedOrganizationState") {
        Configured = "configured", Proposed = "proposed", UnknownFutureValue = "unknownFutureValue",
    }
);

graph_enum!(CatalogType("accessPackageCatalogType") {
    UserManaged = "userManaged", ServiceDefault = "serviceDefault", ServiceManaged = "serviceManaged",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(
    /// `published` is Gatehouse's "enabled": packages in an unpublished catalog cannot be requested.
    CatalogState("accessPackageCatalogState") {
        Unpublished = "unpublished", Published = "published", UnknownFutureValue = "unknownFutureValue",
    }
);

graph_enum!(AllowedTargetScope("allowedTargetScope") {
    NotSpecified = "notSpecified",
    SpecificDirectoryUsers = "specificDirectoryUsers",
    SpecificConnectedOrganizationUsers = "specificConnectedOrganizationUsers",
    SpecificDirectoryServicePrincipals = "specificDirectoryServicePrincipals",
    AllMemberUsers = "allMemberUsers",
    AllDirectoryUsers = "allDirectoryUsers",
    AllDirectoryServicePrincipals = "allDirectoryServicePrincipals",
    AllConfiguredConnectedOrganizationUsers = "allConfiguredConnectedOrganizationUsers",
    AllExternalUsers = "allExternalUsers",
    AllDirectoryAgentIdentities = "allDirectoryAgentIdentities",
    UnknownFutureValue = "unknownFutureValue",
});

impl AllowedTargetScope {
    /// Scopes that admit users from outside the host: such policies need a catalog that is
    /// published and externally visible.
    pub fn admits_external_users(self) -> bool {
        matches!(
            self,
            Self::SpecificConnectedOrganizationUsers
                | Self::AllConfiguredConnectedOrganizationUsers
                | Self::AllExternalUsers
        )
    }
}

graph_enum!(RequestType("accessPackageRequestType") {
    NotSpecified = "notSpecified", UserAdd = "userAdd", UserUpdate = "userUpdate", UserRemove = "userRemove",
    AdminAdd = "adminAdd", AdminUpdate = "adminUpdate", AdminRemove = "adminRemove",
    SystemAdd = "systemAdd", SystemUpdate = "systemUpdate", SystemRemove = "systemRemove",
    OnBehalfAdd = "onBehalfAdd", UnknownFutureValue = "unknownFutureValue", ApproverRemove = "approverRemove",
});

graph_enum!(RequestState("accessPackageRequestState") {
    Submitted = "submitted", PendingApproval = "pendingApproval", Delivering = "delivering",
    Delivered = "delivered", DeliveryFailed = "deliveryFailed", Denied = "denied", Scheduled = "scheduled",
    Canceled = "canceled", PartiallyDelivered = "partiallyDelivered", UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(AssignmentState("accessPackageAssignmentState") {
    Delivering = "delivering", PartiallyDelivered = "partiallyDelivered", Delivered = "delivered",
    Expired = "expired", DeliveryFailed = "deliveryFailed", UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(ExpirationPatternType("expirationPatternType") {
    NotSpecified = "notSpecified", NoExpiration = "noExpiration", AfterDateTime = "afterDateTime",
    AfterDuration = "afterDuration",
});

graph_enum!(ExternalUserLifecycleAction("accessPackageExternalUserLifecycleAction") {
    None = "none", BlockSignIn = "blockSignIn", BlockSignInAndDelete = "blockSignInAndDelete",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(ApproverInformationVisibility("approverInformationVisibility") {
    Default = "default", NotVisible = "notVisible", Visible = "visible", UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(AccessReviewExpirationBehavior("accessReviewExpirationBehavior") {
    KeepAccess = "keepAccess", RemoveAccess = "removeAccess", AcceptAccessRecommendation = "acceptAccessRecommendation",
    UnknownFutureValue = "unknownFutureValue",
});

graph_enum!(UserType("userType") { Member = "Member", Guest = "Guest" });

graph_enum!(ExternalUserState("externalUserState") {
    PendingAcceptance = "PendingAcceptance", Accepted = "Accepted",
});

graph_enum!(RoleType("roleType") {
    Active = "active", Eligible = "eligible", Application = "application", Delegated = "delegated",
    UnknownFutureValue = "unknownFutureValue",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_case_insensitively_and_emit_canonical() {
        assert_eq!(RequestType::parse("UserAdd"), Some(RequestType::UserAdd));
        assert_eq!(AssignmentState::parse("Delivered"), Some(AssignmentState::Delivered));
        assert_eq!(serde_json::to_string(&RequestType::AdminAdd).unwrap(), "\"adminAdd\"");
        let e: Result<AllowedTargetScope, _> = serde_json::from_str("\"everyone\"");
        assert!(e.unwrap_err().to_string().contains("unknown allowedTargetScope value 'everyone'"));
    }

    #[test]
    fn external_scopes_are_exactly_the_three_outside_ones() {
        let external: Vec<_> = AllowedTargetScope::ALL.iter().filter(|s| s.admits_external_users()).collect();
        assert_eq!(external.len(), 3);
        assert!(!AllowedTargetScope::AllMemberUsers.admits_external_users());
    }
}
