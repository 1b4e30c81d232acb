//! A reconciliation run: for each role of the connection that an access package grants, ask
//! the target who holds it, compare with the assignments that explain it
//! (`domain::reconcile::compare`), re-apply missing grants through the connector, and under
//! `enforce` take away what nothing explains. The run's findings and audit records are written
//! by `App::finish_reconciliation`.

use std::collections::HashMap;
use std::sync::Arc;

use gatehouse_app::delivery::{Grant, JobError};
use gatehouse_app::App;
use gatehouse_connectors::ldap::{LdapClient, LdapSession};
use gatehouse_connectors::scim::ScimClient;
use gatehouse_connectors::TargetError;
use gatehouse_domain::connection::{
    Connection, ConnectionSettings, ReconcileMode, ORIGIN_LDAP_GROUP, ORIGIN_SCIM_APPLICATION, ORIGIN_SCIM_GROUP,
};
use gatehouse_domain::reconcile::{compare, Finding, FindingAction, FindingKind, Holder, ReconciliationState, Summary};
use gatehouse_store::connections::{self, GovernedRole};
use gatehouse_store::{directory, jobs::Job};
use uuid::Uuid;

use crate::connectors::Connector;

/// Work one `reconcile` job. A target that cannot be reached fails the run (recorded with its
/// reason), not the job: the next run tries again.
pub async fn run(app: &App, connectors: &[Arc<dyn Connector>], job: &Job) -> Result<(), JobError> {
    let id =
        gatehouse_app::reconciliations::run_of(job).ok_or_else(|| JobError::Permanent("bad reconcile job".into()))?;
    let transient = |e: gatehouse_app::AppError| JobError::Transient(e.to_string());
    let Some(mut reconciliation) = app.reconciliation_to_run(id).await.map_err(transient)? else {
        return Ok(());
    };
    let outcome = match app.connection(reconciliation.connection_id).await {
        Ok(c) => Run { app, connectors, connection: &c, fix: reconciliation.fix, run: id }.all().await,
        Err(e) => Err(e.to_string()),
    };
    let findings = match outcome {
        Ok((summary, findings)) => {
            reconciliation.state = ReconciliationState::Succeeded;
            reconciliation.summary = Some(summary);
            findings
        }
        Err(why) => {
            reconciliation.state = ReconciliationState::Failed;
            reconciliation.error = Some(why);
            vec![]
        }
    };
    app.finish_reconciliation(reconciliation, findings).await.map_err(transient)
}

/// The target's side of one connection.
enum Side {
    Scim(ScimClient),
    Ldap(LdapSession),
}

struct Run<'a> {
    app: &'a App,
    connectors: &'a [Arc<dyn Connector>],
    connection: &'a Connection,
    fix: bool,
    run: Uuid,
}

fn said(e: TargetError) -> String {
    e.message
}

/// Record what a fix came to: `done` (counted) when the target took it, `failed` (counted)
/// with the target's words when it did not.
fn settle(finding: &mut Finding, outcome: Result<(), String>, done: (FindingAction, &mut usize), failed: &mut usize) {
    match outcome {
        Ok(()) => {
            *done.1 += 1;
            finding.action = done.0;
        }
        Err(why) => {
            *failed += 1;
            finding.action = FindingAction::Failed;
            finding.detail = Some(why);
        }
    }
}

fn db(e: gatehouse_store::StoreError) -> String {
    format!("Gatehouse's database: {e}")
}

