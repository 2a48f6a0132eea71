//! Byte offsets → 1-based line and column numbers.
//!
//! Lines end at `\n` (so CRLF input counts lines like LF input); columns count characters,
//! not bytes, from the start of the line. A leading byte-order mark is not part of line 1.

/// Line starts of one text, for turning byte offsets into positions.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts; `starts[0]` is the start of line 1.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`, whose first line starts at byte `first_line_start` (after a BOM).
    pub(crate) fn new(text: &'a str, first_line_start: usize) -> Self {
        let mut starts = vec![first_line_start];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { text, starts }
    }

    /// 0-based index into `starts` of the line containing `offset`.
    fn line_index(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// 1-based line of the byte at `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        to_u32(self.line_index(offset) + 1)
    }

    /// 1-based line and column (in characters) of the byte at `offset`.
    pub(crate) fn line_column(&self, offset: usize) -> (u32, u32) {
        let index = self.line_index(offset);
        let line_start = self.starts[index].min(offset);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |prefix| prefix.chars().count());
        (to_u32(index + 1), to_u32(column + 1))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn lines_and_columns() {
        let text = "ab\ncd\n\nef";
        let index = LineIndex::new(text, 0);
        assert_eq!(index.line_column(0), (1, 1));
        assert_eq!(index.line_column(1), (1, 2));
        assert_eq!(index.line_column(2), (1, 3)); // the newline itself
        assert_eq!(index.line_column(3), (2, 1));
        assert_eq!(index.line_column(6), (3, 1));
        assert_eq!(index.line_column(8), (4, 2));
        assert_eq!(index.line_column(9), (4, 3)); // end of text
        assert_eq!(index.line(4), 2);
    }

    #[test]
    fn columns_count_characters() {
        let text = "é€x\n😀y";
        let index = LineIndex::new(text, 0);
        assert_eq!(index.line_column(text.find('x').unwrap()), (1, 3));
        assert_eq!(index.line_column(text.find('y').unwrap()), (2, 2));
    }

    #[test]
    fn crlf_counts_one_line_per_break() {
        let text = "a\r\nb\r\nc";
        let index = LineIndex::new(text, 0);
        assert_eq!(index.line_column(3), (2, 1));
        assert_eq!(index.line_column(6), (3, 1));
    }

    #[test]
    fn bom_is_not_a_column() {
        let text = "\u{feff}ab";
        let index = LineIndex::new(text, 3);
        assert_eq!(index.line_column(3), (1, 1));
        assert_eq!(index.line_column(4), (1, 2));
    }
}
