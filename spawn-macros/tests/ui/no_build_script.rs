//! A crate without spawn's build script cannot embed migrations.
static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();

fn main() {
    let _ = &MIGRATIONS;
}
