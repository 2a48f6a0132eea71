//! Tenant schemas (`spawn_runtime::tenants`): the tenant parts applied to each tenant's
//! schema with the marker replaced, recorded in the tenant's namespace, under the tenant's
//! own lock; concurrent runs apply each part once per tenant; a failure in one tenant leaves
//! the others applied; a tenant added later gets every part; a rerun with nothing pending
//! reads one query for all tenants.

use spawn_runtime::fleet::{FleetOptions, FleetOutcome, FleetReport};
use spawn_runtime::tenants::{tenant_namespace, TENANT_MARKER};
use spawn_runtime::{MigrateError, Migrator};
use spawn_tests::TestDb;
use sqlx::PgPool;

use crate::common::{migrator, Mig};

/// Five tenant parts; the second names the tenant, the fourth runs outside a transaction.
fn parts() -> Vec<Mig> {
    let m = TENANT_MARKER;
    vec![
        Mig::new("001-fruit", "CREATE TABLE fruit (id int PRIMARY KEY, name text);"),
        Mig::new(
            "002-comment",
            &format!("COMMENT ON TABLE {m}.fruit IS 'fruit of {m}';\nINSERT INTO fruit VALUES (1, '{m}');"),
        ),
        Mig::new("003-crate", "CREATE TABLE crate (id int PRIMARY KEY);"),
        Mig::no_tx(
            "004-index",
            &format!("CREATE INDEX CONCURRENTLY fruit_name_{m} ON fruit (name);"),
        ),
        Mig::new("005-view", "CREATE VIEW fruit_names AS SELECT name FROM fruit;"),
    ]
}

