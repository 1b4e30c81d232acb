//! Connected organizations and their sponsors.

use gatehouse_domain::connected_organization::{
    ConnectedOrganization, ConnectedOrganizationPatch, IdentitySource, NewConnectedOrganization, SponsorKind,
};
use gatehouse_domain::directory::User;
use gatehouse_domain::enums::UserType;
use gatehouse_domain::ValidationError;
use gatehouse_store::query::Where;
use gatehouse_store::{connected_organizations as orgs, policies, Conn};
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::directory::require_user;
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// One domain belongs to at most one organization: say which one already has it.
async fn check_domains(conn: &mut Conn, org: &ConnectedOrganization) -> Result<()> {
    for domain in org.domains() {
        if let Some((_, owner)) = orgs::domain_owner(conn, domain, Some(org.id)).await? {
            return Err(AppError::Conflict(format!(
                "domain '{domain}' already belongs to connected organization '{owner}'"
            )));
        }
    }
    Ok(())
}

/// The client secret is write-only, so a client that read the organization and PATCHes its
/// identity sources back cannot send it: an OIDC source that keeps its domain, issuer and
/// client id keeps its secret unless a new one is given.
async fn keep_client_secrets(
    conn: &mut Conn,
    before: &ConnectedOrganization,
    after: &mut ConnectedOrganization,
) -> Result<()> {
    for source in &mut after.identity_sources {
        let IdentitySource::Oidc { domain_name, issuer_uri, client_id, client_secret, .. } = source else { continue };
        if client_secret.is_some() || client_id.is_none() {
            continue;
        }
        let unchanged = before.identity_sources.iter().any(|old| {
            matches!(old, IdentitySource::Oidc { domain_name: d, issuer_uri: i, client_id: c, .. }
                if d == domain_name && i == issuer_uri && c == client_id)
        });
        if unchanged {
            *client_secret = orgs::oidc_client_secret(conn, before.id, domain_name).await?;
        }
    }
    Ok(())
}

/// Internal sponsors are the host's members, external sponsors guests (seed 003: the anchor
/// product offers members as external sponsors).
pub fn check_sponsor_kind(kind: SponsorKind, u: &User, field: &str) -> Result<()> {
    let why = match (kind, u.user_type) {
        (SponsorKind::Internal, UserType::Guest) => {
            format!("'{}' is a guest; internal sponsors must be members of the host organization", u.display_name)
        }
        (SponsorKind::External, UserType::Member) => {
            format!("'{}' is a member; external sponsors must be guest users", u.display_name)
        }
        _ => return Ok(()),
    };
    Err(ValidationError::new(field, why).into())
}

