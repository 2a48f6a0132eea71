//! `spawn diff`'s filters and switches against two real databases: `--schema`,
//! `--exclude-schema`, `--with-privileges`, `--ignore-extension-versions`,
//! `--create-extensions-only`, `--no-renames`, `--unsafe` and `--summary`, with migra's exit
//! codes (0 equal, 2 different, 3 unsafe statements refused).

use spawn_tests::TestDb;

mod common;
use common::spawn;

/// Two fresh databases loaded with `a` and `b`.
async fn pair(label: &str, a: &str, b: &str) -> (TestDb, TestDb) {
    let (da, db) = (
        TestDb::new(&format!("{label}_a")).await,
        TestDb::new(&format!("{label}_b")).await,
    );
    sqlx::raw_sql(a).execute(&da.pool).await.expect("load a");
    sqlx::raw_sql(b).execute(&db.pool).await.expect("load b");
    (da, db)
}

/// Runs `spawn diff a b <flags>` from a folder without spawn.toml: (exit code, stdout, stderr).
fn diff(a: &TestDb, b: &TestDb, flags: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = spawn()
        .current_dir(dir.path())
        .arg("diff")
        .arg(&a.url)
        .arg(&b.url)
        .args(flags)
        .output()
        .expect("run spawn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn schema_filters() {
    let (a, b) = pair(
        "diff_schemas",
        "CREATE SCHEMA app; CREATE SCHEMA audit;",
        "CREATE SCHEMA app; CREATE SCHEMA audit; CREATE TABLE app.t (id int); CREATE TABLE audit.log (id int);",
    )
    .await;
    let (code, sql, err) = diff(&a, &b, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(sql.contains("app.t") && sql.contains("audit.log"), "{sql}");

    let (code, sql, err) = diff(&a, &b, &["--schema", "app"]);
    assert_eq!(code, 2, "{err}");
    assert!(sql.contains("app.t") && !sql.contains("audit"), "{sql}");

    let (code, sql, err) = diff(&a, &b, &["--exclude-schema", "audit"]);
    assert_eq!(code, 2, "{err}");
    assert!(sql.contains("app.t") && !sql.contains("audit"), "{sql}");

    let (code, sql, err) = diff(
        &a,
        &b,
        &["--exclude-schema", "audit", "--exclude-schema", "app"],
    );
    assert_eq!((code, sql.as_str()), (0, ""), "{err}");
}

#[tokio::test]
async fn privileges_only_with_the_flag() {
    let role = spawn_tests::unique_name("diff_reader");
    let setup = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role}; END IF; END $$;"
    );
    let (a, b) = pair(
        "diff_privs",
        &format!("{setup} CREATE TABLE t (id int);"),
        &format!("{setup} CREATE TABLE t (id int); GRANT SELECT ON t TO {role};"),
    )
    .await;
    let (code, sql, err) = diff(&a, &b, &[]);
    assert_eq!(
        (code, sql.as_str()),
        (0, ""),
        "privileges compared without --with-privileges: {err}"
    );
    let (code, sql, err) = diff(&a, &b, &["--with-privileges"]);
    assert_eq!(code, 2, "{err}");
    assert!(sql.contains("GRANT SELECT") && sql.contains(&role), "{sql}");
}

#[tokio::test]
async fn extension_switches() {
    let (a, b) = pair(
        "diff_ext",
        "CREATE EXTENSION hstore VERSION '1.7';",
        "CREATE EXTENSION hstore; CREATE EXTENSION pg_trgm; CREATE TABLE kv (id int, attrs hstore);",
    )
    .await;
    let (code, sql, err) = diff(&a, &b, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        sql.contains("hstore") && sql.contains("UPDATE"),
        "the version change is missing: {sql}"
    );
    assert!(sql.contains("pg_trgm") && sql.contains("kv"), "{sql}");

    let (code, sql, err) = diff(&a, &b, &["--ignore-extension-versions"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        !sql.contains("UPDATE") && !sql.contains("VERSION"),
        "versions compared anyway: {sql}"
    );
    assert!(sql.contains("pg_trgm"), "{sql}");

    let (code, sql, err) = diff(&a, &b, &["--create-extensions-only"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        sql.contains("pg_trgm") && !sql.contains("kv"),
        "more than CREATE EXTENSION: {sql}"
    );
    for line in sql
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("--"))
    {
        assert!(
            line.to_ascii_uppercase().starts_with("CREATE EXTENSION"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn renames_unsafe_and_summary() {
    let (a, b) = pair(
        "diff_rename",
        "CREATE TABLE people (id int, full_name text); INSERT INTO people VALUES (1, 'Ada');",
        "CREATE TABLE people (id int, display_name text);",
    )
    .await;
    let (code, sql, err) = diff(&a, &b, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(sql.contains("RENAME COLUMN"), "{sql}");

    // Without rename detection the column is dropped: refused unless --unsafe (exit 3).
    let (code, sql, err) = diff(&a, &b, &["--no-renames"]);
    assert_eq!(code, 3, "{sql}");
    assert!(
        err.contains("full_name"),
        "the refusal names the statement: {err}"
    );
    assert!(
        err.contains(
            "1 statement(s) may lose data and were refused (run with --unsafe to allow them):"
        ),
        "the refusal says which flag allows it: {err}"
    );
    let (code, sql, err) = diff(&a, &b, &["--no-renames", "--unsafe"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        sql.contains("DROP COLUMN") && !sql.contains("RENAME"),
        "{sql}"
    );

    let (code, text, err) = diff(&a, &b, &["--summary"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        text.contains("people") && !text.contains("ALTER TABLE"),
        "{text}"
    );
    // Nothing was applied to either database.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM people WHERE full_name = 'Ada'")
        .fetch_one(&a.pool)
        .await
        .expect("a intact");
    assert_eq!(n, 1);
}

/// A database that cannot be reached is named by its argument, FROM or TO, without its
/// password; exit 1 (an error, not "differences").
#[tokio::test]
async fn an_unreachable_database_is_named_by_its_argument() {
    let db = TestDb::new("diff_unreachable").await;
    let nowhere = "postgres://nobody:secret@127.0.0.1:1/x";
    for (from, to, argument) in [
        (nowhere, db.url.as_str(), "FROM"),
        (db.url.as_str(), nowhere, "TO"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = spawn()
            .current_dir(dir.path())
            .args(["diff", from, to])
            .output()
            .expect("run spawn");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with(&format!(
                "error: cannot connect to the {argument} database (postgres://nobody@127.0.0.1:1/x): \
                 connection refused by 127.0.0.1:1"
            )),
            "{err}"
        );
        assert!(!err.contains("secret"), "{err}");
        assert!(out.stdout.is_empty());
    }
}
