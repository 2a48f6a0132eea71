//! psql's expanded aligned format (`print_aligned_vertical`, `\x`): one block per row under a
//! `-[ RECORD n ]-` line, a line per column with the name left and the value right.

use super::style::{Chars, Rule};
use super::width::{format, pad, Formatted};
use super::{Format, Table};

/// Appends a record line: `-[ RECORD 3 ]-+----` (border 1), `* Record 3` (border 0),
/// `+-[ RECORD 3 ]-+---+` (border 2), or a plain rule when `record` is `None`.
fn record_line(out: &mut String, line: RecordLine, name_width: usize, value_width: usize) {
    let RecordLine {
        border,
        record,
        chars,
        rule,
    } = line;
    let rule = chars.rule(rule);
    let fill = if border > 0 { rule.line } else { " " };
    match border {
        2 => {
            out.push_str(rule.left);
            out.push_str(rule.line);
        }
        1 => out.push_str(rule.line),
        _ => {}
    }
    let mut used = match record {
        Some(number) if border == 0 => {
            let label = format!("* Record {number}");
            out.push_str(&label);
            label.len() as isize
        }
        Some(number) => {
            let label = format!("[ RECORD {number} ]");
            out.push_str(&label);
            label.len() as isize
        }
        None => 0,
    };
    if border != 2 {
        used += 1;
    }
    for _ in used.max(0)..name_width as isize {
        out.push_str(fill);
    }
    used -= name_width as isize;
    let mut take = || {
        let free = used <= 0;
        used -= 1;
        free
    };
    if border > 0 {
        if take() {
            out.push_str(rule.line);
        }
        if take() {
            out.push_str(rule.middle);
        }
        if take() {
            out.push_str(rule.line);
        }
    } else if take() {
        out.push(' ');
    }
    for _ in used.max(0)..value_width as isize {
        out.push_str(fill);
    }
    if border == 2 {
        out.push_str(rule.line);
        out.push_str(rule.right);
    }
    out.push('\n');
}

/// What a record line shows and how.
#[derive(Clone, Copy)]
struct RecordLine {
    border: u16,
    /// The record's number, or `None` for a plain rule.
    record: Option<usize>,
    chars: Chars,
    rule: Rule,
}

/// Appends one column of one record: its name and value, line by line.
fn field(out: &mut String, header: &Formatted, value: &Formatted, layout: &Layout) {
    let Layout {
        border,
        chars,
        name_width,
        value_width,
        names_multiline,
        values_multiline,
    } = *layout;
    let mut header_lines = header.lines.iter().peekable();
    let mut value_lines = value.lines.iter().peekable();
    while header_lines.peek().is_some() || value_lines.peek().is_some() {
        if border == 2 {
            out.push_str(chars.vertical);
        }
        match header_lines.next() {
            Some(line) => {
                if border == 2 {
                    out.push(' ');
                }
                out.push_str(&line.text);
                pad(out, name_width.saturating_sub(line.width));
                if border > 0 || names_multiline {
                    out.push_str(if header_lines.peek().is_some() {
                        chars.continues
                    } else {
                        " "
                    });
                }
            }
            None => {
                let mut width = name_width + usize::from(border);
                if border == 0 && names_multiline {
                    width += 1;
                }
                // C's "%*s" of " " prints at least the one space.
                pad(out, width.max(1));
            }
        }
        if border > 0 {
            out.push_str(chars.vertical);
        }
        match value_lines.next() {
            Some(line) => {
                out.push(' ');
                out.push_str(&line.text);
                let spare = value_width.saturating_sub(line.width);
                if value_lines.peek().is_some() {
                    if border > 1 || values_multiline {
                        pad(out, spare);
                        out.push_str(chars.continues);
                    }
                } else if border > 1 {
                    pad(out, spare);
                    out.push(' ');
                }
                if border == 2 {
                    out.push_str(chars.vertical);
                }
                out.push('\n');
            }
            None => {
                if border < 2 {
                    out.push('\n');
                } else {
                    pad(out, value_width.max(1));
                    out.push_str("  ");
                    out.push_str(chars.vertical);
                    out.push('\n');
                }
            }
        }
    }
}

/// The widths and characters every line of a table shares.
#[derive(Clone, Copy)]
struct Layout {
    border: u16,
    chars: Chars,
    name_width: usize,
    value_width: usize,
    names_multiline: bool,
    values_multiline: bool,
}

/// Appends `table` in the expanded aligned format.
pub(crate) fn print(out: &mut String, table: &Table) {
    let border = table.options.border.min(2);
    let tuples_only = table.options.tuples_only;
    if table.headers.is_empty() || table.cells.is_empty() {
        if !tuples_only {
            if let Some(footer) = table.footer() {
                out.push_str(&footer);
                out.push('\n');
            }
        }
        out.push('\n');
        return;
    }
    let headers: Vec<Formatted> = table.headers.iter().map(|h| format(h)).collect();
    let rows: Vec<Vec<Formatted>> = table
        .cells
        .iter()
        .map(|cells| cells.iter().map(|c| format(c)).collect())
        .collect();
    let name_width = headers.iter().map(Formatted::width).max().unwrap_or(0);
    let names_multiline = headers.iter().any(Formatted::is_multiline);
    let cells = rows.iter().flatten();
    let data_width = cells.clone().map(Formatted::width).max().unwrap_or(0);
    let values_multiline = cells.clone().any(Formatted::is_multiline);

    if !tuples_only {
        if let Some(title) = &table.options.title {
            out.push_str(title);
            out.push('\n');
        }
    }

    let mut spacing = match border {
        0 => 1 + usize::from(names_multiline),
        1 => 3,
        _ => 7,
    };
    if values_multiline && border < 2 {
        spacing += 1;
    }
    // psql 15 widens the value column to the record lines' width in the wrapped format only.
    let record_width = if tuples_only || table.options.format != Format::Wrapped {
        0
    } else {
        let digits = table.cells.len().to_string().len();
        digits
            + match border {
                0 => 9,
                1 => 12,
                _ => 15,
            }
    };
    let value_width = (name_width + spacing + data_width).max(record_width) - name_width - spacing;

    let chars = table.options.line_style.chars();
    let layout = Layout {
        border,
        chars,
        name_width,
        value_width,
        names_multiline,
        values_multiline,
    };
    for (index, cells) in rows.iter().enumerate() {
        let line = RecordLine {
            border,
            record: (!tuples_only).then_some(index + 1),
            chars,
            rule: if index == 0 { Rule::Top } else { Rule::Middle },
        };
        if !tuples_only || index != 0 || border == 2 {
            record_line(out, line, name_width, value_width);
        }
        for (header, value) in headers.iter().zip(cells) {
            field(out, header, value, &layout);
        }
    }
    if border == 2 {
        let line = RecordLine {
            border,
            record: None,
            chars,
            rule: Rule::Bottom,
        };
        record_line(out, line, name_width, value_width);
    }
    out.push('\n');
}
