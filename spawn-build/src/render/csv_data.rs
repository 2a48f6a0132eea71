//! CSV data for templates: the parsing behind the `read_csv` and `parse_csv` filters.
//!
//! Parsing is done by the `csv` crate (BurntSushi's), configured from the filters' keyword
//! arguments ([`CsvOptions`]):
//!
//! * `header` (default `true`): the first row names the columns and every other row becomes
//!   a map from those names to its values, iterating in header order; with `header=false`
//!   every row, the first included, is a list;
//! * `delimiter` (default `,`): one ASCII character;
//! * `quote` (default `"`): one ASCII character, doubled inside a quoted field to stand for
//!   itself; `quote=none` turns quoting off.
//!
//! Values are always strings (an empty field is the empty string). Every row must have as
//! many fields as the header (or, without one, as the first row); a ragged row, a field that
//! is not UTF-8 or a header that names a column twice is a [`CsvError`] naming the line the
//! row starts on and the column (1-based field number). Blank lines are skipped, and a UTF-8
//! byte order mark at the start is ignored.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, Value, ValueKind};

/// How to read a CSV document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsvOptions {
    /// Whether the first row is a header (rows become maps) or data (rows are lists).
    pub(crate) header: bool,
    /// The field separator.
    pub(crate) delimiter: u8,
    /// The quote character, or `None` when quoting is off.
    pub(crate) quote: Option<u8>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            header: true,
            delimiter: b',',
            quote: Some(b'"'),
        }
    }
}

/// Why a CSV document (or the options to read it) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CsvError {
    /// A keyword argument with a value it cannot take.
    #[error("{option}={value} is not allowed: {option} must be {expected}")]
    BadOption {
        /// `header`, `delimiter` or `quote`.
        option: &'static str,
        /// The value given, as the template would write it.
        value: String,
        /// What it may be.
        expected: &'static str,
    },

    /// The delimiter and the quote are the same character.
    #[error("delimiter and quote are both {0:?}; they must be different characters")]
    SameDelimiterAndQuote(char),

    /// A row with more or fewer fields than the header (or the first row).
    #[error(
        "line {line}, column {column}: the row has {found} fields but the {reference} has \
         {expected}{detail}; give every row one field per column (an empty value is an empty \
         field, as in `a{d}{d}c`) and quote values that contain `{d}`, quotes or line breaks",
        d = delimiter
    )]
    Ragged {
        /// The line the row starts on (1-based).
        line: u64,
        /// The first missing or extra column (1-based).
        column: usize,
        /// How many fields the row has.
        found: usize,
        /// How many it should have.
        expected: usize,
        /// `header row` or `first row`.
        reference: &'static str,
        /// Which value is missing or extra, e.g. ` (no value for "harvest")`.
        detail: String,
        /// The delimiter, for the hint.
        delimiter: char,
    },

    /// A field that is not UTF-8 text.
    #[error(
        "line {line}, column {column}: not valid UTF-8 (byte {byte:#04x} after {valid:?}); CSV \
         values are text: save the file as UTF-8 (read_file reads bytes)"
    )]
    NotUtf8 {
        /// The line the row starts on (1-based).
        line: u64,
        /// The field (1-based).
        column: usize,
        /// The first byte that is not UTF-8.
        byte: u8,
        /// The text of the field before that byte.
        valid: String,
    },

    /// A header naming the same column twice.
    #[error(
        "line {line}: the header names {name:?} twice (columns {first} and {second}); header \
         names must be unique, or read the file with header=false"
    )]
    DuplicateHeader {
        /// The header's line (1-based).
        line: u64,
        /// The repeated name.
        name: String,
        /// Its first column (1-based).
        first: usize,
        /// Its second column (1-based).
        second: usize,
    },

    /// Anything else the parser reports.
    #[error("line {line}: {message}")]
    Malformed {
        /// The line (1-based), as far as known.
        line: u64,
        /// The parser's message.
        message: String,
    },
}

