//! psql's csv format (`print_csv_text` and, with `\x`, `print_csv_vertical`): a header line
//! (unless tuples only), values quoted when needed, no title and no footer.

use super::Table;

/// Appends `field`, quoted (`"` doubled) when it holds the separator, a quote, a carriage
/// return or newline, is exactly `\.`, or when the separator is `\` or `.` (so no line reads
/// as COPY's end-of-data marker).
fn push_field(out: &mut String, field: &str, separator: char) {
    let quoted = field.contains(separator)
        || field.contains(['\r', '\n', '"'])
        || field == "\\."
        || separator == '\\'
        || separator == '.';
    if quoted {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Appends `table` in the csv format.
pub(crate) fn print(out: &mut String, table: &Table) {
    let separator = table.options.csv_field_separator;
    if !table.options.tuples_only {
        for (i, header) in table.headers.iter().enumerate() {
            if i > 0 {
                out.push(separator);
            }
            push_field(out, header, separator);
        }
        out.push('\n');
    }
    for cells in &table.cells {
        for (i, cell) in cells.iter().enumerate() {
            push_field(out, cell, separator);
            out.push(if i + 1 < cells.len() { separator } else { '\n' });
        }
    }
}

/// Appends `table` in the expanded csv format: a `name,value` line per column of each row.
pub(crate) fn print_expanded(out: &mut String, table: &Table) {
    let separator = table.options.csv_field_separator;
    for cells in &table.cells {
        for (header, cell) in table.headers.iter().zip(cells) {
            push_field(out, header, separator);
            out.push(separator);
            push_field(out, cell, separator);
            out.push('\n');
        }
    }
}
