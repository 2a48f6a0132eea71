//! Meta-commands and variables against psql 15: `\echo`'s argument handling, the initial
//! variables (`\set` listing), and the messages for refused values.

#[path = "support/psql.rs"]
mod support;

use spawn_sqltest::psql::meta::{condition, MetaCommand};
use spawn_sqltest::psql::scan::{Item, Scanner};
use spawn_sqltest::psql::vars::Variables;
use spawn_tests::TestDb;

/// psql's standard output and standard error for `script` on stdin.
fn run_psql(url: &str, script: &str) -> (String, String) {
    let output = support::run(&[], url, script, false);
    assert!(output.status.success(), "psql failed: {}", output.status);
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What `\echo` prints for `script` (which has only `\echo`, `\set`, `\unset` and `\if`
/// blocks that are not false), by our parsing; and psql's messages: refused values, bad
/// `\if` expressions, ignored extra arguments.
fn emulate(script: &str) -> (String, String) {
    let mut vars = Variables::new();
    let mut scanner = Scanner::new(script);
    let (mut out, mut err) = (String::new(), String::new());
    while let Some(item) = scanner.next(&vars, true).expect("scan") {
        let (command, args, line) = match item {
            Item::Meta {
                command,
                args,
                line,
                ..
            } => (command, args, line),
            Item::Warning { message, .. } => {
                err.push_str(&message);
                err.push('\n');
                continue;
            }
            Item::Query { text, .. } => panic!("no queries expected: {text}"),
        };
        let parsed = MetaCommand::parse(&command, &args, line).expect("supported");
        for warning in parsed.warnings() {
            err.push_str(&format!("{warning}\n"));
        }
        match parsed.command {
            MetaCommand::Echo { args, no_newline } => {
                out.push_str(&args.join(" "));
                if !no_newline {
                    out.push('\n');
                }
            }
            MetaCommand::Set { name, value } => {
                if let Err(refused) = vars.set(&name, Some(&value)) {
                    err.push_str(&format!("{refused}\n"));
                    scanner.discard_rest_of_line();
                }
            }
            MetaCommand::Unset(name) => {
                if let Err(refused) = vars.set(&name, None) {
                    err.push_str(&format!("{refused}\n"));
                }
            }
            MetaCommand::If(expr) => {
                if let Err(bad) = condition(&expr, "if") {
                    err.push_str(&format!("{bad}\n"));
                }
            }
            MetaCommand::Endif => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    (out, err)
}

const ECHO_SCRIPT: &str = r#"\echo a'b c'd "e f" 'x\ty\101' -n
\echo -n -n y
\echo
\echo '-n' z
\set v 'it''s "v"'
\echo :v :'v' :"v" :{?v} :{?zz} :zz :'zz' ':v' x:v
\echo a\\ \echo b
\echo 'it''s' "q""q"   spaced    out
\echo 'oct\0101\7' 'hex\x4g\x414' 'other\q\\' ''
\set a 1
\set b :a 2 'three' "four"
\echo [:b]
\set c
\echo [:c] :{?c}
\unset c
\echo [:c]
\echo -n no newline
\echo é 'é'
\echo tail \\ \echo after
"#;

#[tokio::test]
async fn echo_prints_what_psql_prints() {
    let db = TestDb::new("meta_vs_psql_echo").await;
    let (psql_out, _) = run_psql(&db.url, ECHO_SCRIPT);
    let (ours, _) = emulate(ECHO_SCRIPT);
    assert_eq!(ours, psql_out);
}

const REFUSED_SCRIPT: &str = r"\set ON_ERROR_STOP x
\set AUTOCOMMIT o
\set VERBOSITY loud
\set VERBOSITY
\set SHOW_CONTEXT sometimes
\set ECHO everything
\set ECHO_HIDDEN maybe
\set ON_ERROR_ROLLBACK perhaps
\set COMP_KEYWORD_CASE camel
\set HISTCONTROL all
\set FETCH_COUNT many
\set HISTSIZE 1e3
\set a-b 1
\set QUIET of
\set FETCH_COUNT 0x10
\if maybe
\endif
\if
\endif
\if true
\endif :VERBOSITY 'a b' :{?x} `echo hi` x`y`z
\if true :VERBOSITY
\endif
\echo done
";

#[tokio::test]
async fn refusals_print_psqls_messages() {
    let db = TestDb::new("meta_vs_psql_refused").await;
    let (psql_out, psql_err) = run_psql(&db.url, REFUSED_SCRIPT);
    let (ours_out, ours_err) = emulate(REFUSED_SCRIPT);
    assert_eq!(ours_out, psql_out);
    assert_eq!(ours_err, psql_err);
}

/// psql sets these from the connection or its own build; the session fills them.
const FROM_CONNECTION: &[&str] = &[
    "DBNAME",
    "ENCODING",
    "HOST",
    "PORT",
    "SERVER_VERSION_NAME",
    "SERVER_VERSION_NUM",
    "USER",
    "VERSION",
    "VERSION_NAME",
    "VERSION_NUM",
];

#[tokio::test]
async fn initial_variables_are_psqls() {
    let db = TestDb::new("meta_vs_psql_vars").await;
    let (listing, _) = run_psql(&db.url, "\\set\n");
    let psql_without_connection: String = listing
        .lines()
        .filter(|line| {
            let name = line.split(" = ").next().unwrap_or_default();
            !FROM_CONNECTION.contains(&name)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(Variables::new().listing(), psql_without_connection);
    assert!(FROM_CONNECTION
        .iter()
        .all(|name| listing.contains(&format!("\n{name} = '"))));
}
