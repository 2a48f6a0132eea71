//! The folders of a spawn project and the migrations in them.
//!
//! ```text
//! <spawn_folder>/
//!   components/**                 templates and data files, included by migrations
//!   migrations/<name>/up.sql      a migration template
//!   migrations/<name>/down.sql    what a rollback runs to undo it (optional)
//!   migrations/<name>/lock.toml   its pin, once pinned
//!   pinned/<2 hex>/<rest>         the content-addressed pin store
//!   callbacks/<callback>.sql      SQL callbacks around a run (before_migrate, after_each, …)
//!   tests/                        tests (used by the CLI)
//! ```
//!
//! Migrations run in byte-wise order of their folder names, which are
//! `<UTC YYYYMMDDHHMMSS>-<name>` ([`check_migration_folder`], the one naming rule every
//! command applies).

use std::path::{Path, PathBuf};

/// A problem with the project's folders.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot list migrations in {}: {source}. Create the folder, or check spawn_folder in spawn.toml", path.display())]
    ListMigrations {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("migration folder {} has no up.sql: add one, or remove the folder", path.display())]
    MissingUpSql { path: PathBuf },
    #[error("migration folder name {name:?} in {} is not valid UTF-8: rename it", dir.display())]
    NonUtf8Name { dir: PathBuf, name: String },
    #[error(transparent)]
    Naming(#[from] NamingError),
}

/// A migration folder whose name breaks the rule of [`check_migration_folder`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "migration folder `migrations/{folder}` {reason}: rename `migrations/{folder}` to \
     `migrations/{suggested}` (migrations are named `<UTC YYYYMMDDHHMMSS>-<name>`, as \
     `spawn migration new` makes them)"
)]
pub struct NamingError {
    /// The folder's name.
    pub folder: String,
    /// What is wrong with it.
    pub reason: String,
    /// The name to rename it to.
    pub suggested: String,
}

/// The folders of one project.
#[derive(Debug, Clone)]
pub struct Layout {
    pub spawn_folder: PathBuf,
}

/// One `migrations/<name>/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationDir {
    pub name: String,
    pub dir: PathBuf,
}

/// How a migration folder is marked, by `-- spawn:draft` / `-- spawn:repeatable` comment
/// lines at the top of its `up.sql` (among the blank and `--` comment lines before anything
/// else).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers {
    /// A draft: rendered and checked, never applied, embedded or pinned (`spawn migration
    /// ready` removes the mark and pins it).
    pub draft: bool,
    /// Re-applied whenever its rendered checksum changes, after the versioned migrations.
    pub repeatable: bool,
}

/// The draft marker line.
pub const DRAFT_MARKER: &str = "-- spawn:draft";
/// The repeatable marker line.
pub const REPEATABLE_MARKER: &str = "-- spawn:repeatable";

impl Markers {
    /// The markers among the leading blank and `--` comment lines of `up_sql`.
    pub fn of(up_sql: &str) -> Self {
        let mut markers = Markers::default();
        for line in up_sql.trim_start_matches('\u{feff}').lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if !line.starts_with("--") {
                break;
            }
            let text = line.trim_start_matches('-').trim_start();
            match text.strip_prefix("spawn:").map(str::trim_end) {
                Some("draft") => markers.draft = true,
                Some("repeatable") => markers.repeatable = true,
                _ => {}
            }
        }
        markers
    }
}

/// The leading blank and `--` comment lines of the file at `path` (where [`Markers`] are),
/// and the first line after them: the rest of the file is not read.
fn leading_comments(path: &Path) -> std::io::Result<String> {
    use std::io::BufRead as _;
    let mut head = String::new();
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let line = line?;
        head.push_str(&line);
        head.push('\n');
        let text = line.trim_start_matches('\u{feff}').trim();
        if !text.is_empty() && !text.starts_with("--") {
            break;
        }
    }
    Ok(head)
}

