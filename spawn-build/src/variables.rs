//! Variables files for templates (`--variables`): JSON, TOML or YAML, chosen by extension,
//! exposed to templates as `variables`.
//!
//! Values go through each format's own `serde` value type and then into minijinja, exactly
//! like the original spawn CLI, so numbers and maps print the same: JSON `44.0` stays a float,
//! JSON integers beyond `u64` become floats, TOML datetimes are the map
//! `{"$__toml_private_datetime": "…"}`, YAML follows `serde_yaml` 0.9 (YAML integers beyond
//! `u64` are a parse error), and maps iterate in sorted key order. The same parsers back the
//! `parse_json` / `parse_toml` / `parse_yaml` template filters.

use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::Value;

/// The formats a variables file (or a `parse_*` filter input) can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariablesFormat {
    /// `.json`
    Json,
    /// `.toml`
    Toml,
    /// `.yaml` or `.yml`
    Yaml,
}

impl VariablesFormat {
    /// The format a file's extension (case-insensitive) stands for.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Self::Json),
            "toml" => Some(Self::Toml),
            "yaml" | "yml" => Some(Self::Yaml),
            _ => None,
        }
    }
}

impl fmt::Display for VariablesFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::Toml => "TOML",
            Self::Yaml => "YAML",
        })
    }
}

/// A document that does not parse, with the 1-based position when the parser knows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}invalid {format}: {message}", position(*.line, *.column))]
pub struct ParseError {
    /// The format that was expected.
    pub format: VariablesFormat,
    /// 1-based line of the problem.
    pub line: Option<usize>,
    /// 1-based column of the problem.
    pub column: Option<usize>,
    /// The parser's message, without position.
    pub message: String,
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{l}:{c}: "),
        (Some(l), None) => format!("{l}: "),
        _ => String::new(),
    }
}

impl ParseError {
    /// The error prefixed with the file it is in: `file:line:col: invalid …`.
    pub fn in_file(&self, file: impl fmt::Display) -> String {
        let sep = if self.line.is_some() { ":" } else { ": " };
        format!("{file}{sep}{self}")
    }
}

/// Why a variables file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VariablesError {
    /// The file could not be read.
    #[error("could not read variables file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The extension names no supported format.
    #[error(
        "variables file {} has an unsupported extension; use .json, .toml, .yaml or .yml",
        path.display()
    )]
    UnsupportedExtension {
        /// The file.
        path: PathBuf,
    },
    /// The file does not parse.
    #[error("variables file {}", error.in_file(path.display()))]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why.
        error: ParseError,
    },
}

