//! The `spawn` command-line tool (being written).
fn main() {}
