//! psql's rendering of server messages (errors, notices): what libpq's
//! `pqBuildErrorMessage3` builds and psql prints to stderr, including the `LINE n:` excerpt
//! with a `^` under the error position. psql reading a script from stdin prefixes nothing.
//!
//! ```
//! use spawn_sqltest::message::ServerMessage;
//! use spawn_sqltest::psql::report::{format_server_message, ShowContext, Verbosity};
//!
//! let message = ServerMessage {
//!     severity: "ERROR".into(),
//!     code: "42703".into(),
//!     message: "column \"nope\" does not exist".into(),
//!     position: Some(8),
//!     ..ServerMessage::default()
//! };
//! let mut out = String::new();
//! let query = "select nope;";
//! format_server_message(&mut out, &message, Verbosity::Default, ShowContext::Errors, Some(query));
//! assert_eq!(
//!     out,
//!     "ERROR:  column \"nope\" does not exist\nLINE 1: select nope;\n               ^\n"
//! );
//! ```

use crate::message::ServerMessage;
use crate::psql::print::width::char_width;

/// psql's `VERBOSITY` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Message, position excerpt, detail, hint, query, context.
    #[default]
    Default,
    /// Also the SQLSTATE, the schema/table/column/type/constraint names and the location.
    Verbose,
    /// The message only (a position as ` at character n`).
    Terse,
    /// The severity and SQLSTATE only.
    Sqlstate,
}

/// psql's `SHOW_CONTEXT` variable: when the `CONTEXT:` line is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowContext {
    /// Never.
    Never,
    /// For errors, not notices (psql's default).
    #[default]
    Errors,
    /// Always.
    Always,
}

/// Whether a message is an error (rather than a notice, warning, …), for [`ShowContext`].
fn is_error(message: &ServerMessage) -> bool {
    let severity = message
        .severity_nonlocalized
        .as_deref()
        .unwrap_or(&message.severity);
    matches!(severity, "ERROR" | "FATAL" | "PANIC")
}

/// Appends to `out` what psql prints for `message` (each line ends with a newline).
/// `query` is the query the message answers, used for the position excerpt; without it a
/// position is shown as ` at character n`.
pub fn format_server_message(
    out: &mut String,
    message: &ServerMessage,
    verbosity: Verbosity,
    show_context: ShowContext,
    query: Option<&str>,
) {
    out.push_str(&message.severity);
    out.push_str(":  ");
    let verbosity = match verbosity {
        Verbosity::Sqlstate if !message.code.is_empty() => {
            out.push_str(&message.code);
            out.push('\n');
            return;
        }
        Verbosity::Sqlstate => Verbosity::Terse,
        other => other,
    };
    if verbosity == Verbosity::Verbose && !message.code.is_empty() {
        out.push_str(&message.code);
        out.push_str(": ");
    }
    out.push_str(&message.message);
    let mut excerpt: Option<(&str, u32)> = None;
    let at_character = |out: &mut String, position: u32| {
        out.push_str(&format!(" at character {position}"));
    };
    if let Some(position) = message.position {
        match query {
            Some(query) if verbosity != Verbosity::Terse => excerpt = Some((query, position)),
            _ => at_character(out, position),
        }
    } else if let Some(position) = message.internal_position {
        match message.internal_query.as_deref() {
            Some(query) if verbosity != Verbosity::Terse => excerpt = Some((query, position)),
            _ => at_character(out, position),
        }
    }
    out.push('\n');
    if verbosity != Verbosity::Terse {
        if let Some((query, position)) = excerpt {
            position_excerpt(out, query, position);
        }
        push_field(out, "DETAIL", &message.detail);
        push_field(out, "HINT", &message.hint);
        push_field(out, "QUERY", &message.internal_query);
        let context_shown = match show_context {
            ShowContext::Always => true,
            ShowContext::Errors => is_error(message),
            ShowContext::Never => false,
        };
        if context_shown {
            push_field(out, "CONTEXT", &message.context);
        }
    }
    if verbosity == Verbosity::Verbose {
        push_field(out, "SCHEMA NAME", &message.schema);
        push_field(out, "TABLE NAME", &message.table);
        push_field(out, "COLUMN NAME", &message.column);
        push_field(out, "DATATYPE NAME", &message.datatype);
        push_field(out, "CONSTRAINT NAME", &message.constraint);
        if message.routine.is_some() || message.file.is_some() || message.line.is_some() {
            out.push_str("LOCATION:  ");
            if let Some(routine) = &message.routine {
                out.push_str(routine);
                out.push_str(", ");
            }
            if let (Some(file), Some(line)) = (&message.file, &message.line) {
                out.push_str(file);
                out.push(':');
                out.push_str(line);
            }
            out.push('\n');
        }
    }
}

