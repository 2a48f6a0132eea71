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
//! * the migration's name and the content of its `up.sql` (by its XXH3-128: a generated
//!   migration can be a megabyte, which SHA-256 reads ten times slower; a key tells renders
//!   apart, whoever can write `up.sql` decides the SQL anyway);
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
//!
//! The file is an index (each record's key and length) followed by the records, each encoded
//! on its own: opening it decodes the index alone, a record is decoded when a run takes it,
//! and a record reused unchanged is written back as the bytes it was read as. So a run that
//! renders one new migration in a long history encodes that one record, not every other, and
//! a reused render is decoded once and handed on, never copied.

use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::{xxh3_128, Xxh3Default};

use crate::analyze::Analysis;
use crate::error::BuildError;
use crate::render::Rendered;

/// The file in the cache's folder.
const FILE_NAME: &str = "spawn_render_cache.bin";
/// Bumped whenever [`Record`] (the analysis in it included), the key or the file's
/// encoding changes meaning.
const FORMAT: u32 = 3;

/// The head of the file: the format, then each record's key and encoded length, in the order
/// of the records that follow it.
#[derive(Serialize, Deserialize)]
struct Index {
    format: u32,
    records: Vec<(String, u64)>,
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

    /// Whether the record holds its render's analysis.
    pub(crate) fn is_analysed(&self) -> bool {
        self.analysed.is_some()
    }

    /// The render, and its analysis when the record holds one.
    pub(crate) fn into_rendered(self) -> (Rendered, Option<Analysed>) {
        let rendered = Rendered {
            sql: self.sql,
            origins: self.origins,
            files_read: self.files_read,
            components_read: self.components_read,
            random: false,
            undefined: Vec::new(),
        };
        (rendered, self.analysed)
    }
}

