//! psql's variable table: `\set`, `\unset`, `:name` lookups and the special variables.
//!
//! Names are case-sensitive. A plain variable holds any text and disappears on `\unset`.
//! The special variables psql attaches hooks to (`ON_ERROR_STOP`, `VERBOSITY`, …) always
//! exist: `\unset` puts their default back, a bad value is refused with psql's exact message
//! and the old value is kept, and a boolean one set to nothing (`\set QUIET`) becomes `on`.
//!
//! ```
//! use spawn_sqltest::psql::vars::{Variables, Verbosity};
//!
//! let mut vars = Variables::new();
//! assert_eq!(vars.get("VERBOSITY"), Some("default"));
//! vars.set("ON_ERROR_STOP", Some("")).unwrap();
//! assert!(vars.on_error_stop());
//! let refused = vars.set("VERBOSITY", Some("loud")).unwrap_err();
//! assert_eq!(
//!     refused.to_string(),
//!     "unrecognized value \"loud\" for \"VERBOSITY\"\nAvailable values are: default, verbose, terse, sqlstate."
//! );
//! assert_eq!(vars.verbosity(), Verbosity::Default);
//! ```

use std::collections::BTreeMap;

/// Why psql refused an assignment (the `Display` text is psql's message, without prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    /// The name has a character other than letters, digits, `_` or non-ASCII.
    #[error("invalid variable name: \"{name}\"")]
    InvalidName { name: String },
    /// A boolean variable (or `\if` expression) got something that is not a boolean.
    #[error("unrecognized value \"{value}\" for \"{name}\": Boolean expected")]
    NotBoolean { name: String, value: String },
    /// An enumerated variable got a value outside its list.
    #[error("unrecognized value \"{value}\" for \"{name}\"\nAvailable values are: {allowed}.")]
    NotInList {
        name: String,
        value: String,
        allowed: &'static str,
    },
    /// An integer variable got something that is not an integer.
    #[error("invalid value \"{value}\" for \"{name}\": integer expected")]
    NotInteger { name: String, value: String },
}

pub use crate::psql::report::{ShowContext, Verbosity};

/// How psql checks and defaults one special variable.
#[derive(Debug, Clone, Copy)]
enum Special {
    /// A boolean: unset means `off`, empty means `on`.
    Bool,
    /// One of `values` (case-insensitive); `also_bool` accepts booleans too (and then empty
    /// means `on`); unset means `default`.
    Enum {
        values: &'static [&'static str],
        allowed: &'static str,
        default: &'static str,
        also_bool: bool,
    },
    /// An integer; unset means `default`.
    Integer { default: &'static str },
    /// `IGNOREEOF`: anything goes; unset means `0`.
    AnyDefaultZero,
    /// Anything, and it can be unset (the prompts, `HISTFILE`).
    Any,
}

const BOOLEANS: &[&str] = &[
    "AUTOCOMMIT",
    "ON_ERROR_STOP",
    "QUIET",
    "SINGLELINE",
    "SINGLESTEP",
    "SHOW_ALL_RESULTS",
    "HIDE_TOAST_COMPRESSION",
    "HIDE_TABLEAM",
];

fn special(name: &str) -> Option<Special> {
    if BOOLEANS.contains(&name) {
        return Some(Special::Bool);
    }
    let enumerated = |values, allowed, default, also_bool| Special::Enum {
        values,
        allowed,
        default,
        also_bool,
    };
    Some(match name {
        "VERBOSITY" => enumerated(
            &["default", "verbose", "terse", "sqlstate"],
            "default, verbose, terse, sqlstate",
            "default",
            false,
        ),
        "SHOW_CONTEXT" => enumerated(
            &["never", "errors", "always"],
            "never, errors, always",
            "errors",
            false,
        ),
        "ECHO" => enumerated(
            &["none", "errors", "queries", "all"],
            "none, errors, queries, all",
            "none",
            false,
        ),
        "ECHO_HIDDEN" => enumerated(&["noexec"], "on, off, noexec", "off", true),
        "ON_ERROR_ROLLBACK" => enumerated(&["interactive"], "on, off, interactive", "off", true),
        "COMP_KEYWORD_CASE" => enumerated(
            &["lower", "upper", "preserve-lower", "preserve-upper"],
            "lower, upper, preserve-lower, preserve-upper",
            "preserve-upper",
            false,
        ),
        "HISTCONTROL" => enumerated(
            &["none", "ignorespace", "ignoredups", "ignoreboth"],
            "none, ignorespace, ignoredups, ignoreboth",
            "none",
            false,
        ),
        "FETCH_COUNT" => Special::Integer { default: "0" },
        "HISTSIZE" => Special::Integer { default: "500" },
        "IGNOREEOF" => Special::AnyDefaultZero,
        "PROMPT1" | "PROMPT2" | "PROMPT3" | "HISTFILE" => Special::Any,
        _ => return None,
    })
}

