//! `env` is a string.

#[spawn_runtime::test(migrations = false, env = dev)]
async fn env_not_string(pool: spawn_runtime::sqlx::PgPool) {
    let _ = pool;
}

fn main() {}
