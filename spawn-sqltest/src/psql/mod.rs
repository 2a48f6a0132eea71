//! The psql emulation: what `psql -X` prints for a script.

pub mod meta;
pub mod print;
pub mod report;
pub mod scan;
pub mod session;
pub mod sessions;
pub mod vars;
