//! Catalogs and the resources in them. Adding a resource is a resource request, as in Graph.

use gatehouse_connectors::Target;
use gatehouse_domain::authorization::{Action, Scope};
use gatehouse_domain::catalog::{
    group_roles, Catalog, CatalogPatch, NewCatalog, NewResourceRequest, Resource, ResourceRequest,
    ResourceRequestAction, ResourceRole, ResourceScope,
};
use gatehouse_domain::connection::{
    ConnectionKind, ConnectionSettings, ORIGIN_SCIM_APPLICATION, ORIGIN_WEBHOOK, SCIM_USER_ROLE,
};
use gatehouse_domain::enums::{RequestState, RequestType};
use gatehouse_domain::principal::CatalogRole;
use gatehouse_domain::ValidationError;
use gatehouse_store::catalogs;
use gatehouse_store::query::{Param, Where};
use gatehouse_store::WriteTx;
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::authorization::in_reach;
use crate::directory::require_group;
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// What a target says of a resource added from it.
#[derive(Debug, Clone)]
pub(crate) struct FoundInTarget {
    origin_id: String,
    display_name: String,
    description: Option<String>,
    /// `(display name, origin id)` of its roles.
    roles: Vec<(String, String)>,
}

impl App {
    pub async fn create_catalog(&self, actor: &Actor, input: NewCatalog) -> Result<Catalog> {
        actor.check_at(Action::CreateCatalog, Scope::Tenant)?;
        let catalog = Catalog::create(input, crate::new_id(), self.now())?;
        let mut tx = self.store.begin().await?;
        catalogs::insert(&mut tx, &catalog).await?;
        self.audit(&mut tx, actor, created("catalog.create", "catalog", catalog.id, &catalog)).await?;
        // A catalog creator owns what they create, or they could not even see it again.
        // Administrators reach every catalog already and get no role row.
        if let Some(p) = actor.principal.as_ref().filter(|_| !actor.governs()) {
            self.grant_catalog_role_in(&mut tx, actor, catalog.id, p.user_id, CatalogRole::Owner).await?;
        }
        tx.commit().await?;
        Ok(catalog)
    }

