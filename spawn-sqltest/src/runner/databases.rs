//! The databases a run creates on the server: the migrated template and the clones tests
//! run in. Every name starts with `spawn_test_`, so a run's leftovers are recognisable, and
//! every statement goes through one admin connection to the maintenance database.

use crate::message::ServerMessage;
use crate::wire::{ConnectTarget, Connection, QueryEvent};

use super::RunError;

/// The maintenance connection of a run.
pub struct Admin {
    conn: Connection,
}

impl Admin {
    /// Connects to `target` (the maintenance database).
    pub async fn connect(target: &ConnectTarget) -> Result<Self, RunError> {
        let conn = Connection::connect(target)
            .await
            .map_err(|source| RunError::Wire {
                test: format!("(the maintenance connection to {})", target.endpoint()),
                source,
            })?;
        Ok(Self { conn })
    }

    /// Runs `sql`; its rows (text values), or the server's error described as `doing`.
    async fn query(
        &mut self,
        sql: &str,
        doing: &str,
    ) -> Result<Vec<Vec<Option<String>>>, RunError> {
        let events = self
            .conn
            .simple_query(sql)
            .await
            .map_err(|source| RunError::Wire {
                test: format!("({doing})"),
                source,
            })?;
        let mut rows = Vec::new();
        for event in events {
            match event {
                QueryEvent::DataRow(row) => rows.push(row),
                QueryEvent::Error(e) => return Err(RunError::from_server(doing, e)),
                _ => {}
            }
        }
        Ok(rows)
    }

    /// Runs `sql` (no results), describing the failure as `doing`.
    pub async fn execute(&mut self, sql: &str, doing: &str) -> Result<(), RunError> {
        self.query(sql, doing).await.map(drop)
    }

    /// The comment on database `name`, `None` when it does not exist; `Some("")` when it has
    /// no comment.
    pub async fn database_comment(&mut self, name: &str) -> Result<Option<String>, RunError> {
        let rows = self
            .query(
                &format!(
                    "SELECT coalesce(pg_catalog.shobj_description(oid, 'pg_database'), '') \
                     FROM pg_catalog.pg_database WHERE datname = {}",
                    quote_literal(name)
                ),
                "reading the template's fingerprint",
            )
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|row| row.into_iter().next().flatten().unwrap_or_default()))
    }

    /// Creates database `name` as a copy of `template`. PostgreSQL refuses while another
    /// session is connected to the template (after waiting 5 s for it to leave): a template
    /// takes no connections between runs and the caller holds its lock, so such a session
    /// is a leftover (a backend still exiting, autovacuum) and is ended before trying again,
    /// twice at most.
    pub async fn create_database(&mut self, name: &str, template: &str) -> Result<(), RunError> {
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(name),
            quote_ident(template)
        );
        let doing = format!("creating database {name} from {template}");
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.execute(&sql, &doing).await {
                Err(RunError::Server { code, .. }) if code == "55006" && attempts < 3 => {
                    tracing::debug!(template, "the template is in use; ending its sessions");
                    self.execute(
                        &format!(
                            "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
                             WHERE datname = {} AND pid <> pg_catalog.pg_backend_pid()",
                            quote_literal(template)
                        ),
                        &format!("ending the sessions connected to the template {template}"),
                    )
                    .await?;
                }
                other => return other,
            }
        }
    }

    /// Drops database `name` if it exists, ending its sessions (a template, which takes no
    /// connections, is made to take them first: PostgreSQL refuses to drop it otherwise).
    pub async fn drop_database(&mut self, name: &str) -> Result<(), RunError> {
        let ident = quote_ident(name);
        self.execute(
            &format!(
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = {literal} AND NOT datallowconn) \
                 THEN EXECUTE 'ALTER DATABASE {escaped} WITH ALLOW_CONNECTIONS true'; END IF; END $$",
                literal = quote_literal(name),
                escaped = ident.replace('\'', "''"),
            ),
            &format!("dropping database {name}"),
        )
        .await?;
        self.execute(
            &format!("DROP DATABASE IF EXISTS {ident} WITH (FORCE)"),
            &format!("dropping database {name}"),
        )
        .await
    }

    /// Takes (waiting) the advisory lock of template `name` for this session: one run at a
    /// time builds, uses and copies a template.
    pub async fn lock_template(&mut self, name: &str) -> Result<(), RunError> {
        self.execute(
            &format!(
                "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext({}))",
                quote_literal(name)
            ),
            "waiting for another spawn test run using the same template",
        )
        .await
    }

    /// Whether database `name` takes connections (a template takes none between runs).
    pub async fn allow_connections(&mut self, name: &str, allow: bool) -> Result<(), RunError> {
        self.execute(
            &format!(
                "ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}",
                quote_ident(name)
            ),
            &format!("letting the template {name} take connections ({allow})"),
        )
        .await
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

impl RunError {
    /// The server refused what the run was `doing`.
    fn from_server(doing: &str, e: ServerMessage) -> Self {
        RunError::Server {
            doing: doing.to_owned(),
            code: e.code,
            message: e.message,
        }
    }
}

/// `name` as a double-quoted SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a single-quoted SQL literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
