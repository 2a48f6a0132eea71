//! The SQL side of psql's lexer: copies SQL text into the query buffer, tracking quotes,
//! comments, parentheses and `BEGIN … END` bodies to find the `;` that ends a statement,
//! interpolating `:name`, `:'name'`, `:"name"` and `:{?name}`, and stopping at a
//! backslash that starts a meta-command.

use super::input::Input;
use super::interpolation::Interpolation;
use crate::psql::vars::Variables;

/// Why lexing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A statement-ending `;` (copied into the buffer).
    Semicolon,
    /// A `\` that starts a meta-command (consumed, not copied).
    Backslash,
    /// The end of the line.
    EndOfLine,
}

/// Which quoted string the lexer is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// `'…'`, `U&'…'`, `B'…'`, `X'…'`: only `'` is special.
    Plain,
    /// `E'…'`: a backslash escapes the next character.
    Escape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Initial,
    BlockComment {
        depth: usize,
    },
    Quoted(Quote),
    /// Just after a closing quote: a newline and another quote continue the string.
    QuoteEnd(Quote),
    DoubleQuoted,
    Dollar {
        tag: String,
    },
}

/// What one step does with the text it consumed.
enum Emit {
    /// Copy it.
    Echo,
    /// Copy it unless the buffer is still empty (whitespace and `--` comments).
    EchoUnlessEmpty,
    /// Write this instead.
    Text(String),
    /// Rescan this variable's value.
    Expand { name: String, value: String },
}

struct Step {
    len: usize,
    emit: Emit,
    stop: Option<Stop>,
}

impl Step {
    fn echo(len: usize) -> Self {
        Self {
            len,
            emit: Emit::Echo,
            stop: None,
        }
    }
}

/// The lexer's state across lines and statements.
#[derive(Debug, Clone)]
pub(crate) struct SqlLexer {
    state: State,
    paren_depth: usize,
    begin_depth: usize,
    identifier_count: usize,
    /// First letters of the leading `CREATE`/`OR`/`REPLACE`/`FUNCTION`/`PROCEDURE` words.
    identifiers: [u8; 4],
    /// `standard_conforming_strings`: when off, `'…'` takes backslash escapes.
    pub(crate) standard_strings: bool,
}

impl Default for SqlLexer {
    fn default() -> Self {
        Self {
            state: State::Initial,
            paren_depth: 0,
            begin_depth: 0,
            identifier_count: 0,
            identifiers: [0; 4],
            standard_strings: true,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

pub(crate) fn is_variable_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

fn is_ident_cont(b: u8) -> bool {
    is_variable_char(b) || b == b'$'
}

/// Length of the run of bytes at the start of `s` satisfying `pred`.
pub(crate) fn run(s: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&b| !pred(b)).unwrap_or(s.len())
}

/// `$tag$` or `$$` at the start of `s`: its length.
fn dollar_delimiter(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'$') {
        return None;
    }
    let tag = if s.get(1).is_some_and(|&b| is_ident_start(b)) {
        1 + run(&s[1..], is_variable_char)
    } else {
        1
    };
    (s.get(tag) == Some(&b'$')).then_some(tag + 1)
}

/// A quote continuation after a closing quote: whitespace with a newline, then `'`.
fn quote_continuation(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        match s.get(i) {
            Some(b' ' | b'\t' | b'\x0c') => i += 1,
            Some(b'-') if s.get(i + 1) == Some(&b'-') => {
                i += run(&s[i..], |b| b != b'\n' && b != b'\r');
            }
            _ => break,
        }
    }
    if !matches!(s.get(i), Some(b'\n' | b'\r')) {
        return None;
    }
    i += 1;
    loop {
        match s.get(i) {
            Some(&b) if is_space(b) => i += 1,
            Some(b'-') if s.get(i + 1) == Some(&b'-') => {
                i += run(&s[i..], |b| b != b'\n' && b != b'\r');
                if !matches!(s.get(i), Some(b'\n' | b'\r')) {
                    return None;
                }
                i += 1;
            }
            _ => break,
        }
    }
    (s.get(i) == Some(&b'\'')).then_some(i + 1)
}

