//! `compile()` with tenant parts (`migrations/<name>/tenant.sql`): rendered from the same
//! pin as `up.sql` with `tenant` standing for each tenant's schema (the runtime's marker),
//! analysed, and embedded as a set of their own; a broken one fails the build naming it.

use std::path::{Path, PathBuf};

use spawn_build::Config;
use spawn_model::TENANT_MARKER;

fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

fn config(root: &Path) -> Config {
    let mut config = Config::new();
    config
        .spawn_toml(root.join("spawn.toml"))
        .out_dir(root.join("out"))
        .cargo_output(false)
        // Pins as a debug build does, also where `CI` is set.
        .locked(false);
    config
}

#[test]
fn a_tenant_part_is_rendered_with_the_marker_and_embedded_beside_the_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "spawn.toml", "spawn_folder = \"db\"\n");
    write(
        root,
        "db/components/fruit.sql",
        "CREATE TABLE fruit (id int);\n",
    );
    write(
        root,
        "db/migrations/20250101000000-t/up.sql",
        "CREATE TABLE registry (name text);\n",
    );
    write(
        root,
        "db/migrations/20250101000000-t/tenant.sql",
        "{% include \"fruit.sql\" %}\nCOMMENT ON SCHEMA {{ tenant | escape_identifier }} IS {{ tenant }};\n",
    );
    write(
        root,
        "db/migrations/20250102000000-shared-only/up.sql",
        "CREATE TABLE other (id int);\n",
    );
    let compiled = config(root).compile().expect("compiles");
    let render = &compiled.migrations[0].renders[0];
    let tenant = render.tenant.as_ref().expect("a tenant part");
    assert_eq!(
        tenant.sql,
        format!("CREATE TABLE fruit (id int);\nCOMMENT ON SCHEMA \"{TENANT_MARKER}\" IS '{TENANT_MARKER}';")
    );
    assert!(compiled.migrations[1].renders[0].tenant.is_none());
    let generated = std::fs::read_to_string(&compiled.generated).expect("generated");
    assert!(generated.contains("__with_tenant_parts(&["), "{generated}");
    assert!(
        generated.contains("const TM0: EmbeddedMigration"),
        "{generated}"
    );
    syn::parse_str::<syn::Expr>(&generated).expect("one Rust expression");

    // A tenant part with a transaction statement of its own is refused, naming its file.
    write(
        root,
        "db/migrations/20250103000000-broken/up.sql",
        "SELECT 1;\n",
    );
    write(
        root,
        "db/migrations/20250103000000-broken/tenant.sql",
        "CREATE TABLE x (id int);\nCOMMIT;\n",
    );
    let err = config(root).compile().expect_err("refused").to_string();
    assert!(err.contains("20250103000000-broken/tenant.sql"), "{err}");
}
