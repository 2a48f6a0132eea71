//! The migrated template every test's database is a copy of.
//!
//! It is built once (every migration applied for the selected environment) and kept on the
//! server between runs; its comment records the fingerprint of what it was built from (each
//! migration's name and checksum, the environment), so the next run reuses it while that is
//! unchanged and rebuilds it otherwise. Builds are serialised by an advisory lock, so two
//! runs at once never build (or drop) the same template together.

use sha2::{Digest, Sha256};
use spawn_runtime::{Migration, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::databases::{quote_ident, quote_literal, Admin};
use super::RunError;

/// The prefix of every template's comment.
const COMMENT_PREFIX: &str = "spawn test template ";

/// Whether [`prepare`] found the template up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateState {
    /// It existed with the same fingerprint.
    Reused,
    /// It was (re)built in this run.
    Built,
}

/// The fingerprint of `migrations` applied for `environment`.
pub fn fingerprint(migrations: &[Migration], environment: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(environment.as_bytes());
    hash.update([0]);
    for m in migrations {
        hash.update(m.name.as_bytes());
        hash.update([0]);
        hash.update(m.sha256);
    }
    hex::encode(hash.finalize())
}

/// Makes sure database `name` holds `migrations` applied by `migrator`, rebuilding it when
/// its recorded fingerprint differs. The caller holds [`Admin::lock_templates`].
pub async fn prepare(
    admin: &mut Admin,
    name: &str,
    fingerprint: &str,
    migrator: &Migrator,
    migrate_with: &PgConnectOptions,
) -> Result<TemplateState, RunError> {
    let wanted = format!("{COMMENT_PREFIX}{fingerprint}");
    if admin.database_comment(name).await?.as_deref() == Some(wanted.as_str()) {
        tracing::debug!(template = name, "the test template is up to date");
        return Ok(TemplateState::Reused);
    }
    tracing::info!(template = name, "building the test template");
    admin.drop_database(name).await?;
    admin.create_database(name, "template0").await?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(migrate_with.clone().database(name))
        .await
        .map_err(|source| RunError::MigrateConnect {
            template: name.to_owned(),
            source,
        })?;
    let migrated = migrator.run(&pool).await;
    pool.close().await;
    if let Err(error) = migrated {
        // Leave nothing half-built behind: the next run starts again.
        admin.drop_database(name).await?;
        return Err(RunError::Migrate {
            template: name.to_owned(),
            message: error.to_string(),
        });
    }
    // No connections from now on: nothing changes it by accident, and no session (not
    // even autovacuum's) is in the way of copying it.
    admin
        .execute(
            &format!(
                "COMMENT ON DATABASE {name_ident} IS {}; ALTER DATABASE {name_ident} WITH ALLOW_CONNECTIONS false",
                quote_literal(&wanted),
                name_ident = quote_ident(name),
            ),
            "recording the template's fingerprint",
        )
        .await?;
    Ok(TemplateState::Built)
}