/// `end`, extended over an identifier glued there (psql 15's "trailing junk" rules take
/// it into the number's token).
fn with_glued_identifier(s: &[u8], end: usize) -> usize {
    match s.get(end) {
        Some(&b) if is_ident_start(b) => end + run(&s[end..], is_ident_cont),
        _ => end,
    }
}

/// Length of the numeric token at the start of `s` (which starts with a digit): the
/// longest of psql 15's number rules, junk forms included. So `1e1$$` is one token (no
/// dollar quote), `1E'…'` is not an E'' string, and `1e-` is taken whole (so `1e--x`
/// holds no comment).
fn number(s: &[u8]) -> usize {
    let digits = run(s, |b| b.is_ascii_digit());
    let mut longest = with_glued_identifier(s, digits);
    let mut end = digits;
    if s.get(end) == Some(&b'.') && s.get(end + 1) != Some(&b'.') {
        end += 1 + run(&s[end + 1..], |b| b.is_ascii_digit());
        longest = longest.max(with_glued_identifier(s, end));
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        if s.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
            let real = end + 1 + sign + run(&s[end + 1 + sign..], |b| b.is_ascii_digit());
            longest = longest.max(with_glued_identifier(s, real));
        } else if sign == 1 {
            longest = longest.max(end + 2);
        }
    }
    longest.max(end)
}

/// Length of the character starting `s` (at least one byte when `s` is not empty).
fn char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

impl SqlLexer {
    /// psql's `psql_scan_reset`: back to a clean state (after a forced send like `\g`).
    pub(crate) fn reset(&mut self) {
        let standard_strings = self.standard_strings;
        *self = Self {
            standard_strings,
            ..Self::default()
        };
    }

    /// Inside a quoted string, quoted identifier, dollar quote or block comment.
    pub(crate) fn in_quote(&self) -> bool {
        !matches!(self.state, State::Initial | State::QuoteEnd(_))
    }

    pub(crate) fn paren_depth(&self) -> usize {
        self.paren_depth
    }

    pub(crate) fn set_paren_depth(&mut self, depth: usize) {
        self.paren_depth = depth;
    }

    /// Lexes from `input` into `buf` until a statement-ending `;`, a meta-command's
    /// backslash or the end of the line. `vars` is `None` in an inactive `\if` branch
    /// (no interpolation); `warnings` receives psql's lexer warnings.
    pub(crate) fn lex(
        &mut self,
        input: &mut Input,
        buf: &mut String,
        vars: Option<&Variables>,
        warnings: &mut Vec<String>,
    ) -> Stop {
        loop {
            if input.rest().is_none() {
                if let State::QuoteEnd(_) = self.state {
                    self.state = State::Initial;
                }
                return Stop::EndOfLine;
            }
            let rest = input.top_rest();
            let step = self.step(rest, vars, input, warnings);
            let consumed = &rest[..step.len];
            match step.emit {
                Emit::Echo => buf.push_str(consumed),
                Emit::EchoUnlessEmpty => {
                    if !buf.is_empty() {
                        buf.push_str(consumed);
                    }
                }
                Emit::Text(text) => buf.push_str(&text),
                Emit::Expand { name, value } => {
                    input.advance(step.len);
                    input.push_variable(&name, &value);
                    continue;
                }
            }
            input.advance(step.len);
            if let Some(stop) = step.stop {
                return stop;
            }
        }
    }

