//! psql's meta-commands that spawn test supports, parsed from what the scanner read, and
//! the up-front check of a whole script ([`validate_script`]).
//!
//! ```
//! use spawn_sqltest::psql::meta::{MetaCommand, validate_script};
//! use spawn_sqltest::psql::scan::MetaArg;
//!
//! let parsed = MetaCommand::parse("echo", &[MetaArg::plain("-n"), MetaArg::plain("hi")], 1).unwrap();
//! assert_eq!(parsed.command, MetaCommand::Echo { args: vec!["hi".into()], no_newline: true });
//!
//! let errors = validate_script("select 1;\n\\d t\n\\if on\n").unwrap_err();
//! assert_eq!(errors.len(), 2);
//! assert!(errors[0].to_string().starts_with("line 2: \\d is not supported by spawn test"));
//! assert_eq!(errors[1].to_string(), "line 3: reached EOF without finding closing \\endif(s)");
//! ```

use crate::psql::scan::{Item, MetaArg, ScanError, Scanner};
use crate::psql::vars::{parse_bool, parse_bool_named, VarError, Variables};

/// The meta-commands spawn test runs, as named in its error messages.
pub const SUPPORTED: &str =
    "\\echo, \\qecho, \\warn, \\set, \\unset, \\g, \\gx, \\gset, \\pset, \\x, \\if, \\elif, \\else, \\endif, \\sessions, \\session";

/// A meta-command spawn test cannot run, or an unbalanced conditional.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    #[error("line {line}: \\{command} is not supported by spawn test; supported meta-commands: {SUPPORTED}")]
    Unsupported { command: String, line: usize },
    #[error("line {line}: \\{command} with an argument (output file or options) is not supported by spawn test")]
    UnsupportedArgument { command: String, line: usize },
    /// psql's `\unset: missing required argument`.
    #[error("\\{command}: missing required argument")]
    MissingArgument { command: String, line: usize },
    /// A bad value (`\x maybe`), with psql's message.
    #[error("{source}")]
    Value { source: VarError, line: usize },
    /// psql's `\endif: no matching \if` (also `\elif`, `\else`).
    #[error("line {line}: \\{command}: no matching \\if")]
    NoMatchingIf { command: String, line: usize },
    /// psql's `\elif: cannot occur after \else` (also `\else`).
    #[error("line {line}: \\{command}: cannot occur after \\else")]
    AfterElse { command: String, line: usize },
    /// `\session` without exactly one valid session name.
    #[error("line {line}: \\session takes one session name (a letter or _, then letters, digits or _), not {given}")]
    BadSession { given: String, line: usize },
    /// `\sessions` without names, or with one that is not valid.
    #[error("line {line}: \\sessions declares the test's sessions: one or more names (a letter or _, then letters, digits or _), not {given}")]
    BadSessions { given: String, line: usize },
    /// `\session NAME` before a `\sessions` line that declares `NAME`.
    #[error("line {line}: session {name} is used before it is declared; declare the test's sessions above their first use, e.g. `\\sessions {name}`")]
    UndeclaredSession { name: String, line: usize },
    /// psql's `reached EOF without finding closing \endif(s)`; `line` is the open `\if`'s.
    #[error("line {line}: reached EOF without finding closing \\endif(s)")]
    MissingEndif { line: usize },
}

/// `\x`'s argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expanded {
    On,
    Off,
    Auto,
    Toggle,
}

/// A supported meta-command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    /// `\echo [-n] args…`: the arguments joined by spaces, then a newline unless `-n`.
    Echo {
        args: Vec<String>,
        no_newline: bool,
    },
    /// `\qecho`: like `\echo`, to the query output.
    Qecho {
        args: Vec<String>,
        no_newline: bool,
    },
    /// `\warn`: like `\echo`, to standard error.
    Warn {
        args: Vec<String>,
        no_newline: bool,
    },
    /// `\set name value…`: the value is the concatenation of the arguments ('' if none).
    Set {
        name: String,
        value: String,
    },
    /// `\set` without arguments: print [`Variables::listing`].
    ListVariables,
    /// `\unset name`.
    Unset(String),
    /// `\g`: send the query.
    G,
    /// `\gx`: send it, printed expanded.
    Gx,
    /// `\gset [prefix]`: send it and store the single row's columns in variables.
    Gset(Option<String>),
    /// `\pset [option [value]]`.
    Pset {
        option: Option<String>,
        value: Option<String>,
    },
    /// `\x [on|off|auto]`.
    X(Expanded),
    /// `\if expression`: the arguments joined by spaces, as psql gathers them
    /// (interpolated, not yet evaluated: see [`condition`]).
    If(String),
    /// `\elif expression`.
    Elif(String),
    Else,
    Endif,
    /// `\session name` (spawn's own): the following statements run in session `name`
    /// (see [`crate::psql::sessions`]).
    Session(String),
    /// `\sessions a b …` (spawn's own): declares the sessions the script uses.
    Sessions(Vec<String>),
}

