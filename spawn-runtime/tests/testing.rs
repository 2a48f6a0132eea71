//! `spawn_runtime::testing` against a real PostgreSQL (DATABASE_URL, else a throwaway
//! cluster): templates built, reused and rebuilt by fingerprint; databases dropped on pass
//! and kept on fail; each argument kind, environments, fixtures and their errors.
//!
//! Each test names its own package (so its own template) and removes what it made.

use std::panic::{catch_unwind, AssertUnwindSafe};

use spawn_runtime::embedded::{EmbeddedMigration, EmbeddedRender};
use spawn_runtime::sqlx::postgres::PgConnectOptions;
use spawn_runtime::sqlx::{self, ConnectOptions, Connection, PgConnection, PgPool};
use spawn_runtime::testing::{
    advance_template, drop_database, fingerprint, finish_background_work, prepare_template,
    run_test, run_test_async, server, template_name, TemplateAdvance, TemplateState, TestConfig,
    TestingError,
};
use spawn_runtime::{Migration, Migrations, Migrator, Statement};

/// A transactional migration running all of `sql`.
fn migration(name: &'static str, sql: &'static str) -> Migration {
    Migration::new(
        name,
        sql,
        vec![Statement {
            start: 0,
            end: sql.len(),
            line: 1,
            recovery: spawn_runtime::Recovery::Transactional,
        }],
    )
}

