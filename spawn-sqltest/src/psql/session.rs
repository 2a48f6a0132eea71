//! Running a script as psql would: scanning it item by item ([`super::scan`]), sending each
//! query over the [`crate::wire`] connection, printing results and messages as psql does
//! ([`super::print`], [`super::report`]) and executing the meta-commands ([`super::meta`]).
//!
//! The output is what `psql -X` prints on stdout and stderr together when the script is
//! piped to it after `\set QUIET on`, `\pset pager off` and `\set ON_ERROR_STOP on`.
//!
//! After a `\session NAME` (spawn's own meta-command), queries run as steps of that named
//! session instead, each on a connection of its own ([`super::sessions`]); such a script
//! runs only in autocommit.
//!
//! With [`TransactionEmulation`] on, the script runs inside a transaction the caller opened
//! and will roll back: the script's own `BEGIN`/`COMMIT`/`ROLLBACK` become a savepoint, its
//! release and a rollback to it, printed with the tags PostgreSQL would have sent. What that
//! cannot reproduce ends the run early with [`Ending::NeedsOwnDatabase`] (see
//! [`crate::runner::isolation`]); the caller then runs the script again in autocommit.

use crate::message::{Column, Row, ServerMessage};
use crate::psql::meta::{condition, Expanded as MetaExpanded, MetaCommand, MetaError, ParsedMeta};
use crate::psql::print::{print_result, pset_listing, Expanded, PrintOptions};
use crate::psql::report::format_server_message;
use crate::psql::scan::{Item, ScanError, Scanner};
use crate::psql::sessions::{deadlocked, first_line, Sessions, SessionsError, StepOutcome};
use crate::psql::vars::Variables;
use crate::runner::isolation::{classify, restart_on, StatementClass};
use crate::wire::{Connection, QueryEvent, WireError};

/// The savepoint that stands for the script's own transaction.
const USER_TRANSACTION: &str = "spawn_test_user_transaction";

/// How the script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It ran to its end.
    Completed,
    /// An error stopped it (`ON_ERROR_STOP`); the message is the output's last part.
    Stopped,
    /// It does something the caller's transaction cannot reproduce (the reason); its
    /// output so far must be discarded and the script run again in autocommit.
    NeedsOwnDatabase(String),
}

/// Whether the script runs inside the caller's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionEmulation {
    /// Autocommit, as psql runs it.
    Off,
    /// Inside the caller's open transaction; `deferred_constraints` says whether the
    /// database has initially deferred constraints (then a script's own transaction, which
    /// would check them at its commit, needs its own database).
    On { deferred_constraints: bool },
}

/// A script that cannot run: a meta-command spawn does not support, or a scanning error.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("line {line}: {message}")]
    Script { line: usize, message: String },
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// A failure of the named sessions as the caller sees it: a lost connection is a
/// connection error, anything else an error of the script at `line`.
fn sessions_failure(line: usize, e: SessionsError) -> SessionError {
    match e {
        SessionsError::Connect { source, .. } | SessionsError::Wire { source, .. } => {
            SessionError::Wire(source)
        }
        other => SessionError::Script {
            line,
            message: other.to_string(),
        },
    }
}

/// The result of [`run_script`].
#[derive(Debug, Clone)]
pub struct ScriptRun {
    /// What psql would have printed.
    pub output: String,
    /// How it ended.
    pub ending: Ending,
}

/// One `\if` level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    /// In a true branch.
    True,
    /// In a false branch; a later `\elif`/`\else` may still be taken.
    False,
    /// A branch was taken already, or the whole `\if` is inside an inactive branch.
    Done,
}

/// What to do after a query or meta-command.
enum Next {
    Continue,
    /// A meta-command failed without stopping the script: the rest of its line is dropped.
    Failed,
    Stop,
    Restart(String),
}

