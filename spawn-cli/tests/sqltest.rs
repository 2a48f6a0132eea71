//! `spawn test new|build|run|expect|compare` end to end against a real PostgreSQL: the round
//! trip, a failing comparison with its diff and JUnit report, isolation of clashing tests run
//! in parallel, cleanup after success, failure and Ctrl-C, and every refusal (unknown
//! meta-command, template error, missing expected output, no CREATEDB), each leaving the
//! server unchanged.
//!
//! The tests take one lock in turn: they count the databases a run leaves behind, which a
//! concurrent run would disturb.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::spawn;
use predicates::prelude::*;
use spawn_tests::TestDb;
use sqlx::Connection;
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A project whose target is database `db`: a table with a serial id, a component function
/// included by a migration, a view.
fn project(_db: &TestDb) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "spawn.toml",
        "spawn_folder = \"db\"\ntarget = \"local\"\n\n[targets.local]\nenvironment = \"dev\"\nurl = \"${SPAWN_TEST_URL}\"\n",
    );
    write(
        root,
        "db/components/functions/greet.sql",
        "CREATE FUNCTION greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hello ' || who $$;\n",
    );
    write(
        root,
        "db/migrations/20250101000000-fruit/up.sql",
        "CREATE TABLE fruit (id serial PRIMARY KEY, name text NOT NULL);\n\
         INSERT INTO fruit (name) VALUES ('apple'), ('pear');\n\
         {% include \"functions/greet.sql\" %}\n",
    );
    dir
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn spawn_in(dir: &Path, db: &TestDb) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url);
    c
}

/// The databases whose names say a `spawn test` run made them, templates aside.
async fn leftover_databases() -> Vec<String> {
    let mut admin = spawn_tests::server().admin_connection().await;
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT datname FROM pg_database WHERE datname ~ '^spawn_test_[0-9]+_' ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .expect("list databases");
    let _ = admin.close().await;
    names.into_iter().map(|(n,)| n).collect()
}

