//! Everything the CLI prints: human text (colour only on a terminal), tables, JSON, and the
//! password scrubbing every line goes through.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

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

/// How to print, from the global flags.
#[derive(Debug, Clone)]
pub struct Out {
    pub quiet: bool,
    pub json: bool,
    colour_out: bool,
    colour_err: bool,
}

impl Out {
    pub fn new(quiet: bool, json: bool) -> Self {
        Self {
            quiet,
            json,
            colour_out: console::colors_enabled() && std::io::stdout().is_terminal(),
            colour_err: console::colors_enabled_stderr() && std::io::stderr().is_terminal(),
        }
    }

    /// Whether stderr is a terminal a progress bar can be drawn on.
    pub fn progress_allowed(&self) -> bool {
        !self.quiet && !self.json && std::io::stderr().is_terminal()
    }

    /// A line of human output on stdout (suppressed by --quiet and --json).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.quiet && !self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", redact(text.as_ref()));
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
            println!("{text}");
        }
    }

    /// Data a command exists to print (SQL, a URL): always printed, never coloured.
    pub fn data(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(redact(text.as_ref()).as_bytes());
        let _ = out.flush();
    }

    /// A JSON document on stdout.
    pub fn json_value(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        println!("{}", redact(&text));
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
        eprintln!("{label} {}", redact(text.as_ref()));
    }

    /// A note on stderr (suppressed by --quiet).
    pub fn note(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", redact(text.as_ref()));
        }
    }

    /// An error on stderr.
    pub fn error(&self, text: impl AsRef<str>) {
        let label = if self.colour_err {
            Style::new().red().bold().apply_to("error:").to_string()
        } else {
            "error:".into()
        };
        eprintln!("{label} {}", redact(text.as_ref()));
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
