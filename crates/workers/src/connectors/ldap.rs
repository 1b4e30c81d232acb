//! LDAP groups: a person's entry (found under the people base by mail or name; for guests
//! created as an inetOrgPerson when absent), `member` added and removed, and the entry deleted
//! once the person holds nothing else there — only an entry Gatehouse made, never another.

use gatehouse_app::delivery::JobError;
use gatehouse_app::App;
use gatehouse_connectors::ldap::{LdapClient, LdapSession};
use gatehouse_domain::connection::{Connection, ConnectionSettings, ORIGIN_LDAP_GROUP};
use gatehouse_domain::provisioning::{Grant, Person};
use gatehouse_store::connections::Account;

use super::people::{person, Records};
use super::{fail_all, job_error, per_person, require, targets, BatchFuture, Change, Connector, PEOPLE_AT_ONCE};

pub struct LdapConnector {
    app: App,
}

impl LdapConnector {
    pub fn new(app: App) -> Self {
        LdapConnector { app }
    }

    async fn batch(&self, connection: Option<&Connection>, changes: &[Change]) -> Vec<Result<(), JobError>> {
        let prepared = async {
            let c = require(connection)?;
            let ConnectionSettings::Ldap(settings) = &c.settings else {
                return Err(JobError::Permanent(format!("connection '{}' is not an LDAP connection", c.display_name)));
            };
            let records = Records { app: &self.app, connection: c.id };
            let people = records.people(targets(changes)).await?;
            // One bound session for the whole batch.
            let session =
                LdapClient::new(settings, &c.secrets).map_err(job_error)?.session().await.map_err(job_error)?;
            Ok::<_, JobError>((session, records, people))
        };
        let (session, records, people) = match prepared.await {
            Ok(p) => p,
            Err(e) => return fail_all(changes, e),
        };
        // One bound connection; each person's changes on a handle of their own (LDAP answers
        // operations on one connection as they finish).
        let (shared, records, people) = (&session, &records, &people);
        let out = per_person(changes, PEOPLE_AT_ONCE, |(_, grant)| async move {
            let person = person(people, grant.target_id)?;
            let mut s = shared.clone();
            let mut one = Ldap { session: &mut s, records };
            if grant.revoke {
                one.revoke(grant, person).await
            } else {
                one.grant(grant, person).await
            }
        })
        .await;
        session.close().await;
        out
    }
}

impl Connector for LdapConnector {
    fn origin_systems(&self) -> &[&'static str] {
        &[ORIGIN_LDAP_GROUP]
    }

    fn apply_all<'a>(&'a self, connection: Option<&'a Connection>, changes: &'a [Change]) -> BatchFuture<'a> {
        Box::pin(self.batch(connection, changes))
    }
}

pub struct Ldap<'a> {
    pub session: &'a mut LdapSession,
    pub records: &'a Records<'a>,
}

impl Ldap<'_> {
    async fn grant(&mut self, grant: &Grant, person: &Person) -> Result<(), JobError> {
        let dn = self.ensure_entry(person).await?;
        self.session.add_member(&grant.resource_origin_id, &dn).await.map_err(job_error)
    }

    async fn revoke(&mut self, grant: &Grant, person: &Person) -> Result<(), JobError> {
        let known = self.records.account(person.id).await?;
        let dn = match known.as_ref().and_then(|a| a.external_id.clone()) {
            Some(dn) => dn,
            None => match self.session.find_person(person).await.map_err(job_error)? {
                Some(dn) => dn,
                None => return Ok(()),
            },
        };
        self.session.remove_member(&grant.resource_origin_id, &dn).await.map_err(job_error)?;
        if let Some(a) = known.filter(|a| a.created_by_gatehouse) {
            if !self.records.holds_anything_else(person.id, grant.assignment_id).await? {
                self.session.delete(&dn).await.map_err(job_error)?;
                self.records.forget(a.user_id).await?;
            }
        }
        Ok(())
    }

    /// The DN of the person's entry: on record (and still there), found, or made for a guest.
    pub async fn ensure_entry(&mut self, person: &Person) -> Result<String, JobError> {
        let known = self.records.account(person.id).await?;
        if let Some(a) = &known {
            match &a.external_id {
                Some(dn) if self.session.exists(dn).await.map_err(job_error)? => return Ok(dn.clone()),
                // Intended but unconfirmed (a crash between asking and recording): ours if there.
                None if a.created_by_gatehouse => {
                    let dn = self.session.person_dn(person);
                    if self.session.exists(&dn).await.map_err(job_error)? {
                        self.records.put(&Account { external_id: Some(dn.clone()), ..a.clone() }).await?;
                        return Ok(dn);
                    }
                }
                _ => {}
            }
        }
        if let Some(dn) = self.session.find_person(person).await.map_err(job_error)? {
            // Found without a record of ours: someone else's entry, never deleted by Gatehouse.
            let mine = known.as_ref().is_some_and(|a| a.created_by_gatehouse && a.external_id.as_deref() == Some(&dn));
            let account =
                Account { user_id: person.id, external_id: Some(dn.clone()), created_by_gatehouse: mine, active: true };
            self.records.put(&account).await?;
            return Ok(dn);
        }
        if !person.guest {
            return Err(JobError::Permanent(format!(
                "'{}' has no entry in the directory's people; Gatehouse creates entries for guests only",
                person.user_name
            )));
        }
        let intent = Account { user_id: person.id, external_id: None, created_by_gatehouse: true, active: true };
        self.records.put(&intent).await?;
        let dn = self.session.create_person(person).await.map_err(job_error)?;
        self.records.put(&Account { external_id: Some(dn.clone()), ..intent }).await?;
        Ok(dn)
    }
}
