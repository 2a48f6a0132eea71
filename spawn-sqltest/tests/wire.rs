//! The wire client against a real PostgreSQL (the spawn-tests harness's server), with psql as
//! the oracle where it prints what the client returns.

use std::process::{Command, Stdio};

use spawn_sqltest::message::{Column, ServerMessage};
use spawn_sqltest::wire::{
    ConnectTarget, Connection, Host, QueryEvent, TransactionStatus, WireError,
    COPY_FROM_STDIN_REFUSAL,
};
use spawn_tests::{server, TestDb};

/// A connection to a new database of this test.
async fn connect(label: &str) -> (TestDb, Connection) {
    let db = TestDb::new(label).await;
    let connection = Connection::connect(&target(&db)).await.expect("connect");
    (db, connection)
}

/// The harness's server, database `db`, from the URL the harness gives.
fn target(db: &TestDb) -> ConnectTarget {
    ConnectTarget::from_url(&server().url(&db.name)).expect("harness URL")
}

/// The events of `sql`, which must not fail at the connection level.
async fn run(connection: &mut Connection, sql: &str) -> Vec<QueryEvent> {
    connection
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The only error event of `events`.
fn single_error(events: &[QueryEvent]) -> &ServerMessage {
    let errors: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            QueryEvent::Error(error) => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{events:#?}");
    errors[0]
}

/// What psql prints for `script` on database `db` (stdout and stderr together).
fn psql(db: &TestDb, args: &[&str], script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("/usr/lib/postgresql/15/bin/psql")
        .arg("-X")
        .args(args)
        .arg(psql_conninfo(&target(db)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run psql");
    child
        .stdin
        .take()
        .expect("psql stdin")
        .write_all(script.as_bytes())
        .expect("write to psql");
    let output = child.wait_with_output().expect("psql output");
    assert!(output.status.success(), "psql failed: {output:?}");
    String::from_utf8(output.stdout).expect("psql prints UTF-8")
}

/// libpq's keyword form of `target` (psql refuses sqlx's URL parameters).
fn psql_conninfo(target: &ConnectTarget) -> String {
    let host = match target.host() {
        Host::Tcp(host) => host.clone(),
        Host::Socket(dir) => dir.display().to_string(),
    };
    format!(
        "host='{host}' port={} user='{}' dbname='{}'",
        target.port(),
        target.user_name(),
        target.database_name()
    )
}

fn column(name: &str, type_oid: u32, type_modifier: i32) -> Column {
    Column {
        name: name.to_string(),
        type_oid,
        type_modifier,
    }
}

const VALUES_QUERY: &str = "SELECT 42::int4 AS i, 'héllo'::text AS t, NULL::int8 AS n, \
     1.50::numeric(5,2) AS num, true AS b, DATE '2024-01-02' AS d, 'ab'::varchar(5) AS v, \
     ARRAY[1,NULL]::int[] AS a, '{\"k\": [1]}'::jsonb AS j";

#[tokio::test]
async fn select_returns_types_and_text_values_like_psql() {
    let (db, mut connection) = connect("wire_select").await;
    let events = run(&mut connection, VALUES_QUERY).await;
    let expected_columns = vec![
        column("i", 23, -1),
        column("t", 25, -1),
        column("n", 20, -1),
        column("num", 1700, (5 << 16) + 2 + 4),
        column("b", 16, -1),
        column("d", 1082, -1),
        column("v", 1043, 5 + 4),
        column("a", 1007, -1),
        column("j", 3802, -1),
    ];
    let [QueryEvent::RowDescription(columns), QueryEvent::DataRow(row), QueryEvent::CommandComplete(tag)] =
        events.as_slice()
    else {
        panic!("unexpected events {events:#?}");
    };
    assert_eq!(columns, &expected_columns);
    assert_eq!(tag, "SELECT 1");
    assert_eq!(row[2], None, "NULL is None");

    // psql -A -t prints the same text values, NULL as nothing.
    let printed = psql(&db, &["-A", "-t", "-F", "|"], &format!("{VALUES_QUERY};\n"));
    let ours: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap_or("")).collect();
    assert_eq!(format!("{}\n", ours.join("|")), printed);
}

#[tokio::test]
async fn zero_row_select_still_describes_its_columns() {
    let (_db, mut connection) = connect("wire_zero_rows").await;
    let events = run(&mut connection, "SELECT 1 AS a, 'x'::text AS b WHERE false").await;
    assert_eq!(
        events,
        vec![
            QueryEvent::RowDescription(vec![column("a", 23, -1), column("b", 25, -1)]),
            QueryEvent::CommandComplete("SELECT 0".into()),
        ]
    );
}

#[tokio::test]
async fn command_tags_match_what_psql_prints() {
    let (db, mut connection) = connect("wire_tags").await;
    let script = "CREATE TABLE fruit (id int PRIMARY KEY, name text);\n\
                  INSERT INTO fruit VALUES (1, 'apple'), (2, 'pear'), (3, 'plum');\n\
                  UPDATE fruit SET name = upper(name) WHERE id > 1;\n\
                  DELETE FROM fruit WHERE id = 1;\n\
                  DROP TABLE fruit;\n";
    let events = run(&mut connection, script).await;
    let tags: Vec<&str> = events
        .iter()
        .map(|event| match event {
            QueryEvent::CommandComplete(tag) => tag.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        tags,
        [
            "CREATE TABLE",
            "INSERT 0 3",
            "UPDATE 2",
            "DELETE 1",
            "DROP TABLE"
        ]
    );
    let printed = psql(&db, &[], script);
    assert_eq!(format!("{}\n", tags.join("\n")), printed);
}

#[tokio::test]
async fn notices_come_in_order_with_their_fields() {
    let (_db, mut connection) = connect("wire_notice").await;
    let events = run(
        &mut connection,
        "DO $$ BEGIN RAISE NOTICE 'hi'; RAISE WARNING 'careful' USING HINT = 'h'; END $$",
    )
    .await;
    let [QueryEvent::Notice(notice), QueryEvent::Notice(warning), QueryEvent::CommandComplete(tag)] =
        events.as_slice()
    else {
        panic!("unexpected events {events:#?}");
    };
    assert_eq!(
        (
            notice.severity.as_str(),
            notice.code.as_str(),
            notice.message.as_str()
        ),
        ("NOTICE", "00000", "hi")
    );
    assert_eq!(notice.severity_nonlocalized.as_deref(), Some("NOTICE"));
    assert!(notice
        .context
        .as_deref()
        .is_some_and(|c| c.contains("PL/pgSQL function inline_code_block")));
    assert_eq!(
        (warning.severity.as_str(), warning.code.as_str()),
        ("WARNING", "01000")
    );
    assert_eq!(warning.hint.as_deref(), Some("h"));
    assert_eq!(tag, "DO");
}

#[tokio::test]
async fn errors_carry_position_detail_hint_and_object_fields() {
    let (_db, mut connection) = connect("wire_errors").await;
    let events = run(&mut connection, "SELECT 1 FROM no_such_table").await;
    let missing = single_error(&events);
    assert_eq!(
        (missing.severity.as_str(), missing.code.as_str()),
        ("ERROR", "42P01")
    );
    assert_eq!(missing.message, "relation \"no_such_table\" does not exist");
    assert_eq!(missing.position, Some(15));
    assert!(missing.file.is_some() && missing.line.is_some() && missing.routine.is_some());
    assert_eq!(events.len(), 1, "nothing after the error: {events:#?}");

    let events = run(
        &mut connection,
        "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', HINT = 'the hint'; END $$",
    )
    .await;
    let raised = single_error(&events);
    assert_eq!(raised.code, "P0001");
    assert_eq!(raised.detail.as_deref(), Some("the detail"));
    assert_eq!(raised.hint.as_deref(), Some("the hint"));

    run(
        &mut connection,
        "CREATE TABLE u (a int CONSTRAINT u_a_key UNIQUE); INSERT INTO u VALUES (1)",
    )
    .await;
    let events = run(&mut connection, "INSERT INTO u VALUES (1)").await;
    let duplicate = single_error(&events);
    assert_eq!(duplicate.code, "23505");
    assert_eq!(
        duplicate.detail.as_deref(),
        Some("Key (a)=(1) already exists.")
    );
    assert_eq!(
        (
            duplicate.schema.as_deref(),
            duplicate.table.as_deref(),
            duplicate.constraint.as_deref()
        ),
        (Some("public"), Some("u"), Some("u_a_key"))
    );

    let events = run(&mut connection, "SELECT no_such_function(1)").await;
    let function = single_error(&events);
    assert_eq!(
        (function.code.as_str(), function.position),
        ("42883", Some(8))
    );
    assert!(function.hint.is_some(), "{function:?}");
}

#[tokio::test]
async fn empty_queries_are_reported() {
    let (_db, mut connection) = connect("wire_empty").await;
    assert_eq!(run(&mut connection, "").await, vec![QueryEvent::EmptyQuery]);
    assert_eq!(
        run(&mut connection, "  -- just a comment\n").await,
        vec![QueryEvent::EmptyQuery]
    );
}

#[tokio::test]
async fn several_statements_answer_in_order_and_stop_at_an_error() {
    let (_db, mut connection) = connect("wire_multi").await;
    let events = run(&mut connection, "SELECT 1 AS a; SELECT 'b' AS b").await;
    assert_eq!(
        events,
        vec![
            QueryEvent::RowDescription(vec![column("a", 23, -1)]),
            QueryEvent::DataRow(vec![Some("1".into())]),
            QueryEvent::CommandComplete("SELECT 1".into()),
            QueryEvent::RowDescription(vec![column("b", 25, -1)]),
            QueryEvent::DataRow(vec![Some("b".into())]),
            QueryEvent::CommandComplete("SELECT 1".into()),
        ]
    );
    let events = run(&mut connection, "SELECT 1 AS a; SELECT 1/0; SELECT 3").await;
    assert_eq!(events.len(), 4, "{events:#?}");
    assert_eq!(single_error(&events).code, "22012");
    assert!(matches!(events[3], QueryEvent::Error(_)));
}

#[tokio::test]
async fn transaction_status_follows_the_session() {
    let (_db, mut connection) = connect("wire_txn").await;
    assert_eq!(connection.transaction_status(), TransactionStatus::Idle);
    run(&mut connection, "BEGIN").await;
    assert_eq!(
        connection.transaction_status(),
        TransactionStatus::InTransaction
    );
    run(&mut connection, "SELECT 1/0").await;
    assert_eq!(connection.transaction_status(), TransactionStatus::Failed);
    let events = run(&mut connection, "SELECT 1").await;
    assert_eq!(single_error(&events).code, "25P02");
    run(&mut connection, "ROLLBACK").await;
    assert_eq!(connection.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn pipelined_queries_answer_one_list_each() {
    let (_db, mut connection) = connect("wire_pipeline").await;
    let results = connection
        .pipeline(&[
            "BEGIN",
            "SELECT 1/0",
            "SELECT 2",
            "ROLLBACK",
            "SELECT 3 AS three",
            "DISCARD ALL",
        ])
        .await
        .expect("pipeline");
    assert_eq!(results.len(), 6);
    assert_eq!(
        results[0],
        vec![QueryEvent::CommandComplete("BEGIN".into())]
    );
    assert_eq!(single_error(&results[1]).code, "22012");
    assert_eq!(single_error(&results[2]).code, "25P02");
    assert_eq!(
        results[3],
        vec![QueryEvent::CommandComplete("ROLLBACK".into())]
    );
    assert_eq!(
        results[4],
        vec![
            QueryEvent::RowDescription(vec![column("three", 23, -1)]),
            QueryEvent::DataRow(vec![Some("3".into())]),
            QueryEvent::CommandComplete("SELECT 1".into()),
        ]
    );
    assert_eq!(
        results[5],
        vec![QueryEvent::CommandComplete("DISCARD ALL".into())]
    );
    assert_eq!(connection.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn streaming_form_hands_over_the_same_events() {
    let (_db, mut connection) = connect("wire_stream").await;
    let sql = "SELECT g FROM generate_series(1, 1000) g";
    let mut streamed = Vec::new();
    connection
        .simple_query_with(sql, &mut |event| streamed.push(event))
        .await
        .expect("query");
    assert_eq!(streamed.len(), 1002);
    assert_eq!(streamed, run(&mut connection, sql).await);
}

#[tokio::test]
async fn copy_to_stdout_returns_the_data_as_psql_prints_it() {
    let (db, mut connection) = connect("wire_copy_out").await;
    let sql = "COPY (SELECT * FROM (VALUES (1, 'a b'), (2, NULL), (3, E'tab\\there')) v) TO STDOUT";
    let events = run(&mut connection, sql).await;
    let [QueryEvent::CopyOut(data), QueryEvent::CommandComplete(tag)] = events.as_slice() else {
        panic!("unexpected events {events:#?}");
    };
    assert_eq!(data.as_slice(), b"1\ta b\n2\t\\N\n3\ttab\\there\n");
    assert_eq!(tag, "COPY 3");
    assert_eq!(
        psql(&db, &["-q"], &format!("{sql};\n")).as_bytes(),
        data.as_slice()
    );
}

#[tokio::test]
async fn copy_from_stdin_is_refused_and_the_session_goes_on() {
    let (_db, mut connection) = connect("wire_copy_in").await;
    run(&mut connection, "CREATE TABLE c (a int)").await;
    let events = run(&mut connection, "COPY c FROM STDIN").await;
    let error = single_error(&events);
    assert_eq!(error.code, "57014");
    assert!(error.message.contains(COPY_FROM_STDIN_REFUSAL), "{error:?}");
    assert_eq!(connection.transaction_status(), TransactionStatus::Idle);
    let events = run(&mut connection, "SELECT count(*) FROM c").await;
    assert_eq!(events[1], QueryEvent::DataRow(vec![Some("0".into())]));
}

#[tokio::test]
async fn notifications_and_parameter_changes_are_seen() {
    let (_db, mut connection) = connect("wire_notify").await;
    let pid = connection.process_id().expect("backend key");
    let events = run(&mut connection, "LISTEN ch; NOTIFY ch, 'payload'").await;
    assert_eq!(
        events,
        vec![
            QueryEvent::CommandComplete("LISTEN".into()),
            QueryEvent::CommandComplete("NOTIFY".into()),
            QueryEvent::Notification {
                process_id: pid,
                channel: "ch".into(),
                payload: "payload".into(),
            },
        ]
    );
    let events = run(&mut connection, "SELECT pg_backend_pid()").await;
    assert_eq!(events[1], QueryEvent::DataRow(vec![Some(pid.to_string())]));

    assert_eq!(connection.parameter("application_name"), Some("psql"));
    assert_eq!(connection.parameter("client_encoding"), Some("UTF8"));
    assert_eq!(
        connection.parameter("standard_conforming_strings"),
        Some("on")
    );
    let events = run(&mut connection, "SHOW server_version").await;
    let QueryEvent::DataRow(version) = &events[1] else {
        panic!("{events:#?}");
    };
    assert_eq!(
        connection.parameter("server_version"),
        version[0].as_deref()
    );
    run(&mut connection, "SET application_name = 'renamed'").await;
    assert_eq!(connection.parameter("application_name"), Some("renamed"));
}

#[tokio::test]
async fn cancel_interrupts_the_running_query() {
    let (db, mut connection) = connect("wire_cancel").await;
    let pid = connection.process_id().expect("backend key");
    let token = connection.cancel_token().expect("cancel token");
    assert_eq!(token.process_id(), pid);
    // The query waits for an advisory lock the watcher holds: it runs until cancelled.
    let mut watcher = Connection::connect(&target(&db)).await.expect("connect");
    run(&mut watcher, "SELECT pg_advisory_lock(4242)").await;
    let blocked = tokio::spawn(async move {
        let events = connection
            .simple_query("SELECT pg_advisory_lock(4242)")
            .await;
        (connection, events)
    });
    // Cancel only once it waits (the server says so): a cancel before it would be lost.
    let waiting =
        format!("SELECT 1 FROM pg_stat_activity WHERE pid = {pid} AND wait_event_type = 'Lock'");
    while !run(&mut watcher, &waiting)
        .await
        .iter()
        .any(|event| matches!(event, QueryEvent::DataRow(_)))
    {
        tokio::task::yield_now().await;
    }
    token.cancel().await.expect("cancel request");
    let (mut connection, events) = blocked.await.expect("blocked task");
    let events = events.expect("the session survives a cancel");
    assert_eq!(single_error(&events).code, "57014");
    assert_eq!(run(&mut connection, "SELECT 1").await.len(), 3);
}

/// Terminates the session of `connection` from another one and checks what the next query
/// says; over a Unix socket the query's write already fails, over TCP only its read.
async fn check_terminated_session(db: &TestDb, mut connection: Connection) {
    let pid = connection.process_id().expect("backend key");
    let mut admin = Connection::connect(&target(db)).await.expect("connect");
    // With a timeout, pg_terminate_backend returns once the session has ended.
    let events = run(
        &mut admin,
        &format!("SELECT pg_terminate_backend({pid}, 60000)"),
    )
    .await;
    assert_eq!(events[1], QueryEvent::DataRow(vec![Some("t".into())]));
    let err = connection
        .simple_query("SELECT 1")
        .await
        .expect_err("the session has ended");
    assert!(matches!(err, WireError::Closed { .. }), "{err:?}");
    assert_eq!(err.sqlstate(), Some("57P01"), "{err}");
    assert!(err.to_string().contains("closed the connection"), "{err}");
}

#[tokio::test]
async fn a_terminated_session_says_so() {
    let (db, connection) = connect("wire_terminated").await;
    check_terminated_session(&db, connection).await;
}

#[tokio::test]
async fn a_terminated_session_says_so_over_the_unix_socket() {
    let Some(cluster) = server().cluster() else {
        println!("skipped: DATABASE_URL names the server");
        return;
    };
    let db = TestDb::new("wire_terminated_socket").await;
    let socket_dir = cluster.socket_dir();
    let socket = ConnectTarget::new(
        socket_dir.to_str().expect("UTF-8 socket path"),
        cluster.port(),
        target(&db).user_name(),
    )
    .database(&db.name);
    let connection = Connection::connect(&socket).await.expect("connect");
    check_terminated_session(&db, connection).await;
}

#[tokio::test]
async fn connects_from_sqlx_options_and_over_the_unix_socket() {
    let db = TestDb::new("wire_targets").await;
    let from_options =
        ConnectTarget::from_options(&server().options(&db.name), None).expect("target");
    let mut connection = Connection::connect(&from_options).await.expect("connect");
    let events = run(&mut connection, "SELECT current_database()").await;
    assert_eq!(events[1], QueryEvent::DataRow(vec![Some(db.name.clone())]));

    let Some(cluster) = server().cluster() else {
        println!("skipped the socket connection: DATABASE_URL names the server");
        return;
    };
    let socket_dir = cluster.socket_dir();
    let socket = ConnectTarget::new(
        socket_dir.to_str().expect("UTF-8 socket path"),
        cluster.port(),
        from_options.user_name(),
    )
    .database(&db.name);
    assert_eq!(socket.host(), &Host::Socket(socket_dir));
    let mut connection = Connection::connect(&socket)
        .await
        .expect("connect over the socket");
    let events = run(&mut connection, "SELECT inet_server_addr() IS NULL").await;
    assert_eq!(events[1], QueryEvent::DataRow(vec![Some("t".into())]));
}

#[tokio::test]
async fn connect_errors_are_clear() {
    let db = TestDb::new("wire_connect_errors").await;

    // A port nobody listens on: refused at once, naming the address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let refused = ConnectTarget::new("127.0.0.1", port, "postgres");
    let err = Connection::connect(&refused).await.err().expect("refused");
    assert!(
        matches!(&err, WireError::Io { source, .. } if source.kind() == std::io::ErrorKind::ConnectionRefused),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );

    // A server that accepts but never answers: the connect timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let silent_port = silent.local_addr().expect("address").port();
    let never_answers = ConnectTarget::new("127.0.0.1", silent_port, "postgres")
        .connect_timeout(Some(std::time::Duration::from_millis(200)));
    let err = Connection::connect(&never_answers)
        .await
        .err()
        .expect("timeout");
    assert!(matches!(err, WireError::ConnectTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    drop(silent);

    // A database that does not exist: the server's refusal, with its SQLSTATE.
    let err = Connection::connect(&target(&db).database("no_such_database"))
        .await
        .err()
        .expect("no such database");
    assert!(matches!(err, WireError::Rejected { .. }), "{err:?}");
    assert_eq!(err.sqlstate(), Some("3D000"));
    assert!(err.to_string().contains("no_such_database"), "{err}");

    // Bad URLs and TLS say why before connecting.
    for (url, expected) in [
        ("http://localhost/db", "postgres://"),
        ("postgres://u@localhost:99999/db", "invalid port"),
        (
            "postgres://u@localhost/db?sslmode=require",
            "TLS is not supported",
        ),
    ] {
        let err = ConnectTarget::from_url(url).expect_err(url);
        assert!(err.to_string().contains(expected), "{url}: {err}");
    }
}

/// Roles with passwords, and `pg_hba.conf` rules that make the harness's cluster (trust for
/// everyone) ask them for their password by each method; the file is restored on drop.
struct PasswordRules {
    hba_file: std::path::PathBuf,
    original: String,
}

impl PasswordRules {
    /// Prepends `rules` to the cluster's `pg_hba.conf` and has the server reload it.
    async fn install(admin: &mut Connection, hba_file: std::path::PathBuf, rules: &str) -> Self {
        let original = std::fs::read_to_string(&hba_file).expect("read pg_hba.conf");
        std::fs::write(&hba_file, format!("{rules}{original}")).expect("write pg_hba.conf");
        let installed = Self { hba_file, original };
        let errors = run(
            admin,
            "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL",
        )
        .await;
        assert!(
            !errors.iter().any(|e| matches!(e, QueryEvent::DataRow(_))),
            "pg_hba.conf rules rejected: {errors:#?}"
        );
        run(admin, "SELECT pg_reload_conf()").await;
        installed
    }
}

impl Drop for PasswordRules {
    fn drop(&mut self) {
        // The server rereads it at its next reload; the roles of these rules are unique.
        let _ = std::fs::write(&self.hba_file, &self.original);
    }
}

#[tokio::test]
async fn password_authentication_by_cleartext_md5_and_scram() {
    let Some(cluster) = server().cluster() else {
        println!("skipped: DATABASE_URL names the server, whose pg_hba.conf is not ours");
        return;
    };
    let db = TestDb::new("wire_passwords").await;
    let mut admin = Connection::connect(&target(&db)).await.expect("connect");
    let suffix = spawn_tests::unique_name("pw");
    let roles = [
        (format!("clear_{suffix}"), "password", "md5"),
        (format!("md5_{suffix}"), "md5", "md5"),
        (format!("scram_{suffix}"), "scram-sha-256", "scram-sha-256"),
    ];
    let mut rules = String::new();
    for (role, method, encryption) in &roles {
        run(
            &mut admin,
            &format!(
                "SET password_encryption = '{encryption}'; \
                 CREATE ROLE \"{role}\" LOGIN PASSWORD 'right pw'"
            ),
        )
        .await;
        rules.push_str(&format!("host all \"{role}\" 127.0.0.1/32 {method}\n"));
    }
    let rules =
        PasswordRules::install(&mut admin, cluster.data_dir().join("pg_hba.conf"), &rules).await;

    // The postmaster rereads pg_hba.conf on its own time: wait until a connection without
    // a password is refused (before that, trust lets it in).
    let first_role = target(&db).user(&roles[0].0);
    let refusal = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match Connection::connect(&first_role).await {
                Ok(connection) => connection.close().await.expect("close"),
                Err(err) => return err,
            }
        }
    })
    .await
    .expect("the server applies the new pg_hba.conf rules");
    assert!(matches!(refusal, WireError::Auth { .. }), "{refusal:?}");

    for (role, method, _) in &roles {
        let as_role = target(&db).user(role);
        let err = Connection::connect(&as_role)
            .await
            .err()
            .unwrap_or_else(|| panic!("{method}: a password is required"));
        assert!(
            matches!(&err, WireError::Auth { server: None, .. })
                && err.to_string().contains("requires a password"),
            "{method}: {err:?}"
        );

        let err = Connection::connect(&as_role.clone().password("wrong pw"))
            .await
            .err()
            .unwrap_or_else(|| panic!("{method}: the wrong password is refused"));
        assert!(matches!(err, WireError::Auth { .. }), "{method}: {err:?}");
        assert_eq!(err.sqlstate(), Some("28P01"), "{method}: {err}");
        assert!(
            err.to_string().contains("password authentication failed"),
            "{method}: {err}"
        );

        let mut connection = Connection::connect(&as_role.password("right pw"))
            .await
            .unwrap_or_else(|e| panic!("{method}: the right password: {e}"));
        let events = run(&mut connection, "SELECT current_user").await;
        assert_eq!(
            events[1],
            QueryEvent::DataRow(vec![Some(role.clone())]),
            "{method}"
        );
    }
    drop(rules);
    run(&mut admin, "SELECT pg_reload_conf()").await;
}

#[tokio::test]
async fn an_abandoned_query_makes_the_connection_refuse_further_queries() {
    let (_db, mut connection) = connect("wire_abandoned").await;
    // A query with a NUL byte is refused before anything is sent: the session goes on.
    let err = connection
        .simple_query("SELECT 1\0")
        .await
        .expect_err("NUL refused");
    assert!(matches!(err, WireError::NulByte { .. }), "{err:?}");
    assert_eq!(run(&mut connection, "SELECT 1").await.len(), 3);

    // Dropped after its first poll, which sends the query; it waits for a lock held by
    // another session, so its answer cannot have come yet.
    run(&mut connection, "CREATE TABLE locked (a int)").await;
    let mut holder = Connection::connect(connection.target())
        .await
        .expect("connect");
    run(&mut holder, "BEGIN; LOCK TABLE locked").await;
    tokio::select! {
        biased;
        _ = connection.simple_query("SELECT * FROM locked") => panic!("answered despite the lock"),
        () = std::future::ready(()) => {}
    }
    run(&mut holder, "ROLLBACK").await;
    let err = connection
        .simple_query("SELECT 2")
        .await
        .expect_err("out of step");
    assert!(matches!(err, WireError::OutOfStep { .. }), "{err:?}");
}

#[tokio::test]
async fn url_options_and_application_name_reach_the_server() {
    let db = TestDb::new("wire_url_options").await;
    let base = target(&db);
    let Host::Tcp(host) = base.host() else {
        panic!("the harness serves over TCP");
    };
    let url = format!(
        "postgresql://{}@{host}:{}/{}?options=-c%20search_path%3Dorchard&application_name=wire%20test",
        base.user_name(),
        base.port(),
        db.name
    );
    let mut connection = Connection::connect(&ConnectTarget::from_url(&url).expect("URL"))
        .await
        .expect("connect");
    let events = run(&mut connection, "SHOW search_path; SHOW application_name").await;
    assert_eq!(events[1], QueryEvent::DataRow(vec![Some("orchard".into())]));
    assert_eq!(
        events[4],
        QueryEvent::DataRow(vec![Some("wire test".into())])
    );
}
