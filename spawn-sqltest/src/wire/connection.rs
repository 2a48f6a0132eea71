//! [`Connection`]: one session with the server — connecting, startup, the session's state
//! (parameters, backend key, transaction status), and cancelling its running query.

use std::collections::HashMap;
use std::future::Future;

use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::auth::{authenticate, startup_error};
use super::fields::server_message;
use super::target::ConnectTarget;
use super::transport::Transport;
use super::WireError;
use crate::message::ServerMessage;

/// The transaction state the server reported in its last `ReadyForQuery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    /// Not in a transaction block.
    Idle,
    /// In a transaction block.
    InTransaction,
    /// In a failed transaction block (queries are rejected until it ends).
    Failed,
}

impl TransactionStatus {
    /// The status of a `ReadyForQuery` status byte.
    pub(super) fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            b'I' => Some(Self::Idle),
            b'T' => Some(Self::InTransaction),
            b'E' => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A session with a PostgreSQL server on the simple query protocol.
///
/// ```no_run
/// use spawn_sqltest::wire::{ConnectTarget, Connection, QueryEvent};
/// # async fn demo() -> Result<(), spawn_sqltest::wire::WireError> {
/// let target = ConnectTarget::from_url("postgres://postgres@127.0.0.1:5432/postgres")?;
/// let mut connection = Connection::connect(&target).await?;
/// for event in connection.simple_query("SELECT 1 AS one").await? {
///     if let QueryEvent::CommandComplete(tag) = event {
///         assert_eq!(tag, "SELECT 1");
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Connection {
    pub(super) transport: Transport,
    target: ConnectTarget,
    pub(super) parameters: HashMap<String, String>,
    backend_key: Option<BackendKey>,
    pub(super) transaction_status: TransactionStatus,
    /// Set while queries are sent and their answers read: still set when a new call starts,
    /// an earlier call was dropped half-way and the session's answers are out of step.
    pub(super) busy: bool,
    /// Notices the server sent while the session started.
    startup_notices: Vec<ServerMessage>,
}

/// What identifies a session to a cancel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BackendKey {
    process_id: i32,
    secret_key: i32,
}

/// Cancels the running query of a [`Connection`] from anywhere (it is `Send` and `Clone`).
#[derive(Debug, Clone)]
pub struct CancelToken {
    target: ConnectTarget,
    key: BackendKey,
}

impl Connection {
    /// Connects, authenticates and waits until the session is ready, all within the target's
    /// connect timeout.
    pub async fn connect(target: &ConnectTarget) -> Result<Self, WireError> {
        bounded(target, Self::connect_unbounded(target)).await
    }

    async fn connect_unbounded(target: &ConnectTarget) -> Result<Self, WireError> {
        let mut transport = Transport::open(target).await?;
        let mut parameters = vec![
            ("user", target.user.as_str()),
            ("database", target.database.as_str()),
            ("application_name", target.application_name.as_str()),
            ("client_encoding", "UTF8"),
        ];
        if let Some(options) = &target.options {
            parameters.push(("options", options.as_str()));
        }
        frontend::startup_message(parameters, &mut transport.write_buffer).map_err(|_| {
            WireError::NulByte {
                what: "startup parameters",
            }
        })?;
        transport.flush().await?;
        authenticate(&mut transport, target).await?;

        let mut connection = Self {
            transport,
            target: target.clone(),
            parameters: HashMap::new(),
            backend_key: None,
            transaction_status: TransactionStatus::Idle,
            busy: false,
            startup_notices: Vec::new(),
        };
        connection.await_ready().await?;
        Ok(connection)
    }

