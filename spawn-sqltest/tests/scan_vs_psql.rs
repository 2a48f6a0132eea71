//! The scanner against the oracle: for each script, the queries psql 15 sends (read from
//! its `-L` log, which records every query exactly as sent) must be the queries the
//! scanner yields, driven the way the session drives it (`\set`, `\unset` and the `\if`
//! family applied; everything else just read).

#[path = "support/psql.rs"]
mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use spawn_sqltest::psql::meta::{condition, MetaCommand};
use spawn_sqltest::psql::scan::{Item, Scanner};
use spawn_sqltest::psql::vars::Variables;
use spawn_tests::TestDb;

const LOG_START: &str = "********* QUERY **********\n";
const LOG_END: &str = "\n**************************\n\n";

/// psql's standard output for `script` on its standard input, results discarded
/// (`-o /dev/null`) and errors ignored.
fn run_psql(url: &str, options: &[&str], script: &str) -> String {
    let mut args = vec!["-q", "-o", "/dev/null"];
    args.extend_from_slice(options);
    let output = support::run(&args, url, script, false);
    assert!(
        output.status.success(),
        "psql failed on {script:?}: {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The queries psql sends for `script`, from its `-L` log.
fn psql_queries(url: &str, script: &str) -> Vec<String> {
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let log_path = log.path().to_string_lossy().into_owned();
    run_psql(url, &["-L", &log_path], script);
    let log = std::fs::read_to_string(log.path()).expect("read psql log");
    let mut queries = Vec::new();
    let mut rest = log.as_str();
    while let Some(start) = rest.find(LOG_START) {
        let after = &rest[start + LOG_START.len()..];
        let end = after.find(LOG_END).expect("end of a logged query");
        queries.push(after[..end].to_owned());
        rest = &after[end + LOG_END.len()..];
    }
    queries
}

/// Where the session is in one `\if` block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// In the branch being run.
    Running,
    /// No branch taken yet.
    Waiting,
    /// A branch was taken already, or the whole block is inside an inactive one.
    Done,
}

/// One open `\if` block.
#[derive(Clone, Copy)]
struct Branch {
    state: State,
    after_else: bool,
}

impl From<State> for Branch {
    fn from(state: State) -> Self {
        Self {
            state,
            after_else: false,
        }
    }
}

/// The queries the scanner yields for `script`, driven like the session drives it.
fn scanner_queries(script: &str) -> Vec<String> {
    let mut vars = Variables::new();
    let mut scanner = Scanner::new(script);
    let mut branches: Vec<Branch> = Vec::new();
    let mut queries = Vec::new();
    loop {
        let active = branches.iter().all(|b| b.state == State::Running);
        let item = scanner
            .next(&vars, active)
            .unwrap_or_else(|e| panic!("scan {script:?}: {e}"));
        let Some(item) = item else { break };
        let (command, args, line) = match item {
            Item::Query { text, .. } => {
                queries.push(text);
                continue;
            }
            Item::Warning { .. } => continue,
            Item::Meta {
                command,
                args,
                line,
                query,
            } => {
                queries.extend(query);
                (command, args, line)
            }
        };
        let parsed = match MetaCommand::parse(&command, &args, line) {
            Ok(parsed) => parsed.command,
            Err(_) => {
                // psql: "invalid command", and the rest of the line is dropped.
                scanner.discard_rest_of_line();
                continue;
            }
        };
        let holds = |expr: &str| condition(expr, &command).unwrap_or(false);
        match parsed {
            MetaCommand::If(expr) => branches.push(Branch::from(match active {
                true if holds(&expr) => State::Running,
                true => State::Waiting,
                false => State::Done,
            })),
            // psql refuses \elif and \else after \else (and without \if): nothing changes.
            MetaCommand::Elif(_) | MetaCommand::Else
                if branches.last().is_none_or(|top| top.after_else) => {}
            MetaCommand::Elif(expr) => {
                if let Some(top) = branches.last_mut() {
                    top.state = match top.state {
                        State::Waiting if holds(&expr) => State::Running,
                        State::Waiting => State::Waiting,
                        _ => State::Done,
                    };
                }
            }
            MetaCommand::Else => {
                if let Some(top) = branches.last_mut() {
                    top.state = match top.state {
                        State::Waiting => State::Running,
                        _ => State::Done,
                    };
                    top.after_else = true;
                }
            }
            MetaCommand::Endif => {
                branches.pop();
            }
            MetaCommand::Set { name, value }
                if active && vars.set(&name, Some(&value)).is_err() =>
            {
                // psql drops the rest of the line after a failed meta-command.
                scanner.discard_rest_of_line();
            }
            MetaCommand::Unset(name) if active => {
                let _ = vars.set(&name, None);
            }
            _ => {}
        }
    }
    queries
}

/// (name, script): each must be sent identically by psql and the scanner.
const CASES: &[(&str, &str)] = &[
    ("one line, several statements", "select 1; select 2 ;select 3;"),
    ("text after the semicolon", "select 1; -- done\nselect 2; /* c */\n"),
    ("leading comments and blank lines", "\n\n-- a\n  -- b\n\nselect 1;\n"),
    ("block comment kept", "/* head */ select 1;\n"),
    ("nested block comments", "select /* a /* b ; */ c ; */ 1;\n"),
    ("dash comment inside a query", "select 1 -- one\n, 2 -- two\n;\n"),
    ("blank lines inside a query", "select 1\n\n\n, 2;\n"),
    ("blank lines inside a string", "select 'a\n\n;b';\n"),
    ("single quotes", "select 'a;b', 'it''s';\n"),
    ("E string with backslash quote", "select E'a\\';' \\; select 2;\nselect E'\\\\';\n"),
    ("unicode strings", "select U&'d\\0061t;a', U&\"d;\" from (select 1 as \"d;\") s;\n"),
    ("bit and hex strings", "select b'01;', x'0f;';\n"),
    ("quoted identifiers", "select 1 as \"a;\"\"b\";\n"),
    ("dollar quote", "select $$a;b$$;\n"),
    ("tagged dollar quote", "select $fn$ $$ ; $other$ ; $fn$;\nselect 2;\n"),
    ("dollar quote over lines", "do $body$\nbegin\n  perform 1;\n\n  perform 2;\nend\n$body$;\n"),
    ("identifier with dollars", "select 1 as a$b$; select $1;\n"),
    ("parentheses", "select (1;\n2);\nselect ((3));\n"),
    ("begin atomic", "create function f() returns int language sql\nbegin atomic\n  select 1;\n  select 2;\nend;\nselect 3;\n"),
    ("begin atomic with case", "create or replace procedure p() language sql begin atomic select case when true then 1 end; end; select 4;\n"),
    ("transaction begin", "begin; select 1; commit;\n"),
    ("escaped semicolon", "select 1 \\; select 2;\n"),
    ("escaped colon", "select 5\\:\\:text;\n"),
    ("trailing text without semicolon", "select 1;\nselect 2\n"),
    ("unterminated string at the end", "select 'open\n"),
    ("plain variable", "\\set v 42\nselect :v;\n"),
    ("variable with a semicolon is rescanned", "\\set v 1;select 2\nselect :v;\n"),
    ("variable naming a variable", "\\set a 7\n\\set b :a\nselect :b;\n"),
    ("literal variable", "\\set q 'it''s'\nselect :'q';\n"),
    ("literal variable with backslash", "\\set q 'a\\\\b'\nselect :'q';\n"),
    ("identifier variable", "\\set i 'a\"b'\nselect 1 as :\"i\";\n"),
    ("no interpolation in quotes and comments", "\\set v 9\nselect ':v', \":v\", $$:v$$ /* :v */, :v -- :v\n;\n"),
    ("unknown variables", "select :zz, :'zz', :\"zz\";\n"),
    ("casts", "\\set v 3\nselect :v::int, 1::text, :'v'::int;\n"),
    ("defined test", "\\set v 1\nselect :{?v}, :{?nope};\n"),
    ("recursive expansion", "\\set r 'x :r'\nselect :r;\n"),
    ("gset mid-line", "select 1 as a \\gset\nselect 2 as b \\gset p_\nselect 3;\n"),
    ("g and resend", "select 1 \\g\n\\g\nselect 2;\n\\g\n"),
    ("gx", "select 1\n\\gx\n"),
    ("set with quoted arguments", "\\set v 'a b' \"c\" d\nselect :'v';\n"),
    ("set with escapes", "\\set v 'x\\ty\\101\\x42'\nselect :'v';\n"),
    ("set concatenation and interpolation", "\\set a 1\n\\set v :a 2 :'a'\nselect :'v';\n"),
    ("if false, else", "\\if false\nselect 1;\n\\else\nselect 2;\n\\endif\n"),
    ("if true, elif", "\\if true\nselect 1;\n\\elif true\nselect 2;\n\\else\nselect 3;\n\\endif\n"),
    ("elif taken", "\\set x 0\n\\if :x\nselect 1;\n\\elif yes\nselect 2;\n\\endif\n"),
    ("query text around an active branch", "select 1\n\\if on\n, 2\n\\endif\n;\n"),
    ("query text around an inactive branch", "select 1\n\\if off\n, 2\n\\endif\n, 3;\n"),
    ("nested ifs", "\\if false\n\\if true\nselect 1;\n\\endif\n\\else\nselect 2;\n\\endif\n"),
    ("echo mid-query", "select 1 \\echo hi\n, 2;\n"),
    ("double backslash separator", "\\echo a \\\\ select 1;\n\\set v 5 \\\\ select :v;\n"),
    ("crlf lines", "select 1;\r\nselect\r\n2;\r\n"),
    ("byte order mark", "\u{feff}select 1;\n"),
    ("empty statements", ";\n;;\nselect 1;\n"),
    ("numbers and operators", "select 1.5e3, 2.e1, .5, 3-/**/-4, 5--x\n;\n"),
    ("non-ascii", "select 'é;', 1 as été;\n"),
    ("bad \\set value refused, rest of line dropped", "\\set ON_ERROR_STOP x \\\\ select 1;\nselect 2;\n"),
    ("semicolon in an inactive branch", "select 1\n\\if off\n;\n\\endif\nselect 2;\n"),
    ("variable opening a quote", "\\set v '''abc'\nselect :v';\n"),
    ("variable holding a whole statement", "\\set v 'select 1;'\n:v select 2;\n"),
    ("unterminated echo quote", "\\echo 'open\nselect 1;\n"),
    ("comment at the end without newline", "select 1; -- x"),
    ("dashes inside a block comment", "select /* -- ; */ 1;\n"),
    ("unterminated block comment", "select 1 /* open ;\n"),
    ("string continuation over lines", "select 'a'\n'b', 'c' 'd';\n"),
    ("function with return", "create function g() returns int return 1; select 2;\n"),
    ("function with dollar body", "create function h() returns int as $$ begin return 1; end $$ language plpgsql; select 3;\n"),
    ("begin atomic inside parentheses", "create function k() returns int language sql (begin atomic select 1; end); select 1;\n"),
    ("whitespace-only line inside a query", "select 1\n   \n, 2;\n"),
    ("tabs and form feeds", "\tselect\t1\x0c;\n"),
    ("block comment then g", "select 1 /* c */\n\\g\n"),
    ("meta-command right after a semicolon", "select 1;\\echo x\nselect 2;\n"),
    ("unset", "\\set v 1\n\\unset v\nselect :v;\n"),
    ("if with interpolated expression, elif in a false outer", "\\set t true\n\\if :t\nselect 1;\n\\endif\n\\if 0\n\\if 1\n\\elif 1\nselect 2;\n\\endif\n\\endif\n"),
    ("if gathers all its arguments", "\\set t tr\n\\if :t ue\nselect 1;\n\\elif 'tr''ue'\nselect 2;\n\\elif 'y' :t\nselect 3;\n\\else\nselect 4;\n\\endif\n"),
    ("extra arguments are not evaluated", "\\if true\n\\endif `echo hi` :'x'\nselect 1;\n"),
    ("unterminated dollar quote", "select $q$ ; \n"),
    ("empty dollar tag inside tagged", "select $a$ $$ $a$, $$ $a$ $$;\n"),
];

#[tokio::test]
async fn scanner_sends_what_psql_sends() {
    let db = TestDb::new("scan_vs_psql").await;
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for (name, script) in CASES {
        let expected = psql_queries(&db.url, script);
        let actual = scanner_queries(script);
        if expected != actual {
            failures.push(format!(
                "{name}: script {script:?}\n  psql:    {expected:?}\n  scanner: {actual:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn echo_queries_shows_the_scanners_queries() {
    // The brief's oracle, `\set ECHO queries`, agrees with the -L log on scripts without
    // \echo (which would print to the same output).
    let db = TestDb::new("scan_vs_psql_echo").await;
    for (name, script) in CASES
        .iter()
        .filter(|(_, script)| !script.contains("\\echo"))
    {
        let echoed = run_psql(&db.url, &["-v", "ECHO=queries"], script);
        let ours: String = scanner_queries(script)
            .iter()
            .map(|query| format!("{query}\n"))
            .collect();
        assert_eq!(ours, echoed, "{name}: {script:?}");
    }
}

#[tokio::test]
async fn the_oracle_can_tell_scripts_apart() {
    // The comparison can fail: psql's log distinguishes one query from two.
    let db = TestDb::new("scan_vs_psql_neg").await;
    assert_eq!(
        psql_queries(&db.url, "select 1; select 2;"),
        ["select 1;", "select 2;"]
    );
    assert_eq!(
        psql_queries(&db.url, "select 1 \\; select 2;"),
        ["select 1 ; select 2;"]
    );
}

/// Pieces random scripts are made of: quotes, comments, dollar quotes, parentheses,
/// function bodies, variables, escapes and meta-commands, in any order.
const PIECES: &[&str] = &[
    "select ",
    "1",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    ";",
    "'",
    "E'",
    "\\'",
    "''",
    "\"",
    "$$",
    "$a$",
    "$1",
    "(",
    ")",
    "/*",
    "*/",
    "--",
    "-",
    "*",
    "\\;",
    "\\:",
    ":v",
    ":'v'",
    ":\"v\"",
    ":{?v}",
    "::",
    "x",
    "begin ",
    "end",
    "case ",
    "create function f() ",
    "or replace ",
    "procedure ",
    "atomic ",
    "\\echo a 'b c'\n",
    "\\g\n",
    "\\gset\n",
    "\\\\",
    "\\",
    "é",
    "U&'",
    "\\set v ",
    "\\set w :v ",
    ":w",
    "\\'",
    "\\x41",
    "x'",
    "n'",
    "u&\"",
    "\r",
    "-- c\n",
    "$b$",
    "\"\"",
    "1e",
    "$1",
    ":v::int",
    "\\echo :v\n",
    "\\set v 'x;y'\n",
    "\\set v\n",
    "\\unset v\n",
    "{",
    "\\elif on\n",
    "b'",
    "\\if off\n",
    "\\if on\n",
    "\\else\n",
    "\\endif\n",
];

#[test]
fn random_scripts_match_psql() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let db = runtime.block_on(TestDb::new("scan_vs_psql_random"));
    let url = db.url.clone();
    // A fixed seed and a bounded number of psql runs: deterministic and quick.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[11u8; 32],
        ),
    );
    let scripts = proptest::collection::vec(proptest::sample::select(PIECES), 0..80)
        .prop_map(|pieces| format!("\\set v 'a;b :v'\n{}", pieces.concat()));
    let outcome = runner.run(&scripts, |script| {
        prop_assert_eq!(
            scanner_queries(&script),
            psql_queries(&url, &script),
            "{:?}",
            script
        );
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    drop(runtime);
}
