//! Expressions put back into SQL from their node trees, byte for byte as the server's
//! deparser prints them with `pretty` off (`pg_get_constraintdef`, `pg_get_expr`,
//! `pg_get_indexdef`), with one deliberate difference (below).
//!
//! Why: to deparse an expression the server opens its table and builds the table's cache
//! entry, for every table with a CHECK constraint, an expression index or a partial index;
//! with thousands of tables that is a large part of an inspection's server time. The node
//! trees themselves are cheap to read (`conbin`, `indexprs`, `indpred`).
//!
//! Only a well-understood subset is composed: columns, constants of the common scalar types
//! (integers, numerics, booleans, text), operators and functions that resolve without a
//! search (from `pg_catalog` with exactly their declared argument types, or
//! schema-qualified), casts, AND/OR/NOT, NULL and boolean
//! tests, `= ANY (ARRAY[…])`, COALESCE, GREATEST/LEAST, NULLIF and IS DISTINCT FROM. Anything
//! else ([`Deparsed::Server`]) is left to the server's deparser, and the round-trip tests
//! compare every composed text with the server's.
//!
//! The difference: in `x = ANY (…)`, an array literal's implicit cast to another array type
//! is left out (`x IN ('a', 'b')` on a varchar column), because the server's text for it,
//! `(ARRAY[…])::text[]`, reads back as another expression: a plan that created it would
//! never converge.
//!
//! Node trees hold datums in the server's byte order. They are read as little-endian, and
//! a value that does not check out that way (the unused bytes of an integer are not its sign,
//! a text's length does not match) is left to the server too.

#[cfg(test)]
use super::nodetree;
use super::nodetree::{Node, Tree};
use super::FastMap;

/// What the catalogs say about the functions, operators and types expressions use.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub functions: FastMap<i64, Routine>,
    pub operators: FastMap<i64, Routine>,
    pub types: FastMap<i64, TypeInfo>,
    /// `format_type(type, typmod)`.
    pub type_names: FastMap<(i64, i32), String>,
}

/// A function or an operator.
#[derive(Debug, Clone)]
pub(crate) struct Routine {
    pub name: String,
    pub schema: String,
    /// Declared argument types (an operator's left and right, 0 for a prefix operator's left).
    pub arg_types: Vec<i64>,
    /// A plain function (not variadic, not an aggregate), or a prefix or infix operator.
    pub plain: bool,
}

/// A type's facts the deparser needs.
#[derive(Debug, Clone)]
pub(crate) struct TypeInfo {
    pub typtype: String,
    /// The element type of a true array type, else 0.
    pub element: i64,
    pub collation: i64,
}

/// Facts an expression is waiting for.
#[derive(Debug, Default)]
pub(crate) struct ExprNeeds {
    pub functions: Vec<i64>,
    pub operators: Vec<i64>,
    pub types: Vec<(i64, i32)>,
}

impl ExprNeeds {
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.operators.is_empty() && self.types.is_empty()
    }

    /// Adds what `other` waits for (duplicates are removed when the facts are read).
    pub fn extend(&mut self, other: ExprNeeds) {
        self.functions.extend(other.functions);
        self.operators.extend(other.operators);
        self.types.extend(other.types);
    }
}

/// The result of deparsing one expression.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Deparsed {
    Done(String),
    /// Facts are missing (now listed in the [`ExprNeeds`]).
    Waiting,
    /// Outside the subset composed here: only the server can tell.
    Server,
}

/// Not composed here (see [`Deparsed::Server`]).
struct Unsupported;

type Step = Result<(), Unsupported>;

const BOOL: i64 = 16;
const INT8: i64 = 20;
const INT2: i64 = 21;
const INT4: i64 = 23;
const TEXT: i64 = 25;
const NUMERIC: i64 = 1700;
const BPCHAR: i64 = 1042;
const VARCHAR: i64 = 1043;
const RECORD: i64 = 2249;

/// `CoercionForm`: how a cast or call was written.
const EXPLICIT_CALL: i64 = 0;
const EXPLICIT_CAST: i64 = 1;
const IMPLICIT_CAST: i64 = 2;

/// Deparses expressions over the columns of one table.
pub(crate) struct Deparser<'a> {
    pub facts: &'a Facts,
    /// `quote_identifier` with the server's reserved words.
    pub quote: &'a dyn Fn(&str) -> String,
    /// A column of the table, by number.
    pub column: &'a dyn Fn(i64) -> Option<&'a str>,
}

/// One deparse in progress: the text so far and the facts found missing.
struct Out<'n> {
    sql: String,
    needs: &'n mut ExprNeeds,
    waiting: bool,
}

