//! Compile errors of `embed_migrations!()` and `#[spawn_runtime::test]`.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

#[test]
fn test_attribute_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_test_attr/*.rs");
}