/// DNs compared as the directory would: case and spaces around separators do not matter.
fn normal_dn(dn: &str) -> String {
    gatehouse_domain::connection::split_dn(dn)
        .iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((a, v)) => format!("{}={}", a.trim().to_lowercase(), v.trim().to_lowercase()),
            None => rdn.trim().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Run<'_> {
    async fn all(&self) -> Result<(Summary, Vec<Finding>), String> {
        let c = self.connection;
        let (roles, accounts) = {
            let mut conn = self.app.store.conn().await.map_err(db)?;
            let roles = connections::governed_roles(&mut conn, c.id).await.map_err(db)?;
            let accounts: HashMap<String, Uuid> = connections::accounts(&mut conn, c.id)
                .await
                .map_err(db)?
                .into_iter()
                .filter_map(|a| {
                    let key = match &c.settings {
                        ConnectionSettings::Ldap(_) => normal_dn(a.external_id.as_deref()?),
                        _ => a.external_id.clone()?,
                    };
                    Some((key, a.user_id))
                })
                .collect();
            (roles, accounts)
        };
        let mut side = match &c.settings {
            ConnectionSettings::Scim(s) => {
                Side::Scim(ScimClient::new(self.app.http.clone(), s, &c.secrets).map_err(said)?)
            }
            ConnectionSettings::Ldap(s) => {
                Side::Ldap(LdapClient::new(s, &c.secrets).map_err(said)?.session().await.map_err(said)?)
            }
            ConnectionSettings::Webhook(_) => return Err("a webhook target cannot say who holds its roles".into()),
        };
        let mut summary = Summary { roles: roles.len(), ..Summary::default() };
        let mut findings = Vec::new();
        let mut outcome = Ok(());
        for role in &roles {
            if let Err(e) = self.role(&mut side, role, &accounts, &mut summary, &mut findings).await {
                outcome = Err(e);
                break;
            }
        }
        if let Side::Ldap(s) = side {
            s.close().await;
        }
        outcome.map(|()| (summary, findings))
    }

    async fn role(
        &self,
        side: &mut Side,
        role: &GovernedRole,
        accounts: &HashMap<String, Uuid>,
        summary: &mut Summary,
        findings: &mut Vec<Finding>,
    ) -> Result<(), String> {
        let explained = {
            let mut conn = self.app.store.conn().await.map_err(db)?;
            connections::explained_holders(
                &mut conn,
                self.connection.id,
                &role.resource_origin_id,
                &role.role_origin_id,
            )
            .await
            .map_err(db)?
        };
        let holders = self.holders(side, role, accounts).await?;
        summary.holders += holders.len();
        let users: Vec<Uuid> = explained.iter().map(|(u, _, _)| *u).collect();
        let drift = compare(&users, &holders);
        let mut conn = self.app.store.conn().await.map_err(db)?;
        for user in drift.missing {
            summary.missing += 1;
            let (_, assignment, request) = explained.iter().find(|(u, _, _)| *u == user).copied().expect("explained");
            let u = directory::get_user(&mut conn, user).await.map_err(db)?;
            let mut finding = self.finding(role, FindingKind::Missing, user.to_string(), u.as_ref());
            if self.fix {
                let grant = Grant {
                    revoke: false,
                    request_id: request.unwrap_or_default(),
                    assignment_id: assignment,
                    target_id: user,
                    origin_system: role.origin_system.clone(),
                    role_origin_id: role.role_origin_id.clone(),
                    resource_origin_id: role.resource_origin_id.clone(),
                    role_display_name: role.role_display_name.clone(),
                    connection_id: Some(self.connection.id),
                };
                let outcome = self.apply(grant).await.map_err(|e| e.message().to_owned());
                let done = (FindingAction::Reapplied, &mut summary.reapplied);
                settle(&mut finding, outcome, done, &mut summary.failed);
            }
            findings.push(finding);
        }
        for holder in drift.unexplained {
            summary.unexplained += 1;
            let u = match holder.user_id {
                Some(id) => directory::get_user(&mut conn, id).await.map_err(db)?,
                None => None,
            };
            let mut finding = self.finding(role, FindingKind::Unexplained, holder.external_id.clone(), u.as_ref());
            finding.holder_display_name =
                u.as_ref().map_or_else(|| holder.display_name.clone(), |u| u.display_name.clone());
            if self.fix && self.connection.reconcile_mode == ReconcileMode::Enforce {
                let outcome = self.remove(side, role, holder).await.map_err(said);
                settle(&mut finding, outcome, (FindingAction::Removed, &mut summary.removed), &mut summary.failed);
            }
            findings.push(finding);
        }
        Ok(())
    }

    fn finding(
        &self,
        role: &GovernedRole,
        kind: FindingKind,
        holder: String,
        user: Option<&gatehouse_domain::directory::User>,
    ) -> Finding {
        Finding {
            id: Uuid::new_v4(),
            reconciliation_id: self.run,
            connection_id: self.connection.id,
            resource_id: Some(role.resource_id),
            resource_display_name: role.resource_display_name.clone(),
            role_origin_id: role.role_origin_id.clone(),
            role_display_name: role.role_display_name.clone(),
            kind,
            holder_display_name: user.map_or_else(|| holder.clone(), |u| u.display_name.clone()),
            holder,
            user_id: user.map(|u| u.id),
            user_type: user.map(|u| u.user_type.to_string()),
            action: FindingAction::Reported,
            detail: None,
            created_date_time: self.app.clock.now(),
        }
    }

    /// Re-apply one grant through the connection's connector, as a delivery would.
    async fn apply(&self, grant: Grant) -> Result<(), JobError> {
        let Some(connector) = crate::connectors::for_origin(self.connectors, &grant.origin_system) else {
            return Err(JobError::Permanent(format!("no connector for origin system '{}'", grant.origin_system)));
        };
        let changes = [(Uuid::new_v4(), grant)];
        connector.apply_all(Some(self.connection), &changes).await.pop().unwrap_or(Ok(()))
    }

    /// Who holds the role in the target, with the Gatehouse user each is when known.
    async fn holders(
        &self,
        side: &mut Side,
        role: &GovernedRole,
        accounts: &HashMap<String, Uuid>,
    ) -> Result<Vec<Holder>, String> {
        let mut conn = self.app.store.conn().await.map_err(db)?;
        let mut out = Vec::new();
        match (side, role.origin_system.as_str()) {
            (Side::Scim(client), ORIGIN_SCIM_GROUP) => {
                let Some(group) = client.get_group(&role.resource_origin_id).await.map_err(said)? else {
                    return Err(format!(
                        "the SCIM group '{}' ({}) no longer exists",
                        role.resource_display_name, role.resource_origin_id
                    ));
                };
                for m in group.members {
                    let mut display_name = m.display.clone().unwrap_or_else(|| m.value.clone());
                    let user = match accounts.get(&m.value) {
                        Some(u) => Some(*u),
                        None => match client.get_user(&m.value).await.map_err(said)? {
                            Some(su) => {
                                display_name = su.user_name.clone();
                                self.recognise(&mut conn, su.external_id.as_deref(), Some(&su.user_name))
                                    .await
                                    .map_err(db)?
                            }
                            None => None,
                        },
                    };
                    out.push(Holder { display_name, external_id: m.value, user_id: user });
                }
            }
            // The application's User role: only accounts of people the directory knows are
            // governed; the application's own accounts (its administrators, service users)
            // are not Gatehouse's to report or remove.
            (Side::Scim(client), ORIGIN_SCIM_APPLICATION) => {
                for su in client.active_users().await.map_err(said)? {
                    let user = match accounts.get(&su.id) {
                        Some(u) => Some(*u),
                        None => self
                            .recognise(&mut conn, su.external_id.as_deref(), Some(&su.user_name))
                            .await
                            .map_err(db)?,
                    };
                    if user.is_some() {
                        out.push(Holder { display_name: su.user_name.clone(), external_id: su.id, user_id: user });
                    }
                }
            }
            (Side::Ldap(session), ORIGIN_LDAP_GROUP) => {
                let Some(group) = session.group(&role.resource_origin_id).await.map_err(said)? else {
                    return Err(format!("the LDAP group '{}' no longer exists", role.resource_origin_id));
                };
                for dn in group.members {
                    let user = match accounts.get(&normal_dn(&dn)) {
                        Some(u) => Some(*u),
                        None => {
                            let mail = session.mail_of(&dn).await.map_err(said)?;
                            self.recognise(&mut conn, None, mail.as_deref()).await.map_err(db)?
                        }
                    };
                    out.push(Holder { display_name: dn.clone(), external_id: dn, user_id: user });
                }
            }
            (_, other) => return Err(format!("origin system '{other}' does not match the connection's kind")),
        }
        Ok(out)
    }

    /// The Gatehouse user a target account is: by an `externalId` that is a user's id, else
    /// by a sign-in name or address that is a user's mail.
    async fn recognise(
        &self,
        conn: &mut gatehouse_store::Conn,
        external_id: Option<&str>,
        name_or_mail: Option<&str>,
    ) -> gatehouse_store::Result<Option<Uuid>> {
        if let Some(id) = external_id.and_then(|e| Uuid::parse_str(e).ok()) {
            if directory::get_user(conn, id).await?.is_some() {
                return Ok(Some(id));
            }
        }
        match name_or_mail.filter(|n| n.contains('@')) {
            Some(m) => directory::find_by_mail(conn, &m.to_lowercase()).await,
            None => Ok(None),
        }
    }

    /// Take an unexplained holder out of the role.
    async fn remove(&self, side: &mut Side, role: &GovernedRole, holder: &Holder) -> Result<(), TargetError> {
        match (side, role.origin_system.as_str()) {
            (Side::Scim(client), ORIGIN_SCIM_GROUP) => {
                client.remove_member(&role.resource_origin_id, &holder.external_id).await
            }
            (Side::Scim(client), _) => client.set_active(&holder.external_id, false).await.map(|_| ()),
            (Side::Ldap(session), _) => session.remove_member(&role.resource_origin_id, &holder.external_id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normal_dn;

    #[test]
    fn dns_compare_without_case_or_spaces() {
        assert_eq!(
            normal_dn("UID=Pat@Fabrikam.example, ou=People,dc=Example,dc=org"),
            "uid=pat@fabrikam.example,ou=people,dc=example,dc=org"
        );
    }
}
