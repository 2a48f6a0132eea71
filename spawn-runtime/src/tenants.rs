//! Tenant schemas: one set of migrations (the *tenant parts*) applied to every tenant's
//! schema, each tenant tracked and locked on its own.
//!
//! A tenant part is an ordinary [`Migration`] whose SQL may contain [`TENANT_MARKER`] where
//! the tenant's schema name goes (spawn-build renders `{{ tenant }}` and
//! `{{ tenant | escape_identifier }}` in a `tenant.sql` that way); [`Migrator::tenant`] turns
//! a migrator over tenant parts into the migrator of one tenant:
//!
//! * the marker is replaced by the tenant's name (statement offsets and checksums follow);
//! * its rows go to the namespace `tenant:<name>` of the same tracking tables (the original
//!   spawn's `namespace` column, so the tables stay compatible);
//! * it takes a lock of its own (see `Tracking::lock_key`), so tenants migrate at the same
//!   time and one tenant is never migrated twice at once;
//! * its dedicated connection runs with `search_path` set to the tenant's schema, then
//!   `public`, so unqualified names in the tenant part are the tenant's.
//!
//! In [`Migrator::run_tenants`] the tenants' runs share their dedicated connections: a run
//! takes one an earlier tenant's run finished with cleanly (its session reset by `DISCARD
//! ALL`, so nothing a tenant part set carries over), so 1,000 tenants cost `jobs` backends,
//! not 1,000.
//!
//! [`Migrator::run_tenants`] applies the tenant parts to many tenants at once: two queries
//! read which schemas exist and every tenant's history, then only the tenants with
//! something pending run, `jobs` at a time; the report is a [`FleetReport`] with one result
//! per tenant. Tenant names are letters, digits and `_` (not starting with a digit), so a
//! name is the same inside a string literal and a quoted identifier.
//!
//! ```no_run
//! use spawn_runtime::fleet::FleetOptions;
//! use spawn_runtime::Migrator;
//! # async fn f(pool: spawn_runtime::sqlx::PgPool, tenant_parts: Vec<spawn_runtime::Migration>)
//! # -> Result<(), spawn_runtime::MigrateError> {
//! let tenants = vec!["acme".to_owned(), "globex".to_owned()];
//! let report = Migrator::new(tenant_parts)
//!     .run_tenants(&pool, &tenants, &FleetOptions::default(), |_| {})
//!     .await?;
//! assert!(report.is_success());
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use sqlx::{PgPool, Row};

use crate::fleet::{FleetOptions, FleetOutcome, FleetReport, FleetResult};
use crate::idle::IdleConnections;
use crate::tracking::{quote_literal, Tracking};
use crate::{MigrateError, Migration, Migrator, Recovery};

pub use spawn_model::TENANT_MARKER;

/// The tracking namespace of `tenant`'s rows.
#[must_use]
pub fn tenant_namespace(tenant: &str) -> String {
    format!("tenant:{tenant}")
}

/// Whether `name` may name a tenant: 1 to 63 bytes of ASCII letters, digits and `_`, not
/// starting with a digit.
pub fn check_tenant_name(name: &str) -> Result<(), MigrateError> {
    let mut chars = name.chars();
    let valid = name.len() <= 63
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(MigrateError::InvalidTenant {
            tenant: name.to_owned(),
        })
    }
}

/// `migration` for `tenant`: the marker replaced by the name, the statements' offsets moved
/// accordingly, checksums of the result.
pub(crate) fn for_tenant(migration: &Migration, tenant: &str) -> Migration {
    let sql = migration.sql.as_ref();
    if !sql.contains(TENANT_MARKER) {
        return migration.clone();
    }
    let markers: Vec<usize> = sql.match_indices(TENANT_MARKER).map(|(i, _)| i).collect();
    // New offset of an old one: moved by the growth of every marker before it.
    let moved = |offset: usize| -> usize {
        let before = markers.partition_point(|&m| m < offset);
        let grown = before * tenant.len();
        offset + grown - before * TENANT_MARKER.len()
    };
    let replaced = sql.replace(TENANT_MARKER, tenant);
    let (sha256, xxh3_128) = Migration::checksums_of(&replaced);
    let substitute = |text: &Cow<'static, str>| -> Cow<'static, str> {
        Cow::Owned(text.replace(TENANT_MARKER, tenant))
    };
    let statements = migration
        .statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.start = moved(s.start);
            s.end = moved(s.end);
            s.recovery = match &s.recovery {
                Recovery::IndexBuilt { name, table } => Recovery::IndexBuilt {
                    name: substitute(name),
                    table: substitute(table),
                },
                Recovery::IndexDropped { name } => Recovery::IndexDropped {
                    name: substitute(name),
                },
                other => other.clone(),
            };
            s
        })
        .collect::<Vec<_>>();
    Migration {
        body: moved(migration.body.start)..moved(migration.body.end),
        sql: Cow::Owned(replaced),
        sha256,
        xxh3_128,
        statements: Cow::Owned(statements),
        ..migration.clone()
    }
}

