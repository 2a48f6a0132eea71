//! Template databases: a database migrated once and cloned by every test
//! (`CREATE DATABASE … TEMPLATE …`, a file copy on the server).
//!
//! The template's `COMMENT ON DATABASE` is the [`fingerprint`] of what it was built from;
//! [`prepare_template`] keeps a template whose comment matches and rebuilds it otherwise, under
//! an exclusive advisory lock of the maintenance database, so concurrent test binaries build
//! it once; clones take the same lock shared ([`clone_database`](super::database)), so a
//! template is never dropped while another binary copies it. The comment is written last: a
//! build that fails or is killed leaves a template that the next one rebuilds.

use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use super::TestingError;
use crate::connect::connect;
use crate::tracking::quote_ident;
use crate::{Callbacks, Migration, Migrator, DEFAULT_CONNECT_TIMEOUT};

/// Whether [`prepare_template`] found the template up to date or built it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateState {
    /// The template's fingerprint matched: nothing was done.
    Reused,
    /// The template was missing or out of date and was (re)built.
    Built,
}

/// The fingerprint of a template: SHA-256 (hex) over the environment and each migration's
/// name and SHA-256 checksum, in order. Any change to the set, its order, its SQL or the
/// environment changes it.
pub fn fingerprint<'a>(
    migrations: impl IntoIterator<Item = &'a Migration>,
    environment: &str,
) -> String {
    let mut hash = Sha256::new();
    hash.update(b"spawn-template-v1\0");
    hash.update(environment.as_bytes());
    hash.update(b"\0");
    for migration in migrations {
        hash.update(migration.name.as_bytes());
        hash.update(b"\0");
        hash.update(migration.sha256);
    }
    hex::encode(hash.finalize())
}

/// [`fingerprint`], with the SQL callbacks the template is migrated with: the same value
/// when there are none; otherwise any change to a callback changes it too.
pub fn fingerprint_with_callbacks(
    migrations: &[Migration],
    callbacks: &Callbacks,
    environment: &str,
) -> String {
    let base = fingerprint(migrations, environment);
    if callbacks.is_empty() {
        return base;
    }
    let mut hash = Sha256::new();
    hash.update(b"spawn-template-callbacks-v1\0");
    hash.update(base.as_bytes());
    let all = callbacks
        .before_migrate
        .iter()
        .chain(callbacks.after_migrate.iter())
        .chain(callbacks.before_each.iter())
        .chain(callbacks.after_each.iter());
    for c in all {
        for part in [c.kind.file(), c.migration.as_deref().unwrap_or(""), &c.sql] {
            hash.update(part.as_bytes());
            hash.update(b"\0");
        }
    }
    hex::encode(hash.finalize())
}

/// The template's name for a crate (its package name and manifest folder) and environment:
/// `spawn_tpl_<16 hex>`, the same in every test binary and run of the crate.
pub fn template_name(package: &str, manifest_dir: &str, environment: &str) -> String {
    let mut hash = Sha256::new();
    for part in [package, manifest_dir, environment] {
        hash.update(part.as_bytes());
        hash.update(b"\0");
    }
    format!("spawn_tpl_{}", &hex::encode(hash.finalize())[..16])
}

/// The advisory lock key (in the maintenance database) guarding database `name`.
pub(crate) fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("spawn-template:{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// A connection to `admin`'s server holding template `name`'s build lock (waiting for it),
/// and the lock's key.
async fn build_lock(
    admin: &PgConnectOptions,
    name: &str,
) -> Result<(PgConnection, i64), TestingError> {
    let mut conn = connect(admin, DEFAULT_CONNECT_TIMEOUT).await?;
    let key = lock_key(name);
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut conn)
        .await
        .map_err(TestingError::sql(format!(
            "waiting for the build lock of template {name}"
        )))?;
    Ok((conn, key))
}

/// A pool of two connections to database `name` (what the migrator runs on).
async fn template_pool(admin: &PgConnectOptions, name: &str) -> Result<sqlx::PgPool, TestingError> {
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin.clone().database(name))
        .await
        .map_err(TestingError::sql(format!("connecting to template {name}")))
}

