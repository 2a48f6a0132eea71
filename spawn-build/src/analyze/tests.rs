//! End-to-end tests of [`analyze()`](super::analyze): modes, bodies, statement positions and
//! every error with its line, column and message.

use super::{analyze, Analysis, AnalyzeError, Recovery, TransactionMode};

/// The analysis of `sql`, which must have no problems.
fn ok(sql: &str) -> Analysis {
    analyze(sql).unwrap_or_else(|errors| panic!("unexpected errors: {errors:#?}"))
}

/// The texts of the statements of `sql`.
fn texts(sql: &str) -> Vec<&str> {
    ok(sql).statements.iter().map(|s| s.text(sql)).collect()
}

/// The problems of `sql` as `(line, column, message)`.
fn errors(sql: &str) -> Vec<(u32, u32, String)> {
    match analyze(sql) {
        Ok(analysis) => panic!("expected errors, got {analysis:#?}"),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.line, e.column, e.message))
            .collect(),
    }
}

/// The single problem of `sql`.
fn error(sql: &str) -> (u32, u32, String) {
    let mut errors = errors(sql);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

fn in_transaction(what: &str) -> String {
    format!(
        "{what} cannot be used here: spawn runs each migration in a transaction of its own and \
         records it in the history in the same transaction; remove it, or, to run the \
         migration outside a transaction, make `-- spawn:no-transaction` its first line"
    )
}

fn in_transaction_wrapper(what: &str) -> String {
    format!(
        "{what} cannot be used here: spawn runs each migration in a transaction of its own and \
         records it in the history in the same transaction (a migration may wrap its whole body \
         in one `BEGIN; … COMMIT;`, which spawn leaves out, but this one is not such a \
         wrapper); remove it, or, to run the migration outside a transaction, make \
         `-- spawn:no-transaction` its first line"
    )
}

fn in_no_transaction(what: &str) -> String {
    format!(
        "{what} cannot be used in a `-- spawn:no-transaction` migration: spawn runs its \
         statements one by one, each committing on its own, and records progress after each; \
         remove it"
    )
}

fn non_transactional(what: &str) -> String {
    format!(
        "{what} cannot run inside a transaction; put it in its own migration whose first line \
         is `-- spawn:no-transaction`"
    )
}

fn meta_command(name: &str, advice: &str) -> String {
    format!(
        "psql meta-command `{name}` is not SQL; spawn sends migrations to the server directly, \
         not through psql, so it cannot run; {advice}"
    )
}

// ---- plain migrations ----------------------------------------------------------------------

#[test]
fn empty_input() {
    assert_eq!(
        ok(""),
        Analysis {
            mode: TransactionMode::Transactional,
            body: 0..0,
            statements: vec![],
            lock_timeout: None,
            statement_timeout: None,
        }
    );
}

#[test]
fn only_comments_and_whitespace() {
    let sql = "\n-- nothing here\n/* nor /* here */ */\n;\n";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::Transactional);
    assert_eq!(analysis.body, 0..sql.len());
    assert_eq!(analysis.statements, vec![]);
}

#[test]
fn statements_with_positions() {
    let sql = "CREATE TABLE a (id int);\n\n-- the second table\n/* really */ CREATE TABLE b (id int)\n  ;\nSELECT 1";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::Transactional);
    assert_eq!(analysis.body, 0..sql.len());
    let statements: Vec<_> = analysis
        .statements
        .iter()
        .map(|s| (s.line, s.text(sql)))
        .collect();
    assert_eq!(
        statements,
        [
            (1, "CREATE TABLE a (id int)"),
            (4, "CREATE TABLE b (id int)"),
            (6, "SELECT 1"),
        ]
    );
    let second = &analysis.statements[1];
    assert_eq!(second.start, sql.find("CREATE TABLE b").unwrap());
    assert_eq!(second.end, second.start + "CREATE TABLE b (id int)".len());
}