/// A record this run keeps for the next.
enum Kept {
    /// Reused unchanged: its bytes in the file the run opened.
    Stored(Range<usize>),
    /// Rendered by this run, or reused without an analysis (which this run may add).
    Decoded(Box<Record>),
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
    /// The file as this run read it (empty when there was none to use).
    bytes: Vec<u8>,
    /// Where each record of the last run is in `bytes`.
    previous: HashMap<String, Range<usize>>,
    current: HashMap<String, Kept>,
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
        let (previous, bytes) = std::fs::read(&file)
            .ok()
            .and_then(|bytes| Some((decode_index(&bytes)?, bytes)))
            .unwrap_or_default();
        Some(Self {
            file,
            base: base.finalize().to_vec(),
            bytes,
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
            &xxh3_128(inputs.up_sql).to_le_bytes(),
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

    /// The record of `key` (kept by this run or the last), decoded; `None` when there is
    /// none, or it does not decode. Keep it with [`RenderCache::keep_reused`] when it is
    /// reused.
    pub(crate) fn get(&self, key: &str) -> Option<Record> {
        let range = match self.current.get(key) {
            Some(Kept::Decoded(record)) => return Some(Record::clone(record)),
            Some(Kept::Stored(range)) => range,
            None => self.previous.get(key)?,
        };
        postcard::from_bytes(self.bytes.get(range.clone())?).ok()
    }

    /// Keeps `record` (rendered by this run) under `key` for the next run.
    pub(crate) fn keep(&mut self, key: String, record: Record) {
        self.rendered = true;
        self.current.insert(key, Kept::Decoded(Box::new(record)));
    }

    /// Keeps the record of `key`, read with [`RenderCache::get`] and reused: as it was
    /// stored, or, when it holds no analysis, as `record` (so that one can be added).
    pub(crate) fn keep_reused(&mut self, key: &str, record: &Record) {
        self.hits += 1;
        if self.current.contains_key(key) {
            return;
        }
        let kept = match self.previous.get(key) {
            Some(range) if record.is_analysed() => Kept::Stored(range.clone()),
            _ => Kept::Decoded(Box::new(record.clone())),
        };
        self.current.insert(key.to_owned(), kept);
    }

    /// Keeps `analysed` with the render kept under `key` by this run (rendered by it, or
    /// reused without an analysis).
    pub(crate) fn keep_analysed(&mut self, key: &str, analysed: Analysed) {
        if let Some(Kept::Decoded(record)) = self.current.get_mut(key) {
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
        let dropped = self.previous.keys().any(|k| !self.current.contains_key(k));
        if !self.rendered && (self.partial || !dropped) {
            return Ok(false);
        }
        if self.partial {
            for (key, range) in std::mem::take(&mut self.previous) {
                self.current.entry(key).or_insert(Kept::Stored(range));
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
        let encoding = |e: postcard::Error| {
            io("serializing the render cache into", &self.file)(std::io::Error::other(e))
        };
        // Each record's bytes: as read, or encoded now.
        let mut keys = Vec::with_capacity(self.current.len());
        let mut parts: Vec<std::borrow::Cow<'_, [u8]>> = Vec::with_capacity(self.current.len());
        for (key, kept) in &self.current {
            parts.push(match kept {
                Kept::Stored(range) => self.bytes[range.clone()].into(),
                Kept::Decoded(record) => postcard::to_stdvec(record).map_err(encoding)?.into(),
            });
            keys.push(key.clone());
        }
        let index = Index {
            format: FORMAT,
            records: keys
                .into_iter()
                .zip(&parts)
                .map(|(key, part)| (key, part.len() as u64))
                .collect(),
        };
        let head = postcard::to_stdvec(&index).map_err(encoding)?;
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        }
        // A name of this process's own: two processes saving at once each rename a whole file.
        let tmp = self
            .file
            .with_extension(format!("bin.{}.tmp", std::process::id()));
        let mut hasher = Xxh3Default::new();
        let written = std::fs::File::create(&tmp).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            for part in std::iter::once(&head[..]).chain(parts.iter().map(|p| &p[..])) {
                hasher.update(part);
                out.write_all(part)?;
            }
            out.write_all(&hasher.digest128().to_le_bytes())?;
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            Ok(())
        });
        written.map_err(io("writing", &tmp))?;
        std::fs::rename(&tmp, &self.file).map_err(io("writing", &self.file))?;
        Ok(true)
    }
}

/// Where each record is in `bytes`, a file written by [`RenderCache::save`]: the index, the
/// records, then the XXH3-128 of the two (a check against damage, not tampering: the file
/// is the user's own, and a 128-bit XXH3 reads tens of megabytes in a few milliseconds where
/// SHA-256 takes tens). `None` when it is cut short, damaged, of another format or of another
/// encoding (the cache's SQL is applied to databases: a damaged file is never read).
fn decode_index(bytes: &[u8]) -> Option<HashMap<String, Range<usize>>> {
    let (payload, digest) = bytes.split_at_checked(bytes.len().checked_sub(16)?)?;
    if xxh3_128(payload).to_le_bytes() != digest {
        return None;
    }
    let (index, records) = postcard::take_from_bytes::<Index>(payload).ok()?;
    if index.format != FORMAT {
        return None;
    }
    let mut at = payload.len() - records.len();
    let mut ranges = HashMap::with_capacity(index.records.len());
    for (key, len) in index.records {
        let end = at.checked_add(usize::try_from(len).ok()?)?;
        ranges.insert(key, at..end);
        at = end;
    }
    (at == payload.len()).then_some(ranges)
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
        let record = cache.get(&key).expect("a hit");
        cache.keep(key.clone(), record.clone());
        assert_eq!(record.into_rendered(), (rendered, None));
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
        assert!(postcard::take_from_bytes::<Index>(&altered[..altered.len() - 16]).is_ok());
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
        let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        assert!(
            cache.get(&one).is_some(),
            "kept though this run did not use it"
        );
        assert!(cache.get(&two).is_some(), "kept: this run made it");
    }

    #[test]
    fn a_run_that_reused_everything_leaves_the_file_alone() {
        let (dir, spawn_toml, key) = saved_with_one_record();
        let file = dir.path().join(FILE_NAME);
        // A file the next run would rewrite if it saved: replaced by other bytes, it shows.
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let record = cache.get(&key).expect("a hit");
        cache.keep_reused(&key, &record);
        std::fs::write(&file, "marker").expect("write");
        assert!(!cache.save().expect("save"), "nothing to write");
        assert_eq!(std::fs::read(&file).expect("read"), b"marker");
    }

    /// An analysis of `SELECT 1;` (what [`Analysed`] holds; its values are not checked).
    fn analysed() -> Analysed {
        Analysed {
            analysis: crate::analyze::analyze("SELECT 1;").expect("analysis"),
            sha256: [1; 32],
            xxh3_128: [2; 16],
        }
    }

    #[test]
    fn a_reused_record_is_written_back_as_it_was_read_beside_a_new_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawn_toml = dir.path().join("spawn.toml");
        std::fs::write(&spawn_toml, "").expect("write");
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let one = cache.key(&inputs(b"SELECT 1;", "pin:x"));
        cache.keep(one.clone(), Record::of(&rendered("SELECT 1;")));
        cache.keep_analysed(&one, analysed());
        cache.save().expect("save");

        // The next run reuses the first record and renders a second one.
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let stored = cache.bytes[cache.previous[&one].clone()].to_vec();
        let record = cache.get(&one).expect("a hit");
        cache.keep_reused(&one, &record);
        assert!(
            matches!(cache.current[&one], Kept::Stored(_)),
            "an analysed record is kept as its bytes"
        );
        let two = cache.key(&inputs(b"SELECT 2;", "pin:x"));
        cache.keep(two.clone(), Record::of(&rendered("SELECT 2;")));
        assert!(cache.save().expect("save"), "a new record is written");

        let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        assert_eq!(cache.previous.len(), 2);
        assert_eq!(cache.bytes[cache.previous[&one].clone()], stored[..]);
        let (first, analysis) = cache.get(&one).expect("a hit").into_rendered();
        assert_eq!(
            (first.sql.as_str(), analysis),
            ("SELECT 1;", Some(analysed()))
        );
        let (second, analysis) = cache.get(&two).expect("a hit").into_rendered();
        assert_eq!((second.sql.as_str(), analysis), ("SELECT 2;", None));
    }

