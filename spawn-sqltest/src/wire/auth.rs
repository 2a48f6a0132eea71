//! The authentication exchange after the startup message: trust, cleartext password, md5 and
//! SCRAM-SHA-256 (without channel binding, as there is no TLS).

use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::fields::server_message;
use super::target::ConnectTarget;
use super::transport::Transport;
use super::WireError;

/// The SASL mechanism this client speaks.
const SCRAM: &str = "SCRAM-SHA-256";

/// Answers the server's challenges until it sends `AuthenticationOk`.
pub(super) async fn authenticate(
    transport: &mut Transport,
    target: &ConnectTarget,
) -> Result<(), WireError> {
    loop {
        match next(transport).await? {
            Message::AuthenticationOk => return Ok(()),
            Message::AuthenticationCleartextPassword => {
                let password = password(transport, target)?;
                send_password(transport, password.as_bytes()).await?;
            }
            Message::AuthenticationMd5Password(body) => {
                let password = password(transport, target)?;
                let hashed = md5_hash(target.user.as_bytes(), password.as_bytes(), body.salt());
                send_password(transport, hashed.as_bytes()).await?;
            }
            Message::AuthenticationSasl(body) => {
                let mechanisms: Vec<String> = body
                    .mechanisms()
                    .map(|m| Ok(m.to_string()))
                    .collect()
                    .map_err(|e| transport.protocol(e))?;
                if !mechanisms.iter().any(|m| m == SCRAM) {
                    return Err(auth_failed(
                        transport,
                        target,
                        format!("the server offers only SASL {mechanisms:?}, not {SCRAM}"),
                    ));
                }
                let password = password(transport, target)?.to_string();
                scram(transport, target, &password).await?;
            }
            Message::ErrorResponse(body) => {
                let server = server_message(body.fields()).map_err(|e| transport.protocol(e))?;
                return Err(startup_error(transport, target, server));
            }
            Message::AuthenticationGss | Message::AuthenticationGssContinue(_) => {
                return Err(unsupported(transport, "GSSAPI"))
            }
            Message::AuthenticationSspi => return Err(unsupported(transport, "SSPI")),
            Message::AuthenticationKerberosV5 => return Err(unsupported(transport, "Kerberos V5")),
            Message::AuthenticationScmCredential => {
                return Err(unsupported(transport, "SCM credential"))
            }
            _ => return Err(transport.protocol("unexpected message during authentication")),
        }
    }
}

/// The SCRAM-SHA-256 exchange, from the client's first message to the server's final one.
async fn scram(
    transport: &mut Transport,
    target: &ConnectTarget,
    password: &str,
) -> Result<(), WireError> {
    let mut scram =
        sasl::ScramSha256::new(password.as_bytes(), sasl::ChannelBinding::unsupported());
    frontend::sasl_initial_response(SCRAM, scram.message(), &mut transport.write_buffer)
        .map_err(|e| transport.protocol(e))?;
    transport.flush().await?;

    let server_first = match next(transport).await? {
        Message::AuthenticationSaslContinue(body) => body,
        Message::ErrorResponse(body) => {
            let server = server_message(body.fields()).map_err(|e| transport.protocol(e))?;
            return Err(startup_error(transport, target, server));
        }
        _ => return Err(transport.protocol("expected AuthenticationSASLContinue")),
    };
    scram
        .update(server_first.data())
        .map_err(|e| auth_failed(transport, target, format!("SCRAM: {e}")))?;
    frontend::sasl_response(scram.message(), &mut transport.write_buffer)
        .map_err(|e| transport.protocol(e))?;
    transport.flush().await?;

    match next(transport).await? {
        Message::AuthenticationSaslFinal(body) => scram
            .finish(body.data())
            .map_err(|e| auth_failed(transport, target, format!("SCRAM: {e}"))),
        Message::ErrorResponse(body) => {
            let server = server_message(body.fields()).map_err(|e| transport.protocol(e))?;
            Err(startup_error(transport, target, server))
        }
        _ => Err(transport.protocol("expected AuthenticationSASLFinal")),
    }
}

/// The next message; the connection closing here is an error.
async fn next(transport: &mut Transport) -> Result<Message, WireError> {
    match transport.read_message().await? {
        Some(message) => Ok(message),
        None => Err(transport.closed(None)),
    }
}

/// Sends a `PasswordMessage`.
async fn send_password(transport: &mut Transport, password: &[u8]) -> Result<(), WireError> {
    frontend::password_message(password, &mut transport.write_buffer)
        .map_err(|e| transport.protocol(e))?;
    transport.flush().await
}

/// The target's password, or the error that the server wants one and none was given.
fn password<'t>(transport: &Transport, target: &'t ConnectTarget) -> Result<&'t str, WireError> {
    target.password.as_deref().ok_or_else(|| {
        auth_failed(
            transport,
            target,
            "the server requires a password, and none was given".to_string(),
        )
    })
}

/// An authentication failure found by the client.
fn auth_failed(transport: &Transport, target: &ConnectTarget, message: String) -> WireError {
    WireError::Auth {
        endpoint: transport.endpoint.clone(),
        user: target.user.clone(),
        message,
        server: None,
    }
}

/// An error the server sent while the session starts: authentication failures (SQLSTATE class
/// 28) apart from other refusals.
pub(super) fn startup_error(
    transport: &Transport,
    target: &ConnectTarget,
    server: crate::message::ServerMessage,
) -> WireError {
    if server.code.starts_with("28") {
        WireError::Auth {
            endpoint: transport.endpoint.clone(),
            user: target.user.clone(),
            message: server.message.clone(),
            server: Some(Box::new(server)),
        }
    } else {
        WireError::Rejected {
            endpoint: transport.endpoint.clone(),
            server: Box::new(server),
        }
    }
}

/// An authentication method this client does not implement.
fn unsupported(transport: &Transport, method: &'static str) -> WireError {
    WireError::UnsupportedAuth {
        endpoint: transport.endpoint.clone(),
        method,
    }
}
