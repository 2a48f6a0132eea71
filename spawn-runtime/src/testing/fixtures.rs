//! Fixtures: SQL files named by `fixtures("…")`, relative to the crate's `Cargo.toml`, read
//! before the test's database is created (so a missing file leaves nothing behind) and
//! applied in order after the migrations, each as one simple-query message.

use std::path::Path;

use sqlx::postgres::PgConnectOptions;
use sqlx::Connection;

use super::TestingError;
use crate::connect::connect;
use crate::DEFAULT_CONNECT_TIMEOUT;

/// A fixture file, read.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// As written in `fixtures(…)`.
    pub name: String,
    /// Its SQL.
    pub sql: String,
}

/// Reads `fixtures` relative to `manifest_dir`.
pub fn read_fixtures(manifest_dir: &str, fixtures: &[&str]) -> Result<Vec<Fixture>, TestingError> {
    fixtures
        .iter()
        .map(|name| {
            let path = Path::new(manifest_dir).join(name);
            std::fs::read_to_string(&path)
                .map(|sql| Fixture {
                    name: name.to_string(),
                    sql,
                })
                .map_err(|source| TestingError::FixtureRead {
                    fixture: name.to_string(),
                    path,
                    source,
                })
        })
        .collect()
}

/// Applies `fixtures` in order to `database` (one connection, closed afterwards).
pub async fn apply_fixtures(
    options: &PgConnectOptions,
    database: &str,
    fixtures: &[Fixture],
) -> Result<(), TestingError> {
    if fixtures.is_empty() {
        return Ok(());
    }
    let mut conn = connect(options, DEFAULT_CONNECT_TIMEOUT).await?;
    for fixture in fixtures {
        sqlx::raw_sql(&fixture.sql)
            .execute(&mut conn)
            .await
            .map_err(|source| TestingError::FixtureFailed {
                fixture: fixture.name.clone(),
                database: database.to_string(),
                source,
            })?;
    }
    let _ = conn.close().await;
    Ok(())
}
