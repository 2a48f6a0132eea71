//! spawn-schema: read a PostgreSQL database's schema from its catalogs into a typed model, and
//! compute the ordered SQL that turns one schema into another.
//!
//! The pipeline is:
//!
//! 1. [`inspect()`] reads one database into a [`Schema`] (one catalog query per object kind);
//! 2. [`Schema::diff`] compares two schemas and returns a [`Plan`]: statements ordered so that
//!    every object is created after what it depends on and dropped before what depends on it;
//! 3. [`Plan::to_sql`] / [`Plan::summary`] render it, and [`Plan::unsafe_statements`] lists the
//!    statements that may lose data.
//!
//! [`diff_urls`] does all three for two database URLs, inspecting both at once;
//! [`diff_pools`] does the same for two pools the caller has opened.
//!
//! The library reports what happened with typed values: a refused plan is
//! [`DiffError::Unsafe`], a failed connection names the [`Side`] it belongs to. What to print,
//! how to exit and which flag to suggest are the caller's business (the `spawn` CLI's).

mod deps;
mod diff;
mod error;
mod inspect;
pub mod model;
mod online;
mod options;
mod pairs;
mod plan;
mod render;
mod safety;

pub use error::{DiffError, SchemaError, Side};
pub use inspect::inspect;
pub use model::{DecodeError, Object, ObjectId, ObjectKind, Schema};
pub use online::{online, OnlinePlan};
pub use options::Options;
pub use plan::{Action, ObjectChange, Plan, PlannedStatement};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// Connects to both databases, inspects them at once, and plans turning `from` (the
/// [`Side::Source`]) into `to` (the [`Side::Target`]).
///
/// Like [`Schema::diff`], the plan is refused with [`DiffError::Unsafe`] (as
/// [`SchemaError::Diff`]) when it has statements that may lose data and
/// [`Options::allow_unsafe`] is off. Render it with [`Plan::to_sql`] or [`Plan::summary`].
pub async fn diff_urls(from: &str, to: &str, options: &Options) -> Result<Plan, SchemaError> {
    let (from_pool, to_pool) =
        tokio::try_join!(connect(from, Side::Source), connect(to, Side::Target))?;
    diff_pools(from_pool, to_pool, options).await
}

/// [`diff_urls`] for databases the caller has connected to itself (with its own connect
/// timeout and error messages, as the `spawn` CLI does): inspects `from` (the
/// [`Side::Source`]) and `to` (the [`Side::Target`]) at once, closes both pools and plans.
pub async fn diff_pools(
    from_pool: PgPool,
    to_pool: PgPool,
    options: &Options,
) -> Result<Plan, SchemaError> {
    // Inspect both at once, each on a task of its own so a multi-threaded runtime runs them
    // in parallel.
    let spawn_inspect = |pool: PgPool| {
        let options = options.clone();
        tokio::spawn(async move {
            let schema = inspect(&pool, &options).await;
            pool.close().await;
            schema
        })
    };
    let (source, target) = tokio::join!(spawn_inspect(from_pool), spawn_inspect(to_pool));
    let (source, target) = (
        source.map_err(SchemaError::Task)?,
        target.map_err(SchemaError::Task)?,
    );
    let (source, target) = (source?, target?);
    let plan = source.plan(&target, options);
    // Freeing two models of tens of thousands of objects takes a while: a thread of its own
    // does it while the caller renders the result (inline if no thread can be had).
    let schemas = (source, target);
    if let Err(error) = std::thread::Builder::new()
        .name("spawn-schema-drop".into())
        .spawn(move || drop(schemas))
    {
        tracing::debug!(%error, "freeing the schemas on this thread");
    }
    if !options.allow_unsafe {
        plan.check_safe()?;
    }
    Ok(plan)
}

/// A pool of one connection to the database of `side`.
async fn connect(url: &str, side: Side) -> Result<PgPool, SchemaError> {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|source| SchemaError::Connect {
            side,
            url: redact(url),
            source,
        })
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres:///db"), "postgres:///db");
    }
}
