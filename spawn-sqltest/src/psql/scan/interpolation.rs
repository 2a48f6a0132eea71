//! Variable references, `:name`, `:'name'`, `:"name"` and `:{?name}`, as both lexers (SQL
//! and meta-command arguments) recognise and replace them.

use super::quote;
use super::sql::{is_variable_char, run};
use crate::psql::vars::Variables;

/// A variable reference starting with `:`, as both lexers (SQL and meta-command
/// arguments) recognise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interpolation {
    /// `:name`
    Plain { len: usize },
    /// `:'name'`
    Literal { len: usize },
    /// `:"name"`
    Identifier { len: usize },
    /// `:{?name}`
    Defined { len: usize },
}

impl Interpolation {
    /// The reference at the start of `s` (which starts with `:`), if complete.
    pub(crate) fn parse(s: &[u8]) -> Option<Self> {
        let name_at = |from: usize| run(&s[from.min(s.len())..], is_variable_char);
        match s.get(1) {
            Some(&b) if is_variable_char(b) => Some(Self::Plain {
                len: 1 + name_at(1),
            }),
            Some(&q @ (b'\'' | b'"')) => {
                let name = name_at(2);
                (name > 0 && s.get(2 + name) == Some(&q)).then(|| {
                    let len = 3 + name;
                    if q == b'\'' {
                        Self::Literal { len }
                    } else {
                        Self::Identifier { len }
                    }
                })
            }
            Some(b'{') if s.get(2) == Some(&b'?') => {
                let name = name_at(3);
                (name > 0 && s.get(3 + name) == Some(&b'}'))
                    .then_some(Self::Defined { len: 4 + name })
            }
            _ => None,
        }
    }

    /// Its length in bytes.
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Plain { len }
            | Self::Literal { len }
            | Self::Identifier { len }
            | Self::Defined { len } => len,
        }
    }

    /// The variable's name, from the text `s` it was parsed from.
    pub(crate) fn name(self, s: &str) -> &str {
        match self {
            Self::Plain { len } => &s[1..len],
            Self::Literal { len } | Self::Identifier { len } => &s[2..len - 1],
            Self::Defined { len } => &s[3..len - 1],
        }
    }

    /// What replaces it (`None`: keep the text as it is). `vars` is `None` when inactive.
    pub(crate) fn render(self, s: &str, vars: Option<&Variables>) -> Option<String> {
        let value = vars.and_then(|v| v.get(self.name(s)));
        match self {
            Self::Plain { .. } => value.map(str::to_owned),
            Self::Literal { .. } => value.map(quote::literal),
            Self::Identifier { .. } => value.map(quote::identifier),
            Self::Defined { .. } => Some(if value.is_some() { "TRUE" } else { "FALSE" }.into()),
        }
    }
}
