//! What the property tests of this crate share: their proptest configuration, text made of
//! the pieces that matter to the code under test, and [`toml_text`] for the parsers of TOML
//! files.
//!
//! Every property test runs a fixed number of cases so that CI stays fast and predictable;
//! the `PROPTEST_*` environment variables still override it (`PROPTEST_CASES=100000` for a
//! long local run, `PROPTEST_RNG_SEED=<u64>` to fix the random generator of a whole run).
//! A failing case is shrunk and printed with its minimal input, and its seed is saved to
//! `<test file>.proptest-regressions` beside the test file: commit that file, and the case
//! is replayed first on every later run.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{
    contextualize_config, Config, FileFailurePersistence, TestCaseResult, TestRunner,
};

#[allow(dead_code)] // Not every property test reads TOML.
pub mod toml_text;

/// The configuration of a property test with `cases` cases (unless `PROPTEST_CASES` is set).
pub fn config(cases: u32) -> Config {
    contextualize_config(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    })
}

/// Text of up to `max_pieces` pieces: mostly some of `pieces` (what the code under test
/// treats specially), else any character or a few letters.
pub fn text_of(
    pieces: &'static [&'static str],
    max_pieces: usize,
) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => select(pieces).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-zA-Z0-9_ ]{1,6}",
    ];
    vec(piece, 0..max_pieces).prop_map(|pieces| pieces.concat())
}

/// Runs `test` on `cases` values of `strategy` as `proptest!` would, for a test that sets
/// something up once for all its cases (a temporary folder, a database). `source_file` is
/// the caller's `file!()`, which names the file failures are saved to.
#[allow(dead_code)] // Not every test file sets something up.
pub fn run<S: Strategy>(
    cases: u32,
    source_file: &'static str,
    strategy: S,
    test: impl Fn(S::Value) -> TestCaseResult,
) {
    let mut runner = TestRunner::new(Config {
        source_file: Some(source_file),
        ..config(cases)
    });
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure}\n{runner}");
    }
}