/// Appends `LABEL:  value` and a newline when the field is present.
fn push_field(out: &mut String, label: &str, value: &Option<String>) {
    if let Some(value) = value {
        out.push_str(label);
        out.push_str(":  ");
        out.push_str(value);
        out.push('\n');
    }
}

/// Screen width of the excerpt's longest line before it is cut (libpq's `DISPLAY_SIZE`).
const DISPLAY_SIZE: usize = 60;
/// How far from the end of a cut line the position is kept (libpq's `MIN_RIGHT_CUT`).
const MIN_RIGHT_CUT: usize = 10;

/// Appends libpq's `LINE n: …` excerpt of the line holding the 1-based character `position`
/// of `query`, and a line with `^` under it; nothing when the position is out of range.
fn position_excerpt(out: &mut String, query: &str, position: u32) {
    let Some(location) = (position as usize).checked_sub(1) else {
        return;
    };
    // Per character up to the end of the position's line: its text (tabs as spaces) and its
    // starting screen column; one more entry marks the end.
    let mut texts: Vec<char> = Vec::new();
    let mut columns: Vec<usize> = Vec::new();
    let mut column = 0;
    let mut line_number = 1;
    let mut line_start = 0;
    let mut line_end = None;
    let mut previous = None;
    for (index, c) in query.chars().enumerate() {
        columns.push(column);
        let shown = if c == '\t' { ' ' } else { c };
        texts.push(shown);
        if c == '\r' || c == '\n' {
            if index < location {
                if c == '\r' || previous != Some('\r') {
                    line_number += 1;
                }
                line_start = index + 1;
            } else {
                line_end = Some(index);
                break;
            }
        }
        column += char_width(shown).filter(|w| *w > 0).unwrap_or(1);
        previous = Some(c);
    }
    let mut end = match line_end {
        Some(end) => end,
        None => {
            columns.push(column);
            texts.len()
        }
    };
    if location > texts.len() {
        return;
    }
    let mut start = line_start;
    let mut cut_start = false;
    let mut cut_end = false;
    if columns[end] - columns[start] > DISPLAY_SIZE {
        if columns[start] + DISPLAY_SIZE >= columns[location] + MIN_RIGHT_CUT {
            while columns[end] - columns[start] > DISPLAY_SIZE {
                end -= 1;
            }
            cut_end = true;
        } else {
            while columns[location] + MIN_RIGHT_CUT < columns[end] {
                end -= 1;
                cut_end = true;
            }
            while columns[end] - columns[start] > DISPLAY_SIZE {
                start += 1;
                cut_start = true;
            }
        }
    }
    let prefix = format!("LINE {line_number}: {}", if cut_start { "..." } else { "" });
    let prefix_width = prefix.chars().count();
    out.push_str(&prefix);
    out.extend(&texts[start..end]);
    if cut_end {
        out.push_str("...");
    }
    out.push('\n');
    let caret_column = prefix_width + columns[location] - columns[start];
    out.extend(std::iter::repeat_n(' ', caret_column));
    out.push_str("^\n");
}

#[cfg(test)]
mod tests;