/// An embedded set (what `embed_migrations!()` makes): per migration, its renders by env.
fn embedded(set: &[(&'static str, &[(&'static str, &'static str)])]) -> &'static Migrations {
    let migrations: Vec<EmbeddedMigration> = set
        .iter()
        .map(|(name, renders)| EmbeddedMigration {
            name,
            renders: Box::leak(
                renders
                    .iter()
                    .map(|(environment, sql)| EmbeddedRender {
                        environment,
                        migration: migration(name, sql),
                    })
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
        })
        .collect();
    Box::leak(Box::new(Migrations::__from_embedded(
        Box::leak(migrations.into_boxed_slice()),
        "dev",
        "_spawn",
    )))
}

fn fruit() -> &'static Migrations {
    embedded(&[
        (
            "20250101000000-fruit",
            &[
                (
                    "dev",
                    "CREATE TABLE fruit (name text PRIMARY KEY); INSERT INTO fruit VALUES ('dev apple')",
                ),
                ("prod", "CREATE TABLE fruit (name text PRIMARY KEY)"),
            ],
        ),
        (
            "20250102000000-tree",
            &[
                ("dev", "CREATE TABLE tree (id int)"),
                ("prod", "CREATE TABLE tree (id int)"),
            ],
        ),
    ])
}

/// Panics with `message` as a `&'static str` payload (a body that only panics would have
/// type `!`, which the tests' closures cannot return).
fn fail(message: &'static str) {
    std::panic::panic_any(message)
}

fn config(package: &'static str, migrations: Option<&'static Migrations>) -> TestConfig {
    TestConfig {
        test: "testing::case",
        package,
        manifest_dir: env!("CARGO_MANIFEST_DIR"),
        migrations,
        env: None,
        fixtures: &[],
    }
}

async fn admin() -> PgConnection {
    let server = server().expect("a server for the tests");
    server
        .admin_options()
        .connect()
        .await
        .expect("the maintenance connection")
}

async fn database_oid(name: &str) -> Option<u32> {
    let oid: Option<sqlx::postgres::types::Oid> =
        sqlx::query_scalar("SELECT oid FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut admin().await)
            .await
            .expect("reading pg_database");
    oid.map(|o| o.0)
}

async fn comment_of(name: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut admin().await)
    .await
    .expect("reading the comment")
    .flatten()
}

async fn drop_template(config: &TestConfig, env: &str) {
    let name = template_name(config.package, config.manifest_dir, env);
    let admin = server().expect("server").admin_options().clone();
    spawn_runtime::testing::drop_template(&admin, &name)
        .await
        .expect("dropping the template");
}

/// The databases whose names begin with `prefix`.
async fn databases_named(prefix: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1",
    )
    .bind(prefix)
    .fetch_all(&mut admin().await)
    .await
    .expect("list the databases")
}

/// A copy of the template that an earlier test binary kept ready (named and commented as
/// `finish_background_work` leaves them) is what the next test gets; one from another build
/// of the template (another fingerprint) is dropped, never used; `drop_template` drops the
/// template and every ready copy.
#[tokio::test]
async fn a_ready_copy_kept_by_an_earlier_binary_is_taken_and_a_stale_one_dropped() {
    let config = TestConfig {
        test: "testing::ready",
        ..config("testing-ready", Some(fruit()))
    };
    let ok = |_: PgPool| async {};
    // Build the template, then end this process's background work as a binary's exit does.
    let first = run_test_async(config, ok)
        .await
        .expect("the first test ran");
    assert!(first.passed());
    tokio::task::spawn_blocking(finish_background_work)
        .await
        .expect("the background work finished");
    let template = template_name(config.package, config.manifest_dir, "dev");
    let prefix = spawn_runtime::testing::ready_prefix(&template);
    let kept = databases_named(&prefix).await;
    assert!(kept.len() <= 4, "at most 4 ready copies: {kept:?}");
    let fingerprint = comment_of(&template)
        .await
        .expect("the template's fingerprint");
    for name in &kept {
        assert_eq!(
            comment_of(name).await.as_deref(),
            Some(fingerprint.as_str()),
            "{name}"
        );
    }
    // Only the copies this test makes from now on.
    let admin_options = server().expect("server").admin_options().clone();
    for name in kept {
        drop_database(&admin_options, &name)
            .await
            .expect("drop a ready copy");
    }
    let (fresh, stale) = (format!("{prefix}fresh"), format!("{prefix}stale"));
    let mut conn = admin().await;
    for (name, comment) in [(&stale, "stale"), (&fresh, fingerprint.as_str())] {
        for statement in [
            format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            format!("COMMENT ON DATABASE \"{name}\" IS '{comment}'"),
        ] {
            sqlx::raw_sql(&statement)
                .execute(&mut conn)
                .await
                .expect("a ready copy");
        }
    }
    // Marks the fresh copy, to recognise it in the test.
    let mut marked = server()
        .expect("server")
        .options(&fresh)
        .connect()
        .await
        .expect("connect to the fresh copy");
    sqlx::raw_sql("CREATE TABLE marker ()")
        .execute(&mut marked)
        .await
        .expect("mark it");
    marked.close().await.expect("close");

    let second = run_test_async(config, |pool: PgPool| async move {
        let marker: Option<String> = sqlx::query_scalar("SELECT to_regclass('marker')::text")
            .fetch_one(&pool)
            .await
            .expect("look for the marker");
        assert_eq!(
            marker.as_deref(),
            Some("marker"),
            "the test got the fresh ready copy"
        );
    })
    .await
    .expect("the second test ran");
    assert!(second.passed(), "{second:?}");
    tokio::task::spawn_blocking(finish_background_work)
        .await
        .expect("the background work finished");
    let left = databases_named(&prefix).await;
    assert!(!left.contains(&fresh), "taken: {left:?}");
    assert!(!left.contains(&stale), "dropped: {left:?}");

    drop_template(&config, "dev").await;
    assert_eq!(databases_named(&prefix).await, Vec::<String>::new());
    assert_eq!(database_oid(&template).await, None);
}

#[tokio::test]
async fn templates_are_reused_while_the_fingerprint_matches_and_rebuilt_when_it_changes() {
    let admin = server().expect("server").admin_options().clone();
    let name = "spawn_tpl_testing_reuse";
    let v1 = vec![migration("20250101000000-a", "CREATE TABLE a (id int)")];
    let fp1 = fingerprint(&v1, "dev");

    let first = prepare_template(&admin, name, &fp1, &Migrator::new(v1.clone()))
        .await
        .expect("first build");
    assert_eq!(first, TemplateState::Built);
    assert_eq!(comment_of(name).await.as_deref(), Some(fp1.as_str()));
    let oid = database_oid(name).await;

    // A second run (another binary, or the next `cargo test`) with the same migrations.
    let again = prepare_template(&admin, name, &fp1, &Migrator::new(v1))
        .await
        .expect("second prepare");
    assert_eq!(again, TemplateState::Reused);
    assert_eq!(
        database_oid(name).await,
        oid,
        "the template was not rebuilt"
    );

    // The migration's SQL changed: a new fingerprint, a new template.
    let v2 = vec![migration("20250101000000-a", "CREATE TABLE a (id bigint)")];
    let fp2 = fingerprint(&v2, "dev");
    assert_ne!(fp1, fp2);
    let rebuilt = prepare_template(&admin, name, &fp2, &Migrator::new(v2))
        .await
        .expect("rebuild");
    assert_eq!(rebuilt, TemplateState::Built);
    assert_ne!(database_oid(name).await, oid);
    assert_eq!(comment_of(name).await.as_deref(), Some(fp2.as_str()));
    let mut conn = PgConnection::connect_with(&admin.clone().database(name))
        .await
        .expect("connect to the template");
    let column: String = sqlx::query_scalar(
        "SELECT data_type::text FROM information_schema.columns WHERE table_name = 'a'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the rebuilt table");
    assert_eq!(column, "bigint");
    conn.close().await.expect("close");

    drop_database(&admin, name).await.expect("cleanup");
}

#[tokio::test]
async fn a_template_advance_opened_ahead_applies_only_from_the_expected_state() {
    let admin = server().expect("server").admin_options().clone();
    let name = "spawn_tpl_testing_advance";
    let v1 = vec![migration("20250101000000-a", "CREATE TABLE a (id int)")];
    let fp1 = fingerprint(&v1, "dev");
    prepare_template(&admin, name, &fp1, &Migrator::new(v1.clone()))
        .await
        .expect("build");
    let oid = database_oid(name).await;
    let new = vec![migration("20250102000000-b", "CREATE TABLE b (id int)")];
    let fp2 = fingerprint(v1.iter().chain(&new), "dev");
    let migrator = || Migrator::new(new.clone()).ignore_missing(true);

    // Opened from a state the template is not in: nothing is applied, the lock is let go.
    let stale = TemplateAdvance::open(&admin, name, "another fingerprint")
        .await
        .expect("open");
    let pool = stale.run(&fp2, &migrator()).await.expect("run");
    assert!(pool.is_none());
    assert_eq!(comment_of(name).await.as_deref(), Some(fp1.as_str()));
    // The same in one step.
    let advanced = advance_template(&admin, name, "another fingerprint", &fp2, &migrator())
        .await
        .expect("advance");
    assert!(!advanced);
    assert_eq!(comment_of(name).await.as_deref(), Some(fp1.as_str()));

    // Opened, then dropped unused: the lock goes with it (a prepare does not wait for it).
    let dropped = TemplateAdvance::open(&admin, name, &fp1)
        .await
        .expect("open");
    drop(dropped);
    let again = prepare_template(&admin, name, &fp1, &Migrator::new(v1))
        .await
        .expect("prepare after a dropped advance");
    assert_eq!(again, TemplateState::Reused);

    // Opened from the right state: the new migration is applied in place, the comment moves
    // on, and the pool handed back reads the migrated template.
    let opened = TemplateAdvance::open(&admin, name, &fp1)
        .await
        .expect("open");
    let pool = opened.run(&fp2, &migrator()).await.expect("run");
    let pool = pool.expect("advanced: a pool on the template");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relname IN ('a', 'b') ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    assert_eq!(tables, ["a", "b"]);
    pool.close().await;
    assert_eq!(comment_of(name).await.as_deref(), Some(fp2.as_str()));
    assert_eq!(
        database_oid(name).await,
        oid,
        "advanced in place, not rebuilt"
    );

    // A migration that fails: the error names the template, and its comment is cleared so
    // that the next prepare rebuilds it.
    let broken = vec![migration(
        "20250103000000-c",
        "CREATE TABLE c (id nosuchtype)",
    )];
    let opened = TemplateAdvance::open(&admin, name, &fp2)
        .await
        .expect("open");
    let err = opened
        .run("next", &Migrator::new(broken).ignore_missing(true))
        .await
        .expect_err("the migration cannot apply");
    assert!(matches!(err, TestingError::Migrate { .. }), "{err}");
    assert!(err.to_string().contains(name), "{err}");
    assert_eq!(comment_of(name).await, None);

    drop_database(&admin, name).await.expect("cleanup");
}

#[tokio::test]
async fn a_failed_template_build_is_rebuilt_next_time() {
    let admin = server().expect("server").admin_options().clone();
    let name = "spawn_tpl_testing_failed";
    let broken = vec![migration(
        "20250101000000-a",
        "CREATE TABLE a (id nosuchtype)",
    )];
    let fp = fingerprint(&broken, "dev");
    let err = prepare_template(&admin, name, &fp, &Migrator::new(broken))
        .await
        .expect_err("the migration cannot apply");
    assert!(matches!(err, TestingError::Migrate { .. }), "{err}");
    assert!(err.to_string().contains(name), "{err}");
    assert_eq!(
        comment_of(name).await,
        None,
        "no fingerprint on a failed build"
    );

    let fixed = vec![migration("20250101000000-a", "CREATE TABLE a (id int)")];
    let fp = fingerprint(&fixed, "dev");
    let state = prepare_template(&admin, name, &fp, &Migrator::new(fixed))
        .await
        .expect("rebuild");
    assert_eq!(state, TemplateState::Built);
    drop_database(&admin, name).await.expect("cleanup");
}

#[tokio::test]
async fn a_passing_test_gets_a_migrated_pool_and_its_database_is_dropped() {
    let config = config("testing-pass", Some(fruit()));
    let outcome = run_test_async(config, |pool: PgPool| async move {
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM fruit")
            .fetch_all(&pool)
            .await
            .expect("the migrated table");
        assert_eq!(names, ["dev apple"]);
    })
    .await
    .expect("the test ran");
    assert!(outcome.passed() && !outcome.kept(), "{outcome:?}");
    assert!(outcome.database().starts_with("spawn_test_case_"));
    // Dropped in the background: wait for it.
    tokio::task::spawn_blocking(finish_background_work)
        .await
        .expect("the drops finished");
    assert_eq!(database_oid(outcome.database()).await, None, "dropped");

    let template = template_name(config.package, config.manifest_dir, "dev");
    let expected = fingerprint(&fruit().for_environment("dev").expect("dev"), "dev");
    assert_eq!(comment_of(&template).await, Some(expected));
    drop_template(&config, "dev").await;
}

#[tokio::test]
async fn a_panicking_test_keeps_its_database() {
    let config = config("testing-panic", Some(fruit()));
    let outcome = run_test_async(config, |mut conn: PgConnection| async move {
        sqlx::query("INSERT INTO fruit VALUES ('evidence')")
            .execute(&mut conn)
            .await
            .expect("insert");
        fail("failing on purpose");
    })
    .await
    .expect("the test ran");
    assert!(!outcome.passed() && outcome.kept(), "{outcome:?}");
    assert_eq!(
        outcome.failure_message().as_deref(),
        Some("failing on purpose")
    );
    assert!(
        outcome.url().ends_with(outcome.database()),
        "{}",
        outcome.url()
    );

    // The kept database holds what the test did.
    let admin = server().expect("server").admin_options().clone();
    let mut conn = PgConnection::connect_with(&admin.clone().database(outcome.database()))
        .await
        .expect("the kept database exists");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM fruit WHERE name = 'evidence'")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(n, 1);
    conn.close().await.expect("close");

    drop_database(&admin, outcome.database())
        .await
        .expect("cleanup");
    drop_template(&config, "dev").await;
}

#[tokio::test]
async fn a_test_returning_err_fails_and_keeps_its_database() {
    let config = config("testing-err", None);
    let outcome = run_test_async(config, |options: PgConnectOptions| async move {
        assert!(options.get_database().is_some());
        Err::<(), _>("bad result")
    })
    .await
    .expect("the test ran");
    assert!(!outcome.passed() && outcome.kept());
    assert_eq!(
        outcome.failure_message().as_deref(),
        Some("the test returned Err(\"bad result\")")
    );
    assert!(database_oid(outcome.database()).await.is_some());
    let admin = server().expect("server").admin_options().clone();
    drop_database(&admin, outcome.database())
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn environments_fixtures_and_no_migrations() {
    // env = "prod": the prod render (no seed row).
    let prod = TestConfig {
        env: Some("prod"),
        ..config("testing-env", Some(fruit()))
    };
    let outcome = run_test_async(prod, |pool: PgPool| async move {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM fruit")
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(n, 0);
    })
    .await
    .expect("ran");
    assert!(outcome.passed(), "{outcome:?}");
    drop_template(&prod, "prod").await;

    // Fixtures apply in order after the migrations.
    let seeded = TestConfig {
        fixtures: &["tests/fixtures/pear.sql", "tests/fixtures/rename.sql"],
        ..config("testing-fixtures", Some(fruit()))
    };
    let outcome = run_test_async(seeded, |pool: PgPool| async move {
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM fruit ORDER BY name")
            .fetch_all(&pool)
            .await
            .expect("names");
        assert_eq!(names, ["dev apple", "ripe pear"]);
    })
    .await
    .expect("ran");
    assert!(outcome.passed(), "{outcome:?}");
    drop_template(&seeded, "dev").await;

    // migrations: None: an empty database (fixtures still apply).
    let empty = TestConfig {
        fixtures: &["tests/fixtures/empty_schema.sql"],
        ..config("testing-none", None)
    };
    let outcome = run_test_async(empty, |mut conn: PgConnection| async move {
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count");
        assert_eq!(tables, 1, "only the fixture's table");
    })
    .await
    .expect("ran");
    assert!(outcome.passed(), "{outcome:?}");
}

#[tokio::test]
async fn an_unknown_environment_is_refused_naming_the_compiled_ones() {
    let config = TestConfig {
        env: Some("staging"),
        ..config("testing-staging", Some(fruit()))
    };
    let err = run_test_async(config, |_: PgPool| async {})
        .await
        .expect_err("staging was not compiled");
    assert_eq!(
        err.to_string(),
        "the migrations were not compiled for environment `staging` (compiled: dev, prod); add a \
         target with `environment = \"staging\"` to spawn.toml"
    );
}

#[tokio::test]
async fn a_failing_fixture_names_itself_and_leaves_nothing_behind() {
    let config = TestConfig {
        fixtures: &["tests/fixtures/broken.sql"],
        ..config("testing-broken-fixture", None)
    };
    let err = run_test_async(config, |_: PgPool| async {})
        .await
        .expect_err("the fixture fails");
    let message = err.to_string();
    assert!(
        message
            .starts_with("fixture tests/fixtures/broken.sql failed in database spawn_test_case_"),
        "{message}"
    );
    assert!(message.contains("nosuchtable"), "{message}");
    let own = message
        .split_whitespace()
        .find(|w| w.starts_with("spawn_test_case_"))
        .map(|w| w.trim_end_matches(':').to_string())
        .expect("the database's name in the message");
    assert_eq!(database_oid(&own).await, None, "{own} was dropped");
}

#[test]
fn a_missing_fixture_fails_the_test_naming_the_file() {
    let config = TestConfig {
        test: "testing::missing_fixture",
        fixtures: &["tests/fixtures/does_not_exist.sql"],
        ..config("testing-missing", None)
    };
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run_test(config, |_: PgPool| async { fail("the body must not run") })
    }))
    .expect_err("the test must fail");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted message");
    let path = format!(
        "{}/tests/fixtures/does_not_exist.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    assert_eq!(
        message,
        format!(
            "testing::missing_fixture: fixture tests/fixtures/does_not_exist.sql ({path}) cannot \
             be read: No such file or directory (os error 2)"
        )
    );
}

