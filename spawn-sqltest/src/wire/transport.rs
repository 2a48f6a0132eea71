//! [`Transport`]: the byte stream to the server (TCP or Unix socket) with one read buffer and
//! one write buffer, reading whole backend messages and flushing once per request.

use bytes::BytesMut;
use postgres_protocol::message::backend::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

use super::target::{ConnectTarget, Host};
use super::WireError;

/// How much the read buffer grows by when a message does not fit yet.
const READ_CHUNK: usize = 16 * 1024;

/// An open TCP or Unix socket connection.
enum Socket {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

/// The connection to the server and its buffers.
pub(super) struct Transport {
    socket: Socket,
    read_buffer: BytesMut,
    /// Messages not sent yet: encode into it, then [`Transport::flush`].
    pub(super) write_buffer: BytesMut,
    /// The server's address or socket path, for messages.
    pub(super) endpoint: String,
}

impl Transport {
    /// Opens the socket of `target` (without any bound: the caller bounds it).
    pub(super) async fn open(target: &ConnectTarget) -> Result<Self, WireError> {
        let endpoint = target.endpoint();
        let io_error = |source| WireError::Io {
            action: "connecting to",
            endpoint: endpoint.clone(),
            source,
        };
        let socket = match target.host() {
            Host::Tcp(host) => {
                let stream = TcpStream::connect((host.as_str(), target.port()))
                    .await
                    .map_err(io_error)?;
                // Small messages answered one by one: do not wait to coalesce them.
                stream.set_nodelay(true).map_err(io_error)?;
                Socket::Tcp(stream)
            }
            #[cfg(unix)]
            Host::Socket(_) => {
                let path = target.socket_path().unwrap_or_default();
                Socket::Unix(UnixStream::connect(path).await.map_err(io_error)?)
            }
            #[cfg(not(unix))]
            Host::Socket(_) => {
                return Err(io_error(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "Unix sockets are not available on this platform",
                )))
            }
        };
        Ok(Self {
            socket,
            read_buffer: BytesMut::with_capacity(READ_CHUNK),
            write_buffer: BytesMut::with_capacity(1024),
            endpoint,
        })
    }

    /// Sends everything in the write buffer.
    pub(super) async fn flush(&mut self) -> Result<(), WireError> {
        let result = match &mut self.socket {
            Socket::Tcp(stream) => stream.write_all(&self.write_buffer).await,
            #[cfg(unix)]
            Socket::Unix(stream) => stream.write_all(&self.write_buffer).await,
        };
        self.write_buffer.clear();
        result.map_err(|source| WireError::Io {
            action: "writing to",
            endpoint: self.endpoint.clone(),
            source,
        })
    }

    /// The next message from the server; `Ok(None)` when the server closed the connection.
    pub(super) async fn read_message(&mut self) -> Result<Option<Message>, WireError> {
        loop {
            let parsed = Message::parse(&mut self.read_buffer).map_err(|e| self.protocol(e))?;
            if parsed.is_some() {
                return Ok(parsed);
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Reads until the server closes the connection (after a cancel request), dropping
    /// anything it sends.
    pub(super) async fn wait_for_close(&mut self) -> Result<(), WireError> {
        while self.fill().await? {
            self.read_buffer.clear();
        }
        Ok(())
    }

    /// Reads more bytes into the read buffer; `false` when the server closed the connection.
    async fn fill(&mut self) -> Result<bool, WireError> {
        self.read_buffer.reserve(READ_CHUNK);
        let read = match &mut self.socket {
            Socket::Tcp(stream) => stream.read_buf(&mut self.read_buffer).await,
            #[cfg(unix)]
            Socket::Unix(stream) => stream.read_buf(&mut self.read_buffer).await,
        };
        match read {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            // A reset right after a FATAL is the server closing, like a clean end of stream.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(false),
            Err(source) => Err(WireError::Io {
                action: "reading from",
                endpoint: self.endpoint.clone(),
                source,
            }),
        }
    }

    /// A protocol violation by the server.
    pub(super) fn protocol(&self, detail: impl std::fmt::Display) -> WireError {
        WireError::Protocol {
            endpoint: self.endpoint.clone(),
            detail: detail.to_string(),
        }
    }

    /// The server closed the connection, after `fatal` if it said why.
    pub(super) fn closed(&self, fatal: Option<crate::message::ServerMessage>) -> WireError {
        WireError::Closed {
            endpoint: self.endpoint.clone(),
            fatal: fatal.map(Box::new),
        }
    }
}
