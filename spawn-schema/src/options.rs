//! What to inspect and how to diff.

/// Options of inspection and diffing (the flags of `spawn diff`).
///
/// Built from [`Options::default()`] with the setters (later versions may add options):
///
/// ```
/// let options = spawn_schema::Options::default()
///     .schemas(["public"])
///     .allow_unsafe(true);
/// assert!(options.includes_schema("public") && !options.includes_schema("audit"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Only these schemas (all when empty).
    pub schemas: Vec<String>,
    /// Never these schemas.
    pub exclude_schemas: Vec<String>,
    /// Also compare owners and privileges (GRANT/REVOKE, ALTER … OWNER TO).
    pub with_privileges: bool,
    /// Ignore differences of extension versions (and create extensions without a version).
    pub ignore_extension_versions: bool,
    /// Only output `CREATE EXTENSION` statements, nothing else.
    pub create_extensions_only: bool,
    /// Allow statements that may lose data (drops, narrowing type changes).
    pub allow_unsafe: bool,
    /// Turn a dropped column and an added column of the same definition at the same position
    /// into `RENAME COLUMN` (which keeps the data) instead of drop + add.
    pub detect_renames: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            schemas: Vec::new(),
            exclude_schemas: Vec::new(),
            with_privileges: false,
            ignore_extension_versions: false,
            create_extensions_only: false,
            allow_unsafe: false,
            detect_renames: true,
        }
    }
}

impl Options {
    /// Only these schemas (all when empty).
    pub fn schemas<S: Into<String>>(mut self, schemas: impl IntoIterator<Item = S>) -> Self {
        self.schemas = schemas.into_iter().map(Into::into).collect();
        self
    }

    /// Never these schemas.
    pub fn exclude_schemas<S: Into<String>>(
        mut self,
        schemas: impl IntoIterator<Item = S>,
    ) -> Self {
        self.exclude_schemas = schemas.into_iter().map(Into::into).collect();
        self
    }

    /// Also compare owners and privileges.
    pub fn with_privileges(mut self, yes: bool) -> Self {
        self.with_privileges = yes;
        self
    }

    /// Ignore differences of extension versions.
    pub fn ignore_extension_versions(mut self, yes: bool) -> Self {
        self.ignore_extension_versions = yes;
        self
    }

    /// Only output `CREATE EXTENSION` statements.
    pub fn create_extensions_only(mut self, yes: bool) -> Self {
        self.create_extensions_only = yes;
        self
    }

    /// Allow statements that may lose data.
    pub fn allow_unsafe(mut self, yes: bool) -> Self {
        self.allow_unsafe = yes;
        self
    }

    /// Turn a dropped and an added column of the same definition into `RENAME COLUMN`
    /// (default: on).
    pub fn detect_renames(mut self, yes: bool) -> Self {
        self.detect_renames = yes;
        self
    }

    /// Whether a schema is inspected under these options.
    pub fn includes_schema(&self, schema: &str) -> bool {
        (self.schemas.is_empty() || self.schemas.iter().any(|s| s == schema))
            && !self.exclude_schemas.iter().any(|s| s == schema)
    }
}
