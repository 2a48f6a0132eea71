//! A lexer for PostgreSQL SQL, as much of it as statement splitting needs.
//!
//! It follows PostgreSQL's own scanner (`src/backend/parser/scan.l`, with
//! `standard_conforming_strings = on`) for everything that can hide a `;` or a keyword:
//! `'…'` strings with `''` doubling, `E'…'` strings with backslash escapes, `U&'…'`, `B'…'`,
//! `X'…'` and `N'…'` strings, `"…"` and `U&"…"` identifiers with `""` doubling, dollar quotes
//! (`$$…$$`, `$tag$…$tag$`; `$1` is a parameter), `--` comments and nesting `/* */` comments.
//! A backslash outside all of those starts a psql meta-command, which runs to the end of its
//! line. Operators and other punctuation come out one character per token.
//!
//! The lexer is an iterator over [`Token`]s (byte ranges, comments included); it makes one
//! pass over the input and stops after the first error: an unterminated quote or comment
//! swallows the rest of the input, so nothing after it could be trusted. The error is
//! reported at the byte where the quote or comment opened.

use super::Problem;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// An unquoted identifier or keyword.
    Word,
    /// A `"…"` or `U&"…"` identifier.
    QuotedIdent,
    /// Any `'…'` string constant, prefixed or not.
    String,
    /// A `$$…$$` or `$tag$…$tag$` string.
    DollarString,
    /// A numeric constant.
    Number,
    /// A positional parameter such as `$1`.
    Param,
    /// `;`
    Semicolon,
    /// Any other single character: operators, parentheses, commas, …
    Punct,
    /// `-- …` up to (not including) the end of the line.
    LineComment,
    /// `/* … */`, nested comments included.
    BlockComment,
    /// A psql meta-command such as `\c db`, up to (not including) the end of the line.
    MetaCommand,
}

/// One token: its kind and byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// The token iterator. See the module documentation.
pub(crate) struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    finished: bool,
}

