//! What the My Access pages show of the caller's requests, access and approvals: each object
//! with the names a person reads (package, approvers, requestor and organization, the
//! resources that failed), loaded here so that the pages only render. Every list is limited
//! to the caller by its scope; single objects go through the same visibility checks as the API.

use std::collections::HashMap;

use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::assignment::Assignment;
use gatehouse_domain::enums::ApproverInformationVisibility;
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::request::{AssignmentRequest, Stage, StageStatus};
use gatehouse_store::query::{list_ordered, Where};
use gatehouse_store::{access_packages, assignments, catalogs, connected_organizations, directory, jobs, policies};
use gatehouse_store::{requests, Conn};
use uuid::Uuid;

use crate::delivery::{Grant, PROVISION};
use crate::{not_found, Actor, App, AppError, ListQuery, Result};

/// How many requests the history and the past decisions show.
pub const RECENT: u32 = 100;

/// A resource whose role could not be delivered, and the target system's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedResource {
    pub name: String,
    pub reason: Option<String>,
}

/// A request with what a person needs to read it.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: AssignmentRequest,
    /// `None` once the package is deleted.
    pub package: Option<AccessPackage>,
    /// The policy it was made under (its questions type the answers); `None` once deleted.
    pub policy: Option<AssignmentPolicy>,
    /// Who may decide the open stage, by name; empty when none is open or the policy keeps
    /// approvers from requestors (`approverInformationVisibility: notVisible`).
    pub approvers: Vec<String>,
    /// Per stage: who decided it (`None`: nobody yet, or Gatehouse itself when time ran out;
    /// "an approver" where the policy hides their names).
    pub decided_by: Vec<Option<String>>,
    pub failed_resources: Vec<FailedResource>,
    /// The person the request is for, as approvers see them: name, address, organization.
    pub target_name: String,
    pub target_mail: Option<String>,
    pub target_organization: Option<String>,
}

impl RequestView {
    pub fn package_name(&self) -> &str {
        self.package.as_ref().map_or("a deleted access package", |p| p.display_name.as_str())
    }

    /// The open stage awaiting `user`'s decision, if any.
    pub fn stage_for(&self, user: Uuid) -> Option<&Stage> {
        let i = self.request.current_stage()?;
        let stage = &self.request.stages[i];
        (stage.status == StageStatus::InProgress && stage.current_approvers().contains(&user)).then_some(stage)
    }
}

/// An assignment the caller holds, with its package, policy and resources.
#[derive(Debug, Clone)]
pub struct AssignmentView {
    pub assignment: Assignment,
    pub package: Option<AccessPackage>,
    pub policy: Option<AssignmentPolicy>,
    /// "Cross-Org Team (Member)", one per resource role the package grants.
    pub resources: Vec<String>,
}

impl AssignmentView {
    /// The policy lets the holder ask for more time, and there is an end to move.
    pub fn can_extend(&self) -> bool {
        self.assignment.end_date_time.is_some()
            && self.policy.as_ref().is_some_and(|p| p.requestor_settings.enable_targets_to_self_update_access)
    }

    pub fn extension_needs_approval(&self) -> bool {
        self.policy.as_ref().is_some_and(|p| p.request_approval_settings.is_approval_required_for_update)
    }

    pub fn can_remove(&self) -> bool {
        self.policy.as_ref().is_some_and(|p| p.requestor_settings.enable_targets_to_self_remove_access)
    }
}

/// A user as the pages name them.
#[derive(Clone)]
struct Who {
    name: String,
    mail: Option<String>,
    organization: Option<Uuid>,
}

/// Names, packages and policies already loaded during one page's reads.
#[derive(Default)]
struct Lookups {
    users: HashMap<Uuid, Option<Who>>,
    organizations: HashMap<Uuid, Option<String>>,
    packages: HashMap<Uuid, Option<AccessPackage>>,
    policies: HashMap<Uuid, Option<AssignmentPolicy>>,
}

impl Lookups {
    async fn user(&mut self, conn: &mut Conn, id: Uuid) -> Result<Option<Who>> {
        if let Some(known) = self.users.get(&id) {
            return Ok(known.clone());
        }
        let u = directory::get_user(conn, id).await?;
        let who = u.map(|u| Who { name: u.display_name, mail: u.mail, organization: u.connected_organization_id });
        self.users.insert(id, who.clone());
        Ok(who)
    }

