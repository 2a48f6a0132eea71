//! The unified diff of a test's expected and actual output (the `similar` crate computes
//! it: a well-kept Myers/patience implementation, the one spawn's CLI already uses).

use similar::TextDiff;

/// A unified diff from `expected` to `actual` with 3 lines of context, headed
/// `--- <name>/expected` and `+++ <name>/actual`; empty when they are equal.
pub fn unified_diff(name: &str, expected: &str, actual: &str) -> String {
    if expected == actual {
        return String::new();
    }
    let diff = TextDiff::from_lines(expected, actual);
    let mut out = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name}/expected"), &format!("{name}/actual"))
        .missing_newline_hint(true)
        .to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changed_lines_with_context_and_nothing_when_equal() {
        assert_eq!(unified_diff("t", "a\nb\n", "a\nb\n"), "");
        let diff = unified_diff("t", "a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            diff,
            "--- t/expected\n+++ t/actual\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn a_missing_final_newline_is_visible() {
        let diff = unified_diff("t", "a\n", "a");
        assert!(diff.contains("No newline at end of file"), "{diff}");
    }
}
