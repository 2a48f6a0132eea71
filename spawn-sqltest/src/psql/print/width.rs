//! Display widths and the visible form of a value, as psql computes them (`pg_wcsformat`):
//! a value splits into lines at newlines, tabs expand to the next multiple of 8 columns,
//! `\r` shows as `\r`, other control characters as `\xNN` (ASCII) or `\uNNNN`.

use std::fmt::Write;

use unicode_width::UnicodeWidthChar;

/// One display line of a value, in the form psql prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The text as printed.
    pub text: String,
    /// Its width in screen columns.
    pub width: usize,
}

/// A value (or header, or title) split into its display lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Formatted {
    /// At least one line.
    pub lines: Vec<Line>,
}

impl Formatted {
    /// The width of the widest line.
    pub fn width(&self) -> usize {
        self.lines.iter().map(|line| line.width).max().unwrap_or(0)
    }

    /// Whether the value spans more than one line.
    pub fn is_multiline(&self) -> bool {
        self.lines.len() > 1
    }
}

/// The screen width of one character for psql (`ucs_wcwidth`): `None` for control
/// characters, 0 for combining marks, 2 for East Asian wide characters, otherwise 1.
pub(crate) fn char_width(c: char) -> Option<usize> {
    if c == '\0' {
        return Some(0);
    }
    if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) {
        return None;
    }
    Some(UnicodeWidthChar::width(c).unwrap_or(1))
}

/// Splits `value` into display lines the way psql formats a cell.
pub(crate) fn format(value: &str) -> Formatted {
    let mut lines = Vec::new();
    let mut text = String::new();
    let mut width = 0;
    for c in value.chars() {
        match c {
            '\n' => {
                lines.push(Line {
                    text: std::mem::take(&mut text),
                    width,
                });
                width = 0;
            }
            '\r' => {
                text.push_str("\\r");
                width += 2;
            }
            '\t' => loop {
                text.push(' ');
                width += 1;
                if width % 8 == 0 {
                    break;
                }
            },
            _ => match char_width(c) {
                Some(char_width) => {
                    text.push(c);
                    width += char_width;
                }
                None if c.is_ascii() => {
                    // Writing to a String cannot fail.
                    let _ = write!(text, "\\x{:02X}", c as u32);
                    width += 4;
                }
                None => {
                    let _ = write!(text, "\\u{:04X}", c as u32);
                    width += 6;
                }
            },
        }
    }
    lines.push(Line { text, width });
    Formatted { lines }
}

/// Appends `count` spaces.
pub(crate) fn pad(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n(' ', count));
}
