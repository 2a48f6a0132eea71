//! A statement's significant tokens (comments dropped) and the small matching helpers the
//! hazard rules share: keywords, names, parenthesised groups and top-level commas.

use super::super::classify::Tok;
use super::super::lexer::{Lexer, TokenKind};

/// The significant tokens of one statement, with helpers to match them.
pub(crate) struct Tokens<'a>(pub Vec<Tok<'a>>);

impl<'a> Tokens<'a> {
    /// Lexes `sql` (one statement), dropping comments; stops at a lexer error or a `;`.
    pub(crate) fn new(sql: &'a str) -> Self {
        let mut toks = Vec::new();
        for token in Lexer::new(sql, 0) {
            let Ok(token) = token else { break };
            match token.kind {
                TokenKind::LineComment | TokenKind::BlockComment | TokenKind::MetaCommand => {}
                TokenKind::Semicolon => break,
                kind => toks.push(Tok {
                    kind,
                    text: &sql[token.start..token.end],
                }),
            }
        }
        Self(toks)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the token at `i` is the unquoted keyword `keyword`.
    pub(crate) fn is(&self, i: usize, keyword: &str) -> bool {
        self.0.get(i).is_some_and(|t| t.is(keyword))
    }

    /// Whether the tokens from `i` on are the keywords `keywords`, in order.
    pub(crate) fn are(&self, i: usize, keywords: &[&str]) -> bool {
        keywords
            .iter()
            .enumerate()
            .all(|(k, kw)| self.is(i + k, kw))
    }

    pub(crate) fn is_any(&self, i: usize, keywords: &[&str]) -> bool {
        keywords.iter().any(|k| self.is(i, k))
    }

    pub(crate) fn is_punct(&self, i: usize, punct: &str) -> bool {
        self.0
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text == punct)
    }

    /// Index after the keywords `keywords` if they are at `i`, else `i`.
    pub(crate) fn skip(&self, i: usize, keywords: &[&str]) -> usize {
        if self.are(i, keywords) {
            i + keywords.len()
        } else {
            i
        }
    }

    /// Index after the parenthesised group opening at `i` (its matching `)`), or `i` when no
    /// `(` is at `i`; the end of the tokens when it never closes.
    pub(crate) fn after_group(&self, i: usize) -> usize {
        if !self.is_punct(i, "(") && !self.is_punct(i, "[") {
            return i;
        }
        let mut depth = 0usize;
        for (j, tok) in self.0.iter().enumerate().skip(i) {
            if tok.kind == TokenKind::Punct {
                match tok.text {
                    "(" | "[" => depth += 1,
                    ")" | "]" => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        self.len()
    }

    /// Ranges of the top-level, comma-separated items in `range` (parentheses nest).
    pub(crate) fn split_commas(
        &self,
        range: std::ops::Range<usize>,
    ) -> Vec<std::ops::Range<usize>> {
        let mut items = Vec::new();
        let mut start = range.start;
        let mut i = range.start;
        while i < range.end {
            if self.is_punct(i, "(") || self.is_punct(i, "[") {
                i = self.after_group(i).min(range.end);
                continue;
            }
            if self.is_punct(i, ",") {
                items.push(start..i);
                start = i + 1;
            }
            i += 1;
        }
        if start < range.end {
            items.push(start..range.end);
        }
        items
    }

    /// Index of the first top-level (outside parentheses) keyword `keyword` in `range`.
    pub(crate) fn find(&self, range: std::ops::Range<usize>, keyword: &str) -> Option<usize> {
        let mut i = range.start;
        while i < range.end {
            if self.is_punct(i, "(") || self.is_punct(i, "[") {
                i = self.after_group(i);
                continue;
            }
            if self.is(i, keyword) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// The (possibly schema-qualified) name at `i`: its last part, normalised as PostgreSQL
    /// does (unquoted folded to lower case), and the index after it.
    pub(crate) fn name(&self, i: usize) -> Option<(String, usize)> {
        let mut last = ident(self.0.get(i)?)?;
        let mut next = i + 1;
        while self.is_punct(next, ".") {
            match self.0.get(next + 1).and_then(ident) {
                Some(part) => {
                    last = part;
                    next += 2;
                }
                None => break,
            }
        }
        Some((last, next))
    }

    /// The text of token `i` in lower case (empty past the end).
    pub(crate) fn lower(&self, i: usize) -> String {
        self.0
            .get(i)
            .map(|t| t.text.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// An identifier token, normalised: unquoted words in lower case, quoted ones unquoted.
pub(crate) fn ident(tok: &Tok<'_>) -> Option<String> {
    match tok.kind {
        TokenKind::Word => Some(tok.text.to_ascii_lowercase()),
        TokenKind::QuotedIdent if tok.text.starts_with('"') => {
            Some(tok.text[1..tok.text.len().saturating_sub(1).max(1)].replace("\"\"", "\""))
        }
        _ => None,
    }
}