    #[test]
    fn a_reused_record_without_an_analysis_keeps_the_one_this_run_adds() {
        let (dir, spawn_toml, key) = saved_with_one_record();
        let mut cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let record = cache.get(&key).expect("a hit");
        assert!(!record.is_analysed());
        cache.keep_reused(&key, &record);
        cache.keep_analysed(&key, analysed());
        assert!(cache.save().expect("save"), "the analysis is new: written");
        let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        let (_, analysis) = cache.get(&key).expect("a hit").into_rendered();
        assert_eq!(analysis, Some(analysed()));
    }

    #[test]
    fn an_index_that_does_not_add_up_to_the_records_is_an_empty_cache() {
        let (dir, spawn_toml, key) = saved_with_one_record();
        let file = dir.path().join(FILE_NAME);
        let saved = std::fs::read(&file).expect("read");
        let payload = &saved[..saved.len() - 16];
        let (mut index, records) = postcard::take_from_bytes::<Index>(payload).expect("index");
        assert_eq!(index.records.len(), 1);
        // Longer and shorter than the record that follows, with a checksum that matches.
        for delta in [1_i64, -1] {
            index.records[0].1 = (records.len() as i64 + delta) as u64;
            let mut bytes = postcard::to_stdvec(&index).expect("encode");
            bytes.extend_from_slice(records);
            bytes.extend_from_slice(&xxh3_128(&bytes).to_le_bytes());
            std::fs::write(&file, &bytes).expect("write");
            let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
            assert!(cache.get(&key).is_none(), "length off by {delta}");
        }
        // Another format's file, with a checksum that matches.
        index.format = FORMAT - 1;
        index.records[0].1 = records.len() as u64;
        let mut bytes = postcard::to_stdvec(&index).expect("encode");
        bytes.extend_from_slice(records);
        bytes.extend_from_slice(&xxh3_128(&bytes).to_le_bytes());
        std::fs::write(&file, &bytes).expect("write");
        let cache = RenderCache::open(dir.path(), &spawn_toml).expect("cache");
        assert!(cache.get(&key).is_none(), "format {}", FORMAT - 1);
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
