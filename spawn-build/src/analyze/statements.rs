//! Splits a migration into statements, in one pass over the lexer's tokens.
//!
//! Statements end at a top-level `;` (or at the end of the input). The one place where a
//! `;` does not end a statement outside quotes is the SQL-standard body of a routine,
//! `CREATE [OR REPLACE] {FUNCTION | PROCEDURE} … BEGIN ATOMIC … END`: inside it the scanner
//! counts `CASE … END` pairs to find the `END` that closes the block. Empty statements are
//! skipped. Along the way it classifies each statement (from its first tokens only, so memory
//! stays bounded however long a statement is) and collects directive comments and psql
//! meta-commands for the checks in the parent module.

use super::classify::{classify, StatementKind, Tok, HEAD_LEN};
use super::directives::{directive_text, DirectiveComment, Placement};
use super::lexer::{Lexer, Token, TokenKind};
use super::Problem;

/// One statement as found in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawStatement {
    /// Byte offset of the first token.
    pub start: usize,
    /// Byte offset one past the last token before the terminating `;`.
    pub end: usize,
    /// Byte offset of the terminating `;`, if any.
    pub terminator: Option<usize>,
    pub kind: StatementKind,
}

/// Everything the scan found.
#[derive(Debug, Default)]
pub(crate) struct Scan<'a> {
    pub statements: Vec<RawStatement>,
    pub directives: Vec<DirectiveComment<'a>>,
    /// psql meta-commands, each up to the end of its line.
    pub meta_commands: Vec<Token>,
    /// The lexer's error, after which the scan stopped.
    pub lex_error: Option<Problem>,
    /// Byte offset of the `BEGIN` of a `BEGIN ATOMIC` block still open at the end.
    pub unclosed_atomic: Option<usize>,
}

/// Scans `sql` from byte `start` (past a byte-order mark) on.
pub(crate) fn scan(sql: &str, start: usize) -> Scan<'_> {
    let mut scan = Scan::default();
    let mut current = Current::default();
    for token in Lexer::new(sql, start) {
        let token = match token {
            Ok(token) => token,
            Err(error) => {
                scan.lex_error = Some(error);
                break;
            }
        };
        let text = &sql[token.start..token.end];
        match token.kind {
            TokenKind::LineComment => {
                if directive_text(text).is_some() {
                    let placement = if token.start == start {
                        Placement::FirstLine
                    } else if scan.statements.is_empty() && current.start.is_none() {
                        Placement::Header
                    } else {
                        Placement::AfterSql
                    };
                    scan.directives.push(DirectiveComment {
                        offset: token.start,
                        text,
                        placement,
                    });
                }
            }
            TokenKind::BlockComment => {}
            TokenKind::MetaCommand => scan.meta_commands.push(token),
            TokenKind::Semicolon if current.atomic_depth == 0 => {
                current.finish(Some(token.start), &mut scan.statements);
            }
            kind => current.push(token, Tok { kind, text }),
        }
    }
    if scan.lex_error.is_none() && current.atomic_depth > 0 {
        scan.unclosed_atomic = current.atomic_begin;
    }
    current.finish(None, &mut scan.statements);
    scan
}

/// The statement being scanned.
#[derive(Default)]
struct Current<'a> {
    /// Start of the first token, `None` while the statement is still empty.
    start: Option<usize>,
    end: usize,
    /// The first [`HEAD_LEN`] tokens, for [`classify`].
    head: Vec<Tok<'a>>,
    /// Whether the statement starts `CREATE [OR REPLACE] {FUNCTION | PROCEDURE}`.
    routine: bool,
    /// Start of the previous token if it was the keyword `BEGIN` (in a routine).
    after_begin: Option<usize>,
    /// Open `BEGIN ATOMIC` blocks, and open `CASE`s inside them.
    atomic_depth: u32,
    case_depth: u32,
    /// Where the outermost open `BEGIN ATOMIC` starts.
    atomic_begin: Option<usize>,
}

impl<'a> Current<'a> {
    fn push(&mut self, token: Token, tok: Tok<'a>) {
        self.start.get_or_insert(token.start);
        self.end = token.end;
        if self.head.len() < HEAD_LEN {
            self.head.push(tok);
            self.routine = self.routine || self.starts_routine();
        }
        if self.routine {
            self.track_atomic(token, tok);
        }
    }