#[test]
fn trailing_comment_without_newline() {
    assert_eq!(texts("SELECT 1; -- done"), ["SELECT 1"]);
    assert_eq!(texts("SELECT 1 -- no semicolon, no newline"), ["SELECT 1"]);
    assert_eq!(texts("SELECT 1; /* done */"), ["SELECT 1"]);
}

#[test]
fn empty_statements_are_skipped() {
    assert_eq!(
        texts(";;SELECT 1;;; ;\n;SELECT 2;;"),
        ["SELECT 1", "SELECT 2"]
    );
}

#[test]
fn crlf_input() {
    let sql = "-- spawn:lock-timeout 5s\r\nCREATE TABLE a (id int);\r\n\r\n-- b\r\nCREATE TABLE b (\r\n  id int\r\n);\r\nCOMMIT;\r\n";
    let analysis = analyze(sql).unwrap_err();
    assert_eq!(analysis[0].line, 8);
    let sql = "-- spawn:no-transaction\r\n-- spawn:statement-timeout 1min\r\nCREATE TABLE a (id int);\r\n\r\nCREATE TABLE b (\r\n  id int\r\n)\r\n";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::NoTransaction);
    assert_eq!(analysis.statement_timeout.as_deref(), Some("1min"));
    let statements: Vec<_> = analysis
        .statements
        .iter()
        .map(|s| (s.line, s.text(sql)))
        .collect();
    assert_eq!(
        statements,
        [
            (3, "CREATE TABLE a (id int)"),
            (5, "CREATE TABLE b (\r\n  id int\r\n)")
        ]
    );
    assert_eq!(
        error("SELECT 1;\r\n  ROLLBACK;\r\n"),
        (2, 3, in_transaction("`ROLLBACK`"))
    );
}

#[test]
fn columns_are_counted_in_characters() {
    assert_eq!(
        error("SELECT 'héllo'; ROLLBACK;"),
        (1, 17, in_transaction("`ROLLBACK`"))
    );
}

#[test]
fn byte_order_mark() {
    let sql = "\u{feff}-- spawn:no-transaction\nVACUUM;";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::NoTransaction);
    assert_eq!(analysis.body, 3..sql.len());
    assert_eq!(analysis.statements[0].line, 2);
    assert_eq!(
        error("\u{feff}ROLLBACK;"),
        (1, 1, in_transaction("`ROLLBACK`"))
    );
    assert_eq!(ok("\u{feff}").body, 3..3);
}

#[test]
fn quoted_text_hides_semicolons_and_keywords() {
    let sql = concat!(
        "INSERT INTO t (a, \"b;\"\"c\") VALUES ('x;''y', E'it\\'s; \\\\', U&'\\0441;', B'01', X'1F');\n",
        "INSERT INTO t VALUES ('ROLLBACK; COMMIT', \"VACUUM\", $$;'$ BEGIN$$, $q$ $$; $q$);\n",
        "/* COMMIT; /* nested; */ ROLLBACK; */ -- VACUUM;\n",
        "SELECT $1, $2;",
    );
    let analysis = ok(sql);
    let lines: Vec<_> = analysis.statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 2, 4]);
    assert_eq!(analysis.statements[2].text(sql), "SELECT $1, $2");
}

#[test]
fn plpgsql_bodies_are_opaque() {
    let sql = concat!(
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $fn$\n",
        "BEGIN\n",
        "  IF NEW.a = '$' THEN RAISE EXCEPTION 'it''s; $$ bad'; END IF;\n",
        "  COMMIT; -- only text\n",
        "  RETURN NEW;\n",
        "END;\n",
        "$fn$;\n",
        "DO $$ BEGIN ROLLBACK; END $$;\n",
        "DO $do$ BEGIN PERFORM 1; END $do$ LANGUAGE plpgsql;\n",
    );
    let analysis = ok(sql);
    let lines: Vec<_> = analysis.statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 8, 9]);
}

