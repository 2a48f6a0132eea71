//! Concurrent sessions in one script (`\session NAME`), against a real PostgreSQL: each
//! scenario runs [`RUNS`] times and must print exactly the same output every time.

use spawn_sqltest::psql::meta::validate_script;
use spawn_sqltest::psql::session::{run_script, Ending, SessionError, TransactionEmulation};
use spawn_sqltest::wire::{ConnectTarget, Connection};
use spawn_tests::{server, TestDb};

/// How many times each scenario runs.
const RUNS: usize = 50;

/// A connection to a new database of this test.
async fn connect(label: &str) -> (TestDb, Connection) {
    let db = TestDb::new(label).await;
    let target = ConnectTarget::from_url(&server().url(&db.name)).expect("harness URL");
    let connection = Connection::connect(&target).await.expect("connect");
    (db, connection)
}

/// Runs `setup` (not part of the output), then `script` as `spawn test` runs a test that
/// uses sessions, `RUNS` times; every run must print `expected` and end as `ending`.
async fn scenario(label: &str, setup: &str, script: &str, expected: &str, ending: Ending) {
    validate_script(script).expect("a valid script");
    let (_db, mut connection) = connect(label).await;
    for run in 0..RUNS {
        let events = connection.simple_query(setup).await.expect("setup");
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, spawn_sqltest::wire::QueryEvent::Error(_))),
            "setup: {events:?}"
        );
        let result = run_script(&mut connection, script, TransactionEmulation::Off)
            .await
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        assert_eq!(result.output, expected, "run {run}");
        assert_eq!(result.ending, ending, "run {run}");
    }
}

#[tokio::test]
async fn a_row_lock_makes_a_step_wait_until_the_holder_commits() {
    scenario(
        "sessions_row_lock",
        "DROP TABLE IF EXISTS t; CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0);",
        "\\sessions a b\n\
         \\session a\n\
         BEGIN;\n\
         UPDATE t SET v = 1 WHERE id = 1;\n\
         \\session b\n\
         UPDATE t SET v = v + 10 WHERE id = 1\n  RETURNING v AS b_sees;\n\
         \\session a\n\
         SELECT v AS a_sees FROM t;\n\
         COMMIT;\n\
         \\session b\n\
         SELECT v AS finally FROM t;\n",
        "session b waiting: UPDATE t SET v = v + 10 WHERE id = 1\n\
         \x20a_sees \n\
         --------\n\
         \x20     1\n\
         (1 row)\n\
         \n\
         session b completed: UPDATE t SET v = v + 10 WHERE id = 1\n\
         \x20b_sees \n\
         --------\n\
         \x20    11\n\
         (1 row)\n\
         \n\
         \x20finally \n\
         ---------\n\
         \x20     11\n\
         (1 row)\n\
         \n",
        Ending::Completed,
    )
    .await;
}

#[tokio::test]
async fn an_advisory_lock_makes_a_step_wait_until_it_is_released() {
    scenario(
        "sessions_advisory",
        "SELECT 1",
        "\\sessions a b\n\
         \\session a\n\
         SELECT 'a' AS holder FROM pg_advisory_lock(42);\n\
         \\session b\n\
         SELECT 'b' AS holder FROM pg_advisory_lock(42);\n\
         \\session a\n\
         SELECT pg_advisory_unlock(42) AS released;\n\
         \\session b\n\
         SELECT pg_advisory_unlock(42) AS released;\n",
        " holder \n\
         --------\n\
         \x20a\n\
         (1 row)\n\
         \n\
         session b waiting: SELECT 'b' AS holder FROM pg_advisory_lock(42);\n\
         \x20released \n\
         ----------\n\
         \x20t\n\
         (1 row)\n\
         \n\
         session b completed: SELECT 'b' AS holder FROM pg_advisory_lock(42);\n\
         \x20holder \n\
         --------\n\
         \x20b\n\
         (1 row)\n\
         \n\
         \x20released \n\
         ----------\n\
         \x20t\n\
         (1 row)\n\
         \n",
        Ending::Completed,
    )
    .await;
}

