//! Best-effort line origins: which component each rendered line came from.
//!
//! The migration is rendered a second time with invisible marker text wrapped around the
//! source of every component the loader hands out; the markers are then stripped from that
//! output while tracking which component is open at the start of each line. If the stripped
//! text is not byte-identical to the real render (a filter measured or mangled a marker,
//! say), no origins are reported: they can never change the SQL itself.

use std::sync::{Mutex, PoisonError};

/// Opens a component: `BEGIN <index> SEP`.
const BEGIN: char = '\u{F8F0}';
const SEP: char = '\u{F8F1}';
/// Closes the innermost open component.
const END: char = '\u{F8F2}';

/// Runs of rendered lines: from `first_line` (1-based) on, lines came from `component`
/// (`None` = the migration's own `up.sql`) until the next run.
pub type Origins = Vec<(u32, Option<String>)>;

/// The components wrapped so far, by marker index.
#[derive(Debug, Default)]
pub(crate) struct MarkRegistry {
    names: Mutex<Vec<String>>,
}

impl MarkRegistry {
    /// `source` of component `name`, wrapped in markers. The trailing newline minijinja would
    /// drop (`keep_trailing_newline` is off) is dropped here, so the marker does not keep it.
    pub(crate) fn wrap(&self, name: &str, source: &str) -> String {
        let mut body = source.strip_suffix('\n').unwrap_or(source);
        body = body.strip_suffix('\r').unwrap_or(body);
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let index = names.len();
        names.push(name.to_owned());
        format!("{BEGIN}{index}{SEP}{body}{END}")
    }

    fn names(&self) -> Vec<String> {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Maps the lines of `marked` (the marker render) to components; empty if the markers do
/// not strip back to exactly `expected` (the real render).
pub(crate) fn locate(marked: &str, registry: &MarkRegistry, expected: &str) -> Origins {
    let names = registry.names();
    let mut stack: Vec<usize> = Vec::new();
    let mut stripped = String::with_capacity(expected.len());
    let mut runs: Origins = Vec::new();
    let mut line: u32 = 1;
    let mut at_line_start = true;
    let mut chars = marked.chars();
    while let Some(c) = chars.next() {
        match c {
            BEGIN => {
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(SEP) => break,
                        Some(d) if d.is_ascii_digit() => digits.push(d),
                        _ => return Vec::new(),
                    }
                }
                match digits.parse::<usize>() {
                    Ok(index) if index < names.len() => stack.push(index),
                    _ => return Vec::new(),
                }
            }
            END => {
                stack.pop();
            }
            SEP => return Vec::new(),
            c => {
                if at_line_start {
                    let origin = stack.last().map(|&i| names[i].clone());
                    if runs.last().map(|(_, o)| o) != Some(&origin) {
                        runs.push((line, origin));
                    }
                    at_line_start = false;
                }
                stripped.push(c);
                if c == '\n' {
                    line += 1;
                    at_line_start = true;
                }
            }
        }
    }
    if stripped != expected {
        return Vec::new();
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_locate() {
        let reg = MarkRegistry::default();
        let a = reg.wrap("a.sql", "A1\nA2\n");
        let b = reg.wrap("b.sql", "B1\r\n");
        let marked = format!("top\n{a}\nmid {b}\nend");
        let expected = "top\nA1\nA2\nmid B1\nend";
        assert_eq!(
            locate(&marked, &reg, expected),
            vec![(1, None), (2, Some("a.sql".to_owned())), (4, None)]
        );
        assert!(locate(&marked, &reg, "something else").is_empty());
    }
}
