//! psql's rendering of server messages (errors, notices) — placeholder, being written.