/// Runs `script` on `conn`; see the module documentation.
pub async fn run_script(
    conn: &mut Connection,
    script: &str,
    emulation: TransactionEmulation,
) -> Result<ScriptRun, SessionError> {
    let mut session = Session::new(conn, emulation);
    let ran = session.run(script).await;
    // Named sessions end with the script (also when it fails): steps still waiting are
    // cancelled, and reported when the script ran.
    let unfinished = match session.sessions.take() {
        Some(sessions) => sessions.close().await,
        None => Vec::new(),
    };
    let mut ending = ran?;
    for step in &unfinished {
        session.out.push_str(&format!(
            "session {} still waiting at the end of the test: {}\n",
            step.session,
            first_line(&step.text)
        ));
    }
    if !unfinished.is_empty() && ending == Ending::Completed {
        ending = Ending::Stopped;
    }
    Ok(ScriptRun {
        output: session.out,
        ending,
    })
}

struct Session<'c> {
    conn: &'c mut Connection,
    vars: Variables,
    print: PrintOptions,
    branches: Vec<Branch>,
    out: String,
    emulation: TransactionEmulation,
    in_user_transaction: bool,
    last_query: Option<String>,
    /// The script's `\session`s, once it has used one.
    sessions: Option<Sessions>,
    /// The session names `\sessions` lines have declared so far.
    declared: std::collections::HashSet<String>,
    /// The line of the item being run (for errors about sessions).
    line: usize,
}

impl<'c> Session<'c> {
    fn new(conn: &'c mut Connection, emulation: TransactionEmulation) -> Self {
        let mut vars = Variables::new();
        // The protocol's three lines.
        let _ = vars.set("QUIET", Some("on"));
        let _ = vars.set("ON_ERROR_STOP", Some("on"));
        let mut print = PrintOptions::default();
        let _ = print.set("pager", Some("off"));
        set_connection_variables(&mut vars, conn);
        Self {
            conn,
            vars,
            print,
            branches: Vec::new(),
            out: String::new(),
            emulation,
            in_user_transaction: false,
            last_query: None,
            sessions: None,
            declared: std::collections::HashSet::new(),
            line: 0,
        }
    }

    fn active(&self) -> bool {
        self.branches.iter().all(|b| *b == Branch::True)
    }

    fn quiet(&self) -> bool {
        self.vars.quiet()
    }

    async fn run(&mut self, script: &str) -> Result<Ending, SessionError> {
        let mut scanner = Scanner::new(script);
        let pipelining = self.emulation != TransactionEmulation::Off && !reads_query_status(script);
        let mut held: Option<Item> = None;
        loop {
            let active = self.active();
            let item = match held.take() {
                Some(item) => Some(item),
                None => scanner
                    .next(&self.vars, active)
                    .map_err(|e| scan_failure(&e))?,
            };
            let Some(item) = item else { break };
            let next = match item {
                Item::Query { text, .. } if active && pipelining => {
                    // The queries up to the next meta-command go in one round trip.
                    let mut batch = vec![text];
                    loop {
                        match scanner
                            .next(&self.vars, true)
                            .map_err(|e| scan_failure(&e))?
                        {
                            Some(Item::Query { text, .. }) => batch.push(text),
                            other => {
                                held = other;
                                break;
                            }
                        }
                    }
                    self.queries(&batch).await?
                }
                Item::Query { text, line } => {
                    if !active {
                        continue;
                    }
                    self.line = line;
                    self.last_query = Some(text.clone());
                    self.query(&text, None).await?
                }
                Item::Warning { message, .. } => {
                    self.out.push_str(&message);
                    self.out.push('\n');
                    Next::Continue
                }
                Item::Meta {
                    command,
                    args,
                    line,
                    query,
                } => match MetaCommand::parse(&command, &args, line) {
                    // Declared by the text's order, whichever branch declares them (as
                    // `validate_script` checks).
                    Ok(ParsedMeta {
                        command: MetaCommand::Sessions(names),
                        ..
                    }) => {
                        self.declared.extend(names);
                        Next::Continue
                    }
                    Ok(ParsedMeta {
                        command: MetaCommand::Session(name),
                        ..
                    }) if active => {
                        self.line = line;
                        if !self.declared.contains(&name) {
                            return Err(meta_failure(
                                line,
                                &MetaError::UndeclaredSession { name, line },
                            ));
                        }
                        self.switch_session(&name).await?
                    }
                    Ok(parsed) => {
                        if active {
                            for warning in parsed.warnings() {
                                self.out.push_str(&warning);
                                self.out.push('\n');
                            }
                        }
                        let next = self.meta(parsed.command, query, active).await?;
                        if matches!(next, Next::Failed) {
                            scanner.discard_rest_of_line();
                        }
                        next
                    }
                    Err(MetaError::MissingArgument { .. }) if !active => Next::Continue,
                    Err(e @ MetaError::MissingArgument { .. }) => {
                        let next = self.meta_error(&e.to_string());
                        scanner.discard_rest_of_line();
                        next
                    }
                    Err(e) => return Err(meta_failure(line, &e)),
                },
            };
            match next {
                Next::Continue | Next::Failed => {}
                Next::Stop => return Ok(Ending::Stopped),
                Next::Restart(reason) => return Ok(Ending::NeedsOwnDatabase(reason)),
            }
        }
        if !self.branches.is_empty() {
            self.out
                .push_str("reached EOF without finding closing \\endif(s)\n");
            return Ok(Ending::Stopped);
        }
        Ok(Ending::Completed)
    }

