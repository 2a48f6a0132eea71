//! The line of a migration's `up.sql` that a rendered line came from: found by its text (a
//! template line and the line it renders to are the same text unless it holds template
//! syntax), the nearest one where several lines have that text.

use std::collections::HashMap;

/// The lines of a migration's `up.sql` by their text (trailing blanks ignored), to find the
/// line of the source a rendered line came from in O(log n).
#[derive(Debug, Clone, Default)]
pub struct SourceLines<'s> {
    by_text: HashMap<&'s str, Vec<u32>>,
}

impl<'s> SourceLines<'s> {
    /// Indexes the lines of `source`.
    pub fn new(source: &'s str) -> Self {
        let mut by_text: HashMap<&str, Vec<u32>> = HashMap::new();
        for (text, n) in source.lines().zip(1u32..) {
            by_text.entry(text.trim_end()).or_default().push(n);
        }
        Self { by_text }
    }

    /// The line of the source that rendered as line `line` of `rendered` (its lines): the
    /// line with the same text, the closest one if several have it.
    pub fn line_of(&self, rendered: &[&str], line: u32) -> Option<u32> {
        let text = rendered.get(line.checked_sub(1)? as usize)?;
        self.line_of_text(text, line)
    }

    /// The line of the source whose text is `text` (trailing blanks ignored), the closest to
    /// line `near` if several are.
    pub fn line_of_text(&self, text: &str, near: u32) -> Option<u32> {
        let lines = self.by_text.get(text.trim_end())?;
        // `lines` is in ascending order: the closest is next to where `near` would go.
        let at = lines.partition_point(|&n| n < near);
        [at.checked_sub(1), Some(at)]
            .into_iter()
            .flatten()
            .filter_map(|i| lines.get(i).copied())
            .min_by_key(|n| n.abs_diff(near))
    }
}

#[cfg(test)]
mod tests {
    use super::SourceLines;

    #[test]
    fn the_nearest_line_with_the_text() {
        let source = "-- header\nSELECT 1;\n{% include \"a.sql\" %}\nSELECT 1;  \nSELECT 2;\n";
        let lines = SourceLines::new(source);
        // Rendered, the include took three lines: `SELECT 1;` at 6 is source line 4.
        let rendered = [
            "-- header",
            "SELECT 1;",
            "a",
            "b",
            "c",
            "SELECT 1;",
            "SELECT 2;",
        ];
        assert_eq!(lines.line_of(&rendered, 6), Some(4));
        assert_eq!(lines.line_of(&rendered, 2), Some(2));
        assert_eq!(lines.line_of_text("SELECT 2;", 7), Some(5));
        assert_eq!(lines.line_of_text("SELECT 3;", 7), None);
        assert_eq!(lines.line_of(&rendered, 0), None);
    }
}
