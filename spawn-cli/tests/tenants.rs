//! Tenant schemas from the command line: `migrations/<m>/tenant.sql` rendered with `tenant`
//! standing for each tenant, applied by `spawn migration apply` to every tenant the target
//! names (eight processes at once apply each part once per tenant), `spawn tenant add`,
//! `spawn migration status --fleet` per tenant, the query form of the list, and bad names.

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

const TENANT_MIGRATION: &str = "20250104000000-tenant-fruit";

/// The fixture app with a migration that has a shared part and a tenant part, pinned, and
/// `tenants` (a TOML value) in its target.
fn tenant_project(db: &TestDb, tenants: &str) -> tempfile::TempDir {
    let p = project("app");
    let root = p.path();
    let toml = root.join("spawn.toml");
    let text = std::fs::read_to_string(&toml)
        .expect("read")
        .replace("[targets.app]\n", &format!("[targets.app]\n{tenants}\n"));
    std::fs::write(&toml, text).expect("write");
    let dir = root.join("db/migrations").join(TENANT_MIGRATION);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("up.sql"),
        "CREATE TABLE tenant_registry (name text PRIMARY KEY);\n",
    )
    .expect("up.sql");
    std::fs::write(
        dir.join("tenant.sql"),
        "CREATE TABLE fruit (id int PRIMARY KEY, owner text NOT NULL DEFAULT {{ tenant }});\n\
         COMMENT ON TABLE {{ tenant | escape_identifier }}.fruit IS {{ \"fruit of \" ~ tenant }};\n\
         INSERT INTO fruit (id) VALUES (1);\n",
    )
    .expect("tenant.sql");
    run(root, db, &["migration", "pin", TENANT_MIGRATION])
        .assert()
        .success();
    p
}

fn run(dir: &Path, db: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
    c
}

async fn create_schemas(db: &TestDb, names: &[&str]) {
    for name in names {
        sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
            .execute(&db.pool)
            .await
            .expect("schema");
    }
}

/// `(owner, comment)` of a tenant's fruit table.
async fn fruit_of(db: &TestDb, tenant: &str) -> (String, String) {
    sqlx::query_as(&format!(
        "SELECT owner, obj_description('{tenant}.fruit'::regclass) FROM {tenant}.fruit"
    ))
    .fetch_one(&db.pool)
    .await
    .expect("fruit")
}

/// Whether `relation` exists in the database.
async fn exists(db: &TestDb, relation: &str) -> bool {
    let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(relation)
        .fetch_one(&db.pool)
        .await
        .expect("to_regclass");
    found.is_some()
}

/// SUCCESS rows in `tenant`'s namespace (0 when nothing was ever recorded).
async fn tenant_successes(db: &TestDb, tenant: &str) -> i64 {
    if !exists(db, "_spawn.migration_history").await {
        return 0;
    }
    sqlx::query_scalar(
        "SELECT count(*) FROM _spawn.migration m JOIN _spawn.migration_history h \
         ON h.migration_id_migration = m.migration_id \
         WHERE m.namespace = $1 AND h.status_id_status = 'SUCCESS'",
    )
    .bind(format!("tenant:{tenant}"))
    .fetch_one(&db.pool)
    .await
    .expect("history")
}

