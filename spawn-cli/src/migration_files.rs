//! The files `spawn migration generate` writes: the new migration's `up.sql` and the
//! components it includes.
//!
//! Functions, procedures, views, materialized views and triggers that a plan creates (new,
//! changed, or re-created because something they depend on changed) go to
//! `components/<kind>/<schema>.<name>.sql` — or into the existing component that defines the
//! object, updated in place — and `up.sql` includes them with `{% include %}` at the plan's
//! position. Everything else is inline SQL. Text that minijinja would read as template
//! syntax is wrapped in `{% raw %}`.
//!
//! A component is written so that a later migration can include it again after it was edited:
//! a view's is `CREATE OR REPLACE VIEW`, and so is a trigger's from PostgreSQL 14 on (functions
//! and procedures already come as `CREATE OR REPLACE`). It also keeps a component's first line
//! the same whether the plan replaced its object or dropped and created it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use spawn_schema::{Action, ObjectKind, PlannedStatement};

/// One component file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Relative to `components/` (with `/`), as `{% include %}` names it.
    pub include: String,
    /// Its new text.
    pub text: String,
    /// Whether it existed (and is updated in place).
    pub existing: bool,
}

/// Where a migration's components go, and what is already there.
#[derive(Debug, Clone, Copy)]
pub struct ComponentPlace<'a> {
    /// The project's `components/` folder.
    pub dir: &'a Path,
    /// The components already written, by the objects they define ([`existing_components`]).
    pub existing: &'a HashMap<(String, String), String>,
    /// `server_version_num` of the server the migrations are applied to: from 14 on,
    /// `CREATE OR REPLACE TRIGGER` exists.
    pub server_version: i32,
}

/// How a generated migration runs: the `-- spawn:` directives it starts with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunsAs<'a> {
    /// `-- spawn:no-transaction`: its statements run one by one, outside a transaction.
    pub no_transaction: bool,
    /// `-- spawn:lock-timeout <value>`.
    pub lock_timeout: Option<&'a str>,
}

/// A migration's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationText {
    pub up_sql: String,
    pub components: Vec<Component>,
}

/// The folder of `components/` a statement's object goes to, if it is a component kind.
fn component_folder(s: &PlannedStatement) -> Option<&'static str> {
    let id = s.object.as_ref()?;
    if !matches!(s.action, Action::Create | Action::Alter) {
        return None;
    }
    let head: String = s
        .sql
        .split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let creates = |what: &str| {
        head.starts_with(&format!("CREATE {what} "))
            || head.starts_with(&format!("CREATE OR REPLACE {what} "))
    };
    match id.kind {
        ObjectKind::Function if creates("PROCEDURE") => Some("procedures"),
        ObjectKind::Function if creates("FUNCTION") => Some("functions"),
        ObjectKind::View if creates("VIEW") || creates("RECURSIVE VIEW") => Some("views"),
        ObjectKind::MaterializedView if creates("MATERIALIZED VIEW") => Some("materialized_views"),
        ObjectKind::Trigger if creates("TRIGGER") || creates("CONSTRAINT TRIGGER") => {
            Some("triggers")
        }
        _ => None,
    }
}

/// A component's statement in the form a later migration can include again: a view's
/// `CREATE VIEW` and (from PostgreSQL 14 on) a trigger's `CREATE TRIGGER` get `OR REPLACE`.
/// A constraint trigger cannot be replaced, and everything else is returned as it is.
fn re_includable<'a>(sql: &'a str, folder: &str, server_version: i32) -> Cow<'a, str> {
    let replaceable = match folder {
        "views" => "VIEW ",
        "triggers" if server_version >= 140_000 => "TRIGGER ",
        _ => return Cow::Borrowed(sql),
    };
    match sql
        .strip_prefix("CREATE ")
        .filter(|rest| rest.starts_with(replaceable))
    {
        Some(rest) => Cow::Owned(format!("CREATE OR REPLACE {rest}")),
        None => Cow::Borrowed(sql),
    }
}

