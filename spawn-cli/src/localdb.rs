//! Where the project-local PostgreSQL of `spawn db` lives, and its URL.
//!
//! The cluster belongs to the project: its data is in `<project>/.spawn/db/` (`.spawn/`
//! carries a `.gitignore` of its own, so it is never committed). Two cases keep the data
//! elsewhere, with `.spawn/db` a symbolic link to it:
//!
//! * running as root, the server runs as the `postgres` OS user, who must be able to reach
//!   the data folder; when a folder above the project (such as `/root` or a 0700 temporary
//!   folder) does not let it through, the data goes to `/var/tmp/spawn-db-<hash of the
//!   project path>/`. Folders above the project are never chmod-ed; only `.spawn/` is
//!   opened up for the server user;
//! * a unix socket path must be shorter than 108 bytes; a deeply nested project also keeps
//!   its data under `/var/tmp`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use spawn_localdb::{Cluster, PgBinaries};

/// The `.spawn/` folder of a project.
pub fn spawn_dir(project_dir: &Path) -> PathBuf {
    project_dir.join(".spawn")
}

/// The cluster folder if the project has one already (following `.spawn/db`).
pub fn existing_root(project_dir: &Path) -> Option<PathBuf> {
    let link = spawn_dir(project_dir).join("db");
    let root = std::fs::canonicalize(&link).ok()?;
    root.join("data")
        .join("PG_VERSION")
        .is_file()
        .then_some(root)
}

/// The cluster folder, created (empty) if needed, with `.spawn/` set up.
pub fn prepare_root(project_dir: &Path) -> Result<PathBuf> {
    let project_dir = std::fs::canonicalize(project_dir)
        .with_context(|| format!("resolving the project folder {}", project_dir.display()))?;
    let spawn = spawn_dir(&project_dir);
    std::fs::create_dir_all(&spawn).with_context(|| format!("creating {}", spawn.display()))?;
    let ignore = spawn.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# spawn's local state (the project-local database); never commit it\n*\n",
        )
        .with_context(|| format!("writing {}", ignore.display()))?;
    }
    let link = spawn.join("db");
    if let Ok(target) = std::fs::canonicalize(&link) {
        return Ok(target);
    }
    if std::fs::symlink_metadata(&link).is_ok() {
        // A dangling link (the /var/tmp folder was cleaned): start over.
        std::fs::remove_file(&link)
            .with_context(|| format!("removing the dangling link {}", link.display()))?;
    }
    let server = server_user();
    let reachable = server.is_none_or(|ids| ancestors_traversable(&project_dir, ids));
    let socket_ok = link.join("socket").join(".s.PGSQL.65535").as_os_str().len() < 100;
    if reachable && socket_ok {
        std::fs::create_dir_all(&link).with_context(|| format!("creating {}", link.display()))?;
        if server.is_some() {
            // Only .spawn/ itself is opened up so the postgres user can enter it.
            std::fs::set_permissions(&spawn, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("letting the postgres user into {}", spawn.display()))?;
        }
        return Ok(link);
    }
    let hash = hex::encode(&Sha256::digest(project_dir.as_os_str().as_encoded_bytes())[..8]);
    let external = PathBuf::from(format!("/var/tmp/spawn-db-{hash}"));
    std::fs::create_dir_all(&external)
        .with_context(|| format!("creating {}", external.display()))?;
    std::os::unix::fs::symlink(&external, &link)
        .with_context(|| format!("linking {} to {}", link.display(), external.display()))?;
    tracing::info!(
        "the project-local database lives in {} ({})",
        external.display(),
        if reachable {
            "the project path is too long for a unix socket"
        } else {
            "the postgres user cannot enter the project folder"
        }
    );
    Ok(external)
}

/// The postgres user's uid and gid when running as root (the server runs as that user).
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.first() == Some(&"postgres") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

/// Whether the user `ids` can traverse every folder from `/` down to `dir`.
fn ancestors_traversable(dir: &Path, (uid, gid): (u32, u32)) -> bool {
    dir.ancestors().all(|a| match std::fs::metadata(a) {
        Ok(m) => {
            let mode = m.mode();
            mode & 0o001 != 0
                || (m.uid() == uid && mode & 0o100 != 0)
                || (m.gid() == gid && mode & 0o010 != 0)
        }
        Err(_) => false,
    })
}

/// The PostgreSQL binaries, or a message saying how to install them.
pub fn binaries() -> Result<PgBinaries> {
    PgBinaries::find().map_err(|e| anyhow!("{e}"))
}

/// Opens the project's cluster (creating it on first use).
pub fn open_or_create(project_dir: &Path) -> Result<Cluster> {
    let binaries = binaries()?; // before anything is created under the project
    let root = prepare_root(project_dir)?;
    Cluster::open(binaries, &root).map_err(|e| {
        anyhow!(
            "creating the project-local database in {}: {e}",
            root.display()
        )
    })
}

/// Opens the project's existing cluster, if there is one.
pub fn open_existing(project_dir: &Path) -> Result<Option<Cluster>> {
    match existing_root(project_dir) {
        None => Ok(None),
        Some(root) => Ok(Some(Cluster::open(binaries()?, &root).map_err(|e| {
            anyhow!(
                "opening the project-local database in {}: {e}",
                root.display()
            )
        })?)),
    }
}

/// The URL of `database` on the running project-local database.
pub fn running_url(project_dir: &Path, database: &str) -> Result<String> {
    match open_existing(project_dir)? {
        None => bail!(
            "the project-local database of {} does not exist yet; create and start it with `spawn db start`",
            project_dir.display()
        ),
        Some(cluster) if !cluster.is_running() => bail!(
            "the project-local database ({}) is not running; start it with `spawn db start`",
            cluster.root().display()
        ),
        Some(cluster) => Ok(cluster.url(database)),
    }
}
