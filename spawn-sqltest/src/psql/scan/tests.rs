//! Unit tests of the scanner: what psql 15 sends for each construct (checked against
//! `psql -X` with `\set ECHO queries`; the integration test `scan_vs_psql` re-checks
//! many of them against a live psql).

use super::*;

fn all_items(script: &str, vars: &Variables) -> Vec<Item> {
    let mut scanner = Scanner::new(script);
    let mut items = Vec::new();
    while let Some(item) = scanner.next(vars, true).expect("scan") {
        items.push(item);
    }
    items
}

fn queries(script: &str) -> Vec<String> {
    queries_with(script, &Variables::new())
}

fn queries_with(script: &str, vars: &Variables) -> Vec<String> {
    all_items(script, vars)
        .into_iter()
        .filter_map(|item| match item {
            Item::Query { text, .. } => Some(text),
            Item::Meta { query, .. } => query,
            Item::Warning { .. } => None,
        })
        .collect()
}

fn vars_with(pairs: &[(&str, &str)]) -> Variables {
    let mut vars = Variables::new();
    for (name, value) in pairs {
        vars.set(name, Some(value)).expect("set");
    }
    vars
}

#[test]
fn statements_split_at_semicolons_with_the_semicolon_kept() {
    assert_eq!(
        queries("select 1;   select 2 ; select 3"),
        ["select 1;", "select 2 ;", "select 3"]
    );
}

#[test]
fn leading_whitespace_and_dash_comments_are_dropped_block_comments_kept() {
    assert_eq!(
        queries("  -- lead\n\n/* keep */ select 3 -- mid\n, 4;"),
        ["/* keep */ select 3 -- mid\n, 4;"]
    );
}

#[test]
fn blank_lines_inside_a_query_are_dropped() {
    assert_eq!(queries("select 1\n\n\n, 2;"), ["select 1\n, 2;"]);
    assert_eq!(queries("select 'a\n\nb';"), ["select 'a\n\nb';"]);
}

#[test]
fn quotes_hide_semicolons_and_backslashes() {
    assert_eq!(
        queries("select ';\\x', \"a;\"\"b\";"),
        ["select ';\\x', \"a;\"\"b\";"]
    );
    assert_eq!(
        queries("select E'a\\';' ; select 2;"),
        ["select E'a\\';' ;", "select 2;"]
    );
    assert_eq!(queries("select 'it''s;';"), ["select 'it''s;';"]);
    assert_eq!(
        queries("select U&'d\\0061;' , U&\"x;\";"),
        ["select U&'d\\0061;' , U&\"x;\";"]
    );
}

#[test]
fn dollar_quotes_with_and_without_tags() {
    assert_eq!(queries("select $a$ ; $b$ $a$;"), ["select $a$ ; $b$ $a$;"]);
    assert_eq!(queries("select $$;$$, $1;"), ["select $$;$$, $1;"]);
    assert_eq!(
        queries("select $f$ $$ ; $fx$ $f$ ; x"),
        ["select $f$ $$ ; $fx$ $f$ ;", "x"]
    );
    // `a$b$` is one identifier, not the start of a dollar quote.
    assert_eq!(
        queries("select a$b$; select 2$$;"),
        ["select a$b$;", "select 2$$;"]
    );
}

#[test]
fn nested_block_comments() {
    assert_eq!(
        queries("select /* a /* b ; */ c ; */ 1; select 2;"),
        ["select /* a /* b ; */ c ; */ 1;", "select 2;"]
    );
    assert_eq!(queries("select 1 */* x; */;"), ["select 1 */* x; */;"]);
}

#[test]
fn parentheses_hide_semicolons() {
    assert_eq!(
        queries("select (1;\n2); select 3;"),
        ["select (1;\n2);", "select 3;"]
    );
    assert_eq!(
        queries("select ((1)); select 2"),
        ["select ((1));", "select 2"]
    );
}

#[test]
fn begin_atomic_bodies() {
    let body = "create function f() returns int language sql begin atomic select 1; select case when true then 1 end; end;";
    assert_eq!(queries(&format!("{body} select 2;")), [body, "select 2;"]);
    let replace = "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC insert into t values (1); END;";
    assert_eq!(queries(replace), [replace]);
    // Outside CREATE FUNCTION, BEGIN is a transaction start.
    assert_eq!(queries("begin; select 1;"), ["begin;", "select 1;"]);
}

#[test]
fn escaped_semicolon_joins_statements() {
    assert_eq!(queries("select 1 \\; select 2;"), ["select 1 ; select 2;"]);
    assert_eq!(queries("select 1\\:\\:int;"), ["select 1::int;"]);
}

