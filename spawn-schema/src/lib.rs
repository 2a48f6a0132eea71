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
//! [`diff_urls`] does the whole job of the `spawn diff` command for two database URLs.

mod deps;
mod diff;
mod error;
mod heap;
mod inspect;
pub mod model;
mod options;
mod pairs;
mod plan;
mod render;
mod safety;

pub use error::{DiffError, SchemaError};
pub use heap::reserve_heap_headroom;
pub use inspect::inspect;
pub use model::{Object, ObjectId, ObjectKind, Schema};
pub use options::Options;
pub use plan::{Action, Plan, PlannedStatement};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

/// What `spawn diff` prints and how it exits, for two databases.
#[derive(Debug, Clone)]
pub struct DiffOutcome {
    /// The full plan (including unsafe statements, if any).
    pub plan: Plan,
    /// The migration SQL (empty when there are no differences).
    pub sql: String,
    /// A human-readable list of the changes.
    pub summary: String,
    /// Whether unsafe statements were refused (the plan has some and `allow_unsafe` is off).
    pub refused: bool,
}

impl DiffOutcome {
    /// The process exit code with migra's convention: 0 when there are no differences,
    /// 2 when there are, 3 when unsafe statements were refused.
    pub fn exit_code(&self) -> i32 {
        if self.refused {
            3
        } else if self.plan.is_empty() {
            0
        } else {
            2
        }
    }

    /// What the command prints to stdout: the SQL, or the summary when `summary` is set.
    /// When unsafe statements were refused, nothing is printed to stdout; see
    /// [`DiffOutcome::refusal_message`].
    pub fn stdout(&self, summary: bool) -> &str {
        if self.refused {
            ""
        } else if summary {
            &self.summary
        } else {
            &self.sql
        }
    }

    /// The message listing the refused statements (for stderr), when there are some.
    pub fn refusal_message(&self) -> Option<String> {
        self.refused.then(|| self.plan.refusal_message())
    }
}

/// Connects to both databases, inspects them, and diffs `from` into `to`.
///
/// This is the whole job of `spawn diff FROM TO`; the caller prints
/// [`DiffOutcome::stdout`] and exits with [`DiffOutcome::exit_code`].
pub async fn diff_urls(
    from: &str,
    to: &str,
    options: &Options,
) -> Result<DiffOutcome, SchemaError> {
    let (from_pool, to_pool) = tokio::try_join!(connect(from, "FROM"), connect(to, "TO"))?;
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
    let refused = !options.allow_unsafe && !plan.unsafe_statements().is_empty();
    // Freeing two models of tens of thousands of objects takes a while: a thread of its own
    // does it while the caller prints the result (inline if no thread can be had).
    let schemas = (source, target);
    if let Err(error) = std::thread::Builder::new()
        .name("spawn-schema-drop".into())
        .spawn(move || drop(schemas))
    {
        tracing::debug!(%error, "freeing the schemas on this thread");
    }
    Ok(DiffOutcome {
        sql: plan.to_sql(),
        summary: plan.summary(),
        refused,
        plan,
    })
}

async fn connect(url: &str, which: &'static str) -> Result<PgPool, SchemaError> {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|source| SchemaError::Connect {
            which,
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
