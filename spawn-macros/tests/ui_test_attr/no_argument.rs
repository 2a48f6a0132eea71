//! The function takes one argument.
#[spawn_runtime::test(migrations = false)]
async fn takes_nothing() {}

fn main() {}
