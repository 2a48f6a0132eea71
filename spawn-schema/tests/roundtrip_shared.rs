//! The round-trip oracle over every case of `../shared/fixtures/diff` (both directions, and
//! from and to an empty database). Skipped when the shared fixtures are not there.

mod common;

macro_rules! shared_cases {
    ($($test:ident => $case:literal),* $(,)?) => {$(
        #[tokio::test]
        async fn $test() {
            let Some(dir) = common::shared_fixtures() else {
                return;
            };
            common::check_case(&dir.join($case)).await;
        }
    )*};
}

shared_cases! {
    migra_collations => "migra-collations",
    migra_constraints => "migra-constraints",
    migra_dependencies => "migra-dependencies",
    migra_dependencies2 => "migra-dependencies2",
    migra_dependencies4 => "migra-dependencies4",
    migra_enumdefaults => "migra-enumdefaults",
    migra_everything => "migra-everything",
    migra_extversions => "migra-extversions",
    migra_generated => "migra-generated",
    migra_identitycols => "migra-identitycols",
    migra_inherit => "migra-inherit",
    migra_partitioning => "migra-partitioning",
    migra_privileges => "migra-privileges",
    migra_rls => "migra-rls",
    migra_singleschema => "migra-singleschema",
    migra_triggers => "migra-triggers",
    migra_triggers2 => "migra-triggers2",
    probe_aggregate => "probe-aggregate",
    probe_col_default_func => "probe-col_default_func",
    probe_comment => "probe-comment",
    probe_domain => "probe-domain",
    probe_domain_change => "probe-domain_change",
    probe_enum_add => "probe-enum_add",
    probe_force_rls => "probe-force_rls",
    probe_func_config => "probe-func_config",
    probe_func_grant => "probe-func_grant",
    probe_func_sig => "probe-func_sig",
    probe_owner => "probe-owner",
    probe_rename_col => "probe-rename_col",
    probe_seq_params => "probe-seq_params",
    probe_stats => "probe-stats",
    probe_storage => "probe-storage",
    probe_view_on_mv => "probe-view_on_mv",
}

/// Every shared case has a test above (a new case must be added to the list).
#[test]
fn every_shared_case_is_listed() {
    let Some(dir) = common::shared_fixtures() else {
        return;
    };
    let source = include_str!("roundtrip_shared.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read the fixtures") {
        let entry = entry.expect("fixture entry");
        if entry.path().join("a.sql").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !source.contains(&format!("\"{name}\"")) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "shared cases without a test: {missing:?}"
    );
}
