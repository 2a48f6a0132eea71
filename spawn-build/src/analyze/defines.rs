//! Which functions, procedures, views, materialized views and triggers a piece of SQL
//! creates: the `CREATE [OR REPLACE] … name` statements of a component file, read with the
//! crate's lexer (so names in strings, dollar quotes and comments are not mistaken for
//! statements). Template syntax around the statements is skipped; a name written by a
//! template expression (`CREATE VIEW {{ name }}`) is not recognised.
//!
//! ```
//! use spawn_build::analyze::{defined_objects, Defined, DefinedKind};
//!
//! let sql = "-- prices\nCREATE OR REPLACE FUNCTION app.\"Price\"(int) RETURNS int\n\
//!            LANGUAGE sql AS $$ SELECT 1; CREATE VIEW nope AS SELECT 1 $$;\n\
//!            CREATE VIEW prices AS SELECT app.\"Price\"(1);\n";
//! assert_eq!(
//!     defined_objects(sql),
//!     vec![
//!         Defined { kind: DefinedKind::Function, schema: Some("app".into()), name: "Price".into() },
//!         Defined { kind: DefinedKind::View, schema: None, name: "prices".into() },
//!     ]
//! );
//! ```

use super::lexer::{Lexer, Token, TokenKind};

/// What kind of object a `CREATE` statement makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefinedKind {
    Function,
    Procedure,
    View,
    MaterializedView,
    Trigger,
}

impl DefinedKind {
    /// The SQL words for the kind, as messages show it (`materialized view`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Procedure => "procedure",
            Self::View => "view",
            Self::MaterializedView => "materialized view",
            Self::Trigger => "trigger",
        }
    }
}

/// One object a `CREATE` statement makes: its kind and name (unquoted; unquoted names
/// folded to lower case, as PostgreSQL folds them), with the schema when it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Defined {
    pub kind: DefinedKind,
    pub schema: Option<String>,
    pub name: String,
}

/// The objects `sql` creates, in the order written. Text the lexer cannot read (an
/// unterminated quote, say) ends the search there.
#[must_use]
pub fn defined_objects(sql: &str) -> Vec<Defined> {
    let tokens: Vec<Token> = Lexer::new(sql, 0)
        .map_while(Result::ok)
        .filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment))
        .collect();
    let mut found = Vec::new();
    let mut at_start = true;
    for (i, token) in tokens.iter().enumerate() {
        if token.kind == TokenKind::Semicolon {
            at_start = true;
            continue;
        }
        if at_start && is_word(sql, token, "create") {
            if let Some(defined) = creates(sql, &tokens[i + 1..]) {
                found.push(defined);
            }
        }
        at_start = false;
    }
    found
}

/// What the tokens after a statement's `CREATE` make, if one of the recognised kinds.
fn creates(sql: &str, rest: &[Token]) -> Option<Defined> {
    let mut tokens = rest.iter().peekable();
    // Modifiers between CREATE and the kind.
    while let Some(t) = tokens.peek() {
        let modifier = [
            "or",
            "replace",
            "temp",
            "temporary",
            "recursive",
            "constraint",
        ]
        .iter()
        .any(|w| is_word(sql, t, w));
        if !modifier {
            break;
        }
        tokens.next();
    }
    let kind = match tokens.next() {
        Some(t) if is_word(sql, t, "function") => DefinedKind::Function,
        Some(t) if is_word(sql, t, "procedure") => DefinedKind::Procedure,
        Some(t) if is_word(sql, t, "view") => DefinedKind::View,
        Some(t) if is_word(sql, t, "trigger") => DefinedKind::Trigger,
        Some(t) if is_word(sql, t, "materialized") => match tokens.next() {
            Some(t) if is_word(sql, t, "view") => DefinedKind::MaterializedView,
            _ => return None,
        },
        _ => return None,
    };
    let mut names: Vec<&Token> = Vec::new();
    if tokens.peek().is_some_and(|t| is_word(sql, t, "if")) {
        tokens.next(); // IF
        tokens.next(); // NOT
        tokens.next(); // EXISTS
    }
    names.push(tokens.next().filter(|t| is_name(t))?);
    if tokens.peek().is_some_and(|t| &sql[t.start..t.end] == ".") {
        tokens.next();
        names.push(tokens.next().filter(|t| is_name(t))?);
    }
    let mut names = names.into_iter().map(|t| unquoted(&sql[t.start..t.end]));
    let (schema, name) = match (names.next(), names.next()) {
        (Some(schema), Some(name)) => (Some(schema), name),
        (Some(name), None) => (None, name),
        _ => return None,
    };
    Some(Defined { kind, schema, name })
}

fn is_word(sql: &str, token: &Token, word: &str) -> bool {
    token.kind == TokenKind::Word && sql[token.start..token.end].eq_ignore_ascii_case(word)
}

fn is_name(token: &Token) -> bool {
    matches!(token.kind, TokenKind::Word | TokenKind::QuotedIdent)
}

/// A name as PostgreSQL reads it: `"A""b"` → `A"b`, `Abc` → `abc`.
fn unquoted(text: &str) -> String {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => text.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<(DefinedKind, Option<String>, String)> {
        defined_objects(sql)
            .into_iter()
            .map(|d| (d.kind, d.schema, d.name))
            .collect()
    }

    #[test]
    fn every_kind_and_modifier_is_recognised() {
        let sql = "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql;\n\
                   create or replace procedure S.p() language sql as $$ $$;\n\
                   CREATE TEMP VIEW v AS SELECT 1;\n\
                   CREATE OR REPLACE RECURSIVE VIEW r (n) AS SELECT 1;\n\
                   CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1;\n\
                   CREATE CONSTRAINT TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE TABLE not_this (id int);\n\
                   CREATE INDEX nor_this ON not_this (id);\n";
        assert_eq!(
            names(sql),
            vec![
                (DefinedKind::Function, None, "f".into()),
                (DefinedKind::Procedure, Some("s".into()), "p".into()),
                (DefinedKind::View, None, "v".into()),
                (DefinedKind::View, None, "r".into()),
                (DefinedKind::MaterializedView, None, "m".into()),
                (DefinedKind::Trigger, None, "t".into()),
            ]
        );
    }

    #[test]
    fn only_statement_starts_count_and_quotes_and_comments_hide_text() {
        let sql = "/* CREATE VIEW a AS SELECT 1; */\n\
                   SELECT 'CREATE VIEW b AS SELECT 1';\n\
                   DO $$ BEGIN CREATE VIEW c AS SELECT 1; END $$;\n\
                   -- CREATE VIEW d\n\
                   CREATE VIEW \"Quoted\"\"Name\" AS SELECT 1;\n\
                   CREATE VIEW {{ name }} AS SELECT 1;\n";
        assert_eq!(
            names(sql),
            vec![(DefinedKind::View, None, "Quoted\"Name".into())]
        );
    }
}
