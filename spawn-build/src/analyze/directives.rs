//! `-- spawn:…` directives: comment lines at the top of a migration that tell spawn how to
//! run it.
//!
//! * `-- spawn:no-transaction` — must be the very first line; runs the statements one by one
//!   outside a transaction.
//! * `-- spawn:lock-timeout <duration>` and `-- spawn:statement-timeout <duration>` — in the
//!   comments before the first statement; the duration is an integer with an optional unit
//!   (`ms`, `s`, `min`, `h`, `d`), as PostgreSQL accepts it for these settings.
//! * `-- spawn:draft` and `-- spawn:repeatable` — in the comments before the first statement;
//!   they mark the migration folder (see [`crate::layout::Markers`]), not how its SQL runs.
//! * `-- spawn:allow <hazard> [<hazard> …]` — anywhere; accepts hazards of the statement it
//!   is in, ends beside, or precedes (see [`super::hazards`]).
//!
//! A line comment whose text starts with `spawn:` is a directive; anything unknown or out of
//! place is an error, so that a typo never silently changes how a migration runs.

use super::Problem;

/// The directives spawn knows, for error messages.
const KNOWN: &str = "`-- spawn:no-transaction`, `-- spawn:lock-timeout <duration>`, \
     `-- spawn:statement-timeout <duration>`, `-- spawn:draft`, `-- spawn:repeatable`, `-- spawn:allow <hazard>`";

/// The text after `spawn:` if the line comment `comment` (which starts with `--`) is a
/// directive.
pub(crate) fn directive_text(comment: &str) -> Option<&str> {
    comment
        .strip_prefix("--")?
        .trim_start()
        .strip_prefix("spawn:")
}

/// Where a directive comment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// At the very start of the migration (line 1, column 1).
    FirstLine,
    /// Elsewhere before the first statement.
    Header,
    /// After the first statement began.
    AfterSql,
}

/// A directive comment found by the statement scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirectiveComment<'a> {
    /// Byte offset of the comment's `--`.
    pub offset: usize,
    /// The comment's text, `--` included.
    pub text: &'a str,
    pub placement: Placement,
}

/// The settings the directives of one migration amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Directives {
    pub no_transaction: bool,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
}

/// Interprets the directive comments of one migration, in order.
pub(crate) fn parse<'a>(
    comments: impl IntoIterator<Item = DirectiveComment<'a>>,
) -> (Directives, Vec<Problem>) {
    let mut directives = Directives::default();
    let mut errors = Vec::new();
    for comment in comments {
        if let Err(message) = apply(&mut directives, comment) {
            errors.push(Problem {
                offset: comment.offset,
                message,
            });
        }
    }
    (directives, errors)
}

/// Applies one directive comment to `directives`.
fn apply(directives: &mut Directives, comment: DirectiveComment<'_>) -> Result<(), String> {
    let text = directive_text(comment.text).unwrap_or_default().trim_end();
    let (name, value) = match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text, ""),
    };
    match name {
        "allow" => {
            let names = super::hazards::allow_names(text).unwrap_or_default();
            if names.is_empty() {
                return Err(format!(
                    "`-- spawn:allow` needs the name of a hazard to accept, e.g. \
                     `-- spawn:allow table-rewrite`; the hazards are {}",
                    super::hazards::Hazard::names()
                ));
            }
            if let Some(Err(unknown)) = names.into_iter().find(Result::is_err) {
                return Err(format!(
                    "unknown hazard `{unknown}` in `-- spawn:allow`; the hazards are {}",
                    super::hazards::Hazard::names()
                ));
            }
        }
        "no-transaction" => {
            if comment.placement != Placement::FirstLine {
                return Err(
                    "`-- spawn:no-transaction` must be the very first line of the \
                            migration"
                        .to_owned(),
                );
            }
            if !value.is_empty() {
                return Err(format!(
                    "`-- spawn:no-transaction` takes no value, found `{value}`"
                ));
            }
            directives.no_transaction = true;
        }
        "lock-timeout" | "statement-timeout" => {
            if comment.placement == Placement::AfterSql {
                return Err(format!(
                    "`-- spawn:{name}` must be in the comment lines at the top of the \
                     migration, before any SQL"
                ));
            }
            if value.is_empty() {
                return Err(format!(
                    "`-- spawn:{name}` needs a value, e.g. `-- spawn:{name} 5s`"
                ));
            }
            if !is_duration(value) {
                return Err(format!(
                    "invalid value `{value}` for `-- spawn:{name}`: expected an integer with an \
                     optional unit ms, s, min, h or d, e.g. `5s`"
                ));
            }
            let slot = if name == "lock-timeout" {
                &mut directives.lock_timeout
            } else {
                &mut directives.statement_timeout
            };
            if slot.is_some() {
                return Err(format!("`-- spawn:{name}` is given more than once"));
            }
            *slot = Some(value.to_owned());
        }
        "draft" | "repeatable" => {
            if comment.placement == Placement::AfterSql {
                return Err(format!(
                    "`-- spawn:{name}` must be in the comment lines at the top of the \
                     migration, before any SQL"
                ));
            }
            if !value.is_empty() {
                return Err(format!("`-- spawn:{name}` takes no value, found `{value}`"));
            }
        }
        _ => {
            return Err(format!(
                "unknown directive `-- spawn:{name}`; the known directives are {KNOWN}"
            ))
        }
    }
    Ok(())
}

