//! `Migrator::run_fleet`: one set applied to many databases, each under its own lock; a
//! failure on one (a failing migration, an unreachable server) leaves the others applied
//! and the failed one as a single run would (its failed migration not applied), a rerun
//! resumes, and `fail_fast` starts nothing after the first failure.

use std::time::Duration;

use spawn_runtime::fleet::{FleetMember, FleetOptions, FleetOutcome};
use spawn_runtime::MigrateError;
use spawn_tests::{server, TestDb};

use crate::common::{migrator, table_exists, Mig};

fn set() -> Vec<Mig> {
    vec![
        Mig::new("001-fruit", "CREATE TABLE fruit (id int PRIMARY KEY);"),
        Mig::new("002-crate", "CREATE TABLE crate (id int PRIMARY KEY);"),
    ]
}

fn member(db: &TestDb) -> FleetMember {
    FleetMember::new(db.name.clone(), server().options(&db.name))
}

/// A database nobody listens for.
fn unreachable() -> FleetMember {
    FleetMember::new(
        "nowhere",
        sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(1)
            .database("nowhere"),
    )
}

fn outcome_names(report: &spawn_runtime::fleet::FleetReport) -> Vec<(String, &'static str)> {
    report
        .results
        .iter()
        .map(|r| {
            let kind = match &r.outcome {
                FleetOutcome::Applied(_) => "applied",
                FleetOutcome::UpToDate(_) => "up to date",
                FleetOutcome::Failed(_) => "failed",
                FleetOutcome::NotStarted => "not started",
                _ => "other",
            };
            (r.member.clone(), kind)
        })
        .collect()
}

#[tokio::test]
async fn every_database_is_migrated_and_a_rerun_finds_them_up_to_date() {
    let dbs = [
        TestDb::new("fleet_a").await,
        TestDb::new("fleet_b").await,
        TestDb::new("fleet_c").await,
    ];
    let members: Vec<FleetMember> = dbs.iter().map(member).collect();
    let m = migrator(&set());
    let mut finished = Vec::new();
    let report = m
        .run_fleet(&members, &FleetOptions::default().jobs(2), |r| {
            finished.push(r.member.clone());
        })
        .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.applied().count(), 3);
    // Results in the members' order; every one reported as it finished.
    let names: Vec<&str> = report.results.iter().map(|r| r.member.as_str()).collect();
    assert_eq!(
        names,
        dbs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>()
    );
    finished.sort();
    let mut expected: Vec<String> = dbs.iter().map(|d| d.name.clone()).collect();
    expected.sort();
    assert_eq!(finished, expected);
    for db in &dbs {
        assert!(table_exists(&db.pool, "crate").await);
    }

    let again = m
        .run_fleet(&members, &FleetOptions::default(), |_| {})
        .await;
    assert_eq!(again.up_to_date().count(), 3, "{again:?}");
}

#[tokio::test]
async fn a_failure_on_one_database_leaves_the_others_applied_and_a_rerun_resumes() {
    let good = TestDb::new("fleet_good").await;
    let bad = TestDb::new("fleet_bad").await;
    // 002 cannot be applied on `bad`: its table is already there.
    sqlx::raw_sql("CREATE TABLE crate (id int)")
        .execute(&bad.pool)
        .await
        .expect("setup");
    let members = vec![member(&good), unreachable(), member(&bad)];
    let m = migrator(&set()).connect_timeout(Duration::from_secs(5));
    let report = m
        .run_fleet(&members, &FleetOptions::default(), |_| {})
        .await;
    assert_eq!(
        outcome_names(&report),
        vec![
            (good.name.clone(), "applied"),
            ("nowhere".to_owned(), "failed"),
            (bad.name.clone(), "failed"),
        ]
    );
    assert!(!report.is_success());
    let unreachable_error = report.results[1].error().expect("failed").to_string();
    assert_eq!(
        unreachable_error,
        "connecting the migrator's dedicated connection to the target database `nowhere`: \
         connection refused by 127.0.0.1:1 (nothing listens there)"
    );
    match report.results[2].error() {
        Some(MigrateError::Failed(failure)) => assert_eq!(failure.name, "002-crate"),
        other => panic!("{other:?}"),
    }
    // `bad`: 001 applied, 002 not (its table is still the one made by hand, unrecorded).
    assert!(table_exists(&bad.pool, "fruit").await);
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT m.name FROM _spawn.migration m JOIN _spawn.migration_history h \
         ON h.migration_id_migration = m.migration_id \
         WHERE h.status_id_status = 'SUCCESS' AND m.namespace = 'default' ORDER BY 1",
    )
    .fetch_all(&bad.pool)
    .await
    .expect("history");
    assert_eq!(recorded, vec!["001-fruit"]);

    // Fixed by hand: the rerun applies only what is pending, where it is pending.
    sqlx::raw_sql("DROP TABLE crate")
        .execute(&bad.pool)
        .await
        .expect("fix");
    let members = vec![member(&good), member(&bad)];
    let rerun = m
        .run_fleet(&members, &FleetOptions::default(), |_| {})
        .await;
    assert_eq!(
        outcome_names(&rerun),
        vec![
            (good.name.clone(), "up to date"),
            (bad.name.clone(), "applied")
        ]
    );
    let FleetOutcome::Applied(report) = &rerun.results[1].outcome else {
        unreachable!()
    };
    assert_eq!(report.planned, vec!["002-crate"]);
}

#[tokio::test]
async fn fail_fast_starts_nothing_after_the_first_failure() {
    let later = TestDb::new("fleet_later").await;
    let members = vec![unreachable(), member(&later)];
    let report = migrator(&set())
        .run_fleet(
            &members,
            &FleetOptions::default().jobs(1).fail_fast(true),
            |_| {},
        )
        .await;
    assert_eq!(
        outcome_names(&report),
        vec![
            ("nowhere".to_owned(), "failed"),
            (later.name.clone(), "not started")
        ]
    );
    // Untouched: not even the tracking tables.
    let tracking: Option<String> = sqlx::query_scalar("SELECT to_regnamespace('_spawn')::text")
        .fetch_one(&later.pool)
        .await
        .expect("query");
    assert_eq!(tracking, None);
}

#[tokio::test]
async fn fleet_status_reads_every_database_without_changing_any() {
    let applied = TestDb::new("fleet_status_applied").await;
    let fresh = TestDb::new("fleet_status_fresh").await;
    let m = migrator(&set());
    m.run(&applied.pool).await.expect("migrate");
    let statuses = m
        .status_fleet(&[member(&applied), member(&fresh), unreachable()], 2)
        .await;
    assert_eq!(statuses.len(), 3);
    let pending = |i: usize| {
        statuses[i]
            .1
            .as_ref()
            .expect("status")
            .iter()
            .filter(|s| s.state == spawn_runtime::State::Pending)
            .count()
    };
    assert_eq!(pending(0), 0);
    assert_eq!(pending(1), 2);
    assert!(statuses[2].1.is_err());
    assert!(!table_exists(&fresh.pool, "fruit").await);
}
