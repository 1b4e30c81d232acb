//! Catalogs and the resources in them. Adding a resource is a resource request, as in Graph.

use gatehouse_domain::authorization::{Action, Scope};
use gatehouse_domain::catalog::{
    Catalog, CatalogPatch, NewCatalog, NewResourceRequest, Resource, ResourceRequest, ResourceRequestAction,
    ResourceRole, ResourceScope,
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
        let mut tx = self.store.begin().await?;
        let out = self.create_resource_request_in(&mut tx, actor, input).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Several resource requests, all or none (the admin portal's Add resources).
    pub async fn create_resource_requests(
        &self,
        actor: &Actor,
        inputs: Vec<NewResourceRequest>,
    ) -> Result<Vec<ResourceRequest>> {
        let mut tx = self.store.begin().await?;
        let mut out = Vec::with_capacity(inputs.len());
        for input in inputs {
            out.push(self.create_resource_request_in(&mut tx, actor, input).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// [`Self::create_resource_request`] inside the caller's transaction (the admin portal's wizards write
    /// several objects at once).
    pub(crate) async fn create_resource_request_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        input: NewResourceRequest,
    ) -> Result<ResourceRequest> {
        let (request_type, catalog_id, action) = input.validate()?;
        let now = self.now();
        let Some(catalog) = catalogs::get(tx, catalog_id).await? else {
            return Err(ValidationError::new("catalog", format!("catalog '{catalog_id}' does not exist")).into());
        };
        actor.check(Action::ManageCatalog, catalog_id)?;
        let resource_id = match action {
            ResourceRequestAction::Add { origin_system, origin_id, display_name, description } => {
                let group_id = Uuid::parse_str(&origin_id).map_err(|_| {
                    ValidationError::new("resource.originId", format!("'{origin_id}' is not a group id"))
                })?;
                let group = require_group(tx, group_id, "resource.originId").await?;
                let existing = catalogs::find_resource(tx, catalog_id, &origin_system, &group_id.to_string()).await?;
                match (existing, request_type) {
                    (Some(_), RequestType::AdminAdd) => {
                        return Err(AppError::Conflict(format!(
                            "group '{}' is already a resource in catalog '{}'",
                            group.display_name, catalog.display_name
                        )))
                    }
                    (Some(mut r), _) => {
                        let before = r.clone();
                        // adminUpdate refreshes what the origin system says about the resource.
                        r.display_name = group.display_name.clone();
                        r.description = description.or(group.description.clone());
                        r.modified_date_time = now;
                        catalogs::update_resource(tx, &r).await?;
                        self.audit(tx, actor, updated("resource.update", "resource", r.id, &before, &r)).await?;
                        r.id
                    }
                    (None, RequestType::AdminUpdate) => {
                        return Err(AppError::NotFound(format!(
                            "group '{}' is not a resource in catalog '{}'; use adminAdd",
                            group.display_name, catalog.display_name
                        )))
                    }
                    (None, _) => {
                        let resource = Resource {
                            id: crate::new_id(),
                            catalog_id,
                            display_name: display_name.unwrap_or_else(|| group.display_name.clone()),
                            description: description.or(group.description.clone()),
                            origin_system,
                            origin_id: group_id.to_string(),
                            created_date_time: now,
                            modified_date_time: now,
                        };
                        let (roles, scope) =
                            resource.directory_group_roles([crate::new_id(), crate::new_id()], crate::new_id());
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
            // Directory groups are local, so the request completes at once.
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
