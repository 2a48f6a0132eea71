//! Timings of a command's phases, logged at debug level (`-v`, or `RUST_LOG=spawn=debug`)
//! to show where its time goes.

use std::sync::Mutex;
use std::time::Instant;

/// The start of a command and of its current phase.
pub struct Phases {
    command: &'static str,
    started: Instant,
    last: Mutex<Instant>,
}

impl Phases {
    /// Starts timing `command`.
    pub fn start(command: &'static str) -> Self {
        let now = Instant::now();
        Self {
            command,
            started: now,
            last: Mutex::new(now),
        }
    }

    /// Logs that `phase` ended now: its time since the previous mark, and since the start.
    /// Phases that run at the same time share the clock, so log them with [`Phases::since`].
    pub fn mark(&self, phase: &str) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let took = now.duration_since(*last);
        *last = now;
        self.log(phase, took.as_secs_f64());
    }

    /// Logs that `phase`, begun at `begun`, ended now (for phases that overlap others).
    pub fn since(&self, phase: &str, begun: Instant) {
        self.log(phase, begun.elapsed().as_secs_f64());
    }

    fn log(&self, phase: &str, took: f64) {
        tracing::debug!(
            command = self.command,
            phase,
            ms = format_args!("{:.1}", took * 1000.0),
            at_ms = format_args!("{:.1}", self.started.elapsed().as_secs_f64() * 1000.0),
            "phase done"
        );
    }
}
