//! Loading a folder of declarative SQL files (`--schema-dir`) into a database, in an order
//! that satisfies their dependencies.
//!
//! Files run one at a time, each in a transaction of its own, in path order; the ones that
//! fail are tried again after the others, pass after pass, until every file ran or a pass
//! makes no progress. Then the error names each file still failing, with the line and the
//! message of its last failure.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use sqlx::postgres::{PgDatabaseError, PgErrorPosition};
use sqlx::PgPool;

/// Why a file failed in the last pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// The `.sql` files under `dir`, in path order.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "--schema-dir {}: no such folder; point it at a folder of .sql files that declare the schema",
            dir.display()
        );
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "--schema-dir {}: no .sql files in it; put the statements that declare the schema in .sql files there",
            dir.display()
        );
    }
    Ok(files)
}

/// Runs every file of `dir` on `pool` (see the module documentation); the number of passes.
pub async fn load(pool: &PgPool, dir: &Path) -> Result<usize> {
    let mut pending: Vec<(PathBuf, String)> = Vec::new();
    for path in files(dir)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow!("{}: cannot be read: {e}", path.display()))?;
        pending.push((path, text));
    }
    let mut passes = 0;
    loop {
        passes += 1;
        let mut failed = Vec::new();
        let mut failures = Vec::new();
        let before = pending.len();
        for (path, text) in pending {
            match run_file(pool, &text).await {
                Ok(()) => {}
                Err((e, line)) => {
                    failures.push(failure(&path, &e, line));
                    failed.push((path, text));
                }
            }
        }
        if failed.is_empty() {
            return Ok(passes);
        }
        if failed.len() == before {
            let list: Vec<String> = failures
                .iter()
                .map(|f| match f.line {
                    Some(line) => format!("  {}:{line}: {}", f.path.display(), f.message),
                    None => format!("  {}: {}", f.path.display(), f.message),
                })
                .collect();
            bail!(
                "--schema-dir {}: {} file(s) still fail after retrying them in every order that made \
                 progress ({passes} pass(es)); nothing was generated:\n{}\nFix these files (a missing \
                 object is declared in no file, or a statement is wrong) and run it again",
                dir.display(),
                failures.len(),
                list.join("\n")
            );
        }
        pending = failed;
    }
}

/// Runs one file in a transaction, statement by statement when spawn's SQL splitter reads
/// it (so a failure has the line of its statement), else whole.
async fn run_file(pool: &PgPool, text: &str) -> Result<(), (sqlx::Error, Option<usize>)> {
    let mut tx = pool.begin().await.map_err(|e| (e, None))?;
    match spawn_build::analyze::analyze(text) {
        Ok(analysis) => {
            for st in &analysis.statements {
                let sql = &text[st.start..st.end];
                if let Err(e) = sqlx::raw_sql(sql).execute(&mut *tx).await {
                    let within = position(&e).map(|at| line_of(sql, at) - 1).unwrap_or(0);
                    return Err((e, Some(st.line as usize + within)));
                }
            }
        }
        Err(_) => {
            if let Err(e) = sqlx::raw_sql(text).execute(&mut *tx).await {
                let line = position(&e).map(|at| line_of(text, at));
                return Err((e, line));
            }
        }
    }
    tx.commit().await.map_err(|e| (e, None))
}

/// The 1-based character position PostgreSQL reported for an error, if any.
fn position(e: &sqlx::Error) -> Option<usize> {
    let pg = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())?;
    match pg.position() {
        Some(PgErrorPosition::Original(at)) => Some(at),
        _ => None,
    }
}

fn failure(path: &Path, e: &sqlx::Error, line: Option<usize>) -> Failure {
    let message = match e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
    {
        Some(d) => d.message().to_string(),
        None => e.to_string(),
    };
    Failure {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// The 1-based line of the 1-based character position `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    1 + text
        .chars()
        .take(at.saturating_sub(1))
        .filter(|&c| c == '\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_become_lines() {
        assert_eq!(line_of("a\nb\nc", 1), 1);
        assert_eq!(line_of("a\nb\nc", 3), 2);
        assert_eq!(line_of("a\nb\nc", 5), 3);
    }
}
