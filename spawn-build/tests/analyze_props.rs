//! Property tests of the SQL analyser, `spawn_build::analyze::analyze`.
//!
//! * It never panics: not on arbitrary Unicode, nor on soups of the pieces it cares about
//!   (quotes, `$`, `;`, comment markers, backslashes, `BEGIN ATOMIC`, directives).
//! * Whatever the input, a successful analysis is consistent: the body lies after any
//!   byte-order mark; the statements lie in it in order, without overlapping, on char
//!   boundaries, with a `;` between each two; the pieces around and between them put back
//!   together are the input; each gap analysed on its own holds no statement and each
//!   statement analysed on its own is exactly one; `line` is the 1-based line (counted at
//!   `\n`) of `start`. A failed analysis reports errors in order, each at a line and column
//!   that exist in the input.
//! * Migrations generated with known statement boundaries — statements made of `'…'`,
//!   prefixed (`E''`, `U&''`, `B''`, …) strings, quoted identifiers, `$$…$$` and `$tag$…$tag$`
//!   bodies and nested comments that all hide `;`, quotes, `--` and `/*`, and routines with
//!   `BEGIN ATOMIC … END` bodies; separated by whitespace of every kind and comments; with
//!   empty statements, directives, a byte-order mark and `BEGIN; … COMMIT;` wrappers — are
//!   split exactly there: each `Statement` runs from its first token to the end of its last
//!   one (before its `;`), the wrapper is left out of the body, and the directives are read.
//! * Appending an unterminated quote, comment or dollar quote, or an unclosed
//!   `BEGIN ATOMIC`, to such a migration gives that one error, at its line and column.
//!
//! Reproducing a failure: see `support/mod.rs`.

mod support;

use std::ops::Range;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use spawn_build::analyze::{analyze, Analysis, AnalyzeError, TransactionMode};

const BOM: char = '\u{feff}';

// ---- what the analyser must find in any input -----------------------------------------------

/// Byte offset where the content starts (after a byte-order mark).
fn content_start(sql: &str) -> usize {
    if sql.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    }
}

/// 1-based line of byte `offset`, counted at `\n` as the analyser documents.
fn line_of(sql: &str, offset: usize) -> u32 {
    let newlines = sql.as_bytes()[..offset].iter().filter(|&&b| b == b'\n');
    u32::try_from(newlines.count() + 1).expect("small test input")
}

/// 1-based line and column (in characters, not counting a byte-order mark) of `offset`.
fn line_column(sql: &str, offset: usize) -> (u32, u32) {
    let line_start = sql[..offset]
        .rfind('\n')
        .map_or(content_start(sql), |i| i + 1);
    let column = sql[line_start..offset].chars().count() + 1;
    (
        line_of(sql, offset),
        u32::try_from(column).expect("small test input"),
    )
}

/// Checks the invariants of [`analyze`]'s result for any input.
fn check_analysis(sql: &str) -> Result<(), TestCaseError> {
    match analyze(sql) {
        Ok(analysis) => check_success(sql, &analysis),
        Err(errors) => check_errors(sql, &errors),
    }
}

fn check_success(sql: &str, analysis: &Analysis) -> Result<(), TestCaseError> {
    let body = analysis.body.clone();
    prop_assert!(
        content_start(sql) <= body.start && body.start <= body.end && body.end <= sql.len(),
        "body {body:?} outside the content of {} bytes",
        sql.len()
    );
    prop_assert!(sql.is_char_boundary(body.start) && sql.is_char_boundary(body.end));

    let mut pieces = vec![&sql[..body.start]];
    let mut pos = body.start;
    for (i, statement) in analysis.statements.iter().enumerate() {
        let (start, end) = (statement.start, statement.end);
        prop_assert!(
            pos <= start && start < end && end <= body.end,
            "statement {i} at {start}..{end} is not after {pos} and inside the body {body:?}"
        );
        prop_assert!(sql.is_char_boundary(start) && sql.is_char_boundary(end));
        prop_assert_eq!(statement.line, line_of(sql, start));
        let gap = &sql[pos..start];
        if i > 0 {
            prop_assert!(gap.contains(';'), "no `;` between statements: {:?}", gap);
        }
        check_gap(gap)?;
        let text = statement.text(sql);
        prop_assert_eq!(text, &sql[start..end]);
        check_alone(text, analysis.mode)?;
        pieces.extend([gap, text]);
        pos = end;
    }
    let last_gap = &sql[pos..body.end];
    check_gap(last_gap)?;
    pieces.extend([last_gap, &sql[body.end..]]);
    prop_assert_eq!(pieces.concat(), sql);
    Ok(())
}

