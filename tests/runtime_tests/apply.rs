//! Applying: from empty, reruns, the tracking tables, concurrency, batching, no-op cost,
//! privileges, dry run, target and adopt.

use std::sync::Arc;

use spawn_tests::TestDb;

use crate::common::{
    history, migrator, pool_as, rows_of, snapshot, success_count, table_exists, Mig, APP,
};

fn orchard() -> Vec<Mig> {
    vec![
        Mig::new(
            "20250301080000-create-orchard",
            "CREATE TABLE orchard (id int PRIMARY KEY, name text NOT NULL);\n\
             INSERT INTO orchard VALUES (1, 'north'), (2, 'south');\n",
        ),
        Mig::new(
            "20250301080100-index-orchard",
            "CREATE INDEX orchard_name ON orchard (name);\n-- trailing comment",
        ),
        Mig::new(
            "20250301080200-seed-trees",
            "CREATE TABLE tree (id int, orchard_id int REFERENCES orchard (id));\n\
             INSERT INTO tree SELECT g, 1 + g % 2 FROM generate_series(1, 100) g",
        )
        .pinned("0123456789abcdef0123456789abcdef"),
    ]
}

#[tokio::test]
async fn applies_from_empty_and_a_rerun_is_a_noop() {
    let db = TestDb::new("apply_from_empty").await;
    let ms = orchard();
    let report = migrator(&ms).run(&db.pool).await.expect("first run");
    let names: Vec<&str> = report.applied.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ms.iter().map(|m| m.name.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(report.planned.len(), 3);
    assert_eq!(report.already_applied, 0);
    assert!(!report.dry_run);
    assert!(
        report.to_string().contains("applied 3 migration(s)"),
        "{report}"
    );
    let trees: i64 = sqlx::query_scalar("SELECT count(*) FROM tree")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(trees, 100);

    let before = snapshot(&db.pool).await;
    let again = migrator(&ms).run(&db.pool).await.expect("rerun");
    assert!(
        again.applied.is_empty() && again.planned.is_empty(),
        "{again:?}"
    );
    assert_eq!(again.already_applied, 3);
    assert_eq!(
        again.round_trips, 1,
        "a no-op start reads the history, without the lock"
    );
    assert!(again.to_string().contains("nothing to apply"), "{again}");
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "a no-op run changes nothing"
    );
}

