//! Quoting of interpolated variables: `:'name'` as a SQL literal, `:"name"` as an identifier,
//! the way libpq's `PQescapeLiteral` and `PQescapeIdentifier` write them.

/// `value` as a SQL string literal: quotes doubled; when it has backslashes they are doubled
/// too and the literal is written ` E'…'` (with the leading space, as libpq does).
pub(crate) fn literal(value: &str) -> String {
    let has_backslash = value.contains('\\');
    let mut out = String::with_capacity(value.len() + 4);
    if has_backslash {
        out.push_str(" E");
    }
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `value` as a quoted identifier: `"…"` with inner double quotes doubled.
pub(crate) fn identifier(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"a\b'c"), r" E'a\\b''c'");
        assert_eq!(literal(""), "''");
        assert_eq!(identifier("a\"b"), "\"a\"\"b\"");
    }
}
