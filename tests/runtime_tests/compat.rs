//! Compatibility with the original spawn CLI: its checksums, and a database whose tracking
//! tables it wrote (see shared/compat/TRACKING.md).

use std::path::PathBuf;

use spawn_runtime::{ChecksumKind, MigrateError, Migration, State};
use spawn_tests::TestDb;

use crate::common::{applied_names, history, migrator, Mig};

/// `shared/compat` beside the repository, when it is there.
fn compat_dir() -> Option<PathBuf> {
    spawn_tests::shared_dir("compat")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn xxh3_checksums_match_the_original_vectors() {
    let Some(dir) = compat_dir() else {
        return;
    };
    let tsv = std::fs::read_to_string(dir.join("vectors.tsv")).unwrap();
    let mut checked = 0;
    for line in tsv.lines().skip(1).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (project, migration, env, expected) = (cols[0], cols[1], cols[2], cols[5]);
        let sql =
            std::fs::read_to_string(dir.join(format!("expected/{project}/{migration}.{env}.sql")))
                .unwrap();
        let (sha256, xxh3) = Migration::checksums_of(&sql);
        assert_eq!(hex(&xxh3), expected, "{project} {migration} {env}");
        let normalised = sql
            .strip_prefix('\u{feff}')
            .unwrap_or(&sql)
            .replace("\r\n", "\n");
        assert_eq!(sha256, Migration::checksums_of(&normalised).0);
        checked += 1;
    }
    assert_eq!(checked, 32);
}

/// The original's DDL, as TRACKING.md documents it.
const ORIGINAL_DDL: &str = "
CREATE SCHEMA IF NOT EXISTS _spawn;
CREATE TABLE IF NOT EXISTS _spawn.migration (
    migration_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name VARCHAR(256),
    namespace TEXT NOT NULL DEFAULT 'default',
    CONSTRAINT name_namespace_uq UNIQUE (name, namespace)
);
CREATE TABLE IF NOT EXISTS _spawn.activity (activity_id TEXT PRIMARY KEY CHECK (UPPER(activity_id) = activity_id));
CREATE TABLE IF NOT EXISTS _spawn.status (status_id TEXT PRIMARY KEY CHECK (UPPER(status_id) = status_id));
CREATE TABLE IF NOT EXISTS _spawn.migration_history (
    migration_history_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    migration_id_migration BIGINT NOT NULL REFERENCES _spawn.migration (migration_id),
    activity_id_activity TEXT NOT NULL REFERENCES _spawn.activity (activity_id),
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    description TEXT NOT NULL,
    status_note TEXT NOT NULL,
    status_id_status TEXT NOT NULL REFERENCES _spawn.status (status_id),
    checksum BYTEA NOT NULL,
    pin_hash TEXT,
    execution_time interval NOT NULL
);
INSERT INTO _spawn.activity (activity_id) VALUES ('APPLY'), ('ADOPT'), ('REVERT') ON CONFLICT DO NOTHING;
INSERT INTO _spawn.status (status_id) VALUES ('SUCCESS'), ('ATTEMPTED'), ('FAILURE') ON CONFLICT DO NOTHING;
";

/// One recording, the way the original writes it.
fn original_row(
    name: &str,
    namespace: &str,
    activity: &str,
    status: &str,
    checksum_hex: &str,
    secs: &str,
) -> String {
    format!(
        "BEGIN; WITH m AS (INSERT INTO _spawn.migration (name, namespace) VALUES ('{name}', '{namespace}') \
         ON CONFLICT (name, namespace) DO UPDATE SET name = EXCLUDED.name RETURNING migration_id) \
         INSERT INTO _spawn.migration_history (migration_id_migration, activity_id_activity, created_by, \
         description, status_note, status_id_status, checksum, pin_hash, execution_time) \
         SELECT migration_id, '{activity}', 'unused', '', '', '{status}', decode('{checksum_hex}', 'hex'), NULL, \
         INTERVAL '{secs} second' FROM m; COMMIT;"
    )
}

fn original_migrations() -> (Mig, Mig) {
    let read = |file: &str, fallback: &str| {
        compat_dir()
            .and_then(|d| std::fs::read_to_string(d.join("expected/s01-plain-sql").join(file)).ok())
            .unwrap_or_else(|| fallback.to_string())
    };
    (
        Mig::new(
            "20250301080000-create-orchard",
            &read(
                "20250301080000-create-orchard.prod.sql",
                "CREATE TABLE orchard_block (block_id int);",
            ),
        ),
        Mig::new(
            "20250301080100-seed-varieties",
            &read(
                "20250301080100-seed-varieties.prod.sql",
                "INSERT INTO orchard_block VALUES (1);",
            ),
        ),
    )
}