#[test]
fn sql_standard_function_bodies() {
    let sql = concat!(
        "CREATE OR REPLACE FUNCTION sign_of(x int) RETURNS int LANGUAGE sql\n",
        "BEGIN ATOMIC\n",
        "  SELECT CASE WHEN x > 0 THEN 1 WHEN x < 0 THEN -1 ELSE 0 END;\n",
        "  SELECT CASE x WHEN 0 THEN 'zero' END;\n",
        "END;\n",
        "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;\n",
        "SELECT sign_of(2);\n",
    );
    let analysis = ok(sql);
    let lines: Vec<_> = analysis.statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 6, 7]);
    assert!(analysis.statements[0].text(sql).ends_with("\nEND"));
}

#[test]
fn unclosed_begin_atomic() {
    let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n  BEGIN ATOMIC\n  SELECT 1;\n";
    assert_eq!(
        error(sql),
        (
            2,
            3,
            "`BEGIN ATOMIC` is never closed by a matching `END`".into()
        )
    );
}

#[test]
fn prepared_statements_are_not_transaction_control() {
    assert_eq!(
        texts(
            "PREPARE q(int) AS SELECT $1; EXECUTE q(1); DEALLOCATE q; SET TRANSACTION READ WRITE;"
        ),
        [
            "PREPARE q(int) AS SELECT $1",
            "EXECUTE q(1)",
            "DEALLOCATE q",
            "SET TRANSACTION READ WRITE"
        ]
    );
}

#[test]
fn enum_values_can_be_added_in_a_transaction() {
    assert_eq!(texts("ALTER TYPE mood ADD VALUE 'meh';").len(), 1);
}

// ---- wrapped migrations --------------------------------------------------------------------

#[test]
fn wrapped_migration() {
    let sql = "-- create things\nBEGIN;\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCOMMIT;\n-- done\n";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::Transactional);
    assert_eq!(
        &sql[analysis.body.clone()],
        "\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n"
    );
    let statements: Vec<_> = analysis
        .statements
        .iter()
        .map(|s| (s.line, s.text(sql)))
        .collect();
    assert_eq!(
        statements,
        [
            (3, "CREATE TABLE a (id int)"),
            (4, "CREATE TABLE b (id int)")
        ]
    );
}

#[test]
fn wrapper_forms() {
    for (begin, commit) in [
        ("BEGIN", "COMMIT"),
        ("begin work", "commit work"),
        ("BEGIN TRANSACTION", "COMMIT TRANSACTION"),
        ("START TRANSACTION", "END"),
        ("Start Transaction", "END WORK"),
        ("BEGIN", "COMMIT AND NO CHAIN"),
        ("BEGIN", "END TRANSACTION"),
    ] {
        let sql = format!("{begin};\nSELECT 1;\n{commit}");
        let analysis = ok(&sql);
        assert_eq!(&sql[analysis.body.clone()], "\nSELECT 1;\n", "{sql}");
        assert_eq!(analysis.statements.len(), 1, "{sql}");
    }
}

#[test]
fn wrapper_with_comments_inside() {
    let sql = "BEGIN /* tx */ ; -- go\nSELECT 1;\n-- last\nCOMMIT /* end */;";
    let analysis = ok(sql);
    assert_eq!(&sql[analysis.body.clone()], " -- go\nSELECT 1;\n-- last\n");
}

#[test]
fn empty_wrapper() {
    let sql = "BEGIN;COMMIT;";
    let analysis = ok(sql);
    assert_eq!(analysis.body, 6..6);
    assert_eq!(analysis.statements, vec![]);
}

#[test]
fn wrapper_begin_with_options() {
    let sql = "BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;";
    assert_eq!(error(sql), (
        1,
        1,
        "`BEGIN` with transaction options: spawn runs the migration in a transaction of its own \
         with the default settings; remove the options (such as `ISOLATION LEVEL …` or \
         `READ ONLY`)"
            .into()
    ));
    let sql = "START TRANSACTION READ ONLY;\nCOMMIT;";
    assert_eq!(
        error(sql).2.split(':').next(),
        Some("`START TRANSACTION` with transaction options")
    );
}

