//! psql 15 is the oracle: each expected output below was captured by piping the script in the
//! comment to `psql -X` (after `\set QUIET on`, `\pset pager off`), the message's fields by
//! running it again with `VERBOSITY verbose`, `SHOW_CONTEXT always` and `VERBOSITY terse`.

use super::*;

/// Formats `message` and compares with what psql printed for it.
fn check(
    message: ServerMessage,
    verbosity: Verbosity,
    show_context: ShowContext,
    query: &str,
    expected: &str,
) {
    let mut out = String::new();
    format_server_message(&mut out, &message, verbosity, show_context, Some(query));
    assert_eq!(out, expected, "\nspawn:\n{out}\npsql:\n{expected}");
}

#[test]
fn undefined_column() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(8),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select nope;",
        "ERROR:  column \"nope\" does not exist\nLINE 1: select nope;\n               ^\n",
    );
}

#[test]
fn syntax_error() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1 +;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42601".to_owned(),
            message: "syntax error at or near \";\"".to_owned(),
            position: Some(11),
            routine: Some("scanner_yyerror".to_owned()),
            file: Some("scan.l".to_owned()),
            line: Some("1188".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select 1 +;",
        "ERROR:  syntax error at or near \";\"\nLINE 1: select 1 +;\n                  ^\n",
    );
}

#[test]
fn syntax_error_near_semicolon() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select (1;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42601".to_owned(),
            message: "syntax error at or near \";\"".to_owned(),
            position: Some(10),
            routine: Some("scanner_yyerror".to_owned()),
            file: Some("scan.l".to_owned()),
            line: Some("1188".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select (1;",
        "ERROR:  syntax error at or near \";\"\nLINE 1: select (1;\n                 ^\n",
    );
}

#[test]
fn syntax_error_at_end_of_input() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1 +
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42601".to_owned(),
            message: "syntax error at end of input".to_owned(),
            position: Some(11),
            routine: Some("scanner_yyerror".to_owned()),
            file: Some("scan.l".to_owned()),
            line: Some("1180".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select 1 +",
        "ERROR:  syntax error at end of input\nLINE 1: select 1 +\n                  ^\n",
    );
}

#[test]
fn carriage_return_line_ends() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1,
    //   nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(14),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select 1,\r\n  nope;",
        "ERROR:  column \"nope\" does not exist\nLINE 2:   nope;\n          ^\n",
    );
}

#[test]
fn position_on_a_later_line() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1,
    //   2,
    //   nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(18),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select 1,\n  2,\n  nope;",
        "ERROR:  column \"nope\" does not exist\nLINE 3:   nope;\n          ^\n",
    );
}

#[test]
fn position_on_a_later_line_of_a_long_query() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1,
    //        2,
    //        3 as cccccccccccccccccccccccccccccccccccccccccccccccccccccc, 4 as dddddddddddd, nope
    // from (select 1) s;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(108),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select 1,\n       2,\n       3 as cccccccccccccccccccccccccccccccccccccccccccccccccccccc, 4 as dddddddddddd, nope\nfrom (select 1) s;",
    "ERROR:  column \"nope\" does not exist\nLINE 3: ...ccccccccccccccccccccccccccccccccccc, 4 as dddddddddddd, nope\n                                                                   ^\n",
);
}

#[test]
fn tab_before_caret() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select	1,	nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(11),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select\t1,\tnope;",
        "ERROR:  column \"nope\" does not exist\nLINE 1: select 1, nope;\n                  ^\n",
    );
}

#[test]
fn tabs_on_a_later_line() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1,
    // 		nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(13),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "select 1,\n\t\tnope;",
        "ERROR:  column \"nope\" does not exist\nLINE 2:   nope;\n          ^\n",
    );
}

#[test]
fn multibyte_before_caret() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select '日本語', 'é', nope;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(20),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select '日本語', 'é', nope;",
    "ERROR:  column \"nope\" does not exist\nLINE 1: select '日本語', 'é', nope;\n                              ^\n",
);
}

#[test]
fn combining_mark_before_caret() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 'é', nope;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(14),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select 'é', nope;",
    "ERROR:  column \"nope\" does not exist\nLINE 1: select 'é', nope;\n                     ^\n",
);
}

