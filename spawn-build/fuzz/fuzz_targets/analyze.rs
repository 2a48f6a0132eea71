//! The SQL analyser never panics, and a successful analysis has its body after any
//! byte-order mark and its statements in it, in order, apart and on character boundaries.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spawn_build::analyze::analyze;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(analysis) = analyze(sql) else {
        return;
    };
    let body = analysis.body;
    assert!(body.start <= body.end && body.end <= sql.len());
    assert!(sql.is_char_boundary(body.start) && sql.is_char_boundary(body.end));
    let mut previous_end = None;
    for statement in &analysis.statements {
        let (start, end) = (statement.start, statement.end);
        assert!(body.start <= start && start < end && end <= body.end);
        assert!(previous_end.is_none_or(|previous| previous < start));
        assert!(sql.is_char_boundary(start) && sql.is_char_boundary(end));
        previous_end = Some(end);
    }
});
