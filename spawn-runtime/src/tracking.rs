//! The tracking tables: their DDL (exactly the original spawn's, see TRACKING.md), the one
//! query that reads the history, and the SQL that records history rows.
//!
//! All SQL here is sent with the simple-query protocol (no prepared statements), so every
//! value is inlined as a quoted literal ([`quote_literal`], [`quote_ident`]).

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::PgRow;
use sqlx::Row;

/// Name of spawn's own migration that creates the tracking tables (namespace `spawn`).
pub const BOOTSTRAP_MIGRATION: &str = "001-base-migration-table";
/// Namespace of user migrations.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Namespace of spawn's own migrations.
pub const SPAWN_NAMESPACE: &str = "spawn";

/// `"ident"` with embedded quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A string literal that means `s` whatever `standard_conforming_strings` is.
pub(crate) fn quote_literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A duration from seconds, as measured or recorded (`execution_time`): zero for anything
/// negative or not a number.
pub(crate) fn seconds(s: f64) -> Duration {
    if s.is_finite() && s >= 0.0 {
        Duration::from_secs_f64(s)
    } else {
        Duration::ZERO
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// What exists of the tracking schema and tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TablesState {
    pub schema: bool,
    pub migration: bool,
    pub activity: bool,
    pub status: bool,
    pub history: bool,
}

impl TablesState {
    pub fn all(&self) -> bool {
        self.schema && self.migration && self.activity && self.status && self.history
    }

    /// The `SELECT` list items that compute this state (columns `t_schema`, `t_migration`, …).
    pub fn probe_columns(t: &Tracking) -> String {
        let reg = |table: &str| {
            format!(
                "pg_catalog.to_regclass({}) IS NOT NULL",
                quote_literal(&format!("{}.{}", t.q, quote_ident(table)))
            )
        };
        format!(
            "pg_catalog.to_regnamespace({}) IS NOT NULL AS t_schema, {} AS t_migration, \
             {} AS t_activity, {} AS t_status, {} AS t_history",
            quote_literal(&t.q),
            reg("migration"),
            reg("activity"),
            reg("status"),
            reg("migration_history"),
        )
    }

    pub fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(TablesState {
            schema: row.try_get("t_schema")?,
            migration: row.try_get("t_migration")?,
            activity: row.try_get("t_activity")?,
            status: row.try_get("t_status")?,
            history: row.try_get("t_history")?,
        })
    }
}

/// The tracking schema and the SQL that works on its tables.
#[derive(Debug, Clone)]
pub(crate) struct Tracking {
    pub schema: String,
    /// The schema as a quoted identifier.
    pub q: String,
    /// The namespace of the migrations' rows: [`DEFAULT_NAMESPACE`], or a tenant's
    /// (`tenant:<name>`, see [`crate::tenants`]).
    pub namespace: String,
}

/// How a history row's `execution_time` is computed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ExecTime {
    /// Server side: `clock_timestamp()` minus the `spawn.t0` setting of the transaction.
    SinceT0,
    /// A value measured by the client.
    Seconds(f64),
}

/// A history row to record.
#[derive(Debug, Clone)]
pub(crate) struct NewRow<'r> {
    pub name: &'r str,
    pub namespace: &'r str,
    pub activity: &'static str,
    pub status: &'static str,
    pub created_by: &'r str,
    pub description: &'r str,
    pub status_note: &'r str,
    pub checksum: &'r [u8],
    pub pin_hash: Option<&'r str>,
    pub execution_time: ExecTime,
    /// Only insert when the migration has no SUCCESS row yet (for the bootstrap row).
    pub unless_succeeded: bool,
}

impl Tracking {
    pub fn new(schema: &str) -> Self {
        Self::with_namespace(schema, DEFAULT_NAMESPACE)
    }

    /// The tracking tables in `schema`, for the migrations recorded in `namespace`.
    pub fn with_namespace(schema: &str, namespace: &str) -> Self {
        Tracking {
            schema: schema.to_string(),
            q: quote_ident(schema),
            namespace: namespace.to_string(),
        }
    }

    /// The advisory lock key that serialises the migrators of this schema and namespace:
    /// [`advisory_lock_key`](crate::advisory_lock_key) for the default namespace, so the
    /// original spawn and spawn exclude each other; one of its own for each tenant, so
    /// tenants migrate at the same time, each one at most once at a time.
    pub fn lock_key(&self) -> i64 {
        if self.namespace == DEFAULT_NAMESPACE {
            crate::lock::advisory_lock_key(&self.schema)
        } else {
            let text = format!("SPAWN_MIGRATION_LOCK:{}:{}", self.schema, self.namespace);
            xxhash_rust::xxh64::xxh64(text.as_bytes(), 1234) as i64
        }
    }

    fn table(&self, table: &str) -> String {
        format!("{}.{}", self.q, table)
    }