#[test]
fn non_transactional_statement_inside_a_wrapper() {
    let sql = "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;";
    assert_eq!(
        error(sql),
        (2, 1, non_transactional("`CREATE INDEX CONCURRENTLY`"))
    );
}

// ---- transaction control in transactional migrations ---------------------------------------

#[test]
fn transaction_control_is_an_error() {
    let cases = [
        ("SELECT 1;\nROLLBACK;", "`ROLLBACK`"),
        ("SELECT 1;\nSAVEPOINT a;", "`SAVEPOINT`"),
        ("SELECT 1;\nRELEASE SAVEPOINT a;", "`RELEASE SAVEPOINT`"),
        (
            "SELECT 1;\nROLLBACK TO SAVEPOINT a;",
            "`ROLLBACK TO SAVEPOINT`",
        ),
        (
            "SELECT 1;\nPREPARE TRANSACTION 'x';",
            "`PREPARE TRANSACTION`",
        ),
        ("SELECT 1;\nCOMMIT PREPARED 'x';", "`COMMIT PREPARED`"),
        ("SELECT 1;\nROLLBACK PREPARED 'x';", "`ROLLBACK PREPARED`"),
        ("SELECT 1;\nABORT;", "`ABORT`"),
        ("SELECT 1;\nCOMMIT AND CHAIN;", "`COMMIT AND CHAIN`"),
    ];
    for (sql, what) in cases {
        assert_eq!(error(sql), (2, 1, in_transaction(what)), "{sql}");
    }
}

#[test]
fn begin_or_commit_that_is_not_a_wrapper() {
    assert_eq!(
        error("SELECT 1;\nBEGIN;\nSELECT 2;"),
        (2, 1, in_transaction_wrapper("`BEGIN`"))
    );
    assert_eq!(
        error("BEGIN;\nSELECT 2;"),
        (1, 1, in_transaction_wrapper("`BEGIN`"))
    );
    assert_eq!(
        error("SELECT 2;\n  COMMIT;"),
        (2, 3, in_transaction_wrapper("`COMMIT`"))
    );
    assert_eq!(error("BEGIN;"), (1, 1, in_transaction_wrapper("`BEGIN`")));
    assert_eq!(
        errors("BEGIN;\nSELECT 1;\nCOMMIT;\nSELECT 2;"),
        [
            (1, 1, in_transaction_wrapper("`BEGIN`")),
            (3, 1, in_transaction_wrapper("`COMMIT`")),
        ]
    );
    assert_eq!(
        errors("BEGIN;\nCOMMIT;\nBEGIN;\nEND;"),
        [
            (2, 1, in_transaction_wrapper("`COMMIT`")),
            (3, 1, in_transaction_wrapper("`BEGIN`")),
        ]
    );
}

#[test]
fn transaction_control_inside_a_wrapper() {
    assert_eq!(
        errors("BEGIN;\nSAVEPOINT a;\nROLLBACK TO a;\nCOMMIT;"),
        [
            (2, 1, in_transaction("`SAVEPOINT`")),
            (3, 1, in_transaction("`ROLLBACK TO SAVEPOINT`")),
        ]
    );
    assert_eq!(
        errors("BEGIN;\nCOMMIT;\nBEGIN;\nCOMMIT;"),
        [
            (2, 1, in_transaction_wrapper("`COMMIT`")),
            (3, 1, in_transaction_wrapper("`BEGIN`")),
        ]
    );
}

#[test]
fn rollback_wrapper_is_not_a_wrapper() {
    assert_eq!(
        errors("BEGIN;\nSELECT 1;\nROLLBACK;"),
        [
            (1, 1, in_transaction_wrapper("`BEGIN`")),
            (3, 1, in_transaction("`ROLLBACK`")),
        ]
    );
}

// ---- statements that cannot run in a transaction -------------------------------------------

