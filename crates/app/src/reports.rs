//! Who holds what, for the admin portal's reports: each active assignment the caller may
//! read, with the person, their organization, the policy and request that explain it, and the
//! resource roles it grants; and what a given person could request. Read-only; the lists are
//! restricted to the caller's reach like the API's.

use std::collections::HashMap;

use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::assignment::Assignment;
use gatehouse_domain::enums::AssignmentState;
use gatehouse_domain::evaluation::{self, Purpose};
use gatehouse_store::query::Where;
use gatehouse_store::{directory, requestable};
use uuid::Uuid;

use crate::{Actor, App, ListQuery, Result};

/// One active assignment, with everything that explains it.
#[derive(Debug, Clone)]
pub struct Holding {
    pub assignment: Assignment,
    pub package: String,
    pub person: String,
    pub mail: String,
    pub organization: Option<String>,
    pub policy: String,
    /// "Cross-Org Team (Member)", one per granted role.
    pub resources: Vec<String>,
}

impl Holding {
    pub fn active(a: &Assignment) -> bool {
        matches!(
            a.state,
            AssignmentState::Delivered | AssignmentState::Delivering | AssignmentState::PartiallyDelivered
        )
    }
}

impl App {
    /// Active assignments in `scope` that the caller may read, explained.
    pub async fn holdings(&self, actor: &Actor, scope: Where) -> Result<Vec<Holding>> {
        let assignments = self.list_assignments_in_reach(actor, scope, ListQuery::EXPANDED).await?.items;
        let mut packages: HashMap<Uuid, (String, Vec<String>)> = HashMap::new();
        let mut policies: HashMap<Uuid, String> = HashMap::new();
        let mut people: HashMap<Uuid, (String, String, Option<String>)> = HashMap::new();
        let mut orgs: HashMap<Uuid, String> = HashMap::new();
        let mut out = Vec::new();
        for a in assignments.into_iter().filter(Holding::active) {
            if !packages.contains_key(&a.access_package_id) {
                let p = self.get_package(actor, a.access_package_id).await?;
                let mut resources = Vec::new();
                for g in self.granted_roles(actor, p.id).await? {
                    let r = self.get_resource(actor, p.catalog_id, g.role.resource_id).await?;
                    resources.push(format!("{} ({})", r.display_name, g.role.display_name));
                }
                packages.insert(p.id, (p.display_name, resources));
            }
            if let std::collections::hash_map::Entry::Vacant(e) = policies.entry(a.assignment_policy_id) {
                let name = match self.get_policy(actor, a.assignment_policy_id).await {
                    Ok(p) => p.display_name,
                    Err(_) => "(deleted policy)".into(),
                };
                e.insert(name);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = people.entry(a.target_id) {
                e.insert(self.person_of(a.target_id, &mut orgs).await);
            }
            let (package, resources) = packages[&a.access_package_id].clone();
            let (person, mail, organization) = people[&a.target_id].clone();
            out.push(Holding {
                package,
                person,
                mail,
                organization,
                policy: policies[&a.assignment_policy_id].clone(),
                resources,
                assignment: a,
            });
        }
        Ok(out)
    }

    /// A holder's name, address and organization's name (organization names cached in `orgs`).
    async fn person_of(&self, id: Uuid, orgs: &mut HashMap<Uuid, String>) -> (String, String, Option<String>) {
        let Ok(u) = self.get_user(id).await else { return (id.to_string(), String::new(), None) };
        let org = match u.connected_organization_id {
            Some(o) => match orgs.get(&o) {
                Some(name) => Some(name.clone()),
                None => {
                    let name = self.get_connected_organization(o).await.map(|o| o.display_name).ok();
                    if let Some(n) = &name {
                        orgs.insert(o, n.clone());
                    }
                    name
                }
            },
            None => None,
        };
        (u.display_name, u.mail.unwrap_or_default(), org)
    }

    /// The packages `user` could find and request in My Access now (hidden ones are left out,
    /// as there), among those the caller may read.
    pub async fn requestable_by(&self, actor: &Actor, user: Uuid) -> Result<Vec<AccessPackage>> {
        let mut conn = self.store.conn().await?;
        let Some(person) = directory::get_user(&mut conn, user).await? else {
            return crate::not_found("user", user);
        };
        let subject = crate::requests::subject_of(&mut conn, &person).await?;
        let candidates = requestable::candidates(&mut conn, &subject.policy_reach(), None).await?;
        drop(conn);
        let mut out = Vec::new();
        for c in candidates {
            if evaluation::admitting_policies(&subject, &c.catalog, &c.policies, Purpose::SelfAdd).is_empty() {
                continue;
            }
            if self.get_package(actor, c.package.id).await.is_ok() {
                out.push(c.package);
            }
        }
        Ok(out)
    }
}
