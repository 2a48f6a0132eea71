//! The meta-command side of psql's lexer: a backslash command's name and its arguments
//! (whitespace-separated; `'…'` with `''` and backslash escapes; `"…"` kept with its
//! quotes; `:name`, `:'name'`, `:"name"`, `:{?name}` interpolated; backquotes refused).

use super::input::Input;
use super::interpolation::Interpolation;
use crate::psql::vars::Variables;

/// One argument of a meta-command, after quote removal and interpolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaArg {
    /// The argument's text.
    pub value: String,
    /// Whether any part of it was quoted or interpolated (`\echo` treats only an unquoted
    /// `-n` as its option).
    pub quoted: bool,
}

impl MetaArg {
    /// An unquoted argument.
    pub fn plain(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            quoted: false,
        }
    }
}

/// Why an argument could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgError {
    /// A quote was still open at the end of the line (the rest of the line is consumed).
    Unterminated,
    /// A backquoted shell command, which would have to run (spawn test never runs one).
    ShellCommand,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

/// The command name after the backslash: everything up to whitespace or a backslash.
pub(crate) fn command_name(input: &mut Input) -> String {
    let mut name = String::new();
    while input.rest().is_some() {
        let rest = input.top_rest();
        let len = rest
            .bytes()
            .position(|b| is_space(b) || b == b'\\')
            .unwrap_or(rest.len());
        let ended = len < rest.len();
        name.push_str(&rest[..len]);
        input.advance(len);
        if ended {
            break;
        }
    }
    name
}

/// The next argument, or `None` at the end of the command (end of line, or a backslash:
/// the `\\` separator or the next meta-command). `vars` is `None` when the command is not
/// evaluated (inactive `\if` branch): no interpolation, and backquotes are left alone.
pub(crate) fn next_arg(
    input: &mut Input,
    vars: Option<&Variables>,
) -> Result<Option<MetaArg>, ArgError> {
    loop {
        if input.rest().is_none() {
            return Ok(None);
        }
        let rest = input.top_rest();
        let spaces = rest.bytes().take_while(|&b| is_space(b)).count();
        if spaces == 0 {
            if rest.starts_with('\\') {
                return Ok(None);
            }
            break;
        }
        input.advance(spaces);
    }
    let mut value = Vec::new();
    let mut quoted = false;
    while input.rest().is_some() {
        let rest = input.top_rest();
        let s = rest.as_bytes();
        match s[0] {
            b if is_space(b) || b == b'\\' => break,
            b'\'' => {
                input.advance(1);
                single_quoted(input, &mut value)?;
                quoted = true;
            }
            quote @ (b'`' | b'"') => {
                let Some(close) = s[1..].iter().position(|&b| b == quote) else {
                    input.discard_line();
                    return Err(ArgError::Unterminated);
                };
                if quote == b'`' {
                    if vars.is_some() {
                        input.discard_line();
                        return Err(ArgError::ShellCommand);
                    }
                    value.extend_from_slice(&s[1..=close]);
                } else {
                    value.extend_from_slice(&s[..close + 2]);
                }
                input.advance(close + 2);
                quoted = true;
            }
            b':' => match Interpolation::parse(s) {
                Some(reference) => {
                    let len = reference.len();
                    match reference.render(rest, vars) {
                        Some(text) => value.extend_from_slice(text.as_bytes()),
                        None => value.extend_from_slice(&s[..len]),
                    }
                    if !matches!(reference, Interpolation::Defined { .. }) {
                        quoted = true;
                    }
                    input.advance(len);
                }
                None => {
                    value.push(b':');
                    input.advance(1);
                }
            },
            _ => {
                let len = char_len(rest);
                value.extend_from_slice(&s[..len]);
                input.advance(len);
            }
        }
    }
    if value.is_empty() && !quoted {
        return Ok(None);
    }
    Ok(Some(MetaArg {
        value: String::from_utf8_lossy(&value).into_owned(),
        quoted,
    }))
}

/// The rest of a `'…'` argument after its opening quote, unescaped into `out`.
fn single_quoted(input: &mut Input, out: &mut Vec<u8>) -> Result<(), ArgError> {
    while input.rest().is_some() {
        let rest = input.top_rest();
        let s = rest.as_bytes();
        let (len, bytes): (usize, Vec<u8>) = match s[0] {
            b'\'' if s.get(1) == Some(&b'\'') => (2, vec![b'\'']),
            b'\'' => {
                input.advance(1);
                return Ok(());
            }
            b'\\' => backslash_escape(&rest[1..]),
            _ => {
                let len = s
                    .iter()
                    .position(|&b| b == b'\'' || b == b'\\')
                    .unwrap_or(s.len());
                (len, s[..len].to_vec())
            }
        };
        out.extend_from_slice(&bytes);
        input.advance(len);
    }
    Err(ArgError::Unterminated)
}

/// A backslash escape inside `'…'` (`after` follows the backslash): its length including
/// the backslash, and the bytes it stands for.
fn backslash_escape(after: &str) -> (usize, Vec<u8>) {
    let s = after.as_bytes();
    let octal = s
        .iter()
        .take(3)
        .take_while(|b| (b'0'..=b'7').contains(b))
        .count();
    if octal > 0 {
        let code = s[..octal]
            .iter()
            .fold(0u32, |n, &d| n * 8 + u32::from(d - b'0'));
        return (1 + octal, vec![(code & 0xff) as u8]);
    }
    if s.first() == Some(&b'x') {
        let hex = s[1..]
            .iter()
            .take(2)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if hex > 0 {
            let code = u8::from_str_radix(&after[1..1 + hex], 16).unwrap_or(0);
            return (2 + hex, vec![code]);
        }
    }
    match s.first() {
        None => (1, vec![b'\\']),
        Some(b'\n') => (2, vec![b'\\', b'\n']),
        Some(b'n') => (2, vec![b'\n']),
        Some(b't') => (2, vec![b'\t']),
        Some(b'b') => (2, vec![b'\x08']),
        Some(b'r') => (2, vec![b'\r']),
        Some(b'f') => (2, vec![b'\x0c']),
        Some(_) => {
            let len = char_len(after);
            (1 + len, after.as_bytes()[..len].to_vec())
        }
    }
}

/// After the arguments: eats a `\\` separator, leaving a single backslash (the next
/// meta-command) for the SQL lexer.
pub(crate) fn end_command(input: &mut Input) {
    if input.rest().is_some_and(|rest| rest.starts_with("\\\\")) {
        input.advance(2);
    }
}

/// Consumes the rest of the line, as psql does after a failed meta-command.
pub(crate) fn skip_line(input: &mut Input) {
    input.discard_line();
}
