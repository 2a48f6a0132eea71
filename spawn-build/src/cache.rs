//! The render cache ([`crate::project::Project::cache_renders_in`]): what each migration
//! rendered to for each environment, kept between runs (by [`crate::compile()`] in `OUT_DIR`,
//! by the `spawn` CLI in the user's cache folder) and keyed by a hash of everything the
//! render depends on, so that a run renders again only what changed.
//!
//! A key covers:
//!
//! * the cache's format and the program itself (spawn-build's version and the size and
//!   modification time of the running executable, the build script or `spawn`, so a rebuilt
//!   spawn-build never reuses the renders of the old one);
//! * the content of `spawn.toml`;
//! * the migration's name and the content of its `up.sql`;
//! * the environment and the content of its variables file;
//! * the components: the pin's root hash (a snapshot never changes), or for a render from the
//!   working tree a hash of every file under `components/`.
//!
//! A render that drew random UUIDs is never cached: rendering it again gives other SQL. A
//! render's analysis and checksums are kept with it once it analysed without a problem (a
//! long history lexed again every run costs more than its render); a render whose analysis
//! failed is analysed again, so its problems are reported every run. A
//! hit still reads and verifies the pinned objects the render read (see
//! [`crate::project::Project`]), so a corrupted pin store fails the build as before. A
//! missing, unreadable or outdated cache file is an empty cache: the cache can make a build
//! faster, never fail or change it.
//!
//! The file is binary ([`postcard`]), followed by a checksum of its bytes: it holds every
//! migration's rendered SQL, tens of megabytes in a long history, which JSON escaped line by
//! line and parsed several times slower. A file that is cut short or damaged is an empty
//! cache. A run that reused every record and dropped none leaves the file as it is.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analyze::Analysis;
use crate::error::BuildError;
use crate::render::Rendered;

/// The file in the cache's folder.
const FILE_NAME: &str = "spawn_render_cache.bin";
/// Bumped whenever [`Record`] (the analysis in it included), the key or the file's
/// encoding changes meaning.
const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    records: HashMap<String, Record>,
}

/// One cached render: what [`Rendered`] holds, minus what is never cached; and, once the
/// render was analysed, its analysis and checksums (functions of its SQL alone).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    sql: String,
    origins: Vec<spawn_model::LineOrigin>,
    files_read: BTreeSet<PathBuf>,
    components_read: BTreeSet<String>,
    analysed: Option<Analysed>,
}

/// What analysing a render's SQL gave: its analysis and checksums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Analysed {
    pub analysis: Analysis,
    pub sha256: [u8; 32],
    pub xxh3_128: [u8; 16],
}

impl Record {
    pub(crate) fn of(rendered: &Rendered) -> Self {
        Self {
            sql: rendered.sql.clone(),
            origins: rendered.origins.clone(),
            files_read: rendered.files_read.clone(),
            components_read: rendered.components_read.clone(),
            analysed: None,
        }
    }

    /// The components the render read (names relative to `components/`).
    pub(crate) fn components_read(&self) -> &BTreeSet<String> {
        &self.components_read
    }

    pub(crate) fn into_rendered(self) -> Rendered {
        Rendered {
            sql: self.sql,
            origins: self.origins,
            files_read: self.files_read,
            components_read: self.components_read,
            random: false,
            undefined: Vec::new(),
        }
    }
}

/// What one render read, for its key. Each field is a name or the hex hash of a content.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyInputs<'a> {
    pub migration: &'a str,
    pub up_sql: &'a [u8],
    pub environment: &'a str,
    /// `none`, or the hash of the variables file ([`file_digest`]).
    pub variables: &'a str,
    /// `pin:<root>` or `tree:<hash of components/>`.
    pub components: &'a str,
}

/// The cache of one run: the records of the last run, and those this run used or made.
pub(crate) struct RenderCache {
    file: PathBuf,
    /// The hash of what every key shares: format, build script, spawn.toml.
    base: Vec<u8>,
    previous: HashMap<String, Record>,
    current: HashMap<String, Record>,
    /// The hash of `components/`, once computed (`Some(None)`: it could not be read).
    components: Option<Option<String>>,
    /// How many records this run reused.
    hits: usize,
    /// Whether this run kept a record it rendered (else the file holds what it would write,
    /// unless some records of the last run went unused).
    rendered: bool,
    /// Whether this run rendered only some migrations: the records it did not use are kept.
    partial: bool,
}

