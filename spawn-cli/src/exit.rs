//! Exit codes and the error type that carries one to `main`.

use std::fmt;

/// Success.
pub const OK: u8 = 0;
/// An error (the message says what failed and what to run next), or a wrong command line.
pub const ERROR: u8 = 1;
/// Differences found or work pending (`check`, `status --exit-code`, `diff`, `db status`),
/// denied hazards found (`migration hazards --deny`).
pub const DIFFERENCES: u8 = 2;
/// `spawn diff`: statements that may lose data were refused (pass --unsafe).
pub const UNSAFE_REFUSED: u8 = 3;
/// Interrupted by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

/// How a command ended when it did not simply succeed.
#[derive(Debug)]
pub enum Exit {
    /// An error to print (exit 1).
    Error(anyhow::Error),
    /// The command printed what it found; exit with this code and print nothing more.
    Code(u8),
}

impl<E: Into<anyhow::Error>> From<E> for Exit {
    fn from(e: E) -> Self {
        Exit::Error(e.into())
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Error(e) => write!(f, "{e:#}"),
            Exit::Code(c) => write!(f, "exit {c}"),
        }
    }
}

/// What every command returns.
pub type CmdResult = Result<(), Exit>;

/// `return Err(Exit::Error(anyhow!(…)))`: `bail!` for commands.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::exit::Exit::Error(anyhow::anyhow!($($arg)*)))
    };
}