    /// A failed meta-command: psql's message, then stop if `ON_ERROR_STOP`.
    fn meta_error(&mut self, message: &str) -> Next {
        self.out.push_str(message);
        self.out.push('\n');
        if self.vars.on_error_stop() {
            Next::Stop
        } else {
            Next::Failed
        }
    }

    /// Evaluates an `\if`/`\elif` expression; psql prints a bad one's message and takes
    /// the branch as false without failing.
    fn condition(&mut self, expression: &str, command: &str) -> bool {
        match condition(expression, command) {
            Ok(value) => value,
            Err(e) => {
                self.out.push_str(&e.to_string());
                self.out.push('\n');
                false
            }
        }
    }

    async fn meta(
        &mut self,
        meta: MetaCommand,
        query: Option<String>,
        active: bool,
    ) -> Result<Next, SessionError> {
        // Conditionals are acted on in inactive branches too; nothing else is.
        match meta {
            MetaCommand::If(expr) => {
                let branch = if !active {
                    Branch::Done
                } else if self.condition(&expr, "if") {
                    Branch::True
                } else {
                    Branch::False
                };
                self.branches.push(branch);
                return Ok(Next::Continue);
            }
            MetaCommand::Elif(expr) => {
                let Some(top) = self.branches.last().copied() else {
                    return Ok(self.meta_error("\\elif: no matching \\if"));
                };
                let new = match top {
                    Branch::True | Branch::Done => Branch::Done,
                    Branch::False => {
                        if self.condition(&expr, "elif") {
                            Branch::True
                        } else {
                            Branch::False
                        }
                    }
                };
                if let Some(last) = self.branches.last_mut() {
                    *last = new;
                }
                return Ok(Next::Continue);
            }
            MetaCommand::Else => {
                let Some(last) = self.branches.last_mut() else {
                    return Ok(self.meta_error("\\else: no matching \\if"));
                };
                *last = match *last {
                    Branch::False => Branch::True,
                    _ => Branch::Done,
                };
                return Ok(Next::Continue);
            }
            MetaCommand::Endif => {
                if self.branches.pop().is_none() {
                    return Ok(self.meta_error("\\endif: no matching \\if"));
                }
                return Ok(Next::Continue);
            }
            _ if !active => return Ok(Next::Continue),
            _ => {}
        }
        Ok(match meta {
            MetaCommand::Echo { args, no_newline }
            | MetaCommand::Qecho { args, no_newline }
            | MetaCommand::Warn { args, no_newline } => {
                self.out.push_str(&args.join(" "));
                if !no_newline {
                    self.out.push('\n');
                }
                Next::Continue
            }
            MetaCommand::ListVariables => {
                let listing = self.vars.listing();
                self.out.push_str(&listing);
                Next::Continue
            }
            MetaCommand::Set { name, value } => match self.vars.set(&name, Some(&value)) {
                Ok(()) => Next::Continue,
                Err(e) => self.meta_error(&e.to_string()),
            },
            MetaCommand::Unset(name) => match self.vars.set(&name, None) {
                Ok(()) => Next::Continue,
                Err(e) => self.meta_error(&e.to_string()),
            },
            MetaCommand::Pset { option: None, .. } => {
                let listing = pset_listing(&self.print);
                self.out.push_str(&listing);
                Next::Continue
            }
            MetaCommand::Pset {
                option: Some(option),
                value,
            } => self.pset(&option, value.as_deref()),
            MetaCommand::X(expanded) => {
                let value = match expanded {
                    MetaExpanded::On => Some("on"),
                    MetaExpanded::Off => Some("off"),
                    MetaExpanded::Auto => Some("auto"),
                    MetaExpanded::Toggle => None,
                };
                self.pset("expanded", value)
            }
            MetaCommand::G => self.send_buffer(query, None).await?,
            MetaCommand::Gx => {
                let saved = self.print.expanded;
                self.print.expanded = Expanded::On;
                let next = self.send_buffer(query, None).await?;
                self.print.expanded = saved;
                next
            }
            MetaCommand::Gset(prefix) => {
                self.send_buffer(query, Some(prefix.unwrap_or_default()))
                    .await?
            }
            MetaCommand::If(_)
            | MetaCommand::Elif(_)
            | MetaCommand::Else
            | MetaCommand::Endif
            | MetaCommand::Session(_)
            | MetaCommand::Sessions(_) => Next::Continue,
        })
    }