#[test]
fn non_transactional_statements_are_errors_in_transactional_migrations() {
    let sql = "CREATE TABLE t (a int);\n  create index concurrently i on t (a);\nVACUUM t;";
    assert_eq!(
        errors(sql),
        [
            (2, 3, non_transactional("`CREATE INDEX CONCURRENTLY`")),
            (3, 1, non_transactional("`VACUUM`")),
        ]
    );
    let cases = [
        (
            "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)",
            "`CREATE UNIQUE INDEX CONCURRENTLY`",
        ),
        ("DROP INDEX CONCURRENTLY i", "`DROP INDEX CONCURRENTLY`"),
        ("REINDEX TABLE CONCURRENTLY t", "`REINDEX … CONCURRENTLY`"),
        ("REINDEX DATABASE d", "`REINDEX DATABASE`"),
        ("REINDEX SYSTEM", "`REINDEX SYSTEM`"),
        (
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
            "`ALTER TABLE … DETACH PARTITION … CONCURRENTLY`",
        ),
        ("CREATE DATABASE d", "`CREATE DATABASE`"),
        ("DROP DATABASE d", "`DROP DATABASE`"),
        ("ALTER SYSTEM SET x = 1", "`ALTER SYSTEM`"),
        ("CREATE TABLESPACE s LOCATION '/x'", "`CREATE TABLESPACE`"),
        ("DROP TABLESPACE s", "`DROP TABLESPACE`"),
        (
            "CREATE SUBSCRIPTION s CONNECTION '' PUBLICATION p",
            "`CREATE SUBSCRIPTION`",
        ),
        ("DROP SUBSCRIPTION s", "`DROP SUBSCRIPTION`"),
        ("CLUSTER", "`CLUSTER` without a table name"),
        ("DISCARD ALL", "`DISCARD ALL`"),
    ];
    for (sql, what) in cases {
        assert_eq!(error(sql), (1, 1, non_transactional(what)), "{sql}");
    }
}

#[test]
fn keywords_in_strings_comments_and_identifiers_do_not_count() {
    assert_eq!(
        texts("SELECT 'VACUUM';\n/* VACUUM; */ CREATE INDEX \"concurrently\" ON t (a);\nCREATE TABLE \"vacuum\" (a int);").len(),
        3
    );
}

// ---- no-transaction migrations ---------------------------------------------------------------

#[test]
fn no_transaction_migration() {
    let sql = "-- spawn:no-transaction\n-- spawn:lock-timeout 3s\nCREATE INDEX CONCURRENTLY i ON t (a);\nVACUUM t;\n";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::NoTransaction);
    assert_eq!(analysis.body, 0..sql.len());
    assert_eq!(analysis.lock_timeout.as_deref(), Some("3s"));
    let statements: Vec<_> = analysis
        .statements
        .iter()
        .map(|s| (s.line, s.text(sql)))
        .collect();
    assert_eq!(
        statements,
        [(3, "CREATE INDEX CONCURRENTLY i ON t (a)"), (4, "VACUUM t")]
    );
}

#[test]
fn transaction_control_in_a_no_transaction_migration() {
    let sql = "-- spawn:no-transaction\nBEGIN;\nSELECT 1;\nSAVEPOINT s;\nCOMMIT;";
    assert_eq!(
        errors(sql),
        [
            (2, 1, in_no_transaction("`BEGIN`")),
            (4, 1, in_no_transaction("`SAVEPOINT`")),
            (5, 1, in_no_transaction("`COMMIT`")),
        ]
    );
}

#[test]
fn lock_in_a_no_transaction_migration() {
    let sql = "-- spawn:no-transaction\nLOCK TABLE t;";
    assert_eq!(
        error(sql),
        (
            2,
            1,
            "`LOCK` only works inside a transaction, but in a `-- spawn:no-transaction` migration \
         each statement commits on its own; move it to a transactional migration"
                .into()
        )
    );
    assert_eq!(texts("LOCK TABLE t;"), ["LOCK TABLE t"]);
}