/// The start of `up_sql` up to and including the first line that is neither blank nor a `--`
/// comment: at least what [`Markers::of`] reads, found without reading the rest as text. A
/// line that starts with a byte of a longer character (a byte-order mark, a non-ASCII space)
/// is read on past, and left to [`Markers::of`] to judge.
fn leading_comment_bytes(up_sql: &[u8]) -> &[u8] {
    // The ASCII bytes `char::is_whitespace` (which `str::trim` uses) counts as spaces.
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut end = 0;
    for line in up_sql.split_inclusive(|b| *b == b'\n') {
        end += line.len();
        let text = match line.iter().position(|b| !blank(b)) {
            Some(first) => &line[first..],
            None => continue,
        };
        if text[0].is_ascii() && !text.starts_with(b"--") {
            break;
        }
    }
    &up_sql[..end]
}

impl MigrationDir {
    /// The markers of its `up.sql` (none when its head cannot be read: reading it for real
    /// reports that); `repeatable = true` in its lock.toml marks it repeatable too. Only the
    /// leading blank and comment lines are read, not the whole migration.
    pub fn markers(&self) -> Markers {
        self.with_lock_markers(Markers::of(
            &leading_comments(&self.up_sql()).unwrap_or_default(),
        ))
    }

    /// [`MigrationDir::markers`] of `up_sql`, the content of its `up.sql` already read (none
    /// when it was not read); as far as it is UTF-8 (rendering it reports the rest).
    pub fn markers_of(&self, up_sql: Option<&[u8]>) -> Markers {
        let head = leading_comment_bytes(up_sql.unwrap_or_default());
        let text = match std::str::from_utf8(head) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        };
        self.with_lock_markers(Markers::of(text))
    }

    /// `markers`, marked repeatable too when its lock.toml says so.
    fn with_lock_markers(&self, mut markers: Markers) -> Markers {
        markers.repeatable |= crate::pin::lock_says_repeatable(&self.lock_toml());
        markers
    }

    /// `migrations/<name>/up.sql`.
    pub fn up_sql(&self) -> PathBuf {
        self.dir.join("up.sql")
    }

    /// `migrations/<name>/tenant.sql`: the tenant part, applied to every tenant's schema
    /// (optional; see `spawn_runtime::tenants`).
    pub fn tenant_sql(&self) -> PathBuf {
        self.dir.join("tenant.sql")
    }

    /// `migrations/<name>/down.sql`: the template a rollback runs (optional).
    pub fn down_sql(&self) -> PathBuf {
        self.dir.join("down.sql")
    }

    /// `migrations/<name>/lock.toml`.
    pub fn lock_toml(&self) -> PathBuf {
        self.dir.join("lock.toml")
    }
}

impl Layout {
    pub fn new(spawn_folder: impl Into<PathBuf>) -> Self {
        Self {
            spawn_folder: spawn_folder.into(),
        }
    }

    pub fn components_dir(&self) -> PathBuf {
        self.spawn_folder.join("components")
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.spawn_folder.join("migrations")
    }

    pub fn pinned_dir(&self) -> PathBuf {
        self.spawn_folder.join("pinned")
    }

    /// `callbacks/`: the SQL callbacks run around a migration run (see [`crate::callbacks`]).
    pub fn callbacks_dir(&self) -> PathBuf {
        self.spawn_folder.join("callbacks")
    }

    pub fn tests_dir(&self) -> PathBuf {
        self.spawn_folder.join("tests")
    }

    /// The folder of migration `name` (whether or not it exists).
    pub fn migration(&self, name: &str) -> MigrationDir {
        MigrationDir {
            name: name.to_owned(),
            dir: self.migrations_dir().join(name),
        }
    }

    /// Every migration folder, in apply order (byte-wise by name). Hidden folders and plain
    /// files (a README, `.gitkeep`) are skipped; a folder without `up.sql` is an error. A
    /// missing `migrations/` folder means no migrations.
    pub fn migrations(&self) -> Result<Vec<MigrationDir>, LayoutError> {
        let dir = self.migrations_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(LayoutError::ListMigrations { path: dir, source }),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| LayoutError::ListMigrations {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(LayoutError::NonUtf8Name {
                    dir,
                    name: name.to_string_lossy().into_owned(),
                });
            };
            if name.starts_with('.') {
                continue;
            }
            let migration = MigrationDir {
                name: name.to_owned(),
                dir: path,
            };
            if !migration.up_sql().is_file() {
                return Err(LayoutError::MissingUpSql {
                    path: migration.dir,
                });
            }
            found.push(migration);
        }
        found.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(found)
    }
}