impl Deparser<'_> {
    /// An expression as `pg_get_expr` prints it.
    pub fn expression(&self, node: &Node<'_>, needs: &mut ExprNeeds) -> Deparsed {
        let mut out = Out {
            sql: String::new(),
            needs,
            waiting: false,
        };
        match self.expr(&mut out, node, false) {
            Err(Unsupported) => Deparsed::Server,
            Ok(()) if out.waiting => Deparsed::Waiting,
            Ok(()) => Deparsed::Done(out.sql),
        }
    }

    /// `expression`, read from a node tree's text (a single expression).
    #[cfg(test)]
    fn text(&self, tree: &str, needs: &mut ExprNeeds) -> Deparsed {
        match nodetree::parse(tree) {
            Ok(Tree::Node(node)) => self.expression(&node, needs),
            _ => Deparsed::Server,
        }
    }

    /// `get_rule_expr`: `show_implicit` tells whether an implicit cast at the top is shown.
    fn expr(&self, out: &mut Out<'_>, node: &Node<'_>, show_implicit: bool) -> Step {
        match node.tag {
            "VAR" => self.var(out, node),
            "CONST" => self.constant(out, node, ShowType::IfNeeded),
            "OPEXPR" => self.operator_expr(out, node),
            "FUNCEXPR" => self.function_expr(out, node, show_implicit),
            "BOOLEXPR" => self.bool_expr(out, node),
            "NULLTEST" => self.null_test(out, node),
            "BOOLEANTEST" => {
                let test = match node.int("booltesttype").ok_or(Unsupported)? {
                    0 => " IS TRUE",
                    1 => " IS NOT TRUE",
                    2 => " IS FALSE",
                    3 => " IS NOT FALSE",
                    4 => " IS UNKNOWN",
                    5 => " IS NOT UNKNOWN",
                    _ => return Err(Unsupported),
                };
                out.sql.push('(');
                self.expr(out, arg(node)?, false)?;
                out.sql.push_str(test);
                out.sql.push(')');
                Ok(())
            }
            "RELABELTYPE" => {
                self.cast_node(out, node, "relabelformat", "resulttypmod", show_implicit)
            }
            "COERCEVIAIO" => self.cast_node(out, node, "coerceformat", "", show_implicit),
            "ARRAYCOERCEEXPR" => {
                self.cast_node(out, node, "coerceformat", "resulttypmod", show_implicit)
            }
            "SCALARARRAYOPEXPR" => self.array_op_expr(out, node),
            "ARRAYEXPR" => {
                let elements = node.nodes("elements").unwrap_or_default();
                if elements.is_empty() && !matches!(node.field("elements"), Some(Tree::Null)) {
                    return Err(Unsupported);
                }
                out.sql.push_str("ARRAY[");
                self.list(out, &elements, true)?;
                out.sql.push(']');
                if elements.is_empty() {
                    let array_type = node.int("array_typeid").ok_or(Unsupported)?;
                    out.sql.push_str("::");
                    self.type_name(out, array_type, -1);
                }
                Ok(())
            }
            "COALESCEEXPR" => self.call_like(out, "COALESCE(", node),
            "NULLIFEXPR" => self.call_like(out, "NULLIF(", node),
            "MINMAXEXPR" => match node.int("op") {
                Some(0) => self.call_like(out, "GREATEST(", node),
                Some(1) => self.call_like(out, "LEAST(", node),
                _ => Err(Unsupported),
            },
            "DISTINCTEXPR" => {
                let [left, right] = two_args(node)?;
                out.sql.push('(');
                self.expr(out, left, true)?;
                out.sql.push_str(" IS DISTINCT FROM ");
                self.expr(out, right, true)?;
                out.sql.push(')');
                Ok(())
            }
            "COERCETODOMAINVALUE" => {
                out.sql.push_str("VALUE");
                Ok(())
            }
            _ => Err(Unsupported),
        }
    }

    /// Items separated by `, ` (a `List` node).
    fn list(&self, out: &mut Out<'_>, items: &[&Node<'_>], show_implicit: bool) -> Step {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.sql.push_str(", ");
            }
            self.expr(out, item, show_implicit)?;
        }
        Ok(())
    }

    fn call_like(&self, out: &mut Out<'_>, opening: &str, node: &Node<'_>) -> Step {
        let args = node.nodes("args").ok_or(Unsupported)?;
        out.sql.push_str(opening);
        self.list(out, &args, true)?;
        out.sql.push(')');
        Ok(())
    }

    fn var(&self, out: &mut Out<'_>, node: &Node<'_>) -> Step {
        if node.int("varlevelsup") != Some(0) {
            return Err(Unsupported);
        }
        // The syntactic referent when there is one, as the server prefers it.
        let (varno, attno) = match node.int("varnosyn") {
            Some(syn) if syn > 0 => (syn, node.int("varattnosyn")),
            _ => (node.int("varno").ok_or(Unsupported)?, node.int("varattno")),
        };
        let attno = attno.ok_or(Unsupported)?;
        if varno != 1 || attno <= 0 {
            return Err(Unsupported);
        }
        let name = (self.column)(attno).ok_or(Unsupported)?;
        out.sql.push_str(&(self.quote)(name));
        Ok(())
    }

    /// `get_const_expr`.
    fn constant(&self, out: &mut Out<'_>, node: &Node<'_>, show: ShowType) -> Step {
        let type_oid = node.int("consttype").ok_or(Unsupported)?;
        let typmod = typmod(node.int("consttypmod").ok_or(Unsupported)?)?;
        let collation = node.int("constcollid").ok_or(Unsupported)?;
        if node.bool("constisnull").ok_or(Unsupported)? {
            out.sql.push_str("NULL");
            if show != ShowType::Never {
                out.sql.push_str("::");
                self.type_name(out, type_oid, typmod);
                self.check_collation(out, type_oid, typmod, collation)?;
            }
            return Ok(());
        }
        let Some(Tree::Datum(bytes)) = node.field("constvalue") else {
            return Err(Unsupported);
        };
        let mut label = true;
        match type_oid {
            INT4 => {
                let value = int_datum(bytes, 4).ok_or(Unsupported)?;
                if value >= 0 {
                    out.sql.push_str(&value.to_string());
                    label = false;
                } else {
                    quote_literal(&mut out.sql, &value.to_string());
                }
            }
            INT2 | INT8 => {
                let width = if type_oid == INT2 { 2 } else { 8 };
                let value = int_datum(bytes, width).ok_or(Unsupported)?;
                quote_literal(&mut out.sql, &value.to_string());
            }
            BOOL => {
                let value = int_datum(bytes, 1).ok_or(Unsupported)?;
                out.sql.push_str(match value {
                    0 => "false",
                    1 => "true",
                    _ => return Err(Unsupported),
                });
                label = false;
            }
            NUMERIC => {
                let text = numeric_datum(bytes).ok_or(Unsupported)?;
                // Bare when it reads back as a numeric (it has a point and no sign).
                if text.starts_with(|c: char| c.is_ascii_digit()) && text.contains('.') {
                    out.sql.push_str(&text);
                    label = typmod >= 0;
                } else {
                    quote_literal(&mut out.sql, &text);
                }
            }
            TEXT | VARCHAR | BPCHAR => {
                let text = text_datum(bytes).ok_or(Unsupported)?;
                quote_literal(&mut out.sql, text);
            }
            _ => return Err(Unsupported),
        }
        if show == ShowType::Never {
            return Ok(());
        }
        if label {
            out.sql.push_str("::");
            self.type_name(out, type_oid, typmod);
        }
        self.check_collation(out, type_oid, typmod, collation)
    }

    /// A constant of another collation than its type's is printed with a COLLATE clause,
    /// which is not composed here.
    fn check_collation(
        &self,
        out: &mut Out<'_>,
        type_oid: i64,
        typmod: i32,
        collation: i64,
    ) -> Step {
        if collation == 0 {
            return Ok(());
        }
        match self.facts.types.get(&type_oid) {
            Some(info) if info.collation == collation => Ok(()),
            Some(_) => Err(Unsupported),
            None => {
                out.needs.types.push((type_oid, typmod));
                out.waiting = true;
                Ok(())
            }
        }
    }

    /// A type as `format_type_with_typemod` prints it.
    fn type_name(&self, out: &mut Out<'_>, type_oid: i64, typmod: i32) {
        match self.facts.type_names.get(&(type_oid, typmod)) {
            Some(name) => out.sql.push_str(name),
            None => {
                out.needs.types.push((type_oid, typmod));
                out.waiting = true;
            }
        }
    }

    /// `get_oper_expr`: always in parentheses.
    fn operator_expr(&self, out: &mut Out<'_>, node: &Node<'_>) -> Step {
        let opno = node.int("opno").ok_or(Unsupported)?;
        let args = node.nodes("args").ok_or(Unsupported)?;
        out.sql.push('(');
        match args.as_slice() {
            [left, right] => {
                self.expr(out, left, true)?;
                out.sql.push(' ');
                let types = [result_type(left)?, result_type(right)?];
                self.operator_name(out, opno, &types)?;
                out.sql.push(' ');
                self.expr(out, right, true)?;
            }
            [operand] => {
                self.operator_name(out, opno, &[0, result_type(operand)?])?;
                out.sql.push(' ');
                self.expr(out, operand, true)?;
            }
            _ => return Err(Unsupported),
        }
        out.sql.push(')');
        Ok(())
    }

    /// `generate_operator_name`: bare when the unqualified name finds this very operator,
    /// which here means one of `pg_catalog` applied to exactly its declared types; an operator
    /// of another schema is never found by an empty `search_path`, so it is qualified.
    fn operator_name(&self, out: &mut Out<'_>, opno: i64, arg_types: &[i64; 2]) -> Step {
        let Some(op) = self.facts.operators.get(&opno) else {
            out.needs.operators.push(opno);
            out.waiting = true;
            return Ok(());
        };
        if !op.plain {
            return Err(Unsupported);
        }
        if op.schema == "pg_catalog" {
            if op.arg_types.as_slice() != arg_types.as_slice() {
                return Err(Unsupported);
            }
            out.sql.push_str(&op.name);
        } else {
            out.sql.push_str("OPERATOR(");
            out.sql.push_str(&(self.quote)(&op.schema));
            out.sql.push('.');
            out.sql.push_str(&op.name);
            out.sql.push(')');
        }
        Ok(())
    }

    /// `get_func_expr`.
    fn function_expr(&self, out: &mut Out<'_>, node: &Node<'_>, show_implicit: bool) -> Step {
        let args = node.nodes("args").unwrap_or_default();
        if args.is_empty() && !matches!(node.field("args"), Some(Tree::Null)) {
            return Err(Unsupported);
        }
        let format = node.int("funcformat").ok_or(Unsupported)?;
        if format == IMPLICIT_CAST && !show_implicit {
            return self.expr(out, args.first().ok_or(Unsupported)?, false);
        }
        if format == EXPLICIT_CAST || format == IMPLICIT_CAST {
            let arg = args.first().ok_or(Unsupported)?;
            let result_type = node.int("funcresulttype").ok_or(Unsupported)?;
            // A length coercion (`varchar(text, typmod, explicit)`) shows its typmod.
            let typmod = match args.get(1) {
                Some(second)
                    if second.tag == "CONST"
                        && second.int("consttype") == Some(INT4)
                        && second.bool("constisnull") == Some(false) =>
                {
                    match second.field("constvalue") {
                        Some(Tree::Datum(bytes)) => {
                            i32::try_from(int_datum(bytes, 4).ok_or(Unsupported)?)
                                .map_err(|_| Unsupported)?
                        }
                        _ => return Err(Unsupported),
                    }
                }
                _ => -1,
            };
            return self.coercion(out, arg, result_type, typmod);
        }
        if format != EXPLICIT_CALL || node.bool("funcvariadic") != Some(false) {
            return Err(Unsupported);
        }
        let funcid = node.int("funcid").ok_or(Unsupported)?;
        let arg_types = args
            .iter()
            .map(|a| result_type(a))
            .collect::<Result<Vec<_>, _>>()?;
        match self.facts.functions.get(&funcid) {
            None => {
                out.needs.functions.push(funcid);
                out.waiting = true;
            }
            Some(f) if !f.plain => return Err(Unsupported),
            Some(f) if f.schema == "pg_catalog" => {
                if f.arg_types != arg_types {
                    return Err(Unsupported);
                }
                out.sql.push_str(&(self.quote)(&f.name));
            }
            Some(f) => {
                out.sql.push_str(&(self.quote)(&f.schema));
                out.sql.push('.');
                out.sql.push_str(&(self.quote)(&f.name));
            }
        }
        out.sql.push('(');
        self.list(out, &args, true)?;
        out.sql.push(')');
        Ok(())
    }

    /// A relabeling or I/O cast: hidden when implicit and not asked for.
    fn cast_node(
        &self,
        out: &mut Out<'_>,
        node: &Node<'_>,
        format_field: &str,
        typmod_field: &str,
        show_implicit: bool,
    ) -> Step {
        let arg = node.node("arg").ok_or(Unsupported)?;
        if node.int(format_field).ok_or(Unsupported)? == IMPLICIT_CAST && !show_implicit {
            return self.expr(out, arg, false);
        }
        let result_type = node.int("resulttype").ok_or(Unsupported)?;
        let typmod = if typmod_field.is_empty() {
            -1
        } else {
            typmod(node.int(typmod_field).ok_or(Unsupported)?)?
        };
        self.coercion(out, arg, result_type, typmod)
    }

    /// `get_coercion_expr`: `(arg)::type`, or a constant of that very type bare.
    fn coercion(&self, out: &mut Out<'_>, arg: &Node<'_>, result_type: i64, typmod: i32) -> Step {
        if arg.tag == "CONST"
            && arg.int("consttype") == Some(result_type)
            && arg.int("consttypmod") == Some(-1)
        {
            self.constant(out, arg, ShowType::Never)?;
        } else {
            out.sql.push('(');
            self.expr(out, arg, false)?;
            out.sql.push(')');
        }
        out.sql.push_str("::");
        self.type_name(out, result_type, typmod);
        Ok(())
    }

    fn bool_expr(&self, out: &mut Out<'_>, node: &Node<'_>) -> Step {
        let args = node.nodes("args").ok_or(Unsupported)?;
        let separator = match node.field("boolop") {
            Some(Tree::Atom("and")) => " AND ",
            Some(Tree::Atom("or")) => " OR ",
            Some(Tree::Atom("not")) => {
                let [operand] = args.as_slice() else {
                    return Err(Unsupported);
                };
                out.sql.push_str("(NOT ");
                self.expr(out, operand, false)?;
                out.sql.push(')');
                return Ok(());
            }
            _ => return Err(Unsupported),
        };
        if args.is_empty() {
            return Err(Unsupported);
        }
        out.sql.push('(');
        for (i, operand) in args.iter().enumerate() {
            if i > 0 {
                out.sql.push_str(separator);
            }
            self.expr(out, operand, false)?;
        }
        out.sql.push(')');
        Ok(())
    }

    fn null_test(&self, out: &mut Out<'_>, node: &Node<'_>) -> Step {
        let operand = arg(node)?;
        let is_not = match node.int("nulltesttype") {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(Unsupported),
        };
        // A scalar test of a row is printed IS [NOT] DISTINCT FROM NULL.
        let row_as_scalar = if node.bool("argisrow").ok_or(Unsupported)? {
            false
        } else {
            let type_oid = result_type(operand)?;
            if type_oid == RECORD {
                true
            } else {
                match self.facts.types.get(&type_oid) {
                    None => {
                        out.needs.types.push((type_oid, -1));
                        out.waiting = true;
                        false
                    }
                    Some(info) if info.typtype == "d" => return Err(Unsupported),
                    Some(info) => info.typtype == "c",
                }
            }
        };
        out.sql.push('(');
        self.expr(out, operand, true)?;
        out.sql.push_str(match (row_as_scalar, is_not) {
            (false, false) => " IS NULL",
            (false, true) => " IS NOT NULL",
            (true, false) => " IS NOT DISTINCT FROM NULL",
            (true, true) => " IS DISTINCT FROM NULL",
        });
        out.sql.push(')');
        Ok(())
    }

    /// `x op ANY (array)` / `ALL`.
    fn array_op_expr(&self, out: &mut Out<'_>, node: &Node<'_>) -> Step {
        let [left, right] = two_args(node)?;
        let opno = node.int("opno").ok_or(Unsupported)?;
        let any = match node.field("useOr") {
            Some(Tree::Atom("true")) => "ANY",
            Some(Tree::Atom("false")) => "ALL",
            _ => return Err(Unsupported),
        };
        let array_type = result_type(right)?;
        out.sql.push('(');
        self.expr(out, left, true)?;
        out.sql.push(' ');
        match self.facts.types.get(&array_type) {
            None => {
                out.needs.types.push((array_type, -1));
                out.waiting = true;
            }
            Some(info) if info.element == 0 => return Err(Unsupported),
            Some(info) => self.operator_name(out, opno, &[result_type(left)?, info.element])?,
        }
        out.sql.push(' ');
        out.sql.push_str(any);
        out.sql.push_str(" (");
        // `x IN ('a', 'b')` on a varchar column is stored with the list cast to text[] by
        // an implicit array coercion, which the server prints `(ARRAY[…])::text[]`. Read
        // back, that cast applies to each element instead, and the constraint's text changes:
        // a diff applied would never converge. The array alone reads back as the original.
        match right.node("arg") {
            Some(array)
                if right.tag == "ARRAYCOERCEEXPR"
                    && right.int("coerceformat") == Some(IMPLICIT_CAST)
                    && array.tag == "ARRAYEXPR" =>
            {
                self.expr(out, array, true)?
            }
            _ => self.expr(out, right, true)?,
        }
        out.sql.push_str("))");
        Ok(())
    }
}