    pub async fn update_catalog(&self, actor: &Actor, id: Uuid, patch: CatalogPatch) -> Result<Catalog> {
        let mut tx = self.store.begin().await?;
        let Some(before) = catalogs::get(&mut tx, id).await? else { return not_found("catalog", id) };
        actor.check(Action::ManageCatalog, id)?;
        let mut after = before.clone();
        after.apply(patch, self.now())?;
        if after.open_to_external_users().is_err() {
            // Closing a catalog to outsiders must not leave policies that still admit them.
            let external = gatehouse_store::policies::external_in_catalog(&mut tx, id).await?;
            if !external.is_empty() {
                return Err(AppError::Conflict(format!(
                    "catalog '{}' has policies for external users ({}); change or remove them before disabling it for external users",
                    after.display_name,
                    external.join(", ")
                )));
            }
        }
        catalogs::update(&mut tx, &after).await?;
        self.audit(&mut tx, actor, updated("catalog.update", "catalog", id, &before, &after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_catalog(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = catalogs::get(&mut tx, id).await? else { return not_found("catalog", id) };
        actor.check(Action::ManageCatalog, id)?;
        let packages = catalogs::count_packages(&mut tx, id).await?;
        if packages > 0 {
            return Err(AppError::Conflict(format!(
                "catalog '{}' still holds {packages} access package(s); delete them first",
                before.display_name
            )));
        }
        catalogs::delete(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("catalog.delete", "catalog", id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_catalog(&self, actor: &Actor, id: Uuid) -> Result<Catalog> {
        let mut conn = self.store.conn().await?;
        match catalogs::get(&mut conn, id).await? {
            Some(c) => {
                actor.check(Action::ReadCatalog, id)?;
                Ok(c)
            }
            None => not_found("catalog", id),
        }
    }

    /// The catalogs the caller holds a role in (all of them for administrators).
    pub async fn list_catalogs(&self, actor: &Actor, q: ListQuery<'_>) -> Result<Page<Catalog>> {
        let mut conn = self.store.conn().await?;
        let scope = in_reach(Where::new(), "t.id", actor, Action::ReadCatalog);
        let page = gatehouse_store::query::list(&mut conn, &catalogs::CATALOGS, scope, q).await?;
        Page::from_rows(page, catalogs::catalog_from_row)
    }

    pub async fn create_resource_request(&self, actor: &Actor, input: NewResourceRequest) -> Result<ResourceRequest> {
        let found = self.find_in_target(actor, &input).await?;
        let mut tx = self.store.begin().await?;
        let out = self.create_resource_request_in(&mut tx, actor, input, found).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Several resource requests, all or none (the admin portal's Add resources).
    pub async fn create_resource_requests(
        &self,
        actor: &Actor,
        inputs: Vec<NewResourceRequest>,
    ) -> Result<Vec<ResourceRequest>> {
        // The targets are asked first: no network call while the transaction holds the writer.
        let mut found = Vec::with_capacity(inputs.len());
        for input in &inputs {
            found.push(self.find_in_target(actor, input).await?);
        }
        let mut tx = self.store.begin().await?;
        let mut out = Vec::with_capacity(inputs.len());
        for (input, found) in inputs.into_iter().zip(found) {
            out.push(self.create_resource_request_in(&mut tx, actor, input, found).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// What the connection says about a resource a request adds from it: that it exists, its
    /// name, and its roles. `None` for directory groups and removals.
    async fn find_in_target(&self, actor: &Actor, input: &NewResourceRequest) -> Result<Option<FoundInTarget>> {
        let (_, catalog_id, action) = input.clone().validate()?;
        let ResourceRequestAction::Add { origin_system, origin_id, connection_id: Some(connection_id), .. } = action
        else {
            return Ok(None);
        };
        // Only those who may change the catalog make Gatehouse call a target for it.
        actor.check(Action::ManageCatalog, catalog_id)?;
        let c = match self.connection(connection_id).await {
            Ok(c) => c,
            Err(AppError::NotFound(_)) => {
                return Err(ValidationError::new(
                    "resource.environment",
                    format!("connection '{connection_id}' does not exist"),
                )
                .into())
            }
            Err(e) => return Err(e),
        };
        if ConnectionKind::of_origin(&origin_system) != Some(c.kind()) {
            return Err(ValidationError::new(
                "resource.originSystem",
                format!(
                    "connection '{}' is a {} connection; it offers {} resources",
                    c.display_name,
                    c.kind(),
                    c.kind().origin_systems().join(" and ")
                ),
            )
            .into());
        }
        let found = match (origin_system.as_str(), &c.settings) {
            (ORIGIN_SCIM_APPLICATION, _) => FoundInTarget {
                origin_id: c.id.to_string(),
                display_name: c.display_name.clone(),
                description: c.description.clone(),
                roles: vec![(SCIM_USER_ROLE.to_owned(), SCIM_USER_ROLE.to_owned())],
            },
            (ORIGIN_WEBHOOK, ConnectionSettings::Webhook(w)) => FoundInTarget {
                origin_id: c.id.to_string(),
                display_name: c.display_name.clone(),
                description: c.description.clone(),
                roles: w.roles.iter().map(|r| (r.clone(), r.clone())).collect(),
            },
            _ => {
                let id = origin_id.unwrap_or_default();
                let target = Target::new(self.http.clone(), &c).map_err(crate::connections::refused)?;
                let Some(group) = target.group(&id).await.map_err(crate::connections::refused)? else {
                    return Err(ValidationError::new(
                        "resource.originId",
                        format!("connection '{}' has no group '{id}'", c.display_name),
                    )
                    .into());
                };
                FoundInTarget {
                    roles: group_roles(&group.origin_id, &["Member"]),
                    origin_id: group.origin_id,
                    display_name: group.display_name,
                    description: group.description,
                }
            }
        };
        Ok(Some(found))
    }

    /// [`Self::create_resource_request`] inside the caller's transaction (the admin portal's wizards write
    /// several objects at once). `found` is what the connection said of a resource from it.
    pub(crate) async fn create_resource_request_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        input: NewResourceRequest,
        found: Option<FoundInTarget>,
    ) -> Result<ResourceRequest> {
        let (request_type, catalog_id, action) = input.validate()?;
        let now = self.now();
        let Some(catalog) = catalogs::get(tx, catalog_id).await? else {
            return Err(ValidationError::new("catalog", format!("catalog '{catalog_id}' does not exist")).into());
        };
        actor.check(Action::ManageCatalog, catalog_id)?;
        let resource_id = match action {
            ResourceRequestAction::Add { origin_system, origin_id, display_name, description, connection_id } => {
                let (origin_id, what, found) = match (connection_id, found) {
                    (Some(_), Some(f)) => (f.origin_id.clone(), format!("{origin_system} '{}'", f.display_name), f),
                    (Some(_), None) => {
                        return Err(AppError::Conflict(
                            "resources from connections are added with resourceRequests".into(),
                        ))
                    }
                    (None, _) => {
                        let origin_id = origin_id.unwrap_or_default();
                        let group_id = Uuid::parse_str(&origin_id).map_err(|_| {
                            ValidationError::new("resource.originId", format!("'{origin_id}' is not a group id"))
                        })?;
                        let group = require_group(tx, group_id, "resource.originId").await?;
                        let found = FoundInTarget {
                            origin_id: group_id.to_string(),
                            roles: group_roles(&group_id.to_string(), &["Member", "Owner"]),
                            display_name: group.display_name.clone(),
                            description: group.description.clone(),
                        };
                        (group_id.to_string(), format!("group '{}'", group.display_name), found)
                    }
                };
                let existing = catalogs::find_resource(tx, catalog_id, &origin_system, &origin_id).await?;
                match (existing, request_type) {
                    (Some(_), RequestType::AdminAdd) => {
                        return Err(AppError::Conflict(format!(
                            "{what} is already a resource in catalog '{}'",
                            catalog.display_name
                        )))
                    }
                    (Some(mut r), _) => {
                        let before = r.clone();
                        // adminUpdate refreshes what the origin system says about the resource,
                        // and adds roles it offers now (a webhook target's new role names).
                        r.display_name = found.display_name.clone();
                        r.description = description.or(found.description.clone());
                        r.modified_date_time = now;
                        catalogs::update_resource(tx, &r).await?;
                        let known: Vec<String> =
                            catalogs::roles_of(tx, r.id).await?.into_iter().map(|role| role.origin_id).collect();
                        let new: Vec<(String, String)> =
                            found.roles.iter().filter(|(_, o)| !known.contains(o)).cloned().collect();
                        if !new.is_empty() {
                            let ids: Vec<Uuid> = new.iter().map(|_| crate::new_id()).collect();
                            let (roles, _) = r.roles_and_scope(&new, &ids, crate::new_id());
                            catalogs::insert_roles(tx, &roles, now).await?;
                        }
                        self.audit(tx, actor, updated("resource.update", "resource", r.id, &before, &r)).await?;
                        r.id
                    }
                    (None, RequestType::AdminUpdate) => {
                        return Err(AppError::NotFound(format!(
                            "{what} is not a resource in catalog '{}'; use adminAdd",
                            catalog.display_name
                        )))
                    }
                    (None, _) => {
                        let resource = Resource {
                            id: crate::new_id(),
                            catalog_id,
                            display_name: display_name.unwrap_or_else(|| found.display_name.clone()),
                            description: description.or(found.description.clone()),
                            origin_system,
                            origin_id,
                            connection_id,
                            created_date_time: now,
                            modified_date_time: now,
                        };
                        let ids: Vec<Uuid> = found.roles.iter().map(|_| crate::new_id()).collect();
                        let (roles, scope) = resource.roles_and_scope(&found.roles, &ids, crate::new_id());
                        catalogs::insert_resource(tx, &resource, &roles, &scope).await?;
                        self.audit(tx, actor, created("resource.add", "resource", resource.id, &resource)).await?;
                        resource.id
                    }
                }
            }
            ResourceRequestAction::Remove { resource_id } => {
                let Some(r) = catalogs::get_resource(tx, resource_id).await?.filter(|r| r.catalog_id == catalog_id)
                else {
                    return Err(AppError::NotFound(format!(
                        "resource '{resource_id}' is not in catalog '{}'",
                        catalog.display_name
                    )));
                };
                let using = catalogs::packages_using_resource(tx, resource_id).await?;
                if !using.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "resource '{}' is granted by access packages: {}; remove its roles from them first",
                        r.display_name,
                        using.join(", ")
                    )));
                }
                catalogs::delete_resource(tx, resource_id).await?;
                self.audit(tx, actor, deleted("resource.remove", "resource", resource_id, &r)).await?;
                resource_id
            }
        };
        let request = ResourceRequest {
            id: crate::new_id(),
            request_type,
            // The target was asked before the transaction, so the request completes at once.
            state: RequestState::Delivered,
            created_date_time: now,
            catalog_id,
            resource_id: Some(resource_id),
        };
        catalogs::insert_request(tx, &request).await?;
        self.audit(tx, actor, created("resourceRequest.create", "resourceRequest", request.id, &request)).await?;
        Ok(request)
    }

    pub async fn get_resource_request(&self, actor: &Actor, id: Uuid) -> Result<ResourceRequest> {
        let mut conn = self.store.conn().await?;
        match catalogs::get_request(&mut conn, id).await? {
            Some(r) => {
                actor.check(Action::ReadCatalog, r.catalog_id)?;
                Ok(r)
            }
            None => not_found("resourceRequest", id),
        }
    }

    pub async fn list_resource_requests(&self, actor: &Actor, q: ListQuery<'_>) -> Result<Page<ResourceRequest>> {
        let mut conn = self.store.conn().await?;
        let scope = in_reach(Where::new(), "t.catalog_id", actor, Action::ReadCatalog);
        let page = gatehouse_store::query::list(&mut conn, &catalogs::RESOURCE_REQUESTS, scope, q).await?;
        Page::from_rows(page, catalogs::request_from_row)
    }

    pub async fn list_resources(&self, actor: &Actor, catalog: Uuid, q: ListQuery<'_>) -> Result<Page<Resource>> {
        self.get_catalog(actor, catalog).await?;
        let mut conn = self.store.conn().await?;
        let page =
            gatehouse_store::query::list(&mut conn, &catalogs::RESOURCES, catalogs::in_catalog(catalog), q).await?;
        Page::from_rows(page, catalogs::resource_from_row)
    }

    pub async fn get_resource(&self, actor: &Actor, catalog: Uuid, id: Uuid) -> Result<Resource> {
        actor.check(Action::ReadCatalog, catalog)?;
        let mut conn = self.store.conn().await?;
        match catalogs::get_resource(&mut conn, id).await?.filter(|r| r.catalog_id == catalog) {
            Some(r) => Ok(r),
            None => not_found("resource", id),
        }
    }

    pub async fn resource_roles_and_scopes(&self, resource: Uuid) -> Result<(Vec<ResourceRole>, Vec<ResourceScope>)> {
        let mut conn = self.store.conn().await?;
        Ok((catalogs::roles_of(&mut conn, resource).await?, catalogs::scopes_of(&mut conn, resource).await?))
    }

    pub async fn list_resource_roles(
        &self,
        actor: &Actor,
        catalog: Uuid,
        resource: Option<Uuid>,
        q: ListQuery<'_>,
    ) -> Result<Page<ResourceRole>> {
        self.get_catalog(actor, catalog).await?;
        let mut scope = catalogs::in_catalog(catalog);
        if let Some(r) = resource {
            scope = scope.and_eq("t.resource_id = {}", Param::Text(r.to_string()));
        }
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &catalogs::RESOURCE_ROLES, scope, q).await?;
        Page::from_rows(page, catalogs::role_from_row)
    }

    pub async fn list_resource_scopes(
        &self,
        actor: &Actor,
        catalog: Uuid,
        resource: Option<Uuid>,
        q: ListQuery<'_>,
    ) -> Result<Page<ResourceScope>> {
        self.get_catalog(actor, catalog).await?;
        let mut scope = catalogs::in_catalog(catalog);
        if let Some(r) = resource {
            scope = scope.and_eq("t.resource_id = {}", Param::Text(r.to_string()));
        }
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &catalogs::RESOURCE_SCOPES, scope, q).await?;
        Page::from_rows(page, catalogs::scope_from_row)
    }

    pub async fn get_resource_role(&self, id: Uuid) -> Result<ResourceRole> {
        let mut conn = self.store.conn().await?;
        match catalogs::get_role(&mut conn, id).await? {
            Some(r) => Ok(r),
            None => not_found("resourceRole", id),
        }
    }

    pub async fn get_resource_scope(&self, id: Uuid) -> Result<ResourceScope> {
        let mut conn = self.store.conn().await?;
        match catalogs::get_scope(&mut conn, id).await? {
            Some(r) => Ok(r),
            None => not_found("resourceScope", id),
        }
    }
}