impl<'a> Lexer<'a> {
    /// Lexes `text` from byte `start` on (past a byte-order mark, say).
    pub(crate) fn new(text: &'a str, start: usize) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: start,
            finished: false,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Offset of the first byte at or after `from` that ends a line (`\n` or `\r`).
    fn line_end(&self, from: usize) -> usize {
        self.bytes[from..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(self.bytes.len(), |i| from + i)
    }

    /// First index at or after `from` whose byte does not satisfy `pred`.
    fn scan_while(&self, from: usize, pred: impl Fn(u8) -> bool) -> usize {
        self.bytes[from..]
            .iter()
            .position(|&b| !pred(b))
            .map_or(self.bytes.len(), |i| from + i)
    }

    /// Lexes the token starting with byte `c` at `start`, leaving `self.pos` after it.
    fn token(&mut self, start: usize, c: u8) -> Result<TokenKind, Problem> {
        let next = self.byte(start + 1);
        match c {
            b';' => self.single(start, TokenKind::Semicolon),
            b'-' if next == Some(b'-') => {
                self.pos = self.line_end(start);
                Ok(TokenKind::LineComment)
            }
            b'/' if next == Some(b'*') => self.block_comment(start),
            b'\'' => self.string(start, start + 1, false),
            b'"' => self.quoted_ident(start, start + 1),
            b'$' => self.dollar(start),
            b'\\' => {
                self.pos = self.line_end(start);
                Ok(TokenKind::MetaCommand)
            }
            b'0'..=b'9' => self.number(start),
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => self.number(start),
            c if is_ident_start(c) => self.word(start, c),
            _ => self.single(start, TokenKind::Punct),
        }
    }

    fn single(&mut self, start: usize, kind: TokenKind) -> Result<TokenKind, Problem> {
        self.pos = start + 1;
        Ok(kind)
    }

    /// A keyword or identifier, or one of the prefixed quotes `E'`, `B'`, `X'`, `N'`, `U&'`
    /// and `U&"` (a prefix only counts at the start of a word).
    fn word(&mut self, start: usize, c: u8) -> Result<TokenKind, Problem> {
        match (
            c.to_ascii_lowercase(),
            self.byte(start + 1),
            self.byte(start + 2),
        ) {
            (b'e', Some(b'\''), _) => return self.string(start, start + 2, true),
            (b'b' | b'x' | b'n', Some(b'\''), _) => return self.string(start, start + 2, false),
            (b'u', Some(b'&'), Some(b'\'')) => return self.string(start, start + 3, false),
            (b'u', Some(b'&'), Some(b'"')) => return self.quoted_ident(start, start + 3),
            _ => {}
        }
        self.pos = self.scan_while(start + 1, is_ident_cont);
        Ok(TokenKind::Word)
    }

    /// Numeric constants, including `1.5e-3`'s first part, `0x1F` and `1_000`. Trailing
    /// letters are taken along (PostgreSQL rejects them anyway); no quote can hide in one.
    fn number(&mut self, start: usize) -> Result<TokenKind, Problem> {
        self.pos = self.scan_while(start + 1, |b| {
            b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
        });
        Ok(TokenKind::Number)
    }

    /// A `'`-quoted string whose content starts at `body`; `backslash` for `E'…'` strings.
    fn string(&mut self, start: usize, body: usize, backslash: bool) -> Result<TokenKind, Problem> {
        let mut pos = body;
        while let Some(b) = self.byte(pos) {
            match b {
                b'\'' if self.byte(pos + 1) == Some(b'\'') => pos += 2,
                b'\'' => {
                    self.pos = pos + 1;
                    return Ok(TokenKind::String);
                }
                b'\\' if backslash => pos += 2,
                _ => pos += 1,
            }
        }
        let message = if backslash {
            "unterminated string: the quote opened here is never closed (in an E'…' string a \
             backslash escapes the next character, so \\' does not close it)"
        } else {
            "unterminated string: the quote opened here is never closed"
        };
        Err(Problem {
            offset: start,
            message: message.to_owned(),
        })
    }

    /// A `"`-quoted identifier whose content starts at `body`.
    fn quoted_ident(&mut self, start: usize, body: usize) -> Result<TokenKind, Problem> {
        let mut pos = body;
        while let Some(b) = self.byte(pos) {
            match b {
                b'"' if self.byte(pos + 1) == Some(b'"') => pos += 2,
                b'"' => {
                    self.pos = pos + 1;
                    return Ok(TokenKind::QuotedIdent);
                }
                _ => pos += 1,
            }
        }
        Err(Problem {
            offset: start,
            message: "unterminated quoted identifier: the double quote opened here is never \
                      closed"
                .to_owned(),
        })
    }

    /// `$1` (a parameter), `$$…$$` or `$tag$…$tag$`; any other `$` is punctuation.
    fn dollar(&mut self, start: usize) -> Result<TokenKind, Problem> {
        match self.byte(start + 1) {
            Some(d) if d.is_ascii_digit() => {
                self.pos = self.scan_while(start + 1, |b| b.is_ascii_digit());
                Ok(TokenKind::Param)
            }
            Some(b'$') => self.dollar_body(start, start + 2),
            Some(c) if is_ident_start(c) => {
                let tag_end = self.scan_while(start + 1, is_dollar_tag_cont);
                if self.byte(tag_end) == Some(b'$') {
                    self.dollar_body(start, tag_end + 1)
                } else {
                    self.single(start, TokenKind::Punct)
                }
            }
            _ => self.single(start, TokenKind::Punct),
        }
    }

    /// The body of a dollar quote whose opening delimiter is `text[start..body]`.
    fn dollar_body(&mut self, start: usize, body: usize) -> Result<TokenKind, Problem> {
        let delimiter = &self.text[start..body];
        // `str::find` is linear-time (two-way search), whatever the tag.
        match self.text[body..].find(delimiter) {
            Some(i) => {
                self.pos = body + i + delimiter.len();
                Ok(TokenKind::DollarString)
            }
            None => Err(Problem {
                offset: start,
                message: format!(
                    "unterminated dollar-quoted string: `{delimiter}` opened here is never closed"
                ),
            }),
        }
    }

    /// A `/* */` comment; comments nest, so every `/*` needs its own `*/`.
    fn block_comment(&mut self, start: usize) -> Result<TokenKind, Problem> {
        let mut depth = 0usize;
        let mut pos = start;
        while let Some(b) = self.byte(pos) {
            match (b, self.byte(pos + 1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    pos += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    pos += 2;
                    if depth == 0 {
                        self.pos = pos;
                        return Ok(TokenKind::BlockComment);
                    }
                }
                _ => pos += 1,
            }
        }
        Err(Problem {
            offset: start,
            message: "unterminated /* comment: the comment opened here is never closed (block \
                      comments nest, so every /* needs its own */)"
                .to_owned(),
        })
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Token, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let start = self.scan_while(self.pos, is_space);
        let Some(c) = self.byte(start) else {
            self.finished = true;
            return None;
        };
        let result = self.token(start, c);
        self.finished = result.is_err();
        Some(result.map(|kind| Token {
            kind,
            start,
            end: self.pos,
        }))
    }
}

/// PostgreSQL's whitespace: space, tab, newline, carriage return, form feed, vertical tab.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `[A-Za-z\200-\377_]`: the first byte of an identifier or of a dollar-quote tag.
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// `[A-Za-z\200-\377_0-9$]`: later bytes of an identifier (so `a$$` is one identifier).
fn is_ident_cont(b: u8) -> bool {
    is_dollar_tag_cont(b) || b == b'$'
}

/// `[A-Za-z\200-\377_0-9]`: later bytes of a dollar-quote tag.
fn is_dollar_tag_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::{Lexer, TokenKind, TokenKind::*};
    use crate::analyze::Problem;

    /// The kinds and texts of all tokens of `sql`, or the first error.
    fn lex(sql: &str) -> Result<Vec<(TokenKind, &str)>, Problem> {
        Lexer::new(sql, 0)
            .map(|t| t.map(|t| (t.kind, &sql[t.start..t.end])))
            .collect()
    }

    fn error_at(sql: &str) -> (usize, std::string::String) {
        let error = lex(sql).expect_err("expected a lex error");
        (error.offset, error.message)
    }

    #[test]
    fn words_numbers_and_punctuation() {
        assert_eq!(
            lex("SELECT a1, _b$c, 12.5e3, .5 FROM t;").unwrap(),
            vec![
                (Word, "SELECT"),
                (Word, "a1"),
                (Punct, ","),
                (Word, "_b$c"),
                (Punct, ","),
                (Number, "12.5e3"),
                (Punct, ","),
                (Number, ".5"),
                (Word, "FROM"),
                (Word, "t"),
                (Semicolon, ";"),
            ]
        );
        assert_eq!(
            lex("x::int<>y").unwrap(),
            vec![
                (Word, "x"),
                (Punct, ":"),
                (Punct, ":"),
                (Word, "int"),
                (Punct, "<"),
                (Punct, ">"),
                (Word, "y")
            ]
        );
    }

    #[test]
    fn non_ascii_identifiers() {
        assert_eq!(
            lex("café élan").unwrap(),
            vec![(Word, "café"), (Word, "élan")]
        );
    }

    #[test]
    fn whitespace_of_all_kinds() {
        assert_eq!(lex(" \t\r\n\x0b\x0ca\n").unwrap(), vec![(Word, "a")]);
        assert_eq!(lex("").unwrap(), vec![]);
        assert_eq!(lex(" \n ").unwrap(), vec![]);
    }

    #[test]
    fn single_quoted_strings() {
        assert_eq!(lex("'a;b'").unwrap(), vec![(String, "'a;b'")]);
        assert_eq!(
            lex("'it''s; ok'x").unwrap(),
            vec![(String, "'it''s; ok'"), (Word, "x")]
        );
        assert_eq!(lex("''").unwrap(), vec![(String, "''")]);
        assert_eq!(lex("''''").unwrap(), vec![(String, "''''")]);
        // standard_conforming_strings: a backslash is an ordinary character.
        assert_eq!(
            lex(r"'a\' ;").unwrap(),
            vec![(String, r"'a\'"), (Semicolon, ";")]
        );
        assert_eq!(lex("'-- /* $$'").unwrap(), vec![(String, "'-- /* $$'")]);
        assert_eq!(
            lex("'multi\nline'").unwrap(),
            vec![(String, "'multi\nline'")]
        );
    }

    #[test]
    fn escape_strings() {
        assert_eq!(lex(r"E'it\'s;'").unwrap(), vec![(String, r"E'it\'s;'")]);
        assert_eq!(
            lex(r"e'\\' x").unwrap(),
            vec![(String, r"e'\\'"), (Word, "x")]
        );
        assert_eq!(lex(r"E'a''b\n'").unwrap(), vec![(String, r"E'a''b\n'")]);
        // Only at the start of a word: `namE'x'` is an identifier and a plain string.
        assert_eq!(
            lex(r"namE'\' x").unwrap(),
            vec![(Word, "namE"), (String, r"'\'"), (Word, "x")]
        );
    }

    #[test]
    fn prefixed_strings() {
        assert_eq!(
            lex("B'0101' X'1F' n'x' b'1'").unwrap(),
            vec![
                (String, "B'0101'"),
                (String, "X'1F'"),
                (String, "n'x'"),
                (String, "b'1'"),
            ]
        );
        assert_eq!(
            lex(r"U&'d\0061t''a;' UESCAPE '!'").unwrap(),
            vec![
                (String, r"U&'d\0061t''a;'"),
                (Word, "UESCAPE"),
                (String, "'!'")
            ]
        );
        assert_eq!(lex(r"u&'\'").unwrap(), vec![(String, r"u&'\'")]);
        // `U&` not followed by a quote is an identifier and an operator.
        assert_eq!(
            lex("u& v").unwrap(),
            vec![(Word, "u"), (Punct, "&"), (Word, "v")]
        );
    }

    #[test]
    fn quoted_identifiers() {
        assert_eq!(
            lex(r#""a;b""c""#).unwrap(),
            vec![(QuotedIdent, r#""a;b""c""#)]
        );
        assert_eq!(
            lex(r#"U&"d\0061t;""#).unwrap(),
            vec![(QuotedIdent, r#"U&"d\0061t;""#)]
        );
        assert_eq!(lex(r#""it's""#).unwrap(), vec![(QuotedIdent, r#""it's""#)]);
        assert_eq!(
            lex(r#""BEGIN""#).unwrap(),
            vec![(QuotedIdent, r#""BEGIN""#)]
        );
    }

    #[test]
    fn dollar_quotes() {
        assert_eq!(
            lex("$$a;'b$$;").unwrap(),
            vec![(DollarString, "$$a;'b$$"), (Semicolon, ";")]
        );
        assert_eq!(
            lex("$fn$ BEGIN x := $$;$$; END $fn$").unwrap(),
            vec![(DollarString, "$fn$ BEGIN x := $$;$$; END $fn$")]
        );
        // A different tag does not close, nor does a longer one.
        assert_eq!(
            lex("$a$ $b$ $ab$ $a$").unwrap(),
            vec![(DollarString, "$a$ $b$ $ab$ $a$")]
        );
        assert_eq!(lex("$a$x$$a$").unwrap(), vec![(DollarString, "$a$x$$a$")]);
        assert_eq!(
            lex("$_1é$ x $_1é$").unwrap(),
            vec![(DollarString, "$_1é$ x $_1é$")]
        );
        assert_eq!(lex("$$$$").unwrap(), vec![(DollarString, "$$$$")]);
        // Tags are case-sensitive.
        assert_eq!(
            lex("$A$ $a$ $A$").unwrap(),
            vec![(DollarString, "$A$ $a$ $A$")]
        );
    }

    #[test]
    fn dollar_that_is_not_a_quote() {
        assert_eq!(
            lex("$1 $23;").unwrap(),
            vec![(Param, "$1"), (Param, "$23"), (Semicolon, ";")]
        );
        // A tag cannot start with a digit, and an identifier may contain `$`.
        assert_eq!(lex("a$$b").unwrap(), vec![(Word, "a$$b")]);
        assert_eq!(
            lex("$a b").unwrap(),
            vec![(Punct, "$"), (Word, "a"), (Word, "b")]
        );
        assert_eq!(lex("$ ;").unwrap(), vec![(Punct, "$"), (Semicolon, ";")]);
    }

    #[test]
    fn comments() {
        assert_eq!(
            lex("a -- x; 'y\nb --\r\nc").unwrap(),
            vec![
                (Word, "a"),
                (LineComment, "-- x; 'y"),
                (Word, "b"),
                (LineComment, "--"),
                (Word, "c")
            ]
        );
        assert_eq!(
            lex("a /* x; /* nested; */ 'still */ b").unwrap(),
            vec![
                (Word, "a"),
                (BlockComment, "/* x; /* nested; */ 'still */"),
                (Word, "b")
            ]
        );
        assert_eq!(
            lex("/**/x").unwrap(),
            vec![(BlockComment, "/**/"), (Word, "x")]
        );
        assert_eq!(
            lex("/*/ */x").unwrap(),
            vec![(BlockComment, "/*/ */"), (Word, "x")]
        );
        assert_eq!(
            lex("a-b/c").unwrap(),
            vec![
                (Word, "a"),
                (Punct, "-"),
                (Word, "b"),
                (Punct, "/"),
                (Word, "c")
            ]
        );
        // A comment inside an operator ends the operator, as in PostgreSQL.
        assert_eq!(
            lex("1+--x").unwrap(),
            vec![(Number, "1"), (Punct, "+"), (LineComment, "--x")]
        );
        assert_eq!(
            lex("-- no newline").unwrap(),
            vec![(LineComment, "-- no newline")]
        );
    }

    #[test]
    fn meta_commands() {
        assert_eq!(
            lex("\\c db 'x\nSELECT 1 \\gexec\n").unwrap(),
            vec![
                (MetaCommand, "\\c db 'x"),
                (Word, "SELECT"),
                (Number, "1"),
                (MetaCommand, "\\gexec")
            ]
        );
    }

    #[test]
    fn unterminated_forms_report_where_they_opened() {
        assert_eq!(error_at("SELECT 'abc").0, 7);
        assert_eq!(error_at("SELECT 'it''s").0, 7);
        let (offset, message) = error_at(r"x E'abc\'");
        assert_eq!(offset, 2);
        assert!(message.contains("E'…'"), "{message}");
        assert_eq!(error_at("U&'x").0, 0);
        assert_eq!(error_at("B'01").0, 0);
        let (offset, message) = error_at(r#"SELECT "col"#);
        assert_eq!(
            (
                offset,
                message.starts_with("unterminated quoted identifier")
            ),
            (7, true)
        );
        let (offset, message) = error_at("AS $body$ x $$ $bod$");
        assert_eq!(offset, 3);
        assert!(message.contains("`$body$`"), "{message}");
        let (offset, message) = error_at("a /* x /* y */");
        assert_eq!(offset, 2);
        assert!(message.starts_with("unterminated /* comment"), "{message}");
        assert_eq!(error_at("/*").0, 0);
    }

    #[test]
    fn stops_after_an_error() {
        let mut lexer = Lexer::new("'x", 0);
        assert!(matches!(lexer.next(), Some(Err(_))));
        assert_eq!(lexer.next(), None);
    }

    #[test]
    fn starts_at_the_given_offset() {
        let sql = "\u{feff}SELECT";
        let tokens: Vec<_> = Lexer::new(sql, 3).collect::<Result<_, _>>().unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!((tokens[0].start, tokens[0].end), (3, sql.len()));
    }
}
