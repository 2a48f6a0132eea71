//! psql's result printers: what `psql -X` prints for a result that returns rows, in the
//! aligned (default), wrapped (like aligned: a test's output is no terminal), unaligned and
//! csv formats, expanded or not, with the `\pset` options of [`PrintOptions`].
//!
//! ```
//! use spawn_sqltest::message::Column;
//! use spawn_sqltest::psql::print::{print_result, PrintOptions};
//!
//! let columns = [
//!     Column { name: "n".into(), type_oid: 23, type_modifier: -1 },
//!     Column { name: "name".into(), type_oid: 25, type_modifier: -1 },
//! ];
//! let rows = vec![vec![Some("1".to_owned()), None]];
//! let mut out = String::new();
//! print_result(&mut out, &columns, &rows, &PrintOptions::default());
//! assert_eq!(out, " n | name \n---+------\n 1 | \n(1 row)\n\n");
//! ```

mod aligned;
mod csv;
mod expanded;
mod options;
mod status;
mod style;
mod unaligned;
pub(crate) mod width;

pub use options::{Expanded, Format, Pager, PrintOptions, PsetError, Separator};
pub use status::{pset_listing, pset_status};
pub use style::LineStyle;

use crate::message::{Column, Row};

/// How a column's values line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alignment {
    Left,
    Right,
}

/// psql's `column_type_alignment`: numbers right, everything else left.
fn alignment(type_oid: u32) -> Alignment {
    const INT8: u32 = 20;
    const INT2: u32 = 21;
    const INT4: u32 = 23;
    const OID: u32 = 26;
    const XID: u32 = 28;
    const CID: u32 = 29;
    const FLOAT4: u32 = 700;
    const FLOAT8: u32 = 701;
    const MONEY: u32 = 790;
    const NUMERIC: u32 = 1700;
    const XID8: u32 = 5069;
    match type_oid {
        INT2 | INT4 | INT8 | FLOAT4 | FLOAT8 | NUMERIC | OID | XID | XID8 | CID | MONEY => {
            Alignment::Right
        }
        _ => Alignment::Left,
    }
}

/// A result ready to print: headers, cells with NULLs replaced, alignments, options.
struct Table<'a> {
    headers: Vec<&'a str>,
    cells: Vec<Vec<&'a str>>,
    alignments: Vec<Alignment>,
    options: &'a PrintOptions,
}

impl Table<'_> {
    /// psql's default footer, `(1 row)` / `(N rows)`, unless `\pset footer off`.
    fn footer(&self) -> Option<String> {
        self.options.footer.then(|| match self.cells.len() {
            1 => "(1 row)".to_owned(),
            n => format!("({n} rows)"),
        })
    }
}

/// Appends to `out` exactly what psql prints for a result with `columns` and `rows` under
/// `options` (including, in the aligned formats, the blank line after the table). Rows are
/// expected to have one value per column.
pub fn print_result(out: &mut String, columns: &[Column], rows: &[Row], options: &PrintOptions) {
    let table = Table {
        headers: columns.iter().map(|c| c.name.as_str()).collect(),
        cells: rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|value| value.as_deref().unwrap_or(&options.null))
                    .collect()
            })
            .collect(),
        alignments: columns.iter().map(|c| alignment(c.type_oid)).collect(),
        options,
    };
    match (options.format, options.expanded) {
        (Format::Unaligned, Expanded::On) => unaligned::print_expanded(out, &table),
        (Format::Unaligned, Expanded::Off | Expanded::Auto) => unaligned::print(out, &table),
        (Format::Csv, Expanded::On) => csv::print_expanded(out, &table),
        (Format::Csv, Expanded::Off | Expanded::Auto) => csv::print(out, &table),
        (Format::Aligned | Format::Wrapped, Expanded::On) => expanded::print(out, &table),
        (Format::Aligned | Format::Wrapped, Expanded::Off | Expanded::Auto) => {
            aligned::print(out, &table)
        }
    }
}

#[cfg(test)]
mod tests;