    /// `\pset option value` (and `\x`), printing psql's status line unless quiet.
    fn pset(&mut self, option: &str, value: Option<&str>) -> Next {
        match self.print.set(option, value) {
            Ok(status) => {
                if let Some(status) = status.filter(|_| !self.quiet()) {
                    self.out.push_str(&status);
                    self.out.push('\n');
                }
                Next::Continue
            }
            Err(e) => self.meta_error(&e.to_string()),
        }
    }

    /// `\g`-style: sends the query buffer, or the previous query when it is empty.
    async fn send_buffer(
        &mut self,
        query: Option<String>,
        gset: Option<String>,
    ) -> Result<Next, SessionError> {
        let text = match query.filter(|q| !q.trim().is_empty()) {
            Some(q) => q,
            None => match self.last_query.clone() {
                Some(q) => q,
                None => return Ok(Next::Continue),
            },
        };
        self.last_query = Some(text.clone());
        self.query(&text, gset).await
    }

    /// Sends one query as psql does and prints what it prints.
    async fn query(&mut self, text: &str, gset: Option<String>) -> Result<Next, SessionError> {
        let (sent, tag) = match self.emulated(text) {
            Ok(mapped) => mapped,
            Err(reason) => return Ok(Next::Restart(reason)),
        };
        if self.sessions.as_ref().is_some_and(Sessions::active) {
            return self.step(text, &sent, gset, tag).await;
        }
        let events = self.conn.simple_query(&sent).await?;
        Ok(self.answer(text, events, gset, tag))
    }

    /// `\session name`: later queries run in that session (only in autocommit: inside the
    /// caller's transaction the other sessions would not see the script's data).
    async fn switch_session(&mut self, name: &str) -> Result<Next, SessionError> {
        if self.emulation != TransactionEmulation::Off {
            return Ok(Next::Restart("concurrent sessions".to_owned()));
        }
        let sessions = self
            .sessions
            .get_or_insert_with(|| Sessions::new(self.conn));
        let line = self.line;
        sessions
            .switch(name)
            .await
            .map_err(|e| sessions_failure(line, e))?;
        Ok(Next::Continue)
    }