#[test]
fn long_line_cut_left() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 1 as aaaaaaaaaaaaaaaaaaaa, 2 as bbbbbbbbbbbbbbbbbbbbbbbbb, 3 as cccccccccccccccccccc, nope;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(94),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select 1 as aaaaaaaaaaaaaaaaaaaa, 2 as bbbbbbbbbbbbbbbbbbbbbbbbb, 3 as cccccccccccccccccccc, nope;",
    "ERROR:  column \"nope\" does not exist\nLINE 1: ... bbbbbbbbbbbbbbbbbbbbbbbbb, 3 as cccccccccccccccccccc, nope;\n                                                                  ^\n",
);
}

#[test]
fn long_line_cut_right() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select nope, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' as x;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(8),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select nope, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' as x;",
    "ERROR:  column \"nope\" does not exist\nLINE 1: select nope, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\n               ^\n",
);
}

#[test]
fn long_line_cut_both_sides() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', nope, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(54),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', nope, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';",
    "ERROR:  column \"nope\" does not exist\nLINE 1: ...ect 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', nope, 'bbb...\n                                                             ^\n",
);
}

#[test]
fn long_line_with_wide_characters() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select '日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語', nope, '日本語日本語日本語日本語日本語日本語日本語';
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(42),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select '日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語', nope, '日本語日本語日本語日本語日本語日本語日本語';",
    "ERROR:  column \"nope\" does not exist\nLINE 1: ...日本語日本語日本語日本語日本語日本語日本語日本語', nope, '日...\n                                                              ^\n",
);
}

#[test]
fn detail() {
    // create temp table t (id int primary key, name text not null);
    // insert into t values (1, 'a');
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // insert into t values (1, 'b');
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "23505".to_owned(),
        message: "duplicate key value violates unique constraint \"t_pkey\"".to_owned(),
        detail: Some("Key (id)=(1) already exists.".to_owned()),
        schema: Some("pg_temp_3".to_owned()),
        table: Some("t".to_owned()),
        constraint: Some("t_pkey".to_owned()),
        routine: Some("_bt_check_unique".to_owned()),
        file: Some("nbtinsert.c".to_owned()),
        line: Some("664".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "insert into t values (1, 'b');",
    "ERROR:  duplicate key value violates unique constraint \"t_pkey\"\nDETAIL:  Key (id)=(1) already exists.\n",
);
}

#[test]
fn hint_and_position() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // select nope_fn(1);
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42883".to_owned(),
        message: "function nope_fn(integer) does not exist".to_owned(),
        hint: Some("No function matches the given name and argument types. You might need to add explicit type casts.".to_owned()),
        position: Some(8),
        routine: Some("ParseFuncOrColumn".to_owned()),
        file: Some("parse_func.c".to_owned()),
        line: Some("629".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "select nope_fn(1);",
    "ERROR:  function nope_fn(integer) does not exist\nLINE 1: select nope_fn(1);\n               ^\nHINT:  No function matches the given name and argument types. You might need to add explicit type casts.\n",
);
}

#[test]
fn internal_query_and_context() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // do $$ begin perform nope; end $$;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        internal_query: Some("SELECT nope".to_owned()),
        context: Some("PL/pgSQL function inline_code_block line 1 at PERFORM".to_owned()),
        internal_position: Some(8),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "do $$ begin perform nope; end $$;",
    "ERROR:  column \"nope\" does not exist\nLINE 1: SELECT nope\n               ^\nQUERY:  SELECT nope\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at PERFORM\n",
);
}

#[test]
fn internal_query_terse() {
    // \set VERBOSITY terse
    // \set SHOW_CONTEXT errors
    // do $$ begin perform nope; end $$;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            internal_query: Some("SELECT nope".to_owned()),
            context: Some("PL/pgSQL function inline_code_block line 1 at PERFORM".to_owned()),
            internal_position: Some(8),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Terse,
        ShowContext::Errors,
        "do $$ begin perform nope; end $$;",
        "ERROR:  column \"nope\" does not exist at character 8\n",
    );
}

