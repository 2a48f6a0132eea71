//! The round-trip oracle over this crate's own fixtures (`tests/fixtures`): one case per
//! object kind and per dependency-ordering bug of migra.

mod common;

macro_rules! own_cases {
    ($($test:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $test() {
            common::check_case(&common::own_fixtures().join(stringify!($test))).await;
        }
    )*};
}

own_cases! {
    add_columns_to_a_table_with_rows,
    casts,
    check_expressions,
    collations,
    column_type_change_with_dependents,
    comments,
    composite_and_range,
    constraints,
    default_privileges,
    dep_drop_column_used_by_view,
    dep_function_in_default_and_check,
    dep_type_in_function_signature,
    dep_view_on_function_created_later,
    domains,
    enum_add_values,
    enum_remove_and_reorder,
    event_triggers,
    foreign_data_wrappers,
    foreign_table_columns,
    foreign_tables,
    identity_generated,
    index_definitions,
    inheritance,
    inherited_column_local,
    matview_indexes,
    operator_classes,
    operators,
    partition_index_names,
    partitions,
    policies,
    privileges,
    publications,
    quoting,
    relation_kind_change,
    routines,
    rules,
    schemas_and_extensions,
    sequences,
    statistics_targets,
    table_options,
    text_search,
    text_search_parsers,
    triggers,
    user_mappings,
    views,
}

#[test]
fn every_own_case_is_listed() {
    let source = include_str!("roundtrip_own.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(common::own_fixtures()).expect("read the fixtures") {
        let name = entry
            .expect("fixture entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !source.contains(&format!("    {name},")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "own cases without a test: {missing:?}");
}