    async fn name(&mut self, conn: &mut Conn, id: Uuid) -> Result<Option<String>> {
        Ok(self.user(conn, id).await?.map(|u| u.name))
    }

    async fn organization(&mut self, conn: &mut Conn, id: Uuid) -> Result<Option<String>> {
        if let Some(known) = self.organizations.get(&id) {
            return Ok(known.clone());
        }
        let name = connected_organizations::get(conn, id).await?.map(|o| o.display_name);
        self.organizations.insert(id, name.clone());
        Ok(name)
    }

    async fn package(&mut self, conn: &mut Conn, id: Uuid) -> Result<Option<AccessPackage>> {
        if let Some(known) = self.packages.get(&id) {
            return Ok(known.clone());
        }
        let p = access_packages::get(conn, id).await?;
        self.packages.insert(id, p.clone());
        Ok(p)
    }

    async fn policy(&mut self, conn: &mut Conn, id: Uuid) -> Result<Option<AssignmentPolicy>> {
        if let Some(known) = self.policies.get(&id) {
            return Ok(known.clone());
        }
        let p = policies::get(conn, id).await?;
        self.policies.insert(id, p.clone());
        Ok(p)
    }

    async fn request(&mut self, conn: &mut Conn, r: AssignmentRequest) -> Result<RequestView> {
        let package = self.package(conn, r.access_package_id).await?;
        let policy = self.policy(conn, r.policy_id).await?;
        // The policy may keep approvers' names from requestors, stage by stage.
        let hidden = |i: usize| {
            policy
                .as_ref()
                .and_then(|p| p.request_approval_settings.stages.get(i))
                .is_some_and(|s| s.approver_information_visibility == ApproverInformationVisibility::NotVisible)
        };
        let mut approvers = Vec::new();
        if let Some(i) = r.current_stage().filter(|i| !hidden(*i)) {
            for id in r.stages[i].current_approvers() {
                approvers.extend(self.name(conn, id).await?);
            }
        }
        let mut decided_by = Vec::with_capacity(r.stages.len());
        for (i, s) in r.stages.iter().enumerate() {
            decided_by.push(match s.decision.as_ref().and_then(|d| d.by) {
                Some(_) if hidden(i) => Some("an approver".to_owned()),
                Some(by) => Some(self.name(conn, by).await?.unwrap_or_else(|| "a former approver".to_owned())),
                None => None,
            });
        }
        let failed_resources = match &package {
            Some(p) if r.failure.is_some() => failed_resources(conn, &r, p.catalog_id).await?,
            _ => Vec::new(),
        };
        let target = match r.target_id {
            Some(id) => self.user(conn, id).await?,
            None => None,
        };
        let (target_name, target_mail, org) = match target {
            Some(who) => (who.name, who.mail, who.organization),
            None => (
                r.target_email.clone().unwrap_or_else(|| "someone no longer in the directory".into()),
                r.target_email.clone(),
                None,
            ),
        };
        let target_organization = match org {
            Some(o) => self.organization(conn, o).await?,
            None => None,
        };
        Ok(RequestView {
            request: r,
            package,
            policy,
            approvers,
            decided_by,
            failed_resources,
            target_name,
            target_mail,
            target_organization,
        })
    }
}

/// The resources behind a request's failed provisioning jobs.
async fn failed_resources(conn: &mut Conn, r: &AssignmentRequest, catalog: Uuid) -> Result<Vec<FailedResource>> {
    let mut out = Vec::new();
    for (payload, reason) in jobs::failed_payloads(conn, r.id, PROVISION).await? {
        let Ok(grant) = serde_json::from_value::<Grant>(payload) else { continue };
        let resource = catalogs::find_resource(conn, catalog, &grant.origin_system, &grant.resource_origin_id).await?;
        let name = match resource {
            Some(res) => format!("{} ({})", res.display_name, grant.role_display_name),
            None => grant.role_display_name.clone(),
        };
        out.push(FailedResource { name, reason });
    }
    Ok(out)
}

/// The caller's id, or why there is none.
fn me(actor: &Actor) -> Result<Uuid> {
    actor.id().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))
}

