//! psql's line styles (`\pset linestyle`): the characters tables are drawn with.

/// `\pset linestyle`: `ascii` (default) or `unicode` (single lines, psql's default
/// `unicode_*_linestyle`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineStyle {
    /// `-`, `|`, `+`, with `+` marking a continued value.
    #[default]
    Ascii,
    /// Box-drawing characters, with `↵` marking a continued value.
    Unicode,
}

/// Which horizontal rule of a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Above the header (border 2).
    Top,
    /// Between the header and the rows.
    Middle,
    /// Below the rows (border 2).
    Bottom,
}

/// The characters of one horizontal rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleChars {
    /// The line itself.
    pub line: &'static str,
    /// Where it meets the left border.
    pub left: &'static str,
    /// Where it crosses a column separator.
    pub middle: &'static str,
    /// Where it meets the right border.
    pub right: &'static str,
}

/// The characters a table is drawn with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chars {
    top: RuleChars,
    middle: RuleChars,
    bottom: RuleChars,
    /// Vertical lines between cells (and the left and right borders).
    pub vertical: &'static str,
    /// After a header or value line that continues on the next line.
    pub continues: &'static str,
}

impl Chars {
    /// The characters of a horizontal rule.
    pub fn rule(&self, rule: Rule) -> RuleChars {
        match rule {
            Rule::Top => self.top,
            Rule::Middle => self.middle,
            Rule::Bottom => self.bottom,
        }
    }
}

impl LineStyle {
    /// psql's name of the style.
    pub(crate) fn name(self) -> &'static str {
        match self {
            LineStyle::Ascii => "ascii",
            LineStyle::Unicode => "unicode",
        }
    }

    /// The characters of the style.
    pub(crate) fn chars(self) -> Chars {
        match self {
            LineStyle::Ascii => {
                let rule = RuleChars {
                    line: "-",
                    left: "+",
                    middle: "+",
                    right: "+",
                };
                Chars {
                    top: rule,
                    middle: rule,
                    bottom: rule,
                    vertical: "|",
                    continues: "+",
                }
            }
            LineStyle::Unicode => Chars {
                top: RuleChars {
                    line: "─",
                    left: "┌",
                    middle: "┬",
                    right: "┐",
                },
                middle: RuleChars {
                    line: "─",
                    left: "├",
                    middle: "┼",
                    right: "┤",
                },
                bottom: RuleChars {
                    line: "─",
                    left: "└",
                    middle: "┴",
                    right: "┘",
                },
                vertical: "│",
                continues: "↵",
            },
        }
    }
}
