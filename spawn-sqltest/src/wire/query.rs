//! Running queries on the simple query protocol: one `Query` message, then everything the
//! server answers, as [`QueryEvent`]s in order, until `ReadyForQuery`.

use postgres_protocol::message::backend::{DataRowBody, Message, RowDescriptionBody};
use postgres_protocol::message::frontend;

use fallible_iterator::FallibleIterator;

use super::connection::{Connection, TransactionStatus};
use super::fields::{is_fatal, server_message};
use super::WireError;
use crate::message::{Column, Row, ServerMessage};

/// The reply to `COPY FROM STDIN`, which the test runner cannot feed.
pub const COPY_FROM_STDIN_REFUSAL: &str = "COPY from stdin is not supported by spawn test";

/// One thing the server said in answer to a query, in the order it said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryEvent {
    /// A result's columns (sent even when it has no rows).
    RowDescription(Vec<Column>),
    /// A row of the current result, in text format.
    DataRow(Row),
    /// A statement finished; its full command tag (`INSERT 0 3`, `CREATE TABLE`, …).
    CommandComplete(String),
    /// The query string held no statement.
    EmptyQuery,
    /// A notice (or warning, info, …).
    Notice(ServerMessage),
    /// An error: the rest of the query string was skipped.
    Error(ServerMessage),
    /// A `NOTIFY` delivered to this session.
    Notification {
        /// The notifying server process.
        process_id: i32,
        /// The channel.
        channel: String,
        /// The payload (empty when none).
        payload: String,
    },
    /// The data of a `COPY … TO STDOUT`, exactly as the server sent it.
    CopyOut(Vec<u8>),
}

impl Connection {
    /// Runs `sql` (any number of statements) and returns what the server answered.
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<QueryEvent>, WireError> {
        let mut events = Vec::new();
        self.simple_query_with(sql, &mut |event| events.push(event))
            .await?;
        Ok(events)
    }

    /// Runs `sql` and hands each event to `on_event` as it arrives.
    ///
    /// A `COPY … FROM STDIN` is answered with `CopyFail` ([`COPY_FROM_STDIN_REFUSAL`]); the
    /// server then reports the error and the session goes on.
    pub async fn simple_query_with(
        &mut self,
        sql: &str,
        on_event: &mut impl FnMut(QueryEvent),
    ) -> Result<(), WireError> {
        self.send_queries(&[sql]).await?;
        self.read_until_ready(on_event).await?;
        self.busy = false;
        Ok(())
    }

