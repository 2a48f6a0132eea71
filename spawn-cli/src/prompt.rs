//! Confirmation and one-line questions, only ever on a terminal.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};

/// Whether stdin and stderr are terminals (a question can be asked).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks `question [y/N]`; without a terminal it is an error telling to pass `flag`.
pub fn confirm(question: &str, flag: &str, what: &str) -> Result<bool> {
    if !interactive() {
        bail!("refusing to {what} without confirmation: stdin is not a terminal. Pass {flag} to confirm");
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Asks for one line of text; without a terminal it is an error telling to pass `flag`.
pub fn ask_line(question: &str, flag: &str) -> Result<String> {
    if !interactive() {
        bail!("{question} is needed and stdin is not a terminal: pass {flag}");
    }
    eprint!("{question}: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().to_owned())
}

/// Lists what is about to happen (`heading`, then one indented line per item, on stderr and
/// scrubbed of secrets), then asks [`confirm`]; without a terminal it is the same error,
/// before anything is printed.
pub fn confirm_list<'a>(
    heading: &str,
    items: impl IntoIterator<Item = &'a str>,
    question: &str,
    flag: &str,
    what: &str,
) -> Result<bool> {
    if !interactive() {
        bail!("refusing to {what} without confirmation: stdin is not a terminal. Pass {flag} to confirm");
    }
    eprintln!("{}", crate::output::redact(heading));
    for item in items {
        eprintln!("  {}", crate::output::redact(item));
    }
    confirm(question, flag, what)
}
