//! The databases a run creates on the server: the migrated template and the clones tests
//! run in. Every name starts with `spawn_test_`, so a run's leftovers are recognisable, and
//! every statement goes through one admin connection (sqlx) to the maintenance database.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use super::RunError;

/// The maintenance connection of a run.
pub struct Admin {
    conn: PgConnection,
    options: PgConnectOptions,
}

impl Admin {
    /// Connects to `options`' database (the maintenance database, e.g. `postgres`).
    pub async fn connect(options: &PgConnectOptions) -> Result<Self, RunError> {
        let options = options.clone().disable_statement_logging();
        let conn = PgConnection::connect_with(&options)
            .await
            .map_err(|source| RunError::Admin {
                doing: format!(
                    "connecting to {}:{} as {}",
                    options.get_host(),
                    options.get_port(),
                    options.get_username()
                ),
                source,
            })?;
        Ok(Self { conn, options })
    }

    /// The options of a connection to `database` on the same server.
    pub fn options(&self, database: &str) -> PgConnectOptions {
        self.options.clone().database(database)
    }

    /// Runs `sql` (no results), describing the failure as `doing`.
    pub async fn execute(&mut self, sql: &str, doing: &str) -> Result<(), RunError> {
        sqlx::raw_sql(sql)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(|source| RunError::from_admin(doing, source))
    }

    /// The comment on database `name`, `None` when it does not exist; `Some("")` when it has
    /// no comment.
    pub async fn database_comment(&mut self, name: &str) -> Result<Option<String>, RunError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database WHERE datname = $1",
        )
        .bind(name)
        .fetch_optional(&mut self.conn)
        .await
        .map_err(|source| RunError::from_admin("reading the template's fingerprint", source))?;
        Ok(row.map(|(comment,)| comment.unwrap_or_default()))
    }

    /// Creates database `name` as a copy of `template`.
    pub async fn create_database(&mut self, name: &str, template: &str) -> Result<(), RunError> {
        self.execute(
            &format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(name),
                quote_ident(template)
            ),
            &format!("creating database {name} from {template}"),
        )
        .await
    }

    /// Drops database `name` if it exists, ending its sessions.
    pub async fn drop_database(&mut self, name: &str) -> Result<(), RunError> {
        self.execute(
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name)),
            &format!("dropping database {name}"),
        )
        .await
    }

    /// Takes (waiting) the advisory lock that serialises template builds on this server.
    pub async fn lock_templates(&mut self) -> Result<(), RunError> {
        self.execute(
            "SELECT pg_catalog.pg_advisory_lock(hashtext('spawn test templates'))",
            "waiting for another run building the test template",
        )
        .await
    }

    /// Releases [`Admin::lock_templates`].
    pub async fn unlock_templates(&mut self) -> Result<(), RunError> {
        self.execute(
            "SELECT pg_catalog.pg_advisory_unlock(hashtext('spawn test templates'))",
            "releasing the template lock",
        )
        .await
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.conn.close().await;
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
