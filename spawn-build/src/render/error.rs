//! Render errors: which migration, which file and line, minijinja's message, and a hint
//! where a common mistake is likely.

use std::fmt;
use std::io;
use std::path::PathBuf;

use minijinja::ErrorKind;

/// A migration that could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// `up.sql` could not be read.
    #[error("migration {migration}: could not read {}: {source}", path.display())]
    ReadTemplate {
        /// The migration.
        migration: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// `up.sql` is not UTF-8 text.
    #[error("migration {migration}: {} is not valid UTF-8 text ({source})", path.display())]
    NotUtf8 {
        /// The migration.
        migration: String,
        /// The file.
        path: PathBuf,
        /// Where the invalid bytes are.
        #[source]
        source: std::str::Utf8Error,
    },

    /// A pinned object the render needed is missing or corrupt.
    #[error("migration {migration}: {source}")]
    Pinned {
        /// The migration.
        migration: String,
        /// The object's problem (it names the object's file).
        #[source]
        source: Box<crate::pin::PinError>,
    },

    /// The template engine failed (syntax, missing include, undefined value, …).
    #[error(transparent)]
    Template(Box<TemplateError>),
}

/// A template engine failure, located in `up.sql` or a component.
#[derive(Debug, thiserror::Error)]
#[error(
    "migration {migration}: {location}{message}{}",
    Suffix { included_from, hint: hint.as_deref() }
)]
pub struct TemplateError {
    /// The migration.
    pub migration: String,
    /// The file and line where the error occurred (inside included templates, the innermost
    /// one).
    pub location: Location,
    /// The `{% include %}` sites that led there, outermost first.
    pub included_from: Vec<Location>,
    /// minijinja's message (kind and detail).
    pub message: String,
    /// What probably helps, if anything.
    pub hint: Option<String>,
    /// The original error.
    #[source]
    pub source: minijinja::Error,
}

impl RenderError {
    /// The migration that could not be rendered.
    pub fn migration(&self) -> &str {
        match self {
            RenderError::ReadTemplate { migration, .. }
            | RenderError::NotUtf8 { migration, .. }
            | RenderError::Pinned { migration, .. } => migration,
            RenderError::Template(err) => &err.migration,
        }
    }

    /// The minijinja error kind, for template errors.
    pub fn template_error_kind(&self) -> Option<ErrorKind> {
        match self {
            RenderError::Template(err) => Some(err.source.kind()),
            _ => None,
        }
    }
}

/// A file (the `up.sql` path or a component) and, when known, a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as shown to the user.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: ", self.file),
            None => write!(f, "{}: ", self.file),
        }
    }
}

/// ` (included from a:1, from b:2; hint: …)`, or nothing.
struct Suffix<'a> {
    included_from: &'a [Location],
    hint: Option<&'a str>,
}

impl fmt::Display for Suffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.included_from.is_empty() && self.hint.is_none() {
            return Ok(());
        }
        f.write_str(" (")?;
        // Nearest site first; a long chain (recursion) shows its two nearest and outermost.
        let sites: Vec<&Location> = self.included_from.iter().rev().collect();
        let shown: Vec<Option<&Location>> = if sites.len() > 4 {
            vec![Some(sites[0]), Some(sites[1]), None, sites.last().copied()]
        } else {
            sites.iter().copied().map(Some).collect()
        };
        for (i, site) in shown.into_iter().enumerate() {
            f.write_str(if i == 0 { "included from " } else { ", from " })?;
            match site {
                Some(Location {
                    file,
                    line: Some(line),
                }) => write!(f, "{file}:{line}")?,
                Some(Location { file, line: None }) => f.write_str(file)?,
                None => write!(f, "… {} more", sites.len() - 3)?,
            }
        }
        if let Some(hint) = self.hint {
            let sep = if self.included_from.is_empty() {
                ""
            } else {
                "; "
            };
            write!(f, "{sep}hint: {hint}")?;
        }
        f.write_str(")")
    }
}

/// minijinja's message without its ` (in name:line)` suffix.
pub(crate) fn short_message(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

/// A hint for `err`, given the source line it points at (if known) and where components
/// are looked up.
pub(crate) fn hint_for(
    err: &minijinja::Error,
    line_text: Option<&str>,
    components: &str,
) -> Option<String> {
    match err.kind() {
        ErrorKind::SyntaxError => {
            let line = line_text.unwrap_or_default();
            (line.contains("{{") || line.contains("{#") || line.contains("{%")).then(|| {
                "`{{`, `{%` and `{#` start template syntax even inside SQL strings; wrap \
                 literal text in {% raw %}…{% endraw %}"
                    .to_owned()
            })
        }
        ErrorKind::TemplateNotFound => Some(format!(
            "template names are exact paths relative to components/ (case-sensitive, no `./`), \
             looked up in {components}"
        )),
        ErrorKind::UndefinedError => Some(
            "an attribute or item of an undefined value; check the name, or guard it with \
             `is defined` or `|default(…)`"
                .to_owned(),
        ),
        ErrorKind::UnknownFilter | ErrorKind::UnknownFunction => Some(
            "spawn adds gen_uuid_v4/v5/v7, escape_identifier, escape_literal, read_file, \
             read_json/toml/yaml/csv, parse_json/toml/yaml/csv, base64_encode and \
             to_string_lossy to minijinja's builtins"
                .to_owned(),
        ),
        _ => None,
    }
}
