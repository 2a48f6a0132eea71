//! Variables files (JSON, TOML, YAML) for templates (stub, being written).