/// Text between statements holds whitespace, comments and `;` only: no statement.
fn check_gap(gap: &str) -> Result<(), TestCaseError> {
    match analyze(gap) {
        Ok(alone) => prop_assert!(
            alone.statements.is_empty(),
            "the gap {:?} holds statements",
            gap
        ),
        Err(errors) => {
            return Err(TestCaseError::fail(format!(
                "the gap {gap:?} fails alone: {errors:?}"
            )))
        }
    }
    Ok(())
}

/// A statement's text analysed on its own (in the same mode) is that one statement.
fn check_alone(text: &str, mode: TransactionMode) -> Result<(), TestCaseError> {
    // A prefix keeps a statement that starts with U+FEFF (a word) from losing it as a BOM.
    let prefix = match mode {
        TransactionMode::NoTransaction => "-- spawn:no-transaction\n",
        TransactionMode::Transactional => "\n",
    };
    let alone = format!("{prefix}{text}");
    match analyze(&alone) {
        Ok(analysis) => {
            let found: Vec<_> = analysis
                .statements
                .iter()
                .map(|s| (s.start, s.end, s.line))
                .collect();
            prop_assert_eq!(found, vec![(prefix.len(), alone.len(), 2)], "{:?}", text);
        }
        Err(errors) => {
            return Err(TestCaseError::fail(format!(
                "{text:?} fails alone: {errors:?}"
            )))
        }
    }
    Ok(())
}

fn check_errors(sql: &str, errors: &[AnalyzeError]) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty());
    let lines: Vec<&str> = sql[content_start(sql)..].split('\n').collect();
    for error in errors {
        let line = usize::try_from(error.line).expect("u32 fits");
        prop_assert!((1..=lines.len()).contains(&line), "{error:?}: no such line");
        let columns = lines[line - 1].chars().count() + 1;
        let column = usize::try_from(error.column).expect("u32 fits");
        prop_assert!((1..=columns).contains(&column), "{error:?}: no such column");
        prop_assert!(!error.message.is_empty());
    }
    prop_assert!(
        errors
            .windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)),
        "errors out of order: {errors:?}"
    );
    Ok(())
}

// ---- generated migrations -------------------------------------------------------------------

/// Text that means something to a SQL lexer, for the insides of quotes and comments.
#[rustfmt::skip]
const TRICKY: &[&str] = &[
    ";", "'", "''", "\"", "\"\"", "\\", "\\'", "$", "$$", "$a$", "$1", "--", "/*", "*/", "*",
    "/", "\n", "\r", "\r\n", "E'", "U&'", "BEGIN", "END", "ATOMIC", "CASE", "COMMIT;",
    "ROLLBACK", "VACUUM", "-- spawn:no-transaction", "\\c db", " ", "é", "😀", "\u{feff}", "\0",
];

fn tricky_text() -> impl Strategy<Value = String> {
    support::text_of(TRICKY, 8)
}

/// `'…'` strings, plain or with a `B`, `X`, `N` or `U&` prefix: `'` doubled, `\` ordinary.
fn string_literal() -> impl Strategy<Value = String> {
    let prefix = select(&["", "", "B", "b", "X", "x", "N", "n", "U&", "u&"][..]);
    (prefix, tricky_text())
        .prop_map(|(prefix, text)| format!("{prefix}'{}'", text.replace('\'', "''")))
}

/// `E'…'` strings, where a backslash escapes the next character.
fn escape_string() -> impl Strategy<Value = String> {
    let escaped = tricky_text().prop_map(|t| t.replace('\\', "\\\\").replace('\'', "\\'"));
    let raw = select(
        &[
            "''", "\\'", "\\\\", "\\;", "\\n", "\\x41", "\\u00e9", "\\\n", "\\é", "\\\"",
        ][..],
    )
    .prop_map(str::to_owned);
    let part = prop_oneof![escaped, raw];
    (select(&["E", "e"][..]), vec(part, 0..4))
        .prop_map(|(prefix, parts)| format!("{prefix}'{}'", parts.concat()))
}

/// `"…"` and `U&"…"` identifiers, with `"` doubled.
fn quoted_identifier() -> impl Strategy<Value = String> {
    (select(&["", "", "U&", "u&"][..]), tricky_text())
        .prop_map(|(prefix, text)| format!("{prefix}\"{}\"", text.replace('"', "\"\"")))
}