    /// The DDL of the tracking tables, for the parts that are missing. Statements only (no
    /// transaction control). Emits `CREATE SCHEMA` only when the schema is missing, so a role
    /// without CREATE privilege on the database can work with an existing schema.
    pub fn ddl(&self, present: TablesState) -> String {
        let s = &self.q;
        let mut sql = String::new();
        if !present.schema {
            sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {s};\n"));
        }
        if !present.migration {
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {s}.migration (\n    \
                 migration_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
                 name VARCHAR(256),\n    \
                 namespace TEXT NOT NULL DEFAULT 'default',\n    \
                 CONSTRAINT name_namespace_uq UNIQUE (name, namespace)\n);\n"
            ));
        }
        if !present.activity {
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {s}.activity (\n    \
                 activity_id TEXT PRIMARY KEY CHECK (UPPER(activity_id) = activity_id)\n);\n"
            ));
        }
        if !present.status {
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {s}.status (\n    \
                 status_id TEXT PRIMARY KEY CHECK (UPPER(status_id) = status_id)\n);\n"
            ));
        }
        if !present.history {
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {s}.migration_history (\n    \
                 migration_history_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
                 migration_id_migration BIGINT NOT NULL REFERENCES {s}.migration (migration_id),\n    \
                 activity_id_activity TEXT NOT NULL REFERENCES {s}.activity (activity_id),\n    \
                 created_by TEXT NOT NULL,\n    \
                 created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n    \
                 description TEXT NOT NULL,\n    \
                 status_note TEXT NOT NULL,\n    \
                 status_id_status TEXT NOT NULL REFERENCES {s}.status (status_id),\n    \
                 checksum BYTEA NOT NULL,\n    \
                 pin_hash TEXT,\n    \
                 execution_time INTERVAL NOT NULL\n);\n"
            ));
        }
        if !present.activity {
            sql.push_str(&format!(
                "INSERT INTO {s}.activity (activity_id) VALUES ('APPLY'), ('ADOPT'), ('REVERT') \
                 ON CONFLICT DO NOTHING;\n"
            ));
        }
        if !present.status {
            sql.push_str(&format!(
                "INSERT INTO {s}.status (status_id) VALUES ('SUCCESS'), ('ATTEMPTED'), ('FAILURE') \
                 ON CONFLICT DO NOTHING;\n"
            ));
        }
        sql
    }

    /// The full bootstrap DDL (what the bootstrap row's checksum covers).
    pub fn full_ddl(&self) -> String {
        self.ddl(TablesState::default())
    }

    /// ONE query: the newest history row of every migration in this namespace and in
    /// `spawn`.
    pub fn history_query(&self) -> String {
        format!(
            "SELECT DISTINCT ON (m.migration_id) m.name::text AS name, m.namespace, \
             h.activity_id_activity AS activity, h.status_id_status AS status, \
             pg_catalog.encode(h.checksum, 'hex') AS checksum, h.pin_hash, h.status_note, \
             h.created_by, (extract(epoch FROM h.created_at) * 1000000)::int8 AS created_us, \
             extract(epoch FROM h.execution_time)::float8 AS exec_secs \
             FROM {m} m JOIN {h} h ON h.migration_id_migration = m.migration_id \
             WHERE m.namespace IN ({ns}, 'spawn') \
             ORDER BY m.migration_id, h.migration_history_id DESC",
            m = self.table("migration"),
            h = self.table("migration_history"),
            ns = quote_literal(&self.namespace),
        )
    }

    /// `PREPARE <statement>(name text, checksum bytea, pin_hash text)`: the SUCCESS row of
    /// an applied transactional migration (as [`Tracking::insert_row`] with
    /// [`ExecTime::SinceT0`], returning the name and the execution time in seconds, in
    /// column `spawn_applied_<token>` and a second column), planned once per batch instead of
    /// once per migration.
    pub fn prepare_success_row(&self, statement: &str, created_by: &str, token: &str) -> String {
        format!(
            "PREPARE {statement}(text, bytea, text) AS \
             WITH m AS (INSERT INTO {mt} (name, namespace) VALUES ($1, {ns}) \
             ON CONFLICT (name, namespace) DO UPDATE SET name = EXCLUDED.name RETURNING migration_id) \
             INSERT INTO {ht} (migration_id_migration, activity_id_activity, created_by, description, \
             status_note, status_id_status, checksum, pin_hash, execution_time) \
             SELECT m.migration_id, 'APPLY', {by}, '', '', 'SUCCESS', $2, $3, \
             pg_catalog.clock_timestamp() - pg_catalog.current_setting('spawn.t0')::timestamptz FROM m \
             RETURNING $1 AS spawn_applied_{token}, extract(epoch FROM execution_time)::float8 AS spawn_secs",
            mt = self.table("migration"),
            ht = self.table("migration_history"),
            by = quote_literal(created_by),
            ns = quote_literal(&self.namespace),
        )
    }

    /// `EXECUTE` of a statement made by [`Tracking::prepare_success_row`].
    pub fn execute_success_row(
        statement: &str,
        name: &str,
        checksum: &[u8],
        pin_hash: Option<&str>,
    ) -> String {
        format!(
            "EXECUTE {statement}({}, pg_catalog.decode('{}', 'hex'), {})",
            quote_literal(name),
            hex(checksum),
            pin_hash
                .map(quote_literal)
                .unwrap_or_else(|| "NULL".to_string())
        )
    }

    /// One `INSERT` (a CTE upserting the `migration` row, like the original) of a history row.
    pub fn insert_row(&self, row: &NewRow<'_>) -> String {
        let exec = match row.execution_time {
            ExecTime::SinceT0 => "pg_catalog.clock_timestamp() - \
                                  pg_catalog.current_setting('spawn.t0')::timestamptz"
                .to_string(),
            ExecTime::Seconds(s) => {
                let s = if s.is_finite() && s >= 0.0 { s } else { 0.0 };
                format!("'{s:.6} seconds'::interval")
            }
        };
        let pin = row
            .pin_hash
            .map(quote_literal)
            .unwrap_or_else(|| "NULL".to_string());
        let guard = if row.unless_succeeded {
            format!(
                " WHERE NOT EXISTS (SELECT 1 FROM {h} x WHERE x.migration_id_migration = m.migration_id \
                 AND x.status_id_status = 'SUCCESS')",
                h = self.table("migration_history")
            )
        } else {
            String::new()
        };
        format!(
            "WITH m AS (INSERT INTO {mt} (name, namespace) VALUES ({name}, {ns}) \
             ON CONFLICT (name, namespace) DO UPDATE SET name = EXCLUDED.name RETURNING migration_id) \
             INSERT INTO {ht} (migration_id_migration, activity_id_activity, created_by, description, \
             status_note, status_id_status, checksum, pin_hash, execution_time) \
             SELECT m.migration_id, {act}, {by}, {desc}, {note}, {st}, pg_catalog.decode('{sum}', 'hex'), \
             {pin}, {exec} FROM m{guard}",
            mt = self.table("migration"),
            ht = self.table("migration_history"),
            name = quote_literal(row.name),
            ns = quote_literal(row.namespace),
            act = quote_literal(row.activity),
            by = quote_literal(row.created_by),
            desc = quote_literal(row.description),
            note = quote_literal(row.status_note),
            st = quote_literal(row.status),
            sum = hex(row.checksum),
        )
    }
}

