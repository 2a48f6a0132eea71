//! What a run tells people and CI systems: the unified diff of a failed test and the JUnit
//! XML report.

mod diff;
mod junit;

pub use diff::unified_diff;
pub use junit::{junit_xml, JunitCase};