/// `$$…$$` and `$tag$…$tag$` strings whose body does not close them early.
fn dollar_quoted() -> impl Strategy<Value = String> {
    let tag = prop_oneof![Just(String::new()), "[a-zA-Z_é日][a-zA-Z0-9_é]{0,4}"];
    (tag, tricky_text()).prop_map(|(tag, body)| {
        let delimiter = format!("${tag}$");
        // The delimiter must first occur where it is meant to close the body.
        let closes_at_end = format!("{body}{delimiter}").find(&delimiter) == Some(body.len());
        let body = if closes_at_end {
            body
        } else {
            body.replace('$', "")
        };
        format!("{delimiter}{body}{delimiter}")
    })
}

/// `text` with no `/*` or `*/` left in it, to go inside a block comment.
fn comment_text(text: &str) -> String {
    let mut text = text.to_owned();
    while text.contains("/*") || text.contains("*/") {
        text = text.replace("/*", "/ *").replace("*/", "* /");
    }
    text
}

/// `/* … */` comments, nested ones included.
fn block_comment() -> impl Strategy<Value = String> {
    let leaf = tricky_text().prop_map(|t| format!("/* {} */", comment_text(&t)));
    leaf.prop_recursive(3, 8, 1, |inner| {
        (tricky_text(), inner, tricky_text()).prop_map(|(before, nested, after)| {
            format!(
                "/* {} {nested} {} */",
                comment_text(&before),
                comment_text(&after)
            )
        })
    })
}

/// `--` comments with their line break. The `x` keeps them from being directives.
fn line_comment() -> impl Strategy<Value = String> {
    (tricky_text(), select(&["\n", "\r\n", "\r"][..]))
        .prop_map(|(text, newline)| format!("--x{}{newline}", text.replace(['\n', '\r'], "")))
}

fn whitespace() -> impl Strategy<Value = String> {
    let space = select(&[" ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "  \n  "][..]);
    vec(space, 1..3).prop_map(|spaces| spaces.concat())
}

/// What separates two tokens. A line comment always follows whitespace, so that it cannot
/// merge with a `-` token before it.
fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => whitespace(),
        1 => (option::of(whitespace()), block_comment(), option::of(whitespace())).prop_map(
            |(before, comment, after)| {
                format!("{}{comment}{}", before.unwrap_or_default(), after.unwrap_or_default())
            }
        ),
        1 => (whitespace(), line_comment()).prop_map(|(space, comment)| space + &comment),
    ]
}

/// Words the statement splitter follows (in routines), or that change what a statement is.
const KEYWORDS: &[&str] = &["BEGIN", "END", "CASE", "ATOMIC"];

fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z_é日][a-zA-Z0-9_$é]{0,6}".prop_filter("a keyword", |w| {
        !KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k))
    })
}

const PUNCTUATION: &[&str] = &[
    "(", ")", ",", "+", "-", "*", "/", "<", ">", "=", ":", "::", ".", "[", "]", "$", "%", "^", "&",
    "|", "!", "?", "@", "#", "~",
];

/// One token of a statement.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => word(),
        1 => "[0-9]{1,4}(\\.[0-9]{1,3})?|\\.[0-9]{1,2}",
        1 => "\\$[1-9][0-9]{0,2}",
        2 => select(PUNCTUATION).prop_map(str::to_owned),
        3 => string_literal(),
        2 => escape_string(),
        2 => quoted_identifier(),
        3 => dollar_quoted(),
    ]
}

/// How plain statements start; none of them is transaction control or refused in a
/// transaction, whatever follows.
const HEADS: &[&str] = &[
    "SELECT",
    "select",
    "INSERT INTO t VALUES",
    "UPDATE t SET",
    "DELETE FROM t WHERE",
    "CREATE TABLE",
    "WITH x AS",
    "COMMENT ON TABLE t IS",
    "DO",
];

fn words(text: &str) -> Vec<String> {
    text.split(' ').map(str::to_owned).collect()
}

/// A statement's tokens.
fn plain_statement() -> impl Strategy<Value = Vec<String>> {
    (select(HEADS), vec(atom(), 0..6)).prop_map(|(head, atoms)| {
        let mut tokens = words(head);
        tokens.extend(atoms);
        tokens
    })
}