#[test]
fn trailing_text_without_semicolon_is_sent_at_the_end() {
    assert_eq!(queries("select 1;\nselect 2\n"), ["select 1;", "select 2"]);
    assert_eq!(queries("select 1; -- done\n"), ["select 1;"]);
    assert_eq!(queries("select 'open\n"), ["select 'open"]);
}

#[test]
fn plain_variables_are_rescanned() {
    let vars = vars_with(&[("v", "1;select 2"), ("w", ":v + 1"), ("r", "a :r b")]);
    assert_eq!(
        queries_with("select :v;", &vars),
        ["select 1;", "select 2;"]
    );
    assert_eq!(
        queries_with("select :w;", &vars),
        ["select 1;", "select 2 + 1;"]
    );
    let items = all_items("select :r;", &vars);
    assert_eq!(
        items[0],
        Item::Warning {
            message: "skipping recursive expansion of variable \"r\"".into(),
            line: 1
        }
    );
    assert_eq!(queries_with("select :r;", &vars), ["select a :r b;"]);
}

#[test]
fn quoted_interpolation_and_casts() {
    let vars = vars_with(&[("q", "it's\\x"), ("i", "a\"b"), ("n", "5")]);
    assert_eq!(
        queries_with(
            "select :'q', :\"i\", ':n', \":n\", $$:n$$, /* :n */ :{?n}, :{?zz}, :'zz', :zz, 1::int, :n::int;",
            &vars
        ),
        ["select  E'it''s\\\\x', \"a\"\"b\", ':n', \":n\", $$:n$$, /* :n */ TRUE, FALSE, :'zz', :zz, 1::int, 5::int;"]
    );
}

#[test]
fn meta_commands_mid_line_keep_or_send_the_buffer() {
    let items = all_items(
        "select 6 \\gset p_\nselect 7 \\echo x\n;\n",
        &Variables::new(),
    );
    assert_eq!(
        items,
        [
            Item::Meta {
                command: "gset".into(),
                args: vec![MetaArg::plain("p_")],
                line: 1,
                query: Some("select 6 ".into())
            },
            Item::Meta {
                command: "echo".into(),
                args: vec![MetaArg::plain("x")],
                line: 2,
                query: None
            },
            Item::Query {
                text: "select 7 \n;".into(),
                line: 2
            },
        ]
    );
}

#[test]
fn g_with_an_empty_buffer_resends_the_previous_query() {
    assert_eq!(
        queries("select 1 \\g\n\\g\nselect 2;\n\\gx"),
        ["select 1 ", "select 1 ", "select 2;", "select 2;"]
    );
}

#[test]
fn meta_arguments_quoting() {
    let vars = vars_with(&[("v", "val"), ("q", "it's")]);
    let items = all_items(
        "\\echo a'b c'd \"e f\" 'x\\ty\\101\\x41''' :v :'q' :\"q\" :{?v} -n\n",
        &vars,
    );
    let Item::Meta { args, .. } = &items[0] else {
        panic!("{items:?}")
    };
    let values: Vec<&str> = args.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(
        values,
        ["ab cd", "\"e f\"", "x\tyAA'", "val", "'it''s'", "\"it's\"", "TRUE", "-n"]
    );
    assert_eq!(
        args.iter().map(|a| a.quoted).collect::<Vec<_>>(),
        [true, true, true, true, true, true, false, false]
    );
}

#[test]
fn double_backslash_separates_and_backslash_chains_commands() {
    let items = all_items(
        "\\echo a \\\\ select 1; \\echo b \\echo c\n",
        &Variables::new(),
    );
    let summary: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::Query { text, .. } => format!("Q {text}"),
            Item::Meta { command, args, .. } => format!(
                "M {command} {}",
                args.iter()
                    .map(|a| a.value.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Item::Warning { message, .. } => format!("W {message}"),
        })
        .collect();
    assert_eq!(summary, ["M echo a", "Q select 1;", "M echo b", "M echo c"]);
}

#[test]
fn unterminated_argument_quotes_warn_and_end_the_arguments() {
    let items = all_items("\\set i a\"b\nselect 1;", &Variables::new());
    assert_eq!(
        items[0],
        Item::Warning {
            message: "unterminated quoted string".into(),
            line: 1
        }
    );
    assert!(
        matches!(&items[1], Item::Meta { command, args, .. } if command == "set" && args.len() == 1)
    );
    assert_eq!(
        items[2],
        Item::Query {
            text: "select 1;".into(),
            line: 2
        }
    );
}

