//! The filters and functions spawn adds to minijinja.
//!
//! * `gen_uuid_v4()`, `gen_uuid_v5(name)` (DNS namespace), `gen_uuid_v7()`
//! * `escape_identifier`, `escape_literal`: explicit quoting, returned as safe strings
//! * `read_file` (bytes of a component), `read_json` / `read_toml` / `read_yaml`
//! * `parse_json` / `parse_toml` / `parse_yaml` (of a string)
//! * `read_csv` (a component) and `parse_csv` (a string), with the keyword arguments
//!   `header`, `delimiter` and `quote` (see [`super::csv_data`])
//! * `base64_encode` (bytes or string), `to_string_lossy` (bytes → text, U+FFFD for bad UTF-8)
//!
//! Random UUIDs go through a [`UuidLog`] so that a second render of the same migration (the
//! one that locates line origins) can replay exactly the values of the first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};
use uuid::Uuid;

use super::components::Components;
use super::csv_data::{self, CsvOptions};
use super::escape::{quote_identifier, quote_literal};
use crate::variables::{parse_variables, VariablesFormat};

/// Random UUIDs handed out during a render: recorded the first time, replayed the second.
#[derive(Debug, Default)]
pub(crate) struct UuidLog {
    inner: Mutex<UuidLogState>,
}

#[derive(Debug, Default)]
struct UuidLogState {
    replay: Option<VecDeque<String>>,
    recorded: Vec<String>,
}

impl UuidLog {
    fn next(&self, make: fn() -> Uuid) -> String {
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(replay) = state.replay.as_mut() {
            if let Some(value) = replay.pop_front() {
                return value;
            }
        }
        let value = make().to_string();
        state.recorded.push(value.clone());
        value
    }

    /// Whether any random UUID was handed out (so the render is not a function of its inputs).
    pub(crate) fn drew_any(&self) -> bool {
        let state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        !state.recorded.is_empty()
    }