fn tenants(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

async fn create_schemas(pool: &PgPool, names: &[&str]) {
    for name in names {
        sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
            .execute(pool)
            .await
            .expect("schema");
    }
}

/// How many SUCCESS rows each part has in `tenant`'s namespace.
async fn successes(pool: &PgPool, tenant: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT m.name::text, count(*) FILTER (WHERE h.status_id_status = 'SUCCESS') \
         FROM _spawn.migration m JOIN _spawn.migration_history h \
         ON h.migration_id_migration = m.migration_id \
         WHERE m.namespace = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(tenant_namespace(tenant))
    .fetch_all(pool)
    .await
    .expect("history")
}

fn states(report: &FleetReport) -> Vec<(String, &'static str)> {
    report
        .results
        .iter()
        .map(|r| {
            let state = match &r.outcome {
                FleetOutcome::Applied(_) => "applied",
                FleetOutcome::UpToDate(_) => "up to date",
                FleetOutcome::Failed(_) => "failed",
                FleetOutcome::NotStarted => "not started",
                _ => "other",
            };
            (r.member.clone(), state)
        })
        .collect()
}

#[tokio::test]
async fn every_tenant_gets_its_parts_with_its_name_in_its_own_namespace() {
    let db = TestDb::new("tenants_basic").await;
    create_schemas(&db.pool, &["acme", "globex"]).await;
    let m = migrator(&parts());
    let report = m
        .run_tenants(
            &db.pool,
            &tenants(&["acme", "globex"]),
            &FleetOptions::default(),
            |_| {},
        )
        .await
        .expect("run");
    assert_eq!(
        states(&report),
        vec![("acme".into(), "applied"), ("globex".into(), "applied")]
    );
    for tenant in ["acme", "globex"] {
        let (comment, name): (String, String) = sqlx::query_as(&format!(
            "SELECT obj_description('{tenant}.fruit'::regclass), (SELECT name FROM {tenant}.fruit)"
        ))
        .fetch_one(&db.pool)
        .await
        .expect("tenant data");
        assert_eq!(comment, format!("fruit of {tenant}"));
        assert_eq!(name, tenant);
        let index: Option<String> = sqlx::query_scalar(&format!(
            "SELECT to_regclass('{tenant}.fruit_name_{tenant}')::text"
        ))
        .fetch_one(&db.pool)
        .await
        .expect("index");
        assert!(
            index.is_some(),
            "{tenant}: the no-transaction part built its index"
        );
        assert_eq!(successes(&db.pool, tenant).await.len(), 5);
    }
    // Nothing in the default namespace, and nothing in public.
    let default_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _spawn.migration WHERE namespace = 'default'")
            .fetch_one(&db.pool)
            .await
            .expect("count");
    assert_eq!(default_rows, 0);
    assert!(!crate::common::table_exists(&db.pool, "fruit").await);

    // A rerun with nothing pending: every tenant up to date, without a run of its own.
    let again = m
        .run_tenants(
            &db.pool,
            &tenants(&["acme", "globex"]),
            &FleetOptions::default(),
            |_| {},
        )
        .await
        .expect("rerun");
    assert_eq!(
        states(&again),
        vec![
            ("acme".into(), "up to date"),
            ("globex".into(), "up to date")
        ]
    );
    for r in &again.results {
        let FleetOutcome::UpToDate(report) = &r.outcome else {
            unreachable!()
        };
        assert_eq!(report.round_trips, 0, "no connection of its own");
    }
}

/// Tenants share the dedicated connections of one run (`jobs` backends, not one per
/// tenant), and nothing a tenant part leaves in its session reaches the next tenant: not its
/// `search_path`, temporary table, setting or prepared statement.
#[tokio::test]
async fn tenants_share_jobs_connections_and_no_session_state() {
    let db = TestDb::new("tenants_shared_connections").await;
    let names: Vec<String> = (0..12).map(|i| format!("t{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    create_schemas(&db.pool, &refs).await;
    sqlx::raw_sql("CREATE TABLE public.backends (tenant text, pid int, path text, setting text)")
        .execute(&db.pool)
        .await
        .expect("backends table");
    let m = TENANT_MARKER;
    let set = vec![
        Mig::new(
            "001-record",
            &format!(
                "INSERT INTO public.backends SELECT '{m}', pg_backend_pid(), \
                 current_setting('search_path'), current_setting('spawn_test.leftover', true);\n\
                 CREATE TABLE fruit (id int);\n\
                 CREATE TEMP TABLE scratch (id int);\n\
                 PREPARE leftover AS SELECT 1;\n\
                 SET search_path = public;\n\
                 SET spawn_test.leftover = 'by {m}';"
            ),
        ),
        Mig::new("002-after", "CREATE TABLE crate (id int);"),
    ];
    let report = migrator(&set)
        .run_tenants(&db.pool, &names, &FleetOptions::default().jobs(2), |_| {})
        .await
        .expect("run");
    assert!(report.is_success(), "{report:?}");
    let rows: Vec<(String, i32, String, Option<String>)> =
        sqlx::query_as("SELECT tenant, pid, path, setting FROM public.backends ORDER BY tenant")
            .fetch_all(&db.pool)
            .await
            .expect("backends");
    assert_eq!(rows.len(), 12);
    let pids: std::collections::HashSet<i32> = rows.iter().map(|r| r.1).collect();
    assert!(pids.len() <= 2, "at most 2 backends for 2 jobs: {pids:?}");
    for (tenant, _, path, setting) in &rows {
        assert_eq!(
            path.replace([' ', '"'], ""),
            format!("{tenant},public"),
            "{tenant}'s own search_path"
        );
        assert!(
            setting.as_deref().unwrap_or("").is_empty(),
            "{tenant} saw a setting left by another tenant: {setting:?}"
        );
        for table in ["fruit", "crate"] {
            let found: Option<String> =
                sqlx::query_scalar(&format!("SELECT to_regclass('{tenant}.{table}')::text"))
                    .fetch_one(&db.pool)
                    .await
                    .expect("regclass");
            assert!(found.is_some(), "{tenant}.{table} exists");
        }
    }
    // The shared connections are closed when the run ends.
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)")
        .bind(pids.into_iter().collect::<Vec<_>>())
        .fetch_one(&db.pool)
        .await
        .expect("activity");
    assert_eq!(left, 0, "the tenants' connections are closed after the run");
}

#[tokio::test]
async fn eight_concurrent_runs_apply_each_part_once_per_tenant() {
    let db = TestDb::new("tenants_concurrent").await;
    create_schemas(&db.pool, &["acme", "globex"]).await;
    let set = parts();
    let pools: Vec<PgPool> = futures_util::future::join_all((0..8).map(|_| db.new_pool(4))).await;
    let names = tenants(&["acme", "globex"]);
    let runs = pools.iter().map(|pool| {
        let m = migrator(&set);
        let names = names.clone();
        async move {
            m.run_tenants(pool, &names, &FleetOptions::default(), |_| {})
                .await
                .expect("run")
        }
    });
    let reports = futures_util::future::join_all(runs).await;
    for report in &reports {
        assert!(report.is_success(), "{report:?}");
    }
    for tenant in ["acme", "globex"] {
        let rows = successes(&db.pool, tenant).await;
        assert_eq!(rows.len(), 5, "{tenant}: {rows:?}");
        assert!(rows.iter().all(|(_, n)| *n == 1), "{tenant}: {rows:?}");
    }
}

#[tokio::test]
async fn a_failure_in_one_tenant_leaves_the_others_applied_and_the_failed_part_undone() {
    let db = TestDb::new("tenants_failure").await;
    create_schemas(&db.pool, &["acme", "globex", "initech"]).await;
    // 003 cannot be applied on globex: its table is already there.
    sqlx::raw_sql("CREATE TABLE globex.crate (id int)")
        .execute(&db.pool)
        .await
        .expect("setup");
    let report = migrator(&parts())
        .run_tenants(
            &db.pool,
            &tenants(&["acme", "globex", "initech", "nowhere"]),
            &FleetOptions::default(),
            |_| {},
        )
        .await
        .expect("run");
    assert_eq!(
        states(&report),
        vec![
            ("acme".into(), "applied"),
            ("globex".into(), "failed"),
            ("initech".into(), "applied"),
            ("nowhere".into(), "failed"),
        ]
    );
    match report.results[1].error() {
        Some(MigrateError::Failed(failure)) => assert_eq!(failure.name, "003-crate"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        report.results[3].error().map(ToString::to_string).as_deref(),
        Some(
            "tenant nowhere: its schema does not exist; create it first (`spawn tenant add nowhere` \
             creates it and applies every tenant part)"
        )
    );
    // globex: 001 and 002 applied, 003 not (nothing of it remains), 004 and 005 not run.
    let applied: Vec<String> = successes(&db.pool, "globex")
        .await
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(applied, vec!["001-fruit", "002-comment"]);
    let view: Option<String> = sqlx::query_scalar("SELECT to_regclass('globex.fruit_names')::text")
        .fetch_one(&db.pool)
        .await
        .expect("view");
    assert_eq!(view, None);
}

#[tokio::test]
async fn a_tenant_added_after_five_migrations_gets_all_five() {
    let db = TestDb::new("tenants_added").await;
    create_schemas(&db.pool, &["acme"]).await;
    let m = migrator(&parts());
    m.run_tenants(
        &db.pool,
        &tenants(&["acme"]),
        &FleetOptions::default(),
        |_| {},
    )
    .await
    .expect("first tenant");
    create_schemas(&db.pool, &["newco"]).await;
    let report = m
        .run_tenants(
            &db.pool,
            &tenants(&["acme", "newco"]),
            &FleetOptions::default(),
            |_| {},
        )
        .await
        .expect("with the new tenant");
    assert_eq!(
        states(&report),
        vec![("acme".into(), "up to date"), ("newco".into(), "applied")]
    );
    let FleetOutcome::Applied(applied) = &report.results[1].outcome else {
        unreachable!()
    };
    assert_eq!(applied.planned.len(), 5);
    assert_eq!(successes(&db.pool, "newco").await.len(), 5);
}

#[tokio::test]
async fn a_bad_tenant_name_is_refused_before_anything_runs() {
    let db = TestDb::new("tenants_bad_name").await;
    let error = migrator(&parts())
        .run_tenants(
            &db.pool,
            &tenants(&["acme", "drop table x; --"]),
            &FleetOptions::default(),
            |_| {},
        )
        .await
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "invalid tenant name \"drop table x; --\": a tenant is 1 to 63 ASCII letters, digits and _, \
         not starting with a digit"
    );
    assert!(matches!(
        Migrator::new(Vec::new()).tenant("9lives"),
        Err(MigrateError::InvalidTenant { .. })
    ));
    let tracking: Option<String> = sqlx::query_scalar("SELECT to_regnamespace('_spawn')::text")
        .fetch_one(&db.pool)
        .await
        .expect("query");
    assert_eq!(tracking, None, "nothing was created");
}
