//! Options: env, fixtures, migrations.

#[spawn_runtime::test(migrations = false, environment = "dev")]
async fn unknown_option(pool: spawn_runtime::sqlx::PgPool) {
    let _ = pool;
}

fn main() {}