#[test]
fn backquotes_are_refused() {
    let mut scanner = Scanner::new("\\echo `ls`\nselect 1;");
    let vars = Variables::new();
    assert_eq!(
        scanner.next(&vars, true),
        Err(ScanError::ShellCommand {
            command: "echo".into(),
            line: 1
        })
    );
    assert_eq!(
        scanner.next(&vars, true),
        Ok(Some(Item::Query {
            text: "select 1;".into(),
            line: 2
        }))
    );
    // Not evaluated in an inactive branch.
    let mut inactive = Scanner::new("\\echo `ls`\n");
    assert!(matches!(
        inactive.next(&vars, false),
        Ok(Some(Item::Meta { .. }))
    ));
}

#[test]
fn inactive_branches_discard_sql_and_do_not_interpolate() {
    let vars = vars_with(&[("v", "1")]);
    let mut scanner = Scanner::new("select 1\n\\if false\n, :v ;\n, 2\n\\endif\n;\n");
    let mut active = true;
    let mut seen = Vec::new();
    while let Some(item) = scanner.next(&vars, active).unwrap() {
        if let Item::Meta { command, .. } = &item {
            active = command != "if";
        }
        seen.push(item);
    }
    // What the false branch added (even after its `;` emptied the buffer) is dropped at
    // \endif and the text from before the \if comes back, as in psql.
    assert_eq!(
        seen.last(),
        Some(&Item::Query {
            text: "select 1\n;".into(),
            line: 1
        })
    );
    let mut kept = Scanner::new("select 1\n\\if true\n, 2\n\\endif\n;");
    let mut items = Vec::new();
    while let Some(item) = kept.next(&vars, true).unwrap() {
        items.push(item);
    }
    assert_eq!(
        items.last(),
        Some(&Item::Query {
            text: "select 1\n, 2\n;".into(),
            line: 1
        })
    );
}

#[test]
fn query_lines_are_where_they_start() {
    let items = all_items("\n-- c\nselect\n1;\n\n  select 2;", &Variables::new());
    assert_eq!(
        items,
        [
            Item::Query {
                text: "select\n1;".into(),
                line: 3
            },
            Item::Query {
                text: "select 2;".into(),
                line: 6
            }
        ]
    );
}

#[test]
fn byte_order_mark_and_non_ascii() {
    assert_eq!(
        queries("\u{feff}select 'é;', été; select 2"),
        ["select 'é;', été;", "select 2"]
    );
}

#[test]
fn extra_arguments_are_read_without_evaluation() {
    let vars = vars_with(&[("v", "val")]);
    let items = all_items("\\endif :v 'a b' :{?v} `echo hi`\n\\gset :v :v\n", &vars);
    let values = |item: &Item| match item {
        Item::Meta { args, .. } => args.iter().map(|a| a.value.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(values(&items[0]), [":v", "a b", "FALSE", "echo hi"]);
    assert_eq!(values(&items[1]), ["val", ":v"]);
}

#[test]
fn a_letter_glued_to_a_number_is_not_a_string_prefix() {
    assert_eq!(
        queries("select 1E'\\'\\; select 2;"),
        ["select 1E'\\'; select 2;"]
    );
    assert_eq!(
        queries("select 1é$$\\; select 2;"),
        ["select 1é$$; select 2;"]
    );
    assert_eq!(queries("select 1e+E'\\'\\;"), ["select 1e+E'\\'\\;"]);
}

#[test]
fn numbers_swallow_glued_identifiers_like_psql_15() {
    assert_eq!(queries("select 1e1$$\\; x"), ["select 1e1$$; x"]);
    assert_eq!(queries("select 1$$\\; x"), ["select 1$$\\; x"]);
    assert_eq!(queries("select 1e--\\;"), ["select 1e--;"]);
    assert_eq!(queries("select $1E'\\'\\;"), ["select $1E'\\';"]);
    assert_eq!(queries("select 1..2; x"), ["select 1..2;", "x"]);
}

#[test]
fn without_standard_conforming_strings_plain_strings_take_escapes() {
    let script = "select 'a\\';' ; select 2;";
    let vars = Variables::new();
    let mut scanner = Scanner::new(script);
    scanner.set_standard_conforming_strings(false);
    let mut sent = Vec::new();
    while let Some(item) = scanner.next(&vars, true).unwrap() {
        if let Item::Query { text, .. } = item {
            sent.push(text);
        }
    }
    assert_eq!(sent, ["select 'a\\';' ;", "select 2;"]);
    assert_eq!(queries(script), ["select 'a\\';", "' ; select 2;"]);
}