/// Makes database `name` on `admin`'s server hold what `migrator` applies, with
/// `fingerprint` as its comment: kept when its comment already is `fingerprint`, otherwise
/// dropped, created from `template0`, migrated and commented. Concurrent callers (other
/// processes too) are serialised by an advisory lock; no connection to the template stays
/// open when this returns, so it can be cloned at once.
pub async fn prepare_template(
    admin: &PgConnectOptions,
    name: &str,
    fingerprint: &str,
    migrator: &Migrator,
) -> Result<TemplateState, TestingError> {
    let (mut conn, key) = build_lock(admin, name).await?;
    let state = build_if_stale(&mut conn, admin, name, fingerprint, migrator).await?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut conn)
        .await
        .map_err(TestingError::sql(format!(
            "releasing the build lock of template {name}"
        )))?;
    // Closing also releases the lock; an error here changes nothing for the template.
    let _ = conn.close().await;
    Ok(state)
}

/// Brings template `name`, built for fingerprint `from` (its comment), up to `to` by running
/// `migrator` on it — which applies only the migrations it lacks — and records `to`. Returns
/// `Ok(false)`, changing nothing, when the template's comment is not `from`. The comment is
/// cleared while the migrations run, so a failed or killed run leaves a template that the
/// next [`prepare_template`] rebuilds. Serialised with builds and clones like
/// [`prepare_template`].
///
/// [`TemplateAdvance::open`] and [`TemplateAdvance::run`] do the same in two steps, so that
/// the connections are open before the migrations to apply are known.
pub async fn advance_template(
    admin: &PgConnectOptions,
    name: &str,
    from: &str,
    to: &str,
    migrator: &Migrator,
) -> Result<bool, TestingError> {
    let advance = TemplateAdvance::open(admin, name, from).await?;
    let migrated = advance.run(to, migrator).await?;
    let advanced = migrated.is_some();
    if let Some(pool) = migrated {
        pool.close().await;
    }
    Ok(advanced)
}

/// [`advance_template`] in two steps: [`TemplateAdvance::open`] connects, takes the template's
/// build lock and reads its comment (while the caller is still working out what to apply);
/// [`TemplateAdvance::run`] applies and records. The lock is held in between, so no build or
/// clone changes the template meanwhile; dropping the value without running it releases the
/// lock (its connection closes) and leaves the template as it was.
///
/// ```no_run
/// # async fn example(admin: sqlx::postgres::PgConnectOptions, migrator: spawn_runtime::Migrator)
/// # -> Result<(), spawn_runtime::testing::TestingError> {
/// use spawn_runtime::testing::TemplateAdvance;
///
/// let advance = TemplateAdvance::open(&admin, "spawn_tpl_0123456789abcdef", "old fingerprint").await?;
/// // … work out the migrations …
/// if let Some(pool) = advance.run("new fingerprint", &migrator).await? {
///     // The template, migrated: inspect it, then let it go so it can be cloned.
///     pool.close().await;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TemplateAdvance {
    /// The maintenance database's connection, holding the build lock.
    conn: PgConnection,
    name: String,
    key: i64,
    /// A pool on the template, when its comment was the expected fingerprint.
    template: Option<sqlx::PgPool>,
}

impl TemplateAdvance {
    /// Connects to `admin`'s server, takes template `name`'s build lock and checks that its
    /// comment is `from`; if so, also connects to the template (a pool of two connections).
    pub async fn open(
        admin: &PgConnectOptions,
        name: &str,
        from: &str,
    ) -> Result<Self, TestingError> {
        let (mut conn, key) = build_lock(admin, name).await?;
        let template = if template_comment(&mut conn, name).await?.as_deref() == Some(from) {
            Some(template_pool(admin, name).await?)
        } else {
            None
        };
        Ok(Self {
            conn,
            name: name.to_owned(),
            key,
            template,
        })
    }

    /// Runs `migrator` on the template and records `to` as its comment (see
    /// [`advance_template`]), then releases the lock. `Ok(None)`, changing nothing, when the
    /// template's comment was not the expected one; otherwise the pool on the migrated
    /// template, for the caller to read it (and close it: a template with open connections
    /// cannot be cloned).
    pub async fn run(
        mut self,
        to: &str,
        migrator: &Migrator,
    ) -> Result<Option<sqlx::PgPool>, TestingError> {
        let outcome = match self.template.take() {
            None => Ok(None),
            Some(pool) => match self.migrate(&pool, to, migrator).await {
                Ok(()) => Ok(Some(pool)),
                Err(e) => {
                    pool.close().await;
                    Err(e)
                }
            },
        };
        // Closing releases the lock too; an error here changes nothing for the template.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
        outcome
    }

