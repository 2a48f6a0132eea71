//! Embedded sets (`Migrations`, as `embed_migrations!()` makes them): environment choice,
//! the build's tracking schema, and the shortcuts run / status / adopt.

use spawn_runtime::embedded::{EmbeddedMigration, EmbeddedRender};
use spawn_runtime::{MigrateError, Migration, Migrations, Migrator, State};
use spawn_tests::TestDb;

use crate::common::{split, Mig};

/// Migration `name`, pinned at `pin_hash`, rendered for each `(environment, sql)`.
fn embedded(
    name: &'static str,
    pin_hash: Option<&'static str>,
    renders: [(&'static str, &str); 2],
) -> EmbeddedMigration {
    let renders = renders.map(|(environment, sql)| EmbeddedRender {
        environment,
        migration: Migration {
            pin_hash: pin_hash.map(Into::into),
            ..Migration::new(name, sql.to_owned(), split(sql))
        },
    });
    EmbeddedMigration {
        name,
        renders: Box::leak(Box::new(renders)),
    }
}

/// Two migrations rendered for `dev` and `prod`; default environment `prod`; tracking
/// schema `app_tracking`.
fn embedded_set() -> &'static Migrations {
    let migrations = vec![
        embedded(
            "20250306130000-feature-flags",
            Some("9d05484214dd6d3964fd0f2f434f873a"),
            [
                (
                    "dev",
                    "CREATE TABLE flags (env text);\nINSERT INTO flags VALUES ('dev');",
                ),
                (
                    "prod",
                    "CREATE TABLE flags (env text);\nINSERT INTO flags VALUES ('prod');",
                ),
            ],
        ),
        embedded(
            "20250306130100-flag-tuning",
            None,
            [
                (
                    "dev",
                    "ALTER TABLE flags ADD COLUMN tuned bool DEFAULT true;",
                ),
                (
                    "prod",
                    "ALTER TABLE flags ADD COLUMN tuned bool DEFAULT false;",
                ),
            ],
        ),
    ];
    Box::leak(Box::new(Migrations::__from_embedded(
        Box::leak(migrations.into_boxed_slice()),
        "prod",
        "app_tracking",
    )))
}

async fn env_of(db: &TestDb) -> String {
    sqlx::query_scalar("SELECT env FROM flags")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// One test, because it changes SPAWN_ENV.
#[tokio::test]
async fn embedded_sets_choose_their_environment() {
    std::env::remove_var("SPAWN_ENV");
    let set = embedded_set();
    assert_eq!(set.environments(), ["dev", "prod"]);

    // Default: the build's default environment and tracking schema.
    let db = TestDb::new("embedded_default").await;
    let report = set.run(&db.pool).await.expect("run");
    assert_eq!(report.environment.as_deref(), Some("prod"));
    assert_eq!(report.tracking_schema, "app_tracking");
    assert_eq!(report.applied.len(), 2);
    assert_eq!(env_of(&db).await, "prod");
    let pin: Option<String> = sqlx::query_scalar(
        "SELECT h.pin_hash FROM app_tracking.migration_history h JOIN app_tracking.migration m \
         ON m.migration_id = h.migration_id_migration WHERE m.name = '20250306130000-feature-flags'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(pin.as_deref(), Some("9d05484214dd6d3964fd0f2f434f873a"));
    let status = set.status(&db.pool).await.unwrap();
    assert!(
        status.iter().all(|s| s.state == State::Applied),
        "{status:#?}"
    );
    // The prod renders are applied; the dev ones differ.
    let dev_status = set
        .migrator()
        .environment("dev")
        .status(&db.pool)
        .await
        .unwrap();
    assert!(
        dev_status.iter().all(|s| s.state == State::Changed),
        "{dev_status:#?}"
    );

    // Chosen in code.
    let db = TestDb::new("embedded_dev").await;
    let report = set
        .migrator()
        .environment("dev")
        .run(&db.pool)
        .await
        .expect("dev run");
    assert_eq!(report.environment.as_deref(), Some("dev"));
    assert_eq!(env_of(&db).await, "dev");

    // Not compiled in: an error listing the ones that are; nothing happens.
    let db = TestDb::new("embedded_unknown").await;
    let err = set
        .migrator()
        .environment("staging")
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::UnknownEnvironment { .. }));
    let text = err.to_string();
    assert!(
        text.contains(
            "environment `staging` was not compiled into this binary (compiled in: `dev`, `prod`)"
        ),
        "{text}"
    );
    assert!(text.contains("SPAWN_ENV"), "{text}");
    let schema: bool = sqlx::query_scalar("SELECT to_regnamespace('app_tracking') IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(!schema);

    // SPAWN_ENV.
    std::env::set_var("SPAWN_ENV", "dev");
    let result = set.run(&db.pool).await;
    std::env::remove_var("SPAWN_ENV");
    assert_eq!(
        result.expect("SPAWN_ENV=dev").environment.as_deref(),
        Some("dev")
    );
    assert_eq!(env_of(&db).await, "dev");

    // adopt through the set.
    let db = TestDb::new("embedded_adopt").await;
    let report = set
        .adopt(&db.pool, "20250306130000-feature-flags")
        .await
        .expect("adopt");
    assert_eq!(report.adopted, ["20250306130000-feature-flags"]);
    let status = set.status(&db.pool).await.unwrap();
    assert_eq!(
        status.iter().map(|s| s.state).collect::<Vec<_>>(),
        [State::Adopted, State::Pending]
    );
}

#[tokio::test]
async fn rendered_sets_reject_environment_and_duplicates() {
    let db = TestDb::new("embedded_rendered_errors").await;
    let ms = [Mig::new("20250101000000-a", "SELECT 1;")];
    let err = Migrator::new(ms.iter().map(Mig::migration).collect())
        .environment("dev")
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::EnvironmentNotSelectable { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("render them for `dev` instead"),
        "{err}"
    );
    let dup = [ms[0].clone(), ms[0].with_sql("SELECT 2;")];
    let err = Migrator::new(dup.iter().map(Mig::migration).collect())
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("migration `20250101000000-a` appears twice"),
        "{err}"
    );
    let err = Migrator::new(Vec::new())
        .tracking_schema("")
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::InvalidSchema { .. }), "{err}");
}
