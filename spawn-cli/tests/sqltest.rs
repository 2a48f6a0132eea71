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

/// A role whose catalog row this test holds locked: roles are cluster-wide (unlike advisory
/// locks, which belong to one database), so a test statement altering it in any copy waits.
struct HeldRole {
    holder: sqlx::PgConnection,
    role: String,
}

impl HeldRole {
    async fn hold(role: &str) -> HeldRole {
        let mut holder =
            sqlx::PgConnection::connect_with(&spawn_tests::server().options("postgres"))
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
        HeldRole {
            holder,
            role: role.to_owned(),
        }
    }

    /// Waits (from the server's own state) until a backend running a query containing
    /// `marker` waits for a lock; panics when `child` ends first.
    async fn wait_until_blocked(
        &mut self,
        mut child: std::process::Child,
        marker: &str,
    ) -> std::process::Child {
        loop {
            let blocked: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND strpos(query, $1) > 0 AND pid <> pg_backend_pid())",
            )
            .bind(marker)
            .fetch_one(&mut self.holder)
            .await
            .expect("pg_stat_activity");
            if blocked {
                return child;
            }
            if child.try_wait().expect("try_wait").is_some() {
                let output = child.wait_with_output().expect("output");
                panic!("the run ended early: {output:?}");
            }
            // Re-read activity in a new snapshot on the next round.
            sqlx::query("SELECT pg_stat_clear_snapshot()")
                .execute(&mut self.holder)
                .await
                .expect("clear snapshot");
        }
    }

    /// Releases the row and drops the role; the connection, for more checks.
    async fn release(mut self) -> sqlx::PgConnection {
        sqlx::raw_sql(&format!("ROLLBACK; DROP ROLE \"{}\"", self.role))
            .execute(&mut self.holder)
            .await
            .expect("release and drop the role");
        self.holder
    }
}

