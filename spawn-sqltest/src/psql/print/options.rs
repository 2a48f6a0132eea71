//! psql's `\pset` state for result printing: the options, `\pset option value` with psql's value
//! parsing and error texts, and the status lines psql prints when `QUIET` is off.

use std::fmt;

use super::style::LineStyle;

/// How results are laid out (`\pset format`). Only the formats spawn reproduces exist here;
/// `wrapped` prints like `aligned` because a test's output is never a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Columns padded and separated by `|` (psql's default).
    #[default]
    Aligned,
    /// Values separated by the field separator, records by the record separator.
    Unaligned,
    /// Aligned with wrapping to the terminal width; without a terminal exactly like aligned.
    Wrapped,
    /// Comma-separated values with a header line.
    Csv,
}

impl Format {
    pub(super) fn name(self) -> &'static str {
        match self {
            Format::Aligned => "aligned",
            Format::Unaligned => "unaligned",
            Format::Wrapped => "wrapped",
            Format::Csv => "csv",
        }
    }
}

/// Expanded (one line per column) display, `\pset expanded` / `\x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expanded {
    /// One line per row.
    #[default]
    Off,
    /// One block per row.
    On,
    /// Expanded only when a row is wider than the terminal: never when the output is not a
    /// terminal (and `\pset columns` is unset), so it prints like [`Expanded::Off`].
    Auto,
}

/// A field or record separator: a string, or a zero byte (`fieldsep_zero`, `recordsep_zero`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Separator {
    /// The given text.
    Text(String),
    /// A zero byte.
    Zero,
}

impl Separator {
    /// Appends the separator to `out`.
    pub(crate) fn push_to(&self, out: &mut String) {
        match self {
            Separator::Text(text) => out.push_str(text),
            Separator::Zero => out.push('\0'),
        }
    }
}

/// The printing part of psql's `\pset` state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintOptions {
    /// `\pset format`.
    pub format: Format,
    /// `\pset border`: 0, 1 (default) or 2; larger values print like 2.
    pub border: u16,
    /// `\pset tuples_only` / `\t`: no header, footer or title.
    pub tuples_only: bool,
    /// `\pset expanded` / `\x`.
    pub expanded: Expanded,
    /// `\pset null`: what NULL prints as (default empty).
    pub null: String,
    /// `\pset linestyle`.
    pub line_style: LineStyle,
    /// `\pset csv_fieldsep` (csv format), default `,`.
    pub csv_field_separator: char,
    /// `\pset fieldsep` (unaligned format), default `|`.
    pub field_separator: Separator,
    /// `\pset recordsep` (unaligned format), default a newline.
    pub record_separator: Separator,
    /// `\pset footer`: the `(N rows)` footer.
    pub footer: bool,
    /// `\pset title`.
    pub title: Option<String>,
    /// `\pset tableattr` (kept for its status line only: it affects the HTML format alone).
    pub table_attributes: Option<String>,
    /// `\pset pager` (kept for its status line only: a test's output is never paged).
    pub pager: Pager,
}

/// `\pset pager`: recorded for its status line; spawn never pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pager {
    /// `off`.
    Off,
    /// `on` (psql's default).
    #[default]
    On,
    /// `always`.
    Always,
}

impl Default for PrintOptions {
    fn default() -> Self {
        PrintOptions {
            format: Format::Aligned,
            border: 1,
            tuples_only: false,
            expanded: Expanded::Off,
            null: String::new(),
            line_style: LineStyle::Ascii,
            csv_field_separator: ',',
            field_separator: Separator::Text("|".to_owned()),
            record_separator: Separator::Text("\n".to_owned()),
            footer: true,
            title: None,
            table_attributes: None,
            pager: Pager::On,
        }
    }
}

