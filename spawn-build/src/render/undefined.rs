//! Undefined names printed as nothing.
//!
//! Like the original spawn, a render prints an undefined value (`{{ variables.nope }}`) as
//! nothing, which turns into broken SQL only when the migration runs (`VALUES (, 3)`). The
//! render itself is left exactly as it is; instead, its formatter notes each template in
//! which a `{{ … }}` printed an undefined value, and [`find`] then names the culprits of such
//! a template: the names it uses (minijinja's `undeclared_variables`) that are undefined in
//! the render's context, on a line where a `{{ … }}` prints them unguarded (no `default`,
//! `is defined`, `is undefined` or inline `if` in the expression, and no `is defined` test
//! of the same name anywhere in the template). Best effort: a name printed across lines
//! (`{{` and the name on different lines) is not found.

use minijinja::{Environment, Value};

/// Names that are defined without being in the context.
const IMPLICIT: &[&str] = &["loop", "self", "caller", "varargs", "kwargs", "super"];

/// An undefined name that a `{{ … }}` printed as nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UndefinedUse {
    /// The file as shown to the user (`up.sql`'s path, or the component).
    pub file: String,
    /// The 1-based line of the first `{{ … }}` printing it.
    pub line: Option<usize>,
    /// The undefined name, e.g. `variables.nope` (for `variables.nope.x`, the first
    /// undefined part).
    pub name: String,
}

/// The undefined names printed in `text` (the template shown as `file`), rendered in `env`
/// with `variables`, in line order.
pub(crate) fn find(
    env: &Environment<'static>,
    file: &str,
    text: &str,
    variables: Option<&Value>,
) -> Vec<UndefinedUse> {
    let Ok(template) = env.template_from_str(text) else {
        return Vec::new();
    };
    let none = Value::from(());
    let variables = variables.unwrap_or(&none);
    let mut found: Vec<UndefinedUse> = template
        .undeclared_variables(true)
        .into_iter()
        .filter_map(|path| {
            let name = first_undefined(env, &path, variables)?;
            let line = printed_on(text, &path)?;
            Some(UndefinedUse {
                file: file.to_owned(),
                line: Some(line),
                name,
            })
        })
        .collect();
    // The first line of each name (several paths can share an undefined prefix).
    found.sort_by(|a, b| (&a.name, a.line).cmp(&(&b.name, b.line)));
    found.dedup_by(|later, first| later.name == first.name);
    found.sort_by(|a, b| (a.line, &a.name).cmp(&(b.line, &b.name)));
    found
}

/// The first undefined prefix of the dotted `path` (`variables.a` of `variables.a.b` when
/// `a` is missing), or `None` when it is defined or cannot be told.
fn first_undefined(env: &Environment<'static>, path: &str, variables: &Value) -> Option<String> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut value = match first {
        "variables" => variables.clone(),
        "env" => return None,
        name if IMPLICIT.contains(&name) || env.globals().any(|(global, _)| global == name) => {
            return None
        }
        name => return Some(name.to_owned()),
    };
    let mut name = first.to_owned();
    for part in parts {
        name.push('.');
        name.push_str(part);
        value = value.get_attr(part).ok()?;
        if value.is_undefined() {
            return Some(name);
        }
    }
    None
}

/// The 1-based line of the first unguarded `{{ … }}` that prints `path`.
fn printed_on(text: &str, path: &str) -> Option<usize> {
    if [" is defined", " is undefined"]
        .iter()
        .any(|test| text.contains(&format!("{path}{test}")))
    {
        // Guarded somewhere: printing it is meant to be conditional.
        return None;
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(pos) = line[from..].find(path) {
            let (start, end) = (from + pos, from + pos + path.len());
            from = end;
            let before = line[..start].chars().next_back();
            let after = line[end..].chars().next();
            if before.is_some_and(|c| word(c) || c == '.')
                || after.is_some_and(|c| word(c) || c == '.')
            {
                continue;
            }
            let Some(open) = line[..start].rfind("{{") else {
                continue;
            };
            if line[open..start].contains("}}") {
                continue;
            }
            let close = line[end..].find("}}").map_or(line.len(), |c| end + c);
            let expr = &line[open..close];
            if ["default", " is defined", " is undefined", " if "]
                .iter()
                .any(|guard| expr.contains(guard))
            {
                continue;
            }
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, variables: Value) -> Vec<(Option<usize>, String)> {
        find(&Environment::new(), "up.sql", text, Some(&variables))
            .into_iter()
            .map(|u| (u.line, u.name))
            .collect()
    }

    #[test]
    fn printed_undefined_names_are_found_with_their_line() {
        let vars = Value::from_serialize(serde_json::json!({ "a": { "b": 1 }, "n": 2 }));
        let text = "SELECT 1;\nINSERT INTO t VALUES ({{ variables.nope }}, {{ variables.n }});\n\
                    {{ variables.a.b }} {{ variables.a.c.d }} {{ nope }}\n{{ variables.nope }}";
        assert_eq!(
            names(text, vars),
            [
                (Some(2), "variables.nope".to_owned()),
                (Some(3), "nope".to_owned()),
                (Some(3), "variables.a.c".to_owned()),
            ]
        );
    }

    #[test]
    fn guarded_and_unprinted_names_are_not_reported() {
        let text = "{% if variables.x is defined %}{{ variables.x }}{% endif %}\n\
                    {{ variables.y | default(1) }} {{ variables.z if variables.z }}\n\
                    {{ range(3) | join(',') }} {{ env }}";
        assert!(names(text, Value::from_serialize(serde_json::json!({}))).is_empty());
    }
}