/// Whether `value` is a duration the timeout directives accept: an integer with an optional
/// unit, `^\d+\s*(ms|s|min|h|d)?$` (`5s`, `500ms`, `2min`).
pub fn is_duration(value: &str) -> bool {
    let unit_start = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    unit_start > 0
        && matches!(
            value[unit_start..].trim_start(),
            "" | "ms" | "s" | "min" | "h" | "d"
        )
}

#[cfg(test)]
mod tests {
    use super::{directive_text, is_duration, parse, DirectiveComment, Directives, Placement};

    fn run(comments: &[(&'static str, Placement)]) -> (Directives, Vec<(usize, String)>) {
        let (directives, errors) = parse(comments.iter().enumerate().map(
            |(offset, &(text, placement))| DirectiveComment {
                offset,
                text,
                placement,
            },
        ));
        (
            directives,
            errors.into_iter().map(|e| (e.offset, e.message)).collect(),
        )
    }

    #[test]
    fn recognises_directive_comments() {
        assert_eq!(
            directive_text("-- spawn:no-transaction"),
            Some("no-transaction")
        );
        assert_eq!(directive_text("--spawn:x y"), Some("x y"));
        assert_eq!(directive_text("--\tspawn:"), Some(""));
        assert_eq!(directive_text("-- Spawn:x"), None);
        assert_eq!(directive_text("-- see spawn:x"), None);
        assert_eq!(directive_text("/* spawn:x */"), None);
    }

    #[test]
    fn durations() {
        for ok in ["5", "5s", "5 s", "100ms", "2min", "1h", "3d", "1000", "007"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in [
            "", "s", "5 sec", "5S", "1.5s", "-1s", "5s5", "5 min x", "５s", "5us",
        ] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn all_directives() {
        let (directives, errors) = run(&[
            ("-- spawn:no-transaction", Placement::FirstLine),
            ("-- spawn:lock-timeout 5s", Placement::Header),
            ("--spawn:statement-timeout   10min  ", Placement::Header),
        ]);
        assert_eq!(errors, vec![]);
        assert_eq!(
            directives,
            Directives {
                no_transaction: true,
                lock_timeout: Some("5s".into()),
                statement_timeout: Some("10min".into()),
            }
        );
    }

    #[test]
    fn timeouts_may_be_on_the_first_line() {
        let (directives, errors) = run(&[("-- spawn:lock-timeout 1000", Placement::FirstLine)]);
        assert_eq!(errors, vec![]);
        assert_eq!(directives.lock_timeout.as_deref(), Some("1000"));
        assert!(!directives.no_transaction);
    }

    #[test]
    fn errors() {
        let (directives, errors) = run(&[
            ("-- spawn:no-transaction", Placement::Header),
            ("-- spawn:no-transaction please", Placement::FirstLine),
            ("-- spawn:lock-timeout", Placement::Header),
            ("-- spawn:lock-timeout 5 seconds", Placement::Header),
            ("-- spawn:statement-timeout 1s", Placement::AfterSql),
            ("-- spawn:statement-timeout 1s", Placement::Header),
            ("-- spawn:statement-timeout 2s", Placement::Header),
            ("-- spawn:notransaction", Placement::FirstLine),
            ("-- spawn:", Placement::Header),
        ]);
        assert_eq!(
            errors,
            vec![
                (
                    0,
                    "`-- spawn:no-transaction` must be the very first line of the migration".into()
                ),
                (
                    1,
                    "`-- spawn:no-transaction` takes no value, found `please`".into()
                ),
                (
                    2,
                    "`-- spawn:lock-timeout` needs a value, e.g. `-- spawn:lock-timeout 5s`".into()
                ),
                (
                    3,
                    "invalid value `5 seconds` for `-- spawn:lock-timeout`: expected an integer \
                 with an optional unit ms, s, min, h or d, e.g. `5s`"
                        .into()
                ),
                (
                    4,
                    "`-- spawn:statement-timeout` must be in the comment lines at the top of the \
                 migration, before any SQL"
                        .into()
                ),
                (
                    6,
                    "`-- spawn:statement-timeout` is given more than once".into()
                ),
                (
                    7,
                    "unknown directive `-- spawn:notransaction`; the known directives are \
                 `-- spawn:no-transaction`, `-- spawn:lock-timeout <duration>`, \
                 `-- spawn:statement-timeout <duration>`, `-- spawn:draft`, `-- spawn:repeatable`, `-- spawn:allow <hazard>`"
                        .into()
                ),
                (
                    8,
                    "unknown directive `-- spawn:`; the known directives are \
                 `-- spawn:no-transaction`, `-- spawn:lock-timeout <duration>`, \
                 `-- spawn:statement-timeout <duration>`, `-- spawn:draft`, `-- spawn:repeatable`, `-- spawn:allow <hazard>`"
                        .into()
                ),
            ]
        );
        assert_eq!(
            directives,
            Directives {
                no_transaction: false,
                lock_timeout: None,
                statement_timeout: Some("1s".into()),
            }
        );
    }
}