/// A `\pset` that psql refuses (its exact message), or that spawn does not reproduce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsetError {
    /// psql: no such option.
    #[error("\\pset: unknown option: {0}")]
    UnknownOption(String),
    /// psql: a format abbreviation matching two formats.
    #[error(
        "\\pset: ambiguous abbreviation \"{given}\" matches both \"{first}\" and \"{second}\""
    )]
    AmbiguousFormat {
        /// The value given.
        given: String,
        /// The first format it abbreviates.
        first: &'static str,
        /// The second format it abbreviates.
        second: &'static str,
    },
    /// psql: no such format.
    #[error(
        "\\pset: allowed formats are aligned, asciidoc, csv, html, latex, latex-longtable, \
         troff-ms, unaligned, wrapped"
    )]
    UnknownFormat,
    /// psql: a boolean option given something else.
    #[error("unrecognized value \"{value}\" for \"{option}\": Boolean expected")]
    NotBoolean {
        /// The option's canonical name.
        option: &'static str,
        /// The value given.
        value: String,
    },
    /// psql: `expanded` given something other than a boolean or `auto`.
    #[error(
        "unrecognized value \"{value}\" for \"expanded\"\nAvailable values are: on, off, auto."
    )]
    NotExpanded {
        /// The value given.
        value: String,
    },
    /// psql: `pager` given something other than a boolean or `always`.
    #[error(
        "unrecognized value \"{value}\" for \"pager\"\nAvailable values are: on, off, always."
    )]
    NotPager {
        /// The value given.
        value: String,
    },
    /// psql: no such line style.
    #[error("\\pset: allowed line styles are ascii, old-ascii, unicode")]
    UnknownLineStyle,
    /// psql: `csv_fieldsep` given more or less than one single-byte character.
    #[error("\\pset: csv_fieldsep must be a single one-byte character")]
    CsvSeparatorLength,
    /// psql: `csv_fieldsep` given a character that cannot separate csv fields.
    #[error("\\pset: csv_fieldsep cannot be a double quote, a newline, or a carriage return")]
    CsvSeparatorCharacter,
    /// A valid psql option or format whose output spawn does not reproduce.
    #[error("\\pset {option} {value}: not supported by spawn test (supported formats: aligned, unaligned, wrapped, csv)")]
    Unsupported {
        /// The option.
        option: String,
        /// The value given (empty when none).
        value: String,
    },
}

/// The options `\pset` knows, by canonical name (psql also takes `t`, `x` and `T`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Setting {
    Format,
    Border,
    Expanded,
    Null,
    FieldSeparator,
    FieldSeparatorZero,
    RecordSeparator,
    RecordSeparatorZero,
    CsvFieldSeparator,
    LineStyle,
    TuplesOnly,
    Title,
    TableAttributes,
    Pager,
    Footer,
    /// Known to psql, not reproduced by spawn.
    Other,
}

pub(super) fn lookup(option: &str) -> Option<Setting> {
    Some(match option {
        "format" => Setting::Format,
        "border" => Setting::Border,
        "expanded" | "x" => Setting::Expanded,
        "null" => Setting::Null,
        "fieldsep" => Setting::FieldSeparator,
        "fieldsep_zero" => Setting::FieldSeparatorZero,
        "recordsep" => Setting::RecordSeparator,
        "recordsep_zero" => Setting::RecordSeparatorZero,
        "csv_fieldsep" => Setting::CsvFieldSeparator,
        "linestyle" => Setting::LineStyle,
        "tuples_only" | "t" => Setting::TuplesOnly,
        "title" => Setting::Title,
        "tableattr" | "T" => Setting::TableAttributes,
        "pager" => Setting::Pager,
        "footer" => Setting::Footer,
        "unicode_border_linestyle"
        | "unicode_column_linestyle"
        | "unicode_header_linestyle"
        | "numericlocale"
        | "columns"
        | "pager_min_lines" => Setting::Other,
        _ => return None,
    })
}