#[tokio::test]
async fn tracking_tables_and_rows_are_exactly_the_originals() {
    let db = TestDb::new("apply_tracking_tables").await;
    let ms = orchard();
    migrator(&ms).run(&db.pool).await.expect("run");

    let columns: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, format_type(a.atttypid, a.atttypmod), \
         CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, \
         coalesce(pg_get_expr(d.adbin, d.adrelid), CASE a.attidentity WHEN 'a' THEN 'identity always' ELSE '' END) \
         FROM information_schema.columns c \
         JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass \
              AND a.attname = c.column_name \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE table_schema = '_spawn' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let c = |t: &str, n: &str, ty: &str, null: &str, def: &str| {
        (
            t.to_string(),
            n.to_string(),
            ty.to_string(),
            null.to_string(),
            def.to_string(),
        )
    };
    assert_eq!(
        columns,
        vec![
            c("activity", "activity_id", "text", "not null", ""),
            c(
                "migration",
                "migration_id",
                "bigint",
                "not null",
                "identity always"
            ),
            c("migration", "name", "character varying(256)", "null", ""),
            c(
                "migration",
                "namespace",
                "text",
                "not null",
                "'default'::text"
            ),
            c(
                "migration_history",
                "migration_history_id",
                "bigint",
                "not null",
                "identity always"
            ),
            c(
                "migration_history",
                "migration_id_migration",
                "bigint",
                "not null",
                ""
            ),
            c(
                "migration_history",
                "activity_id_activity",
                "text",
                "not null",
                ""
            ),
            c("migration_history", "created_by", "text", "not null", ""),
            c(
                "migration_history",
                "created_at",
                "timestamp with time zone",
                "not null",
                "now()"
            ),
            c("migration_history", "description", "text", "not null", ""),
            c("migration_history", "status_note", "text", "not null", ""),
            c(
                "migration_history",
                "status_id_status",
                "text",
                "not null",
                ""
            ),
            c("migration_history", "checksum", "bytea", "not null", ""),
            c("migration_history", "pin_hash", "text", "null", ""),
            c(
                "migration_history",
                "execution_time",
                "interval",
                "not null",
                ""
            ),
            c("status", "status_id", "text", "not null", ""),
        ]
    );
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE connamespace = '_spawn'::regnamespace ORDER BY 1, 2",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let k = |t: &str, n: &str, d: &str| (t.to_string(), n.to_string(), d.to_string());
    assert_eq!(
        constraints,
        vec![
            k(
                "_spawn.activity",
                "activity_activity_id_check",
                "CHECK ((upper(activity_id) = activity_id))"
            ),
            k(
                "_spawn.activity",
                "activity_pkey",
                "PRIMARY KEY (activity_id)"
            ),
            k(
                "_spawn.migration",
                "migration_pkey",
                "PRIMARY KEY (migration_id)"
            ),
            k(
                "_spawn.migration",
                "name_namespace_uq",
                "UNIQUE (name, namespace)"
            ),
            k(
                "_spawn.migration_history",
                "migration_history_activity_id_activity_fkey",
                "FOREIGN KEY (activity_id_activity) REFERENCES _spawn.activity(activity_id)"
            ),
            k(
                "_spawn.migration_history",
                "migration_history_migration_id_migration_fkey",
                "FOREIGN KEY (migration_id_migration) REFERENCES _spawn.migration(migration_id)"
            ),
            k(
                "_spawn.migration_history",
                "migration_history_pkey",
                "PRIMARY KEY (migration_history_id)"
            ),
            k(
                "_spawn.migration_history",
                "migration_history_status_id_status_fkey",
                "FOREIGN KEY (status_id_status) REFERENCES _spawn.status(status_id)"
            ),
            k("_spawn.status", "status_pkey", "PRIMARY KEY (status_id)"),
            k(
                "_spawn.status",
                "status_status_id_check",
                "CHECK ((upper(status_id) = status_id))"
            ),
        ]
    );
    let activities: Vec<String> =
        sqlx::query_scalar("SELECT activity_id FROM _spawn.activity ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(activities, ["ADOPT", "APPLY", "REVERT"]);
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status_id FROM _spawn.status ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(statuses, ["ATTEMPTED", "FAILURE", "SUCCESS"]);

    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let rows = history(&db.pool).await;
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let boot = &rows[0];
    assert_eq!(
        (boot.name.as_str(), boot.namespace.as_str()),
        ("001-base-migration-table", "spawn")
    );
    assert_eq!(
        (boot.activity.as_str(), boot.status.as_str()),
        ("APPLY", "SUCCESS")
    );
    assert_eq!(boot.checksum.len(), 32);
    for (row, m) in rows[1..].iter().zip(&ms) {
        assert_eq!(row.name, m.name);
        assert_eq!(row.namespace, "default");
        assert_eq!(row.activity, "APPLY");
        assert_eq!(row.status, "SUCCESS");
        assert_eq!(
            row.checksum,
            m.sha256().to_vec(),
            "32-byte SHA-256 of the SQL"
        );
        assert_eq!(row.pin_hash, m.pin_hash);
        assert_eq!(row.created_by, format!("{role} ({APP})"));
        assert_eq!(row.description, "");
        assert_eq!(row.status_note, "");
        assert!(
            row.execution_secs > 0.0,
            "execution_time of {} is {}",
            row.name,
            row.execution_secs
        );
    }
    // The migration table has one row per migration, in namespace default.
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _spawn.migration WHERE namespace = 'default'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(n, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_migrators_apply_each_migration_once() {
    let db = TestDb::new("apply_concurrent").await;
    let ms: Arc<Vec<Mig>> = Arc::new(
        (0..20)
            .map(|i| {
                Mig::new(
                    &format!("2025010100{i:04}-step"),
                    &format!("CREATE TABLE step_{i} (id int);\nINSERT INTO step_{i} VALUES ({i});"),
                )
            })
            .collect(),
    );
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let pool = db.new_pool(2).await;
        let ms = Arc::clone(&ms);
        tasks.push(tokio::spawn(async move {
            migrator(&ms).batch_limits(3, 1 << 20).run(&pool).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        let report = t.await.expect("task").expect("every migrator succeeds");
        applied += report.applied.len();
    }
    assert_eq!(
        applied, 20,
        "each migration is applied by exactly one migrator"
    );
    for m in ms.iter() {
        assert_eq!(success_count(&db.pool, &m.name).await, 1, "{}", m.name);
        assert_eq!(
            rows_of(&db.pool, &m.name).await.len(),
            1,
            "{}: no failed attempts",
            m.name
        );
    }
    let boot: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM _spawn.migration_history h JOIN _spawn.migration m \
                                         ON m.migration_id = h.migration_id_migration WHERE m.namespace = 'spawn'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(boot, 1, "one bootstrap row");
}

#[tokio::test]
async fn a_noop_start_with_1000_applied_sends_one_statement() {
    let db = TestDb::new("apply_noop_1000").await;
    let ms: Vec<Mig> = (0..1000)
        .map(|i| {
            Mig::new(
                &format!("20250101{i:06}-t"),
                &format!("CREATE TABLE t_{i} (id int);"),
            )
        })
        .collect();
    let first = migrator(&ms).run(&db.pool).await.expect("apply 1000");
    assert_eq!(first.applied.len(), 1000);
    // history (no tables yet), lock+probe, re-check, DDL, history, 5 batches of 200, unlock.
    assert!(
        first.round_trips <= 11,
        "1000 migrations in batches: {} round trips",
        first.round_trips
    );
    let noop = migrator(&ms).run(&db.pool).await.expect("no-op");
    assert!(noop.applied.is_empty());
    assert_eq!(noop.already_applied, 1000);
    assert!(
        noop.round_trips == 1,
        "a no-op start sent {} statements",
        noop.round_trips
    );
    eprintln!(
        "no-op start with 1000 applied: {} statements in {:?}",
        noop.round_trips, noop.total
    );
}

#[tokio::test]
async fn small_batches_give_the_same_result() {
    let db = TestDb::new("apply_small_batches").await;
    let ms = orchard();
    let report = migrator(&ms)
        .batch_limits(1, 1)
        .run(&db.pool)
        .await
        .expect("run");
    assert_eq!(report.applied.len(), 3);
    // history (fails: no tables yet), lock, re-check, DDL, history, 3 batches, unlock
    assert_eq!(report.round_trips, 9);
    for m in &ms {
        assert_eq!(success_count(&db.pool, &m.name).await, 1);
    }
}

#[tokio::test]
async fn existing_tracking_tables_need_no_create_privilege() {
    let db = TestDb::new("apply_no_create").await;
    let ms = orchard();
    migrator(&ms[..1])
        .run(&db.pool)
        .await
        .expect("privileged first run");
    let role = spawn_tests::unique_name("app_role");
    sqlx::raw_sql(&format!(
        "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB; \
         REVOKE CREATE ON DATABASE \"{db}\" FROM PUBLIC; \
         GRANT USAGE ON SCHEMA _spawn TO {role}; \
         GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA _spawn TO {role}; \
         GRANT UPDATE ON _spawn.migration TO {role}; \
         GRANT USAGE, CREATE ON SCHEMA public TO {role}; \
         ALTER TABLE orchard OWNER TO {role};",
        db = db.name
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let pool = pool_as(&db, &role).await;
    let can_create: bool =
        sqlx::query_scalar("SELECT has_database_privilege(current_database(), 'CREATE')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        !can_create,
        "the test role must not have CREATE on the database"
    );
    let noop = migrator(&ms[..1])
        .created_by_app("myapp")
        .run(&pool)
        .await
        .expect("no-op run without CREATE");
    assert!(noop.applied.is_empty());
    let report = migrator(&ms)
        .created_by_app("myapp")
        .run(&pool)
        .await
        .expect("apply without CREATE");
    assert_eq!(report.applied.len(), 2);
    let row = rows_of(&db.pool, &ms[2].name).await.pop().unwrap();
    assert_eq!(row.created_by, format!("{role} (myapp)"));
    pool.close().await;
}

#[tokio::test]
async fn a_dry_run_changes_nothing() {
    let db = TestDb::new("apply_dry_run").await;
    let ms = orchard();
    let before = snapshot(&db.pool).await;
    let report = migrator(&ms)
        .dry_run(true)
        .run(&db.pool)
        .await
        .expect("dry run");
    assert!(report.dry_run);
    assert!(report.applied.is_empty());
    assert_eq!(
        report.planned,
        ms.iter().map(|m| m.name.clone()).collect::<Vec<_>>()
    );
    assert!(report.to_string().contains("would apply 3"), "{report}");
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "not even the tracking tables"
    );
    assert!(!table_exists(&db.pool, "_spawn.migration").await);

    migrator(&ms[..1])
        .run(&db.pool)
        .await
        .expect("apply the first");
    let before = snapshot(&db.pool).await;
    let plan = migrator(&ms)
        .dry_run(true)
        .run(&db.pool)
        .await
        .expect("plan");
    assert!(plan.dry_run);
    assert_eq!(plan.planned, vec![ms[1].name.clone(), ms[2].name.clone()]);
    assert_eq!(plan.already_applied, 1);
    assert_eq!(snapshot(&db.pool).await, before);
}

#[tokio::test]
async fn target_stops_at_the_named_migration() {
    let db = TestDb::new("apply_target").await;
    let ms = orchard();
    let before = snapshot(&db.pool).await;
    let err = migrator(&ms)
        .up_to("20250301080100-index")
        .run(&db.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no migration named `20250301080100-index`"),
        "{text}"
    );
    assert!(
        text.contains("20250301080100-index-orchard"),
        "suggests the close name: {text}"
    );
    assert_eq!(snapshot(&db.pool).await, before);

    let report = migrator(&ms)
        .up_to(&ms[1].name)
        .run(&db.pool)
        .await
        .expect("run to target");
    assert_eq!(
        report
            .applied
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>(),
        vec![ms[0].name.clone(), ms[1].name.clone()]
    );
    assert!(!table_exists(&db.pool, "tree").await);
    let rest = migrator(&ms).run(&db.pool).await.expect("the rest");
    assert_eq!(rest.applied.len(), 1);
    assert!(table_exists(&db.pool, "tree").await);
}

#[tokio::test]
async fn adopt_records_pending_migrations_without_running_them() {
    let db = TestDb::new("apply_adopt").await;
    let ms = orchard();
    // The first two already exist in the database (made by hand).
    sqlx::raw_sql(
        "CREATE TABLE orchard (id int PRIMARY KEY, name text NOT NULL); CREATE INDEX orchard_name ON orchard (name); \
         INSERT INTO orchard VALUES (1, 'by hand'), (2, 'by hand');",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let err = migrator(&ms).adopt(&db.pool, "nope").await.unwrap_err();
    assert!(
        err.to_string().contains("no migration named `nope`"),
        "{err}"
    );

    let dry = migrator(&ms)
        .dry_run(true)
        .adopt(&db.pool, &ms[1].name)
        .await
        .expect("dry adopt");
    assert_eq!(dry.planned.len(), 2);
    assert!(dry.adopted.is_empty());
    assert!(!table_exists(&db.pool, "_spawn.migration").await);

    let report = migrator(&ms)
        .adopt(&db.pool, &ms[1].name)
        .await
        .expect("adopt");
    assert_eq!(report.adopted, vec![ms[0].name.clone(), ms[1].name.clone()]);
    assert!(
        report.to_string().contains("adopted 2 migration(s)"),
        "{report}"
    );
    for m in &ms[..2] {
        let rows = rows_of(&db.pool, &m.name).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].activity.as_str(), rows[0].status.as_str()),
            ("ADOPT", "SUCCESS")
        );
        assert_eq!(
            rows[0].checksum,
            m.sha256().to_vec(),
            "adopt records the SHA-256"
        );
        assert_eq!(rows[0].execution_secs, 0.0);
    }
    // The adopted migrations did not run (the first would have inserted its own rows).
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM orchard ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(names, ["by hand", "by hand"]);
    let again = migrator(&ms)
        .adopt(&db.pool, &ms[1].name)
        .await
        .expect("adopt again");
    assert!(
        again.adopted.is_empty(),
        "already adopted ones are not adopted twice"
    );

    // A later run applies only the third, and a changed adopted migration is refused.
    let run = migrator(&ms).run(&db.pool).await.expect("run");
    assert_eq!(run.applied.len(), 1);
    assert_eq!(run.already_applied, 2);
    let changed = vec![
        ms[0].with_sql("CREATE TABLE orchard (id bigint);"),
        ms[1].clone(),
        ms[2].clone(),
    ];
    let err = migrator(&changed).run(&db.pool).await.unwrap_err();
    assert!(
        matches!(err, spawn_runtime::MigrateError::ChecksumMismatch { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn adopt_with_description_writes_it_into_the_adopt_rows() {
    let db = TestDb::new("apply_adopt_description").await;
    let ms = orchard();
    let text = "applied by hand in ticket OPS-1 ('night' run, C:\\ops\\notes)";
    let report = migrator(&ms)
        .adopt_with_description(&db.pool, &ms[1].name, text)
        .await
        .expect("adopt");
    assert_eq!(report.adopted, vec![ms[0].name.clone(), ms[1].name.clone()]);
    for m in &ms[..2] {
        let rows = rows_of(&db.pool, &m.name).await;
        assert_eq!(
            rows.len(),
            1,
            "one row per migration, description included: {rows:#?}"
        );
        assert_eq!(
            (rows[0].activity.as_str(), rows[0].description.as_str()),
            ("ADOPT", text)
        );
    }
    // A dry run writes nothing; plain adopt() leaves the description empty.
    let before = snapshot(&db.pool).await;
    let dry = migrator(&ms)
        .dry_run(true)
        .adopt_with_description(&db.pool, &ms[2].name, "x")
        .await
        .expect("dry");
    assert_eq!(dry.planned, vec![ms[2].name.clone()]);
    assert_eq!(snapshot(&db.pool).await, before);
    migrator(&ms)
        .adopt(&db.pool, &ms[2].name)
        .await
        .expect("adopt the third");
    assert_eq!(rows_of(&db.pool, &ms[2].name).await[0].description, "");
}
