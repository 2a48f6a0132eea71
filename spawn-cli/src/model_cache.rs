//! The inspected schema model of a cached scratch template, kept in a file so that the next
//! command reads it instead of inspecting the template again (at 2,000 tables an inspection
//! costs about 0.3 s; reading the file, a tenth of that).
//!
//! The template's fingerprint (its comment, see [`crate::scratch`]) says which migrations
//! it holds; what its model looks like also depends on the server (its version deparses
//! definitions, its roles own objects and are granted privileges), the role that reads it
//! and the inspection's options. The file's key is a SHA-256 of all of these, written
//! before the model: a file whose key differs is not read. The model itself carries the version of its format
//! ([`spawn_schema::Schema::decode`] refuses another build's).
//!
//! One file per template and server, `schema-<16 hex>.bin` in `$SPAWN_CACHE_DIR` (else the
//! user's cache folder, `~/.cache/spawn` on Linux), replaced whenever the template moves
//! on: only the template's current state will be read again. Files untouched for 30 days are
//! removed when another is written. The cache can make a command faster, never fail it: a
//! missing, unreadable or outdated file is a miss, and a file that cannot be written is
//! left unwritten (both logged at debug level). A cache folder that is not the user's own, or
//! that others can write to, is not used at all (a model read from it would decide what
//! `generate` writes).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use spawn_schema::Schema;
use sqlx::postgres::PgConnectOptions;
use sqlx::Connection as _;

/// The variable that chooses the cache folder.
pub const CACHE_DIR_VARIABLE: &str = "SPAWN_CACHE_DIR";
/// Files not written for this long are removed.
const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Half-written files older than this were left by an interrupted process.
const ABANDONED: Duration = Duration::from_secs(3600);
/// Bumped whenever the key's inputs change meaning.
const KEY_FORMAT: &[u8] = b"spawn-model-cache-v1\0";

/// Where the models of one template on one server are kept, and what they depend on.
#[derive(Debug, Clone)]
pub struct ModelCache {
    file: PathBuf,
    /// The hash of everything the model depends on besides the template's fingerprint.
    identity: [u8; 32],
}

impl ModelCache {
    /// The cache of template database `template` on the server of `admin` (a maintenance
    /// database's settings), for models inspected with `options`. `None` when there is no
    /// cache folder or the server's identity cannot be read.
    pub async fn open(
        admin: &PgConnectOptions,
        template: &str,
        options: &spawn_schema::Options,
    ) -> Option<Self> {
        let dir = cache_dir()?;
        if !private_folder(&dir) {
            tracing::debug!(
                folder = %dir.display(),
                "no model cache: not a folder of this user's that no one else can write to"
            );
            return None;
        }
        match server_identity(admin, template).await {
            Ok(parts) => {
                let mut file_key = Sha256::new();
                let mut identity = Sha256::new();
                identity.update(KEY_FORMAT);
                for part in &parts {
                    identity.update(part.as_bytes());
                    identity.update(b"\0");
                }
                identity.update(format!("{options:?}").as_bytes());
                // Named by server and template only: a template's next state replaces it.
                file_key.update(parts[0].as_bytes());
                file_key.update(b"\0");
                file_key.update(template.as_bytes());
                let name = format!("schema-{}.bin", &hex::encode(file_key.finalize())[..16]);
                Some(Self {
                    file: dir.join(name),
                    identity: identity.finalize().into(),
                })
            }
            Err(error) => {
                tracing::debug!(%error, "no model cache: the server's identity cannot be read");
                None
            }
        }
    }

    /// The model of the template at `fingerprint`, if the file holds it.
    pub fn load(&self, fingerprint: &str) -> Option<Schema> {
        let bytes = match std::fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::debug!(file = %self.file.display(), %error, "model cache miss");
                return None;
            }
        };
        let key = self.key(fingerprint);
        let Some(model) = bytes.strip_prefix(key.as_slice()) else {
            tracing::debug!(file = %self.file.display(), "model cache miss: another state");
            return None;
        };
        match Schema::decode(model) {
            Ok(schema) => Some(schema),
            Err(error) => {
                tracing::debug!(file = %self.file.display(), %error, "model cache unreadable");
                None
            }
        }
    }

    /// [`ModelCache::load`], on a thread of its own (a model of tens of thousands of objects
    /// takes a few tens of milliseconds to read).
    pub async fn load_beside(&self, fingerprint: &str) -> Option<Schema> {
        let (cache, fingerprint) = (self.clone(), fingerprint.to_owned());
        match tokio::task::spawn_blocking(move || cache.load(&fingerprint)).await {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::debug!(%error, "reading the model cache");
                None
            }
        }
    }

    /// Records `schema` as the model of the template at `fingerprint` (replacing the file
    /// at once: a reader sees the old file or the new one, never a part).
    pub fn store(&self, fingerprint: &str, schema: &Schema) {
        if let Err(error) = self.write(fingerprint, schema) {
            tracing::debug!(file = %self.file.display(), %error, "model cache not written");
        }
    }

    fn write(&self, fingerprint: &str, schema: &Schema) -> std::io::Result<()> {
        // The folder exists: `open` made sure of it (see `private_folder`).
        let dir = self.file.parent().unwrap_or(Path::new("."));
        remove_old_files(dir);
        let mut file = tempfile::Builder::new()
            .prefix("schema-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        file.write_all(&self.key(fingerprint))?;
        file.write_all(&schema.encode())?;
        file.persist(&self.file).map_err(|e| e.error)?;
        Ok(())
    }

    fn key(&self, fingerprint: &str) -> [u8; 32] {
        let mut key = Sha256::new();
        key.update(self.identity);
        key.update(fingerprint.as_bytes());
        key.finalize().into()
    }
}

