//! How psql reads a script: the queries it sends and the meta-commands it runs.
//!
//! [`Scanner`] follows psql's main loop over the script text, line by line: SQL goes into a
//! query buffer (leading whitespace and `--` comments dropped while the buffer is empty,
//! blank lines between SQL lines dropped), a `;` outside quotes, comments, parentheses and
//! `BEGIN … END` function bodies sends the buffer, and a backslash outside quotes starts a
//! meta-command that runs to the end of the line or a `\\`. The session drives it item by
//! item, because a meta-command can change variables or the `\if` state before the next
//! part is read.
//!
//! ```
//! use spawn_sqltest::psql::scan::{Item, Scanner};
//! use spawn_sqltest::psql::vars::Variables;
//!
//! let mut vars = Variables::new();
//! vars.set("n", Some("42")).unwrap();
//! let mut scanner = Scanner::new("-- setup\nselect :n, ':n';  select 2 \\gset p_\n");
//! let first = scanner.next(&vars, true).unwrap();
//! assert_eq!(first, Some(Item::Query { text: "select 42, ':n';".into(), line: 2 }));
//! match scanner.next(&vars, true).unwrap() {
//!     Some(Item::Meta { command, args, query, .. }) => {
//!         assert_eq!(command, "gset");
//!         assert_eq!(args[0].value, "p_");
//!         assert_eq!(query.as_deref(), Some("select 2 "));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(scanner.next(&vars, true).unwrap(), None);
//! ```

mod input;
mod interpolation;
mod quote;
mod slash;
mod sql;

use std::collections::VecDeque;

use crate::psql::meta::{self, MetaError};
use crate::psql::vars::Variables;
use input::Input;
use slash::ArgError;
pub use slash::MetaArg;
use sql::{SqlLexer, Stop};

/// What the session does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A query psql sends, exactly as it sends it (a trailing `;` included).
    Query {
        text: String,
        /// The script line (1-based) where the query starts.
        line: usize,
    },
    /// A backslash command.
    Meta {
        /// The name after the backslash (`echo`, `gset`, …).
        command: String,
        /// Its arguments. Those beyond what the command reads (see
        /// [`MetaCommand::parse`](crate::psql::meta::MetaCommand::parse)) are read the way
        /// psql reads them to warn about them: quotes removed, nothing interpolated.
        args: Vec<MetaArg>,
        /// The script line of the backslash.
        line: usize,
        /// For a command that sends the query buffer (`\g`, `\gx`, `\gset`, …) in an
        /// active branch: the query to send (the previous one when the buffer is empty,
        /// as psql does). `None` otherwise.
        query: Option<String>,
    },
    /// A message psql prints while reading (`unterminated quoted string`, `skipping
    /// recursive expansion of variable "v"`); it comes before the item it belongs to.
    Warning { message: String, line: usize },
}

/// A script psql would run but spawn test cannot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// A backquoted argument: psql would run it in a shell.
    #[error("line {line}: \\{command}: shell commands are not supported (backquoted argument); spawn test never runs a shell")]
    ShellCommand { command: String, line: usize },
    /// A meta-command spawn test does not support, or an unbalanced `\if`.
    #[error(transparent)]
    Meta(#[from] MetaError),
}

/// The query-buffer state saved at an `\if`, restored when an inactive branch ends.
///
/// psql keeps only the buffer's length, but its memory still holds the text, so even a
/// buffer emptied by a `;` in the inactive branch comes back: the text itself is saved here.
#[derive(Debug, Clone)]
struct Conditional {
    buffer: String,
    buffer_line: usize,
    paren_depth: usize,
    else_seen: bool,
}

/// Meta-commands that send the query buffer.
const QUERY_TERMINATORS: &[&str] = &["g", "gx", "gset", "gdesc", "gexec", "crosstabview", "watch"];

/// Reads a script the way `psql -X` reads it from standard input.
#[derive(Debug)]
pub struct Scanner {
    text: String,
    /// Byte offset of the next unread line.
    next_line_at: usize,
    /// The current line's number (1-based; 0 before the first).
    line: usize,
    input: Input,
    lexer: SqlLexer,
    buffer: String,
    buffer_line: usize,
    /// Where the newline between two lines was added, while nothing followed it.
    added_newline_at: Option<usize>,
    previous: String,
    conditionals: Vec<Conditional>,
    pending: VecDeque<Item>,
}