async fn database_exists(name: &str) -> bool {
    let mut admin = spawn_tests::server().admin_connection().await;
    let found: Option<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut admin)
            .await
            .expect("look up database");
    let _ = admin.close().await;
    found.is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn new_build_run_expect_compare_round_trip() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_round_trip").await;
    let dir = project(&db);
    let root = dir.path();

    spawn_in(root, &db)
        .args(["test", "new", "greeting"])
        .assert()
        .success()
        .stdout(predicate::str::contains("test.sql"));
    spawn_in(root, &db)
        .args(["test", "new", "greeting"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "exists already; nothing was overwritten",
        ));

    write(
        root,
        "db/tests/greeting/test.sql",
        "SELECT greet({{ env }}) AS greeting, count(*) AS fruit FROM fruit;\n",
    );
    spawn_in(root, &db)
        .args(["test", "build", "greeting"])
        .assert()
        .success()
        .stdout("SELECT greet('dev') AS greeting, count(*) AS fruit FROM fruit;\n");

    let expected = " greeting  | fruit \n-----------+-------\n hello dev |     2\n(1 row)\n\n";
    spawn_in(root, &db)
        .args(["test", "run", "greeting"])
        .assert()
        .success()
        .stdout(expected);
    spawn_in(root, &db)
        .args(["test", "expect", "greeting"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(root.join("db/tests/greeting/expected")).expect("expected"),
        expected
    );
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok greeting"))
        .stdout(predicate::str::contains("1 passed, 0 failed"));
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_difference_fails_with_a_diff_and_a_junit_report() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_diff").await;
    let dir = project(&db);
    let root = dir.path();
    write(
        root,
        "db/tests/count/test.sql",
        "SELECT count(*) AS n FROM fruit;\n",
    );
    write(root, "db/tests/count/expected", " n \n---\n 3\n(1 row)\n\n");
    write(root, "db/tests/fine/test.sql", "\\echo fine\n");
    write(root, "db/tests/fine/expected", "fine\n");
    let junit = root.join("report.xml");
    spawn_in(root, &db)
        .args(["test", "compare", "--junit"])
        .arg(&junit)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("--- tests/count/expected"))
        .stdout(predicate::str::contains("- 3\n+ 2\n"))
        .stdout(predicate::str::contains("1 passed, 1 failed"));
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert!(xml.contains("+ 2"), "the failure carries the diff: {xml}");
    assert_eq!(leftover_databases().await, Vec::<String>::new());

    // --keep keeps the failed test's database and names it.
    let output = spawn_in(root, &db)
        .args(["test", "compare", "count", "--keep"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let kept = stdout
        .lines()
        .find_map(|l| l.strip_prefix("kept its database: "))
        .unwrap_or_else(|| panic!("no kept database in:\n{stdout}"))
        .to_owned();
    assert!(database_exists(&kept).await, "{kept} was kept");
    let mut admin = spawn_tests::server().admin_connection().await;
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{kept}'"
    ))
    .fetch_one(&mut admin)
    .await
    .expect("count");
    assert_eq!(n, 1);
    sqlx::raw_sql(&format!("DROP DATABASE \"{kept}\""))
        .execute(&mut admin)
        .await
        .expect("drop the kept database");
    let _ = admin.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clashing_tests_are_isolated_in_parallel() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_isolation").await;
    let dir = project(&db);
    let root = dir.path();
    // Each would see the other's row (and id) without isolation; one needs its own
    // database (VACUUM), one uses its own transaction, one sets session state.
    let body = "INSERT INTO fruit (name) VALUES ('kiwi') RETURNING id;\nSELECT count(*) AS n FROM fruit;\n";
    let out = " id \n----\n  3\n(1 row)\n\n n \n---\n 3\n(1 row)\n\n";
    for name in ["a", "b", "c", "d"] {
        write(root, &format!("db/tests/{name}/test.sql"), body);
        write(root, &format!("db/tests/{name}/expected"), out);
    }
    write(
        root,
        "db/tests/e/test.sql",
        &format!("VACUUM fruit;\n{body}"),
    );
    write(root, "db/tests/e/expected", out);
    write(
        root,
        "db/tests/f/test.sql",
        &format!("BEGIN;\n{body}COMMIT;\n"),
    );
    write(root, "db/tests/f/expected", out);
    write(
        root,
        "db/tests/g/test.sql",
        &format!(
            "SET search_path = nowhere;\nPREPARE p AS SELECT 1;\nSET search_path = public;\n{body}"
        ),
    );
    write(root, "db/tests/g/expected", out);
    spawn_in(root, &db)
        .args(["test", "compare", "-j", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("7 passed, 0 failed"));
    // The target database itself is untouched.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'fruit'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(n, 0, "spawn test never migrates the target database itself");
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tests_are_refused_before_anything_runs() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_bad").await;
    let dir = project(&db);
    let root = dir.path();
    let template = spawn_sqltest::runner::template_name(&root.join("db"), "dev");

    write(root, "db/tests/ok/test.sql", "SELECT 1;\n");
    write(root, "db/tests/meta/test.sql", "SELECT 1;\n\n\\d fruit\n");
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tests/meta/test.sql"))
        .stderr(predicate::str::contains("line 3"))
        .stderr(predicate::str::contains("\\d"))
        .stderr(predicate::str::contains("nothing was run"));
    assert!(
        !database_exists(&template).await,
        "nothing ran: no template"
    );

    std::fs::remove_dir_all(root.join("db/tests/meta")).expect("rm");
    write(root, "db/tests/broken/test.sql", "SELECT 1;\n{% if %}\n");
    spawn_in(root, &db)
        .args(["test", "run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "tests/broken/test.sql:2: syntax error",
        ));
    assert!(
        !database_exists(&template).await,
        "nothing ran: no template"
    );

    std::fs::remove_dir_all(root.join("db/tests/broken")).expect("rm");
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "tests/ok: no expected output; run `spawn test expect ok` to record it",
        ));

    spawn_in(root, &db)
        .args(["test", "run", "nope*"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no test matches \"nope*\""))
        .stderr(predicate::str::contains("ok"));
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_without_createdb_is_told_which_privilege_it_needs() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_nocreatedb").await;
    let role = format!("{}_role", db.name);
    sqlx::raw_sql(&format!(
        "CREATE ROLE \"{role}\" LOGIN NOCREATEDB; GRANT ALL ON DATABASE \"{}\" TO \"{role}\"",
        db.name
    ))
    .execute(&db.pool)
    .await
    .expect("create role");
    let options = spawn_tests::server().options(&db.name).username(&role);
    let url = sqlx::ConnectOptions::to_url_lossy(&options).to_string();
    let dir = project(&db);
    let root = dir.path();
    write(root, "db/tests/t/test.sql", "SELECT 1;\n");
    spawn()
        .current_dir(root)
        .env("SPAWN_TEST_URL", &url)
        .args(["test", "run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("CREATEDB"));
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_drops_every_database_of_the_run() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_interrupt").await;
    let dir = project(&db);
    let root = dir.path();
    // The test blocks on a row of a shared catalog (roles are cluster-wide, unlike advisory
    // locks, which belong to one database) that this test holds, so the run is in flight.
    let role = format!("{}_role", db.name);
    let mut holder = sqlx::PgConnection::connect_with(&spawn_tests::server().options("postgres"))
        .await
        .expect("connect");
    sqlx::raw_sql(&format!("CREATE ROLE \"{role}\""))
        .execute(&mut holder)
        .await
        .expect("create the role");
    sqlx::raw_sql(&format!(
        "BEGIN; SELECT 1 FROM pg_authid WHERE rolname = '{role}' FOR UPDATE"
    ))
    .execute(&mut holder)
    .await
    .expect("hold the role's row");
    write(
        root,
        "db/tests/blocked/test.sql",
        &format!("ALTER ROLE \"{role}\" CONNECTION LIMIT 5;\n"),
    );
    let mut child = common::spawn_process()
        .current_dir(root)
        .env("SPAWN_TEST_URL", &db.url)
        .args(["test", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn test run");
    // Wait (from the server) until the test's backend waits for the lock.
    loop {
        let blocked: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE '%CONNECTION LIMIT 5%' AND pid <> pg_backend_pid())",
        )
        .fetch_one(&mut holder)
        .await
        .expect("pg_stat_activity");
        if blocked {
            break;
        }
        if child.try_wait().expect("try_wait").is_some() {
            let output = child.wait_with_output().expect("output");
            panic!("the run ended early: {output:?}");
        }
        // Re-read activity in a new snapshot on the next round.
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&mut holder)
            .await
            .expect("clear snapshot");
    }
    assert!(
        !leftover_databases().await.is_empty(),
        "the run has its copies"
    );
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    sqlx::raw_sql(&format!("ROLLBACK; DROP ROLE \"{role}\""))
        .execute(&mut holder)
        .await
        .expect("release and drop the role");
    let _ = holder.close().await;
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_sessions_run_in_a_database_of_their_own_and_compare() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_sessions").await;
    let dir = project(&db);
    let root = dir.path();
    let template = spawn_sqltest::runner::template_name(&root.join("db"), "dev");

    write(
        root,
        "db/tests/race/test.sql",
        "SELECT 1;\n\\session {{ \"2a\" }}\n",
    );
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tests/race/test.sql"))
        .stderr(predicate::str::contains(
            "line 2: \\session takes one session name (a letter or _, then letters, digits or _), not \"2a\"",
        ))
        .stderr(predicate::str::contains("nothing was run"));
    assert!(
        !database_exists(&template).await,
        "nothing ran: no template"
    );

    write(
        root,
        "db/tests/race/test.sql",
        "{% for s in [\"a\", \"b\"] %}\\session {{ s }}\nBEGIN;\n{% endfor %}\
         \\session a\nUPDATE fruit SET name = 'quince' WHERE id = 1;\n\
         \\session b\nUPDATE fruit SET name = 'medlar' WHERE id = 1;\n\
         \\session a\nCOMMIT;\n\
         \\session b\nCOMMIT;\nSELECT name FROM fruit WHERE id = 1;\n",
    );
    let expected = "session b waiting: UPDATE fruit SET name = 'medlar' WHERE id = 1;\n\
                    session b completed: UPDATE fruit SET name = 'medlar' WHERE id = 1;\n\
                    \x20 name  \n--------\n medlar\n(1 row)\n\n";
    spawn_in(root, &db)
        .args(["test", "run", "race"])
        .assert()
        .success()
        .stdout(expected);
    spawn_in(root, &db)
        .args(["test", "expect", "race"])
        .assert()
        .success();
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}
