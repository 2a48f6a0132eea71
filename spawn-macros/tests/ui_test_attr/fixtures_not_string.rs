//! Fixtures are string literals.

const SEED: &str = "tests/fixtures/seed.sql";

#[spawn_runtime::test(migrations = false, fixtures("tests/fixtures/a.sql", SEED))]
async fn fixtures_not_string(pool: spawn_runtime::sqlx::PgPool) {
    let _ = pool;
}

fn main() {}