impl App {
    async fn request_views(&self, scope: Where, newest_first: bool) -> Result<Vec<RequestView>> {
        let mut conn = self.store.conn().await?;
        let q = ListQuery { top: RECENT, ..ListQuery::EXPANDED };
        let order =
            if newest_first { "t.created_date_time DESC, t.id DESC" } else { "t.created_date_time ASC, t.id ASC" };
        let page = list_ordered(&mut conn, &requests::SCHEMA, scope, q, order).await?;
        let mut lookups = Lookups::default();
        let mut out = Vec::with_capacity(page.rows.len());
        for row in &page.rows {
            out.push(lookups.request(&mut conn, requests::from_row(row)?).await?);
        }
        Ok(out)
    }

    /// Request history: the caller's requests (and those about their access, such as its
    /// expiry), newest first.
    pub async fn my_requests(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        self.request_views(requests::targeting(me(actor)?), true).await
    }

    /// One request, for anyone who may see it (`get_request`'s rule).
    pub async fn request_view(&self, actor: &Actor, id: Uuid) -> Result<RequestView> {
        let r = self.get_request(actor, id).await?;
        let mut conn = self.store.conn().await?;
        Lookups::default().request(&mut conn, r).await
    }

    /// Approvals: requests waiting for the caller's decision, oldest first.
    pub async fn approvals_waiting(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        self.request_views(requests::awaiting(me(actor)?), false).await
    }

    /// The caller's past decisions, newest first.
    pub async fn approvals_decided(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        self.request_views(requests::decided_by(me(actor)?), true).await
    }

    /// One approval, for its approvers (current, escalated, or who decided a stage); to
    /// anyone else it does not exist.
    pub async fn approval_view(&self, actor: &Actor, id: Uuid) -> Result<RequestView> {
        let user = me(actor)?;
        let view = self.request_view(actor, id).await.map_err(|e| match e {
            AppError::Forbidden(_) => AppError::NotFound(format!("approval '{id}' was not found")),
            other => other,
        })?;
        let approver = view.request.stages.iter().any(|s| {
            s.approvers.contains(&user)
                || (s.escalated && s.escalation_approvers.contains(&user))
                || s.decision.as_ref().is_some_and(|d| d.by == Some(user))
        });
        if !approver {
            return not_found("approval", id);
        }
        Ok(view)
    }

    /// My access: the caller's active assignments with their resources, newest first.
    pub async fn my_assignments(&self, actor: &Actor) -> Result<Vec<AssignmentView>> {
        let user = me(actor)?;
        let mut conn = self.store.conn().await?;
        let scope = assignments::targeting(user).and_raw("t.state <> 'expired'");
        let q = ListQuery { top: RECENT, ..ListQuery::EXPANDED };
        let page =
            list_ordered(&mut conn, &assignments::SCHEMA, scope, q, "t.created_date_time DESC, t.id DESC").await?;
        let mut lookups = Lookups::default();
        let mut out = Vec::with_capacity(page.rows.len());
        for row in &page.rows {
            let assignment = assignments::from_row(row)?;
            out.push(self.assignment_view_in(&mut conn, &mut lookups, assignment).await?);
        }
        Ok(out)
    }

    /// One of the caller's own assignments (extend and remove act on these only).
    pub async fn my_assignment(&self, actor: &Actor, id: Uuid) -> Result<AssignmentView> {
        let user = me(actor)?;
        let mut conn = self.store.conn().await?;
        match assignments::get(&mut conn, id).await? {
            Some(a) if a.target_id == user => self.assignment_view_in(&mut conn, &mut Lookups::default(), a).await,
            // Someone else's assignment is not the caller's business.
            _ => not_found("assignment", id),
        }
    }

    async fn assignment_view_in(
        &self,
        conn: &mut Conn,
        lookups: &mut Lookups,
        assignment: Assignment,
    ) -> Result<AssignmentView> {
        let package = lookups.package(conn, assignment.access_package_id).await?;
        let policy = lookups.policy(conn, assignment.assignment_policy_id).await?;
        let resources = granted_resource_names(conn, assignment.access_package_id).await?;
        Ok(AssignmentView { assignment, package, policy, resources })
    }
}

/// "Cross-Org Team (Member)" for each resource role a package grants.
pub(crate) async fn granted_resource_names(conn: &mut Conn, package: Uuid) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for rs in access_packages::role_scopes(conn, package).await? {
        let Some(role) = catalogs::get_role(conn, rs.role_id).await? else { continue };
        let name = match catalogs::get_resource(conn, role.resource_id).await? {
            Some(resource) => format!("{} ({})", resource.display_name, role.display_name),
            None => role.display_name,
        };
        out.push(name);
    }
    Ok(out)
}
