//! A whole new access package in one transaction: the admin portal's wizard (Basics →
//! Resource roles → Requests → Requestor information → Lifecycle → Review + create) ends here.
//! Each part goes through the same use case the API calls one at a time — resource requests,
//! the package, its role scopes, its policy — so the rules and audit records are the API's,
//! and a refusal anywhere rolls all of it back: nothing is half-saved.

use gatehouse_domain::access_package::{AccessPackage, NewAccessPackage, NewResourceRoleScope, RoleOrScopeRef};
use gatehouse_domain::catalog::{NewResourceRequest, ResourceInput, ORIGIN_DIRECTORY_GROUP};
use gatehouse_domain::enums::RequestType;
use gatehouse_domain::input::EntityRef;
use gatehouse_domain::policy::PolicyInput;
use uuid::Uuid;

use crate::{Actor, App, Result};

/// What the wizard collected.
#[derive(Debug, Clone)]
pub struct PackagePlan {
    pub package: NewAccessPackage,
    /// Directory groups to add to the package's catalog first ("see all groups not in this
    /// catalog"); the caller must be allowed to manage the catalog.
    pub add_groups: Vec<Uuid>,
    /// Each granted role, as the role's `originId` (`Member_<group>`, `Owner_<group>`).
    pub roles: Vec<String>,
    /// The first policy, without its `accessPackage` (the package does not exist yet).
    pub policy: Option<PolicyInput>,
}

impl App {
    pub async fn create_package_from_plan(&self, actor: &Actor, plan: PackagePlan) -> Result<AccessPackage> {
        let catalog = plan.package.catalog;
        let mut tx = self.store.begin().await?;
        for group in plan.add_groups {
            let request = NewResourceRequest {
                request_type: Some(RequestType::AdminAdd),
                resource: Some(ResourceInput {
                    id: None,
                    display_name: None,
                    description: None,
                    origin_id: Some(group.to_string()),
                    origin_system: Some(ORIGIN_DIRECTORY_GROUP.into()),
                    environment: None,
                }),
                catalog,
                justification: None,
                state: None,
            };
            self.create_resource_request_in(&mut tx, actor, request, None).await?;
        }
        let package = self.create_package_in(&mut tx, actor, plan.package).await?;
        for origin in plan.roles {
            let role = RoleOrScopeRef { id: None, origin_id: Some(origin), origin_system: None, resource: None };
            self.add_role_scope_in(&mut tx, actor, package.id, NewResourceRoleScope { role: Some(role), scope: None })
                .await?;
        }
        if let Some(mut policy) = plan.policy {
            policy.access_package = Some(EntityRef { id: package.id });
            self.create_policy_in(&mut tx, actor, policy).await?;
        }
        tx.commit().await?;
        Ok(package)
    }
}
