//! Pinning: content-addressed snapshots of `components/` (stub, being written).