/// Ctrl-C to `child`, which must end with 130 saying it was interrupted.
async fn interrupt(child: std::process::Child) {
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
}

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
    let mut held = HeldRole::hold(&role).await;
    write(
        root,
        "db/tests/blocked/test.sql",
        // LISTEN makes it run in a copy of its own, which must be dropped too.
        &format!("LISTEN spawn_test;\nALTER ROLE \"{role}\" CONNECTION LIMIT 5;\n"),
    );
    let child = common::spawn_process()
        .current_dir(root)
        .env("SPAWN_TEST_URL", &db.url)
        .args(["test", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn test run");
    let child = held.wait_until_blocked(child, "CONNECTION LIMIT 5").await;
    assert!(
        !leftover_databases().await.is_empty(),
        "the run has its copies"
    );
    interrupt(child).await;
    let mut holder = held.release().await;
    let template = spawn_sqltest::runner::template_name(&root.join("db"), "dev");
    let open: bool = sqlx::query_scalar("SELECT datallowconn FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_one(&mut holder)
        .await
        .expect("the template");
    assert!(!open, "the template takes no connections between runs");
    let _ = holder.close().await;
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

/// The data migration of the migration tests: `person.name` split into first and last name,
/// between a migration that creates the table and one that adds a column afterwards.
const SPLIT: &str = "20250103000000-split-name";

fn data_migration_project(db: &TestDb) -> tempfile::TempDir {
    let dir = project(db);
    let root = dir.path();
    write(
        root,
        "db/migrations/20250102000000-person/up.sql",
        "CREATE TABLE person (id serial PRIMARY KEY, name text NOT NULL);\n",
    );
    write(
        root,
        &format!("db/migrations/{SPLIT}/up.sql"),
        "ALTER TABLE person ADD COLUMN first_name text, ADD COLUMN last_name text;\n\
         UPDATE person SET first_name = split_part(name, ' ', 1),\n\
         last_name = CASE WHEN strpos(name, ' ') > 0 THEN substr(name, strpos(name, ' ') + 1) END;\n\
         ALTER TABLE person DROP COLUMN name;\n",
    );
    write(
        root,
        "db/migrations/20250104000000-email/up.sql",
        "ALTER TABLE person ADD COLUMN email text;\n",
    );
    dir
}

/// What `migrations/<SPLIT>/test.sql` prints after the split of the seeded rows.
const SPLIT_OUTPUT: &str = " id | first_name | last_name \n----+------------+-----------\n  1 | Ada        | Lovelace\n  2 | Cher       | \n(2 rows)\n\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_data_migration_is_tested_on_rows_seeded_in_the_old_shape() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_migration").await;
    let dir = data_migration_project(&db);
    let root = dir.path();
    let folder = root.join("db/migrations").join(SPLIT);

    spawn_in(root, &db)
        .args(["test", "new", "--migration", SPLIT])
        .assert()
        .success()
        .stdout(predicate::str::contains("test.sql"));
    assert!(folder.join("test.sql").is_file());
    assert!(
        std::fs::read_to_string(folder.join("before.sql"))
            .expect("before.sql")
            .starts_with("{#"),
        "before.sql is only a comment"
    );
    spawn_in(root, &db)
        .args(["test", "new", "--migration", SPLIT])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "exists already; nothing was overwritten",
        ));

    write(
        root,
        &format!("db/migrations/{SPLIT}/before.sql"),
        "INSERT INTO person (name) VALUES ('Ada Lovelace'), ('Cher');\nSELECT 'seeded';\n",
    );
    write(
        root,
        &format!("db/migrations/{SPLIT}/test.sql"),
        "SELECT * FROM person ORDER BY id;\n",
    );
    // An ordinary test runs beside it, in the fully migrated database.
    write(
        root,
        "db/tests/columns/test.sql",
        "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'person';\n",
    );
    write(
        root,
        "db/tests/columns/expected",
        " n \n---\n 4\n(1 row)\n\n",
    );

    let name = format!("migration:{SPLIT}");
    spawn_in(root, &db)
        .args(["test", "build", &name])
        .assert()
        .success()
        .stdout(
            "-- before.sql\nINSERT INTO person (name) VALUES ('Ada Lovelace'), ('Cher');\n\
             SELECT 'seeded';\n-- test.sql\nSELECT * FROM person ORDER BY id;\n",
        );
    // Only the migrations before it, before.sql, the migration: not the later `email`.
    spawn_in(root, &db)
        .args(["test", "run", &name])
        .assert()
        .success()
        .stdout(SPLIT_OUTPUT);
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "migrations/{SPLIT}: no expected output; run `spawn test expect {name}` to record it"
        )));
    let output = spawn_in(root, &db)
        .args(["test", "expect", "migration:*"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.matches("wrote ").count(),
        1,
        "the glob selects the migration test only: {stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("expected")).expect("expected"),
        SPLIT_OUTPUT
    );

    // The first migration has a test too: its template holds no migration at all.
    write(
        root,
        "db/migrations/20250101000000-fruit/test.sql",
        "SELECT count(*) AS n FROM fruit;\n",
    );
    write(
        root,
        "db/migrations/20250101000000-fruit/expected",
        " n \n---\n 2\n(1 row)\n\n",
    );
    let junit = root.join("report.xml");
    spawn_in(root, &db)
        .args(["test", "compare", "-j", "2", "--junit"])
        .arg(&junit)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("ok {name}")))
        .stdout(predicate::str::contains(
            "ok migration:20250101000000-fruit",
        ))
        .stdout(predicate::str::contains("ok columns"))
        .stdout(predicate::str::contains("3 passed, 0 failed"));
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(xml.contains(&name), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    let template = spawn_sqltest::runner::template_name(&root.join("db"), "dev");
    let before_split =
        spawn_sqltest::runner::migration_tests::prefix_template_name(&template, SPLIT);
    assert!(
        database_exists(&before_split).await,
        "the template before the migration is kept for the next run"
    );
    assert_eq!(leftover_databases().await, Vec::<String>::new());

    // A wrong expected output fails with its diff.
    write(
        root,
        &format!("db/migrations/{SPLIT}/expected"),
        &SPLIT_OUTPUT.replace("Lovelace", "Byron"),
    );
    spawn_in(root, &db)
        .args(["test", "compare", &name])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "--- migrations/{SPLIT}/expected"
        )))
        .stdout(predicate::str::contains("-  1 | Ada        | Byron\n"))
        .stdout(predicate::str::contains("+  1 | Ada        | Lovelace\n"))
        .stdout(predicate::str::contains("0 passed, 1 failed"));
    assert_eq!(leftover_databases().await, Vec::<String>::new());

    // --keep keeps the failed test's database, migrated with the seeded rows.
    let output = spawn_in(root, &db)
        .args(["test", "compare", &name, "--keep"])
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
    sqlx::raw_sql(&format!("DROP DATABASE \"{kept}\""))
        .execute(&mut admin)
        .await
        .expect("drop the kept database");
    let _ = admin.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_migration_tests_are_refused_leaving_nothing_behind() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_migration_bad").await;
    let dir = data_migration_project(&db);
    let root = dir.path();
    let template = spawn_sqltest::runner::template_name(&root.join("db"), "dev");

    // `test new` for a migration that does not exist.
    spawn_in(root, &db)
        .args(["test", "new", "--migration", "split-name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "there is no migration \"split-name\" in {}; nothing was created. \
             `spawn migration status` lists the migrations (give the folder name, \
             e.g. 20250101000000-split-name)",
            root.join("db/migrations").display()
        )));
    assert!(!root.join("db/migrations/split-name").exists());

    // A test in a migration folder without the migration.
    write(
        root,
        "db/migrations/20250105000000-gone/test.sql",
        "SELECT 1;\n",
    );
    write(root, "db/tests/ok/test.sql", "SELECT 1;\n");
    let gone = root.join("db/migrations/20250105000000-gone");
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{} tests migration 20250105000000-gone, which does not exist ({} has no up.sql): \
             `ls {}` lists the migrations; move the test to the migration it belongs to",
            gone.join("test.sql").display(),
            gone.display(),
            root.join("db/migrations").display()
        )));
    assert!(
        !database_exists(&template).await,
        "nothing ran: no template"
    );
    assert_eq!(leftover_databases().await, Vec::<String>::new());
    std::fs::remove_dir_all(&gone).expect("rm");

    // A name that selects no migration test.
    spawn_in(root, &db)
        .args(["test", "run", "migration:nope"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no test matches \"migration:nope\"",
        ));

    // before.sql fails: its file and the server's error, and nothing left behind.
    write(
        root,
        &format!("db/migrations/{SPLIT}/before.sql"),
        "INSERT INTO person (first_name) VALUES ('Ada');\n",
    );
    write(
        root,
        &format!("db/migrations/{SPLIT}/test.sql"),
        "SELECT * FROM person;\n",
    );
    spawn_in(root, &db)
        .args(["test", "run", &format!("migration:{SPLIT}")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "migrations/{SPLIT}/before.sql failed, so the migration was not applied"
        )))
        .stderr(predicate::str::contains(
            "column \"first_name\" of relation \"person\" does not exist",
        ));
    assert_eq!(leftover_databases().await, Vec::<String>::new());
    // When comparing, it is one failed test among the others, with the same message.
    write(
        root,
        &format!("db/migrations/{SPLIT}/expected"),
        "anything\n",
    );
    spawn_in(root, &db)
        .args(["test", "compare", "--junit"])
        .arg(root.join("report.xml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            ": migrations/{SPLIT}/before.sql failed, so the migration was not applied"
        )))
        .stdout(predicate::str::contains("0 passed, 2 failed"));
    let xml = std::fs::read_to_string(root.join("report.xml")).expect("the JUnit report");
    assert!(xml.contains("before.sql failed"), "{xml}");
    assert_eq!(leftover_databases().await, Vec::<String>::new());
    std::fs::remove_file(root.join(format!("db/migrations/{SPLIT}/expected"))).expect("rm");

    // The migration fails on the seeded rows: named, and nothing left behind.
    write(
        root,
        &format!("db/migrations/{SPLIT}/before.sql"),
        "INSERT INTO person (name) VALUES ('Ada Lovelace');\n",
    );
    write(
        root,
        &format!("db/migrations/{SPLIT}/up.sql"),
        "ALTER TABLE person ADD COLUMN first_name text NOT NULL;\n",
    );
    spawn_in(root, &db)
        .args(["test", "run", &format!("migration:{SPLIT}")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "applying migration {SPLIT} failed"
        )))
        .stderr(predicate::str::contains("first_name"));
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_drops_the_copy_of_a_migration_test() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_migration_interrupt").await;
    let dir = data_migration_project(&db);
    let root = dir.path();
    // before.sql blocks on a row of a shared catalog that this test holds, so the run is in
    // flight, with the test's copy made.
    let role = format!("{}_role", db.name);
    let mut held = HeldRole::hold(&role).await;
    write(
        root,
        &format!("db/migrations/{SPLIT}/before.sql"),
        &format!("ALTER ROLE \"{role}\" CONNECTION LIMIT 6;\n"),
    );
    write(
        root,
        &format!("db/migrations/{SPLIT}/test.sql"),
        "SELECT 1;\n",
    );
    let child = common::spawn_process()
        .current_dir(root)
        .env("SPAWN_TEST_URL", &db.url)
        .args(["test", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn test run");
    let child = held.wait_until_blocked(child, "CONNECTION LIMIT 6").await;
    assert_eq!(
        leftover_databases().await.len(),
        1,
        "the migration test has its copy"
    );
    interrupt(child).await;
    let holder = held.release().await;
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
        "\\sessions a\n\\session a\nSELECT 1;\n\\session b\nSELECT 2;\n",
    );
    spawn_in(root, &db)
        .args(["test", "compare"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tests/race/test.sql"))
        .stderr(predicate::str::contains(
            "line 4: session b is used before it is declared; declare the test's sessions above their first use, e.g. `\\sessions b`",
        ))
        .stderr(predicate::str::contains("nothing was run"));
    assert!(
        !database_exists(&template).await,
        "nothing ran: no template"
    );

    write(
        root,
        "db/tests/race/test.sql",
        "\\sessions a b\n{% for s in [\"a\", \"b\"] %}\\session {{ s }}\nBEGIN;\n{% endfor %}\
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

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_that_fails_in_the_template_is_named_and_nothing_is_left() {
    let _one = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new("sqltest_bad_migration").await;
    let dir = project(&db);
    let root = dir.path();
    write(
        root,
        "db/migrations/20250102000000-broken/up.sql",
        "INSERT INTO no_such_table VALUES (1);\n",
    );
    write(root, "db/tests/t/test.sql", "SELECT 1;\n");
    let template = spawn_sqltest::runner::template_name(&root.join("db"), "dev");
    spawn_in(root, &db)
        .args(["test", "run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "migrating the test template {template}"
        )))
        .stderr(predicate::str::contains("20250102000000-broken"))
        .stderr(predicate::str::contains("no_such_table"));
    assert!(
        !database_exists(&template).await,
        "a template that did not migrate is not kept"
    );
    assert_eq!(leftover_databases().await, Vec::<String>::new());
}
