//! psql's result printers (placeholder, being written).
