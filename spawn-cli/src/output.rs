//! Everything the CLI prints: human text (colour only on a terminal), tables, JSON, and the
//! password scrubbing every line goes through.
//!
//! Every write to stdout goes through [`Out`], which never panics on a failed write: a reader
//! that stopped early (`spawn --json migration status | head -1`) closes the pipe, and from
//! then on the output is dropped and `main` ends the process quietly with exit 0 (see
//! [`StdoutError`]). Failed writes to stderr are ignored: there is nowhere left to report them.

use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, PoisonError};

use comfy_table::{presets, ContentArrangement, Table};
use console::Style;

/// Secrets (passwords) that must never be printed; every message is scrubbed of them.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Registers `secret` (and its percent-encoded form) for scrubbing. Empty strings are ignored.
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let encoded = percent_encode(secret);
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for s in [secret.to_owned(), encoded] {
        if !secrets.contains(&s) {
            secrets.push(s);
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why stdout took no more output.
#[derive(Debug, thiserror::Error)]
pub enum StdoutError {
    /// Its reader went away: the pipe was closed early (`spawn … | head -1`). Not a failure
    /// of the command: the reader read all it wanted.
    #[error("stdout was closed by its reader: {0}")]
    Closed(#[source] io::Error),
    /// A write failed otherwise (a full disk, an I/O error).
    #[error("cannot write to stdout: {0}")]
    Write(#[source] io::Error),
}

impl From<io::Error> for StdoutError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            StdoutError::Closed(e)
        } else {
            StdoutError::Write(e)
        }
    }
}

/// How to print, from the global flags.
#[derive(Debug)]
pub struct Out {
    pub quiet: bool,
    pub json: bool,
    colour_out: bool,
    colour_err: bool,
    /// The first failed write to stdout; once set, stdout output is dropped.
    stdout_error: Mutex<Option<StdoutError>>,
}

impl Out {
    pub fn new(quiet: bool, json: bool) -> Self {
        Self {
            quiet,
            json,
            colour_out: console::colors_enabled() && std::io::stdout().is_terminal(),
            colour_err: console::colors_enabled_stderr() && std::io::stderr().is_terminal(),
            stdout_error: Mutex::new(None),
        }
    }

    /// Writes `text` (already scrubbed) to stdout and flushes it, so a failed write is seen
    /// here. Once a write has failed, nothing more is written (see [`Out::stdout_error`]).
    fn stdout(&self, text: &str) {
        let mut error = self
            .stdout_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if error.is_some() {
            return;
        }
        let mut out = io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            *error = Some(e.into());
        }
    }

    /// Writes a line (already scrubbed) to stderr. A failed write is ignored: stderr is where
    /// failures are reported, so there is nowhere left to report it.
    fn stderr_line(&self, line: &str) {
        let _ = writeln!(io::stderr().lock(), "{line}");
    }

    /// Why stdout stopped taking output, if it did, taken for `main` to decide how the
    /// process ends.
    pub fn stdout_error(&self) -> Option<StdoutError> {
        self.stdout_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether stderr is a terminal a progress bar can be drawn on.
    pub fn progress_allowed(&self) -> bool {
        !self.quiet && !self.json && std::io::stderr().is_terminal()
    }

    /// A line of human output on stdout (suppressed by --quiet and --json).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.quiet && !self.json {
            self.stdout(&format!("{}\n", redact(text.as_ref())));
        }
    }

    /// A successful outcome, in green on a terminal (suppressed by --quiet and --json).
    pub fn success(&self, text: impl AsRef<str>) {
        if !self.quiet && !self.json {
            let text = redact(text.as_ref());
            let text = if self.colour_out {
                Style::new().green().apply_to(text).to_string()
            } else {
                text
            };
            self.stdout(&format!("{text}\n"));
        }
    }

    /// Data a command exists to print (SQL, a URL): always printed, never coloured.
    pub fn data(&self, text: impl AsRef<str>) {
        self.stdout(&redact(text.as_ref()));
    }

    /// A JSON document on stdout.
    pub fn json_value(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        self.stdout(&format!("{}\n", redact(&text)));
    }

    /// A warning on stderr (kept by --quiet: warnings matter).
    pub fn warn(&self, text: impl AsRef<str>) {
        let label = if self.colour_err {
            Style::new()
                .yellow()
                .bold()
                .apply_to("warning:")
                .to_string()
        } else {
            "warning:".into()
        };
        self.stderr_line(&format!("{label} {}", redact(text.as_ref())));
    }

    /// A note on stderr (suppressed by --quiet).
    pub fn note(&self, text: impl AsRef<str>) {
        if !self.quiet {
            self.stderr_line(&redact(text.as_ref()));
        }
    }

    /// An error on stderr.
    pub fn error(&self, text: impl AsRef<str>) {
        let label = if self.colour_err {
            Style::new().red().bold().apply_to("error:").to_string()
        } else {
            "error:".into()
        };
        self.stderr_line(&format!("{label} {}", redact(text.as_ref())));
    }

    /// `text` in the colour of `status` on stdout (for table cells).
    pub fn paint(&self, text: &str, kind: Paint) -> String {
        if !self.colour_out {
            return text.to_owned();
        }
        let style = match kind {
            Paint::Good => Style::new().green(),
            Paint::Bad => Style::new().red().bold(),
            Paint::Attention => Style::new().yellow(),
            Paint::Dim => Style::new().dim(),
        };
        style.apply_to(text).to_string()
    }

    /// A table with `header`, drawn with box characters on a terminal and plain otherwise.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        if self.colour_out {
            table.load_preset(presets::UTF8_FULL_CONDENSED);
        } else {
            table.load_preset(presets::ASCII_MARKDOWN);
        }
        table.set_content_arrangement(ContentArrangement::Disabled);
        table.set_header(header.to_vec());
        table
    }

    /// Prints a table (suppressed by --quiet and --json).
    pub fn print_table(&self, table: &Table) {
        self.line(table.to_string());
    }
}

/// Colours of table cells.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Good,
    Bad,
    Attention,
    Dim,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_plain_and_percent_encoded() {
        register_secret("p@ss w0rd");
        assert_eq!(
            redact("postgres://u:p%40ss%20w0rd@h/db and p@ss w0rd"),
            "postgres://u:***@h/db and ***"
        );
    }
}