/// How `get_const_expr` labels a constant with its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShowType {
    /// The caller prints the type.
    Never,
    /// Unless the constant would be read back as that type anyway.
    IfNeeded,
}

/// `looks_like_function`: whether an index column's expression can be written without
/// parentheses of its own.
pub(crate) fn looks_like_function(node: &Node<'_>) -> bool {
    match node.tag {
        "FUNCEXPR" => matches!(node.int("funcformat"), Some(0) | Some(3)),
        "NULLIFEXPR" | "COALESCEEXPR" | "MINMAXEXPR" | "SQLVALUEFUNCTION" | "XMLEXPR" => true,
        _ => false,
    }
}

fn arg<'a, 'n>(node: &'n Node<'a>) -> Result<&'n Node<'a>, Unsupported> {
    node.node("arg").ok_or(Unsupported)
}

fn two_args<'a, 'n>(node: &'n Node<'a>) -> Result<[&'n Node<'a>; 2], Unsupported> {
    let args = node.nodes("args").ok_or(Unsupported)?;
    match args.as_slice() {
        [left, right] => Ok([left, right]),
        _ => Err(Unsupported),
    }
}

fn typmod(value: i64) -> Result<i32, Unsupported> {
    i32::try_from(value).map_err(|_| Unsupported)
}