// ---- directives ------------------------------------------------------------------------------

#[test]
fn timeouts() {
    let sql = "-- spawn:lock-timeout 5s\n--spawn:statement-timeout 10 min\n\nSELECT 1;";
    let analysis = ok(sql);
    assert_eq!(analysis.mode, TransactionMode::Transactional);
    assert_eq!(analysis.lock_timeout.as_deref(), Some("5s"));
    assert_eq!(analysis.statement_timeout.as_deref(), Some("10 min"));
}

#[test]
fn no_transaction_must_be_the_first_line() {
    let message = "`-- spawn:no-transaction` must be the very first line of the migration";
    assert_eq!(
        errors("\n-- spawn:no-transaction\nVACUUM;"),
        [
            (2, 1, message.into()),
            (3, 1, non_transactional("`VACUUM`")),
        ]
    );
    assert_eq!(
        errors("\n-- spawn:no-transaction\nSELECT 1;"),
        [(2, 1, message.into())]
    );
    assert_eq!(
        errors("-- header\n-- spawn:no-transaction\n"),
        [(2, 1, message.into())]
    );
    assert_eq!(
        errors(" -- spawn:no-transaction\n"),
        [(1, 2, message.into())]
    );
    assert_eq!(
        errors("SELECT 1; -- spawn:no-transaction\n"),
        [(1, 11, message.into())]
    );
}

#[test]
fn directive_errors() {
    let sql = "-- spawn:lock-timeout soon\n-- spawn:statement-timeout\n-- spawn:no_transaction\nSELECT 1;\n-- spawn:lock-timeout 1s\n";
    assert_eq!(errors(sql), [
        (
            1,
            1,
            "invalid value `soon` for `-- spawn:lock-timeout`: expected an integer with an \
             optional unit ms, s, min, h or d, e.g. `5s`"
                .into()
        ),
        (
            2,
            1,
            "`-- spawn:statement-timeout` needs a value, e.g. `-- spawn:statement-timeout 5s`"
                .into()
        ),
        (
            3,
            1,
            "unknown directive `-- spawn:no_transaction`; the known directives are \
             `-- spawn:no-transaction`, `-- spawn:lock-timeout <duration>`, \
             `-- spawn:statement-timeout <duration>`, `-- spawn:draft`, `-- spawn:repeatable`, `-- spawn:allow <hazard>`"
                .into()
        ),
        (
            5,
            1,
            "`-- spawn:lock-timeout` must be in the comment lines at the top of the migration, \
             before any SQL"
                .into()
        ),
    ]);
    assert_eq!(
        error("-- spawn:lock-timeout 1s\n-- spawn:lock-timeout 2s\n"),
        (
            2,
            1,
            "`-- spawn:lock-timeout` is given more than once".into()
        )
    );
    assert_eq!(
        error("-- spawn:no-transaction yes\n"),
        (
            1,
            1,
            "`-- spawn:no-transaction` takes no value, found `yes`".into()
        )
    );
}

#[test]
fn directive_lookalikes_are_plain_comments() {
    let analysis =
        ok("-- Spawn:no-transaction\n/* -- spawn:foo */\n-- see spawn:foo\nSELECT '-- spawn:x';");
    assert_eq!(analysis.mode, TransactionMode::Transactional);
}

// ---- psql meta-commands ----------------------------------------------------------------------

#[test]
fn meta_commands_are_errors() {
    let sql = "\\set ON_ERROR_STOP on\n\\c orchard\nSELECT 1;\n  \\i other.sql\nSELECT 'a\\b', E'\\\\';\nSELECT format('x') \\gexec\n\\\\\n\\";
    assert_eq!(
        errors(sql),
        [
            (
                1,
                1,
                meta_command("\\set", "use template variables instead")
            ),
            (
                2,
                1,
                meta_command("\\c", "a migration runs on the database it is applied to")
            ),
            (
                4,
                3,
                meta_command("\\i", "include other SQL with the template engine instead")
            ),
            (6, 20, meta_command("\\gexec", "remove it")),
            (7, 1, meta_command("\\\\", "remove it")),
            (8, 1, meta_command("\\", "remove it")),
        ]
    );
}

