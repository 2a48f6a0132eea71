//! What the server sends that psql prints: result columns and rows, and server messages
//! (errors and notices) with every field.

/// One column of a result, from the server's row description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name as the server reports it.
    pub name: String,
    /// The type's OID (psql right-aligns numeric types).
    pub type_oid: u32,
    /// The type modifier (-1 when none).
    pub type_modifier: i32,
}

/// One row of a result in text format; `None` is SQL NULL.
pub type Row = Vec<Option<String>>;

/// An `ErrorResponse` or `NoticeResponse`, one field each (absent fields are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerMessage {
    /// Localized severity (`ERROR`, `NOTICE`, `WARNING`, …), field `S`.
    pub severity: String,
    /// Non-localized severity, field `V`.
    pub severity_nonlocalized: Option<String>,
    /// SQLSTATE, field `C`.
    pub code: String,
    /// Primary message, field `M`.
    pub message: String,
    /// Field `D`.
    pub detail: Option<String>,
    /// Field `H`.
    pub hint: Option<String>,
    /// 1-based character position in the query, field `P`.
    pub position: Option<u32>,
    /// Position in an internally generated query, field `p`.
    pub internal_position: Option<u32>,
    /// The internally generated query, field `q`.
    pub internal_query: Option<String>,
    /// Context (call stack), field `W`.
    pub context: Option<String>,
    /// Field `s`.
    pub schema: Option<String>,
    /// Field `t`.
    pub table: Option<String>,
    /// Field `c`.
    pub column: Option<String>,
    /// Field `d`.
    pub datatype: Option<String>,
    /// Field `n`.
    pub constraint: Option<String>,
    /// Source file in the server, field `F`.
    pub file: Option<String>,
    /// Source line in the server, field `L`.
    pub line: Option<String>,
    /// Source routine in the server, field `R`.
    pub routine: Option<String>,
}