/// How many digits a migration folder's timestamp has (`YYYYMMDDHHMMSS`, UTC).
const STAMP_DIGITS: usize = 14;

/// Whether `c` may not appear in a migration name: path separators, whitespace, control
/// characters.
fn forbidden(c: char) -> bool {
    matches!(c, '/' | '\\') || c.is_whitespace() || c.is_control()
}

/// Whether `name` is usable as the name part of a migration folder (what `spawn migration
/// new` takes): non-empty, no path separators, no whitespace or control characters, not
/// hidden. The folder is `<UTC YYYYMMDDHHMMSS>-<name>`; see [`check_migration_folder`].
pub fn validate_migration_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a migration name cannot be empty".into());
    }
    if name.starts_with('.') {
        return Err(format!("migration name {name:?} cannot start with `.`"));
    }
    if let Some(c) = name.chars().find(|&c| forbidden(c)) {
        return Err(format!(
            "migration name {name:?} cannot contain {c:?}; use letters, digits, `-` and `_`"
        ));
    }
    Ok(())
}

/// The one rule for migration folder names, used by every command: `<stamp>-<name>`, where
/// `<stamp>` is 14 digits (UTC `YYYYMMDDHHMMSS`, as `spawn migration new` and the original
/// spawn make them) and `<name>` passes [`validate_migration_name`]. `now` is the stamp to
/// suggest for a folder without one. The error names the folder and the rename to make.
pub fn check_migration_folder(folder: &str, now: &str) -> Result<(), NamingError> {
    let stamped = folder
        .split_at_checked(STAMP_DIGITS)
        .filter(|(stamp, rest)| stamp.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with('-'));
    let (stamp, reason, name) = match stamped {
        Some((stamp, rest)) => (stamp, validate_migration_name(&rest[1..]).err(), &rest[1..]),
        None => (
            now,
            Some("does not start with a `YYYYMMDDHHMMSS-` timestamp".to_owned()),
            folder,
        ),
    };
    let Some(reason) = reason else {
        return Ok(());
    };
    let mut cleaned = String::new();
    for c in name.chars() {
        let c = if forbidden(c) { '-' } else { c };
        // No run of `-` where several characters were replaced.
        if !(c == '-' && cleaned.ends_with('-')) {
            cleaned.push(c);
        }
    }
    let cleaned = cleaned.trim_matches('-');
    let cleaned = if cleaned.is_empty() {
        "migration"
    } else {
        cleaned
    };
    Err(NamingError {
        folder: folder.to_owned(),
        reason,
        suggested: format!("{stamp}-{cleaned}"),
    })
}

