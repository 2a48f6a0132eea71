//! End-to-end tests of [`analyze()`](super::analyze).
