//! Rendering migration templates (`migrations/<name>/up.sql`) with minijinja.
//!
//! The rules are those of the original spawn CLI, byte for byte (the golden vectors in
//! `compat/` are the contract):
//!
//! * the context holds `env` (the environment name) and `variables` (the parsed variables
//!   file, or none);
//! * `{% include %}`, `{% import %}`, `{% from %}` and `{% extends %}` names are exact paths
//!   relative to `components/` ([`ComponentSource`]), from a pinned snapshot or from the
//!   working tree; a missing name is "template not found" (so `ignore missing` and include
//!   lists fall through), and names leaving `components/` (`..`, `/…`) are errors. Unlike the
//!   original, unpinned lookups follow the pinned rules too, so pinning never changes a
//!   render; `up.sql` itself always comes from the working tree;
//! * every `{{ … }}` is auto-escaped for PostgreSQL (see [`escape`]);
//! * spawn adds the functions `gen_uuid_v4`, `gen_uuid_v5` (DNS namespace) and
//!   `gen_uuid_v7`, and the filters `escape_identifier`, `escape_literal`, `read_file`
//!   (bytes), `read_json` / `read_toml` / `read_yaml`, `parse_json` / `parse_toml` /
//!   `parse_yaml`, `read_csv` / `parse_csv` (rows as maps by header, or lists with
//!   `header=false`; values are strings; `delimiter` and `quote` options),
//!   `base64_encode` and `to_string_lossy`;
//! * one trailing newline of each template is dropped (`keep_trailing_newline` off).
//!
//! [`render`] also reports which working-tree files it read, best effort which component
//! every output line came from, and every undefined name a `{{ … }}` printed as nothing
//! ([`UndefinedUse`], see the `undefined` module): the original spawn renders those as empty, and so
//! does this, byte for byte.

mod components;
mod csv_data;
mod error;
pub mod escape;
mod functions;
mod origins;
mod undefined;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minijinja::{context, Environment, ErrorKind, Value};

use crate::pin::Snapshot;
use components::Components;
pub use error::{Location, RenderError, TemplateError};
use functions::UuidLog;
use origins::MarkRegistry;
pub use origins::Origins;
pub use undefined::UndefinedUse;

/// Where `{% include %}` and friends, and `read_file` and friends, find components.
#[derive(Debug, Clone)]
pub enum ComponentSource {
    /// The working tree: the project's `components/` directory (it need not exist).
    Directory(PathBuf),
    /// A pinned snapshot (from the migration's `lock.toml`).
    Pinned(Arc<Snapshot>),
}

/// One migration to render for one environment.
#[derive(Debug, Clone, Copy)]
pub struct RenderRequest<'a> {
    /// The migration's folder name, for messages.
    pub migration_name: &'a str,
    /// `migrations/<name>/up.sql`, read from the working tree even when pinned.
    pub up_sql_path: &'a Path,
    /// Where components come from.
    pub components: &'a ComponentSource,
    /// The template variable `env`.
    pub environment: &'a str,
    /// The template variable `variables` (none when absent).
    pub variables: Option<&'a Value>,
}

/// A rendered migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The SQL, exactly as the original spawn CLI renders it.
    pub sql: String,
    /// Line origins: rendered lines from `first_line` (1-based) up to the next run came from
    /// that component (`None` = up.sql). May be empty if unknown.
    pub origins: Origins,
    /// Working-tree files that were read (up.sql, and components and data files when
    /// unpinned), for `cargo:rerun-if-changed`. Names that were looked up but not found
    /// (`ignore missing`, include lists) are not listed: watch `components/` itself to notice
    /// new files. Pinned objects are not listed either; see [`Snapshot::object_paths`].
    pub files_read: BTreeSet<PathBuf>,
    /// The names of the components the render found and read (pinned or not), e.g.
    /// `schema/tables/items.sql`.
    pub components_read: BTreeSet<String>,
    /// Whether the render drew random UUIDs (`gen_uuid_v4`, `gen_uuid_v7`): rendering the same
    /// inputs again gives other SQL.
    pub random: bool,
    /// Undefined names that a `{{ … }}` printed as nothing, each once, in file order.
    pub undefined: Vec<UndefinedUse>,
}