/// A parsed meta-command and the arguments psql ignores (with a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMeta {
    pub command: MetaCommand,
    /// The name it was written with.
    pub name: String,
    /// Arguments beyond those the command takes, as psql shows them in its warning (not
    /// interpolated).
    pub ignored: Vec<String>,
}

impl ParsedMeta {
    /// psql's warnings for the ignored arguments (`\endif: extra argument "x" ignored`).
    pub fn warnings(&self) -> Vec<String> {
        self.ignored
            .iter()
            .map(|arg| format!("\\{}: extra argument \"{arg}\" ignored", self.name))
            .collect()
    }
}

/// The `-n` handling psql shares between `\echo`, `\qecho` and `\warn`: only a first,
/// unquoted `-n` is the option.
fn echo_args(args: &[MetaArg]) -> (Vec<String>, bool) {
    match args.split_first() {
        Some((first, rest)) if !first.quoted && first.value == "-n" => {
            (rest.iter().map(|a| a.value.clone()).collect(), true)
        }
        _ => (args.iter().map(|a| a.value.clone()).collect(), false),
    }
}

impl MetaCommand {
    /// Parses a meta-command read by the scanner; anything spawn test does not support is
    /// [`MetaError::Unsupported`].
    pub fn parse(command: &str, args: &[MetaArg], line: usize) -> Result<ParsedMeta, MetaError> {
        let value = |i: usize| args.get(i).map(|a| a.value.clone());
        let unsupported = || MetaError::Unsupported {
            command: command.to_owned(),
            line,
        };
        let parsed = match command {
            "echo" | "qecho" | "warn" => {
                let (args, no_newline) = echo_args(args);
                match command {
                    "echo" => Self::Echo { args, no_newline },
                    "qecho" => Self::Qecho { args, no_newline },
                    _ => Self::Warn { args, no_newline },
                }
            }
            "set" => match args.split_first() {
                None => Self::ListVariables,
                Some((name, rest)) => Self::Set {
                    name: name.value.clone(),
                    value: rest.iter().map(|a| a.value.as_str()).collect(),
                },
            },
            "unset" => match value(0) {
                Some(name) => Self::Unset(name),
                None => {
                    return Err(MetaError::MissingArgument {
                        command: command.to_owned(),
                        line,
                    })
                }
            },
            "g" | "gx" if !args.is_empty() => {
                return Err(MetaError::UnsupportedArgument {
                    command: command.to_owned(),
                    line,
                })
            }
            "g" => Self::G,
            "gx" => Self::Gx,
            "gset" => Self::Gset(value(0)),
            "pset" => Self::Pset {
                option: value(0),
                value: value(1),
            },
            "x" => Self::X(
                expanded(value(0).as_deref())
                    .map_err(|source| MetaError::Value { source, line })?,
            ),
            "if" => Self::If(joined(args)),
            "elif" => Self::Elif(joined(args)),
            "else" => Self::Else,
            "endif" => Self::Endif,
            "session" => match args {
                // Quoted too: a template's `{{ name }}` is written as a literal.
                [name] if crate::psql::sessions::valid_name(&name.value) => {
                    Self::Session(name.value.clone())
                }
                _ => {
                    return Err(MetaError::BadSession {
                        given: described(args),
                        line,
                    });
                }
            },
            "sessions" => {
                if args.is_empty()
                    || !args
                        .iter()
                        .all(|a| crate::psql::sessions::valid_name(&a.value))
                {
                    return Err(MetaError::BadSessions {
                        given: described(args),
                        line,
                    });
                }
                Self::Sessions(args.iter().map(|a| a.value.clone()).collect())
            }
            _ => return Err(unsupported()),
        };
        Ok(ParsedMeta {
            command: parsed,
            name: command.to_owned(),
            ignored: args
                .iter()
                .skip(arguments_taken(command))
                .map(|a| a.value.clone())
                .collect(),
        })
    }
}

/// How many arguments `command` reads. psql reads any further ones only to warn about
/// them, without interpolating variables or running backquotes.
pub(crate) fn arguments_taken(command: &str) -> usize {
    match command {
        "else" | "endif" => 0,
        "unset" | "gset" | "x" | "g" | "gx" => 1,
        "pset" => 2,
        _ => usize::MAX,
    }
}