impl CsvOptions {
    /// The options given as keyword arguments (`header`, `delimiter`, `quote`); any other
    /// keyword argument is left unused, for [`Kwargs::assert_all_used`] to reject.
    pub(crate) fn from_kwargs(kwargs: &Kwargs) -> Result<Self, CsvError> {
        let mut options = Self::default();
        if let Some(value) = option(kwargs, "header") {
            if value.kind() != ValueKind::Bool {
                return Err(bad_option("header", &value, "true or false"));
            }
            options.header = value.is_true();
        }
        if let Some(value) = option(kwargs, "delimiter") {
            options.delimiter = single_ascii(&value).ok_or_else(|| {
                bad_option(
                    "delimiter",
                    &value,
                    "one ASCII character other than a line break",
                )
            })?;
        }
        if let Some(value) = option(kwargs, "quote") {
            options.quote = if value.is_none() {
                None
            } else {
                Some(single_ascii(&value).ok_or_else(|| {
                    bad_option(
                        "quote",
                        &value,
                        "one ASCII character other than a line break, or none (no quoting)",
                    )
                })?)
            };
        }
        if options.quote == Some(options.delimiter) {
            return Err(CsvError::SameDelimiterAndQuote(char::from(
                options.delimiter,
            )));
        }
        Ok(options)
    }
}

/// The keyword argument `name`, marked as used, if given.
fn option(kwargs: &Kwargs, name: &str) -> Option<Value> {
    kwargs
        .get::<Option<Value>>(name)
        .ok()
        .flatten()
        .or_else(|| {
            // `name=none` arrives as none, which `Option<Value>` cannot tell from absence.
            kwargs.has(name).then(|| Value::from(()))
        })
}

fn bad_option(option: &'static str, value: &Value, expected: &'static str) -> CsvError {
    let value = match value.as_str() {
        Some(text) => format!("{text:?}"),
        None => value.to_string(),
    };
    CsvError::BadOption {
        option,
        value,
        expected,
    }
}

/// The byte of a one-character ASCII string that can separate or quote fields.
fn single_ascii(value: &Value) -> Option<u8> {
    match value.as_str()?.as_bytes() {
        [byte] if byte.is_ascii() && !matches!(byte, b'\n' | b'\r') => Some(*byte),
        _ => None,
    }
}

/// Parses `bytes` into a list of rows: maps by header, or lists with `header=false`.
pub(crate) fn parse(bytes: &[u8], options: &CsvOptions) -> Result<Value, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .quote(options.quote.unwrap_or(b'"'))
        .quoting(options.quote.is_some())
        .from_reader(bytes);

    let mut header: Option<Arc<Header>> = None;
    let mut expected: Option<usize> = None;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(malformed(&e)),
        }
        let line = record.position().map_or(0, csv::Position::line);
        let fields = text_fields(&record, line)?;
        match expected {
            None => expected = Some(fields.len()),
            Some(expected) if expected != fields.len() => {
                return Err(ragged(
                    line,
                    &fields,
                    expected,
                    header.as_deref(),
                    options.delimiter,
                ));
            }
            Some(_) => {}
        }
        if !options.header {
            rows.push(Value::from(
                fields.into_iter().map(Value::from).collect::<Vec<_>>(),
            ));
        } else if let Some(header) = &header {
            rows.push(Value::from_object(Row {
                header: Arc::clone(header),
                values: fields.into_iter().map(Value::from).collect(),
            }));
        } else {
            header = Some(Arc::new(Header::new(fields, line)?));
        }
    }
    Ok(Value::from(rows))
}

/// The fields of `record` as text.
fn text_fields(record: &csv::ByteRecord, line: u64) -> Result<Vec<String>, CsvError> {
    record
        .iter()
        .enumerate()
        .map(|(i, field)| {
            std::str::from_utf8(field).map(str::to_owned).map_err(|e| {
                let (valid, rest) = field.split_at(e.valid_up_to());
                CsvError::NotUtf8 {
                    line,
                    column: i + 1,
                    byte: rest.first().copied().unwrap_or_default(),
                    valid: String::from_utf8_lossy(valid).into_owned(),
                }
            })
        })
        .collect()
}

fn ragged(
    line: u64,
    fields: &[String],
    expected: usize,
    header: Option<&Header>,
    delimiter: u8,
) -> CsvError {
    let found = fields.len();
    let column = found.min(expected) + 1;
    let detail = if found < expected {
        header
            .and_then(|h| h.names.get(column - 1))
            .map(|name| format!(" (no value for {name:?})"))
            .unwrap_or_default()
    } else {
        fields
            .get(column - 1)
            .map(|extra| format!(" (extra value {extra:?})"))
            .unwrap_or_default()
    };
    CsvError::Ragged {
        line,
        column,
        found,
        expected,
        reference: if header.is_some() {
            "header row"
        } else {
            "first row"
        },
        detail,
        delimiter: char::from(delimiter),
    }
}