#[test]
fn meta_commands_are_errors_without_transactions_too() {
    assert_eq!(
        error("-- spawn:no-transaction\n\\connect db 'x\nVACUUM;"),
        (
            2,
            1,
            meta_command(
                "\\connect",
                "a migration runs on the database it is applied to"
            )
        )
    );
}

// ---- unterminated quotes and comments ------------------------------------------------------

#[test]
fn unterminated_forms() {
    let cases = [
        (
            "SELECT 1;\nSELECT 'abc;\nSELECT 2;",
            2,
            8,
            "unterminated string",
        ),
        (
            "SELECT 1;\nSELECT x, E'abc\\';\n",
            2,
            11,
            "unterminated string",
        ),
        ("SELECT U&'abc", 1, 8, "unterminated string"),
        ("SELECT \"col;\n", 1, 8, "unterminated quoted identifier"),
        (
            "DO $body$\nBEGIN\nEND\n$$;",
            1,
            4,
            "unterminated dollar-quoted string",
        ),
        (
            "SELECT 1; /* a /* b */\nSELECT 2;",
            1,
            11,
            "unterminated /* comment",
        ),
    ];
    for (sql, line, column, start) in cases {
        let (l, c, message) = error(sql);
        assert_eq!((l, c), (line, column), "{sql}");
        assert!(message.starts_with(start), "{sql}: {message}");
    }
    assert_eq!(
        error("SELECT 'it''s"),
        (
            1,
            8,
            "unterminated string: the quote opened here is never closed".into()
        )
    );
    assert_eq!(
        error("x $fn$ y $f$"),
        (
            1,
            3,
            "unterminated dollar-quoted string: `$fn$` opened here is never closed".into()
        )
    );
    assert_eq!(
        error("/*"),
        (
            1,
            1,
            "unterminated /* comment: the comment opened here is never closed (block comments \
             nest, so every /* needs its own */)"
                .into()
        )
    );
    assert_eq!(
        error("\"x"),
        (
            1,
            1,
            "unterminated quoted identifier: the double quote opened here is never closed".into()
        )
    );
}

#[test]
fn unterminated_quote_does_not_hide_earlier_problems() {
    // No transaction-control error for the BEGIN: whether a COMMIT ends the migration is
    // unknown once the rest of it is swallowed by the open quote.
    let sql = "-- spawn:bogus\nBEGIN;\n\\c x\nVACUUM;\nSELECT 'oops\nCOMMIT;";
    let lines: Vec<_> = errors(sql)
        .into_iter()
        .map(|(line, column, _)| (line, column))
        .collect();
    assert_eq!(lines, [(1, 1), (3, 1), (4, 1), (5, 8)]);
}

// ---- everything at once ----------------------------------------------------------------------

#[test]
fn all_problems_are_reported_in_order() {
    let sql = "SELECT 1;\n-- spawn:lock-timeout 5s\nVACUUM;\n\\c db\nROLLBACK;\n";
    assert_eq!(errors(sql), [
        (
            2,
            1,
            "`-- spawn:lock-timeout` must be in the comment lines at the top of the migration, \
             before any SQL"
                .into()
        ),
        (3, 1, non_transactional("`VACUUM`")),
        (4, 1, meta_command("\\c", "a migration runs on the database it is applied to")),
        (5, 1, in_transaction("`ROLLBACK`")),
    ]);
}

#[test]
fn error_display() {
    let error = AnalyzeError {
        line: 3,
        column: 7,
        message: "boom".into(),
    };
    assert_eq!(error.to_string(), "line 3, column 7: boom");
}

// ---- size ------------------------------------------------------------------------------------