/// UTC `YYYYMMDDHHMMSS` of `time`, as migration folders start.
pub fn timestamp(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

/// `path` relative to `base` for messages, or as it is when it is not below `base`.
pub fn display_relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_sorted_bytewise_skipping_files_and_hidden_folders() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        for name in ["b-2", "B-1", "a-3", ".hidden"] {
            std::fs::create_dir_all(layout.migrations_dir().join(name)).unwrap();
            std::fs::write(layout.migrations_dir().join(name).join("up.sql"), "").unwrap();
        }
        std::fs::write(layout.migrations_dir().join("README.md"), "").unwrap();
        let names: Vec<_> = layout
            .migrations()
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["B-1", "a-3", "b-2"]);
    }

    #[test]
    fn folder_without_up_sql_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        std::fs::create_dir_all(layout.migrations_dir().join("20250101-x")).unwrap();
        let err = layout.migrations().unwrap_err().to_string();
        assert!(err.contains("20250101-x has no up.sql"), "{err}");
    }

    #[test]
    fn a_migrations_markers_are_read_from_its_head_alone() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let m = layout.migration("20250101-x");
        std::fs::create_dir_all(&m.dir).unwrap();
        // Bytes that are not UTF-8 after the head: the head alone decides.
        let mut up = b"\xef\xbb\xbf-- a header\r\n\n-- spawn:draft\nSELECT 1;\n".to_vec();
        up.extend_from_slice(b"SELECT '\xff';\n-- spawn:repeatable\n");
        std::fs::write(m.up_sql(), &up).unwrap();
        assert_eq!(
            m.markers(),
            Markers {
                draft: true,
                repeatable: false
            }
        );
        // Not UTF-8 in the head: no markers (reading the migration reports it).
        std::fs::write(m.up_sql(), b"-- spawn:draft\n-- \xff\n").unwrap();
        assert_eq!(m.markers(), Markers::default());
        std::fs::remove_file(m.up_sql()).unwrap();
        assert_eq!(m.markers(), Markers::default());
    }

    #[test]
    fn markers_of_the_bytes_read_agree_with_markers_of_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let m = MigrationDir {
            name: "20250101000000-m".to_owned(),
            dir: dir.path().to_path_buf(),
        };
        for text in [
            "-- spawn:draft\nSELECT 1;",
            "\u{feff}-- a view\n\n--spawn:repeatable\n-- spawn:draft \nSELECT 1;",
            "SELECT 1;\n-- spawn:draft\n",
            "\x0b-- vertical tab\n\u{a0}-- no-break space\r\n-- spawn:draft",
            "-- spawn:repeatable\n\u{a0}SELECT 1;\n-- spawn:draft\n",
            "",
            "\n\n",
        ] {
            assert_eq!(
                m.markers_of(Some(text.as_bytes())),
                Markers::of(text),
                "{text:?}"
            );
        }
        // Not UTF-8 after the markers, or within them: the markers before it count.
        assert!(m.markers_of(Some(b"-- spawn:draft\nSELECT '\xff';")).draft);
        assert_eq!(
            m.markers_of(Some(b"-- spawn:draft\n-- \xff\n-- spawn:repeatable\n")),
            Markers {
                draft: true,
                repeatable: false
            }
        );
        assert_eq!(m.markers_of(None), Markers::default());
        // Only the leading block is taken as text: a long migration is not read on.
        assert_eq!(
            leading_comment_bytes(b"-- a\n\n  -- b\nSELECT 1;\nSELECT 2;\n"),
            b"-- a\n\n  -- b\nSELECT 1;\n"
        );
    }

    #[test]
    fn markers_are_read_from_the_comment_lines_at_the_top() {
        assert_eq!(
            Markers::of("-- spawn:draft\nSELECT 1;"),
            Markers {
                draft: true,
                repeatable: false
            }
        );
        assert_eq!(
            Markers::of("\u{feff}-- a view\n\n--spawn:repeatable\n-- spawn:draft \nSELECT 1;"),
            Markers {
                draft: true,
                repeatable: true
            }
        );
        assert_eq!(
            Markers::of("SELECT 1;\n-- spawn:draft\n"),
            Markers::default()
        );
        assert_eq!(Markers::of("-- spawn:drafts\n"), Markers::default());
    }

    #[test]
    fn missing_migrations_folder_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Layout::new(dir.path()).migrations().unwrap().is_empty());
    }

    #[test]
    fn folders_need_a_stamp_and_no_spaces_with_the_rename_to_make() {
        let now = "20261202170000";
        for ok in [
            "20250101000000-add-users",
            "20240601090200-crlf-and-escapes",
            "20250101000000-a_b.c",
        ] {
            assert_eq!(check_migration_folder(ok, now), Ok(()), "{ok}");
        }
        let rename = |folder| check_migration_folder(folder, now).map_err(|e| e.suggested);
        assert_eq!(
            rename("create-foo"),
            Err("20261202170000-create-foo".into())
        );
        assert_eq!(
            rename("20250101000000-has space"),
            Err("20250101000000-has-space".into())
        );
        assert_eq!(
            rename("20250101000000-"),
            Err("20250101000000-migration".into())
        );
        assert_eq!(rename("2025-x"), Err("20261202170000-2025-x".into()));
        let err = check_migration_folder("create-foo", now)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "rename `migrations/create-foo` to `migrations/20261202170000-create-foo`"
            ),
            "{err}"
        );
    }

    #[test]
    fn timestamps_are_utc() {
        let at = |secs| timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "19700101000000");
        assert_eq!(at(1_709_210_096), "20240229123456");
        assert_eq!(at(1_798_761_599), "20261231235959");
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_migration_name("20250101000000-add-users").is_ok());
        assert!(validate_migration_name("a/b").is_err());
        assert!(validate_migration_name("a b").is_err());
        assert!(validate_migration_name("").is_err());
        assert!(validate_migration_name("..").is_err());
    }
}
