//! status(): every state a migration can be in.

use spawn_runtime::{ChecksumKind, State};
use spawn_tests::TestDb;

use crate::common::{migrator, snapshot, Mig};

#[tokio::test]
async fn status_reports_every_state() {
    let db = TestDb::new("status_states").await;
    let a = Mig::new("1-applied", "CREATE TABLE s_a (id int);");
    let b = Mig::new("2-adopted", "CREATE TABLE s_b (id int);");
    let m = Mig::new("2a-missing", "CREATE TABLE s_m (id int);");
    let e = Mig::new("3-changed", "CREATE TABLE s_e (id int);");
    let c = Mig::new("4-failed", "SELECT 1/0;");
    let d = Mig::no_tx(
        "5-partial",
        "CREATE TABLE s_d (id int);\nSELECT 1/0;\nSELECT 1;",
    );
    let p = Mig::new("6-pending", "CREATE TABLE s_p (id int);");

    // Before anything: everything pending, and status creates nothing.
    let all = vec![
        a.clone(),
        b.clone(),
        e.clone(),
        c.clone(),
        d.clone(),
        p.clone(),
    ];
    let before = snapshot(&db.pool).await;
    let status = migrator(&all).status(&db.pool).await.unwrap();
    assert!(
        status
            .iter()
            .all(|s| s.state == State::Pending && s.checksum_kind.is_none()),
        "{status:#?}"
    );
    assert_eq!(snapshot(&db.pool).await, before);

    migrator(&[a.clone(), m.clone(), e.clone()])
        .run(&db.pool)
        .await
        .unwrap();
    migrator(&[a.clone(), b.clone(), m.clone(), e.clone()])
        .adopt(&db.pool, &b.name)
        .await
        .unwrap();
    migrator(&[a.clone(), b.clone(), m.clone(), e.clone(), c.clone()])
        .run(&db.pool)
        .await
        .unwrap_err();
    migrator(&[a.clone(), b.clone(), m.clone(), e.clone(), d.clone()])
        .run(&db.pool)
        .await
        .unwrap_err();

    let now = vec![
        a.clone(),
        b.clone(),
        e.with_sql("CREATE TABLE s_e (id bigint);"),
        c.clone(),
        d.clone(),
        p.clone(),
    ];
    let before = snapshot(&db.pool).await;
    let status = migrator(&now).status(&db.pool).await.unwrap();
    assert_eq!(snapshot(&db.pool).await, before, "status changes nothing");
    let states: Vec<(&str, State)> = status.iter().map(|s| (s.name.as_str(), s.state)).collect();
    assert_eq!(
        states,
        [
            ("1-applied", State::Applied),
            ("2-adopted", State::Adopted),
            ("2a-missing", State::Missing),
            ("3-changed", State::Changed),
            ("4-failed", State::Failed),
            ("5-partial", State::Partial),
            ("6-pending", State::Pending),
        ]
    );
    let applied = &status[0];
    assert_eq!(applied.checksum_kind, Some(ChecksumKind::Sha256));
    assert!(applied.applied_at.is_some());
    assert_eq!(applied.activity.as_deref(), Some("APPLY"));
    assert!(applied
        .created_by
        .as_deref()
        .is_some_and(|c| c.ends_with("(runtime-tests)")));
    assert_eq!(status[1].activity.as_deref(), Some("ADOPT"));
    assert!(
        status[4]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("division by zero")),
        "{:?}",
        status[4].note
    );
    assert_eq!(status[5].progress, Some((1, 3)));
    assert!(status[6].applied_at.is_none());
    assert_eq!(
        status[5].to_string().split_whitespace().next(),
        Some("partial")
    );
}