/// psql's `ParseVariableBool`: case-insensitive prefixes of `true`, `false`, `yes`, `no`, at
/// least two letters of `on`/`off`, and `1`/`0`.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    let lower = value.to_ascii_lowercase();
    let abbreviates = |word: &str, min: usize| {
        lower.len() >= min && lower.len() <= word.len() && word.starts_with(&lower)
    };
    if abbreviates("true", 1) || abbreviates("yes", 1) || abbreviates("on", 2) || lower == "1" {
        Some(true)
    } else if abbreviates("false", 1)
        || abbreviates("no", 1)
        || abbreviates("off", 2)
        || lower == "0"
    {
        Some(false)
    } else {
        None
    }
}

/// C's `atoi` stored in psql's `unsigned short`: leading blanks, a sign, digits, the rest
/// ignored; wraps like the C conversion.
fn parse_border(value: &str) -> u16 {
    let trimmed = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let magnitude = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, digit| {
            n.saturating_mul(10).saturating_add(i64::from(digit - b'0'))
        })
        .min(i64::from(i32::MAX));
    let number = if negative { -magnitude } else { magnitude };
    number as u16
}

/// The formats psql accepts as (case-insensitive) abbreviations, in psql's order.
const FORMATS: [&str; 8] = [
    "aligned",
    "asciidoc",
    "csv",
    "html",
    "latex",
    "troff-ms",
    "unaligned",
    "wrapped",
];

fn parse_format(value: &str) -> Result<Format, PsetError> {
    let lower = value.to_ascii_lowercase();
    let mut matched: Option<&'static str> = None;
    for name in FORMATS {
        if name.starts_with(&lower) {
            if let Some(first) = matched {
                return Err(PsetError::AmbiguousFormat {
                    given: value.to_owned(),
                    first,
                    second: name,
                });
            }
            matched = Some(name);
        }
    }
    let name = match matched {
        Some(name) => name,
        None if lower == "latex-longtable" => "latex-longtable",
        None => return Err(PsetError::UnknownFormat),
    };
    match name {
        "aligned" => Ok(Format::Aligned),
        "unaligned" => Ok(Format::Unaligned),
        "wrapped" => Ok(Format::Wrapped),
        "csv" => Ok(Format::Csv),
        other => Err(PsetError::Unsupported {
            option: "format".to_owned(),
            value: other.to_owned(),
        }),
    }
}

/// psql's line style names, case-insensitive abbreviations tried in order (`ascii`,
/// `old-ascii`, `unicode`); spawn does not draw `old-ascii`.
fn parse_line_style(value: &str) -> Result<LineStyle, PsetError> {
    let lower = value.to_ascii_lowercase();
    if "ascii".starts_with(&lower) {
        Ok(LineStyle::Ascii)
    } else if "old-ascii".starts_with(&lower) {
        Err(PsetError::Unsupported {
            option: "linestyle".to_owned(),
            value: value.to_owned(),
        })
    } else if "unicode".starts_with(&lower) {
        Ok(LineStyle::Unicode)
    } else {
        Err(PsetError::UnknownLineStyle)
    }
}

/// psql's check of `csv_fieldsep`: one single-byte character, not `"`, `\n` or `\r`.
fn parse_csv_separator(value: &str) -> Result<char, PsetError> {
    match value.as_bytes() {
        [b'"' | b'\n' | b'\r'] => Err(PsetError::CsvSeparatorCharacter),
        [byte] => Ok(char::from(*byte)),
        _ => Err(PsetError::CsvSeparatorLength),
    }
}