/// psql's boolean parsing: `true`/`false`/`yes`/`no` and any non-empty prefix of them,
/// `on`/`off` (at least two letters: `o` alone is ambiguous), `1`/`0`; case-insensitive.
pub fn parse_bool(value: &str) -> Option<bool> {
    let lower = value.to_ascii_lowercase();
    let prefix_of = |word: &str| !lower.is_empty() && word.starts_with(&lower);
    if prefix_of("true") || prefix_of("yes") {
        Some(true)
    } else if prefix_of("false") || prefix_of("no") {
        Some(false)
    } else if lower.len() >= 2 && "on".starts_with(&lower) {
        Some(true)
    } else if lower.len() >= 2 && "off".starts_with(&lower) {
        Some(false)
    } else if lower == "1" {
        Some(true)
    } else if lower == "0" {
        Some(false)
    } else {
        None
    }
}

/// [`parse_bool`] with psql's error for a bad value of the setting called `name` (for an
/// `\if`, `name` is `\if expression`).
pub fn parse_bool_named(value: &str, name: &str) -> Result<bool, VarError> {
    parse_bool(value).ok_or_else(|| VarError::NotBoolean {
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

/// psql's integer check (C `strtol` with base 0 over the whole text, fitting in an `int`).
fn is_integer(value: &str) -> bool {
    let trimmed = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let unsigned = trimmed
        .strip_prefix('-')
        .or_else(|| trimmed.strip_prefix('+'))
        .unwrap_or(trimmed);
    let (digits, radix) = if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        (hex, 16)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (&unsigned[1..], 8)
    } else {
        (unsigned, 10)
    };
    !digits.is_empty()
        && i64::from_str_radix(digits, radix)
            .is_ok_and(|n| i32::try_from(n).is_ok() || (trimmed.starts_with('-') && n == 1 << 31))
}

/// True for a name `\set` accepts: letters, digits, `_`, non-ASCII characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii())
}

/// psql's variables, with psql's initial values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    /// Sorted like psql's list (byte order), which `\set` prints.
    values: BTreeMap<String, String>,
}

impl Default for Variables {
    fn default() -> Self {
        Self::new()
    }
}

