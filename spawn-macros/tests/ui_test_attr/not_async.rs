//! The attribute runs an `async fn`.

#[spawn_runtime::test(migrations = false)]
fn not_async(pool: spawn_runtime::sqlx::PgPool) {
    let _ = pool;
}

fn main() {}