/// `<schema>.<name>` (a trigger: `<schema>.<table>.<trigger>`), safe as a file name.
fn stem(s: &PlannedStatement) -> String {
    let Some(id) = &s.object else {
        return String::new();
    };
    let raw = if id.kind == ObjectKind::Trigger {
        format!("{}.{}.{}", id.schema, id.name, id.sub)
    } else {
        format!("{}.{}", id.schema, id.name)
    };
    safe_file_name(&raw)
}

fn safe_file_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `text`, wrapped in `{% raw %}` when minijinja would read part of it as a template.
pub fn escape_template(text: &str) -> String {
    if ["{{", "{%", "{#"].iter().any(|t| text.contains(t)) {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_string()
    }
}

/// The existing components, by the objects they define: `(folder, stem)` → include path.
/// Only files that define exactly one object of a component kind count (a file of several
/// definitions is not rewritten).
pub fn existing_components(components_dir: &Path) -> HashMap<(String, String), String> {
    let mut found: HashMap<(String, String), String> = HashMap::new();
    for entry in walkdir::WalkDir::new(components_dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let defined = definitions(&text);
        let [only] = defined.as_slice() else { continue };
        let Ok(relative) = path.strip_prefix(components_dir) else {
            continue;
        };
        let include = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        found.insert(only.clone(), include);
    }
    found
}

/// The `(folder, stem)` of each object a component's text creates, recognised from the words
/// after `CREATE [OR REPLACE]` (names unquoted, `public` when unqualified).
fn definitions(text: &str) -> Vec<(String, String)> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('"', ""))
        .collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let mut out = Vec::new();
    let qualified = |name: &str| {
        if name.contains('.') {
            name.to_string()
        } else {
            format!("public.{name}")
        }
    };
    let mut i = 0;
    while i < lower.len() {
        if lower[i] != "create" {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if lower.get(j).map(String::as_str) == Some("or")
            && lower.get(j + 1).map(String::as_str) == Some("replace")
        {
            j += 2;
        }
        let at = |k: usize| lower.get(k).map(String::as_str).unwrap_or_default();
        let (folder, name_at) = match at(j) {
            "function" => ("functions", j + 1),
            "procedure" => ("procedures", j + 1),
            "view" => ("views", j + 1),
            "recursive" if at(j + 1) == "view" => ("views", j + 2),
            "materialized" if at(j + 1) == "view" => ("materialized_views", j + 2),
            "trigger" => ("triggers", j + 1),
            "constraint" if at(j + 1) == "trigger" => ("triggers", j + 2),
            _ => {
                i += 1;
                continue;
            }
        };
        let Some(name) = words.get(name_at) else {
            break;
        };
        let stem = if folder == "triggers" {
            // CREATE TRIGGER name … ON table
            let on = (name_at + 1..lower.len()).find(|&k| lower[k] == "on");
            match on.and_then(|k| words.get(k + 1)) {
                Some(table) => format!("{}.{name}", qualified(table)),
                None => {
                    i = name_at;
                    continue;
                }
            }
        } else {
            qualified(name)
        };
        out.push((folder.to_string(), safe_file_name(&stem)));
        i = name_at;
    }
    out
}