/// The templates in which a `{{ … }}` printed an undefined value (as nothing).
type PrintedUndefined = Arc<Mutex<BTreeSet<String>>>;

/// The name `up.sql` is registered under. It can never be a component key (keys never
/// start with `/`, and the loader rejects such names), so no component shadows it.
const UP_SQL_TEMPLATE: &str = "/up.sql";

/// Renders one migration.
pub fn render(req: &RenderRequest<'_>) -> Result<Rendered, RenderError> {
    render_with(req, &[])
}

/// Renders one template like [`render`], with `extra` variables in its context besides `env`
/// and `variables` (e.g. a callback's `migration`, see [`crate::callbacks`]).
pub fn render_with(
    req: &RenderRequest<'_>,
    extra: &[(&str, Value)],
) -> Result<Rendered, RenderError> {
    let source = read_up_sql(req)?;
    let components = Arc::new(Components::new(req.components.clone()));
    let uuids = Arc::new(UuidLog::default());
    let extra: Value = extra
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    let ctx = context! {
        env => req.environment,
        variables => req.variables.cloned().unwrap_or(Value::from(())),
        ..extra
    };

    let printed_undefined = PrintedUndefined::default();
    let env = environment(&components, &uuids, None, &printed_undefined);
    let sql = render_source(&env, &source, &ctx).map_err(|err| {
        // A pinned object that is missing or corrupt is the cause, whatever the template
        // made of it: report the object.
        match components.take_pin_failure() {
            Some(pin_error) => RenderError::Pinned {
                migration: req.migration_name.to_owned(),
                source: Box::new(pin_error),
            },
            None => template_error(req, &components, &source, err),
        }
    })?;

    // Second pass, with component markers, for line origins only; not needed when every
    // line is up.sql's (it read no component), the common case of big migrations.
    let origins = if components.none_looked_up() {
        origins::from_up_sql_only(&sql)
    } else {
        marked_origins(&components, &uuids, &source, &ctx, &sql)
    };

    let printed_in: Vec<String> = printed_undefined
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .cloned()
        .collect();
    let undefined = printed_in
        .iter()
        .flat_map(|name| {
            let (file, text) = template_text(req, &components, &source, Some(name));
            text.map(|text| undefined::find(&env, &file, &text, req.variables))
                .unwrap_or_default()
        })
        .collect();

    let mut files_read = components.files_read();
    files_read.insert(req.up_sql_path.to_path_buf());
    Ok(Rendered {
        sql,
        origins,
        files_read,
        components_read: components.found(),
        random: uuids.drew_any(),
        undefined,
    })
}

/// Which template each line of `sql` (the render of `source`) comes from: `source` rendered
/// again with a marker around each component, the markers then stripped; empty when that
/// render does not give `sql` back.
fn marked_origins(
    components: &Arc<Components>,
    uuids: &Arc<UuidLog>,
    source: &str,
    ctx: &Value,
    sql: &str,
) -> origins::Origins {
    let registry = Arc::new(MarkRegistry::default());
    let marked_env = environment(
        components,
        &Arc::new(uuids.replaying()),
        Some(Arc::clone(&registry)),
        &PrintedUndefined::default(),
    );
    let marked_source = registry.mark(None, source, false);
    match render_source(&marked_env, &marked_source, ctx) {
        Ok(marked) => origins::locate(&marked, &registry, sql),
        Err(_) => Vec::new(),
    }
}

