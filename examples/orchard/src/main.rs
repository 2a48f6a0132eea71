//! The orchard example: an app whose database is migrated at start-up by spawn.
//!
//! It connects to `DATABASE_URL`, or, when that is unset, starts a throwaway PostgreSQL of
//! its own (removed on exit). Then it applies the embedded migrations and shows what they
//! did: the first migration is pinned to version 1 of `price_with_tax`, so even on a fresh
//! database it installs version 1 before the second migration installs version 2. The third
//! migration seeds the price list from a CSV data file (`read_csv`); its rows show up in the
//! `orchard_prices` view printed at the end. The callback `db/callbacks/after_migrate.sql`
//! runs `ANALYZE` after a run that applied something.
//!
//! Every migration has a `down.sql`. With `--rollback-demo` the app then rolls the newest
//! migration back (its `down.sql` runs in one transaction with a `REVERT` history row) and
//! applies it again.

use spawn_runtime::sqlx::postgres::PgPoolOptions;
use spawn_runtime::sqlx::{self, Row};

static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    // Keep the throwaway cluster (if any) alive until the end of main.
    let (url, _cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            println!("DATABASE_URL is not set: starting a throwaway PostgreSQL");
            let cluster = spawn_localdb::Cluster::start_temporary()?;
            (cluster.url("postgres"), Some(cluster))
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect(&url)
        .await?;

    let report = MIGRATIONS.run(&pool).await?;
    println!("{report}");
    if !report.applied.is_empty() {
        let analyzed: bool = sqlx::query_scalar(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'orchard'",
        )
        .fetch_one(&pool)
        .await?;
        println!("callbacks/after_migrate.sql analyzed the orchard table: {analyzed}");
    }

    println!("\nWhat each migration's price_with_tax computed for a net price of 100:");
    let rows = sqlx::query("SELECT migration, function_comment, price_of_100::text AS price_of_100 FROM pricing_log ORDER BY migration")
        .fetch_all(&pool)
        .await?;
    for row in rows {
        let migration: String = row.try_get("migration")?;
        let comment: String = row.try_get("function_comment")?;
        let price: String = row.try_get("price_of_100")?;
        println!("  {migration:<16} {comment:<26} {price}");
    }

    println!("\nThe orchard_prices view:");
    let rows = sqlx::query("SELECT orchard, variety, net_price::text, gross_price::text, currency FROM orchard_prices ORDER BY 1, 2")
        .fetch_all(&pool)
        .await?;
    for row in rows {
        println!(
            "  {:<20} {:<17} {:>6} {:>6} {}",
            row.try_get::<String, _>(0)?,
            row.try_get::<String, _>(1)?,
            row.try_get::<String, _>(2)?,
            row.try_get::<String, _>(3)?,
            row.try_get::<String, _>(4)?,
        );
    }

    if std::env::args().any(|a| a == "--rollback-demo") {
        let report = MIGRATIONS.migrator().rollback_steps(&pool, 1).await?;
        println!("\n{report}");
        let report = MIGRATIONS.run(&pool).await?;
        println!("{report}");
    }
    Ok(())
}