    /// Runs a query as a step of the current named session, then prints what the waiting
    /// steps of the other sessions printed if it let them complete.
    async fn step(
        &mut self,
        text: &str,
        sent: &str,
        gset: Option<String>,
        tag: Option<String>,
    ) -> Result<Next, SessionError> {
        let line = self.line;
        let Some(sessions) = self.sessions.as_mut() else {
            return Ok(Next::Continue);
        };
        let name = sessions.current_name().to_owned();
        let outcome = sessions
            .run_step(text, sent, gset.clone())
            .await
            .map_err(|e| sessions_failure(line, e))?;
        let mut next = match outcome {
            StepOutcome::Done(events) => {
                if deadlocked(&events) {
                    self.step_line(&name, "waiting", text);
                    self.step_line(&name, "completed", text);
                }
                self.answer(text, events, gset, tag)
            }
            StepOutcome::Waiting => {
                self.step_line(&name, "waiting", text);
                Next::Continue
            }
        };
        let Some(sessions) = self.sessions.as_mut() else {
            return Ok(next);
        };
        let finished = sessions
            .settle()
            .await
            .map_err(|e| sessions_failure(line, e))?;
        for finished in finished {
            self.step_line(&finished.session, "completed", &finished.text);
            self.last_query = Some(finished.text.clone());
            let done = self.answer(&finished.text, finished.events, finished.gset, None);
            if matches!(next, Next::Continue | Next::Failed) {
                next = done;
            }
        }
        Ok(next)
    }

    /// `session NAME waiting: first line` and the like.
    fn step_line(&mut self, session: &str, what: &str, text: &str) {
        self.out
            .push_str(&format!("session {session} {what}: {}\n", first_line(text)));
    }

    /// Sends `texts` (consecutive queries of the script) in one round trip and prints their
    /// answers in order, as if each had been sent alone. Only inside the caller's
    /// transaction: what runs after a failed query there fails too (the transaction is
    /// aborted), so nothing happens that psql, stopping at the error, would not have done.
    async fn queries(&mut self, texts: &[String]) -> Result<Next, SessionError> {
        let mut sent = Vec::with_capacity(texts.len());
        let mut tags = Vec::with_capacity(texts.len());
        let mut restart = None;
        for text in texts {
            match self.emulated(text) {
                Ok((query, tag)) => {
                    sent.push(query);
                    tags.push(tag);
                }
                Err(reason) => {
                    restart = Some(reason);
                    break;
                }
            }
        }
        let refs: Vec<&str> = sent.iter().map(String::as_str).collect();
        let answers = self.conn.pipeline(&refs).await?;
        for ((text, events), tag) in texts.iter().zip(answers).zip(tags) {
            self.last_query = Some(text.clone());
            match self.answer(text, events, None, tag) {
                Next::Continue | Next::Failed => {}
                other => return Ok(other),
            }
        }
        Ok(match restart {
            Some(reason) => Next::Restart(reason),
            None => Next::Continue,
        })
    }