#[test]
fn run_test_resumes_the_body_panic() {
    let config = TestConfig {
        test: "testing::resumed_case",
        ..config("testing-resume", None)
    };
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run_test(config, |_: PgConnectOptions| async {
            fail("the body's own panic")
        })
    }))
    .expect_err("the test must fail");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the body's own panic"));

    // The kept database: exactly one of this test, removed here.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let kept: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'spawn_test_resumed_case_' || $1 || '\\_%'",
        )
        .bind(std::process::id().to_string())
        .fetch_all(&mut admin().await)
        .await
        .expect("list");
        assert_eq!(kept.len(), 1, "{kept:?}");
        let admin = server().expect("server").admin_options().clone();
        drop_database(&admin, &kept[0]).await.expect("cleanup");
    });
}

/// What [`a_binary_leaves_only_its_failed_tests_databases`] runs in its child process: a
/// failing test, passing tests, then the process exits, likely while copies of the template
/// are still being made ahead.
fn child_binary_with_passing_and_failing_tests() {
    let passing = TestConfig {
        test: "child::passes",
        ..config("testing-child", Some(fruit()))
    };
    let failing = TestConfig {
        test: "child::fails",
        ..passing
    };
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run_test(failing, |_: PgPool| async { fail("failing on purpose") })
    }));
    assert!(panic.is_err(), "the failing test failed");
    for _ in 0..3 {
        run_test(passing, |pool: PgPool| async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM fruit")
                .fetch_one(&pool)
                .await
                .expect("the migrated table");
            assert_eq!(n, 1);
        });
    }
    // The process exits now: its exit handler drops what the passed tests left and the
    // copies made ahead, which are still being copied.
}

