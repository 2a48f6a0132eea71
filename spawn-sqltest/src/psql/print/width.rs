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
    let code = c as u32;
    Some(match UnicodeWidthChar::width(c).unwrap_or(1) {
        0 if in_ranges(code, WIDE_IGNORABLE) => 2,
        0 if in_ranges(code, NOT_COMBINING_ZERO_WIDTH) => 1,
        2 if in_ranges(code, WIDE_SINCE_PSQL_15) => 1,
        width => width,
    })
}

/// Characters `unicode-width` gives no width that are no combining marks (Mn, Me): format
/// characters, Hangul medial and final jamo, tags, unassigned ignorables. psql 15 gives them 1.
const NOT_COMBINING_ZERO_WIDTH: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x061C, 0x061C),
    (0x1160, 0x11FF),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0xD7B0, 0xD7FF),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE00FF),
    (0xE01F0, 0xE0FFF),
];

/// Wide characters `unicode-width` gives no width (the Hangul filler, Vietnamese reading
/// marks): psql 15 gives them 2.
const WIDE_IGNORABLE: &[(u32, u32)] = &[(0x3164, 0x3164), (0x16FF0, 0x16FF1)];

/// Characters wide since Unicode 15 and 16 (new emoji, Yijing and Tai Xuan Jing symbols,
/// trigrams), which psql 15's Unicode 14 tables still count as 1.
const WIDE_SINCE_PSQL_15: &[(u32, u32)] = &[
    (0x2630, 0x2637),
    (0x268A, 0x268F),
    (0x2FFC, 0x2FFF),
    (0x31E4, 0x31E5),
    (0x31EF, 0x31EF),
    (0x4DC0, 0x4DFF),
    (0x16FF2, 0x16FF3),
    (0x1B132, 0x1B132),
    (0x1B155, 0x1B155),
    (0x1D300, 0x1D356),
    (0x1D360, 0x1D376),
    (0x1F6DC, 0x1F6DC),
    (0x1FA75, 0x1FA77),
    (0x1FA87, 0x1FA89),
    (0x1FA8F, 0x1FA8F),
    (0x1FAAD, 0x1FAAF),
    (0x1FABB, 0x1FABF),
    (0x1FAC6, 0x1FAC6),
    (0x1FACE, 0x1FACF),
    (0x1FADA, 0x1FADC),
    (0x1FADF, 0x1FADF),
    (0x1FAE8, 0x1FAE9),
    (0x1FAF7, 0x1FAF8),
];

fn in_ranges(code: u32, ranges: &[(u32, u32)]) -> bool {
    ranges
        .binary_search_by(|&(first, last)| {
            if last < code {
                std::cmp::Ordering::Less
            } else if first > code {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Display widths psql 15 gives these characters (captured with `select '|' || chr(n) || '|'`
    /// and the width of the rule under it): combining marks (Mn, Me) 0, format characters (Cf)
    /// and Hangul medial/final jamo 1, East Asian wide and fullwidth 2.
    const PSQL_WIDTHS: &[(u32, usize)] = &[
        (0xAD, 1),
        (0x300, 0),
        (0x34F, 0),
        (0x483, 0),
        (0x488, 0),
        (0x5BF, 0),
        (0x600, 1),
        (0x61C, 1),
        (0x7FD, 0),
        (0x1100, 2),
        (0x115F, 2),
        (0x1160, 1),
        (0x11A7, 1),
        (0x200B, 1),
        (0x200C, 1),
        (0x200D, 1),
        (0x200E, 1),
        (0x2028, 1),
        (0x2060, 1),
        (0x231A, 2),
        (0x2329, 2),
        (0x25FD, 2),
        (0x2614, 2),
        (0x2E80, 2),
        (0x3000, 2),
        (0x303F, 1),
        (0x3099, 0),
        (0x309A, 0),
        (0x3400, 2),
        (0xA960, 2),
        (0xAC00, 2),
        (0xD7A3, 2),
        (0xD7B0, 1),
        (0xE000, 1),
        (0xFE00, 0),
        (0xFE0F, 0),
        (0xFE10, 2),
        (0xFE30, 2),
        (0xFEFF, 1),
        (0xFF01, 2),
        (0xFF61, 1),
        (0xFFE0, 2),
        (0xFFF9, 1),
        (0xFFFD, 1),
        (0x1F1E6, 1),
        (0x1F300, 2),
        (0x1F3FB, 2),
        (0x1F600, 2),
        (0x1F64F, 2),
        (0x1F680, 2),
        (0x1F90C, 2),
        (0x1FA70, 2),
        (0x20000, 2),
        (0x2FFFD, 2),
        (0x30000, 2),
        (0xE0001, 1),
        (0xE0020, 1),
        (0xE0100, 0),
        (0xF0000, 1),
        (0x10FFFD, 1),
        (0x1D167, 0),
        (0x16FE4, 0),
        (0x1AFF0, 2),
        (0x1B000, 2),
        (0x1F004, 2),
        (0x1F0CF, 2),
        (0x1F18E, 2),
        (0x1F200, 2),
        (0x2E3B, 1),
        (0x4DC0, 1),
        (0x0E33, 1),
        (0x17B4, 0),
        (0x180E, 1),
        (0x0903, 1),
        (0x093E, 1),
        (0x1F3FF, 2),
        (0x2B50, 2),
        (0x26A1, 2),
        (0x2630, 1),
        (0x268A, 1),
        (0x1D300, 1),
        (0x1D360, 1),
        (0x3164, 2),
        (0xFFA0, 1),
        (0x2FFC, 1),
        (0x31E4, 1),
        (0x31EF, 1),
        (0x16FF0, 2),
        (0x3250, 2),
        (0x1BCA0, 1),
        (0x1D173, 1),
        (0x202A, 1),
        (0x206F, 1),
        (0xE0000, 1),
        (0xE007F, 1),
        (0xE01F0, 1),
        (0xFFF0, 1),
        (0x1F6DC, 1),
        (0x1FAE8, 1),
        (0x2FF0, 2),
        (0x1F10D, 1),
        (0x1F7E0, 2),
    ];

    #[test]
    fn char_widths_match_psql() {
        let mismatches: Vec<String> = PSQL_WIDTHS
            .iter()
            .filter_map(|(code, psql)| {
                let c = char::from_u32(*code).expect("a valid character");
                let ours = char_width(c);
                (ours != Some(*psql)).then(|| format!("U+{code:04X}: psql {psql}, spawn {ours:?}"))
            })
            .collect();
        assert!(mismatches.is_empty(), "{mismatches:#?}");
    }

    #[test]
    fn control_characters_have_no_width() {
        assert_eq!(char_width('\u{1}'), None);
        assert_eq!(char_width('\u{7f}'), None);
        assert_eq!(char_width('\u{9f}'), None);
        assert_eq!(char_width('\u{a0}'), Some(1));
    }
}
