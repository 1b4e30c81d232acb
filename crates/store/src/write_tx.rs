//! [`WriteTx`]: the one way to write. It wraps a database transaction and adds two things the
//! raw transaction cannot give:
//!
//! - On SQLite, an in-process write gate. SQLite allows one writer at a time; without the gate,
//!   concurrent writers spin in SQLite's busy handler (sleeping 1 ms, 2 ms, 5 ms, …) and
//!   throughput collapses. With it they queue on a fair async mutex and never touch the busy
//!   handler (which still covers other processes, such as the CLI).
//! - Audit records collected during the transaction and appended to the hash chain just before
//!   commit. The chain head is a single locked row; taking it last keeps the time any writer
//!   holds it to a few statements, instead of the whole transaction.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use gatehouse_domain::audit::AuditRecord;
use sqlx::{AnyConnection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::Result;

/// A write transaction. Dereferences to the connection, so every store function that takes
/// `&mut Conn` takes `&mut tx` too.
pub struct WriteTx {
    tx: Transaction<'static, sqlx::Any>,
    audit: Vec<AuditRecord>,
    // Dropped after `tx` (fields drop in order), so the gate opens only once the transaction
    // has committed or rolled back.
    _gate: Option<OwnedMutexGuard<()>>,
}

/// SQLite's single-writer gate; `None` on PostgreSQL, where row locks do this job.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gate(Option<Arc<Mutex<()>>>);

impl Gate {
    pub(crate) fn sqlite() -> Gate {
        Gate(Some(Arc::new(Mutex::new(()))))
    }

    pub(crate) async fn enter(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.0 {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        }
    }
}

impl WriteTx {
    pub(crate) fn new(tx: Transaction<'static, sqlx::Any>, gate: Option<OwnedMutexGuard<()>>) -> WriteTx {
        WriteTx { tx, audit: Vec::new(), _gate: gate }
    }

    /// Record an audit entry; it is chained and written when the transaction commits, and
    /// never if it rolls back.
    pub fn audit(&mut self, record: AuditRecord) {
        self.audit.push(record);
    }

    /// Append the collected audit records to the chain, then commit everything at once.
    pub async fn commit(mut self) -> Result<()> {
        if !self.audit.is_empty() {
            let records = std::mem::take(&mut self.audit);
            crate::audit::append_all(&mut self.tx, &records).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
