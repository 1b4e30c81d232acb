//! SCIM applications: a person's account (found by `externalId` = their Gatehouse id, then by
//! `userName`; created when absent, a 409 meaning look up and link), membership of the
//! application's groups, and the account deactivated once the person holds nothing else there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use gatehouse_app::delivery::JobError;
use gatehouse_app::App;
use gatehouse_connectors::scim::{Created, ScimClient, ScimUser};
use gatehouse_domain::connection::{Connection, ConnectionSettings, ORIGIN_SCIM_APPLICATION, ORIGIN_SCIM_GROUP};
use gatehouse_domain::provisioning::{Grant, Person};
use gatehouse_store::connections::Account;

use super::people::{person, Records};
use super::{fail_all, job_error, per_person, require, targets, BatchFuture, Change, Connector, PEOPLE_AT_ONCE};

/// A connection's client, and the connection's modification time it was made for.
type Cached = (DateTime<Utc>, Arc<ScimClient>);

pub struct ScimConnector {
    app: App,
    /// One client per connection (it holds the OAuth token), replaced when the connection changes.
    clients: Mutex<HashMap<uuid::Uuid, Cached>>,
}

impl ScimConnector {
    pub fn new(app: App) -> Self {
        ScimConnector { app, clients: Mutex::new(HashMap::new()) }
    }

    pub fn client(&self, c: &Connection) -> Result<Arc<ScimClient>, JobError> {
        let ConnectionSettings::Scim(settings) = &c.settings else {
            return Err(JobError::Permanent(format!("connection '{}' is not a SCIM connection", c.display_name)));
        };
        let mut clients = self.clients.lock().expect("client cache");
        if let Some((modified, client)) = clients.get(&c.id) {
            if *modified == c.modified_date_time {
                return Ok(client.clone());
            }
        }
        let client = Arc::new(ScimClient::new(self.app.http.clone(), settings, &c.secrets).map_err(job_error)?);
        clients.insert(c.id, (c.modified_date_time, client.clone()));
        Ok(client)
    }

    async fn batch(&self, connection: Option<&Connection>, changes: &[Change]) -> Vec<Result<(), JobError>> {
        let prepared = async {
            let c = require(connection)?;
            let records = Records { app: &self.app, connection: c.id };
            let people = records.people(targets(changes)).await?;
            Ok::<_, JobError>((self.client(c)?, records, people))
        };
        let (client, records, people) = match prepared.await {
            Ok(p) => p,
            Err(e) => return fail_all(changes, e),
        };
        let (client, records, people) = (&client, &records, &people);
        per_person(changes, PEOPLE_AT_ONCE, |(_, grant)| async move {
            let person = person(people, grant.target_id)?;
            let one = Scim { client, records };
            if grant.revoke {
                one.revoke(grant, person).await
            } else {
                one.grant(grant, person).await
            }
        })
        .await
    }
}

impl Connector for ScimConnector {
    fn origin_systems(&self) -> &[&'static str] {
        &[ORIGIN_SCIM_GROUP, ORIGIN_SCIM_APPLICATION]
    }

    fn apply_all<'a>(&'a self, connection: Option<&'a Connection>, changes: &'a [Change]) -> BatchFuture<'a> {
        Box::pin(self.batch(connection, changes))
    }
}

/// One connection's client and records, for one change at a time.
pub struct Scim<'a> {
    pub client: &'a ScimClient,
    pub records: &'a Records<'a>,
}

impl Scim<'_> {
    async fn grant(&self, grant: &Grant, person: &Person) -> Result<(), JobError> {
        let account = self.ensure_account(person).await?;
        if grant.origin_system == ORIGIN_SCIM_GROUP {
            self.client.add_member(&grant.resource_origin_id, &account).await.map_err(job_error)?;
        }
        Ok(())
    }

    async fn revoke(&self, grant: &Grant, person: &Person) -> Result<(), JobError> {
        let known = self.records.account(person.id).await?;
        let id = match known.as_ref().and_then(|a| a.external_id.clone()) {
            Some(id) => id,
            None => match self.client.find_user("externalId", &person.id.to_string()).await.map_err(job_error)? {
                Some(u) => u.id,
                // Never had an account there: nothing to take away.
                None => return Ok(()),
            },
        };
        if grant.origin_system == ORIGIN_SCIM_GROUP {
            self.client.remove_member(&grant.resource_origin_id, &id).await.map_err(job_error)?;
        }
        if !self.records.holds_anything_else(person.id, grant.assignment_id).await? {
            // A user deleted in the application meanwhile has nothing left to deactivate.
            self.client.set_active(&id, false).await.map_err(job_error)?;
            if let Some(mut a) = known {
                a.active = false;
                self.records.put(&a).await?;
            }
        }
        Ok(())
    }

    /// The person's active account id: the one on record, else found, else created.
    pub async fn ensure_account(&self, person: &Person) -> Result<String, JobError> {
        if let Some(a) = self.records.account(person.id).await? {
            if let Some(id) = &a.external_id {
                if a.active {
                    return Ok(id.clone());
                }
                if self.client.set_active(id, true).await.map_err(job_error)? {
                    self.records.put(&Account { active: true, ..a.clone() }).await?;
                    return Ok(id.clone());
                }
                // Removed in the application: find or make it again below.
                self.records.forget(person.id).await?;
            }
        }
        // Ours: it carries the person's Gatehouse id.
        if let Some(u) = self.client.find_user("externalId", &person.id.to_string()).await.map_err(job_error)? {
            return self.link(person, u, true).await;
        }
        if let Some(u) = self.client.find_user("userName", &person.user_name).await.map_err(job_error)? {
            return self.link(person, u, false).await;
        }
        // Recorded before the call: a crash after the target made it still knows who did.
        self.records
            .put(&Account { user_id: person.id, external_id: None, created_by_gatehouse: true, active: true })
            .await?;
        match self.client.create_user(person).await.map_err(job_error)? {
            Created::Created(u) => self.link(person, u, true).await,
            Created::Exists => match self.client.find_user("userName", &person.user_name).await.map_err(job_error)? {
                Some(u) => self.link(person, u, false).await,
                None => Err(JobError::Transient(format!(
                    "the SCIM server says '{}' exists but does not find them",
                    person.user_name
                ))),
            },
        }
    }

    async fn link(&self, person: &Person, user: ScimUser, created_by_gatehouse: bool) -> Result<String, JobError> {
        if user.active == Some(false) {
            self.client.set_active(&user.id, true).await.map_err(job_error)?;
        }
        let account =
            Account { user_id: person.id, external_id: Some(user.id.clone()), created_by_gatehouse, active: true };
        self.records.put(&account).await?;
        Ok(user.id)
    }
}