    /// A log that replays what this one recorded.
    pub(crate) fn replaying(&self) -> UuidLog {
        let state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        UuidLog {
            inner: Mutex::new(UuidLogState {
                replay: Some(state.recorded.iter().cloned().collect()),
                recorded: Vec::new(),
            }),
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Registers spawn's filters and functions on `env`.
pub(crate) fn register(
    env: &mut Environment<'static>,
    components: &Arc<Components>,
    uuids: &Arc<UuidLog>,
) {
    let log = Arc::clone(uuids);
    env.add_function("gen_uuid_v4", move || -> String { log.next(Uuid::new_v4) });
    let log = Arc::clone(uuids);
    env.add_function("gen_uuid_v7", move || -> String { log.next(Uuid::now_v7) });
    env.add_function("gen_uuid_v5", |name: &str| -> String {
        Uuid::new_v5(&Uuid::NAMESPACE_DNS, name.as_bytes()).to_string()
    });

    env.add_filter("escape_identifier", |value: &Value| {
        Value::from_safe_string(quote_identifier(&value.to_string()))
    });
    env.add_filter("escape_literal", |value: &Value| {
        Value::from_safe_string(quote_literal(&value.to_string()))
    });
    env.add_filter("base64_encode", base64_encode);
    env.add_filter("to_string_lossy", to_string_lossy);

    let c = Arc::clone(components);
    env.add_filter("read_file", move |path: &str| -> Result<Value, Error> {
        Ok(Value::from_bytes(read_data_file(&c, path)?.to_vec()))
    });
    for (suffix, format) in [
        ("json", VariablesFormat::Json),
        ("toml", VariablesFormat::Toml),
        ("yaml", VariablesFormat::Yaml),
    ] {
        let c = Arc::clone(components);
        env.add_filter(
            format!("read_{suffix}"),
            move |path: &str| -> Result<Value, Error> {
                let bytes = read_data_file(&c, path)?;
                let text = std::str::from_utf8(&bytes).map_err(|e| {
                    invalid(format!("read_{suffix}: {path} is not valid UTF-8 ({e})"))
                })?;
                parse_variables(format, text)
                    .map_err(|e| invalid(format!("read_{suffix}: {}", e.in_file(path))))
            },
        );
        env.add_filter(
            format!("parse_{suffix}"),
            move |text: &str| -> Result<Value, Error> {
                parse_variables(format, text).map_err(|e| invalid(format!("parse_{suffix}: {e}")))
            },
        );
    }

    let c = Arc::clone(components);
    env.add_filter(
        "read_csv",
        move |path: &str, kwargs: Kwargs| -> Result<Value, Error> {
            let options = csv_options("read_csv", &kwargs)?;
            let bytes = read_data_file(&c, path)?;
            csv_data::parse(&bytes, &options).map_err(|e| invalid(format!("read_csv: {path}: {e}")))
        },
    );
    env.add_filter(
        "parse_csv",
        |text: &str, kwargs: Kwargs| -> Result<Value, Error> {
            let options = csv_options("parse_csv", &kwargs)?;
            csv_data::parse(text.as_bytes(), &options)
                .map_err(|e| invalid(format!("parse_csv: {e}")))
        },
    );
}

/// The CSV options of a `read_csv` / `parse_csv` call; unknown keyword arguments are errors.
fn csv_options(filter: &str, kwargs: &Kwargs) -> Result<CsvOptions, Error> {
    let options = CsvOptions::from_kwargs(kwargs).map_err(|e| invalid(format!("{filter}: {e}")))?;
    kwargs.assert_all_used().map_err(|e| {
        invalid(format!(
            "{filter}: {}; the options are header, delimiter and quote",
            e.detail().unwrap_or("unknown keyword argument")
        ))
    })?;
    Ok(options)
}

fn read_data_file(components: &Components, path: &str) -> Result<Arc<[u8]>, Error> {
    match components.read(path) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(invalid(format!(
            "file not found in components: {path} (looked in {})",
            components.describe()
        ))),
        Err(e) => Err(invalid(format!("could not read {path}: {e}"))),
    }
}

fn base64_encode(value: &Value) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::Bytes => Ok(Value::from(
            STANDARD.encode(value.as_bytes().unwrap_or_default()),
        )),
        ValueKind::String => Ok(Value::from(
            STANDARD.encode(value.as_str().unwrap_or_default()),
        )),
        kind => Err(invalid(format!(
            "base64_encode expects bytes or a string, not {kind}"
        ))),
    }
}

fn to_string_lossy(value: &Value) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::Bytes => Ok(Value::from(
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned(),
        )),
        ValueKind::String => Ok(value.clone()),
        kind => Err(invalid(format!(
            "to_string_lossy expects bytes or a string, not {kind}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_log_replays() {
        let log = UuidLog::default();
        let a = log.next(Uuid::new_v4);
        let b = log.next(Uuid::now_v7);
        let replay = log.replaying();
        assert_eq!(replay.next(Uuid::new_v4), a);
        assert_eq!(replay.next(Uuid::new_v4), b);
        assert_ne!(replay.next(Uuid::new_v4), a);
    }

    #[test]
    fn base64_and_lossy() {
        assert_eq!(
            base64_encode(&Value::from_bytes(vec![0xde, 0xad, 0xbe, 0xef]))
                .expect("ok")
                .to_string(),
            "3q2+7w=="
        );
        assert_eq!(
            base64_encode(&Value::from("hello world"))
                .expect("ok")
                .to_string(),
            "aGVsbG8gd29ybGQ="
        );
        assert!(base64_encode(&Value::from(1)).is_err());
        assert_eq!(
            to_string_lossy(&Value::from_bytes(vec![b'h', 0xff]))
                .expect("ok")
                .to_string(),
            "h\u{fffd}"
        );
        assert!(to_string_lossy(&Value::from(1)).is_err());
    }
}
