//! A test's own database: named uniquely, cloned from a template under the template's shared
//! advisory lock, and dropped when the test passes.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use sha2::{Digest, Sha256};

use super::template::{lock_key, set_comment};
use super::TestingError;
use crate::connect::connect;
use crate::tracking::quote_ident;
use crate::DEFAULT_CONNECT_TIMEOUT;

/// `spawn_test_<test>_<pid>_<n>`, at most 63 bytes: unique across the tests of a process and
/// across processes, and telling which test it belongs to.
pub fn unique_database_name(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let suffix = format!(
        "_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    // The function's own name (after the last `::`) is what tells tests apart.
    let short = test.rsplit("::").next().unwrap_or(test);
    let room = 63 - "spawn_test_".len() - suffix.len();
    let clean: String = short
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(room)
        .collect();
    format!("spawn_test_{clean}{suffix}")
}

/// Creates database `name` as a copy of `template` (`template0` for an empty one). Holds the
/// template's advisory lock shared meanwhile, so no other process rebuilds it mid-copy.
pub async fn clone_database(
    admin: &PgConnectOptions,
    template: &str,
    name: &str,
) -> Result<(), TestingError> {
    let mut conn = connect(admin, DEFAULT_CONNECT_TIMEOUT).await?;
    let cloned = clone_on(&mut conn, template, name).await;
    let _ = conn.close().await;
    cloned
}

/// [`clone_database`] on an open maintenance connection, which it leaves without the lock
/// when it returns `Ok` (close it after an `Err`: the lock may still be held).
pub(crate) async fn clone_on(
    conn: &mut PgConnection,
    template: &str,
    name: &str,
) -> Result<(), TestingError> {
    let locked = template != "template0";
    // The template's fingerprint (its comment), read under the lock, goes onto the copy: a
    // copy kept ready for a later process says which template it was made from.
    let mut fingerprint = None;
    if locked {
        let (_, comment): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT pg_advisory_lock_shared($1)::text, \
             (SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $2)",
        )
        .bind(lock_key(template))
        .bind(template)
        .fetch_one(&mut *conn)
        .await
        .map_err(TestingError::sql(format!("locking template {template}")))?;
        fingerprint = comment;
    }
    // PostgreSQL 15 copies a template through the WAL by default, block by block; copying
    // its files (plus a checkpoint, cheap while little is dirty) is several times faster for
    // a migrated template of many small relations.
    let strategy = if conn.server_version_num().unwrap_or(0) >= 150000 {
        " STRATEGY = FILE_COPY"
    } else {
        ""
    };
    let create = format!("{}{}{strategy}", create_prefix(name), quote_ident(template));
    sqlx::raw_sql(&create)
        .execute(&mut *conn)
        .await
        .map_err(TestingError::sql(create.clone()))?;
    if let Some(fingerprint) = fingerprint {
        set_comment(conn, name, &fingerprint).await?;
    }
    if locked {
        sqlx::query("SELECT pg_advisory_unlock_shared($1)")
            .bind(lock_key(template))
            .execute(&mut *conn)
            .await
            .map_err(TestingError::sql(format!("unlocking template {template}")))?;
    }
    Ok(())
}

/// How the `CREATE DATABASE` of [`clone_on`] making `name` begins (to find it among the
/// server's running statements).
pub(crate) fn create_prefix(name: &str) -> String {
    format!("CREATE DATABASE {} TEMPLATE ", quote_ident(name))
}

/// Drops database `name`, ending any connection the test left open to it.
pub async fn drop_database(admin: &PgConnectOptions, name: &str) -> Result<(), TestingError> {
    let mut conn = connect(admin, DEFAULT_CONNECT_TIMEOUT).await?;
    let dropped = drop_on(&mut conn, name).await;
    let _ = conn.close().await;
    dropped
}

/// [`drop_database`] on an open maintenance connection.
pub(crate) async fn drop_on(conn: &mut PgConnection, name: &str) -> Result<(), TestingError> {
    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    sqlx::raw_sql(&drop)
        .execute(conn)
        .await
        .map_err(TestingError::sql(drop.clone()))?;
    Ok(())
}

/// `spawn_rdy_<16 hex>_`: how the names of the copies of template `template` begin that a
/// test binary keeps ready for the next one (see
/// [`finish_background_work`](super::finish_background_work)).
pub fn ready_prefix(template: &str) -> String {
    let digest = Sha256::digest(format!("spawn-ready:{template}").as_bytes());
    format!("spawn_rdy_{}_", &hex::encode(digest)[..16])
}

/// Drops template `name` and the copies of it kept ready for later test binaries (see
/// [`finish_background_work`](super::finish_background_work)).
pub async fn drop_template(admin: &PgConnectOptions, name: &str) -> Result<(), TestingError> {
    let mut conn = connect(admin, DEFAULT_CONNECT_TIMEOUT).await?;
    let mut dropped = drop_ready_copies(&mut conn, name).await;
    if dropped.is_ok() {
        dropped = drop_on(&mut conn, name).await;
    }
    let _ = conn.close().await;
    dropped
}

/// Drops the copies of `template` kept ready for later processes.
async fn drop_ready_copies(conn: &mut PgConnection, template: &str) -> Result<(), TestingError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)")
            .bind(ready_prefix(template))
            .fetch_all(&mut *conn)
            .await
            .map_err(TestingError::sql(format!(
                "listing the ready copies of {template}"
            )))?;
    for name in names {
        drop_on(conn, &name).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_short_and_tell_the_test() {
        let a = unique_database_name("orchard::tests::Lists-Trees");
        let b = unique_database_name("orchard::tests::Lists-Trees");
        assert_ne!(a, b);
        assert!(a.starts_with("spawn_test_lists_trees_"), "{a}");
        let long = unique_database_name(&"x".repeat(200));
        assert!(long.len() <= 63, "{long}");
    }
}