    async fn migrate(
        &mut self,
        pool: &sqlx::PgPool,
        to: &str,
        migrator: &Migrator,
    ) -> Result<(), TestingError> {
        let clear = format!("COMMENT ON DATABASE {} IS NULL", quote_ident(&self.name));
        sqlx::raw_sql(&clear)
            .execute(&mut self.conn)
            .await
            .map_err(TestingError::sql(clear.clone()))?;
        migrator
            .run(pool)
            .await
            .map_err(|source| TestingError::Migrate {
                template: self.name.clone(),
                source: Box::new(source),
            })?;
        set_comment(&mut self.conn, &self.name, to).await
    }
}

async fn build_if_stale(
    conn: &mut PgConnection,
    admin: &PgConnectOptions,
    name: &str,
    fingerprint: &str,
    migrator: &Migrator,
) -> Result<TemplateState, TestingError> {
    let current = template_comment(conn, name).await?;
    if current.as_deref() == Some(fingerprint) {
        return Ok(TemplateState::Reused);
    }
    let quoted = quote_ident(name);
    for statement in [
        format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
        format!("CREATE DATABASE {quoted} TEMPLATE template0"),
    ] {
        sqlx::raw_sql(&statement)
            .execute(&mut *conn)
            .await
            .map_err(TestingError::sql(statement.clone()))?;
    }
    migrate_in(admin, name, migrator).await?;
    // Written last, see the module doc.
    set_comment(conn, name, fingerprint).await?;
    Ok(TemplateState::Built)
}

/// The comment of database `name` (its fingerprint), if it exists and has one.
async fn template_comment(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<String>, TestingError> {
    let current: Option<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await
    .map_err(TestingError::sql(format!("reading template {name}")))?;
    Ok(current.flatten())
}

/// Runs `migrator` in database `name`.
async fn migrate_in(
    admin: &PgConnectOptions,
    name: &str,
    migrator: &Migrator,
) -> Result<(), TestingError> {
    let pool = template_pool(admin, name).await?;
    let migrated = migrator.run(&pool).await;
    pool.close().await;
    migrated.map_err(|source| TestingError::Migrate {
        template: name.to_string(),
        source: Box::new(source),
    })?;
    Ok(())
}

/// Records `fingerprint` (hex: no quoting issues) as the comment of database `name`.
pub(crate) async fn set_comment(
    conn: &mut PgConnection,
    name: &str,
    fingerprint: &str,
) -> Result<(), TestingError> {
    let comment = format!(
        "COMMENT ON DATABASE {} IS '{fingerprint}'",
        quote_ident(name)
    );
    sqlx::raw_sql(&comment)
        .execute(&mut *conn)
        .await
        .map_err(TestingError::sql(comment.clone()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(name: &'static str, sql: &'static str) -> Migration {
        Migration::new(name, sql, Vec::new())
    }

    #[test]
    fn fingerprints_follow_names_checksums_order_and_environment() {
        let a = migration("20250101000000-a", "SELECT 1");
        let b = migration("20250102000000-b", "SELECT 2");
        let base = fingerprint(&[a.clone(), b.clone()], "dev");
        assert_eq!(base, fingerprint(&[a.clone(), b.clone()], "dev"));
        assert_eq!(base.len(), 64);
        assert_ne!(base, fingerprint(&[a.clone(), b.clone()], "prod"));
        assert_ne!(base, fingerprint(&[b.clone(), a.clone()], "dev"));
        assert_ne!(base, fingerprint(std::slice::from_ref(&a), "dev"));
        let b2 = migration("20250102000000-b", "SELECT 3");
        assert_ne!(base, fingerprint(&[a.clone(), b2], "dev"));
        let both = [a, b];
        let none = fingerprint_with_callbacks(&both, &Callbacks::NONE, "dev");
        assert_eq!(none, base, "no callbacks: the template of before");
        let with = |sql: &'static str| Callbacks {
            after_migrate: Some(crate::Callback::new(
                crate::CallbackKind::AfterMigrate,
                sql,
                Vec::new(),
            )),
            ..Callbacks::default()
        };
        let analyze = fingerprint_with_callbacks(&both, &with("ANALYZE"), "dev");
        assert_ne!(analyze, base);
        assert_ne!(
            analyze,
            fingerprint_with_callbacks(&both, &with("ANALYZE a"), "dev")
        );
    }

    #[test]
    fn template_names_are_stable_valid_identifiers() {
        let name = template_name("orchard", "/src/orchard", "dev");
        assert_eq!(name, template_name("orchard", "/src/orchard", "dev"));
        assert!(name.starts_with("spawn_tpl_") && name.len() == 26);
        assert_ne!(name, template_name("orchard", "/src/orchard", "prod"));
        assert_ne!(name, template_name("orchard", "/other/orchard", "dev"));
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
