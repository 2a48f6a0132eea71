//! What to inspect and how to diff.

/// Options of inspection and diffing (the flags of `spawn diff`).
#[derive(Debug, Clone)]
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
    /// Whether a schema is inspected under these options.
    pub fn includes_schema(&self, schema: &str) -> bool {
        (self.schemas.is_empty() || self.schemas.iter().any(|s| s == schema))
            && !self.exclude_schemas.iter().any(|s| s == schema)
    }
}
