//! Best-effort line origins: which component each rendered line came from.
//!
//! The migration is rendered a second time with invisible marker text inserted into the
//! sources: around each component the loader hands out, and inside every `{% block %}`,
//! `{% macro %}` and `{% call %}` body (of components and of `up.sql`), so that block
//! overrides, macro output and call bodies are credited to the template that wrote them.
//! The markers are then stripped from that output while tracking which template is open at
//! the start of each line. If the stripped text is not byte-identical to the real render (a
//! filter measured or mangled a marker, say), no origins are reported: they can never change
//! the SQL itself.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use spawn_model::LineOrigin;

/// Opens a template section: `BEGIN <index> SEP`.
const BEGIN: char = '\u{F8F0}';
const SEP: char = '\u{F8F1}';
/// Closes the innermost open section.
const END: char = '\u{F8F2}';
const END_STR: &str = "\u{F8F2}";

/// Runs of rendered lines, in line order: from `first_line` (1-based) on, lines came from
/// `component` (`None` = the migration's own `up.sql`) until the next run.
pub type Origins = Vec<LineOrigin>;

/// The templates marked so far, by marker index (`None` = `up.sql`).
#[derive(Debug, Default)]
pub(crate) struct MarkRegistry {
    names: Mutex<Vec<Option<String>>>,
}

impl MarkRegistry {
    /// `source` of the template `name` (`None` for `up.sql`) with markers inside its block,
    /// macro and call bodies and, for components (`whole`), around the whole text.
    pub(crate) fn mark(&self, name: Option<&str>, source: &str, whole: bool) -> String {
        let index = {
            let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            names.push(name.map(str::to_owned));
            names.len() - 1
        };
        let begin = format!("{BEGIN}{index}{SEP}");
        if !whole {
            return mark_sections(source, &begin);
        }
        // Drop the trailing newline minijinja would drop (`keep_trailing_newline` is off),
        // so the closing marker does not keep it alive.
        let mut body = source.strip_suffix('\n').unwrap_or(source);
        body = body.strip_suffix('\r').unwrap_or(body);
        format!("{begin}{}{END}", mark_sections(body, &begin))
    }

    fn names(&self) -> Vec<Option<String>> {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Inserts `begin` after every `{% block %}`, `{% macro %}` and `{% call %}` tag and [`END`]
/// before the matching end tags, on the far side of any whitespace a `-` trims, so that the
/// trimming is unchanged. Comments, expressions and `{% raw %}` sections are skipped. Tags
/// hidden in odd places (a `%}` inside a string) may misplace a marker; the final comparison
/// in [`locate`] catches what that would change.
fn mark_sections(source: &str, begin: &str) -> String {
    let mut inserts: Vec<(usize, &str)> = Vec::new();
    let mut floor = 0; // no insertion may go before an earlier one
    let mut i = 0;
    while let Some(offset) = source[i..].find('{') {
        let at = i + offset;
        let rest = &source[at..];
        let closing = if rest.starts_with("{#") {
            "#}"
        } else if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            i = at + 1;
            continue;
        };
        let Some(close) = rest[2..].find(closing) else {
            break;
        };
        let tag_end = at + 2 + close + 2;
        i = tag_end;
        if closing != "%}" {
            continue;
        }
        let inner = &source[at + 2..tag_end - 2];
        let keyword: String = inner
            .trim_start_matches(['-', '+'])
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        match keyword.as_str() {
            "raw" => match find_endraw(source, tag_end) {
                Some(end) => i = end,
                None => break,
            },
            "block" | "macro" | "call" => {
                let mut pos = tag_end;
                if inner.ends_with('-') {
                    pos += source[pos..].len() - source[pos..].trim_start().len();
                }
                inserts.push((pos, begin));
                floor = pos;
            }
            "endblock" | "endmacro" | "endcall" => {
                let mut pos = at;
                if inner.starts_with('-') {
                    pos = source[..pos].trim_end().len().max(floor);
                }
                inserts.push((pos, END_STR));
                floor = pos;
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(source.len() + inserts.len() * 8);
    let mut copied = 0;
    for (pos, marker) in inserts {
        out.push_str(&source[copied..pos]);
        out.push_str(marker);
        copied = pos;
    }
    out.push_str(&source[copied..]);
    out
}

/// The end of the `{% endraw %}` tag after `from`.
fn find_endraw(source: &str, from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(offset) = source[i..].find("{%") {
        let at = i + offset;
        let close = at + 2 + source[at + 2..].find("%}")?;
        let inner = source[at + 2..close].trim_matches(['-', '+']).trim();
        if inner == "endraw" {
            return Some(close + 2);
        }
        i = at + 2;
    }
    None
}

/// The origins of a render that read no component: every line is `up.sql`'s (what
/// [`locate`] finds for such a render, without rendering again with markers).
pub(crate) fn from_up_sql_only(sql: &str) -> Origins {
    if sql.is_empty() {
        Vec::new()
    } else {
        vec![LineOrigin::from_up_sql(1)]
    }
}

/// Maps the lines of `marked` (the marker render) to templates; empty if the markers do
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
                    let component = stack.last().and_then(|&i| names[i].as_deref());
                    if runs.last().map(|run| run.component.as_deref()) != Some(component) {
                        runs.push(LineOrigin {
                            first_line: line,
                            component: component.map(|c| Cow::Owned(c.to_owned())),
                        });
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
    fn end_marker_constants_agree() {
        assert_eq!(END_STR.chars().collect::<Vec<_>>(), vec![END]);
    }

    fn visible(s: &str) -> String {
        s.replace(BEGIN, "<").replace(SEP, ">").replace(END, "</>")
    }

    #[test]
    fn a_render_without_components_comes_from_up_sql_alone() {
        let reg = MarkRegistry::default();
        for text in ["", "x", "SELECT 1;\nSELECT 2;\n", "\n\n"] {
            let marked = reg.mark(None, text, false);
            assert_eq!(
                locate(&marked, &reg, text),
                from_up_sql_only(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn wrap_and_locate() {
        let reg = MarkRegistry::default();
        let a = reg.mark(Some("a.sql"), "A1\nA2\n", true);
        let b = reg.mark(Some("b.sql"), "B1\r\n", true);
        let marked = format!("top\n{a}\nmid {b}\nend");
        let expected = "top\nA1\nA2\nmid B1\nend";
        assert_eq!(
            locate(&marked, &reg, expected),
            vec![
                LineOrigin::from_up_sql(1),
                LineOrigin::from_component(2, "a.sql"),
                LineOrigin::from_up_sql(4)
            ]
        );
        assert!(locate(&marked, &reg, "something else").is_empty());
    }

    #[test]
    fn sections_are_marked_outside_trimmed_whitespace() {
        let src = "{% block a %}x{% endblock %}{% block b -%}\n  y\n  {%- endblock %}\
                   {% raw %}{% block no %}{% endraw %}{# {% block no %} #}\
                   {% macro m() %}z{% endmacro %}{% call(x) m() %}c{% endcall %}\
                   {% block e -%}  {%- endblock %}";
        assert_eq!(
            visible(&mark_sections(src, "<0>")),
            "{% block a %}<0>x</>{% endblock %}{% block b -%}\n  <0>y</>\n  {%- endblock %}\
             {% raw %}{% block no %}{% endraw %}{# {% block no %} #}\
             {% macro m() %}<0>z</>{% endmacro %}{% call(x) m() %}<0>c</>{% endcall %}\
             {% block e -%}  <0></>{%- endblock %}"
        );
    }
}
