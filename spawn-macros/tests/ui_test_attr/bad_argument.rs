//! The argument is a database handle: PgPool, PgConnection or PgConnectOptions.
#[spawn_runtime::test(migrations = false)]
async fn takes_a_string(url: String) {
    let _ = url;
}

fn main() {}