/// `CASE WHEN … THEN … [nested CASE] END`, whose `END` does not close a `BEGIN ATOMIC`.
fn case_expression() -> impl Strategy<Value = Vec<String>> {
    let leaf = (atom(), atom()).prop_map(|(when, then)| {
        let mut tokens = words("CASE WHEN");
        tokens.extend([when, "THEN".to_owned(), then, "END".to_owned()]);
        tokens
    });
    leaf.prop_recursive(2, 4, 1, |inner| {
        (atom(), inner).prop_map(|(when, nested)| {
            let mut tokens = words("case when");
            tokens.extend([when, "then".to_owned()]);
            tokens.extend(nested);
            tokens.extend(words("ELSE 0 end"));
            tokens
        })
    })
}

/// A statement inside a `BEGIN ATOMIC` body, its `;` included.
fn atomic_inner_statement() -> impl Strategy<Value = Vec<String>> {
    let part = prop_oneof![3 => atom().prop_map(|a| vec![a]), 1 => case_expression()];
    vec(part, 0..4).prop_map(|parts| {
        let mut tokens = vec!["SELECT".to_owned()];
        tokens.extend(parts.into_iter().flatten());
        tokens.push(";".to_owned());
        tokens
    })
}

const ROUTINE_HEADS: &[&str] = &[
    "CREATE FUNCTION f ( ) RETURNS int LANGUAGE sql",
    "create or replace procedure p ( ) language sql",
    "CREATE OR REPLACE FUNCTION f ( x int ) RETURNS int",
];

/// The tokens of a routine with a `BEGIN ATOMIC` body, without its closing `END`.
fn unclosed_routine() -> impl Strategy<Value = Vec<String>> {
    (select(ROUTINE_HEADS), vec(atomic_inner_statement(), 0..3)).prop_map(|(head, inner)| {
        let mut tokens = words(head);
        tokens.extend(words("BEGIN ATOMIC"));
        tokens.extend(inner.into_iter().flatten());
        tokens
    })
}

fn routine() -> impl Strategy<Value = Vec<String>> {
    unclosed_routine().prop_map(|mut tokens| {
        tokens.push("END".to_owned());
        tokens
    })
}

/// Whether two tokens written without a separator still lex as the same tokens (or, for
/// two quotes, as one quote: `'a''b'`). Not, say, two words, `E` and a string (an `E''`
/// string), `-` and `-` (a comment), a word and a dollar quote (`a$$…`: one word), or an
/// `E''` string and a plain one (whose backslashes would become escapes).
fn may_touch(left: &str, right: &str) -> bool {
    const BRACKETS: &[&str] = &["(", ")", "[", "]", ",", ";"];
    let quote = left.ends_with(['\'', '"'])
        || (left.len() > 1 && left.starts_with('$') && left.ends_with('$'));
    let escape_string = left.starts_with(['E', 'e']) && left.ends_with('\'');
    let fits_after_quote = right.starts_with(['"', '$'])
        || (right.starts_with('\'') && !escape_string)
        || PUNCTUATION.contains(&right);
    BRACKETS.contains(&left) || BRACKETS.contains(&right) || (quote && fits_after_quote)
}

/// A statement as tokens and the separators between them (`None`: adjacent where
/// [`may_touch`] allows it).
fn statement() -> impl Strategy<Value = (Vec<String>, Vec<Option<String>>)> {
    prop_oneof![3 => plain_statement(), 1 => routine()].prop_flat_map(|tokens| {
        let gaps = vec(option::weighted(0.8, separator()), tokens.len() - 1);
        (Just(tokens), gaps)
    })
}

/// One planned statement and what follows it.
#[derive(Debug, Clone)]
struct PlannedStatement {
    tokens: Vec<String>,
    /// Between the tokens; `None` leaves two tokens adjacent where that lexes the same.
    gaps: Vec<Option<String>>,
    /// `[separator] ;` after the statement, then empty statements: `[separator] ;` each.
    terminators: Vec<Option<String>>,
    /// Before the next statement.
    after: Option<String>,
}

/// A migration to generate, with everything the analyser should find in it.
#[derive(Debug, Clone)]
struct Plan {
    bom: bool,
    no_transaction: bool,
    lock_timeout: Option<String>,
    statement_timeout: Option<String>,
    /// `(BEGIN form, COMMIT form)` of a `BEGIN; … COMMIT;` wrapper.
    wrapper: Option<(&'static str, &'static str)>,
    leading: Vec<String>,
    statements: Vec<PlannedStatement>,
    trailing: Vec<String>,
}

/// A generated migration and what the analyser must make of it.
#[derive(Debug)]
struct Script {
    sql: String,
    /// `(start, end, line)` of each statement.
    statements: Vec<(usize, usize, u32)>,
    body: Range<usize>,
    plan: Plan,
}