impl Variables {
    /// The variables a fresh `psql -X` has before it connects: every special variable at
    /// its default, plus `LAST_ERROR_MESSAGE` (empty) and `LAST_ERROR_SQLSTATE` (`00000`).
    /// The connection-derived ones (`DBNAME`, `USER`, `HOST`, `PORT`, `ENCODING`,
    /// `SERVER_VERSION_NAME`, `SERVER_VERSION_NUM`) and psql's own `VERSION`,
    /// `VERSION_NAME`, `VERSION_NUM` are the session's to fill with [`Self::set_builtin`].
    pub fn new() -> Self {
        let initial = [
            ("AUTOCOMMIT", "on"),
            ("COMP_KEYWORD_CASE", "preserve-upper"),
            ("ECHO", "none"),
            ("ECHO_HIDDEN", "off"),
            ("FETCH_COUNT", "0"),
            ("HIDE_TABLEAM", "off"),
            ("HIDE_TOAST_COMPRESSION", "off"),
            ("HISTCONTROL", "none"),
            ("HISTSIZE", "500"),
            ("IGNOREEOF", "0"),
            ("LAST_ERROR_MESSAGE", ""),
            ("LAST_ERROR_SQLSTATE", "00000"),
            ("ON_ERROR_ROLLBACK", "off"),
            ("ON_ERROR_STOP", "off"),
            ("PROMPT1", "%/%R%x%# "),
            ("PROMPT2", "%/%R%x%# "),
            ("PROMPT3", ">> "),
            ("QUIET", "off"),
            ("SHOW_ALL_RESULTS", "on"),
            ("SHOW_CONTEXT", "errors"),
            ("SINGLELINE", "off"),
            ("SINGLESTEP", "off"),
            ("VERBOSITY", "default"),
        ];
        Self {
            values: initial
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// `\set name value` (`Some`) or `\unset name` (`None`), by psql's rules: a special
    /// variable's value is checked (refused with psql's message, keeping the old value)
    /// and unsetting it restores its default. Unsetting a variable with an invalid name
    /// is not an error, as in psql.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<(), VarError> {
        if !is_valid_name(name) {
            return match value {
                None => Ok(()),
                Some(_) => Err(VarError::InvalidName {
                    name: name.to_owned(),
                }),
            };
        }
        let stored = match special(name) {
            None => value.map(str::to_owned),
            Some(kind) => checked(name, kind, value)?,
        };
        match stored {
            Some(stored) => self.values.insert(name.to_owned(), stored),
            None => self.values.remove(name),
        };
        Ok(())
    }

    /// Sets a variable psql fills itself (from the connection or after a query: `DBNAME`,
    /// `SERVER_VERSION_NUM`, `ROW_COUNT`, `ERROR`, …), without any check.
    pub fn set_builtin(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), value.into());
    }

    /// What `\set` with no argument prints: `name = 'value'` lines in psql's order, each
    /// ending in a newline.
    pub fn listing(&self) -> String {
        self.values
            .iter()
            .map(|(name, value)| format!("{name} = '{value}'\n"))
            .collect()
    }

    /// `QUIET`.
    pub fn quiet(&self) -> bool {
        self.flag("QUIET")
    }

    /// `ON_ERROR_STOP`.
    pub fn on_error_stop(&self) -> bool {
        self.flag("ON_ERROR_STOP")
    }

    /// `AUTOCOMMIT`.
    pub fn autocommit(&self) -> bool {
        self.flag("AUTOCOMMIT")
    }

    /// `SHOW_ALL_RESULTS`.
    pub fn show_all_results(&self) -> bool {
        self.flag("SHOW_ALL_RESULTS")
    }

    /// `VERBOSITY`.
    pub fn verbosity(&self) -> Verbosity {
        match self.lowercase("VERBOSITY").as_str() {
            "verbose" => Verbosity::Verbose,
            "terse" => Verbosity::Terse,
            "sqlstate" => Verbosity::Sqlstate,
            _ => Verbosity::Default,
        }
    }

    /// `SHOW_CONTEXT`.
    pub fn show_context(&self) -> ShowContext {
        match self.lowercase("SHOW_CONTEXT").as_str() {
            "never" => ShowContext::Never,
            "always" => ShowContext::Always,
            _ => ShowContext::Errors,
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name).and_then(parse_bool).unwrap_or(false)
    }

    fn lowercase(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_ascii_lowercase()
    }
}