    /// Prints what psql prints for the answer to `text`.
    fn answer(
        &mut self,
        text: &str,
        events: Vec<QueryEvent>,
        gset: Option<String>,
        tag: Option<String>,
    ) -> Next {
        let mut result: Option<(Vec<Column>, Vec<Row>)> = None;
        let mut error: Option<ServerMessage> = None;
        let mut row_count: u64 = 0;
        for event in events {
            match event {
                QueryEvent::RowDescription(columns) => result = Some((columns, Vec::new())),
                QueryEvent::DataRow(row) => {
                    if let Some((_, rows)) = result.as_mut() {
                        rows.push(row);
                    }
                }
                QueryEvent::CommandComplete(command_tag) => {
                    row_count = tag_row_count(&command_tag);
                    match result.take() {
                        Some((columns, rows)) => {
                            row_count = rows.len() as u64;
                            if let Some(prefix) = &gset {
                                if let Some(message) = self.gset(prefix, &columns, &rows) {
                                    return self.meta_error(message);
                                }
                            } else {
                                print_result(&mut self.out, &columns, &rows, &self.print);
                            }
                        }
                        None => {
                            if gset.is_some() {
                                return self.meta_error("\\gset: query must return a result set");
                            }
                            if !self.quiet() {
                                self.out.push_str(tag.as_deref().unwrap_or(&command_tag));
                                self.out.push('\n');
                            }
                        }
                    }
                }
                QueryEvent::EmptyQuery => {}
                QueryEvent::Notice(notice) => self.message(&notice, None),
                QueryEvent::Error(e) => {
                    error = Some(e);
                    break;
                }
                QueryEvent::Notification {
                    process_id,
                    channel,
                    payload,
                } => {
                    if payload.is_empty() {
                        self.out.push_str(&format!(
                            "Asynchronous notification \"{channel}\" received from server process with PID {process_id}.\n"
                        ));
                    } else {
                        self.out.push_str(&format!(
                            "Asynchronous notification \"{channel}\" with payload \"{payload}\" received from server process with PID {process_id}.\n"
                        ));
                    }
                }
                QueryEvent::CopyOut(data) => self.out.push_str(&String::from_utf8_lossy(&data)),
            }
        }
        match error {
            None => {
                self.vars.set_builtin("ERROR", "false");
                self.vars.set_builtin("SQLSTATE", "00000");
                self.vars.set_builtin("ROW_COUNT", row_count.to_string());
                Next::Continue
            }
            Some(e) => {
                if self.emulation != TransactionEmulation::Off
                    && (restart_on(&e.code) || !self.vars.on_error_stop())
                {
                    return Next::Restart(format!(
                        "SQLSTATE {} inside the test's transaction",
                        e.code
                    ));
                }
                self.message(&e, Some(text));
                self.vars.set_builtin("ERROR", "true");
                self.vars.set_builtin("SQLSTATE", e.code.clone());
                self.vars.set_builtin("ROW_COUNT", "0");
                self.vars.set_builtin("LAST_ERROR_SQLSTATE", e.code.clone());
                self.vars
                    .set_builtin("LAST_ERROR_MESSAGE", e.message.clone());
                if self.vars.on_error_stop() {
                    Next::Stop
                } else {
                    Next::Continue
                }
            }
        }
    }

    /// What to send for `text` in the caller's transaction, with the tag to print instead
    /// of the server's; `Err(reason)` when it cannot be emulated.
    fn emulated(&mut self, text: &str) -> Result<(String, Option<String>), String> {
        let TransactionEmulation::On {
            deferred_constraints,
        } = self.emulation
        else {
            return Ok((text.to_owned(), None));
        };
        let savepoint = |sql: &str| sql.replace("{}", USER_TRANSACTION);
        match classify(text) {
            StatementClass::Other => Ok((text.to_owned(), None)),
            StatementClass::Begin { tag } => {
                if self.in_user_transaction {
                    return Err("BEGIN inside a transaction".to_owned());
                }
                if deferred_constraints {
                    return Err("a transaction over deferred constraints".to_owned());
                }
                self.in_user_transaction = true;
                Ok((savepoint("SAVEPOINT {}"), Some(tag.to_owned())))
            }
            StatementClass::Commit => {
                if !self.in_user_transaction {
                    return Err("COMMIT outside a transaction".to_owned());
                }
                self.in_user_transaction = false;
                Ok((savepoint("RELEASE SAVEPOINT {}"), Some("COMMIT".to_owned())))
            }
            StatementClass::Rollback => {
                if !self.in_user_transaction {
                    return Err("ROLLBACK outside a transaction".to_owned());
                }
                self.in_user_transaction = false;
                Ok((
                    savepoint("ROLLBACK TO SAVEPOINT {}; RELEASE SAVEPOINT {}"),
                    Some("ROLLBACK".to_owned()),
                ))
            }
            StatementClass::Savepoint if self.in_user_transaction => Ok((text.to_owned(), None)),
            StatementClass::Savepoint => {
                Err("a savepoint command outside a transaction".to_owned())
            }
            StatementClass::NeedsOwnDatabase(reason) => Err(reason.to_owned()),
        }
    }

