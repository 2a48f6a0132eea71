//! Column types and defaults, as far as rewrites depend on them: which type changes
//! PostgreSQL makes without touching the rows (binary-coercible, or only relaxing a length or
//! precision limit), and which defaults it must compute row by row (volatile ones).

use super::tokens::Tokens;

/// A column type: canonical base name, modifiers (`varchar(20)` → `[20]`), array or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnType {
    pub base: String,
    pub mods: Vec<i64>,
    pub array: bool,
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)?;
        if !self.mods.is_empty() {
            let mods: Vec<String> = self.mods.iter().map(i64::to_string).collect();
            write!(f, "({})", mods.join(","))?;
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// Keywords that end a type in a column definition or `ALTER COLUMN … TYPE`.
const TYPE_END: &[&str] = &[
    "COLLATE",
    "USING",
    "NOT",
    "NULL",
    "DEFAULT",
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "GENERATED",
    "COMPRESSION",
    "STORAGE",
    "ARRAY",
];

/// Parses the type at `i`; returns it and the index after it.
pub(crate) fn parse_type(t: &Tokens<'_>, i: usize) -> Option<(ColumnType, usize)> {
    let mut words = Vec::new();
    let mut j = i;
    while j < t.len() && !t.is_any(j, TYPE_END) {
        if let Some((name, next)) = t.name(j) {
            words.push(name);
            j = next;
        } else {
            break;
        }
    }
    if words.is_empty() {
        return None;
    }
    let mut mods = Vec::new();
    if t.is_punct(j, "(") {
        let end = t.after_group(j);
        // Without the `)` (a cut statement), up to the end.
        let inner_end = if t.is_punct(end - 1, ")") {
            end - 1
        } else {
            end
        };
        mods =
            t.0.get(j + 1..inner_end)
                .unwrap_or_default()
                .iter()
                .filter_map(|tok| tok.text.parse().ok())
                .collect();
        j = end;
    }
    // `timestamp(3) with time zone`
    while t.is_any(j, &["WITH", "WITHOUT", "TIME", "ZONE"]) {
        words.push(t.lower(j));
        j += 1;
    }
    let mut array = false;
    while t.is_punct(j, "[") {
        array = true;
        j = t.after_group(j);
    }
    if t.is(j, "ARRAY") {
        array = true;
        j += 1;
        j = t.after_group(j);
    }
    Some((
        ColumnType {
            base: canonical(&words.join(" ")).to_owned(),
            mods,
            array,
        },
        j,
    ))
}

/// PostgreSQL's own name for a type spelled `name` (words joined by single spaces).
fn canonical(name: &str) -> &str {
    match name {
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "int" | "integer" | "int4" => "int4",
        "smallint" | "int2" => "int2",
        "bigint" | "int8" => "int8",
        "decimal" | "numeric" => "numeric",
        "real" | "float4" => "float4",
        "double precision" | "float8" | "float" => "float8",
        "boolean" | "bool" => "bool",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "time" | "time without time zone" => "time",
        "timetz" | "time with time zone" => "timetz",
        "bit varying" | "varbit" => "varbit",
        "serial" | "serial4" => "serial",
        "bigserial" | "serial8" => "bigserial",
        "smallserial" | "serial2" => "smallserial",
        other => other,
    }
}

/// Whether the type is a serial pseudo-type (a column with a `nextval()` default).
pub(crate) fn is_serial(ty: &ColumnType) -> bool {
    matches!(ty.base.as_str(), "serial" | "bigserial" | "smallserial")
}

/// Whether changing a column from `old` to `new` (without `USING`) rewrites the table.
/// PostgreSQL skips the rewrite when the old values are valid as they are: a binary-coercible
/// change, or a limit only relaxed (`ATColumnChangeRequiresRewrite`).
pub(crate) fn change_rewrites(old: &ColumnType, new: &ColumnType) -> bool {
    if old == new {
        return false;
    }
    if old.array != new.array {
        return true;
    }
    // A limit relaxed: none now, or at least as large as before.
    let relaxed = |old: &[i64], new: &[i64]| {
        new.is_empty() || (!old.is_empty() && new.first() >= old.first())
    };
    match (old.base.as_str(), new.base.as_str()) {
        ("varchar", "varchar") | ("varbit", "varbit") => !relaxed(&old.mods, &new.mods),
        ("varchar", "text") | ("text", "varchar") if new.mods.is_empty() => false,
        ("bpchar", "text") | ("bpchar", "varchar") => true,
        ("numeric", "numeric") => {
            // numeric(p, s) → numeric, or numeric(p2 ≥ p, same s).
            !(new.mods.is_empty()
                || (!old.mods.is_empty()
                    && new.mods.first() >= old.mods.first()
                    && new.mods.get(1).unwrap_or(&0) == old.mods.get(1).unwrap_or(&0)))
        }
        (a, b)
            if a == b
                && matches!(
                    a,
                    "timestamp" | "timestamptz" | "time" | "timetz" | "interval"
                ) =>
        {
            // Fractional-second precision: none means 6, the maximum.
            let precision = |m: &[i64]| m.first().copied().unwrap_or(6);
            precision(&new.mods) < precision(&old.mods)
        }
        ("cidr", "inet") => false,
        _ => true,
    }
}

/// Whether `new` is a type some other type changes to without a rewrite (so without knowing
/// the column's current type, a change to it may or may not rewrite).
pub(crate) fn may_relax(new: &ColumnType) -> bool {
    !new.array
        && matches!(
            new.base.as_str(),
            "text"
                | "varchar"
                | "numeric"
                | "varbit"
                | "inet"
                | "timestamp"
                | "timestamptz"
                | "time"
                | "timetz"
                | "interval"
        )
}

/// Functions PostgreSQL marks volatile that are common in defaults.
const VOLATILE: &[&str] = &[
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
    "setseed",
    "txid_current",
    "pg_current_xact_id",
    "random_normal",
];

/// Stable and immutable functions common in defaults (evaluated once for an `ADD COLUMN`).
const NOT_VOLATILE: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "transaction_timestamp",
    "statement_timestamp",
    "current_user",
    "current_setting",
    "session_user",
    "lower",
    "upper",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "length",
    "abs",
    "round",
    "concat",
    "make_date",
    "make_interval",
    "to_timestamp",
    "to_date",
    "to_json",
    "to_jsonb",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "array",
    "row",
    "cast",
    "date_trunc",
    "timezone",
];

/// Why the default expression in `range` must be computed for each row, if it must: the
/// volatile function it calls (or an unknown one, which may be volatile).
pub(crate) fn volatile_call(
    t: &Tokens<'_>,
    range: std::ops::Range<usize>,
) -> Option<(String, bool)> {
    for i in range.clone() {
        if !t.is_punct(i + 1, "(") || i + 1 >= range.end {
            continue;
        }
        // A type's modifiers, as in `::numeric(10, 2)` or `AS varchar(5)`, are no call.
        if i > 0 && (t.is_punct(i - 1, ":") || t.is(i - 1, "AS")) {
            continue;
        }
        let Some((name, _)) = t.name(i) else { continue };
        if VOLATILE.contains(&name.as_str()) {
            return Some((name, true));
        }
        if !NOT_VOLATILE.contains(&name.as_str())
            && t.0[i].kind == super::super::lexer::TokenKind::Word
        {
            return Some((name, false));
        }
    }
    None
}