    /// One token of `rest` (non-empty) in the current state.
    fn step(
        &mut self,
        rest: &str,
        vars: Option<&Variables>,
        input: &Input,
        warnings: &mut Vec<String>,
    ) -> Step {
        let s = rest.as_bytes();
        match &self.state {
            State::Initial => self.initial(rest, vars, input, warnings),
            State::BlockComment { depth } => {
                let depth = *depth;
                if s[0] == b'*' {
                    let stars = run(s, |b| b == b'*');
                    if s.get(stars) == Some(&b'/') {
                        self.state = match depth {
                            0 => State::Initial,
                            d => State::BlockComment { depth: d - 1 },
                        };
                        return Step::echo(stars + 1);
                    }
                    return Step::echo(stars);
                }
                if s.starts_with(b"/*") {
                    self.state = State::BlockComment { depth: depth + 1 };
                    return Step::echo(2);
                }
                Step::echo(run(s, |b| b != b'*' && b != b'/').max(1))
            }
            State::Quoted(kind) => {
                let kind = *kind;
                if s.starts_with(b"''") {
                    return Step::echo(2);
                }
                if s[0] == b'\'' {
                    self.state = State::QuoteEnd(kind);
                    return Step::echo(1);
                }
                if kind == Quote::Escape && s[0] == b'\\' {
                    return Step::echo(1 + char_len(&rest[1..]));
                }
                let special = |b| b == b'\'' || (kind == Quote::Escape && b == b'\\');
                Step::echo(run(s, |b| !special(b)))
            }
            State::QuoteEnd(kind) => {
                let kind = *kind;
                match quote_continuation(s) {
                    Some(len) => {
                        self.state = State::Quoted(kind);
                        Step::echo(len)
                    }
                    None => {
                        self.state = State::Initial;
                        self.initial(rest, vars, input, warnings)
                    }
                }
            }
            State::DoubleQuoted => {
                if s.starts_with(b"\"\"") {
                    return Step::echo(2);
                }
                if s[0] == b'"' {
                    self.state = State::Initial;
                    return Step::echo(1);
                }
                Step::echo(run(s, |b| b != b'"'))
            }
            State::Dollar { tag } => {
                if s[0] != b'$' {
                    return Step::echo(run(s, |b| b != b'$'));
                }
                if let Some(len) = dollar_delimiter(s) {
                    if &rest[..len] == tag {
                        self.state = State::Initial;
                        return Step::echo(len);
                    }
                    // `$junk$` is text; its last `$` may start the closing delimiter.
                    return Step::echo(len - 1);
                }
                Step::echo(1 + run(&s[1..], is_variable_char))
            }
        }
    }

    fn initial(
        &mut self,
        rest: &str,
        vars: Option<&Variables>,
        input: &Input,
        warnings: &mut Vec<String>,
    ) -> Step {
        let s = rest.as_bytes();
        let at = |i: usize| s.get(i).copied().unwrap_or(0);
        let (c, next) = (s[0], at(1));
        if is_space(c) {
            return Step {
                len: run(s, is_space),
                emit: Emit::EchoUnlessEmpty,
                stop: None,
            };
        }
        if s.starts_with(b"--") {
            return Step {
                len: run(s, |b| b != b'\n' && b != b'\r'),
                emit: Emit::EchoUnlessEmpty,
                stop: None,
            };
        }
        if s.starts_with(b"/*") {
            self.state = State::BlockComment { depth: 0 };
            return Step::echo(2);
        }
        match (c, next) {
            (b'b' | b'B' | b'x' | b'X', b'\'') => {
                self.state = State::Quoted(Quote::Plain);
                return Step::echo(2);
            }
            (b'e' | b'E', b'\'') => {
                self.state = State::Quoted(Quote::Escape);
                return Step::echo(2);
            }
            (b'n' | b'N', b'\'') => return Step::echo(1),
            (b'u' | b'U', b'&') => match at(2) {
                b'\'' => {
                    self.state = State::Quoted(Quote::Plain);
                    return Step::echo(3);
                }
                b'"' => {
                    self.state = State::DoubleQuoted;
                    return Step::echo(3);
                }
                _ => return Step::echo(1),
            },
            _ => {}
        }
        match c {
            b'\'' => {
                self.state = State::Quoted(if self.standard_strings {
                    Quote::Plain
                } else {
                    Quote::Escape
                });
                Step::echo(1)
            }
            b'"' => {
                self.state = State::DoubleQuoted;
                Step::echo(1)
            }
            b'$' => {
                if let Some(len) = dollar_delimiter(s) {
                    self.state = State::Dollar {
                        tag: rest[..len].to_owned(),
                    };
                    return Step::echo(len);
                }
                // `$n`, with any identifier glued to it (psql 15's `param_junk`).
                match run(&s[1..], |b| b.is_ascii_digit()) {
                    0 => Step::echo(1),
                    digits => Step::echo(with_glued_identifier(s, 1 + digits)),
                }
            }
            b'(' => {
                self.paren_depth += 1;
                Step::echo(1)
            }
            b')' => {
                self.paren_depth = self.paren_depth.saturating_sub(1);
                Step::echo(1)
            }
            b';' => {
                let ends = self.paren_depth == 0 && self.begin_depth == 0;
                if ends {
                    self.identifier_count = 0;
                }
                Step {
                    len: 1,
                    emit: Emit::Echo,
                    stop: ends.then_some(Stop::Semicolon),
                }
            }
            b'\\' => match next {
                b';' | b':' => {
                    if next == b';' {
                        self.identifier_count = 0;
                    }
                    Step {
                        len: 2,
                        emit: Emit::Text(char::from(next).to_string()),
                        stop: None,
                    }
                }
                _ => Step {
                    len: 1,
                    emit: Emit::Text(String::new()),
                    stop: Some(Stop::Backslash),
                },
            },
            b':' => colon(rest, vars, input, warnings),
            _ if is_ident_start(c) => {
                let len = run(s, is_ident_cont);
                self.identifier(&s[..len]);
                Step::echo(len)
            }
            _ if c.is_ascii_digit() => Step::echo(number(s)),
            _ => Step::echo(char_len(rest)),
        }
    }

