//! Compiles the test fixture `tests/fixtures/app` with spawn-build, exactly as an
//! application's build.rs would, so the CLI tests can embed it with `embed_migrations!()`
//! and check that the CLI and an embedded migrator agree. The `spawn` binary itself does
//! not use the result.

fn main() {
    spawn_build::Config::new()
        .spawn_toml("tests/fixtures/app/spawn.toml")
        .locked(true)
        .compile()
        .unwrap();
}