impl PrintOptions {
    /// Applies `\pset option value` (`value` is `None` when the command has no value) the way
    /// psql does, and returns the status line psql then prints unless `QUIET` is on (`None`
    /// when psql prints none: `tuples_only` and `footer` given a value). `\x [value]` is
    /// `set("expanded", value)` and `\t [value]` is `set("tuples_only", value)`.
    ///
    /// ```
    /// use spawn_sqltest::psql::print::PrintOptions;
    ///
    /// let mut options = PrintOptions::default();
    /// let status = options.set("null", Some("(null)")).unwrap();
    /// assert_eq!(status.as_deref(), Some("Null display is \"(null)\"."));
    /// assert_eq!(
    ///     options.set("bogus", None).unwrap_err().to_string(),
    ///     "\\pset: unknown option: bogus"
    /// );
    /// ```
    pub fn set(&mut self, option: &str, value: Option<&str>) -> Result<Option<String>, PsetError> {
        let known = lookup(option).ok_or_else(|| PsetError::UnknownOption(option.to_owned()))?;
        let boolean = |canonical: &'static str, value: &str| {
            parse_bool(value).ok_or_else(|| PsetError::NotBoolean {
                option: canonical,
                value: value.to_owned(),
            })
        };
        match (known, value) {
            (Setting::Format, Some(value)) => self.format = parse_format(value)?,
            (Setting::Border, Some(value)) => self.border = parse_border(value),
            (Setting::Expanded, Some(value)) => {
                self.expanded = if value.eq_ignore_ascii_case("auto") {
                    Expanded::Auto
                } else {
                    match parse_bool(value) {
                        Some(true) => Expanded::On,
                        Some(false) => Expanded::Off,
                        None => {
                            return Err(PsetError::NotExpanded {
                                value: value.to_owned(),
                            })
                        }
                    }
                }
            }
            (Setting::Expanded, None) => {
                self.expanded = match self.expanded {
                    Expanded::Off => Expanded::On,
                    Expanded::On | Expanded::Auto => Expanded::Off,
                }
            }
            (Setting::Null, Some(value)) => self.null = value.to_owned(),
            (Setting::FieldSeparator, Some(value)) => {
                self.field_separator = Separator::Text(value.to_owned())
            }
            (Setting::FieldSeparatorZero, _) => self.field_separator = Separator::Zero,
            (Setting::RecordSeparator, Some(value)) => {
                self.record_separator = Separator::Text(value.to_owned())
            }
            (Setting::RecordSeparatorZero, _) => self.record_separator = Separator::Zero,
            (Setting::LineStyle, Some(value)) => self.line_style = parse_line_style(value)?,
            (Setting::CsvFieldSeparator, Some(value)) => {
                self.csv_field_separator = parse_csv_separator(value)?
            }
            (Setting::TuplesOnly, Some(value)) => {
                self.tuples_only = boolean("tuples_only", value)?;
                return Ok(None);
            }
            (Setting::TuplesOnly, None) => self.tuples_only = !self.tuples_only,
            (Setting::Footer, Some(value)) => {
                self.footer = boolean("footer", value)?;
                return Ok(None);
            }
            (Setting::Footer, None) => self.footer = !self.footer,
            (Setting::Title, value) => self.title = value.map(str::to_owned),
            (Setting::TableAttributes, value) => self.table_attributes = value.map(str::to_owned),
            (Setting::Pager, Some(value)) => {
                self.pager = if value.eq_ignore_ascii_case("always") {
                    Pager::Always
                } else {
                    match parse_bool(value) {
                        Some(true) => Pager::On,
                        Some(false) => Pager::Off,
                        None => {
                            return Err(PsetError::NotPager {
                                value: value.to_owned(),
                            })
                        }
                    }
                }
            }
            (Setting::Pager, None) => {
                self.pager = match self.pager {
                    Pager::On => Pager::Off,
                    Pager::Off | Pager::Always => Pager::On,
                }
            }
            (Setting::Other, value) => {
                return Err(PsetError::Unsupported {
                    option: option.to_owned(),
                    value: value.unwrap_or_default().to_owned(),
                })
            }
            (Setting::Format | Setting::Border | Setting::Null, None)
            | (Setting::FieldSeparator | Setting::RecordSeparator, None)
            | (Setting::CsvFieldSeparator | Setting::LineStyle, None) => {}
        }
        Ok(super::status::pset_status(option, self))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
