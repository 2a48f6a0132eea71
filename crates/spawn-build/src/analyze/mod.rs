//! SQL analysis of rendered migrations (stub, being written).