/// The value psql stores for special variable `name` of `kind`, or its refusal.
fn checked(name: &str, kind: Special, value: Option<&str>) -> Result<Option<String>, VarError> {
    let owned = |s: &str| Some(s.to_owned());
    match kind {
        Special::Bool => match value {
            None => Ok(owned("off")),
            Some("") => Ok(owned("on")),
            Some(v) => parse_bool_named(v, name).map(|_| owned(v)),
        },
        Special::Enum {
            values,
            allowed,
            default,
            also_bool,
        } => match value {
            None => Ok(owned(default)),
            Some("") if also_bool => Ok(owned("on")),
            Some(v)
                if values.iter().any(|allowed| allowed.eq_ignore_ascii_case(v))
                    || (also_bool && parse_bool(v).is_some()) =>
            {
                Ok(owned(v))
            }
            Some(v) => Err(VarError::NotInList {
                name: name.to_owned(),
                value: v.to_owned(),
                allowed,
            }),
        },
        Special::Integer { default } => match value {
            None => Ok(owned(default)),
            Some(v) if is_integer(v) => Ok(owned(v)),
            Some(v) => Err(VarError::NotInteger {
                name: name.to_owned(),
                value: v.to_owned(),
            }),
        },
        Special::AnyDefaultZero => Ok(owned(value.unwrap_or("0"))),
        Special::Any => Ok(value.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_psql() {
        for yes in ["on", "ON", "t", "tr", "TRUE", "y", "yes", "1"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["of", "off", "f", "false", "n", "no", "0", "OFF"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        for bad in ["", "o", "x", "truex", "onn", "2", "yess", " on"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_boolean_is_refused_with_psqls_text() {
        let mut vars = Variables::new();
        let err = vars.set("ON_ERROR_STOP", Some("x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unrecognized value \"x\" for \"ON_ERROR_STOP\": Boolean expected"
        );
        assert_eq!(vars.get("ON_ERROR_STOP"), Some("off"));
    }

    #[test]
    fn empty_and_unset_of_specials() {
        let mut vars = Variables::new();
        vars.set("ON_ERROR_STOP", Some("")).unwrap();
        assert_eq!(vars.get("ON_ERROR_STOP"), Some("on"));
        vars.set("ON_ERROR_STOP", None).unwrap();
        assert_eq!(vars.get("ON_ERROR_STOP"), Some("off"));
        vars.set("ECHO_HIDDEN", Some("")).unwrap();
        assert_eq!(vars.get("ECHO_HIDDEN"), Some("on"));
        let err = vars.set("VERBOSITY", Some("")).unwrap_err();
        assert!(matches!(err, VarError::NotInList { .. }));
        vars.set("VERBOSITY", Some("Terse")).unwrap();
        assert_eq!(vars.verbosity(), Verbosity::Terse);
        vars.set("VERBOSITY", None).unwrap();
        assert_eq!(vars.get("VERBOSITY"), Some("default"));
        vars.set("PROMPT1", None).unwrap();
        assert_eq!(vars.get("PROMPT1"), None);
        vars.set("QUIET", Some("of")).unwrap();
        assert_eq!(vars.get("QUIET"), Some("of"));
        assert!(!vars.quiet());
    }

    #[test]
    fn integers_and_names() {
        let mut vars = Variables::new();
        vars.set("FETCH_COUNT", Some("-3")).unwrap();
        vars.set("FETCH_COUNT", Some("0x10")).unwrap();
        let err = vars.set("FETCH_COUNT", Some("x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"x\" for \"FETCH_COUNT\": integer expected"
        );
        assert!(vars.set("HISTSIZE", Some("99999999999")).is_err());
        assert_eq!(
            vars.set("a-b", Some("x")).unwrap_err().to_string(),
            "invalid variable name: \"a-b\""
        );
        vars.set("a-b", None).unwrap();
        vars.set("1abc", Some("x")).unwrap();
        vars.set("été", Some("x")).unwrap();
        vars.set("Case", Some("1")).unwrap();
        assert_eq!(vars.get("case"), None);
        vars.set("Case", None).unwrap();
        assert_eq!(vars.get("Case"), None);
    }

    #[test]
    fn listing_is_sorted_like_psql() {
        let mut vars = Variables::new();
        vars.set("1abc", Some("x")).unwrap();
        vars.set("lower", Some("it's")).unwrap();
        let listing = vars.listing();
        assert!(listing.starts_with("1abc = 'x'\nAUTOCOMMIT = 'on'\n"));
        assert!(listing.ends_with("VERBOSITY = 'default'\nlower = 'it's'\n"));
    }

    #[test]
    fn typed_getters() {
        let mut vars = Variables::new();
        assert_eq!(vars.show_context(), ShowContext::Errors);
        vars.set("SHOW_CONTEXT", Some("always")).unwrap();
        assert_eq!(vars.show_context(), ShowContext::Always);
        assert!(vars.autocommit() && vars.show_all_results() && !vars.on_error_stop());
    }
}
