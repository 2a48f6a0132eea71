//! The orchard's database, tested with `#[spawn_runtime::test]`: each test gets a fresh
//! database cloned from a template migrated once with the embedded migrations below, and
//! dropped when the test passes (kept, with its name printed, when it fails).

use spawn_runtime::sqlx::postgres::PgConnectOptions;
use spawn_runtime::sqlx::{self, ConnectOptions, PgConnection, PgPool};

/// The attribute's migrations: `crate::MIGRATIONS` unless `migrations = …` says otherwise.
static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();

/// The default environment is the default target's (`dev` in spawn.toml): seed data.
#[spawn_runtime::test]
async fn dev_databases_have_the_seed_orchards(pool: PgPool) {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM orchard ORDER BY name")
        .fetch_all(&pool)
        .await
        .expect("orchards");
    assert_eq!(
        names,
        [
            "Appleby",
            "O'Hara's Grove",
            "Pear Tree Farm",
            "Smith, Jones & Sons"
        ]
    );
}

/// Each test has a database of its own: this one's writes are nowhere else.
#[spawn_runtime::test]
async fn tests_do_not_see_each_other(mut conn: PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM variety")
        .execute(&mut conn)
        .await?;
    sqlx::query("DELETE FROM orchard")
        .execute(&mut conn)
        .await?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM orchard")
        .fetch_one(&mut conn)
        .await?;
    assert_eq!(left, 0);
    Ok(())
}

/// The price list (components/data/price-list.csv) is seeded in every environment.
#[spawn_runtime::test(env = "prod")]
async fn prod_databases_have_the_price_list(pool: PgPool) -> Result<(), sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM variety")
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 5, "one variety per row of the price list");
    Ok(())
}

/// Fixtures run after the migrations, relative to this crate's Cargo.toml.
#[spawn_runtime::test(env = "prod", fixtures("tests/fixtures/pricing.sql"))]
async fn gross_prices_add_the_currencys_tax_rate(pool: PgPool) {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT variety, gross_price::text FROM orchard_prices ORDER BY variety")
            .fetch_all(&pool)
            .await
            .expect("prices");
    // price-v2 inserted a 20 % EUR rate, which version 2 of price_with_tax looks up.
    let expected = [
        ("Ashmead's Kernel", "4.08"),
        ("Bramley", "3.72"),
        ("Bramley", "2.16"),
        ("Conference", "2.34"),
        ("Discovery", "2.52"),
        ("Egremont Russet", "2.64"),
        ("Gala", "1.20"),
    ]
    .map(|(variety, price)| (variety.to_owned(), price.to_owned()));
    assert_eq!(rows, expected);
}

/// The connect options, to open connections yourself.
#[spawn_runtime::test]
async fn the_newest_price_function_is_installed(options: PgConnectOptions) {
    let mut conn = options.connect().await.expect("connect");
    let comment: String =
        sqlx::query_scalar("SELECT obj_description('price_with_tax(numeric)'::regprocedure)")
            .fetch_one(&mut conn)
            .await
            .expect("comment");
    assert_eq!(comment, "price_with_tax version 2");
}

#[spawn_runtime::test(migrations = false)]
async fn without_migrations_the_database_is_empty(pool: PgPool) {
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(tables, 0);
}

/// The template carries the fingerprint of these migrations, so the next run (or another
/// test binary of this crate) clones it as it is instead of migrating again.
#[spawn_runtime::test(migrations = false)]
async fn the_template_records_the_migrations_fingerprint(pool: PgPool) {
    let environment = "dev";
    let template = spawn_runtime::testing::template_name(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_MANIFEST_DIR"),
        environment,
    );
    let rendered = MIGRATIONS
        .for_environment(environment)
        .expect("dev renders");
    let expected = spawn_runtime::testing::fingerprint(&rendered, environment);
    // The dev tests of this binary may not have built it yet: build it (or find it) now.
    let migrator = MIGRATIONS.migrator().environment(environment);
    let server = spawn_runtime::testing::server().expect("the tests' server");
    spawn_runtime::testing::prepare_template(
        server.admin_options(),
        &template,
        &expected,
        &migrator,
    )
    .await
    .expect("the template");
    let comment: Option<String> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(&template)
    .fetch_one(&pool)
    .await
    .expect("the template's comment");
    assert_eq!(comment, Some(expected));
}

/// Every migration has a `down.sql`: rolling them all back leaves no orchard table, and
/// applying them again gives the same schema (the schema diff finds no differences) and
/// the same data.
#[spawn_runtime::test]
async fn up_down_up_leaves_the_same_schema_and_data(pool: PgPool) {
    use spawn_schema::Options;
    let prices = |pool: PgPool| async move {
        sqlx::query_scalar::<_, String>("SELECT p::text FROM orchard_prices p ORDER BY 1")
            .fetch_all(&pool)
            .await
            .expect("prices")
    };
    let up = spawn_schema::inspect(&pool, &Options::default())
        .await
        .expect("inspect");
    let up_prices = prices(pool.clone()).await;

    // The newest one only: its orchards go, the dev seed's stay.
    let report = MIGRATIONS
        .migrator()
        .rollback_steps(&pool, 1)
        .await
        .expect("roll back the newest");
    assert_eq!(report.reverted.len(), 1);
    let orchards: i64 = sqlx::query_scalar("SELECT count(*) FROM orchard")
        .fetch_one(&pool)
        .await
        .expect("orchards");
    assert_eq!(orchards, 3, "the dev seed's orchards stay");

    // Then the rest, down to nothing.
    let report = MIGRATIONS
        .migrator()
        .rollback_steps(&pool, 2)
        .await
        .expect("roll back the rest");
    assert_eq!(report.reverted.len(), 2);
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('orchard')::text")
        .fetch_one(&pool)
        .await
        .expect("to_regclass");
    assert_eq!(table, None, "create-orchard was rolled back");

    let report = MIGRATIONS.run(&pool).await.expect("up again");
    assert_eq!(
        report.applied.len(),
        3,
        "rolled back migrations are pending again"
    );
    let again = spawn_schema::inspect(&pool, &Options::default())
        .await
        .expect("inspect");
    let diff = up.plan(&again, &Options::default());
    assert!(
        diff.is_empty(),
        "up → down → up differs:\n{}",
        diff.to_sql()
    );
    assert_eq!(prices(pool).await, up_prices);
}

/// build.rs embeds `db/callbacks/after_migrate.sql` beside the migrations, per environment.
#[test]
fn the_after_migrate_callback_is_embedded_for_every_environment() {
    for env in ["dev", "prod"] {
        let callbacks = MIGRATIONS.callbacks(env).expect("callbacks compiled in");
        let after = callbacks.after_migrate.as_ref().expect("after_migrate");
        assert!(
            after.sql.ends_with("ANALYZE orchard, variety;"),
            "{}",
            after.sql
        );
        assert!(callbacks.before_migrate.is_none() && callbacks.before_each.is_empty());
    }
}