impl App {
    pub async fn create_connected_organization(
        &self,
        actor: &Actor,
        input: NewConnectedOrganization,
    ) -> Result<ConnectedOrganization> {
        let org = ConnectedOrganization::create(input, crate::new_id(), self.now())?;
        let mut tx = self.store.begin().await?;
        check_domains(&mut tx, &org).await?;
        orgs::insert(&mut tx, &org).await?;
        self.audit(&mut tx, actor, created("connectedOrganization.create", "connectedOrganization", org.id, &org))
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn update_connected_organization(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: ConnectedOrganizationPatch,
    ) -> Result<ConnectedOrganization> {
        let mut tx = self.store.begin().await?;
        let after = self.update_in(&mut tx, actor, id, patch).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_connected_organization(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = orgs::get(&mut tx, id).await? else { return not_found("connectedOrganization", id) };
        let naming = policies::naming_organization(&mut tx, id).await?;
        if !naming.is_empty() {
            return Err(AppError::Conflict(format!(
                "connected organization '{}' is named by assignment policies: {}; change them first",
                before.display_name,
                naming.join(", ")
            )));
        }
        orgs::delete(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("connectedOrganization.delete", "connectedOrganization", id, &before))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_connected_organization(&self, id: Uuid) -> Result<ConnectedOrganization> {
        let mut conn = self.store.conn().await?;
        match orgs::get(&mut conn, id).await? {
            Some(o) => Ok(o),
            None => not_found("connectedOrganization", id),
        }
    }

    pub async fn list_connected_organizations(&self, q: ListQuery<'_>) -> Result<Page<ConnectedOrganization>> {
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &orgs::SCHEMA, Where::new(), q).await?;
        Page::from_rows(page, orgs::from_row)
    }

    /// Internal sponsors are members of the host; external sponsors are guests already in the directory.
    pub async fn add_sponsor(&self, actor: &Actor, org: Uuid, kind: SponsorKind, user: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(o) = orgs::get(&mut tx, org).await? else { return not_found("connectedOrganization", org) };
        self.add_sponsor_in(&mut tx, actor, &o, kind, user, "@odata.id").await?;
        tx.commit().await?;
        Ok(())
    }

    /// The admin portal's wizard: the organization and its sponsors in one transaction, so a
    /// refused sponsor leaves no organization behind. Each sponsor list's errors name its field
    /// (`internalSponsors`, `externalSponsors`).
    pub async fn create_connected_organization_with_sponsors(
        &self,
        actor: &Actor,
        input: NewConnectedOrganization,
        internal: &[Uuid],
        external: &[Uuid],
    ) -> Result<ConnectedOrganization> {
        let org = ConnectedOrganization::create(input, crate::new_id(), self.now())?;
        let mut tx = self.store.begin().await?;
        check_domains(&mut tx, &org).await?;
        orgs::insert(&mut tx, &org).await?;
        self.audit(&mut tx, actor, created("connectedOrganization.create", "connectedOrganization", org.id, &org))
            .await?;
        for (kind, users, field) in [
            (SponsorKind::Internal, internal, "internalSponsors"),
            (SponsorKind::External, external, "externalSponsors"),
        ] {
            for user in users {
                self.add_sponsor_in(&mut tx, actor, &org, kind, *user, field).await?;
            }
        }
        tx.commit().await?;
        Ok(org)
    }

    /// The admin portal's edit: properties, domains and both sponsor lists in one transaction;
    /// sponsors are set to exactly the lists given (added and removed as needed, each audited).
    pub async fn update_connected_organization_with_sponsors(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: ConnectedOrganizationPatch,
        internal: &[Uuid],
        external: &[Uuid],
    ) -> Result<ConnectedOrganization> {
        let mut tx = self.store.begin().await?;
        let after = self.update_in(&mut tx, actor, id, patch).await?;
        for (kind, wanted, field) in [
            (SponsorKind::Internal, internal, "internalSponsors"),
            (SponsorKind::External, external, "externalSponsors"),
        ] {
            let now: Vec<Uuid> = gatehouse_store::query::list(
                &mut tx,
                &gatehouse_store::directory::USERS,
                orgs::sponsors_scope(id, kind),
                ListQuery::EXPANDED,
            )
            .await?
            .rows
            .iter()
            .map(|r| gatehouse_store::rows::uuid(r, "id"))
            .collect::<std::result::Result<_, _>>()?;
            for user in now.iter().filter(|u| !wanted.contains(u)) {
                orgs::remove_sponsor(&mut tx, id, kind, *user).await?;
                let change = serde_json::json!({"sponsorKind": kind.as_str(), "userId": user});
                self.audit(
                    &mut tx,
                    actor,
                    deleted("connectedOrganization.removeSponsor", "connectedOrganization", id, &change),
                )
                .await?;
            }
            for user in wanted.iter().filter(|u| !now.contains(u)) {
                self.add_sponsor_in(&mut tx, actor, &after, kind, *user, field).await?;
            }
        }
        tx.commit().await?;
        Ok(after)
    }

    /// The update inside the caller's transaction: the patch applied, client secrets kept,
    /// domains checked, written and audited.
    async fn update_in(
        &self,
        tx: &mut gatehouse_store::WriteTx,
        actor: &Actor,
        id: Uuid,
        patch: ConnectedOrganizationPatch,
    ) -> Result<ConnectedOrganization> {
        let Some(before) = orgs::get(tx, id).await? else { return not_found("connectedOrganization", id) };
        let mut after = before.clone();
        after.apply(patch, self.now())?;
        keep_client_secrets(tx, &before, &mut after).await?;
        check_domains(tx, &after).await?;
        orgs::update(tx, &after).await?;
        self.audit(tx, actor, updated("connectedOrganization.update", "connectedOrganization", id, &before, &after))
            .await?;
        Ok(after)
    }

    /// Names of the policies that name this organization (it cannot be deleted under them).
    pub async fn policies_naming_organization(&self, id: Uuid) -> Result<Vec<String>> {
        let mut conn = self.store.conn().await?;
        Ok(policies::naming_organization(&mut conn, id).await?)
    }

    /// Which organization already has `domain`, if any (the wizard says so as the domain is
    /// added; creating checks again in its transaction).
    pub async fn domain_owner(&self, domain: &str) -> Result<Option<String>> {
        let mut conn = self.store.conn().await?;
        Ok(orgs::domain_owner(&mut conn, domain, None).await?.map(|(_, name)| name))
    }

    async fn add_sponsor_in(
        &self,
        tx: &mut gatehouse_store::WriteTx,
        actor: &Actor,
        o: &ConnectedOrganization,
        kind: SponsorKind,
        user: Uuid,
        field: &str,
    ) -> Result<()> {
        let u = require_user(tx, user, field).await?;
        check_sponsor_kind(kind, &u, field)?;
        if orgs::add_sponsor(tx, o.id, kind, user).await? {
            let change =
                serde_json::json!({"sponsorKind": kind.as_str(), "userId": user, "organization": o.display_name});
            self.audit(tx, actor, created("connectedOrganization.addSponsor", "connectedOrganization", o.id, &change))
                .await?;
        }
        Ok(())
    }

    pub async fn remove_sponsor(&self, actor: &Actor, org: Uuid, kind: SponsorKind, user: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if orgs::get(&mut tx, org).await?.is_none() {
            return not_found("connectedOrganization", org);
        }
        if !orgs::remove_sponsor(&mut tx, org, kind, user).await? {
            return not_found(&format!("{} sponsor", kind.as_str()), user);
        }
        let change = serde_json::json!({"sponsorKind": kind.as_str(), "userId": user});
        self.audit(
            &mut tx,
            actor,
            deleted("connectedOrganization.removeSponsor", "connectedOrganization", org, &change),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_sponsors(
        &self,
        org: Uuid,
        kind: SponsorKind,
        q: ListQuery<'_>,
    ) -> Result<Page<gatehouse_domain::directory::User>> {
        self.get_connected_organization(org).await?;
        self.list_users(orgs::sponsors_scope(org, kind), q).await
    }
}