#[tokio::test]
async fn eight_applies_at_once_give_each_tenant_its_part_once() {
    let db = TestDb::new("cli_tenants").await;
    create_schemas(&db, &["acme", "globex"]).await;
    let p = tenant_project(&db, "tenants = [\"acme\", \"globex\"]");
    let root = p.path();
    let children: Vec<std::process::Child> = (0..8)
        .map(|_| {
            let mut c = common::spawn_process();
            c.current_dir(root)
                .env("SPAWN_TEST_URL", &db.url)
                .args(["migration", "apply", "--yes"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            c.spawn().expect("spawn")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    for tenant in ["acme", "globex"] {
        assert_eq!(
            fruit_of(&db, tenant).await,
            (tenant.to_owned(), format!("fruit of {tenant}"))
        );
        assert_eq!(tenant_successes(&db, tenant).await, 1, "{tenant}");
    }
    // Not in public: the shared part made only the registry.
    let public_fruit: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public.fruit')::text")
            .fetch_one(&db.pool)
            .await
            .expect("query");
    assert_eq!(public_fruit, None);

    run(root, &db, &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 tenant(s) of target `app` (1 tenant part(s)): 0 applied, 2 up to date",
        ));

    // A tenant added later gets every part.
    run(root, &db, &["tenant", "add", "initech"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "tenant initech: every tenant part applied",
        ))
        .stderr(predicate::str::contains(
            "does not list initech among its tenants yet",
        ));
    assert_eq!(
        fruit_of(&db, "initech").await,
        ("initech".to_owned(), "fruit of initech".to_owned())
    );

    run(
        root,
        &db,
        &["migration", "status", "--fleet", "--exit-code"],
    )
    .assert()
    .success()
    .stdout(predicate::str::contains("acme"))
    .stdout(predicate::str::contains("globex"))
    .stdout(predicate::str::contains("up to date"));
}

#[tokio::test]
async fn the_query_form_reads_the_tenants_after_the_shared_part() {
    let db = TestDb::new("cli_tenants_query").await;
    create_schemas(&db, &["acme"]).await;
    let p = tenant_project(
        &db,
        "tenants_query = \"SELECT name FROM tenant_registry ORDER BY name\"",
    );
    let root = p.path();
    // The registry is empty at first: no tenant.
    run(root, &db, &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0 tenant(s) of target `app`"));
    sqlx::raw_sql("INSERT INTO tenant_registry VALUES ('acme'), ('nowhere')")
        .execute(&db.pool)
        .await
        .expect("register");
    // `nowhere` has no schema: it fails, naming it; acme is applied; exit 2.
    run(root, &db, &["migration", "apply", "--yes"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(format!(
            "acme: applied {TENANT_MIGRATION}"
        )))
        .stderr(predicate::str::contains(
            "nowhere: tenant nowhere: its schema does not exist",
        ));
    assert_eq!(tenant_successes(&db, "acme").await, 1);
    assert_eq!(tenant_successes(&db, "nowhere").await, 0);
}

#[tokio::test]
async fn a_bad_tenant_name_is_refused_naming_where_it_comes_from() {
    let db = TestDb::new("cli_tenants_bad").await;
    create_schemas(&db, &["acme"]).await;
    let p = tenant_project(&db, "tenants = [\"acme\", \"bad-name\"]");
    let root = p.path();
    run(root, &db, &["migration", "apply", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "[targets.app] tenants[1]: invalid tenant name \"bad-name\"",
        ));
    assert_eq!(tenant_successes(&db, "acme").await, 0);
    assert!(
        !exists(&db, "tenant_registry").await,
        "refused before the shared part ran"
    );
    run(root, &db, &["tenant", "add", "9lives"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "invalid tenant name \"9lives\": a tenant is 1 to 63 ASCII letters, digits and _, \
             not starting with a digit; nothing was created",
        ));
    let schema: Option<String> = sqlx::query_scalar("SELECT to_regnamespace('9lives')::text")
        .fetch_one(&db.pool)
        .await
        .expect("query");
    assert_eq!(schema, None);
}

#[tokio::test]
async fn a_bad_tenant_list_is_an_error_naming_its_section_and_nothing_is_applied_to_tenants() {
    let db = TestDb::new("cli_tenants_bad_list").await;
    create_schemas(&db, &["acme"]).await;
    let both = tenant_project(
        &db,
        "tenants = [\"acme\"]\ntenants_query = \"SELECT 'acme'\"",
    );
    run(both.path(), &db, &["migration", "apply", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "[targets.app] has tenants and tenants_query; keep one of them",
        ));
    assert!(
        !exists(&db, "tenant_registry").await,
        "refused before the shared part ran"
    );
    let null = tenant_project(&db, "tenants_query = \"SELECT NULL::text\"");
    run(null.path(), &db, &["migration", "apply", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "[targets.app] tenants_query, row 1: the schema name is NULL",
        ));
    assert_eq!(tenant_successes(&db, "acme").await, 0);
}