#[test]
fn raise_with_detail_hint_context() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // do $$ begin raise exception 'boom' using detail = 'd1', hint = 'h1'; end $$;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "P0001".to_owned(),
        message: "boom".to_owned(),
        detail: Some("d1".to_owned()),
        hint: Some("h1".to_owned()),
        context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
        routine: Some("exec_stmt_raise".to_owned()),
        file: Some("pl_exec.c".to_owned()),
        line: Some("3891".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "do $$ begin raise exception 'boom' using detail = 'd1', hint = 'h1'; end $$;",
    "ERROR:  boom\nDETAIL:  d1\nHINT:  h1\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n",
);
}

#[test]
fn multi_line_detail() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // do $$ begin raise exception 'boom' using detail = E'line one\nline two'; end $$;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "P0001".to_owned(),
        message: "boom".to_owned(),
        detail: Some("line one\nline two".to_owned()),
        context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
        routine: Some("exec_stmt_raise".to_owned()),
        file: Some("pl_exec.c".to_owned()),
        line: Some("3891".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "do $$ begin raise exception 'boom' using detail = E'line one\\nline two'; end $$;",
    "ERROR:  boom\nDETAIL:  line one\nline two\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n",
);
}

#[test]
fn notice_hides_context() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // do $$ begin raise notice 'hi'; end $$;
    check(
        ServerMessage {
            severity: "NOTICE".to_owned(),
            severity_nonlocalized: Some("NOTICE".to_owned()),
            code: "00000".to_owned(),
            message: "hi".to_owned(),
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
            routine: Some("exec_stmt_raise".to_owned()),
            file: Some("pl_exec.c".to_owned()),
            line: Some("3891".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "do $$ begin raise notice 'hi'; end $$;",
        "NOTICE:  hi\n",
    );
}

#[test]
fn warning() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // do $$ begin raise warning 'careful' using hint = 'look'; end $$;
    check(
        ServerMessage {
            severity: "WARNING".to_owned(),
            severity_nonlocalized: Some("WARNING".to_owned()),
            code: "01000".to_owned(),
            message: "careful".to_owned(),
            hint: Some("look".to_owned()),
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
            routine: Some("exec_stmt_raise".to_owned()),
            file: Some("pl_exec.c".to_owned()),
            line: Some("3891".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Errors,
        "do $$ begin raise warning 'careful' using hint = 'look'; end $$;",
        "WARNING:  careful\nHINT:  look\n",
    );
}

#[test]
fn notice_context_always() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT always
    // do $$ begin raise notice 'hi'; end $$;
    check(
        ServerMessage {
            severity: "NOTICE".to_owned(),
            severity_nonlocalized: Some("NOTICE".to_owned()),
            code: "00000".to_owned(),
            message: "hi".to_owned(),
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
            routine: Some("exec_stmt_raise".to_owned()),
            file: Some("pl_exec.c".to_owned()),
            line: Some("3891".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Always,
        "do $$ begin raise notice 'hi'; end $$;",
        "NOTICE:  hi\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n",
    );
}

#[test]
fn error_context_never() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT never
    // do $$ begin raise exception 'boom'; end $$;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "P0001".to_owned(),
            message: "boom".to_owned(),
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
            routine: Some("exec_stmt_raise".to_owned()),
            file: Some("pl_exec.c".to_owned()),
            line: Some("3891".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Default,
        ShowContext::Never,
        "do $$ begin raise exception 'boom'; end $$;",
        "ERROR:  boom\n",
    );
}

#[test]
fn nested_context() {
    // \set VERBOSITY default
    // \set SHOW_CONTEXT errors
    // create function pg_temp.f() returns int language plpgsql as $$ begin return 1/0; end $$;
    // select pg_temp.f();
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "22012".to_owned(),
        message: "division by zero".to_owned(),
        context: Some("SQL expression \"1/0\"\nPL/pgSQL function pg_temp_3.f() line 1 at RETURN".to_owned()),
        routine: Some("int4div".to_owned()),
        file: Some("int.c".to_owned()),
        line: Some("869".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Default,
    ShowContext::Errors,
    "create function pg_temp.f() returns int language plpgsql as $$ begin return 1/0; end $$;\nselect pg_temp.f();",
    "ERROR:  division by zero\nCONTEXT:  SQL expression \"1/0\"\nPL/pgSQL function pg_temp_3.f() line 1 at RETURN\n",
);
}

#[test]
fn verbose_unique_violation() {
    // create temp table t (id int primary key, name text not null);
    // insert into t values (1, 'a');
    // \set VERBOSITY verbose
    // \set SHOW_CONTEXT errors
    // insert into t values (1, 'b');
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "23505".to_owned(),
        message: "duplicate key value violates unique constraint \"t_pkey\"".to_owned(),
        detail: Some("Key (id)=(1) already exists.".to_owned()),
        schema: Some("pg_temp_3".to_owned()),
        table: Some("t".to_owned()),
        constraint: Some("t_pkey".to_owned()),
        routine: Some("_bt_check_unique".to_owned()),
        file: Some("nbtinsert.c".to_owned()),
        line: Some("664".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Verbose,
    ShowContext::Errors,
    "insert into t values (1, 'b');",
    "ERROR:  23505: duplicate key value violates unique constraint \"t_pkey\"\nDETAIL:  Key (id)=(1) already exists.\nSCHEMA NAME:  pg_temp_3\nTABLE NAME:  t\nCONSTRAINT NAME:  t_pkey\nLOCATION:  _bt_check_unique, nbtinsert.c:664\n",
);
}

#[test]
fn verbose_not_null_violation() {
    // create temp table t (id int primary key, name text not null);
    // insert into t values (1, 'a');
    // \set VERBOSITY verbose
    // \set SHOW_CONTEXT errors
    // insert into t values (2, null);
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "23502".to_owned(),
        message: "null value in column \"name\" of relation \"t\" violates not-null constraint".to_owned(),
        detail: Some("Failing row contains (2, null).".to_owned()),
        schema: Some("pg_temp_3".to_owned()),
        table: Some("t".to_owned()),
        column: Some("name".to_owned()),
        routine: Some("ExecConstraints".to_owned()),
        file: Some("execMain.c".to_owned()),
        line: Some("2023".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Verbose,
    ShowContext::Errors,
    "insert into t values (2, null);",
    "ERROR:  23502: null value in column \"name\" of relation \"t\" violates not-null constraint\nDETAIL:  Failing row contains (2, null).\nSCHEMA NAME:  pg_temp_3\nTABLE NAME:  t\nCOLUMN NAME:  name\nLOCATION:  ExecConstraints, execMain.c:2023\n",
);
}

#[test]
fn verbose_domain_check() {
    // create domain pg_temp.d as int check (value > 0);
    // \set VERBOSITY verbose
    // \set SHOW_CONTEXT errors
    // select (-1)::pg_temp.d;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "23514".to_owned(),
        message: "value for domain d violates check constraint \"d_check\"".to_owned(),
        schema: Some("pg_temp_3".to_owned()),
        datatype: Some("d".to_owned()),
        constraint: Some("d_check".to_owned()),
        routine: Some("ExecEvalConstraintCheck".to_owned()),
        file: Some("execExprInterp.c".to_owned()),
        line: Some("3787".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Verbose,
    ShowContext::Errors,
    "select (-1)::pg_temp.d;",
    "ERROR:  23514: value for domain d violates check constraint \"d_check\"\nSCHEMA NAME:  pg_temp_3\nDATATYPE NAME:  d\nCONSTRAINT NAME:  d_check\nLOCATION:  ExecEvalConstraintCheck, execExprInterp.c:3787\n",
);
}

#[test]
fn verbose_position() {
    // \set VERBOSITY verbose
    // \set SHOW_CONTEXT errors
    // select nope;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        position: Some(8),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Verbose,
    ShowContext::Errors,
    "select nope;",
    "ERROR:  42703: column \"nope\" does not exist\nLINE 1: select nope;\n               ^\nLOCATION:  errorMissingColumn, parse_relation.c:3665\n",
);
}

#[test]
fn verbose_notice() {
    // \set VERBOSITY verbose
    // \set SHOW_CONTEXT errors
    // do $$ begin raise notice 'hi'; end $$;
    check(
        ServerMessage {
            severity: "NOTICE".to_owned(),
            severity_nonlocalized: Some("NOTICE".to_owned()),
            code: "00000".to_owned(),
            message: "hi".to_owned(),
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
            routine: Some("exec_stmt_raise".to_owned()),
            file: Some("pl_exec.c".to_owned()),
            line: Some("3891".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Verbose,
        ShowContext::Errors,
        "do $$ begin raise notice 'hi'; end $$;",
        "NOTICE:  00000: hi\nLOCATION:  exec_stmt_raise, pl_exec.c:3891\n",
    );
}

#[test]
fn verbose_internal_query() {
    // \set VERBOSITY verbose
    // \set SHOW_CONTEXT errors
    // do $$ begin perform nope; end $$;
    check(
    ServerMessage {
        severity: "ERROR".to_owned(),
        severity_nonlocalized: Some("ERROR".to_owned()),
        code: "42703".to_owned(),
        message: "column \"nope\" does not exist".to_owned(),
        internal_query: Some("SELECT nope".to_owned()),
        context: Some("PL/pgSQL function inline_code_block line 1 at PERFORM".to_owned()),
        internal_position: Some(8),
        routine: Some("errorMissingColumn".to_owned()),
        file: Some("parse_relation.c".to_owned()),
        line: Some("3665".to_owned()),
        ..ServerMessage::default()
    },
    Verbosity::Verbose,
    ShowContext::Errors,
    "do $$ begin perform nope; end $$;",
    "ERROR:  42703: column \"nope\" does not exist\nLINE 1: SELECT nope\n               ^\nQUERY:  SELECT nope\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at PERFORM\nLOCATION:  errorMissingColumn, parse_relation.c:3665\n",
);
}

#[test]
fn terse_position() {
    // \set VERBOSITY terse
    // \set SHOW_CONTEXT errors
    // select nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(8),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Terse,
        ShowContext::Errors,
        "select nope;",
        "ERROR:  column \"nope\" does not exist at character 8\n",
    );
}

#[test]
fn terse_detail_hidden() {
    // create temp table t (id int primary key, name text not null);
    // insert into t values (1, 'a');
    // \set VERBOSITY terse
    // \set SHOW_CONTEXT errors
    // insert into t values (1, 'b');
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "23505".to_owned(),
            message: "duplicate key value violates unique constraint \"t_pkey\"".to_owned(),
            detail: Some("Key (id)=(1) already exists.".to_owned()),
            schema: Some("pg_temp_3".to_owned()),
            table: Some("t".to_owned()),
            constraint: Some("t_pkey".to_owned()),
            routine: Some("_bt_check_unique".to_owned()),
            file: Some("nbtinsert.c".to_owned()),
            line: Some("664".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Terse,
        ShowContext::Errors,
        "insert into t values (1, 'b');",
        "ERROR:  duplicate key value violates unique constraint \"t_pkey\"\n",
    );
}

#[test]
fn sqlstate() {
    // \set VERBOSITY sqlstate
    // \set SHOW_CONTEXT errors
    // select nope;
    check(
        ServerMessage {
            severity: "ERROR".to_owned(),
            severity_nonlocalized: Some("ERROR".to_owned()),
            code: "42703".to_owned(),
            message: "column \"nope\" does not exist".to_owned(),
            position: Some(8),
            routine: Some("errorMissingColumn".to_owned()),
            file: Some("parse_relation.c".to_owned()),
            line: Some("3665".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Sqlstate,
        ShowContext::Errors,
        "select nope;",
        "ERROR:  42703\n",
    );
}

#[test]
fn sqlstate_notice() {
    // \set VERBOSITY sqlstate
    // \set SHOW_CONTEXT errors
    // do $$ begin raise notice 'hi'; end $$;
    check(
        ServerMessage {
            severity: "NOTICE".to_owned(),
            severity_nonlocalized: Some("NOTICE".to_owned()),
            code: "00000".to_owned(),
            message: "hi".to_owned(),
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".to_owned()),
            routine: Some("exec_stmt_raise".to_owned()),
            file: Some("pl_exec.c".to_owned()),
            line: Some("3891".to_owned()),
            ..ServerMessage::default()
        },
        Verbosity::Sqlstate,
        ShowContext::Errors,
        "do $$ begin raise notice 'hi'; end $$;",
        "NOTICE:  00000\n",
    );
}