    /// Runs several query strings in one round trip: all `Query` messages go out in one
    /// write, then the answers are read, one list of events per query string.
    ///
    /// The queries must not include `COPY … FROM STDIN`: the server would take the next
    /// query for copy data. An error in one query does not stop the following ones.
    ///
    /// ```no_run
    /// # async fn demo(connection: &mut spawn_sqltest::wire::Connection)
    /// #     -> Result<(), spawn_sqltest::wire::WireError> {
    /// let results = connection.pipeline(&["ROLLBACK", "DISCARD ALL"]).await?;
    /// assert_eq!(results.len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn pipeline(&mut self, queries: &[&str]) -> Result<Vec<Vec<QueryEvent>>, WireError> {
        self.send_queries(queries).await?;
        let mut results = Vec::with_capacity(queries.len());
        for _ in queries {
            let mut events = Vec::new();
            self.read_until_ready(&mut |event| events.push(event))
                .await?;
            results.push(events);
        }
        self.busy = false;
        Ok(results)
    }

    /// Writes one `Query` message per query string, in one write.
    async fn send_queries(&mut self, queries: &[&str]) -> Result<(), WireError> {
        if self.busy {
            return Err(WireError::OutOfStep {
                endpoint: self.transport.endpoint.clone(),
            });
        }
        let buffer = &mut self.transport.write_buffer;
        for sql in queries {
            if let Err(_nul) = frontend::query(sql, buffer) {
                buffer.clear();
                return Err(WireError::NulByte { what: "query" });
            }
        }
        self.busy = true;
        match self.transport.flush().await {
            Err(WireError::Io { source, .. }) if peer_gone(&source) => {
                Err(self.closed_by_server().await)
            }
            other => other,
        }
    }

    /// The error for a session the server has ended: reads what it sent before closing, to
    /// report its FATAL message (e.g. SQLSTATE 57P01, terminated by an administrator).
    async fn closed_by_server(&mut self) -> WireError {
        let mut fatal = None;
        while let Ok(Some(message)) = self.transport.read_message().await {
            if let Message::ErrorResponse(body) = message {
                if let Ok(error) = server_message(body.fields()) {
                    fatal = is_fatal(&error).then_some(error).or(fatal);
                }
            }
        }
        self.transport.closed(fatal)
    }

    /// Reads the answer to one `Query` message, up to and including its `ReadyForQuery`.
    async fn read_until_ready(
        &mut self,
        on_event: &mut impl FnMut(QueryEvent),
    ) -> Result<(), WireError> {
        let mut fatal = None;
        let mut copy_out: Option<Vec<u8>> = None;
        loop {
            let Some(message) = self.transport.read_message().await? else {
                return Err(self.transport.closed(fatal));
            };
            match message {
                Message::RowDescription(body) => {
                    on_event(QueryEvent::RowDescription(self.columns(&body)?))
                }
                Message::DataRow(body) => on_event(QueryEvent::DataRow(self.row(&body)?)),
                Message::CommandComplete(body) => {
                    let tag = body.tag().map_err(|e| self.transport.protocol(e))?;
                    on_event(QueryEvent::CommandComplete(tag.to_string()))
                }
                Message::EmptyQueryResponse => on_event(QueryEvent::EmptyQuery),
                Message::NoticeResponse(body) => {
                    let notice =
                        server_message(body.fields()).map_err(|e| self.transport.protocol(e))?;
                    on_event(QueryEvent::Notice(notice))
                }
                Message::ErrorResponse(body) => {
                    let error =
                        server_message(body.fields()).map_err(|e| self.transport.protocol(e))?;
                    if is_fatal(&error) {
                        fatal = Some(error.clone());
                    }
                    on_event(QueryEvent::Error(error))
                }
                Message::NotificationResponse(body) => {
                    let text = |part: std::io::Result<&str>| {
                        part.map(str::to_string)
                            .map_err(|e| self.transport.protocol(e))
                    };
                    on_event(QueryEvent::Notification {
                        process_id: body.process_id(),
                        channel: text(body.channel())?,
                        payload: text(body.message())?,
                    })
                }
                Message::ParameterStatus(body) => self.record_parameter(&body)?,
                Message::CopyInResponse(_) => {
                    frontend::copy_fail(COPY_FROM_STDIN_REFUSAL, &mut self.transport.write_buffer)
                        .map_err(|e| self.transport.protocol(e))?;
                    self.transport.flush().await?;
                }
                Message::CopyOutResponse(_) => copy_out = Some(Vec::new()),
                Message::CopyData(body) => match copy_out.as_mut() {
                    Some(data) => data.extend_from_slice(body.data()),
                    None => return Err(self.transport.protocol("CopyData outside a COPY")),
                },
                Message::CopyDone => match copy_out.take() {
                    Some(data) => on_event(QueryEvent::CopyOut(data)),
                    None => return Err(self.transport.protocol("CopyDone outside a COPY")),
                },
                Message::ReadyForQuery(body) => {
                    self.transaction_status = TransactionStatus::from_byte(body.status())
                        .ok_or_else(|| self.transport.protocol("invalid transaction status"))?;
                    return Ok(());
                }
                _ => {
                    return Err(self
                        .transport
                        .protocol("unexpected message in answer to a simple query"))
                }
            }
        }
    }

    /// The columns of a row description.
    fn columns(&self, body: &RowDescriptionBody) -> Result<Vec<Column>, WireError> {
        body.fields()
            .map(|field| {
                Ok(Column {
                    name: field.name().to_string(),
                    type_oid: field.type_oid(),
                    type_modifier: field.type_modifier(),
                })
            })
            .collect()
            .map_err(|e| self.transport.protocol(e))
    }

    /// The values of a data row, as text (invalid UTF-8 replaced).
    fn row(&self, body: &DataRowBody) -> Result<Row, WireError> {
        let buffer = body.buffer();
        body.ranges()
            .map(
                |range| Ok(range.map(|range| String::from_utf8_lossy(&buffer[range]).into_owned())),
            )
            .collect()
            .map_err(|e| self.transport.protocol(e))
    }
}

/// Whether a write failed because the server already closed the connection.
fn peer_gone(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
    )
}