    /// `CREATE [OR REPLACE] {FUNCTION | PROCEDURE}`, judged when its last word arrives.
    fn starts_routine(&self) -> bool {
        let h = &self.head;
        let routine = |t: &Tok<'_>| t.is("FUNCTION") || t.is("PROCEDURE");
        match h.as_slice() {
            [create, last] => create.is("CREATE") && routine(last),
            [create, or, replace, last] => {
                create.is("CREATE") && or.is("OR") && replace.is("REPLACE") && routine(last)
            }
            _ => false,
        }
    }

    /// Follows `BEGIN ATOMIC … END`, with `CASE … END` inside.
    fn track_atomic(&mut self, token: Token, tok: Tok<'_>) {
        let after_begin = self.after_begin.take();
        if tok.is("BEGIN") {
            self.after_begin = Some(token.start);
        } else if let (true, Some(begin)) = (tok.is("ATOMIC"), after_begin) {
            if self.atomic_depth == 0 {
                self.atomic_begin = Some(begin);
            }
            self.atomic_depth += 1;
        } else if self.atomic_depth > 0 {
            if tok.is("CASE") {
                self.case_depth += 1;
            } else if tok.is("END") {
                if self.case_depth > 0 {
                    self.case_depth -= 1;
                } else {
                    self.atomic_depth -= 1;
                }
            }
        }
    }

