//! SQL text helpers: identifier and literal quoting, object designators.

/// Keywords that `quote_ident` quotes (every keyword category but "unreserved", across
/// PostgreSQL 13–17; quoting a few extra words is harmless).
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// Quotes an identifier the way PostgreSQL's `quote_ident` does.
pub fn ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && QUOTED_KEYWORDS.binary_search(&name).is_err();
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, both quoted as needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A string literal (`'…'`, or `E'…'` when it holds backslashes).
pub fn literal(value: &str) -> String {
    let escaped = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", escaped.replace('\\', "\\\\"))
    } else {
        format!("'{escaped}'")
    }
}

/// A role name, or `PUBLIC` for the empty name.
pub fn role(name: &str) -> String {
    if name.is_empty() {
        "PUBLIC".to_string()
    } else {
        ident(name)
    }
}

/// How to name an object in `COMMENT ON`, `ALTER … OWNER TO` and `GRANT`.
#[derive(Debug, Clone)]
pub struct Designator {
    /// After `COMMENT ON`: `TABLE public.t`, `COLUMN public.t.a`, `CONSTRAINT c ON public.t`, …
    pub comment_on: String,
    /// After `ALTER`, before `OWNER TO`: `TABLE public.t`; `None` when the kind has no owner.
    pub owner_of: Option<String>,
    /// After `ON` in `GRANT … ON`: `TABLE public.t`; `None` when the kind has no privileges.
    pub grant_on: Option<String>,
    /// For column privileges: the column, written as `GRANT SELECT (col) ON TABLE …`.
    pub column: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_list_is_sorted_for_binary_search() {
        let mut sorted = QUOTED_KEYWORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, QUOTED_KEYWORDS);
    }

    #[test]
    fn quotes_like_quote_ident() {
        assert_eq!(ident("abc_1"), "abc_1");
        assert_eq!(ident("Abc"), "\"Abc\"");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("1a"), "\"1a\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("entity_type must be A"), "\"entity_type must be A\"");
        assert_eq!(ident("name"), "name");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
    }
}