#[tokio::test]
async fn a_deadlock_ends_the_step_whose_timeout_runs_out_first_without_process_numbers() {
    scenario(
        "sessions_deadlock",
        "DROP TABLE IF EXISTS t; CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0);",
        // The victim is the session whose deadlock_timeout runs out first: b's (10ms),
        // since a's is an hour.
        "\\set ON_ERROR_STOP off\n\
         \\sessions a b\n\
         \\session a\n\
         SET deadlock_timeout = '1h';\n\
         BEGIN;\n\
         UPDATE t SET v = 1 WHERE id = 1;\n\
         \\session b\n\
         SET deadlock_timeout = '10ms';\n\
         BEGIN;\n\
         UPDATE t SET v = 2 WHERE id = 2;\n\
         \\session a\n\
         UPDATE t SET v = 1 WHERE id = 2;\n\
         \\session b\n\
         UPDATE t SET v = 2 WHERE id = 1;\n\
         ROLLBACK;\n\
         \\session a\n\
         COMMIT;\n\
         SELECT id, v FROM t ORDER BY id;\n",
        "session a waiting: UPDATE t SET v = 1 WHERE id = 2;\n\
         session b waiting: UPDATE t SET v = 2 WHERE id = 1;\n\
         session b completed: UPDATE t SET v = 2 WHERE id = 1;\n\
         ERROR:  deadlock detected\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while updating tuple (0,1) in relation \"t\"\n\
         session a completed: UPDATE t SET v = 1 WHERE id = 2;\n\
         \x20id | v \n\
         ----+---\n\
         \x20 1 | 1\n\
         \x20 2 | 1\n\
         (2 rows)\n\
         \n",
        Ending::Completed,
    )
    .await;
}

#[tokio::test]
async fn two_sessions_racing_for_a_key_one_waits_then_fails() {
    scenario(
        "sessions_unique",
        "DROP TABLE IF EXISTS u; CREATE TABLE u (id int PRIMARY KEY);",
        "\\sessions a b\n\
         \\session a\n\
         BEGIN;\n\
         INSERT INTO u VALUES (1);\n\
         \\session b\n\
         INSERT INTO u VALUES (1);\n\
         \\session a\n\
         COMMIT;\n\
         \\echo not reached\n",
        "session b waiting: INSERT INTO u VALUES (1);\n\
         session b completed: INSERT INTO u VALUES (1);\n\
         ERROR:  duplicate key value violates unique constraint \"u_pkey\"\n\
         DETAIL:  Key (id)=(1) already exists.\n",
        Ending::Stopped,
    )
    .await;
}

#[tokio::test]
async fn queue_workers_skip_each_others_locked_jobs() {
    scenario(
        "sessions_skip_locked",
        "DROP TABLE IF EXISTS jobs; CREATE TABLE jobs (id int PRIMARY KEY); INSERT INTO jobs VALUES (1), (2), (3);",
        "\\sessions w1 w2\n\
         \\session w1\n\
         BEGIN;\n\
         SELECT id AS w1_takes FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;\n\
         \\session w2\n\
         BEGIN;\n\
         SELECT id AS w2_takes FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;\n\
         DELETE FROM jobs WHERE id = 2;\n\
         COMMIT;\n\
         \\session w1\n\
         DELETE FROM jobs WHERE id = 1;\n\
         COMMIT;\n\
         SELECT id AS left_over FROM jobs;\n",
        " w1_takes \n\
         ----------\n\
         \x20       1\n\
         (1 row)\n\
         \n\
         \x20w2_takes \n\
         ----------\n\
         \x20       2\n\
         (1 row)\n\
         \n\
         \x20left_over \n\
         -----------\n\
         \x20        3\n\
         (1 row)\n\
         \n",
        Ending::Completed,
    )
    .await;
}

#[tokio::test]
async fn a_step_still_waiting_at_the_end_is_reported_and_cancelled() {
    scenario(
        "sessions_left_waiting",
        "DROP TABLE IF EXISTS t; CREATE TABLE t (id int);",
        "\\sessions a b\n\
         \\session a\n\
         BEGIN;\n\
         LOCK TABLE t;\n\
         \\session b\n\
         SELECT count(*) FROM t;\n",
        "session b waiting: SELECT count(*) FROM t;\n\
         session b still waiting at the end of the test: SELECT count(*) FROM t;\n",
        Ending::Stopped,
    )
    .await;
}

#[tokio::test]
async fn sessions_in_a_false_branch_are_not_opened() {
    scenario(
        "sessions_if",
        "SELECT 1",
        "\\if false\n\
         \\sessions never a\n\
         \\session never\n\
         \\endif\n\
         SELECT pg_backend_pid() = pg_backend_pid() AS same;\n\
         \\if true\n\
         \\session a\n\
         \\endif\n\
         SELECT count(*) AS others FROM pg_stat_activity WHERE application_name = 'never';\n",
        " same \n\
         ------\n\
         \x20t\n\
         (1 row)\n\
         \n\
         \x20others \n\
         --------\n\
         \x20     0\n\
         (1 row)\n\
         \n",
        Ending::Completed,
    )
    .await;
}

