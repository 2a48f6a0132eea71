//! SQL auto-escaping: every `{{ … }}` output becomes a PostgreSQL literal.
//!
//! All templates (migrations and components alike) render in one custom auto-escape mode.
//! The formatter writes strings as `'…'` (quotes doubled; with a backslash, ` E'…'` with a
//! leading space and backslashes doubled), numbers bare, booleans `TRUE`/`FALSE`, none
//! `NULL`, undefined as nothing, bytes as `'\x…'::bytea`, sequences as `ARRAY[…]`
//! (recursively, where `|safe` no longer counts) and maps as the escaped text of their
//! minijinja display. Safe strings (`|safe`, macro results, `escape_*` filters) are written
//! verbatim, and so is everything inside `{% autoescape false %}`.

use std::fmt::Write as _;

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Error, ErrorKind, Output, State, Value};

/// Name of the custom auto-escape mode.
pub(crate) const SQL_AUTO_ESCAPE: &str = "sql-postgres";

/// The auto-escape callback: SQL escaping for every template, whatever its name.
pub(crate) fn auto_escape(_name: &str) -> AutoEscape {
    AutoEscape::Custom(SQL_AUTO_ESCAPE)
}

/// The formatter behind every `{{ … }}`.
pub(crate) fn sql_formatter(
    out: &mut Output<'_>,
    state: &State<'_, '_>,
    value: &Value,
) -> Result<(), Error> {
    let text = if state.auto_escape() == AutoEscape::Custom(SQL_AUTO_ESCAPE) && !value.is_safe() {
        let mut buf = String::new();
        write_sql(&mut buf, value)?;
        buf
    } else {
        value.to_string()
    };
    out.write_str(&text)
        .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
}

/// Appends `value` as SQL to `buf`.
fn write_sql(buf: &mut String, value: &Value) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => buf.push_str("NULL"),
        ValueKind::Bool => buf.push_str(if value.is_true() { "TRUE" } else { "FALSE" }),
        ValueKind::Number => {
            let _ = write!(buf, "{value}");
        }
        ValueKind::String => buf.push_str(&quote_literal(value.as_str().unwrap_or_default())),
        ValueKind::Bytes => {
            buf.push_str("'\\x");
            for b in value.as_bytes().unwrap_or_default() {
                let _ = write!(buf, "{b:02x}");
            }
            buf.push_str("'::bytea");
        }
        ValueKind::Seq | ValueKind::Iterable => {
            buf.push_str("ARRAY[");
            for (i, item) in value.try_iter()?.enumerate() {
                if i > 0 {
                    buf.push_str(", ");
                }
                write_sql(buf, &item)?;
            }
            buf.push(']');
        }
        ValueKind::Invalid => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid value in SQL output: {value}"),
            ))
        }
        // Maps, plain objects and anything newer: their text, as a literal.
        _ => buf.push_str(&quote_literal(&value.to_string())),
    }
    Ok(())
}

/// `text` as a PostgreSQL string literal: `'…'` with `'` doubled; if it holds a backslash,
/// ` E'…'` (with a leading space) and backslashes doubled too.
pub fn quote_literal(text: &str) -> String {
    let has_backslash = text.contains('\\');
    let mut out = String::with_capacity(text.len() + 4);
    if has_backslash {
        out.push_str(" E");
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `text` as a PostgreSQL quoted identifier: `"…"` with `"` doubled.
pub fn quote_identifier(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers() {
        assert_eq!(quote_literal("plain"), "'plain'");
        assert_eq!(quote_literal("O'Reilly"), "'O''Reilly'");
        assert_eq!(quote_literal(r"C:\dir"), r" E'C:\\dir'");
        assert_eq!(quote_literal(r"it's \ x"), r" E'it''s \\ x'");
        assert_eq!(quote_literal(""), "''");
        assert_eq!(quote_identifier(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(quote_identifier(r"a\b"), r#""a\b""#);
    }

    fn render(template: &str, ctx: Value) -> String {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(auto_escape);
        env.set_formatter(sql_formatter);
        env.render_str(template, ctx).expect("render")
    }

    #[test]
    fn formatter_matches_the_value_kinds() {
        let ctx = minijinja::context! {
            s => "it's",
            b => Value::from_bytes(vec![0xde, 0xad]),
            l => Value::from_serialize(serde_json::json!([1, "a", null, true, [], 2.5])),
            m => Value::from_serialize(serde_json::json!({"z": 1, "a": "x"})),
        };
        assert_eq!(
            render(
                "{{ s }} {{ b }} {{ l }} {{ m }} {{ none }} {{ nope }}|{{ s|safe }}",
                ctx
            ),
            r#"'it''s' '\xdead'::bytea ARRAY[1, 'a', NULL, TRUE, ARRAY[], 2.5] '{"a": "x", "z": 1}' NULL |it's"#
        );
    }
}