/// The newest history row of one migration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistoryRow {
    pub name: String,
    pub activity: String,
    pub status: String,
    pub checksum: Vec<u8>,
    pub pin_hash: Option<String>,
    pub status_note: String,
    pub created_by: String,
    /// `created_at` in microseconds since the Unix epoch.
    pub created_us: i64,
    pub exec_secs: f64,
}

/// The history as read by [`Tracking::history_query`].
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    /// The migrations of the namespace read (`default`, or a tenant's) by name.
    pub rows: HashMap<String, HistoryRow>,
    /// Whether the bootstrap row (`001-base-migration-table`, namespace `spawn`) exists with
    /// a SUCCESS status.
    pub bootstrap_recorded: bool,
}

impl History {
    pub fn from_rows(rows: &[PgRow], namespace: &str) -> Result<Self, sqlx::Error> {
        let mut history = History::default();
        for row in rows {
            let Some(name): Option<String> = row.try_get("name")? else {
                continue;
            };
            let row_namespace: String = row.try_get("namespace")?;
            let checksum_hex: String = row.try_get("checksum")?;
            let r = HistoryRow {
                name: name.clone(),
                activity: row.try_get("activity")?,
                status: row.try_get("status")?,
                checksum: hex::decode(&checksum_hex)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                pin_hash: row.try_get("pin_hash")?,
                status_note: row.try_get("status_note")?,
                created_by: row.try_get("created_by")?,
                created_us: row.try_get("created_us")?,
                exec_secs: row.try_get::<Option<f64>, _>("exec_secs")?.unwrap_or(0.0),
            };
            if row_namespace == namespace {
                history.rows.insert(name, r);
            } else if row_namespace == SPAWN_NAMESPACE && name == BOOTSTRAP_MIGRATION {
                history.bootstrap_recorded = r.status == "SUCCESS";
            }
        }
        Ok(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
    }

    #[test]
    fn ddl_skips_what_exists() {
        let t = Tracking::new("_spawn");
        let all = TablesState {
            schema: true,
            migration: true,
            activity: true,
            status: true,
            history: true,
        };
        assert_eq!(t.ddl(all), "");
        let no_schema = t.full_ddl();
        assert!(no_schema.starts_with("CREATE SCHEMA IF NOT EXISTS \"_spawn\";"));
        assert!(!t
            .ddl(TablesState {
                schema: true,
                ..TablesState::default()
            })
            .contains("CREATE SCHEMA"));
    }
}