/// The type an expression yields, if its node is one of those composed here.
pub(crate) fn expr_type(node: &Node<'_>) -> Option<i64> {
    result_type(node).ok()
}

/// `exprType`: the type an expression yields.
fn result_type(node: &Node<'_>) -> Result<i64, Unsupported> {
    let field = match node.tag {
        "VAR" => "vartype",
        "CONST" => "consttype",
        "OPEXPR" | "DISTINCTEXPR" | "NULLIFEXPR" => "opresulttype",
        "FUNCEXPR" => "funcresulttype",
        "BOOLEXPR" | "NULLTEST" | "BOOLEANTEST" | "SCALARARRAYOPEXPR" => return Ok(BOOL),
        "RELABELTYPE" | "COERCEVIAIO" | "ARRAYCOERCEEXPR" => "resulttype",
        "ARRAYEXPR" => "array_typeid",
        "COALESCEEXPR" => "coalescetype",
        "MINMAXEXPR" => "minmaxtype",
        "COERCETODOMAINVALUE" => "typeId",
        _ => return Err(Unsupported),
    };
    node.int(field).ok_or(Unsupported)
}

/// A by-value integer datum of `width` bytes: a Datum's 8 bytes, little-endian, the unused
/// ones holding the sign (how the server widens an `int32` to a `Datum`).
fn int_datum(bytes: &[u8], width: usize) -> Option<i64> {
    if bytes.len() != 8 {
        return None;
    }
    let mut buffer = [0u8; 8];
    buffer.copy_from_slice(bytes);
    let whole = i64::from_le_bytes(buffer);
    let shift = 64 - 8 * width as u32;
    let value = if shift == 0 {
        whole
    } else {
        (whole << shift) >> shift
    };
    (value == whole).then_some(value)
}