/// The newest history row of every tenant migration, and which tenant schemas exist: one
/// query for any number of tenants.
struct TenantHistory {
    /// namespace → (name → checksum of its newest row, when that row is a success).
    succeeded: HashMap<String, HashMap<String, Vec<u8>>>,
    schemas: HashSet<String>,
    /// Whether the tracking tables exist.
    tables: bool,
}

impl Migrator {
    /// The migrator of `tenant`'s parts (see the [module docs](crate::tenants)): this
    /// migrator's set with the tenant marker replaced, its rows in namespace
    /// `tenant:<name>`, its own lock, and `search_path` set to the tenant's schema.
    pub fn tenant(mut self, tenant: &str) -> Result<Self, MigrateError> {
        check_tenant_name(tenant)?;
        self.set_tenant(tenant);
        Ok(self)
    }

    /// Applies the tenant parts to each of `tenants` (see the [module docs](crate::tenants)),
    /// `options.jobs` at a time; `on_result` is called as each tenant that had something to
    /// do finishes. Tenants with nothing pending are reported up to date without a
    /// connection of their own. A tenant whose schema does not exist fails, naming it.
    pub async fn run_tenants<'t>(
        &self,
        pool: &PgPool,
        tenants: &'t [String],
        options: &FleetOptions,
        mut on_result: impl FnMut(&FleetResult),
    ) -> Result<FleetReport, MigrateError> {
        let started = Instant::now();
        for tenant in tenants {
            check_tenant_name(tenant)?;
        }
        let set = self.resolved_set()?;
        let history = self.tenant_history(pool, tenants).await?;
        let mut results: Vec<Option<FleetResult>> = tenants.iter().map(|_| None).collect();
        let mut pending = Vec::new();
        for (index, tenant) in tenants.iter().enumerate() {
            let done = history.succeeded.get(&tenant_namespace(tenant));
            let up_to_date = history.schemas.contains(tenant)
                && set.iter().all(|m| {
                    let recorded = done.and_then(|d| d.get(m.name.as_ref()));
                    // Only a part that names the tenant has a checksum of its own.
                    recorded.is_some_and(|checksum| {
                        if m.sql.contains(TENANT_MARKER) {
                            *checksum == for_tenant(m, tenant).sha256
                        } else {
                            *checksum == m.sha256
                        }
                    })
                });
            if up_to_date && !self.is_dry_run() {
                results[index] = Some(FleetResult::new(
                    tenant,
                    FleetOutcome::UpToDate(crate::Report::default()),
                    std::time::Duration::ZERO,
                ));
            } else {
                pending.push((index, tenant));
            }
        }
        // On a database without the tracking tables, the first tenant creates them alone
        // (creating them from two sessions at once can fail).
        let first_alone = usize::from(!history.tables && !pending.is_empty());
        let stopped = AtomicBool::new(false);
        let idle = IdleConnections::default();
        let run = |(index, tenant): (usize, &'t String)| {
            self.run_tenant(pool, tenant, options, &stopped, &history.schemas, &idle)
                .map(move |result| (index, result))
        };
        let (alone, rest) = pending.split_at(first_alone);
        for item in alone {
            let (index, result) = run(*item).await;
            on_result(&result);
            results[index] = Some(result);
        }
        let runs = stream::iter(rest.iter().copied())
            .map(run)
            .buffer_unordered(options.jobs.max(1));
        futures_util::pin_mut!(runs);
        while let Some((index, result)) = runs.next().await {
            on_result(&result);
            results[index] = Some(result);
        }
        idle.close_all().await;
        Ok(FleetReport {
            results: results.into_iter().flatten().collect(),
            total: started.elapsed(),
        })
    }

    /// One tenant's run, unless a failure stopped the others ([`FleetOptions::fail_fast`]).
    async fn run_tenant(
        &self,
        pool: &PgPool,
        tenant: &str,
        options: &FleetOptions,
        stopped: &AtomicBool,
        schemas: &HashSet<String>,
        idle: &IdleConnections,
    ) -> FleetResult {
        let began = Instant::now();
        let outcome = if options.fail_fast && stopped.load(Ordering::Acquire) {
            FleetOutcome::NotStarted
        } else if !schemas.contains(tenant) {
            FleetOutcome::Failed(MigrateError::MissingTenantSchema {
                tenant: tenant.to_owned(),
            })
        } else {
            let mut migrator = self.clone().tenant_unchecked(tenant);
            migrator.set_idle_connections(idle.clone());
            match migrator.run(pool).await {
                Ok(report) if report.planned.is_empty() => FleetOutcome::UpToDate(report),
                Ok(report) => FleetOutcome::Applied(report),
                Err(e) => FleetOutcome::Failed(e),
            }
        };
        if matches!(outcome, FleetOutcome::Failed(_)) {
            stopped.store(true, Ordering::Release);
        }
        FleetResult::new(tenant, outcome, began.elapsed())
    }

    /// [`Migrator::tenant`] for a name already checked.
    fn tenant_unchecked(mut self, tenant: &str) -> Self {
        self.set_tenant(tenant);
        self
    }

    /// Two queries for any number of tenants: which of `tenants`' schemas exist (with whether
    /// the tracking tables do), then the tenant namespaces' newest rows.
    async fn tenant_history(
        &self,
        pool: &PgPool,
        tenants: &[String],
    ) -> Result<TenantHistory, MigrateError> {
        let tracking = Tracking::new(self.tracking_schema_name());
        let db = |what: &str| MigrateError::db(format!("reading {what} of the tenants"));
        // Which schemas exist and whether the tracking tables do, in one round trip.
        let (schemas, tables): (Vec<String>, bool) = sqlx::query_as(&format!(
            "SELECT ARRAY(SELECT nspname::text FROM pg_catalog.pg_namespace \
             WHERE nspname::text = ANY($1)), \
             pg_catalog.to_regclass({}) IS NOT NULL AND pg_catalog.to_regclass({}) IS NOT NULL",
            quote_literal(&format!("{}.migration", tracking.q)),
            quote_literal(&format!("{}.migration_history", tracking.q)),
        ))
        .bind(tenants)
        .fetch_one(pool)
        .await
        .map_err(db("the schemas"))?;
        let schemas: HashSet<String> = schemas.into_iter().collect();
        let mut succeeded: HashMap<String, HashMap<String, Vec<u8>>> = HashMap::new();
        if tables {
            let rows = sqlx::query(&format!(
                "SELECT DISTINCT ON (m.migration_id) m.namespace, m.name::text AS name, \
                 h.status_id_status = 'SUCCESS' AND h.activity_id_activity IN ('APPLY', 'ADOPT') AS ok, \
                 h.checksum FROM {q}.migration m JOIN {q}.migration_history h \
                 ON h.migration_id_migration = m.migration_id \
                 WHERE m.namespace LIKE 'tenant:%' \
                 ORDER BY m.migration_id, h.migration_history_id DESC",
                q = tracking.q
            ))
            .fetch_all(pool)
            .await
            .map_err(db("the histories"))?;
            for row in rows {
                let ok: Option<bool> = row.try_get("ok").map_err(db("the histories"))?;
                if ok != Some(true) {
                    continue;
                }
                let namespace: String = row.try_get("namespace").map_err(db("the histories"))?;
                let name: Option<String> = row.try_get("name").map_err(db("the histories"))?;
                let checksum: Vec<u8> = row.try_get("checksum").map_err(db("the histories"))?;
                if let Some(name) = name {
                    succeeded
                        .entry(namespace)
                        .or_default()
                        .insert(name, checksum);
                }
            }
        }
        Ok(TenantHistory {
            succeeded,
            schemas,
            tables,
        })
    }
}

impl crate::Migrations {
    /// Applies the embedded tenant parts to each of `tenants`:
    /// `self.tenant_migrator().run_tenants(pool, tenants, options, |_| {})`.
    pub async fn migrate_tenants(
        &self,
        pool: &PgPool,
        tenants: &[String],
        options: &FleetOptions,
    ) -> Result<FleetReport, MigrateError> {
        self.tenant_migrator()
            .run_tenants(pool, tenants, options, |_| {})
            .await
    }
}