/// `\x`'s argument: `auto`, a boolean, or nothing (toggle); psql's error otherwise.
fn expanded(value: Option<&str>) -> Result<Expanded, VarError> {
    match value {
        None => Ok(Expanded::Toggle),
        Some(v) if v.eq_ignore_ascii_case("auto") => Ok(Expanded::Auto),
        Some(v) => match parse_bool(v) {
            Some(true) => Ok(Expanded::On),
            Some(false) => Ok(Expanded::Off),
            None => Err(VarError::NotInList {
                name: "expanded".to_owned(),
                value: v.to_owned(),
                allowed: "on, off, auto",
            }),
        },
    }
}

/// Evaluates an `\if`/`\elif` expression (`command` is `if` or `elif`) by psql's boolean
/// rules. On error psql prints the message (`unrecognized value "x" for "\if expression":
/// Boolean expected`) and treats the branch as false, without failing the command.
pub fn condition(expression: &str, command: &str) -> Result<bool, VarError> {
    parse_bool_named(expression, &format!("\\{command} expression"))
}

/// The arguments as an error message shows them: each quoted, or `nothing`.
fn described(args: &[MetaArg]) -> String {
    if args.is_empty() {
        return "nothing".to_owned();
    }
    args.iter()
        .map(|a| format!("{:?}", a.value))
        .collect::<Vec<_>>()
        .join(" ")
}

