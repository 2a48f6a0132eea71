//! Scratch databases: "the schema the migrations produce", built on the target's server.
//!
//! A scratch database is named `spawn_scratch_<pid>_<n>` and lives only as long as the command
//! that needs it: [`Scratches::drop_all`] drops every one a command created, which the command
//! calls on success, on error and after Ctrl-C alike (see [`Scratches::run`]). Creating one
//! needs `CREATEDB` on the server of the target (or the project-local database).
//!
//! The migrated state is cached as a template database `spawn_scratch_tpl_<16 hex>` (per
//! project, environment and purpose) whose comment is the fingerprint of the migrations it
//! was built from (names and checksums): it is rebuilt only when that changes. Commands that
//! only read the migrations' schema read the template in place (copying a database of tens
//! of thousands of relations costs seconds); `generate` advances it with the migration it
//! writes, which is both its re-check and the next run's cache. The template lifecycle
//! (fingerprint, build under an advisory lock, clone under the shared lock) is
//! `spawn_runtime::testing`'s, the one `#[spawn_runtime::test]` uses.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};
use spawn_runtime::testing::{
    clone_database, drop_database, fingerprint, prepare_template, TemplateAdvance,
};
use spawn_runtime::{Migration, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

use crate::exit::{self, Exit};
use crate::output::redact;

/// The prefix of every scratch database's name.
pub const PREFIX: &str = "spawn_scratch_";

/// The server scratch databases are created on, and the scratch databases created so far.
pub struct Scratches {
    /// Connection settings of the maintenance database (`postgres`) of that server.
    admin: PgConnectOptions,
    /// `host:port` for messages.
    server: String,
    created: Mutex<Vec<String>>,
}

/// A cached template: kept between runs, never dropped by [`Scratches::drop_all`].
#[derive(Debug, Clone)]
pub struct Template {
    /// The database (read it; copies are made with [`Scratches::migrated_from`]).
    pub scratch: Scratch,
    /// What its comment records.
    pub fingerprint: String,
}

/// The migrator that builds a scratch database.
fn migrator(migrations: Vec<Migration>, spawn_schema: &str) -> Migrator {
    Migrator::new(migrations)
        .tracking_schema(spawn_schema)
        .created_by_app("spawn")
}

/// The migrator that applies `migrations` to a scratch database that holds the migrations
/// before them (which are not repeated: missing ones are not an error).
pub fn migrator_of_new(migrations: Vec<Migration>, spawn_schema: &str) -> Migrator {
    migrator(migrations, spawn_schema).ignore_missing(true)
}

/// One scratch database (dropped by [`Scratches::drop_all`]).
#[derive(Debug, Clone)]
pub struct Scratch {
    pub name: String,
    pub options: PgConnectOptions,
}

impl Scratch {
    /// A pool of `max` connections to it.
    pub async fn pool(&self, max: u32) -> Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(max)
            .connect_with(self.options.clone())
            .await
            .map_err(|e| anyhow!("connecting to scratch database {}: {e}", self.name))
    }
}

impl Scratches {
    /// Scratch databases on the server of `target` (its settings, database `postgres`).
    pub fn on(target: &PgConnectOptions) -> Self {
        let host = target.get_host();
        let server = if host.starts_with('/') {
            format!("[socket {host}]:{}", target.get_port())
        } else {
            format!("{host}:{}", target.get_port())
        };
        Self {
            admin: target.clone().database("postgres"),
            server,
            created: Mutex::new(Vec::new()),
        }
    }

    /// Connection settings of the server's maintenance database.
    pub fn admin(&self) -> &PgConnectOptions {
        &self.admin
    }

    /// A new empty scratch database (a copy of `template0`).
    pub async fn empty(&self) -> Result<Scratch> {
        self.clone_of("template0").await
    }

    /// The cached template of `purpose` for `key` (the project folder) holding `migrations`
    /// (tracking tables in `spawn_schema`), built first when missing or made from other
    /// migrations. Read it, never change it: [`Scratches::migrated_from`] copies it.
    pub async fn template(
        &self,
        key: &str,
        purpose: &str,
        environment: &str,
        spawn_schema: &str,
        migrations: &[Migration],
    ) -> Result<Template> {
        let name = template_name(key, purpose, environment);
        let print = fingerprint(migrations, environment);
        let state = prepare_template(
            &self.admin,
            &name,
            &print,
            &migrator(migrations.to_vec(), spawn_schema),
        )
        .await
        .map_err(|e| self.explain(&e.to_string(), "building the migrated scratch template"))?;
        tracing::debug!(template = name, ?state, "scratch template");
        Ok(Template {
            scratch: Scratch {
                options: self.admin.clone().database(&name),
                name,
            },
            fingerprint: print,
        })
    }

