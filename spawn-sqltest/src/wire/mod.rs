//! A minimal PostgreSQL client on the simple query protocol (placeholder, being written).
