//! Renders and pins the orchard's migrations (spawn.toml beside Cargo.toml) at compile time,
//! for `embed_migrations!()` in main.rs. A problem in a template fails the build with a
//! message naming the file, the line and what to do.

fn main() -> Result<(), spawn_build::error::BuildError> {
    spawn_build::compile()?;
    Ok(())
}
