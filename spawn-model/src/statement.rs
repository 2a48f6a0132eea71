//! How a migration runs ([`TransactionMode`]) and where its statements are ([`Statement`]),
//! as the build-time SQL analysis found them.

use serde::{Deserialize, Serialize};

/// How a migration is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransactionMode {
    /// The whole migration and its history row run in one transaction.
    Transactional,
    /// Opted out with `-- spawn:no-transaction` on the first line: statements run one by one,
    /// each committing on its own, progress is recorded after each, and a rerun resumes after
    /// the last one that succeeded.
    NoTransaction,
}

/// One statement of a rendered migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Statement {
    /// Byte offset of the statement's first token in the rendered SQL (leading whitespace
    /// and comments are not part of the statement).
    pub start: usize,
    /// Byte offset one past the statement's last token, before its terminating `;` (trailing
    /// whitespace and comments are not part of the statement).
    pub end: usize,
    /// 1-based line of `start` in the rendered SQL.
    pub line: u32,
}

impl Statement {
    /// The statement's text in `sql`, the SQL it was found in; `""` for a span outside it.
    #[must_use]
    pub fn text<'s>(&self, sql: &'s str) -> &'s str {
        sql.get(self.start..self.end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_the_span_or_nothing() {
        let sql = "SELECT 1;\nSELECT 2;";
        let second = Statement {
            start: 10,
            end: 18,
            line: 2,
        };
        assert_eq!(second.text(sql), "SELECT 2");
        let outside = Statement {
            start: 10,
            end: 99,
            line: 2,
        };
        assert_eq!(outside.text(sql), "");
    }
}
