//! The JUnit XML report CI systems read: one `<testsuite>`, one `<testcase>` per test, a
//! failure carrying the diff. Written with `quick-xml`, which does the escaping.

use std::time::Duration;

use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// One test in the report.
#[derive(Debug, Clone)]
pub struct JunitCase {
    /// The test's name.
    pub name: String,
    /// How long it ran.
    pub duration: Duration,
    /// `Some(message, details)` when it failed (details: e.g. the diff).
    pub failure: Option<(String, String)>,
    /// `Some(reason)` when it was skipped.
    pub skipped: Option<String>,
}

/// The report for `cases`, as one test suite named `suite`.
pub fn junit_xml(suite: &str, cases: &[JunitCase]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let total: Duration = cases.iter().map(|c| c.duration).sum();
    let counts = [
        ("tests", cases.len().to_string()),
        ("failures", failures.to_string()),
        ("errors", "0".to_owned()),
        ("skipped", skipped.to_string()),
        ("time", seconds(total)),
    ];
    // Writing to a Vec cannot fail.
    let write = |writer: &mut Writer<Vec<u8>>, event: Event<'_>| {
        writer.write_event(event).expect("writing XML to memory");
    };
    write(
        &mut writer,
        Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
    );
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", suite));
    for (key, value) in &counts {
        suites.push_attribute((*key, value.as_str()));
    }
    write(&mut writer, Event::Start(suites));
    let mut suite_start = BytesStart::new("testsuite");
    suite_start.push_attribute(("name", suite));
    for (key, value) in &counts {
        suite_start.push_attribute((*key, value.as_str()));
    }
    write(&mut writer, Event::Start(suite_start));
    for case in cases {
        let mut start = BytesStart::new("testcase");
        start.push_attribute(("name", case.name.as_str()));
        start.push_attribute(("classname", suite));
        start.push_attribute(("time", seconds(case.duration).as_str()));
        if case.failure.is_none() && case.skipped.is_none() {
            write(&mut writer, Event::Empty(start));
            continue;
        }
        write(&mut writer, Event::Start(start));
        if let Some((message, details)) = &case.failure {
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", message.as_str()));
            failure.push_attribute(("type", "output differs"));
            write(&mut writer, Event::Start(failure));
            // CDATA keeps the diff readable; "]]>" cannot occur inside one, so split it.
            for (i, part) in details.split("]]>").enumerate() {
                if i > 0 {
                    write(&mut writer, Event::Text(BytesText::new("]]>")));
                }
                write(&mut writer, Event::CData(BytesCData::new(part)));
            }
            write(&mut writer, Event::End(BytesEnd::new("failure")));
        }
        if let Some(reason) = &case.skipped {
            let mut skipped = BytesStart::new("skipped");
            skipped.push_attribute(("message", reason.as_str()));
            write(&mut writer, Event::Empty(skipped));
        }
        write(&mut writer, Event::End(BytesEnd::new("testcase")));
    }
    write(&mut writer, Event::End(BytesEnd::new("testsuite")));
    write(&mut writer, Event::End(BytesEnd::new("testsuites")));
    let mut xml = String::from_utf8(writer.into_inner()).expect("quick-xml writes UTF-8");
    xml.push('\n');
    xml
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_testcase_per_test_and_failures_carry_the_diff() {
        let xml = junit_xml(
            "spawn",
            &[
                JunitCase {
                    name: "ok<1>".into(),
                    duration: Duration::from_millis(5),
                    failure: None,
                    skipped: None,
                },
                JunitCase {
                    name: "bad".into(),
                    duration: Duration::from_millis(7),
                    failure: Some(("output differs".into(), "-a\n+b ]]> & <x>\n".into())),
                    skipped: None,
                },
            ],
        );
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            "{xml}"
        );
        assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
        assert!(xml.contains(r#"<testcase name="ok&lt;1&gt;""#), "{xml}");
        assert!(
            xml.contains("<![CDATA[-a\n+b ]]>]]&gt;<![CDATA[ & <x>\n]]>"),
            "{xml}"
        );
        // It parses back.
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut testcases = 0;
        loop {
            match reader.read_event().expect("valid XML") {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                    testcases += 1
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(testcases, 2);
    }
}
