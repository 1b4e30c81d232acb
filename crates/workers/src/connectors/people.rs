//! What remote connectors keep in Gatehouse's database: who the people are, the accounts
//! Gatehouse holds for them in each target, and whether they still hold anything there.

use std::collections::HashMap;

use gatehouse_app::delivery::JobError;
use gatehouse_app::App;
use gatehouse_domain::provisioning::Person;
use gatehouse_store::connections::{self, Account};
use gatehouse_store::{directory, StoreError};
use uuid::Uuid;

fn database(e: StoreError) -> JobError {
    JobError::Transient(format!("Gatehouse's database: {e}"))
}

/// Database access for a connector working on one connection.
pub struct Records<'a> {
    pub app: &'a App,
    pub connection: Uuid,
}

impl Records<'_> {
    /// The people the changes are for.
    pub async fn people(&self, ids: impl IntoIterator<Item = Uuid>) -> Result<HashMap<Uuid, Person>, JobError> {
        let mut conn = self.app.store.conn().await.map_err(database)?;
        let mut out = HashMap::new();
        for id in ids {
            if out.contains_key(&id) {
                continue;
            }
            if let Some(u) = directory::get_user(&mut conn, id).await.map_err(database)? {
                out.insert(id, Person::of(&u));
            }
        }
        Ok(out)
    }

    pub async fn account(&self, user: Uuid) -> Result<Option<Account>, JobError> {
        let mut conn = self.app.store.conn().await.map_err(database)?;
        connections::account(&mut conn, self.connection, user).await.map_err(database)
    }

    pub async fn put(&self, account: &Account) -> Result<(), JobError> {
        let mut tx = self.app.store.begin().await.map_err(database)?;
        connections::put_account(&mut tx, self.connection, account, self.app.clock.now()).await.map_err(database)?;
        tx.commit().await.map_err(database)
    }

    pub async fn forget(&self, user: Uuid) -> Result<(), JobError> {
        let mut tx = self.app.store.begin().await.map_err(database)?;
        connections::forget_account(&mut tx, self.connection, user).await.map_err(database)?;
        tx.commit().await.map_err(database)
    }

    /// Whether the person holds any other role in this connection (through an assignment other
    /// than `except`): if not, their account there has nothing left to do.
    pub async fn holds_anything_else(&self, user: Uuid, except: Uuid) -> Result<bool, JobError> {
        let mut conn = self.app.store.conn().await.map_err(database)?;
        connections::holds_anything_else(&mut conn, self.connection, user, except).await.map_err(database)
    }
}

/// The person a change is for, or why the change cannot be made.
pub fn person(people: &HashMap<Uuid, Person>, id: Uuid) -> Result<&Person, JobError> {
    people.get(&id).ok_or_else(|| JobError::Permanent(format!("user '{id}' no longer exists in the directory")))
}
