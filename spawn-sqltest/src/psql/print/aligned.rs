//! psql's aligned format (`print_aligned_text`): centred headers, padded cells, numeric
//! columns right-aligned, `+` marking continued lines, the `(N rows)` footer and a blank line.

use super::style::{Chars, Rule};
use super::width::{format, pad, Formatted};
use super::{Alignment, Table};

/// Appends a horizontal rule (`---+---`, `+---+---+` with border 2).
fn rule(out: &mut String, widths: &[usize], border: u16, chars: &Chars, which: Rule) {
    let rule = chars.rule(which);
    match border {
        1 => out.push_str(rule.line),
        2 => {
            out.push_str(rule.left);
            out.push_str(rule.line);
        }
        _ => {}
    }
    for (i, width) in widths.iter().enumerate() {
        for _ in 0..*width {
            out.push_str(rule.line);
        }
        if i + 1 < widths.len() {
            if border == 0 {
                out.push(' ');
            } else {
                out.push_str(rule.line);
                out.push_str(rule.middle);
                out.push_str(rule.line);
            }
        }
    }
    match border {
        1 => out.push_str(rule.line),
        2 => {
            out.push_str(rule.line);
            out.push_str(rule.right);
        }
        _ => {}
    }
    out.push('\n');
}

/// The width of the whole table, for centring the title.
fn total_width(widths: &[usize], border: u16) -> usize {
    let columns = widths.len();
    let frame = match border {
        0 => columns,
        1 => (columns * 3).saturating_sub(1),
        _ => columns * 3 + 1,
    };
    frame + widths.iter().sum::<usize>()
}

/// Appends the header lines (column names centred, `+` after a name that continues).
fn headers(out: &mut String, headers: &[Formatted], widths: &[usize], border: u16, chars: &Chars) {
    let last = headers.len().saturating_sub(1);
    let height = headers.iter().map(|h| h.lines.len()).max().unwrap_or(0);
    for line in 0..height {
        if border == 2 {
            out.push_str(chars.vertical);
        }
        for (i, header) in headers.iter().enumerate() {
            if border != 0 {
                out.push(' ');
            }
            match header.lines.get(line) {
                Some(text) => {
                    let spare = widths[i] - text.width;
                    pad(out, spare / 2);
                    out.push_str(&text.text);
                    pad(out, spare.div_ceil(2));
                }
                None => pad(out, widths[i]),
            }
            let continues = line + 1 < header.lines.len();
            out.push_str(if continues { chars.continues } else { " " });
            if border != 0 && i < last {
                out.push_str(chars.vertical);
            }
        }
        if border == 2 {
            out.push_str(chars.vertical);
        }
        out.push('\n');
    }
}

/// Appends one row: as many display lines as its tallest value.
fn row(out: &mut String, cells: &[Formatted], widths: &[usize], table: &Table, chars: &Chars) {
    let border = table.options.border.min(2);
    let last = cells.len().saturating_sub(1);
    let height = cells.iter().map(|c| c.lines.len()).max().unwrap_or(0);
    for line in 0..height {
        if border == 2 {
            out.push_str(chars.vertical);
        }
        for (j, cell) in cells.iter().enumerate() {
            let final_spaces = border == 2 || j < last;
            if border != 0 {
                out.push(' ');
            }
            let continues = line + 1 < cell.lines.len();
            match cell.lines.get(line) {
                Some(text) => {
                    let spare = widths[j] - text.width;
                    if table.alignments[j] == Alignment::Right {
                        pad(out, spare);
                        out.push_str(&text.text);
                    } else {
                        out.push_str(&text.text);
                        if final_spaces || continues {
                            pad(out, spare);
                        }
                    }
                }
                None => {
                    if final_spaces {
                        pad(out, widths[j]);
                    }
                }
            }
            if continues {
                out.push_str(chars.continues);
            } else if final_spaces {
                out.push(' ');
            }
            if border != 0 && j < last {
                out.push_str(chars.vertical);
            }
        }
        if border == 2 {
            out.push_str(chars.vertical);
        }
        out.push('\n');
    }
}

/// Appends `table` in the aligned format.
pub(crate) fn print(out: &mut String, table: &Table) {
    let border = table.options.border.min(2);
    let tuples_only = table.options.tuples_only;
    let chars = table.options.line_style.chars();
    let headers_formatted: Vec<Formatted> = table.headers.iter().map(|h| format(h)).collect();
    let rows: Vec<Vec<Formatted>> = table
        .cells
        .iter()
        .map(|cells| cells.iter().map(|c| format(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers_formatted.iter().map(Formatted::width).collect();
    for cells in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.width());
        }
    }

    if !tuples_only {
        if let Some(title) = &table.options.title {
            let title_width = format(title).width();
            let total = total_width(&widths, border);
            if title_width < total {
                pad(out, (total - title_width) / 2);
            }
            out.push_str(title);
            out.push('\n');
        }
        if border == 2 {
            rule(out, &widths, border, &chars, Rule::Top);
        }
        headers(out, &headers_formatted, &widths, border, &chars);
        rule(out, &widths, border, &chars, Rule::Middle);
    }
    if !widths.is_empty() {
        for cells in &rows {
            row(out, cells, &widths, table, &chars);
        }
    }
    if border == 2 {
        rule(out, &widths, border, &chars, Rule::Bottom);
    }
    if !tuples_only {
        if let Some(footer) = table.footer() {
            out.push_str(&footer);
            out.push('\n');
        }
    }
    out.push('\n');
}