/// Runs this same test in a child copy of the test binary (`SPAWN_TESTING_CHILD` set), where
/// it plays [`child_binary_with_passing_and_failing_tests`], and checks what the child left.
#[test]
fn a_binary_leaves_only_its_failed_tests_databases() {
    if std::env::var_os("SPAWN_TESTING_CHILD").is_some() {
        child_binary_with_passing_and_failing_tests();
        return;
    }
    let server = server().expect("a server for the tests");
    let url = match server.cluster() {
        Some(cluster) => cluster.url("postgres"),
        None => std::env::var("DATABASE_URL").expect("DATABASE_URL, as there is no cluster"),
    };
    let exe = std::env::current_exe().expect("this test binary");
    let child = std::process::Command::new(exe)
        .args([
            "--exact",
            "a_binary_leaves_only_its_failed_tests_databases",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SPAWN_TESTING_CHILD", "1")
        .env("DATABASE_URL", &url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting the child test binary");
    let pid = child.id();
    let output = child.wait_with_output().expect("the child test binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let left: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'spawn\\_test\\_%\\_' || $1 || '\\_%' ORDER BY 1",
        )
        .bind(pid.to_string())
        .fetch_all(&mut admin().await)
        .await
        .expect("list");
        // The failed test's database only, its name printed; no passed test's, no copy's.
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].starts_with("spawn_test_fails_"), "{left:?}");
        assert!(stderr.contains(&left[0]), "{stderr}");
        let admin = server.admin_options().clone();
        drop_database(&admin, &left[0]).await.expect("cleanup");
        drop_template(&config("testing-child", None), "dev").await;
    });
}
