//! What the property tests of this crate share: their proptest configuration.
//!
//! Every property test runs a fixed number of cases so that CI stays fast and predictable;
//! the `PROPTEST_*` environment variables still override it (`PROPTEST_CASES=100000` for a
//! long local run, `PROPTEST_RNG_SEED=<u64>` to fix the random generator of a whole run).
//! A failing case is shrunk and printed with its minimal input, and its seed is saved to
//! `<test file>.proptest-regressions` beside the test file: commit that file, and the case
//! is replayed first on every later run.

use proptest::test_runner::{contextualize_config, Config, FileFailurePersistence};

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