    /// `\gset`: the one row's columns become variables (`None` when it went wrong: psql's
    /// message).
    fn gset(&mut self, prefix: &str, columns: &[Column], rows: &[Row]) -> Option<&'static str> {
        match rows {
            [] => Some("no rows returned for \\gset"),
            [row] => {
                for (column, value) in columns.iter().zip(row) {
                    let name = format!("{prefix}{}", column.name);
                    match value {
                        Some(value) => {
                            let _ = self.vars.set(&name, Some(value));
                        }
                        None => {
                            let _ = self.vars.set(&name, None);
                        }
                    }
                }
                None
            }
            _ => Some("more than one row returned for \\gset"),
        }
    }

    fn message(&mut self, message: &ServerMessage, query: Option<&str>) {
        format_server_message(
            &mut self.out,
            message,
            self.vars.verbosity(),
            self.vars.show_context(),
            query,
        );
    }
}

/// The variables psql sets from the connection.
fn set_connection_variables(vars: &mut Variables, conn: &Connection) {
    let target = conn.target();
    vars.set_builtin("DBNAME", target.database_name());
    vars.set_builtin("USER", target.user_name());
    vars.set_builtin("PORT", target.port().to_string());
    vars.set_builtin("HOST", target.endpoint());
    vars.set_builtin(
        "ENCODING",
        conn.parameter("client_encoding").unwrap_or("UTF8"),
    );
    if let Some(version) = conn.parameter("server_version") {
        vars.set_builtin("SERVER_VERSION_NAME", version);
        let number = version_number(version);
        vars.set_builtin("SERVER_VERSION_NUM", number.to_string());
    }
}

/// `15.4 (Debian …)` → 150004, as psql computes `SERVER_VERSION_NUM`.
fn version_number(version: &str) -> u32 {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    major * 10000 + minor
}

/// A meta-command error as the session reports it: its message without the `line N: `
/// that [`SessionError::Script`] adds itself.
fn meta_failure(line: usize, e: &MetaError) -> SessionError {
    let message = e.to_string();
    let prefix = format!("line {line}: ");
    SessionError::Script {
        line,
        message: message
            .strip_prefix(&prefix)
            .map_or_else(|| message.clone(), str::to_owned),
    }
}

/// A scanning error as the session reports it.
fn scan_failure(e: &ScanError) -> SessionError {
    SessionError::Script {
        line: scan_error_line(e),
        message: e.to_string(),
    }
}

/// Whether the script reads the variables psql sets after each query (`ROW_COUNT`,
/// `ERROR`, `SQLSTATE`, `LAST_ERROR_…`): then its queries are sent one at a time, so each
/// is read after the previous one has answered.
fn reads_query_status(script: &str) -> bool {
    ["ROW_COUNT", "ERROR", "SQLSTATE", "LAST_ERROR"]
        .iter()
        .any(|name| {
            [":", ":'", ":\""]
                .iter()
                .any(|prefix| script.contains(&format!("{prefix}{name}")))
        })
}

/// The script line of a scanning error.
fn scan_error_line(e: &ScanError) -> usize {
    match e {
        ScanError::ShellCommand { line, .. } => *line,
        ScanError::Meta(
            MetaError::Unsupported { line, .. }
            | MetaError::UnsupportedArgument { line, .. }
            | MetaError::MissingArgument { line, .. }
            | MetaError::Value { line, .. }
            | MetaError::NoMatchingIf { line, .. }
            | MetaError::AfterElse { line, .. }
            | MetaError::MissingEndif { line }
            | MetaError::BadSession { line, .. }
            | MetaError::BadSessions { line, .. }
            | MetaError::UndeclaredSession { line, .. },
        ) => *line,
    }
}

/// The row count at the end of a command tag (`INSERT 0 3` → 3), 0 when it has none.
fn tag_row_count(tag: &str) -> u64 {
    tag.rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