impl RenderCache {
    /// The cache kept in `dir`, for the project of `spawn_toml`. `None` when the build script
    /// or `spawn.toml` cannot be identified: then nothing is cached.
    pub(crate) fn open(dir: &Path, spawn_toml: &Path) -> Option<Self> {
        let mut base = Sha256::new();
        for part in [
            FORMAT.to_string().as_bytes(),
            env!("CARGO_PKG_VERSION").as_bytes(),
            build_script_identity()?.as_bytes(),
            &std::fs::read(spawn_toml).ok()?,
        ] {
            field(&mut base, part);
        }
        let file = dir.join(FILE_NAME);
        let previous = std::fs::read(&file)
            .ok()
            .and_then(|bytes| decode(&bytes))
            .filter(|cache| cache.format == FORMAT)
            .map(|cache| cache.records)
            .unwrap_or_default();
        Some(Self {
            file,
            base: base.finalize().to_vec(),
            previous,
            current: HashMap::new(),
            components: None,
            hits: 0,
            rendered: false,
            partial: false,
        })
    }

    /// The key of one render.
    pub(crate) fn key(&self, inputs: &KeyInputs<'_>) -> String {
        let mut hasher = Sha256::new();
        for part in [
            &self.base[..],
            inputs.migration.as_bytes(),
            inputs.up_sql,
            inputs.environment.as_bytes(),
            inputs.variables.as_bytes(),
            inputs.components.as_bytes(),
        ] {
            field(&mut hasher, part);
        }
        hex::encode(hasher.finalize())
    }

    /// `tree:<hash>` of every file under `components_dir` (computed once per run), or `None`
    /// when a file there cannot be read.
    pub(crate) fn components_key(&mut self, components_dir: &Path) -> Option<String> {
        self.components
            .get_or_insert_with(|| tree_digest(components_dir).map(|d| format!("tree:{d}")))
            .clone()
    }

    /// Takes the record of `key` (kept by the last run or this one), if there is one; give it
    /// back with [`RenderCache::keep`] to keep it.
    pub(crate) fn take(&mut self, key: &str) -> Option<Record> {
        self.current
            .remove(key)
            .or_else(|| self.previous.remove(key))
    }

    /// Keeps `record` (rendered by this run) under `key` for the next run.
    pub(crate) fn keep(&mut self, key: String, record: Record) {
        self.rendered = true;
        self.current.insert(key, record);
    }

    /// Keeps `record`, taken with [`RenderCache::take`] and reused, under `key`.
    pub(crate) fn keep_reused(&mut self, key: String, record: Record) {
        self.hits += 1;
        self.current.insert(key, record);
    }

    /// The analysis of the render kept under `key` by this run, if it was analysed.
    pub(crate) fn analysed(&self, key: &str) -> Option<&Analysed> {
        self.current.get(key)?.analysed.as_ref()
    }

    /// Keeps `analysed` with the render kept under `key` by this run.
    pub(crate) fn keep_analysed(&mut self, key: &str, analysed: Analysed) {
        if let Some(record) = self.current.get_mut(key) {
            record.analysed = Some(analysed);
            self.rendered = true;
        }
    }

    /// This run renders only some migrations: [`RenderCache::save`] keeps the records of
    /// the others.
    pub(crate) fn partial(&mut self) {
        self.partial = true;
    }

    /// How many records this run reused.
    pub(crate) fn hits(&self) -> usize {
        self.hits
    }

    /// Writes the records this run used or made (the others are dropped, unless the run was
    /// [partial](RenderCache::partial)), atomically; when that is what the file holds already
    /// (every record reused, none dropped), nothing. Whether it wrote the file.
    pub(crate) fn save(mut self) -> Result<bool, BuildError> {
        if !self.rendered && (self.partial || self.previous.is_empty()) {
            return Ok(false);
        }
        if self.partial {
            for (key, record) in std::mem::take(&mut self.previous) {
                self.current.entry(key).or_insert(record);
            }
        }
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| BuildError::Io {
                action,
                path,
                source,
            }
        };
        let bytes = encode(&CacheFile {
            format: FORMAT,
            records: self.current,
        })
        .map_err(|e| {
            io("serializing the render cache into", &self.file)(std::io::Error::other(e))
        })?;
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        }
        // A name of this process's own: two processes saving at once each rename a whole file.
        let tmp = self
            .file
            .with_extension(format!("bin.{}.tmp", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(io("writing", &tmp))?;
        std::fs::rename(&tmp, &self.file).map_err(io("writing", &self.file))?;
        Ok(true)
    }
}