#[test]
fn large_migration() {
    const ROWS: usize = 60_000;
    let mut sql = String::from("-- spawn:statement-timeout 10min\nBEGIN;\n");
    for i in 0..ROWS {
        sql.push_str(&format!(
            "INSERT INTO orchard.tree (id, name, note) VALUES ({i}, 'tree ''{i}''', $${i};$$); -- row {i}\n"
        ));
    }
    sql.push_str("COMMIT;\n");
    assert!(sql.len() > 5_000_000, "{}", sql.len());
    let analysis = ok(&sql);
    assert_eq!(analysis.statements.len(), ROWS);
    assert_eq!(
        analysis.statements[ROWS - 1].line,
        u32::try_from(ROWS + 2).unwrap()
    );
    assert_eq!(analysis.statement_timeout.as_deref(), Some("10min"));
}

#[test]
fn huge_single_line_statement() {
    let mut sql = String::from("INSERT INTO t VALUES (0)");
    for i in 1..200_000 {
        sql.push_str(&format!(",({i}, 'x')"));
    }
    let analysis = ok(&sql);
    assert_eq!(analysis.statements.len(), 1);
    assert_eq!(analysis.statements[0].end, sql.len());
}

#[test]
fn each_statement_carries_how_a_rerun_recovers_it() {
    let sql = "-- spawn:no-transaction\nCREATE INDEX CONCURRENTLY i ON app.t (n);\nVACUUM t;\nCREATE TABLE u AS SELECT 1;\n";
    let analysis = analyze(sql).expect("valid SQL");
    let recoveries: Vec<Recovery> = analysis
        .statements
        .iter()
        .map(|s| s.recovery.clone())
        .collect();
    assert_eq!(
        recoveries,
        [
            Recovery::IndexBuilt {
                name: "i".into(),
                table: "\"app\".\"t\"".into()
            },
            Recovery::Rerun,
            Recovery::Transactional,
        ]
    );

    // A transactional migration runs whole: its statements need no recovery.
    let analysis = analyze("VACUUM t;\n").expect_err("VACUUM needs -- spawn:no-transaction");
    assert!(!analysis.is_empty());
    let analysis = analyze("CREATE TABLE u AS SELECT 1;\nANALYZE u;\n").expect("valid SQL");
    assert!(analysis
        .statements
        .iter()
        .all(|s| s.recovery == Recovery::Transactional));
}

#[test]
fn a_down_sql_is_never_told_to_go_outside_a_transaction() {
    let errors = super::analyze_file(
        "DROP TABLE t;\nCOMMIT;\nDROP INDEX CONCURRENTLY i;\n",
        super::RunsIn::OneTransaction,
    )
    .expect_err("both refused");
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`COMMIT` cannot be used here: spawn runs each migration in a transaction of its \
             own and records it in the history in the same transaction (a migration may wrap \
             its whole body in one `BEGIN; … COMMIT;`, which spawn leaves out, but this one is \
             not such a wrapper); remove it",
            "`DROP INDEX CONCURRENTLY` cannot run inside a transaction, and a down.sql always \
             runs in one (with its REVERT history row); undo it with statements that can (e.g. \
             `DROP INDEX` without `CONCURRENTLY`)"
        ]
    );
    // The same text as a migration is told otherwise.
    let errors = super::analyze("DROP TABLE t;\nCOMMIT;\n").expect_err("refused");
    assert!(
        errors[0].message.contains("spawn:no-transaction"),
        "{errors:?}"
    );
}

#[test]
fn a_down_sql_with_a_statement_that_needs_no_transaction_is_told_to_remove_it() {
    let errors =
        super::analyze_file("VACUUM t;\n", super::RunsIn::OneTransaction).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = &errors[0].message;
    assert!(
        message.contains("a down.sql always runs in one")
            && message.ends_with("remove it, or undo it with statements that can"),
        "{message}"
    );
    assert!(!message.contains("DROP INDEX"), "{message}");
}
