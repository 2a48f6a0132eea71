//! The macro takes no arguments: the project is configured in build.rs.
static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!("db/spawn.toml");

fn main() {
    let _ = &MIGRATIONS;
}