/// The file's bytes: the records, then the XXH3-128 of their encoding (a check against
/// damage, not tampering: the file is the user's own, and a 128-bit XXH3 reads tens of
/// megabytes in a few milliseconds where SHA-256 takes tens).
fn encode(cache: &CacheFile) -> Result<Vec<u8>, postcard::Error> {
    let mut bytes = postcard::to_stdvec(cache)?;
    let digest = xxhash_rust::xxh3::xxh3_128(&bytes).to_le_bytes();
    bytes.extend_from_slice(&digest);
    Ok(bytes)
}

/// The records of a file written by [`encode`]; `None` when it is cut short, damaged or of
/// another encoding (the cache's SQL is applied to databases: a damaged file is never read).
fn decode(bytes: &[u8]) -> Option<CacheFile> {
    let (payload, digest) = bytes.split_at_checked(bytes.len().checked_sub(16)?)?;
    if xxhash_rust::xxh3::xxh3_128(payload).to_le_bytes() != digest {
        return None;
    }
    postcard::from_bytes(payload).ok()
}

/// The size and modification time of the running executable (the build script), which
/// change whenever it is rebuilt, e.g. against another spawn-build; `None` if unknown.
pub(crate) fn build_script_identity() -> Option<String> {
    let meta = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{} {}", meta.len(), modified.as_nanos()))
}

/// The hex SHA-256 of a file's content, or `None` if it cannot be read.
pub(crate) fn file_digest(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|bytes| hex::encode(Sha256::digest(bytes)))
}

/// The hash of every file (path and content) under `dir`, following symbolic links as
/// pinning does; a missing `dir` hashes as empty.
fn tree_digest(dir: &Path) -> Option<String> {
    let mut hasher = Sha256::new();
    if dir.exists() {
        for entry in walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.ok()?;
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(dir).ok()?;
                field(&mut hasher, rel.to_string_lossy().as_bytes());
                field(&mut hasher, &std::fs::read(entry.path()).ok()?);
            }
        }
    }
    Some(hex::encode(hasher.finalize()))
}