    /// Connects for [`Scratches::advance`] ahead of it: takes `template`'s build lock (held
    /// until the advance, or until the value is dropped) and opens a pool on it. The future
    /// owns what it needs, so it can be spawned.
    pub fn open_advance(
        &self,
        template: &Template,
    ) -> impl Future<
        Output = std::result::Result<TemplateAdvance, spawn_runtime::testing::TestingError>,
    > + Send
           + 'static {
        let (admin, name, from) = (
            self.admin.clone(),
            template.scratch.name.clone(),
            template.fingerprint.clone(),
        );
        async move { TemplateAdvance::open(&admin, &name, &from).await }
    }

    /// Applies `migrations`, the ones the template of `opened` lacks, to it and records
    /// `fingerprint` (that of all the migrations it then holds, see [`fingerprint`]), so it
    /// is the cached state of the project's migrations from now on. `Ok(None)` when another
    /// process changed the template before it was opened (nothing was done); otherwise a
    /// pool on the migrated template (to be closed before it is cloned).
    pub async fn advance(
        &self,
        opened: TemplateAdvance,
        fingerprint: &str,
        spawn_schema: &str,
        migrations: Vec<Migration>,
    ) -> std::result::Result<Option<PgPool>, spawn_runtime::testing::TestingError> {
        // Only the new ones: the template's comment (checked under the lock) already says it
        // holds the others.
        opened
            .run(fingerprint, &migrator_of_new(migrations, spawn_schema))
            .await
    }

    /// A new scratch database copied from `template`.
    pub async fn migrated_from(&self, template: &Template) -> Result<Scratch> {
        self.clone_of(&template.scratch.name).await
    }

    async fn clone_of(&self, template: &str) -> Result<Scratch> {
        let name = unique_name();
        // Registered first: a Ctrl-C during the copy still drops what it left.
        self.lock().push(name.clone());
        clone_database(&self.admin, template, &name)
            .await
            .map_err(|e| self.explain(&e.to_string(), "creating a scratch database"))?;
        Ok(Scratch {
            options: self.admin.clone().database(&name),
            name,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.created.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An error of the server, with what to do when it is a missing `CREATEDB`.
    fn explain(&self, error: &str, doing: &str) -> anyhow::Error {
        let error = redact(error);
        if error.contains("permission denied to create database") {
            anyhow!(
                "{doing} on {}: {error}. spawn builds the schema the migrations produce in a \
                 scratch database (`{PREFIX}…`, dropped afterwards), which needs CREATEDB: grant \
                 it (ALTER ROLE … CREATEDB) or use the project-local database (`spawn db start`, \
                 a target with `local = true`)",
                self.server
            )
        } else {
            anyhow!("{doing} on {}: {error}", self.server)
        }
    }

    /// Drops every scratch database created so far (ending their sessions). Failures are
    /// reported as warnings naming the database, so the user can drop it by hand.
    pub async fn drop_all(&self) -> Vec<String> {
        let names: Vec<String> = std::mem::take(&mut *self.lock());
        let mut failed = Vec::new();
        if names.is_empty() {
            return failed;
        }
        // A copy still being made (the command was interrupted mid-way) is ended first, so
        // it cannot finish after the drop below.
        self.end_copies(&names).await;
        for name in names {
            if let Err(e) = drop_database(&self.admin, &name).await {
                tracing::warn!(database = name, "dropping a scratch database: {e}");
                failed.push(format!(
                    "could not drop scratch database {name} on {}: {}; drop it by hand (DROP DATABASE \"{name}\")",
                    self.server,
                    redact(&e.to_string())
                ));
            }
        }
        failed
    }

    /// Ends the sessions still running `CREATE DATABASE` for `names` (waiting up to 10 s
    /// for each to end).
    async fn end_copies(&self, names: &[String]) {
        let ended = async {
            let mut conn = sqlx::PgConnection::connect_with(&self.admin).await?;
            for name in names {
                sqlx::query(
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
                     WHERE pid <> pg_backend_pid() AND query LIKE $1",
                )
                .bind(format!("CREATE DATABASE \"{name}\"%"))
                .execute(&mut conn)
                .await?;
            }
            sqlx::Connection::close(conn).await
        };
        if let Err(e) = ended.await {
            tracing::debug!("ending unfinished scratch copies: {e}");
        }
    }

    /// Runs `work`, then drops every scratch database, whether it succeeded, failed or was
    /// interrupted by Ctrl-C (which ends `work` at once, exit 130).
    pub async fn run<T>(
        &self,
        out: &crate::output::Out,
        work: impl Future<Output = std::result::Result<T, Exit>>,
    ) -> std::result::Result<T, Exit> {
        let interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        let result = match interrupts {
            Ok(mut interrupts) => {
                tokio::select! {
                    result = work => result,
                    Some(()) = interrupts.recv() => {
                        eprintln!("interrupted: dropping the scratch databases; nothing was written");
                        Err(Exit::Code(exit::INTERRUPTED))
                    }
                }
            }
            Err(e) => {
                tracing::debug!("cannot listen for Ctrl-C: {e}");
                work.await
            }
        };
        for warning in self.drop_all().await {
            out.warn(warning);
        }
        result
    }
}

/// `spawn_scratch_<pid>_<n>`: unique across the commands running at once.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{PREFIX}{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `spawn_scratch_tpl_<16 hex>` for a project folder, purpose and environment.
pub fn template_name(key: &str, purpose: &str, environment: &str) -> String {
    let mut hash = Sha256::new();
    for part in [key, purpose, environment] {
        hash.update(part.as_bytes());
        hash.update(b"\0");
    }
    format!("{PREFIX}tpl_{}", &hex::encode(hash.finalize())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_unique_and_short() {
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() <= 63, "{a}");
        let t = template_name("/p", "generate", "dev");
        assert!(t.starts_with("spawn_scratch_tpl_") && t.len() == 34, "{t}");
        assert_ne!(t, template_name("/p", "drift", "dev"));
        assert_ne!(t, template_name("/q", "generate", "dev"));
    }
}