#[test]
fn a_bad_session_command_is_refused_before_anything_runs() {
    let messages = |script: &str| -> Vec<String> {
        validate_script(script)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        messages("select 1;\n\\session\n\\session 2a\n\\session a b\n\\session 'a b'\n\\sessions a\n\\session 'a'\n"),
        vec![
            "line 2: \\session takes one session name (a letter or _, then letters, digits or _), not nothing",
            "line 3: \\session takes one session name (a letter or _, then letters, digits or _), not \"2a\"",
            "line 4: \\session takes one session name (a letter or _, then letters, digits or _), not \"a\" \"b\"",
            "line 5: \\session takes one session name (a letter or _, then letters, digits or _), not \"a b\"",
        ]
    );
    assert_eq!(
        messages("\\sessions\n\\sessions a 2b\n\\sessions a\n"),
        vec![
            "line 1: \\sessions declares the test's sessions: one or more names (a letter or _, then letters, digits or _), not nothing",
            "line 2: \\sessions declares the test's sessions: one or more names (a letter or _, then letters, digits or _), not \"a\" \"2b\"",
        ]
    );
}

#[test]
fn a_session_used_before_it_is_declared_is_refused_before_anything_runs() {
    let messages = |script: &str| -> Vec<String> {
        validate_script(script)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    // Declared below its first use, in a branch, or not at all: the text's order decides.
    assert_eq!(
        messages(
            "\\sessions a\n\\session a\nSELECT 1;\n\\session b\nSELECT 2;\n\\sessions b\n\\session b\n\\session c\n"
        ),
        vec![
            "line 4: session b is used before it is declared; declare the test's sessions above their first use, e.g. `\\sessions b`",
            "line 8: session c is used before it is declared; declare the test's sessions above their first use, e.g. `\\sessions c`",
        ]
    );
    assert!(validate_script("\\if false\n\\sessions a\n\\endif\n\\session a\n").is_ok());
}

#[tokio::test]
async fn a_session_used_before_it_is_declared_stops_the_run_and_opens_nothing() {
    let (_db, mut connection) = connect("sessions_undeclared").await;
    connection
        .simple_query("CREATE TABLE t (id int)")
        .await
        .expect("setup");
    let before = others(&mut connection).await;
    let error = run_script(
        &mut connection,
        "\\sessions a\n\\session a\nINSERT INTO t VALUES (1);\n\\session b\nINSERT INTO t VALUES (2);\n",
        TransactionEmulation::Off,
    )
    .await
    .expect_err("refused");
    let SessionError::Script { line, message } = error else {
        panic!("{error}");
    };
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "session b is used before it is declared; declare the test's sessions above their first use, e.g. `\\sessions b`"
    );
    // Session a's step ran (a run stops at the undeclared name, as at any error), b's did not,
    // and no session's connection is left.
    let rows = connection
        .simple_query("SELECT string_agg(id::text, ',') FROM t")
        .await
        .expect("rows");
    assert!(format!("{rows:?}").contains("\"1\""), "{rows:?}");
    assert!(!format!("{rows:?}").contains("1,2"), "{rows:?}");
    assert_eq!(others(&mut connection).await, before);
}

#[tokio::test]
async fn a_step_in_a_session_that_still_waits_is_an_error_and_leaves_nothing_behind() {
    let (_db, mut connection) = connect("sessions_busy").await;
    connection
        .simple_query("CREATE TABLE t (id int)")
        .await
        .expect("setup");
    let before = others(&mut connection).await;
    for run in 0..RUNS {
        let error = run_script(
            &mut connection,
            "\\sessions a b\n\\session a\nBEGIN;\nLOCK TABLE t;\n\\session b\nSELECT count(*) FROM t;\nSELECT 2;\n",
            TransactionEmulation::Off,
        )
        .await
        .expect_err("refused");
        let SessionError::Script { line, message } = error else {
            panic!("run {run}: {error}");
        };
        assert_eq!(line, 7, "run {run}");
        assert_eq!(
            message,
            "session b is still waiting for its step `SELECT count(*) FROM t;`; a session runs one step at a time",
            "run {run}"
        );
        // Session a and its lock are gone: the table can be locked at once, and no backend
        // of the script is still connected to the database.
        let events = connection
            .simple_query("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE NOWAIT; ROLLBACK")
            .await
            .expect("lock");
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, spawn_sqltest::wire::QueryEvent::Error(_))),
            "run {run}: {events:?}"
        );
        assert_eq!(others(&mut connection).await, before, "run {run}");
    }
}

/// The other backends connected to the database (the harness may hold some).
async fn others(connection: &mut Connection) -> Vec<spawn_sqltest::wire::QueryEvent> {
    connection
        .simple_query(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .expect("pg_stat_activity")
}

#[tokio::test]
async fn inside_the_callers_transaction_a_session_asks_for_a_database_of_its_own() {
    let (_db, mut connection) = connect("sessions_restart").await;
    connection.simple_query("BEGIN").await.expect("begin");
    let result = run_script(
        &mut connection,
        "SELECT 1 AS before;\n\\sessions a\n\\session a\nSELECT 2;\n",
        TransactionEmulation::On {
            deferred_constraints: false,
        },
    )
    .await
    .expect("runs");
    assert_eq!(
        result.ending,
        Ending::NeedsOwnDatabase("concurrent sessions".to_owned())
    );
    connection.simple_query("ROLLBACK").await.expect("rollback");
}