/// The text of a migration of `statements`: a header listing `changes`, then each statement
/// inline or as an include of its component (an existing one of `place` where it defines the
/// object). The directives of `runs_as` go before the header. A setting the plan needs
/// (`SET check_function_bodies`) is `SET LOCAL` in a transactional migration, so the
/// migrations after it in the same run are not affected.
pub fn migration_text(
    runs_as: RunsAs<'_>,
    header: &str,
    statements: &[PlannedStatement],
    place: ComponentPlace<'_>,
) -> MigrationText {
    let mut up = String::new();
    if runs_as.no_transaction {
        up.push_str("-- spawn:no-transaction\n");
    }
    if let Some(timeout) = runs_as.lock_timeout {
        up.push_str(&format!("-- spawn:lock-timeout {timeout}\n"));
    }
    for line in header.lines() {
        up.push_str("-- ");
        up.push_str(line);
        up.push('\n');
    }
    // Overloaded functions of one name each get a file of their own.
    let mut per_stem: BTreeMap<(String, String), usize> = BTreeMap::new();
    for s in statements {
        if let Some(folder) = component_folder(s) {
            *per_stem.entry((folder.to_string(), stem(s))).or_default() += 1;
        }
    }
    let mut components: Vec<Component> = Vec::new();
    for s in statements {
        up.push('\n');
        let Some(folder) = component_folder(s) else {
            let sql = match s.sql.strip_prefix("SET ") {
                // Only for this migration's transaction, not the rest of the run's session.
                Some(setting) if s.action == Action::Setup && !runs_as.no_transaction => {
                    Cow::Owned(format!("SET LOCAL {setting}"))
                }
                _ => Cow::Borrowed(s.sql.as_str()),
            };
            up.push_str(&escape_template(&format!("{sql};")));
            up.push('\n');
            continue;
        };
        let mut file_stem = stem(s);
        let key = (folder.to_string(), file_stem.clone());
        let overloaded = per_stem.get(&key).copied().unwrap_or(0) > 1;
        let reuse = (!overloaded).then(|| place.existing.get(&key)).flatten();
        let include = match reuse {
            Some(include) => include.clone(),
            None => {
                if overloaded {
                    let signature = s.object.as_ref().map(|id| id.sub.to_string());
                    file_stem = format!(
                        "{file_stem}-{}",
                        safe_file_name(signature.as_deref().unwrap_or_default())
                    );
                }
                let mut include = format!("{folder}/{file_stem}.sql");
                // Never two includes of one new file.
                let mut n = 2;
                while components.iter().any(|c| c.include == include) {
                    include = format!("{folder}/{file_stem}-{n}.sql");
                    n += 1;
                }
                include
            }
        };
        let existed = place.dir.join(&include).is_file();
        up.push_str(&format!("{{% include \"{include}\" %}}\n"));
        let sql = re_includable(&s.sql, folder, place.server_version);
        components.push(Component {
            include,
            text: escape_template(&format!("{sql};\n")),
            existing: existed,
        });
    }
    MigrationText {
        up_sql: up,
        components,
    }
}

/// At most this many threads write the components of one migration.
const WRITERS: usize = 4;
/// Each writing thread writes at least this many files (fewer go on one thread).
const FILES_PER_WRITER: usize = 16;

/// Writes `text`'s components under `components_dir`; returns their paths. A migration
/// that changes many functions and views writes as many files, each of which waits on the
/// file system more than it computes: they are written on a few threads at once.
pub fn write_components(
    components_dir: &Path,
    text: &MigrationText,
) -> std::io::Result<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = text
        .components
        .iter()
        .map(|c| components_dir.join(&c.include))
        .collect();
    let folders: std::collections::BTreeSet<&Path> =
        paths.iter().filter_map(|p| p.parent()).collect();
    for folder in folders {
        std::fs::create_dir_all(folder).map_err(|e| named(folder, e))?;
    }
    let files: Vec<(&PathBuf, &str)> = paths
        .iter()
        .zip(&text.components)
        .map(|(path, c)| (path, c.text.as_str()))
        .collect();
    let per_thread = files.len().div_ceil(WRITERS).max(FILES_PER_WRITER);
    std::thread::scope(|scope| {
        let writers: Vec<_> = files
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().try_for_each(|(path, text)| {
                        std::fs::write(path, text).map_err(|e| named(path, e))
                    })
                })
            })
            .collect();
        writers.into_iter().try_for_each(|writer| {
            writer.join().unwrap_or_else(|_| {
                Err(std::io::Error::other("a thread writing components failed"))
            })
        })
    })?;
    Ok(paths)
}