fn planned_statement() -> impl Strategy<Value = PlannedStatement> {
    (
        statement(),
        vec(option::of(separator()), 1..3),
        option::of(separator()),
    )
        .prop_map(|((tokens, gaps), terminators, after)| PlannedStatement {
            tokens,
            gaps,
            terminators,
            after,
        })
}

fn duration() -> impl Strategy<Value = String> {
    "[0-9]{1,4}( ?(ms|s|min|h|d))?"
}

fn plan() -> impl Strategy<Value = Plan> {
    let wrapper = select(
        &[
            ("BEGIN", "COMMIT"),
            ("begin work", "commit work"),
            ("START TRANSACTION", "END"),
            ("BEGIN TRANSACTION", "COMMIT AND NO CHAIN"),
        ][..],
    );
    (
        (any::<bool>(), any::<bool>()),
        (option::of(duration()), option::of(duration())),
        option::weighted(0.3, wrapper),
        vec(separator(), 0..3),
        vec(planned_statement(), 0..6),
        vec(separator(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(
                (bom, no_transaction),
                (lock_timeout, statement_timeout),
                wrapper,
                leading,
                mut statements,
                trailing,
                last_terminated,
            )| {
                // A wrapper's last statement needs its `;` to stay apart from the COMMIT.
                if let Some(last) = statements.last_mut() {
                    if !last_terminated && wrapper.is_none() {
                        last.terminators.clear();
                    }
                }
                Plan {
                    bom,
                    no_transaction,
                    lock_timeout,
                    statement_timeout,
                    // A wrapper would be an error in a `-- spawn:no-transaction` migration.
                    wrapper: wrapper.filter(|_| !no_transaction),
                    leading,
                    statements,
                    trailing,
                }
            },
        )
}

impl Plan {
    fn script(self) -> Script {
        let mut sql = String::new();
        if self.bom {
            sql.push(BOM);
        }
        if self.no_transaction {
            sql.push_str("-- spawn:no-transaction\n");
        }
        if let Some(value) = &self.lock_timeout {
            sql.push_str(&format!("-- spawn:lock-timeout {value}\r\n"));
        }
        if let Some(value) = &self.statement_timeout {
            sql.push_str(&format!("--spawn:statement-timeout  {value}\n"));
        }
        for separator in &self.leading {
            sql.push_str(separator);
        }
        let mut body = content_start(&sql)..0;
        if let Some((begin, _)) = self.wrapper {
            sql.push_str(begin);
            sql.push(';');
            body.start = sql.len();
        }
        let mut statements = Vec::new();
        for planned in &self.statements {
            let start = sql.len();
            for (i, token) in planned.tokens.iter().enumerate() {
                if i > 0 {
                    let left = &planned.tokens[i - 1];
                    match &planned.gaps[i - 1] {
                        Some(separator) => sql.push_str(separator),
                        None if may_touch(left, token) => {}
                        None => sql.push(' '),
                    }
                }
                sql.push_str(token);
            }
            statements.push((start, sql.len(), line_of(&sql, start)));
            for separator in &planned.terminators {
                sql.push_str(separator.as_deref().unwrap_or_default());
                sql.push(';');
            }
            // Without a `;`, a separator keeps the statement apart from what follows.
            let after = match (&planned.after, planned.terminators.is_empty()) {
                (Some(after), _) => after.clone(),
                (None, true) => " ".to_owned(),
                (None, false) => String::new(),
            };
            sql.push_str(&after);
        }
        body.end = sql.len();
        if let Some((_, commit)) = self.wrapper {
            sql.push_str(commit);
            sql.push(';');
        }
        for separator in &self.trailing {
            sql.push_str(separator);
        }
        if self.wrapper.is_none() {
            body.end = sql.len();
        }
        Script {
            sql,
            statements,
            body,
            plan: self,
        }
    }
}

fn script() -> impl Strategy<Value = Script> {
    plan().prop_map(Plan::script)
}

fn expected_mode(plan: &Plan) -> TransactionMode {
    if plan.no_transaction {
        TransactionMode::NoTransaction
    } else {
        TransactionMode::Transactional
    }
}

/// Quotes, identifiers, dollar quotes and comments that are never closed.
const UNTERMINATED: &[&str] = &[
    "'abc;",
    "'it''s; ",
    "E'x\\'; ",
    "e'\\\\\\'",
    "U&'x;",
    "B'01",
    "\"col;",
    "U&\"x\"\" ",
    "$$ SELECT 1; ",
    "$body$ x; $$ $bod$ ",
    "/* a; /* b; */ ",
    "/*",
];

proptest! {
    #![proptest_config(support::config(512))]

    /// Generated migrations are split exactly where they were built to be.
    #[test]
    fn generated_migrations_split_where_expected(script in script()) {
        let sql = &script.sql;
        let analysis = match analyze(sql) {
            Ok(analysis) => analysis,
            Err(errors) => return Err(TestCaseError::fail(format!("{sql:?}: {errors:#?}"))),
        };
        let found: Vec<_> = analysis.statements.iter().map(|s| (s.start, s.end, s.line)).collect();
        prop_assert_eq!(&found, &script.statements, "{:?}", sql);
        prop_assert_eq!(&analysis.body, &script.body, "{:?}", sql);
        prop_assert_eq!(analysis.mode, expected_mode(&script.plan));
        let trimmed = |value: &Option<String>| value.as_ref().map(|v| v.trim().to_owned());
        prop_assert_eq!(analysis.lock_timeout, trimmed(&script.plan.lock_timeout));
        prop_assert_eq!(analysis.statement_timeout, trimmed(&script.plan.statement_timeout));
        check_analysis(sql)?;
    }
}

proptest! {
    #![proptest_config(support::config(256))]

    /// An unterminated quote or comment at the end is the one error, where it opened.
    #[test]
    fn unterminated_quotes_and_comments_are_reported_where_they_open(
        script in script(),
        space in whitespace(),
        opener in select(UNTERMINATED),
    ) {
        let mut sql = script.sql;
        sql.push_str(&space);
        let offset = sql.len();
        sql.push_str(opener);
        let errors = analyze(&sql).expect_err("an unterminated quote");
        let found: Vec<_> = errors.iter().map(|e| (e.line, e.column)).collect();
        prop_assert_eq!(found, vec![line_column(&sql, offset)], "{:?}: {:?}", sql, errors);
        prop_assert!(errors[0].message.starts_with("unterminated "), "{:?}", errors);
        check_errors(&sql, &errors)?;
    }

    /// A `BEGIN ATOMIC` without its `END` is reported at its `BEGIN`.
    #[test]
    fn unclosed_begin_atomic_is_reported_at_its_begin(
        script in script(),
        space in whitespace(),
        routine in unclosed_routine(),
    ) {
        let mut sql = script.sql;
        sql.push(';');
        sql.push_str(&space);
        let begin = sql.len() + routine.iter().take_while(|t| *t != "BEGIN").map(|t| t.len() + 1).sum::<usize>();
        sql.push_str(&routine.join(" "));
        let errors = analyze(&sql).expect_err("an unclosed BEGIN ATOMIC");
        let unclosed: Vec<_> = errors.iter().filter(|e| e.message.contains("never closed")).map(|e| (e.line, e.column)).collect();
        prop_assert_eq!(unclosed, vec![line_column(&sql, begin)], "{:?}", sql);
        if script.plan.wrapper.is_none() {
            prop_assert_eq!(errors.len(), 1, "{:?}", errors);
        }
        check_errors(&sql, &errors)?;
    }
}

/// Pieces of SQL for soups: everything the analyser treats specially, and a few words.
#[rustfmt::skip]
const SOUP: &[&str] = &[
    ";", "'", "\"", "E'", "e'", "U&'", "u&\"", "B'", "\\", "$", "$$", "$a$", "$1", "--", "/*",
    "*/", "*", "/", "-", "\n", "\r", " ", "\t", "\u{feff}", "é", "SELECT", "x", "1", "BEGIN",
    "begin", "ATOMIC", "END", "CASE", "COMMIT", "ROLLBACK", "START TRANSACTION", "VACUUM",
    "LOCK", "CREATE FUNCTION f() ", "CREATE INDEX CONCURRENTLY", "-- spawn:no-transaction\n",
    "-- spawn:lock-timeout 5s\n", "-- spawn:", "\\c x\n", "(", ")",
];

proptest! {
    #![proptest_config(support::config(1024))]

    /// Arbitrary Unicode, control characters and NUL included: no panic, consistent results.
    #[test]
    fn arbitrary_text_never_panics(chars in vec(any::<char>(), 0..200)) {
        check_analysis(&String::from_iter(chars))?;
    }

    /// Soups of the pieces that matter to the analyser: no panic, consistent results.
    #[test]
    fn sql_soup_never_panics(pieces in vec(select(SOUP), 0..60)) {
        check_analysis(&pieces.concat())?;
    }
}
