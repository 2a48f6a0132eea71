//! Placeholder so the workspace manifest parses; the schema-diff benchmark replaces it.
fn main() {}