/// A varlena's data (after its 1- or 4-byte header), if it is stored plainly (neither
/// compressed nor a TOAST pointer) and its length checks out.
fn varlena_payload(bytes: &[u8]) -> Option<&[u8]> {
    let first = *bytes.first()?;
    if first & 0x01 == 0x01 {
        // A 1-byte header; 0x01 alone marks a TOAST pointer.
        let length = usize::from(first >> 1);
        if first == 0x01 || length != bytes.len() {
            return None;
        }
        Some(&bytes[1..])
    } else if first & 0x03 == 0 {
        let header: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
        let length = usize::try_from(u32::from_le_bytes(header) >> 2).ok()?;
        if length != bytes.len() {
            return None;
        }
        Some(&bytes[4..])
    } else {
        // Compressed.
        None
    }
}

/// A text datum, if it is plain ASCII without backslashes (whose quoting depends on
/// `standard_conforming_strings`).
fn text_datum(bytes: &[u8]) -> Option<&str> {
    let data = varlena_payload(bytes)?;
    if data.iter().any(|&b| b == 0 || b == b'\\' || !b.is_ascii()) {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// A numeric datum as `numeric_out` prints it, if it is a finite number: base-10000 digits
/// after a short (2-byte) or long (4-byte) header of sign, display scale and weight.
fn numeric_datum(bytes: &[u8]) -> Option<String> {
    use std::fmt::Write as _;
    let payload = varlena_payload(bytes)?;
    let word = |at: usize| -> Option<u16> {
        Some(u16::from_le_bytes([
            *payload.get(at)?,
            *payload.get(at + 1)?,
        ]))
    };
    let header = word(0)?;
    let (negative, scale, weight, digits_at) = match header & 0xC000 {
        // Short: sign, 6-bit scale, 7-bit signed weight.
        0x8000 => {
            let magnitude = (header & 0x003F) as i16;
            let weight = if header & 0x0040 != 0 {
                magnitude | !0x003F
            } else {
                magnitude
            };
            (
                header & 0x2000 != 0,
                usize::from((header & 0x1F80) >> 7),
                i32::from(weight),
                2,
            )
        }
        // Long: sign and 14-bit scale, then a 16-bit weight.
        0x0000 | 0x4000 => (
            header & 0x4000 != 0,
            usize::from(header & 0x3FFF),
            i32::from(word(2)? as i16),
            4,
        ),
        // NaN and the infinities.
        _ => return None,
    };
    let digits: Vec<i32> = payload
        .get(digits_at..)?
        .chunks(2)
        .map(|pair| match pair {
            [low, high] => Some(i32::from(i16::from_le_bytes([*low, *high]))),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if digits.iter().any(|d| !(0..10_000).contains(d)) {
        return None;
    }
    let digit = |at: i32| {
        usize::try_from(at)
            .ok()
            .and_then(|at| digits.get(at))
            .copied()
            .unwrap_or(0)
    };
    let mut text = String::new();
    if negative {
        text.push('-');
    }
    let mut next = weight + 1;
    if weight < 0 {
        text.push('0');
    } else {
        for at in 0..=weight {
            // The first group without its leading zeros.
            let _ = if at == 0 {
                write!(text, "{}", digit(at))
            } else {
                write!(text, "{:04}", digit(at))
            };
        }
    }
    if scale > 0 {
        text.push('.');
        let start = text.len();
        while text.len() - start < scale {
            let _ = write!(text, "{:04}", digit(next));
            next += 1;
        }
        text.truncate(start + scale);
    }
    Some(text)
}

/// `simple_quote_literal` (the text has no backslashes).
fn quote_literal(sql: &mut String, text: &str) {
    sql.push('\'');
    sql.push_str(&text.replace('\'', "''"));
    sql.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut facts = Facts::default();
        let routine = |name: &str, schema: &str, arg_types: Vec<i64>| Routine {
            name: name.into(),
            schema: schema.into(),
            arg_types,
            plain: true,
        };
        facts
            .operators
            .insert(521, routine(">", "pg_catalog", vec![INT4, INT4]));
        facts
            .operators
            .insert(98, routine("=", "pg_catalog", vec![TEXT, TEXT]));
        facts
            .operators
            .insert(90_001, routine("===", "app", vec![INT4, INT4]));
        facts
            .functions
            .insert(870, routine("lower", "pg_catalog", vec![TEXT]));
        facts
            .functions
            .insert(1740, routine("numeric", "pg_catalog", vec![INT4]));
        for (oid, typmod, name) in [
            (1700, -1, "numeric"),
            (TEXT, -1, "text"),
            (1009, -1, "text[]"),
            (INT8, -1, "bigint"),
        ] {
            facts.type_names.insert((oid, typmod), name.into());
        }
        facts.types.insert(
            1009,
            TypeInfo {
                typtype: "b".into(),
                element: TEXT,
                collation: 100,
            },
        );
        facts.types.insert(
            TEXT,
            TypeInfo {
                typtype: "b".into(),
                element: 0,
                collation: 100,
            },
        );
        facts
    }

    fn deparse(tree: &str, facts: &Facts) -> (Deparsed, ExprNeeds) {
        let quote = |name: &str| {
            if name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && name != "select" {
                name.to_string()
            } else {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
        };
        let column = |attnum: i64| match attnum {
            3 => Some("name"),
            4 => Some("Amount"),
            5 => Some("quantity"),
            _ => None,
        };
        let deparser = Deparser {
            facts,
            quote: &quote,
            column: &column,
        };
        let mut needs = ExprNeeds::default();
        let result = deparser.text(tree, &mut needs);
        (result, needs)
    }

    const VAR_INT4: &str = "{VAR :varno 1 :varattno 5 :vartype 23 :vartypmod -1 :varcollid 0 \
        :varlevelsup 0 :varnosyn 1 :varattnosyn 5 :location 70}";
    const VAR_TEXT: &str = "{VAR :varno 1 :varattno 3 :vartype 25 :vartypmod -1 :varcollid 100 \
        :varlevelsup 0 :varnosyn 1 :varattnosyn 3 :location 53}";

    fn int4(value: i32) -> String {
        let bytes: Vec<String> = i64::from(value)
            .to_le_bytes()
            .iter()
            .map(|b| (*b as i8).to_string())
            .collect();
        format!(
            "{{CONST :consttype 23 :consttypmod -1 :constcollid 0 :constlen 4 :constbyval true \
             :constisnull false :location 81 :constvalue 4 [ {} ]}}",
            bytes.join(" ")
        )
    }

    fn text(value: &str) -> String {
        let mut bytes = (((value.len() + 4) as u32) << 2).to_le_bytes().to_vec();
        bytes.extend(value.bytes());
        let bytes: Vec<String> = bytes.iter().map(|b| (*b as i8).to_string()).collect();
        format!(
            "{{CONST :consttype 25 :consttypmod -1 :constcollid 100 :constlen -1 :constbyval false \
             :constisnull false :location 9 :constvalue {} [ {} ]}}",
            value.len() + 4,
            bytes.join(" ")
        )
    }

    #[test]
    fn operators_constants_and_columns() {
        let tree = format!(
            "{{OPEXPR :opno 521 :opfuncid 147 :opresulttype 16 :opretset false :opcollid 0 \
             :inputcollid 0 :args ({VAR_INT4} {}) :location 79}}",
            int4(0)
        );
        assert_eq!(
            deparse(&tree, &facts()).0,
            Deparsed::Done("(quantity > 0)".into())
        );
        let negative = tree.replace(&int4(0), &int4(-12));
        let (result, needs) = deparse(&negative, &facts());
        assert_eq!(result, Deparsed::Waiting, "a negative integer is labelled");
        assert_eq!(needs.types, vec![(INT4, -1)]);
        let mut facts = facts();
        facts.type_names.insert((INT4, -1), "integer".into());
        assert_eq!(
            deparse(&negative, &facts).0,
            Deparsed::Done("(quantity > '-12'::integer)".into())
        );
        let qualified = tree.replace(":opno 521", ":opno 90001");
        assert_eq!(
            deparse(&qualified, &facts).0,
            Deparsed::Done("(quantity OPERATOR(app.===) 0)".into())
        );
    }

    #[test]
    fn implicit_casts_show_inside_operators_and_calls() {
        let cast = format!(
            "{{FUNCEXPR :funcid 1740 :funcresulttype 1700 :funcretset false :funcvariadic false \
             :funcformat 2 :funccollid 0 :inputcollid 0 :args ({}) :location -1}}",
            int4(0)
        );
        // At the top an implicit cast is hidden; below an operator it is shown.
        assert_eq!(deparse(&cast, &facts()).0, Deparsed::Done("0".into()));
        let relabel = format!(
            "{{FUNCEXPR :funcid 870 :funcresulttype 25 :funcretset false :funcvariadic false \
             :funcformat 0 :funccollid 100 :inputcollid 100 :args ({{RELABELTYPE :arg {} \
             :resulttype 25 :resulttypmod -1 :resultcollid 100 :relabelformat 2 :location -1}}) :location 47}}",
            VAR_TEXT.replace(":vartype 25", ":vartype 1043")
        );
        assert_eq!(
            deparse(&relabel, &facts()).0,
            Deparsed::Done("lower((name)::text)".into())
        );
    }

    #[test]
    fn boolean_logic_null_tests_and_arrays() {
        let any = format!(
            "{{SCALARARRAYOPEXPR :opno 98 :opfuncid 67 :hashfuncid 0 :negfuncid 0 :useOr true \
             :inputcollid 100 :args ({VAR_TEXT} {{ARRAYEXPR :array_typeid 1009 :array_collid 100 \
             :element_typeid 25 :elements ({} {}) :multidims false :location 20}}) :location 10}}",
            text("a"),
            text("it's")
        );
        let null_test =
            format!("{{NULLTEST :arg {VAR_TEXT} :nulltesttype 1 :argisrow false :location 5}}");
        let tree = format!("{{BOOLEXPR :boolop or :args ({any} {{BOOLEXPR :boolop not :args ({null_test}) :location 1}}) :location 2}}");
        assert_eq!(
            deparse(&tree, &facts()).0,
            Deparsed::Done(
                "((name = ANY (ARRAY['a'::text, 'it''s'::text])) OR (NOT (name IS NOT NULL)))"
                    .into()
            )
        );
    }

    #[test]
    fn an_array_literal_keeps_its_elements_types_not_its_implicit_cast() {
        let varchar_text = text("x").replace(":consttype 25", ":consttype 1043");
        let tree = format!(
            "{{SCALARARRAYOPEXPR :opno 98 :opfuncid 67 :hashfuncid 0 :negfuncid 0 :useOr true \
             :inputcollid 100 :args ({VAR_TEXT} {{ARRAYCOERCEEXPR :arg {{ARRAYEXPR \
             :array_typeid 1015 :array_collid 100 :element_typeid 1043 :elements ({varchar_text}) \
             :multidims false :location 20}} :elemexpr {{RELABELTYPE :arg {{CASETESTEXPR}} \
             :resulttype 25 :resulttypmod -1 :resultcollid 100 :relabelformat 2 :location -1}} \
             :resulttype 1009 :resulttypmod -1 :resultcollid 100 :coerceformat 2 :location -1}}) \
             :location 10}}"
        );
        let mut facts = facts();
        facts
            .type_names
            .insert((VARCHAR, -1), "character varying".into());
        facts.types.insert(
            VARCHAR,
            TypeInfo {
                typtype: "b".into(),
                element: 0,
                collation: 100,
            },
        );
        assert_eq!(
            deparse(&tree, &facts).0,
            Deparsed::Done("(name = ANY (ARRAY['x'::character varying]))".into())
        );
    }

    #[test]
    fn missing_facts_are_listed_and_unknown_nodes_go_to_the_server() {
        let call = format!(
            "{{FUNCEXPR :funcid 5000 :funcresulttype 25 :funcretset false :funcvariadic false \
             :funcformat 0 :funccollid 0 :inputcollid 0 :args ({VAR_TEXT}) :location 1}}"
        );
        let (result, needs) = deparse(&call, &facts());
        assert_eq!(result, Deparsed::Waiting);
        assert_eq!(needs.functions, vec![5000]);
        let mut facts = facts();
        facts.functions.insert(
            5000,
            Routine {
                name: "Slug".into(),
                schema: "app".into(),
                arg_types: vec![TEXT],
                plain: true,
            },
        );
        assert_eq!(
            deparse(&call, &facts).0,
            Deparsed::Done("app.\"Slug\"(name)".into())
        );
        // A pg_catalog function applied to other types than declared needs the server's
        // resolution rules.
        facts.functions.insert(
            5000,
            Routine {
                name: "length".into(),
                schema: "pg_catalog".into(),
                arg_types: vec![1043],
                plain: true,
            },
        );
        assert_eq!(deparse(&call, &facts).0, Deparsed::Server);
        for tree in [
            "{CASEEXPR :casetype 25}",
            "{VAR :varno 2 :varattno 1 :vartype 23 :varlevelsup 0 :varnosyn 2 :varattnosyn 1}",
            "{VAR :varno 1 :varattno 0 :vartype 23 :varlevelsup 0 :varnosyn 1 :varattnosyn 0}",
            "{CONST :consttype 1700 :consttypmod -1 :constcollid 0 :constisnull false :constvalue 8 [ 9 0 0 0 0 0 0 0 ]}",
            "{OPEXPR :opno 521 :args",
        ] {
            assert_eq!(deparse(tree, &facts).0, Deparsed::Server, "{tree}");
        }
    }

    #[test]
    fn numeric_constants_print_as_numeric_out_does() {
        // Datums as the server stores them in `conbin`, and the constants it prints.
        let cases = [
            ("32 0 0 0 -1 -128 -120 19", "0.5"),
            ("40 0 0 0 0 -95 12 0 -60 9", "'-12.25'::numeric"),
            (
                "64 0 0 0 2 -125 1 0 41 9 -123 26 0 0 100 0",
                "123456789.000001",
            ),
            ("32 0 0 0 127 -126 1 0", "0.0001"),
            ("32 0 0 0 5 -128 1 0", "'100000000000000000000'::numeric"),
            ("24 0 0 0 0 -127", "0.00"),
        ];
        for (bytes, expected) in cases {
            let length = bytes.split(' ').count();
            let tree = format!(
                "{{CONST :consttype 1700 :consttypmod -1 :constcollid 0 :constlen -1 \
                 :constbyval false :constisnull false :location 1 :constvalue {length} [ {bytes} ]}}"
            );
            assert_eq!(
                deparse(&tree, &facts()).0,
                Deparsed::Done(expected.into()),
                "{bytes}"
            );
        }
        // NaN is left to the server.
        let nan = "{CONST :consttype 1700 :consttypmod -1 :constcollid 0 :constisnull false \
                   :constvalue 6 [ 24 0 0 0 0 -64 ]}";
        assert_eq!(deparse(nan, &facts()).0, Deparsed::Server);
    }

    #[test]
    fn datums_that_do_not_check_out_go_to_the_server() {
        // Big-endian bytes of 5: the unused bytes are not the sign of the low ones.
        assert_eq!(int_datum(&[0, 0, 0, 0, 0, 0, 0, 5], 4), None);
        assert_eq!(
            int_datum(&[251, 255, 255, 255, 255, 255, 255, 255], 4),
            Some(-5)
        );
        assert_eq!(int_datum(&[1, 0, 0, 0], 4), None);
        assert_eq!(text_datum(&[20, 0, 0, 0, b'x']), Some("x"));
        assert_eq!(text_datum(&[(2 << 1) | 1, b'y']), Some("y"));
        assert_eq!(text_datum(&[24, 0, 0, 0, b'x']), None, "length mismatch");
        assert_eq!(text_datum(&[20, 0, 0, 0, b'\\']), None, "a backslash");
        assert_eq!(text_datum(&[20, 0, 0, 0, 0xc3]), None, "not ASCII");
        let tree = "{CONST :consttype 20 :consttypmod -1 :constcollid 0 :constisnull false :constvalue 8 [ 7 0 0 0 0 0 0 0 ]}";
        assert_eq!(
            deparse(tree, &facts()).0,
            Deparsed::Done("'7'::bigint".into())
        );
    }
}