fn malformed(err: &csv::Error) -> CsvError {
    CsvError::Malformed {
        line: err.position().map_or(0, csv::Position::line),
        message: err.to_string(),
    }
}

/// The column names of a CSV file, shared by all its rows.
#[derive(Debug)]
struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    fn new(names: Vec<String>, line: u64) -> Result<Self, CsvError> {
        let mut index = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if let Some(first) = index.insert(name.clone(), i) {
                return Err(CsvError::DuplicateHeader {
                    line,
                    name: name.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            }
        }
        Ok(Self { names, index })
    }
}

/// One data row of a file with a header: a map from column names to values, in header order.
struct Row {
    header: Arc<Header>,
    values: Vec<Value>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.header.names.iter().zip(&self.values))
            .finish()
    }
}

impl Object for Row {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = *self.header.index.get(key.as_str()?)?;
        self.values.get(i).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.header
                .names
                .iter()
                .map(|name| Value::from(name.as_str()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, options: CsvOptions) -> Result<String, CsvError> {
        parse(text.as_bytes(), &options).map(|v| v.to_string())
    }

    fn no_header() -> CsvOptions {
        CsvOptions {
            header: false,
            ..CsvOptions::default()
        }
    }

    #[test]
    fn maps_keep_header_order() {
        let value = parse(b"z,a\n1,2\n", &CsvOptions::default()).expect("parse");
        assert_eq!(value.to_string(), r#"[{"z": "1", "a": "2"}]"#);
        let row = value.get_item_by_index(0).expect("row");
        assert_eq!(row.get_attr("a").expect("a").as_str(), Some("2"));
        assert!(row.get_attr("nope").expect("lookup").is_undefined());
    }

    #[test]
    fn lists_quotes_blank_lines_and_bom() {
        assert_eq!(
            rows("\u{feff}a,\"b,\"\"c\"\"\nd\"\n\n,x\n", no_header()).expect("parse"),
            r#"[["a", "b,\"c\"\nd"], ["", "x"]]"#
        );
        assert_eq!(rows("", no_header()).expect("empty"), "[]");
        assert_eq!(rows("", CsvOptions::default()).expect("empty"), "[]");
        assert_eq!(rows("a,b\n", CsvOptions::default()).expect("header"), "[]");
    }

    #[test]
    fn quoting_can_be_changed_or_turned_off() {
        let single = CsvOptions {
            quote: Some(b'\''),
            delimiter: b';',
            ..no_header()
        };
        assert_eq!(
            rows("'a;b';\"c\"\n", single).expect("parse"),
            r#"[["a;b", "\"c\""]]"#
        );
        let off = CsvOptions {
            quote: None,
            ..no_header()
        };
        assert_eq!(
            rows("\"a\",b\n", off).expect("parse"),
            r#"[["\"a\"", "b"]]"#
        );
    }

    #[test]
    fn ragged_rows_name_line_and_column() {
        let err = rows("a,b,c\n1,2,3\n\"x\ny\",2\n", CsvOptions::default()).expect_err("short");
        assert_eq!(
            err.to_string(),
            "line 3, column 3: the row has 2 fields but the header row has 3 (no value for \
             \"c\"); give every row one field per column (an empty value is an empty field, as \
             in `a,,c`) and quote values that contain `,`, quotes or line breaks"
        );
        let semi = CsvOptions {
            delimiter: b';',
            ..no_header()
        };
        let err = rows("1;2\n3;4;5\n", semi).expect_err("long");
        assert!(
            err.to_string().starts_with(
                "line 2, column 3: the row has 3 fields but the first row has 2 (extra value \
                 \"5\"); "
            ),
            "{err}"
        );
        assert!(err.to_string().contains("`a;;c`"), "{err}");
    }

    #[test]
    fn invalid_utf8_and_duplicate_headers() {
        let err = parse(b"a,b\n1,\xff\n", &CsvOptions::default()).expect_err("utf8");
        assert!(
            matches!(
                err,
                CsvError::NotUtf8 {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{err}"
        );
        let err = rows("a,b,a\n", CsvOptions::default()).expect_err("duplicate");
        assert_eq!(
            err,
            CsvError::DuplicateHeader {
                line: 1,
                name: "a".into(),
                first: 1,
                second: 3
            }
        );
    }
}
