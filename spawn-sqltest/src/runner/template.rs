//! The migrated template the tests run in (or in copies of it).
//!
//! It is built once (every migration applied for the selected environment) and kept on the
//! server between runs. Its comment records the fingerprint of what it was built from (each
//! migration's name and checksum, the environment), so the next run reuses it while that is
//! unchanged and rebuilds it otherwise, and the statement that puts its sequences back as
//! the migrations left them (a run that was killed between a test and its reset is repaired
//! by the next). Between runs it takes no connections, so nothing changes it by accident and
//! no session is in the way of copying it. The caller holds [`Admin::lock_template`], so one
//! run at a time builds, uses and copies it.

use spawn_runtime::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::databases::{quote_ident, quote_literal, Admin};
use super::RunError;
use crate::wire::{ConnectTarget, Connection, QueryEvent};

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

/// What a run needs to know of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    /// Puts every sequence back as the migrations left it; `None` when there are none.
    pub reset_sequences: Option<String>,
}

/// The fingerprint of `migrations` applied for `environment`: the one
/// `#[spawn_runtime::test]`'s templates carry.
pub use spawn_runtime::testing::{fingerprint, fingerprint_with_callbacks};

/// The comment of a template built for `fingerprint` whose sequences `reset` puts back.
pub fn comment(fingerprint: &str, reset: Option<&str>) -> String {
    format!(
        "{COMMENT_PREFIX}{fingerprint}\n{}",
        reset.unwrap_or_default()
    )
}

/// What a template's comment says, if it was built for `fingerprint`.
fn parse_comment(comment: &str, fingerprint: &str) -> Option<TemplateInfo> {
    let rest = comment.strip_prefix(COMMENT_PREFIX)?;
    let (found, reset) = rest.split_once('\n')?;
    (found == fingerprint).then(|| TemplateInfo {
        reset_sequences: (!reset.is_empty()).then(|| reset.to_owned()),
    })
}

/// Makes sure database `name` holds `migrations` applied by `migrator`, rebuilding it when
/// its recorded fingerprint differs; `connect` reaches the server with the wire client
/// (database replaced), `migrate_with` with sqlx for the migrator.
pub async fn prepare(
    admin: &mut Admin,
    name: &str,
    fingerprint: &str,
    migrator: &Migrator,
    connect: &ConnectTarget,
    migrate_with: &PgConnectOptions,
) -> Result<(TemplateState, TemplateInfo), RunError> {
    if let Some(info) = admin
        .database_comment(name)
        .await?
        .and_then(|comment| parse_comment(&comment, fingerprint))
    {
        tracing::debug!(template = name, "the test template is up to date");
        return Ok((TemplateState::Reused, info));
    }
    tracing::info!(template = name, "building the test template");
    admin.drop_database(name).await?;
    admin.create_database(name, "template0").await?;
    let built = migrate(name, migrator, connect, migrate_with).await;
    let info = match built {
        Ok(info) => info,
        Err(error) => {
            // Leave nothing half-built behind: the next run starts again.
            admin.drop_database(name).await?;
            return Err(error);
        }
    };
    admin
        .execute(
            &format!(
                "COMMENT ON DATABASE {} IS {}",
                quote_ident(name),
                quote_literal(&comment(fingerprint, info.reset_sequences.as_deref()))
            ),
            "recording the template's fingerprint",
        )
        .await?;
    admin.allow_connections(name, false).await?;
    Ok((TemplateState::Built, info))
}

/// Records database `name`, prepared by other means, as the template of `fingerprint` (its
/// sequences as they are now), so that a run reuses it as it is.
pub async fn adopt(connect: &ConnectTarget, name: &str, fingerprint: &str) -> Result<(), RunError> {
    let reset = read_sequences(connect, name).await?;
    let mut admin = Admin::connect(connect).await?;
    admin
        .execute(
            &format!(
                "COMMENT ON DATABASE {} IS {}",
                quote_ident(name),
                quote_literal(&comment(fingerprint, reset.as_deref()))
            ),
            "recording the template's fingerprint",
        )
        .await?;
    admin.allow_connections(name, false).await?;
    admin.close().await;
    Ok(())
}

/// Applies the migrations to the new template and reads its sequences.
async fn migrate(
    name: &str,
    migrator: &Migrator,
    connect: &ConnectTarget,
    migrate_with: &PgConnectOptions,
) -> Result<TemplateInfo, RunError> {
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
    migrated.map_err(|error| RunError::Migrate {
        template: name.to_owned(),
        message: error.to_string(),
    })?;
    Ok(TemplateInfo {
        reset_sequences: read_sequences(connect, name).await?,
    })
}

/// [`sequence_reset`] of database `name`, on a connection of its own.
async fn read_sequences(connect: &ConnectTarget, name: &str) -> Result<Option<String>, RunError> {
    let mut conn = Connection::connect(&connect.clone().database(name))
        .await
        .map_err(|source| RunError::Wire {
            test: format!("(reading the sequences of {name})"),
            source,
        })?;
    let reset = sequence_reset(&mut conn, name).await;
    let _ = conn.close().await;
    reset
}

/// The statement that puts the database's sequences back to their current state (`None`
/// when it has none).
pub(crate) async fn sequence_reset(
    conn: &mut Connection,
    database: &str,
) -> Result<Option<String>, RunError> {
    let events = conn
        .simple_query(
            "SELECT c.oid::int8, COALESCE(pg_catalog.pg_sequence_last_value(c.oid), s.seqstart), \
             pg_catalog.pg_sequence_last_value(c.oid) IS NOT NULL \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid \
             WHERE c.relpersistence <> 't' ORDER BY 1",
        )
        .await
        .map_err(|source| RunError::Wire {
            test: format!("(reading the sequences of {database})"),
            source,
        })?;
    let mut values = Vec::new();
    for event in events {
        match event {
            QueryEvent::DataRow(row) => {
                if let [Some(oid), Some(value), Some(called)] = row.as_slice() {
                    values.push(format!("({oid}::oid, {value}::int8, {})", called == "t"));
                }
            }
            QueryEvent::Error(e) => {
                return Err(RunError::Server {
                    doing: format!("reading the sequences of {database}"),
                    code: e.code,
                    message: e.message,
                })
            }
            _ => {}
        }
    }
    Ok((!values.is_empty()).then(|| {
        format!(
            "SELECT pg_catalog.setval(t.seq::regclass, t.v, t.called) FROM (VALUES {}) AS t(seq, v, called) \
             WHERE pg_catalog.pg_sequence_last_value(t.seq::regclass) IS DISTINCT FROM CASE WHEN t.called THEN t.v END",
            values.join(", ")
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comment_carries_the_fingerprint_and_the_sequence_reset() {
        let with = comment("abc", Some("SELECT 1"));
        assert_eq!(
            parse_comment(&with, "abc"),
            Some(TemplateInfo {
                reset_sequences: Some("SELECT 1".to_owned())
            })
        );
        assert_eq!(parse_comment(&with, "abd"), None, "another fingerprint");
        assert_eq!(
            parse_comment(&comment("abc", None), "abc"),
            Some(TemplateInfo {
                reset_sequences: None
            })
        );
        assert_eq!(parse_comment("", "abc"), None);
        assert_eq!(parse_comment("spawn test template abc", "abc"), None);
    }
}
