//! The function returns `()` or a `Result`.
use spawn_runtime::sqlx::PgPool;

#[spawn_runtime::test(migrations = false)]
async fn returns_a_number(pool: PgPool) -> i32 {
    let _ = pool;
    1
}

fn main() {}
