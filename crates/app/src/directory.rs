//! Directory users and groups.

use gatehouse_domain::directory::{Group, GroupPatch, NewGroup, NewUser, User, UserPatch};
use gatehouse_domain::ValidationError;
use gatehouse_store::query::Where;
use gatehouse_store::{connected_organizations, directory, Conn};
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// A user or group, for `/directoryObjects/{id}` and `$ref` targets.
#[derive(Debug, Clone)]
pub enum DirectoryObject {
    User(User),
    Group(Group),
}

impl App {
    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<User> {
        let user = User::create(input, crate::new_id(), self.now())?;
        let mut tx = self.store.begin().await?;
        if let Some(org) = user.connected_organization_id {
            if connected_organizations::get(&mut tx, org).await?.is_none() {
                return Err(ValidationError::new(
                    "connectedOrganizationId",
                    format!("connected organization '{org}' does not exist"),
                )
                .into());
            }
        }
        directory::insert_user(&mut tx, &user).await?;
        self.audit(&mut tx, actor, created("user.create", "user", user.id, &user)).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn update_user(&self, actor: &Actor, id: Uuid, patch: UserPatch) -> Result<User> {
        let mut tx = self.store.begin().await?;
        let Some(before) = directory::get_user(&mut tx, id).await? else { return not_found("user", id) };
        let mut after = before.clone();
        after.apply(patch)?;
        directory::update_user(&mut tx, &after).await?;
        self.audit(&mut tx, actor, updated("user.update", "user", id, &before, &after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_user(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = directory::get_user(&mut tx, id).await? else { return not_found("user", id) };
        if actor.id() == Some(id) {
            return Err(AppError::Conflict("you cannot delete your own account".into()));
        }
        if gatehouse_store::assignments::active_count(&mut tx, id).await? > 0 {
            return Err(AppError::Conflict(format!(
                "user '{id}' still holds access package assignments; remove them first"
            )));
        }
        directory::delete_user(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("user.delete", "user", id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_user(&self, id: Uuid) -> Result<User> {
        let mut conn = self.store.conn().await?;
        match directory::get_user(&mut conn, id).await? {
            Some(u) => Ok(u),
            None => not_found("user", id),
        }
    }

    /// The user with exactly this mail address, if any (the admin portal's pickers add people
    /// by address).
    pub async fn find_user_by_mail(&self, mail: &str) -> Result<Option<User>> {
        let mut conn = self.store.conn().await?;
        let Some(id) = directory::find_by_mail(&mut conn, mail).await? else { return Ok(None) };
        Ok(directory::get_user(&mut conn, id).await?)
    }

    pub async fn list_users(&self, scope: Where, q: ListQuery<'_>) -> Result<Page<User>> {
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &directory::USERS, scope, q).await?;
        let mut out = Page::from_rows(page, directory::user_from_row)?;
        for u in &mut out.items {
            directory::load_identities(&mut conn, u).await?;
        }
        Ok(out)
    }

    pub async fn create_group(&self, actor: &Actor, input: NewGroup) -> Result<Group> {
        let group = Group::create(input, crate::new_id(), self.now())?;
        let mut tx = self.store.begin().await?;
        directory::insert_group(&mut tx, &group).await?;
        self.audit(&mut tx, actor, created("group.create", "group", group.id, &group)).await?;
        tx.commit().await?;
        Ok(group)
    }

    pub async fn update_group(&self, actor: &Actor, id: Uuid, patch: GroupPatch) -> Result<Group> {
        let mut tx = self.store.begin().await?;
        let Some(before) = directory::get_group(&mut tx, id).await? else { return not_found("group", id) };
        let mut after = before.clone();
        after.apply(patch)?;
        directory::update_group(&mut tx, &after).await?;
        self.audit(&mut tx, actor, updated("group.update", "group", id, &before, &after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_group(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = directory::get_group(&mut tx, id).await? else { return not_found("group", id) };
        if let Some(catalog) = directory::group_in_catalog(&mut tx, id).await? {
            return Err(AppError::Conflict(format!(
                "group '{}' is a resource in catalog '{catalog}'; remove it from the catalog first",
                before.display_name
            )));
        }
        directory::delete_group(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("group.delete", "group", id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_group(&self, id: Uuid) -> Result<Group> {
        let mut conn = self.store.conn().await?;
        match directory::get_group(&mut conn, id).await? {
            Some(g) => Ok(g),
            None => not_found("group", id),
        }
    }

    pub async fn list_groups(&self, scope: Where, q: ListQuery<'_>) -> Result<Page<Group>> {
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &directory::GROUPS, scope, q).await?;
        Page::from_rows(page, directory::group_from_row)
    }

    /// Adding an existing member is accepted and changes nothing (idempotent, like connectors).
    pub async fn add_group_member(&self, actor: &Actor, group: Uuid, user: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if directory::get_group(&mut tx, group).await?.is_none() {
            return not_found("group", group);
        }
        require_user(&mut tx, user, "@odata.id").await?;
        if directory::add_member(&mut tx, group, user).await? {
            let change = serde_json::json!({"memberId": user});
            self.audit(&mut tx, actor, created("group.addMember", "group", group, &change)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_group_member(&self, actor: &Actor, group: Uuid, user: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if directory::get_group(&mut tx, group).await?.is_none() {
            return not_found("group", group);
        }
        if !directory::remove_member(&mut tx, group, user).await? {
            return not_found("member", user);
        }
        let change = serde_json::json!({"memberId": user});
        self.audit(&mut tx, actor, deleted("group.removeMember", "group", group, &change)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_directory_object(&self, id: Uuid) -> Result<DirectoryObject> {
        let mut conn = self.store.conn().await?;
        if let Some(u) = directory::get_user(&mut conn, id).await? {
            return Ok(DirectoryObject::User(u));
        }
        if let Some(g) = directory::get_group(&mut conn, id).await? {
            return Ok(DirectoryObject::Group(g));
        }
        not_found("directoryObject", id)
    }
}

/// A user named in a request body must exist: 400 (bad input), not 404 (bad path).
pub(crate) async fn require_user(conn: &mut Conn, id: Uuid, target: &str) -> Result<User> {
    directory::get_user(conn, id)
        .await?
        .ok_or_else(|| ValidationError::new(target, format!("user '{id}' does not exist")).into())
}

pub(crate) async fn require_group(conn: &mut Conn, id: Uuid, target: &str) -> Result<Group> {
    directory::get_group(conn, id)
        .await?
        .ok_or_else(|| ValidationError::new(target, format!("group '{id}' does not exist")).into())
}

impl App {
    /// `PUT /users/{id}/manager/$ref` (or `None` to remove): the chain `requestorManager`
    /// approvers follow. Cycles are refused.
    pub async fn set_manager(&self, actor: &Actor, user: Uuid, manager: Option<Uuid>) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = directory::get_user(&mut tx, user).await? else { return not_found("user", user) };
        if let Some(m) = manager {
            require_user(&mut tx, m, "@odata.id").await?;
            let mut current = Some(m);
            for _ in 0..32 {
                match current {
                    Some(c) if c == user => {
                        return Err(ValidationError::new(
                            "@odata.id",
                            "a user cannot be their own manager, directly or up the chain",
                        )
                        .into())
                    }
                    Some(c) => current = directory::get_user(&mut tx, c).await?.and_then(|u| u.manager_id),
                    None => break,
                }
            }
        } else if before.manager_id.is_none() {
            return not_found("manager of user", user);
        }
        let mut after = before.clone();
        after.manager_id = manager;
        directory::update_user(&mut tx, &after).await?;
        let change = |u: &gatehouse_domain::directory::User| serde_json::json!({"managerId": u.manager_id});
        self.audit(&mut tx, actor, updated("user.setManager", "user", user, &change(&before), &change(&after))).await?;
        tx.commit().await?;
        Ok(())
    }
}