/// Loads a variables file as the template value `variables`; the format comes from the
/// extension (`.json`, `.toml`, `.yaml`, `.yml`).
pub fn load_variables(path: &Path) -> Result<Value, VariablesError> {
    let format =
        VariablesFormat::from_path(path).ok_or_else(|| VariablesError::UnsupportedExtension {
            path: path.to_path_buf(),
        })?;
    let text = std::fs::read_to_string(path).map_err(|source| VariablesError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_variables(format, &text).map_err(|error| VariablesError::Parse {
        path: path.to_path_buf(),
        error,
    })
}

/// Parses `text` in `format` into a template value.
pub fn parse_variables(format: VariablesFormat, text: &str) -> Result<Value, ParseError> {
    match format {
        VariablesFormat::Json => serde_json::from_str::<serde_json::Value>(text)
            .map(|v| Value::from_serialize(&v))
            .map_err(|e| {
                let message = strip_position_suffix(&e.to_string(), e.line(), e.column());
                ParseError {
                    format,
                    line: Some(e.line()),
                    column: Some(e.column()),
                    message,
                }
            }),
        VariablesFormat::Toml => toml::from_str::<toml::Value>(text)
            .map(|v| Value::from_serialize(&v))
            .map_err(|e| {
                let (line, column) = match e.span() {
                    Some(span) => {
                        let (l, c) = line_column(text, span.start);
                        (Some(l), Some(c))
                    }
                    None => (None, None),
                };
                ParseError {
                    format,
                    line,
                    column,
                    message: e.message().trim_end().to_owned(),
                }
            }),
        VariablesFormat::Yaml => serde_yaml::from_str::<serde_yaml::Value>(text)
            .map(|v| Value::from_serialize(&v))
            .map_err(|e| {
                let (line, column) = match e.location() {
                    Some(loc) => (Some(loc.line()), Some(loc.column())),
                    None => (None, None),
                };
                let message = match (line, column) {
                    (Some(l), Some(c)) => strip_position_suffix(&e.to_string(), l, c),
                    _ => e.to_string(),
                };
                ParseError {
                    format,
                    line,
                    column,
                    message,
                }
            }),
    }
}

/// Removes the ` at line L column C` the JSON and YAML parsers append to their messages.
fn strip_position_suffix(message: &str, line: usize, column: usize) -> String {
    let suffix = format!(" at line {line} column {column}");
    message.strip_suffix(&suffix).unwrap_or(message).to_owned()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(value: &Value, expr: &str) -> String {
        let env = minijinja::Environment::new();
        env.render_str(expr, minijinja::context! { v => value })
            .expect("render")
    }

    #[test]
    fn json_numbers_keep_their_form() {
        let v = parse_variables(
            VariablesFormat::Json,
            r#"{"f": 44.0, "i": 44, "max": 18446744073709551615, "big": 98765432109876543210, "min": -9223372036854775808}"#,
        )
        .expect("json");
        assert_eq!(
            render(&v, "{{ v.f }} {{ v.i }} {{ v.max }} {{ v.min }}"),
            "44.0 44 18446744073709551615 -9223372036854775808"
        );
        assert_eq!(render(&v, "{{ v.big }}"), "98765432109876540000.0");
        assert_eq!(
            render(&v, "{% for k in v %}{{ k }} {% endfor %}"),
            "big f i max min "
        );
    }

    #[test]
    fn toml_datetimes_are_the_private_map() {
        let v = parse_variables(
            VariablesFormat::Toml,
            "at = 1979-05-27T07:32:00Z\nz = 1\na = 2\n",
        )
        .expect("toml");
        assert_eq!(
            render(&v, "{{ v.at }}"),
            r#"{"$__toml_private_datetime": "1979-05-27T07:32:00Z"}"#
        );
        assert_eq!(
            render(&v, "{% for k in v %}{{ k }} {% endfor %}"),
            "a at z "
        );
    }

    #[test]
    fn yaml_values() {
        let v = parse_variables(
            VariablesFormat::Yaml,
            "b: yes\na: ~\nc: \"007\"\nd: |\n  x\n",
        )
        .expect("yaml");
        assert_eq!(
            render(&v, "{{ v.b }}|{{ v.a }}|{{ v.c }}|{{ v.d }}"),
            "yes|none|007|x\n"
        );
        assert!(parse_variables(VariablesFormat::Yaml, "n: 98765432109876543210987\n").is_err());
    }

    #[test]
    fn load_by_extension_and_errors_name_file_and_position() {
        let dir = tempfile::tempdir().expect("tempdir");
        let json = dir.path().join("v.json");
        std::fs::write(&json, "{\n  \"a\": 1,\n  \"b\": ]\n}\n").expect("write");
        let err = load_variables(&json).expect_err("bad json").to_string();
        assert!(
            err.starts_with(&format!("variables file {}:3:", json.display())),
            "{err}"
        );
        assert!(err.contains("invalid JSON"), "{err}");

        let toml_file = dir.path().join("v.toml");
        std::fs::write(&toml_file, "a = 1\nb = \n").expect("write");
        let err = load_variables(&toml_file)
            .expect_err("bad toml")
            .to_string();
        assert!(err.contains("v.toml:2:"), "{err}");

        let yml = dir.path().join("v.YML");
        std::fs::write(&yml, "a: 1\n").expect("write");
        assert_eq!(
            load_variables(&yml)
                .expect("yaml")
                .get_attr("a")
                .expect("a"),
            Value::from(1)
        );

        let txt = dir.path().join("v.txt");
        std::fs::write(&txt, "a").expect("write");
        let err = load_variables(&txt).expect_err("extension").to_string();
        assert!(err.contains(".json, .toml, .yaml or .yml"), "{err}");

        let err = load_variables(&dir.path().join("missing.json")).expect_err("missing");
        assert!(matches!(err, VariablesError::Read { .. }));
    }
}
