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

/// A builder-style setter `fn name(self, on: bool) -> Self` for each boolean option.
macro_rules! switches {
    ($($(#[$doc:meta])* $name:ident,)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, on: bool) -> Self {
            self.$name = on;
            self
        }
    )*};
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

    switches! {
        /// Also compare owners and privileges.
        with_privileges,
        /// Ignore differences of extension versions.
        ignore_extension_versions,
        /// Only output `CREATE EXTENSION` statements.
        create_extensions_only,
        /// Allow statements that may lose data.
        allow_unsafe,
        /// Turn a dropped and an added column of the same definition into `RENAME COLUMN`
        /// (default: on).
        detect_renames,
    }

    /// Whether a schema is inspected under these options.
    pub fn includes_schema(&self, schema: &str) -> bool {
        (self.schemas.is_empty() || self.schemas.iter().any(|s| s == schema))
            && !self.exclude_schemas.iter().any(|s| s == schema)
    }
}