/// Adds one length-prefixed field, so that no two different inputs hash alike.
fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache folder (with its spawn.toml) whose file holds one record, of `SELECT 1;`:
    /// the folder, the spawn.toml and the record's key.
    fn saved_with_one_record() -> (tempfile::TempDir, PathBuf, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawn_toml = dir.path().join("spawn.toml");
        std::fs::write(&spawn_toml, "").expect("write");
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let key = cache.key(&inputs(b"SELECT 1;", "pin:x"));
        cache.keep(key.clone(), Record::of(&rendered("SELECT 1;")));
        cache.save().expect("save");
        (dir, spawn_toml, key)
    }

    /// A render of `sql` by its `up.sql` alone.
    fn rendered(sql: &str) -> Rendered {
        Rendered {
            sql: sql.into(),
            origins: Vec::new(),
            files_read: BTreeSet::new(),
            components_read: BTreeSet::new(),
            random: false,
            undefined: Vec::new(),
        }
    }

    fn inputs<'a>(up_sql: &'a [u8], components: &'a str) -> KeyInputs<'a> {
        KeyInputs {
            migration: "m",
            up_sql,
            environment: "prod",
            variables: "none",
            components,
        }
    }

    #[test]
    fn records_survive_a_save_and_only_used_ones_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawn_toml = dir.path().join("spawn.toml");
        std::fs::write(&spawn_toml, "").expect("write");
        let out = dir.path().join("out");
        let mut cache = RenderCache::open(&out, &spawn_toml).expect("cache");
        let key = cache.key(&inputs(b"SELECT 1;", "pin:x"));
        assert_ne!(key, cache.key(&inputs(b"SELECT 2;", "pin:x")));
        assert_ne!(key, cache.key(&inputs(b"SELECT 1;", "pin:y")));
        let rendered = Rendered {
            sql: "SELECT 1;".into(),
            origins: vec![spawn_model::LineOrigin::from_up_sql(1)],
            files_read: BTreeSet::new(),
            components_read: BTreeSet::from(["a.sql".to_owned()]),
            random: false,
            undefined: Vec::new(),
        };
        cache.keep(key.clone(), Record::of(&rendered));
        cache.save().expect("save");

        let mut cache = RenderCache::open(&out, &spawn_toml).expect("cache");
        let record = cache.take(&key).expect("a hit");
        cache.keep(key.clone(), record.clone());
        assert_eq!(record.into_rendered(), rendered);
        cache.save().expect("save");
        let cache = RenderCache::open(&out, &spawn_toml).expect("cache");
        assert!(cache.previous.contains_key(&key), "a used record is kept");
        cache.save().expect("save");
        let cache = RenderCache::open(&out, &spawn_toml).expect("cache");
        assert!(cache.previous.is_empty(), "an unused record is dropped");

        std::fs::write(&spawn_toml, "spawn_folder = \"db\"\n").expect("write");
        let other = RenderCache::open(&out, &spawn_toml).expect("cache");
        assert_ne!(
            other.key(&inputs(b"SELECT 1;", "pin:x")),
            key,
            "spawn.toml is part of every key"
        );
    }

    #[test]
    fn a_corrupt_cache_file_is_an_empty_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawn_toml = dir.path().join("spawn.toml");
        std::fs::write(&spawn_toml, "").expect("write");
        std::fs::write(dir.path().join(FILE_NAME), "not postcard").expect("write");
        let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        assert!(cache.previous.is_empty());
    }

    #[test]
    fn a_cache_file_altered_or_cut_short_is_an_empty_cache() {
        let (dir, spawn_toml, key) = saved_with_one_record();
        let file = dir.path().join(FILE_NAME);
        let saved = std::fs::read(&file).expect("read");
        let reopened = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        assert!(
            reopened.previous.contains_key(&key),
            "the file as written is read"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("list").count(),
            2,
            "spawn.toml and the cache file, no temporary file left"
        );

        // The SQL `SELECT 1;` changed to `SELECT 2;` in place: same length, still decodes.
        let at = saved
            .windows(9)
            .position(|w| w == b"SELECT 1;")
            .expect("the SQL is in the file");
        let mut altered = saved.clone();
        altered[at + 7] = b'2';
        assert!(postcard::from_bytes::<CacheFile>(&altered[..altered.len() - 16]).is_ok());
        for bytes in [
            &altered[..],
            &saved[..saved.len() - 1],
            &saved[..10],
            &[][..],
        ] {
            std::fs::write(&file, bytes).expect("write");
            let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
            assert!(
                cache.previous.is_empty(),
                "{} bytes read as records",
                bytes.len()
            );
        }
    }

    #[test]
    fn a_partial_run_keeps_the_records_it_did_not_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawn_toml = dir.path().join("spawn.toml");
        std::fs::write(&spawn_toml, "").expect("write");
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let one = cache.key(&inputs(b"SELECT 1;", "pin:x"));
        cache.keep(one.clone(), Record::of(&rendered("SELECT 1;")));
        cache.save().expect("save");
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        cache.partial();
        let two = cache.key(&inputs(b"SELECT 2;", "pin:x"));
        cache.keep(two.clone(), Record::of(&rendered("SELECT 2;")));
        cache.save().expect("save");
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        assert!(
            cache.take(&one).is_some(),
            "kept though this run did not use it"
        );
        assert!(cache.take(&two).is_some(), "kept: this run made it");
    }

    #[test]
    fn a_run_that_reused_everything_leaves_the_file_alone() {
        let (dir, spawn_toml, key) = saved_with_one_record();
        let file = dir.path().join(FILE_NAME);
        // A file the next run would rewrite if it saved: replaced by other bytes, it shows.
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let record = cache.take(&key).expect("a hit");
        cache.keep_reused(key, record);
        std::fs::write(&file, "marker").expect("write");
        assert!(!cache.save().expect("save"), "nothing to write");
        assert_eq!(std::fs::read(&file).expect("read"), b"marker");
    }

    #[test]
    fn the_components_hash_follows_names_and_contents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = tree_digest(dir.path()).expect("digest");
        std::fs::write(dir.path().join("a.sql"), "x").expect("write");
        let b = tree_digest(dir.path()).expect("digest");
        std::fs::write(dir.path().join("a.sql"), "y").expect("write");
        let c = tree_digest(dir.path()).expect("digest");
        std::fs::rename(dir.path().join("a.sql"), dir.path().join("b.sql")).expect("rename");
        let d = tree_digest(dir.path()).expect("digest");
        assert!(a != b && b != c && c != d && a != d);
        assert_eq!(tree_digest(&dir.path().join("missing")), Some(a));
    }
}