#[tokio::test]
async fn a_database_migrated_by_the_original_is_recognised() {
    let db = TestDb::new("compat_original_db").await;
    let (a, b) = original_migrations();
    let x = Mig::new(
        "20250301080050-adopted-by-hand",
        "CREATE TABLE by_hand (id int);",
    );
    // What the original did: bootstrap, then each migration in its own session, then a row.
    sqlx::raw_sql(ORIGINAL_DDL).execute(&db.pool).await.unwrap();
    sqlx::raw_sql(&original_row(
        "001-base-migration-table",
        "spawn",
        "APPLY",
        "SUCCESS",
        "2d5ee724f48b00e8a8cb974a5d0e3204",
        "0.012",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::raw_sql(&a.sql).execute(&db.pool).await.unwrap();
    sqlx::raw_sql(&original_row(
        &a.name,
        "default",
        "APPLY",
        "SUCCESS",
        &hex(&a.xxh3()),
        "0.0312",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::raw_sql("CREATE TABLE by_hand (id int)")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::raw_sql(&original_row(
        &x.name, "default", "ADOPT", "SUCCESS", "", "0",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::raw_sql(&b.sql).execute(&db.pool).await.unwrap();
    sqlx::raw_sql(&original_row(
        &b.name,
        "default",
        "APPLY",
        "SUCCESS",
        &hex(&b.xxh3()),
        "0.02",
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    if let Some(dir) = compat_dir() {
        // The checksums are the original's own, from its vectors.
        let tsv = std::fs::read_to_string(dir.join("vectors.tsv")).unwrap();
        assert!(tsv.contains(&format!(
            "{}\tprod\t-\t3c9035096da0374a13055e4b2e489938\t{}",
            a.name,
            hex(&a.xxh3())
        )));
    }

    let set = vec![a.clone(), x.clone(), b.clone()];
    let noop = migrator(&set)
        .run(&db.pool)
        .await
        .expect("recognised as applied");
    assert!(noop.applied.is_empty());
    assert_eq!(noop.already_applied, 3);
    assert_eq!(noop.round_trips, 1);

    let status = migrator(&set).status(&db.pool).await.unwrap();
    assert_eq!(status[0].state, State::Applied);
    assert_eq!(status[0].checksum_kind, Some(ChecksumKind::Xxh3_128));
    assert_eq!(status[0].created_by.as_deref(), Some("unused"));
    assert_eq!(status[1].state, State::Adopted);
    assert_eq!(status[1].checksum_kind, Some(ChecksumKind::Empty));
    assert_eq!(status[2].state, State::Applied);

    // A new migration is applied next to the original's rows; no second bootstrap row.
    let c = Mig::new(
        "20250301080300-irrigation",
        "CREATE TABLE irrigation (block_id int);",
    );
    let set = vec![a.clone(), x.clone(), b.clone(), c.clone()];
    let report = migrator(&set)
        .run(&db.pool)
        .await
        .expect("apply the new one");
    assert_eq!(applied_names(&report), [c.name.as_str()]);
    let rows = history(&db.pool).await;
    assert_eq!(rows.iter().filter(|r| r.namespace == "spawn").count(), 1);
    let last = rows.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.checksum.len()),
        (c.name.as_str(), 32)
    );

    // A changed migration that the original recorded is refused (XXH3 compared with XXH3).
    let changed = vec![
        a.clone(),
        x.clone(),
        b.with_sql(&format!("{}\n-- edited", b.sql)),
        c.clone(),
    ];
    let err = migrator(&changed).run(&db.pool).await.unwrap_err();
    match &err {
        MigrateError::ChecksumMismatch {
            name,
            recorded,
            recorded_kind,
            ..
        } => {
            assert_eq!(name, &b.name);
            assert_eq!(recorded, &hex(&b.xxh3()));
            assert!(recorded_kind.contains("XXH3-128"), "{recorded_kind}");
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    // An adopted row of the original (empty checksum) is never compared.
    let x_changed = vec![
        a.clone(),
        x.with_sql("CREATE TABLE by_hand (id bigint);"),
        b.clone(),
        c.clone(),
    ];
    migrator(&x_changed)
        .run(&db.pool)
        .await
        .expect("empty checksums are not compared");
}
