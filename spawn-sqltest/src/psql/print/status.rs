//! What psql prints about its `\pset` state: the status line after a `\pset` or `\x`
//! (when `QUIET` is off) and the listing of `\pset` without arguments.

use super::options::{lookup, Expanded, Pager, PrintOptions, Separator, Setting};

/// The line psql prints for `\pset option` when `QUIET` is off (e.g. `Border style is 2.`),
/// or `None` for an option it does not know.
///
/// ```
/// use spawn_sqltest::psql::print::{pset_status, PrintOptions};
///
/// let options = PrintOptions::default();
/// assert_eq!(pset_status("x", &options).as_deref(), Some("Expanded display is off."));
/// ```
pub fn pset_status(option: &str, options: &PrintOptions) -> Option<String> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    Some(match lookup(option)? {
        Setting::Format => format!("Output format is {}.", options.format.name()),
        Setting::Border => format!("Border style is {}.", options.border),
        Setting::Expanded => match options.expanded {
            Expanded::On => "Expanded display is on.".to_owned(),
            Expanded::Off => "Expanded display is off.".to_owned(),
            Expanded::Auto => "Expanded display is used automatically.".to_owned(),
        },
        Setting::Null => format!("Null display is \"{}\".", options.null),
        Setting::FieldSeparator | Setting::FieldSeparatorZero => match &options.field_separator {
            Separator::Zero => "Field separator is zero byte.".to_owned(),
            Separator::Text(text) => format!("Field separator is \"{text}\"."),
        },
        Setting::RecordSeparator | Setting::RecordSeparatorZero => {
            match &options.record_separator {
                Separator::Zero => "Record separator is zero byte.".to_owned(),
                Separator::Text(text) if text == "\n" => {
                    "Record separator is <newline>.".to_owned()
                }
                Separator::Text(text) => format!("Record separator is \"{text}\"."),
            }
        }
        Setting::CsvFieldSeparator => format!(
            "Field separator for CSV is \"{}\".",
            options.csv_field_separator
        ),
        Setting::LineStyle => format!("Line style is {}.", options.line_style.name()),
        Setting::TuplesOnly => format!("Tuples only is {}.", on_off(options.tuples_only)),
        Setting::Footer => format!("Default footer is {}.", on_off(options.footer)),
        Setting::Title => match &options.title {
            Some(title) => format!("Title is \"{title}\"."),
            None => "Title is unset.".to_owned(),
        },
        Setting::TableAttributes => match &options.table_attributes {
            Some(attributes) => format!("Table attributes are \"{attributes}\"."),
            None => "Table attributes unset.".to_owned(),
        },
        Setting::Pager => match options.pager {
            Pager::Off => "Pager usage is off.".to_owned(),
            Pager::On => "Pager is used for long output.".to_owned(),
            Pager::Always => "Pager is always used.".to_owned(),
        },
        Setting::Other => return None,
    })
}

/// psql's quoting of a value in the `\pset` listing: single quotes, `'` and newline escaped
/// with a backslash.
fn listing_quoted(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for c in value.chars() {
        match c {
            '\n' => quoted.push_str("\\n"),
            '\'' => quoted.push_str("\\'"),
            other => quoted.push(other),
        }
    }
    quoted.push('\'');
    quoted
}

/// What psql prints for `\pset` without arguments: every option and its value, one a line
/// (options spawn does not reproduce show psql's defaults).
///
/// ```
/// use spawn_sqltest::psql::print::{pset_listing, PrintOptions};
///
/// let listing = pset_listing(&PrintOptions::default());
/// assert!(listing.starts_with("border                   1\ncolumns                  0\n"));
/// ```
pub fn pset_listing(options: &PrintOptions) -> String {
    let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
    let separator = |separator: &Separator| match separator {
        Separator::Text(text) => (listing_quoted(text), on_off(false)),
        Separator::Zero => (listing_quoted(""), on_off(true)),
    };
    let optional =
        |value: &Option<String>| value.as_deref().map(listing_quoted).unwrap_or_default();
    let (fieldsep, fieldsep_zero) = separator(&options.field_separator);
    let (recordsep, recordsep_zero) = separator(&options.record_separator);
    let entries = [
        ("border", options.border.to_string()),
        ("columns", "0".to_owned()),
        (
            "csv_fieldsep",
            listing_quoted(&options.csv_field_separator.to_string()),
        ),
        (
            "expanded",
            match options.expanded {
                Expanded::Off => "off",
                Expanded::On => "on",
                Expanded::Auto => "auto",
            }
            .to_owned(),
        ),
        ("fieldsep", fieldsep),
        ("fieldsep_zero", fieldsep_zero),
        ("footer", on_off(options.footer)),
        ("format", options.format.name().to_owned()),
        ("linestyle", options.line_style.name().to_owned()),
        ("null", listing_quoted(&options.null)),
        ("numericlocale", on_off(false)),
        (
            "pager",
            match options.pager {
                Pager::Off => "0",
                Pager::On => "1",
                Pager::Always => "2",
            }
            .to_owned(),
        ),
        ("pager_min_lines", "0".to_owned()),
        ("recordsep", recordsep),
        ("recordsep_zero", recordsep_zero),
        ("tableattr", optional(&options.table_attributes)),
        ("title", optional(&options.title)),
        ("tuples_only", on_off(options.tuples_only)),
        ("unicode_border_linestyle", "single".to_owned()),
        ("unicode_column_linestyle", "single".to_owned()),
        ("unicode_header_linestyle", "single".to_owned()),
    ];
    entries
        .iter()
        .map(|(name, value)| format!("{name:<24} {value}\n"))
        .collect()
}