impl Scanner {
    /// A scanner over a whole script.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            next_line_at: 0,
            line: 0,
            input: Input::default(),
            lexer: SqlLexer::default(),
            buffer: String::new(),
            buffer_line: 0,
            added_newline_at: None,
            previous: String::new(),
            conditionals: Vec::new(),
            pending: VecDeque::new(),
        }
    }

    /// Follows the server's `standard_conforming_strings` (on by default): when off,
    /// `'…'` strings take backslash escapes like `E'…'`.
    pub fn set_standard_conforming_strings(&mut self, on: bool) {
        self.lexer.standard_strings = on;
    }

    /// Drops the rest of the current line, as psql does after a meta-command fails.
    pub fn discard_rest_of_line(&mut self) {
        slash::skip_line(&mut self.input);
    }

    /// The next query or meta-command, or `None` at the end of the script (where an
    /// unterminated query is still sent, as psql does for a script).
    ///
    /// `active` is false inside a false `\if` branch: psql then interpolates nothing and
    /// discards the SQL it reads, and the session acts only on `\if`, `\elif`, `\else`
    /// and `\endif` (the expression of an `\elif` is interpolated regardless, since psql
    /// evaluates it when no earlier branch was taken).
    pub fn next(&mut self, vars: &Variables, active: bool) -> Result<Option<Item>, ScanError> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            if self.input.line_done() && !self.read_line() {
                return Ok(self.finish(active));
            }
            let was_empty = self.buffer.is_empty();
            let mut warnings = Vec::new();
            let stop = self.lexer.lex(
                &mut self.input,
                &mut self.buffer,
                active.then_some(vars),
                &mut warnings,
            );
            if was_empty && !self.buffer.is_empty() {
                self.buffer_line = self.line;
            }
            for message in warnings {
                self.warn(message);
            }
            match stop {
                Stop::Semicolon => {
                    let text = std::mem::take(&mut self.buffer);
                    self.added_newline_at = None;
                    if active {
                        self.previous.clone_from(&text);
                        self.pending.push_back(Item::Query {
                            text,
                            line: self.buffer_line,
                        });
                    }
                }
                Stop::Backslash => self.meta_command(vars, active)?,
                Stop::EndOfLine => {}
            }
        }
    }

    fn warn(&mut self, message: String) {
        self.pending.push_back(Item::Warning {
            message,
            line: self.line,
        });
    }

    /// Starts the next non-skipped line; false at the end of the script.
    fn read_line(&mut self) -> bool {
        loop {
            if self.next_line_at >= self.text.len() {
                return false;
            }
            let rest = &self.text[self.next_line_at..];
            let (mut line, consumed) = match rest.find('\n') {
                Some(end) => (&rest[..end], end + 1),
                None => (rest, rest.len()),
            };
            self.next_line_at += consumed;
            self.line += 1;
            if self.line == 1 {
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            if line.is_empty() && !self.lexer.in_quote() {
                continue;
            }
            if self.buffer.is_empty() {
                self.added_newline_at = None;
            } else {
                self.buffer.push('\n');
                self.added_newline_at = Some(self.buffer.len());
            }
            self.input.start_line(line);
            return true;
        }
    }

    /// At the end of the script: the unterminated query, if any and active.
    fn finish(&mut self, active: bool) -> Option<Item> {
        if self.buffer.is_empty() {
            return None;
        }
        let text = std::mem::take(&mut self.buffer);
        if !active {
            return None;
        }
        self.previous.clone_from(&text);
        Some(Item::Query {
            text,
            line: self.buffer_line,
        })
    }

    /// Reads the meta-command after a backslash and queues it.
    fn meta_command(&mut self, vars: &Variables, active: bool) -> Result<(), ScanError> {
        let line = self.line;
        if self.added_newline_at == Some(self.buffer.len()) {
            self.buffer.pop();
        }
        self.added_newline_at = None;
        let command = slash::command_name(&mut self.input);
        let evaluated = (active || command == "elif").then_some(vars);
        let taken = meta::arguments_taken(&command);
        let mut args = Vec::new();
        loop {
            let vars = if args.len() < taken { evaluated } else { None };
            match slash::next_arg(&mut self.input, vars) {
                Ok(Some(arg)) => args.push(arg),
                Ok(None) => break,
                Err(ArgError::Unterminated) => {
                    self.warn("unterminated quoted string".to_owned());
                    break;
                }
                Err(ArgError::ShellCommand) => {
                    return Err(ScanError::ShellCommand { command, line });
                }
            }
        }
        slash::end_command(&mut self.input);
        self.track_conditional(&command, active);
        let query = (active && QUERY_TERMINATORS.contains(&command.as_str())).then(|| {
            let query = if self.buffer.is_empty() {
                self.previous.clone()
            } else {
                std::mem::take(&mut self.buffer)
            };
            self.previous.clone_from(&query);
            self.lexer.reset();
            query
        });
        self.pending.push_back(Item::Meta {
            command,
            args,
            line,
            query,
        });
        Ok(())
    }

    /// psql keeps the query text an active branch added and discards what an inactive
    /// branch added, when the branch ends.
    fn track_conditional(&mut self, command: &str, active: bool) {
        match command {
            "if" => self.conditionals.push(Conditional {
                buffer: self.buffer.clone(),
                buffer_line: self.buffer_line,
                paren_depth: self.lexer.paren_depth(),
                else_seen: false,
            }),
            "elif" | "else" => {
                let Some(mut frame) = self.conditionals.pop() else {
                    return;
                };
                if !frame.else_seen {
                    if active {
                        frame.buffer.clone_from(&self.buffer);
                        frame.buffer_line = self.buffer_line;
                        frame.paren_depth = self.lexer.paren_depth();
                    } else {
                        self.restore(&frame);
                    }
                    frame.else_seen = command == "else";
                }
                self.conditionals.push(frame);
            }
            "endif" => {
                if let Some(frame) = self.conditionals.pop() {
                    if !active {
                        self.restore(&frame);
                    }
                }
            }
            _ => {}
        }
    }

    fn restore(&mut self, frame: &Conditional) {
        self.buffer.clone_from(&frame.buffer);
        self.buffer_line = frame.buffer_line;
        self.lexer.set_paren_depth(frame.paren_depth);
    }
}

#[cfg(test)]
mod tests;
