//! Reading the fields of an `ErrorResponse` or `NoticeResponse` into a [`ServerMessage`].

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::ErrorFields;

use crate::message::ServerMessage;

/// The message made of `fields` (unknown field types are skipped, as the protocol asks).
pub(super) fn server_message(mut fields: ErrorFields<'_>) -> std::io::Result<ServerMessage> {
    let mut message = ServerMessage::default();
    while let Some(field) = fields.next()? {
        let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
        match field.type_() {
            b'S' => message.severity = value,
            b'V' => message.severity_nonlocalized = Some(value),
            b'C' => message.code = value,
            b'M' => message.message = value,
            b'D' => message.detail = Some(value),
            b'H' => message.hint = Some(value),
            b'P' => message.position = value.parse().ok(),
            b'p' => message.internal_position = value.parse().ok(),
            b'q' => message.internal_query = Some(value),
            b'W' => message.context = Some(value),
            b's' => message.schema = Some(value),
            b't' => message.table = Some(value),
            b'c' => message.column = Some(value),
            b'd' => message.datatype = Some(value),
            b'n' => message.constraint = Some(value),
            b'F' => message.file = Some(value),
            b'L' => message.line = Some(value),
            b'R' => message.routine = Some(value),
            _ => {}
        }
    }
    Ok(message)
}

/// Whether the server ends the session after this error.
pub(super) fn is_fatal(message: &ServerMessage) -> bool {
    let severity = message
        .severity_nonlocalized
        .as_deref()
        .unwrap_or(&message.severity);
    matches!(severity, "FATAL" | "PANIC")
}