    /// psql 15's heuristic for SQL-standard function bodies: inside `CREATE [OR REPLACE]
    /// FUNCTION|PROCEDURE`, `BEGIN` … `END` (with `CASE` … `END` inside) hides semicolons.
    fn identifier(&mut self, word: &[u8]) {
        if self.identifier_count == 0 {
            self.identifiers = [0; 4];
        }
        let lower = word.to_ascii_lowercase();
        if matches!(
            lower.as_slice(),
            b"create" | b"function" | b"procedure" | b"or" | b"replace"
        ) && self.identifier_count < self.identifiers.len()
        {
            self.identifiers[self.identifier_count] = lower[0];
        }
        self.identifier_count += 1;
        let ids = self.identifiers;
        let routine = ids[0] == b'c'
            && (matches!(ids[1], b'f' | b'p')
                || (ids[1] == b'o' && ids[2] == b'r' && matches!(ids[3], b'f' | b'p')));
        if routine && self.paren_depth == 0 {
            match lower.as_slice() {
                b"begin" => self.begin_depth += 1,
                b"case" if self.begin_depth >= 1 => self.begin_depth += 1,
                b"end" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
    }
}

/// A `:` in SQL: a cast, `:=`, or one of the variable forms.
fn colon(rest: &str, vars: Option<&Variables>, input: &Input, warnings: &mut Vec<String>) -> Step {
    let s = rest.as_bytes();
    if s.starts_with(b"::") || s.starts_with(b":=") {
        return Step::echo(2);
    }
    match Interpolation::parse(s) {
        Some(Interpolation::Plain { len }) => {
            let name = &rest[1..len];
            match vars.and_then(|v| v.get(name)) {
                Some(_) if input.is_expanding(name) => {
                    warnings.push(format!(
                        "skipping recursive expansion of variable \"{name}\""
                    ));
                    Step::echo(len)
                }
                Some(value) => Step {
                    len,
                    emit: Emit::Expand {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    },
                    stop: None,
                },
                None => Step::echo(len),
            }
        }
        Some(other) => {
            let len = other.len();
            match other.render(rest, vars) {
                Some(text) => Step {
                    len,
                    emit: Emit::Text(text),
                    stop: None,
                },
                None => Step::echo(len),
            }
        }
        None => Step::echo(1),
    }
}