/// Whether `dir` may hold cached renders or models, creating it (readable by this user only)
/// if missing: a folder, owned by the user spawn runs as, that no one else can write to. A
/// cached render is SQL that `apply` runs, and a cached model decides what `generate` writes
/// and what `drift` reports, so a cache another user could write (a `SPAWN_CACHE_DIR` in
/// `/tmp`, say) is not used.
pub fn private_folder(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
        // Fails when it exists: what is there is checked below.
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir);
        // SAFETY: geteuid has no preconditions and cannot fail.
        let user = unsafe { libc::geteuid() };
        std::fs::symlink_metadata(dir)
            .is_ok_and(|m| m.is_dir() && m.uid() == user && m.mode() & 0o022 == 0)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).is_ok()
    }
}

/// `$SPAWN_CACHE_DIR` (empty: no cache), else the user's cache folder + `spawn`.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_from(std::env::var_os(CACHE_DIR_VARIABLE))
}

/// [`cache_dir`] with `variable` as the value of `$SPAWN_CACHE_DIR`.
fn cache_dir_from(variable: Option<std::ffi::OsString>) -> Option<PathBuf> {
    if let Some(dir) = variable {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    use etcetera::BaseStrategy as _;
    match etcetera::choose_base_strategy() {
        Ok(strategy) => Some(strategy.cache_dir().join("spawn")),
        Err(error) => {
            tracing::debug!(%error, "no model cache: no cache folder");
            None
        }
    }
}

/// What a model depends on besides the template's migrations, read in one query: the
/// cluster's system identifier (distinct for every `initdb`), the server's version, the
/// template database's OID, the current role, and the names of the roles its model can name:
/// those that own or are granted something in it (`pg_shdepend`) and the bootstrap superuser
/// (whose objects `pg_shdepend` leaves out). Other roles, created or dropped beside, do not
/// change the key.
async fn server_identity(
    admin: &PgConnectOptions,
    template: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut conn = sqlx::PgConnection::connect_with(admin).await?;
    let row: (String, String, Option<String>, String, Option<String>) = sqlx::query_as(
        "SELECT (SELECT system_identifier::text FROM pg_control_system()), \
                current_setting('server_version_num'), \
                (SELECT oid::text FROM pg_database WHERE datname = $1), \
                current_user::text, \
                (SELECT md5(string_agg(r.oid::text || ':' || r.rolname, ',' ORDER BY r.oid)) \
                   FROM pg_roles r \
                  WHERE r.oid = 10 OR r.oid IN ( \
                        SELECT d.refobjid FROM pg_shdepend d JOIN pg_database db \
                            ON db.oid = d.dbid \
                         WHERE db.datname = $1 \
                           AND d.refclassid = 'pg_authid'::regclass))",
    )
    .bind(template)
    .fetch_one(&mut conn)
    .await?;
    let _ = conn.close().await;
    Ok(vec![
        row.0,
        row.1,
        template.to_owned(),
        row.2.unwrap_or_default(),
        row.3,
        row.4.unwrap_or_default(),
    ])
}

/// Removes the cache files of `dir` not written for [`MAX_AGE`] (templates gone, servers
/// gone), and files a process left half-written (interrupted) over an hour ago; errors are
/// ignored (another process may remove them at the same time).
fn remove_old_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let max_age = if !name.starts_with("schema-") {
            continue;
        } else if name.ends_with(".bin") {
            MAX_AGE
        } else if name.ends_with(".tmp") {
            ABANDONED
        } else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > max_age);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_aged(dir: &Path, name: &str, age: Duration) {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).expect("create");
        file.set_modified(SystemTime::now() - age)
            .expect("set the modification time");
    }

    #[test]
    fn old_cache_files_and_abandoned_halves_are_removed_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let day = Duration::from_secs(24 * 3600);
        file_aged(dir.path(), "schema-old.bin", 31 * day);
        file_aged(dir.path(), "schema-recent.bin", 29 * day);
        file_aged(dir.path(), "schema-abandoned.tmp", 2 * ABANDONED);
        file_aged(dir.path(), "schema-being-written.tmp", Duration::ZERO);
        file_aged(dir.path(), "notes.txt", 100 * day);
        remove_old_files(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["notes.txt", "schema-being-written.tmp", "schema-recent.bin"]
        );
    }

    #[test]
    fn the_cache_variable_chooses_the_folder_and_empty_turns_the_cache_off() {
        assert_eq!(cache_dir_from(Some("".into())), None);
        assert_eq!(
            cache_dir_from(Some("/some/where".into())),
            Some(PathBuf::from("/some/where"))
        );
        let default = cache_dir_from(None).expect("a home folder here");
        assert!(default.ends_with("spawn"), "{}", default.display());
    }

    #[cfg(unix)]
    #[test]
    fn only_a_folder_no_one_else_can_write_to_holds_a_cache() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("renders/project");
        assert!(private_folder(&dir), "created for this user alone");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("renders")), 0o700);
        for open in [0o777, 0o720, 0o702] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(open)).expect("chmod");
            assert!(!private_folder(&dir), "{open:o}");
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(
            private_folder(&dir),
            "readable by others, writable by this user only"
        );
        let file = root.path().join("a file");
        std::fs::write(&file, "").expect("write");
        assert!(!private_folder(&file));
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            // Root can give the folder to another user (65534: nobody).
            std::os::unix::fs::chown(&dir, Some(65534), None).expect("chown");
            assert!(!private_folder(&dir), "another user's folder");
        }
    }
}
