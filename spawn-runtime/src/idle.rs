//! Dedicated connections kept open between the tenants of one
//! [`Migrator::run_tenants`](crate::Migrator::run_tenants): a tenant's run takes one that an
//! earlier tenant's run finished with, instead of opening a new one (a new backend, and
//! authentication, per tenant). A connection goes back only after a clean run, once
//! `DISCARD ALL` has reset its session (settings, prepared statements, temporary tables,
//! advisory locks, so the tenant's lock too); after a failure it is closed instead. The
//! next tenant sets its own `search_path` on it.

use std::sync::{Arc, Mutex, PoisonError};

use sqlx::{Connection, PgConnection};

/// Connections finished with by earlier runs, shared by the runs of one `run_tenants`.
#[derive(Clone, Default)]
pub(crate) struct IdleConnections(Arc<Mutex<Vec<PgConnection>>>);

impl std::fmt::Debug for IdleConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle = self.0.lock().map_or(0, |v| v.len());
        f.debug_struct("IdleConnections")
            .field("idle", &idle)
            .finish()
    }
}

impl IdleConnections {
    /// An idle connection, if there is one.
    pub fn take(&self) -> Option<PgConnection> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }

    /// Keeps `conn` (whose session was reset) for the next run.
    pub fn put(&self, conn: PgConnection) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
    }

    /// Closes every idle connection.
    pub async fn close_all(&self) {
        let idle: Vec<PgConnection> =
            std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for conn in idle {
            // Graceful Terminate; a connection already gone is closed all the same.
            let _ = conn.close().await;
        }
    }
}
