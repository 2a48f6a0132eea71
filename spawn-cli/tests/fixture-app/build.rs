//! Compiles the test fixture `../fixtures/app` with spawn-build, exactly as an application's
//! build.rs would, for `embed_migrations!()` in lib.rs. It lives in this crate of its own,
//! a dev-dependency of spawn-cli, so it runs for spawn-cli's tests only: never when the
//! `spawn` binary is built or installed.

fn main() -> Result<(), spawn_build::error::BuildError> {
    spawn_build::Config::new()
        .spawn_toml("../fixtures/app/spawn.toml")
        .locked(true)
        .compile()?;
    Ok(())
}