/// All arguments joined by single spaces (how psql gathers an `\if` expression).
fn joined(args: &[MetaArg]) -> String {
    args.iter()
        .map(|a| a.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scans a whole script without running it, every `\if` branch included, and reports
/// every meta-command spawn test does not support (with its line) and every unbalanced
/// `\if`/`\elif`/`\else`/`\endif` and every `\session` whose name no `\sessions` line
/// above declares, before anything runs. `\set` and `\unset` are applied so that
/// interpolation sees their values.
pub fn validate_script(text: &str) -> Result<(), Vec<ScanError>> {
    let mut scanner = Scanner::new(text);
    let mut vars = Variables::new();
    let mut errors = Vec::new();
    // Per open \if: its line and whether its \else was seen.
    let mut open: Vec<(usize, bool)> = Vec::new();
    // Declared session names: by the text's order, whichever branch declares them.
    let mut declared = std::collections::HashSet::new();
    loop {
        let item = match scanner.next(&vars, true) {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let Item::Meta {
            command,
            args,
            line,
            ..
        } = item
        else {
            continue;
        };
        let parsed = match MetaCommand::parse(&command, &args, line) {
            Ok(parsed) => parsed,
            Err(error) => {
                if matches!(
                    error,
                    MetaError::Unsupported { .. }
                        | MetaError::UnsupportedArgument { .. }
                        | MetaError::BadSession { .. }
                        | MetaError::BadSessions { .. }
                ) {
                    errors.push(error.into());
                }
                scanner.discard_rest_of_line();
                continue;
            }
        };
        let structure = |open: &Vec<(usize, bool)>| match open.last() {
            None => Some(MetaError::NoMatchingIf {
                command: command.clone(),
                line,
            }),
            Some((_, true)) => Some(MetaError::AfterElse {
                command: command.clone(),
                line,
            }),
            Some(_) => None,
        };
        match parsed.command {
            MetaCommand::If(_) => open.push((line, false)),
            MetaCommand::Elif(_) | MetaCommand::Else => match structure(&open) {
                Some(error) => errors.push(error.into()),
                None => {
                    if let (MetaCommand::Else, Some(top)) = (&parsed.command, open.last_mut()) {
                        top.1 = true;
                    }
                }
            },
            // Closes the innermost \if; an error when there is none.
            MetaCommand::Endif if open.pop().is_none() => {
                errors.push(
                    MetaError::NoMatchingIf {
                        command: command.clone(),
                        line,
                    }
                    .into(),
                );
            }
            MetaCommand::Set { name, value } => {
                let _refused_like_psql = vars.set(&name, Some(&value));
            }
            MetaCommand::Unset(name) => {
                let _refused_like_psql = vars.set(&name, None);
            }
            MetaCommand::Sessions(names) => declared.extend(names),
            MetaCommand::Session(name) if !declared.contains(&name) => {
                errors.push(MetaError::UndeclaredSession { name, line }.into());
            }
            _ => {}
        }
    }
    if let Some(&(line, _)) = open.first() {
        errors.push(MetaError::MissingEndif { line }.into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(values: &[&str]) -> Vec<MetaArg> {
        values.iter().map(|v| MetaArg::plain(*v)).collect()
    }

    #[test]
    fn echo_takes_only_a_first_unquoted_dash_n() {
        let parse = |a: Vec<MetaArg>| MetaCommand::parse("echo", &a, 1).unwrap().command;
        assert_eq!(
            parse(args(&["-n", "-n", "y"])),
            MetaCommand::Echo {
                args: vec!["-n".into(), "y".into()],
                no_newline: true
            }
        );
        let quoted = vec![MetaArg {
            value: "-n".into(),
            quoted: true,
        }];
        assert_eq!(
            parse(quoted),
            MetaCommand::Echo {
                args: vec!["-n".into()],
                no_newline: false
            }
        );
        assert_eq!(
            parse(args(&["x", "-n"])),
            MetaCommand::Echo {
                args: vec!["x".into(), "-n".into()],
                no_newline: false
            }
        );
    }

    #[test]
    fn set_concatenates_and_lists() {
        let parsed = MetaCommand::parse("set", &args(&["v", "1;select", "2"]), 1).unwrap();
        assert_eq!(
            parsed.command,
            MetaCommand::Set {
                name: "v".into(),
                value: "1;select2".into()
            }
        );
        assert_eq!(
            MetaCommand::parse("set", &[], 1).unwrap().command,
            MetaCommand::ListVariables
        );
        assert_eq!(
            MetaCommand::parse("set", &args(&["v"]), 1).unwrap().command,
            MetaCommand::Set {
                name: "v".into(),
                value: String::new()
            }
        );
    }

    #[test]
    fn extra_arguments_are_warned_about() {
        let parsed = MetaCommand::parse("endif", &args(&["extra"]), 3).unwrap();
        assert_eq!(
            parsed.warnings(),
            ["\\endif: extra argument \"extra\" ignored"]
        );
    }

    #[test]
    fn unsupported_commands_name_themselves_and_the_supported_ones() {
        let err = MetaCommand::parse("copy", &args(&["t", "from", "stdin"]), 7).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("line 7: \\copy is not supported"),
            "{text}"
        );
        assert!(text.contains("\\gset"), "{text}");
        assert!(MetaCommand::parse("g", &args(&["out.txt"]), 1).is_err());
        assert_eq!(
            MetaCommand::parse("unset", &[], 1).unwrap_err().to_string(),
            "\\unset: missing required argument"
        );
    }

    #[test]
    fn x_and_conditions() {
        let x = |v: &[&str]| MetaCommand::parse("x", &args(v), 1).map(|p| p.command);
        assert_eq!(x(&[]), Ok(MetaCommand::X(Expanded::Toggle)));
        assert_eq!(x(&["AUTO"]), Ok(MetaCommand::X(Expanded::Auto)));
        assert_eq!(x(&["of"]), Ok(MetaCommand::X(Expanded::Off)));
        assert_eq!(
            x(&["maybe"]).unwrap_err().to_string(),
            "unrecognized value \"maybe\" for \"expanded\"\nAvailable values are: on, off, auto."
        );
        assert_eq!(condition("yes", "if"), Ok(true));
        assert_eq!(
            condition("maybe", "if").unwrap_err().to_string(),
            "unrecognized value \"maybe\" for \"\\if expression\": Boolean expected"
        );
        assert!(condition("", "elif").is_err());
        let gathered = MetaCommand::parse("if", &args(&["true", "x"]), 1).unwrap();
        assert_eq!(gathered.command, MetaCommand::If("true x".into()));
        assert!(gathered.ignored.is_empty());
    }

    #[test]
    fn validation_reports_everything_up_front() {
        let script = "\\if false\n\\d t\n\\else\n\\copy t to stdout\n\\else\n\\endif\n\\endif\n\\elif on\nselect ':x' \\foo\n\\set v 1\n";
        let errors = validate_script(script).unwrap_err();
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(texts.len(), 6, "{texts:#?}");
        assert!(texts[0].starts_with("line 2: \\d is not supported"));
        assert!(texts[1].starts_with("line 4: \\copy is not supported"));
        assert_eq!(texts[2], "line 5: \\else: cannot occur after \\else");
        assert_eq!(texts[3], "line 7: \\endif: no matching \\if");
        assert_eq!(texts[4], "line 8: \\elif: no matching \\if");
        assert!(texts[5].starts_with("line 9: \\foo is not supported"));
        assert_eq!(
            validate_script("\\set a 1\n\\if :a\n\\echo x\n\\endif\n"),
            Ok(())
        );
    }

    #[test]
    fn validation_refuses_backquotes() {
        let errors = validate_script("\\set v `date`\nselect 1;\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .contains("shell commands are not supported"));
    }
}