    /// Reads the session's parameters and key until the first `ReadyForQuery`.
    async fn await_ready(&mut self) -> Result<(), WireError> {
        loop {
            let message = match self.transport.read_message().await? {
                Some(message) => message,
                None => return Err(self.transport.closed(None)),
            };
            match message {
                Message::ParameterStatus(body) => self.record_parameter(&body)?,
                Message::BackendKeyData(body) => {
                    self.backend_key = Some(BackendKey {
                        process_id: body.process_id(),
                        secret_key: body.secret_key(),
                    })
                }
                Message::NoticeResponse(body) => {
                    let notice =
                        server_message(body.fields()).map_err(|e| self.transport.protocol(e))?;
                    self.startup_notices.push(notice);
                }
                Message::ErrorResponse(body) => {
                    let server =
                        server_message(body.fields()).map_err(|e| self.transport.protocol(e))?;
                    return Err(startup_error(&self.transport, &self.target, server));
                }
                Message::ReadyForQuery(body) => {
                    self.transaction_status = TransactionStatus::from_byte(body.status())
                        .ok_or_else(|| self.transport.protocol("invalid transaction status"))?;
                    return Ok(());
                }
                _ => return Err(self.transport.protocol("unexpected message during startup")),
            }
        }
    }

    /// Records a `ParameterStatus` (at startup or when a `SET` changes a reported setting).
    pub(super) fn record_parameter(
        &mut self,
        body: &postgres_protocol::message::backend::ParameterStatusBody,
    ) -> Result<(), WireError> {
        let name = body.name().map_err(|e| self.transport.protocol(e))?;
        let value = body.value().map_err(|e| self.transport.protocol(e))?;
        self.parameters.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// A setting the server reports (`server_version`, `client_encoding`,
    /// `standard_conforming_strings`, `TimeZone`, …), as last reported.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }

    /// The server process serving this session (`pg_backend_pid()`), if the server said.
    pub fn process_id(&self) -> Option<i32> {
        self.backend_key.map(|key| key.process_id)
    }

    /// The transaction status from the last `ReadyForQuery`.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.transaction_status
    }

    /// Notices the server sent while the session started (usually none).
    pub fn startup_notices(&self) -> &[ServerMessage] {
        &self.startup_notices
    }

    /// The target this connection was made to.
    pub fn target(&self) -> &ConnectTarget {
        &self.target
    }

    /// A token that cancels this session's running query from another task, if the server
    /// sent the key needed to do so.
    pub fn cancel_token(&self) -> Option<CancelToken> {
        self.backend_key.map(|key| CancelToken {
            target: self.target.clone(),
            key,
        })
    }

    /// Asks the server to cancel this session's running query (see [`CancelToken::cancel`]).
    /// Returns `Ok(false)` when the server sent no cancel key.
    pub async fn cancel(&self) -> Result<bool, WireError> {
        match self.cancel_token() {
            Some(token) => token.cancel().await.map(|()| true),
            None => Ok(false),
        }
    }

    /// Ends the session politely (a `Terminate` message), rather than just dropping it.
    pub async fn close(mut self) -> Result<(), WireError> {
        frontend::terminate(&mut self.transport.write_buffer);
        self.transport.flush().await
    }
}

impl Connection {
    /// Ends the session and waits until the server has closed the connection: its backend
    /// has then exited, released its locks and left `pg_stat_activity`.
    pub async fn close_and_wait(mut self) -> Result<(), WireError> {
        frontend::terminate(&mut self.transport.write_buffer);
        self.transport.flush().await?;
        self.transport.wait_for_close().await
    }
}

impl CancelToken {
    /// The server process whose query this token cancels.
    pub fn process_id(&self) -> i32 {
        self.key.process_id
    }

    /// Opens a new connection and sends a `CancelRequest` for the session, then waits until
    /// the server closes that connection (it has then handled the request). Whether a query
    /// was running and got cancelled shows on the session itself (SQLSTATE 57014).
    pub async fn cancel(&self) -> Result<(), WireError> {
        bounded(&self.target, async {
            let mut transport = Transport::open(&self.target).await?;
            frontend::cancel_request(
                self.key.process_id,
                self.key.secret_key,
                &mut transport.write_buffer,
            );
            transport.flush().await?;
            transport.wait_for_close().await
        })
        .await
    }
}

/// `work` bounded by the target's connect timeout.
async fn bounded<T>(
    target: &ConnectTarget,
    work: impl Future<Output = Result<T, WireError>>,
) -> Result<T, WireError> {
    match target.connect_timeout {
        None => work.await,
        Some(timeout) => tokio::time::timeout(timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(WireError::ConnectTimeout {
                    endpoint: target.endpoint(),
                    timeout,
                })
            }),
    }
}