    /// Ends the statement (if it has any tokens) and gets ready for the next one.
    fn finish(&mut self, terminator: Option<usize>, out: &mut Vec<RawStatement>) {
        if let Some(start) = self.start {
            out.push(RawStatement {
                start,
                end: self.end,
                terminator,
                kind: classify(&self.head),
            });
        }
        let mut head = std::mem::take(&mut self.head);
        head.clear();
        *self = Self {
            head,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::{scan, Placement, StatementKind};

    /// The texts of the statements of `sql`.
    fn texts(sql: &str) -> Vec<&str> {
        let scan = scan(sql, 0);
        assert_eq!(scan.lex_error, None);
        scan.statements
            .iter()
            .map(|s| &sql[s.start..s.end])
            .collect()
    }

    #[test]
    fn splits_on_top_level_semicolons() {
        assert_eq!(texts("SELECT 1; SELECT 2;"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(texts("SELECT 1;\nSELECT 2"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(texts(""), Vec::<&str>::new());
        assert_eq!(texts(" ;; ;\n; -- x\n;"), Vec::<&str>::new());
        assert_eq!(texts("SELECT 1;;SELECT 2"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn terminators() {
        let sql = "SELECT 1 ; SELECT 2";
        let statements = scan(sql, 0).statements;
        assert_eq!(statements[0].terminator, Some(9));
        assert_eq!(statements[1].terminator, None);
    }

    #[test]
    fn trims_comments_and_whitespace_around_statements() {
        assert_eq!(
            texts("-- lead\n/* block; */\n  SELECT 1 -- trail; \n /* x */ ;\n"),
            ["SELECT 1"]
        );
        assert_eq!(texts("SELECT 1 -- no newline at the end"), ["SELECT 1"]);
        assert_eq!(texts("SELECT /* inner; */ 1;"), ["SELECT /* inner; */ 1"]);
    }

    #[test]
    fn quotes_hide_semicolons() {
        let sql = concat!(
            "INSERT INTO t VALUES ('a;b', E'c\\';d', \"e;f\", U&'g;', $$h;$$, $x$i;$x$);\n",
            "CREATE FUNCTION f() RETURNS void AS $body$\n",
            "BEGIN\n  PERFORM 'x;';\n  RAISE NOTICE '$$ % $', 1;\nEND;\n$body$ LANGUAGE plpgsql;\n",
            "SELECT $1;",
        );
        let statements = texts(sql);
        assert_eq!(statements.len(), 3);
        assert!(statements[1].ends_with("$body$ LANGUAGE plpgsql"));
        assert_eq!(statements[2], "SELECT $1");
    }

    #[test]
    fn begin_atomic_bodies_keep_their_semicolons() {
        let sql = concat!(
            "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql\n",
            "BEGIN ATOMIC\n",
            "  SELECT CASE WHEN x > 0 THEN 1 ELSE CASE x WHEN 0 THEN 0 END END;\n",
            "  SELECT (case when x is null then 1 end);\n",
            "END;\n",
            "create or replace procedure p() language sql begin atomic insert into t values (1); end;\n",
            "SELECT 3",
        );
        let statements = texts(sql);
        assert_eq!(statements.len(), 3, "{statements:#?}");
        assert!(statements[0].starts_with("CREATE FUNCTION") && statements[0].ends_with("END"));
        assert!(statements[1].ends_with("end"));
        assert_eq!(statements[2], "SELECT 3");
    }

    #[test]
    fn begin_atomic_only_counts_in_routines() {
        assert_eq!(
            texts("SELECT begin atomic FROM t; SELECT 2"),
            ["SELECT begin atomic FROM t", "SELECT 2"]
        );
        assert_eq!(
            texts("CREATE FUNCTION f() RETURNS int RETURN CASE WHEN true THEN 1 END; SELECT 2"),
            [
                "CREATE FUNCTION f() RETURNS int RETURN CASE WHEN true THEN 1 END",
                "SELECT 2"
            ]
        );
        // A plpgsql body is a string: its BEGIN … END does not count.
        assert_eq!(
            texts("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT 2").len(),
            2
        );
    }

    #[test]
    fn unclosed_begin_atomic() {
        let sql = "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; SELECT 2;";
        let scan = scan(sql, 0);
        assert_eq!(scan.unclosed_atomic, Some(sql.find("BEGIN").unwrap()));
        assert_eq!(scan.statements.len(), 1);
    }

    #[test]
    fn classifies_statements() {
        let kinds: Vec<_> = scan("BEGIN; VACUUM; SELECT 1; COMMIT", 0)
            .statements
            .iter()
            .map(|s| s.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                StatementKind::Begin {
                    what: "`BEGIN`",
                    options: false
                },
                StatementKind::NonTransactional { what: "`VACUUM`" },
                StatementKind::Other,
                StatementKind::Commit { what: "`COMMIT`" },
            ]
        );
    }

    #[test]
    fn long_statements_are_classified_by_their_head() {
        let mut sql = String::from("INSERT INTO t VALUES (1)");
        for i in 0..1000 {
            sql.push_str(&format!(", ({i})"));
        }
        sql.push_str("; COMMIT");
        let scan = scan(&sql, 0);
        assert_eq!(scan.statements.len(), 2);
        assert_eq!(scan.statements[0].kind, StatementKind::Other);
        assert_eq!(
            scan.statements[1].kind,
            StatementKind::Commit { what: "`COMMIT`" }
        );
    }

    #[test]
    fn directive_placement() {
        let sql = "-- spawn:a\n-- plain\n/* x */ -- spawn:b\nSELECT 1 -- spawn:c\n; -- spawn:d";
        let placements: Vec<_> = scan(sql, 0)
            .directives
            .iter()
            .map(|d| (d.text, d.placement))
            .collect();
        assert_eq!(
            placements,
            [
                ("-- spawn:a", Placement::FirstLine),
                ("-- spawn:b", Placement::Header),
                ("-- spawn:c", Placement::AfterSql),
                ("-- spawn:d", Placement::AfterSql),
            ]
        );
    }

    #[test]
    fn meta_commands_are_not_part_of_statements() {
        let sql = "\\set x 1\nSELECT 1;\n\\c other\n";
        let scan = scan(sql, 0);
        assert_eq!(scan.meta_commands.len(), 2);
        assert_eq!(scan.statements.len(), 1);
        assert_eq!(
            &sql[scan.meta_commands[1].start..scan.meta_commands[1].end],
            "\\c other"
        );
    }

    #[test]
    fn stops_at_a_lex_error() {
        let scan = scan("SELECT 1; SELECT 'x", 0);
        assert_eq!(scan.lex_error.map(|e| e.offset), Some(17));
        assert_eq!(scan.statements.len(), 2);
    }
}