fn read_up_sql(req: &RenderRequest<'_>) -> Result<String, RenderError> {
    let bytes = std::fs::read(req.up_sql_path).map_err(|source| RenderError::ReadTemplate {
        migration: req.migration_name.to_owned(),
        path: req.up_sql_path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| RenderError::NotUtf8 {
        migration: req.migration_name.to_owned(),
        path: req.up_sql_path.to_path_buf(),
        source: e.utf8_error(),
    })
}

fn render_source(
    env: &Environment<'static>,
    source: &str,
    ctx: &Value,
) -> Result<String, minijinja::Error> {
    let mut env = env.clone();
    env.add_template_owned(UP_SQL_TEMPLATE, source.to_owned())?;
    env.get_template(UP_SQL_TEMPLATE)?.render(ctx)
}

/// A minijinja environment with spawn's loader, escaping, filters and functions.
fn environment(
    components: &Arc<Components>,
    uuids: &Arc<UuidLog>,
    marks: Option<Arc<MarkRegistry>>,
    printed_undefined: &PrintedUndefined,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(false);
    env.set_auto_escape_callback(escape::auto_escape);
    let printed_undefined = Arc::clone(printed_undefined);
    env.set_formatter(move |out, state, value| {
        if value.is_undefined() {
            let mut names = printed_undefined
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            names.insert(state.name().to_owned());
        }
        escape::sql_formatter(out, state, value)
    });
    let loader_components = Arc::clone(components);
    env.set_loader(move |name| load_template(&loader_components, name, marks.as_deref()));
    functions::register(&mut env, components, uuids);
    env
}

fn load_template(
    components: &Components,
    name: &str,
    marks: Option<&MarkRegistry>,
) -> Result<Option<String>, minijinja::Error> {
    let invalid = |msg: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg);
    let Some(bytes) = components
        .read(name)
        .map_err(|e| invalid(format!("cannot load template: {e}")))?
    else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        invalid(format!(
            "component {name} is not valid UTF-8 text ({e}); binary files can only be read with read_file"
        ))
    })?;
    Ok(Some(match marks {
        Some(registry) => registry.mark(Some(name), text, true),
        None => text.to_owned(),
    }))
}

fn template_error(
    req: &RenderRequest<'_>,
    components: &Components,
    up_sql: &str,
    err: minijinja::Error,
) -> RenderError {
    // minijinja wraps a failure inside an included template (or a block) in an error of the
    // including site; report the innermost one and list the sites that led to it.
    let mut chain = vec![&err];
    while let Some(inner) = chain
        .last()
        .filter(|e| matches!(e.kind(), ErrorKind::BadInclude | ErrorKind::EvalBlock))
        .and_then(|e| std::error::Error::source(*e))
        .and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        chain.push(inner);
    }
    let innermost = chain.pop().unwrap_or(&err);
    let included_from = chain
        .iter()
        .map(|e| locate(req, components, up_sql, e).0)
        .collect();
    let (location, line_text) = locate(req, components, up_sql, innermost);
    let hint = error::hint_for(innermost, line_text.as_deref(), &components.describe());
    let message = error::short_message(innermost);
    RenderError::Template(Box::new(TemplateError {
        migration: req.migration_name.to_owned(),
        location,
        included_from,
        message,
        hint,
        source: err,
    }))
}

/// Where `err` happened, and the text of that line when available.
fn locate(
    req: &RenderRequest<'_>,
    components: &Components,
    up_sql: &str,
    err: &minijinja::Error,
) -> (Location, Option<String>) {
    let (file, text) = template_text(req, components, up_sql, err.name());
    let line_text = err
        .line()
        .and_then(|l| text.as_deref().and_then(|t| nth_line(t, l)));
    (
        Location {
            file,
            line: err.line(),
        },
        line_text,
    )
}

/// The template `name` (`up.sql` when `None`) as shown in messages, and its text when it
/// can be read.
fn template_text(
    req: &RenderRequest<'_>,
    components: &Components,
    up_sql: &str,
    name: Option<&str>,
) -> (String, Option<String>) {
    match name {
        Some(name) if name != UP_SQL_TEMPLATE => {
            let text = components
                .read(name)
                .ok()
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok());
            (components.display_name(name), text)
        }
        _ => (
            req.up_sql_path.display().to_string(),
            Some(up_sql.to_owned()),
        ),
    }
}

fn nth_line(text: &str, line: usize) -> Option<String> {
    text.lines().nth(line.checked_sub(1)?).map(str::to_owned)
}
