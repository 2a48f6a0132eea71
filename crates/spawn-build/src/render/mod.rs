//! Rendering of migration templates with minijinja (stub, being written).
