//! psql's unaligned format (`print_unaligned_text` and, with `\x`, `print_unaligned_vertical`):
//! values joined by the field separator, records by the record separator, no padding.

use super::options::Separator;
use super::Table;

/// Ends the output: psql ends the last record with a newline whatever the record separator,
/// except a zero byte when the separator is a zero byte.
fn finish(out: &mut String, record_separator: &Separator) {
    match record_separator {
        Separator::Zero => out.push('\0'),
        Separator::Text(_) => out.push('\n'),
    }
}

/// Appends `table` as psql's unaligned format: a header line, the rows, the footer.
pub(crate) fn print(out: &mut String, table: &Table) {
    let options = table.options;
    let mut need_record_separator = false;
    if !options.tuples_only {
        if let Some(title) = &options.title {
            out.push_str(title);
            options.record_separator.push_to(out);
        }
        for (i, header) in table.headers.iter().enumerate() {
            if i > 0 {
                options.field_separator.push_to(out);
            }
            out.push_str(header);
        }
        need_record_separator = true;
    }
    for cells in &table.cells {
        for (i, cell) in cells.iter().enumerate() {
            if need_record_separator {
                options.record_separator.push_to(out);
                need_record_separator = false;
            }
            out.push_str(cell);
            if i + 1 < cells.len() {
                options.field_separator.push_to(out);
            } else {
                need_record_separator = true;
            }
        }
    }
    if !options.tuples_only {
        if let Some(footer) = table.footer() {
            if need_record_separator {
                options.record_separator.push_to(out);
            }
            out.push_str(&footer);
            need_record_separator = true;
        }
    }
    if need_record_separator {
        finish(out, &options.record_separator);
    }
}

/// Appends `table` as psql's expanded unaligned format: `name|value` lines, records separated
/// by two record separators, no footer.
pub(crate) fn print_expanded(out: &mut String, table: &Table) {
    let options = table.options;
    let mut need_record_separator = false;
    if !options.tuples_only {
        if let Some(title) = &options.title {
            out.push_str(title);
            need_record_separator = true;
        }
    }
    for cells in &table.cells {
        for (i, (header, cell)) in table.headers.iter().zip(cells).enumerate() {
            if need_record_separator {
                options.record_separator.push_to(out);
                options.record_separator.push_to(out);
                need_record_separator = false;
            }
            out.push_str(header);
            options.field_separator.push_to(out);
            out.push_str(cell);
            if i + 1 < cells.len() {
                options.record_separator.push_to(out);
            } else {
                need_record_separator = true;
            }
        }
    }
    if need_record_separator {
        finish(out, &options.record_separator);
    }
}