/// `error`, naming the file or folder it happened to.
fn named(path: &Path, error: std::io::Error) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawn_schema::ObjectId;

    fn stmt(kind: ObjectKind, schema: &str, name: &str, sub: &str, sql: &str) -> PlannedStatement {
        PlannedStatement {
            sql: sql.into(),
            object: Some(ObjectId::part(kind, schema, name, sub)),
            action: Action::Create,
            unsafe_reason: None,
        }
    }

    #[test]
    fn components_for_functions_views_and_triggers_inline_for_the_rest() {
        let statements = vec![
            stmt(ObjectKind::Table, "public", "t", "", "CREATE TABLE public.t (id int)"),
            stmt(
                ObjectKind::Function,
                "public",
                "f",
                "",
                "CREATE OR REPLACE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT '{{x}}'::text::int $$",
            ),
            stmt(ObjectKind::View, "app", "v", "", "CREATE VIEW app.v AS SELECT 1"),
            stmt(
                ObjectKind::Trigger,
                "public",
                "t",
                "trg",
                "CREATE TRIGGER trg BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()",
            ),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let text = migration_text(
            RunsAs::default(),
            "changes:",
            &statements,
            place(dir.path(), &HashMap::new()),
        );
        assert!(text.up_sql.starts_with("-- changes:\n"), "{}", text.up_sql);
        assert!(text.up_sql.contains("CREATE TABLE public.t (id int);"));
        assert!(text
            .up_sql
            .contains("{% include \"functions/public.f.sql\" %}"));
        assert!(text.up_sql.contains("{% include \"views/app.v.sql\" %}"));
        assert!(text
            .up_sql
            .contains("{% include \"triggers/public.t.trg.sql\" %}"));
        assert!(text.components[0]
            .text
            .starts_with("{% raw %}CREATE OR REPLACE FUNCTION"));
    }

    fn place<'a>(
        dir: &'a Path,
        existing: &'a HashMap<(String, String), String>,
    ) -> ComponentPlace<'a> {
        ComponentPlace {
            dir,
            existing,
            server_version: 150_000,
        }
    }

    /// A component is written so that a later migration can include it again: views and
    /// (from PostgreSQL 14) triggers are replaced; a constraint trigger and a materialized view
    /// cannot be, and a statement that already replaces is left as it is.
    #[test]
    fn views_and_triggers_are_written_as_create_or_replace() {
        let trigger =
            "CREATE TRIGGER trg BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()";
        let constraint_trigger = "CREATE CONSTRAINT TRIGGER ck AFTER INSERT ON public.t \
                                  DEFERRABLE FOR EACH ROW EXECUTE FUNCTION public.f()";
        let matview = "CREATE MATERIALIZED VIEW app.m AS\n SELECT 1\nWITH DATA";
        let statements = vec![
            stmt(
                ObjectKind::View,
                "app",
                "v",
                "",
                "CREATE VIEW app.v AS\n SELECT 1",
            ),
            stmt(
                ObjectKind::View,
                "app",
                "w",
                "",
                "CREATE OR REPLACE VIEW app.w AS\n SELECT 2",
            ),
            stmt(ObjectKind::Trigger, "public", "t", "trg", trigger),
            stmt(ObjectKind::Trigger, "public", "t", "ck", constraint_trigger),
            stmt(ObjectKind::MaterializedView, "app", "m", "", matview),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let none = HashMap::new();
        let texts = |server_version| -> Vec<String> {
            let place = ComponentPlace {
                server_version,
                ..place(dir.path(), &none)
            };
            let text = migration_text(RunsAs::default(), "", &statements, place);
            text.components.into_iter().map(|c| c.text).collect()
        };
        assert_eq!(
            texts(150_000),
            [
                "CREATE OR REPLACE VIEW app.v AS\n SELECT 1;\n".to_string(),
                "CREATE OR REPLACE VIEW app.w AS\n SELECT 2;\n".to_string(),
                format!(
                    "CREATE OR REPLACE TRIGGER {};\n",
                    &trigger["CREATE TRIGGER ".len()..]
                ),
                format!("{constraint_trigger};\n"),
                format!("{matview};\n"),
            ]
        );
        let on_13 = texts(130_011);
        assert_eq!(on_13[0], "CREATE OR REPLACE VIEW app.v AS\n SELECT 1;\n");
        assert_eq!(on_13[2], format!("{trigger};\n"));
    }

    /// The plan's setting holds for the migration's transaction only; outside a transaction
    /// `SET LOCAL` would do nothing, so it stays `SET` there.
    #[test]
    fn a_setting_is_local_to_a_transactional_migration() {
        let statements = vec![PlannedStatement {
            sql: "SET check_function_bodies = false".into(),
            object: None,
            action: Action::Setup,
            unsafe_reason: None,
        }];
        let dir = tempfile::tempdir().expect("tempdir");
        let none = HashMap::new();
        let up = |runs_as| migration_text(runs_as, "", &statements, place(dir.path(), &none));
        let with_timeout = RunsAs {
            lock_timeout: Some("5s"),
            ..RunsAs::default()
        };
        for runs_as in [RunsAs::default(), with_timeout] {
            assert!(
                up(runs_as)
                    .up_sql
                    .contains("\nSET LOCAL check_function_bodies = false;\n"),
                "{runs_as:?}"
            );
        }
        assert!(up(with_timeout)
            .up_sql
            .starts_with("-- spawn:lock-timeout 5s\n"));
        let outside = up(RunsAs {
            no_transaction: true,
            ..RunsAs::default()
        })
        .up_sql;
        assert!(
            outside.starts_with("-- spawn:no-transaction\n")
                && outside.contains("\nSET check_function_bodies = false;\n"),
            "{outside}"
        );
    }

    #[test]
    fn an_existing_component_is_found_by_what_it_defines() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("fns")).expect("mkdir");
        std::fs::write(
            dir.path().join("fns/greet.sql"),
            "CREATE OR REPLACE FUNCTION \"greet\"(who text) RETURNS text AS $$ SELECT who $$ LANGUAGE sql;",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("two.sql"),
            "CREATE VIEW a AS SELECT 1; CREATE VIEW b AS SELECT 2;",
        )
        .expect("write");
        let found = existing_components(dir.path());
        assert_eq!(
            found.get(&("functions".into(), "public.greet".into())),
            Some(&"fns/greet.sql".to_string())
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let statements = vec![stmt(
            ObjectKind::Function,
            "public",
            "greet",
            "text",
            "CREATE OR REPLACE FUNCTION public.greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hi ' || who $$",
        )];
        let text = migration_text(
            RunsAs::default(),
            "",
            &statements,
            place(dir.path(), &found),
        );
        assert!(
            text.up_sql.contains("{% include \"fns/greet.sql\" %}"),
            "{}",
            text.up_sql
        );
        assert!(text.components[0].existing);
    }

    #[test]
    fn many_components_are_written_each_to_its_path_and_a_failure_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let components: Vec<Component> = (0..70)
            .map(|i| Component {
                include: format!("{}/app.c_{i}.sql", ["functions", "views"][i % 2]),
                text: format!("-- component {i}\n"),
                existing: false,
            })
            .collect();
        let text = MigrationText {
            up_sql: String::new(),
            components,
        };
        let paths = write_components(dir.path(), &text).expect("write");
        assert_eq!(paths.len(), 70);
        for (path, c) in paths.iter().zip(&text.components) {
            assert_eq!(*path, dir.path().join(&c.include));
            assert_eq!(std::fs::read_to_string(path).expect("read"), c.text);
        }
        // A folder where one of the files should go: the error names that file.
        let blocked = dir.path().join("views/app.c_41.sql");
        std::fs::remove_file(&blocked).expect("remove");
        std::fs::create_dir(&blocked).expect("a folder in its place");
        let error = write_components(dir.path(), &text).expect_err("a folder is in the way");
        assert!(
            error.to_string().contains(&blocked.display().to_string()),
            "{error}"
        );
        // A file where a folder should be: the error names that folder.
        let other = tempfile::tempdir().expect("tempdir");
        std::fs::write(other.path().join("views"), "").expect("a file in its place");
        let error = write_components(other.path(), &text).expect_err("a file is in the way");
        assert!(
            error
                .to_string()
                .contains(&other.path().join("views").display().to_string()),
            "{error}"
        );
    }
}
