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
                    scan.directives.push(DirectiveComment { offset: token.start, text, placement });
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
            out.push(RawStatement { start, end: self.end, terminator, kind: classify(&self.head) });
        }
        let mut head = std::mem::take(&mut self.head);
        head.clear();
        *self = Self { head, ..Self::default() };
    }
}
