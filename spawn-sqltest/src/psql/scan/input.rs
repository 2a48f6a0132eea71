//! The text the lexers read: the current script line, with the values of `:name`
//! variables pushed on top of it while they are being rescanned (as psql does).

/// One buffer being read: the script line, or an interpolated variable's value.
#[derive(Debug)]
struct Source {
    text: String,
    pos: usize,
    /// The variable whose value this is (`None` for the script line).
    variable: Option<String>,
}

/// A stack of buffers; lexing reads from the top one and tokens never span two.
#[derive(Debug, Default)]
pub(crate) struct Input {
    stack: Vec<Source>,
}

impl Input {
    /// Starts reading a new script line (any unread rest is dropped).
    pub(crate) fn start_line(&mut self, line: &str) {
        self.stack.clear();
        self.stack.push(Source {
            text: line.to_owned(),
            pos: 0,
            variable: None,
        });
    }

    /// Nothing left to read on this line (pushed values included).
    pub(crate) fn line_done(&self) -> bool {
        self.stack.iter().all(|s| s.pos >= s.text.len())
    }

    /// Drops everything left on this line.
    pub(crate) fn discard_line(&mut self) {
        self.stack.clear();
    }

    /// The unread text of the top buffer, after popping exhausted variable values; `None`
    /// at the end of the line.
    pub(crate) fn rest(&mut self) -> Option<&str> {
        while let Some(top) = self.stack.last() {
            if top.pos < top.text.len() {
                break;
            }
            // The script line ends the line; an exhausted variable value is popped.
            top.variable.as_ref()?;
            self.stack.pop();
        }
        self.stack.last().map(|top| &top.text[top.pos..])
    }

    /// The unread text of the top buffer without popping: empty at the end of any buffer.
    pub(crate) fn top_rest(&self) -> &str {
        self.stack.last().map_or("", |top| &top.text[top.pos..])
    }

    /// Consumes `len` bytes of the top buffer.
    pub(crate) fn advance(&mut self, len: usize) {
        if let Some(top) = self.stack.last_mut() {
            top.pos = (top.pos + len).min(top.text.len());
        }
    }

    /// Starts rescanning `value`, the value of `variable`.
    pub(crate) fn push_variable(&mut self, variable: &str, value: &str) {
        self.stack.push(Source {
            text: value.to_owned(),
            pos: 0,
            variable: Some(variable.to_owned()),
        });
    }

    /// True while `variable`'s value is being rescanned (a recursive expansion).
    pub(crate) fn is_expanding(&self, variable: &str) -> bool {
        self.stack
            .iter()
            .any(|s| s.variable.as_deref() == Some(variable))
    }
}
