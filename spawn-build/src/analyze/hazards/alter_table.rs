//! Hazards of `ALTER TABLE`: the lock its subcommands take (ACCESS EXCLUSIVE for most,
//! lighter for a few), and the work each does: rewriting the table, scanning it to validate a
//! constraint, building an index, dropping data.

use std::collections::HashSet;
use std::ops::Range;

use super::catalog::Catalog;
use super::tokens::Tokens;
use super::types::{change_rewrites, is_serial, may_relax, parse_type, volatile_call, ColumnType};
use super::{Hazard, Raw};

/// The lock an `ALTER TABLE` subcommand takes on the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lock {
    /// SHARE UPDATE EXCLUSIVE or SHARE ROW EXCLUSIVE: reads go on.
    Light,
    /// ACCESS EXCLUSIVE, held only for a catalog change.
    Brief,
    /// ACCESS EXCLUSIVE, held while the table is rewritten, scanned or indexed.
    Long,
}

/// What one subcommand does.
struct Action {
    lock: Lock,
    /// What it does under a long lock, for the lock's message.
    work: Option<String>,
    findings: Vec<Raw>,
}

impl Action {
    fn new(lock: Lock) -> Self {
        Self {
            lock,
            work: None,
            findings: Vec::new(),
        }
    }

    fn with(mut self, hazard: Hazard, message: String) -> Self {
        self.findings.push(Raw::new(hazard, message));
        self
    }

    fn work(mut self, work: &str) -> Self {
        self.work = Some(work.to_owned());
        self
    }
}

/// The hazards of `ALTER TABLE` statement `t` (its first two tokens are `ALTER TABLE`), and
/// its effect on `catalog`. `created` holds the tables created by the same migration
/// (nothing is hazardous on them).
pub(crate) fn alter_table(
    t: &Tokens<'_>,
    catalog: &mut Catalog,
    created: &HashSet<String>,
) -> Vec<Raw> {
    let mut i = t.skip(2, &["IF", "EXISTS"]);
    i = t.skip(i, &["ONLY"]);
    let Some((table, mut i)) = t.name(i) else {
        return Vec::new();
    };
    if t.is_punct(i, "*") {
        i += 1;
    }
    let actions: Vec<Action> = t
        .split_commas(i..t.len())
        .into_iter()
        .map(|range| action(t, range, &table, catalog, created))
        .collect();
    if created.contains(&table) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let lock = actions.iter().map(|a| a.lock).max();
    match lock {
        Some(Lock::Long) => {
            let work = actions
                .iter()
                .find_map(|a| a.work.clone())
                .unwrap_or_default();
            out.push(Raw::new(
                Hazard::AccessExclusiveLock,
                format!(
                    "holds an ACCESS EXCLUSIVE lock on {table} while it {work}: every read and \
                     write of the table waits until it finishes"
                ),
            ));
        }
        Some(Lock::Brief) => out.push(Raw::brief(&table)),
        _ => {}
    }
    for action in actions {
        for finding in action.findings {
            if !out.iter().any(|f: &Raw| f.hazard == finding.hazard) {
                out.push(finding);
            }
        }
    }
    out
}

/// One subcommand, in `range`.
fn action(
    t: &Tokens<'_>,
    range: Range<usize>,
    table: &str,
    catalog: &mut Catalog,
    created: &HashSet<String>,
) -> Action {
    let a = range.start;
    if t.is(a, "ADD") {
        let mut i = t.skip(a + 1, &["COLUMN"]);
        i = t.skip(i, &["IF", "NOT", "EXISTS"]);
        if t.is_any(
            i,
            &[
                "CONSTRAINT",
                "CHECK",
                "UNIQUE",
                "PRIMARY",
                "FOREIGN",
                "EXCLUDE",
            ],
        ) && !t.is(a + 1, "COLUMN")
        {
            return add_constraint(t, i..range.end, table, catalog);
        }
        return add_column(t, i..range.end, table, catalog);
    }
    if t.is(a, "DROP") {
        if t.is(a + 1, "CONSTRAINT") {
            return Action::new(Lock::Brief);
        }
        let i = t.skip(a + 1, &["COLUMN"]);
        let i = t.skip(i, &["IF", "EXISTS"]);
        let column = t.name(i).map(|(c, _)| c).unwrap_or_default();
        catalog.drop_column(table, &column);
        return Action::new(Lock::Brief).with(
            Hazard::DataLoss,
            format!(
                "DROP COLUMN deletes {table}.{column} and its data; application code still \
                 reading or writing it fails"
            ),
        );
    }
    if t.is(a, "ALTER") {
        let i = t.skip(a + 1, &["COLUMN"]);
        let Some((column, i)) = t.name(i) else {
            return Action::new(Lock::Brief);
        };
        return alter_column(t, i..range.end, table, &column, catalog);
    }
    if t.is(a, "VALIDATE") {
        if let Some((name, _)) = t.name(a + 2) {
            catalog.validate(&name);
        }
        // A scan, but under SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile.
        return Action::new(Lock::Light);
    }
    if t.is(a, "RENAME") {
        if t.is(a + 1, "TO") {
            if let Some((new, _)) = t.name(a + 2) {
                catalog.rename_table(table, &new);
            }
        } else if !t.is(a + 1, "CONSTRAINT") {
            let i = t.skip(a + 1, &["COLUMN"]);
            if let Some((old, i)) = t.name(i) {
                if let Some((new, _)) = t.name(i + 1) {
                    catalog.rename_column(table, &old, &new);
                }
            }
        }
        return Action::new(Lock::Brief);
    }
    if t.is(a, "SET") {
        if t.is(a + 1, "TABLESPACE")
            || t.is_any(a + 1, &["LOGGED", "UNLOGGED"])
            || t.are(a + 1, &["ACCESS", "METHOD"])
        {
            let what = t.0[a..range.end.min(a + 2)]
                .iter()
                .map(|tok| tok.text.to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(" ");
            return Action::new(Lock::Long).work("rewrites it").with(
                Hazard::TableRewrite,
                format!("{what} rewrites {table} and its indexes"),
            );
        }
        if t.is_punct(a + 1, "(") || t.are(a + 1, &["WITHOUT", "CLUSTER"]) {
            return Action::new(Lock::Light);
        }
        return Action::new(Lock::Brief);
    }
    if t.is(a, "RESET") || t.are(a, &["CLUSTER", "ON"]) {
        return Action::new(Lock::Light);
    }
    if t.is_any(a, &["ENABLE", "DISABLE"]) && t.is(a + 1, "TRIGGER") {
        return Action::new(Lock::Light);
    }
    if t.are(a, &["ATTACH", "PARTITION"]) {
        // SHARE UPDATE EXCLUSIVE on the parent; the partition is locked and scanned.
        let mut action = Action::new(Lock::Light);
        if let Some((partition, _)) = t.name(a + 2).filter(|(p, _)| !created.contains(p)) {
            action = action
                .with(
                    Hazard::AccessExclusiveLock,
                    format!(
                        "ATTACH PARTITION holds an ACCESS EXCLUSIVE lock on {partition} while it \
                         scans it: every read and write of it waits until it finishes"
                    ),
                )
                .with(
                    Hazard::ValidationScan,
                    format!(
                        "ATTACH PARTITION scans all of {partition} to check its rows fit the \
                         partition bounds, unless a valid CHECK constraint on it implies them; \
                         add one (NOT VALID, then VALIDATE CONSTRAINT) in an earlier migration"
                    ),
                );
        }
        return action;
    }
    if t.is(a, "DETACH") && t.find(range.clone(), "CONCURRENTLY").is_some() {
        return Action::new(Lock::Light);
    }
    Action::new(Lock::Brief)
}

/// `ADD [COLUMN] name type [constraints…]`, from the name on.
fn add_column(t: &Tokens<'_>, range: Range<usize>, table: &str, catalog: &mut Catalog) -> Action {
    let Some((column, i)) = t.name(range.start) else {
        return Action::new(Lock::Brief);
    };
    let ty = parse_type(t, i);
    let mut action = Action::new(Lock::Brief);
    let rewrite = |action: Action, why: String| {
        action.work("rewrites it").with(
            Hazard::TableRewrite,
            format!("ADD COLUMN {column} {why}, so every row of {table} is written again"),
        )
    };
    let rewrite_lock = |mut action: Action| {
        action.lock = Lock::Long;
        action
    };
    let is_serial_type = ty.as_ref().is_some_and(|(ty, _)| is_serial(ty));
    if let Some((ty, _)) = &ty {
        catalog.set_column(table, &column, ty.clone());
        if is_serial(ty) {
            action = rewrite_lock(rewrite(
                action,
                format!("of type {} fills each row from a sequence", ty.base),
            ));
        }
    }
    let body = ty.map_or(i, |(_, next)| next)..range.end;
    if let Some(default) = t.find(body.clone(), "DEFAULT") {
        let end = [
            "NOT",
            "NULL",
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "CHECK",
            "REFERENCES",
            "GENERATED",
            "COLLATE",
        ]
        .iter()
        .filter_map(|k| t.find(default + 1..range.end, k))
        .min()
        .unwrap_or(range.end);
        if let Some((function, known)) = volatile_call(t, default + 1..end) {
            let why = if known {
                format!("has the volatile default {function}(), computed for each row")
            } else {
                format!(
                    "has a default calling {function}(), computed for each row unless the \
                     function is STABLE or IMMUTABLE"
                )
            };
            action = rewrite_lock(rewrite(action, why));
        }
    }
    if let Some(generated) = t.find(body.clone(), "GENERATED") {
        if t.find(generated..range.end, "IDENTITY").is_some() {
            action = rewrite_lock(rewrite(
                action,
                "is an identity column, filled from a sequence".to_owned(),
            ));
        } else if t.find(generated..range.end, "STORED").is_some() {
            action = rewrite_lock(rewrite(
                action,
                "is a stored generated column, computed for each row".to_owned(),
            ));
        }
    }
    if t.find(body.clone(), "REFERENCES").is_some() && t.find(body.clone(), "DEFAULT").is_some() {
        // Without a default the new column is all NULL and PostgreSQL checks nothing.
        action = action.with(
            Hazard::ValidationScan,
            format!(
                "ADD COLUMN {column} with a default and REFERENCES scans all of {table} to check \
                 every row against the referenced table; add the column, then the foreign key \
                 NOT VALID, then VALIDATE CONSTRAINT in a later migration"
            ),
        );
    }
    if t.find(body.clone(), "PRIMARY").is_some() || t.find(body.clone(), "UNIQUE").is_some() {
        action.lock = Lock::Long;
        action = action.work("builds an index").with(
            Hazard::BlockingIndexBuild,
            format!(
                "ADD COLUMN {column} with PRIMARY KEY or UNIQUE builds an index on {table} \
                 under an ACCESS EXCLUSIVE lock; add the column, build a unique index \
                 CONCURRENTLY, then ADD CONSTRAINT … USING INDEX"
            ),
        );
    }
    if let Some(check) = t.find(body.clone(), "CHECK") {
        let name = (check >= 2 && t.is(check - 2, "CONSTRAINT"))
            .then(|| t.name(check - 1).map(|(n, _)| n))
            .flatten();
        catalog.add_check(table, name.as_deref(), t, check + 1, true);
        if action.lock != Lock::Long {
            action.lock = Lock::Long;
            action = action.work("scans it");
        }
        action = action.with(
            Hazard::ValidationScan,
            format!(
                "ADD COLUMN {column} with a CHECK constraint scans all of {table} to check every \
                 row; add the constraint NOT VALID and VALIDATE it separately"
            ),
        );
    }
    if let Some(finding) = required_without_value(t, body, &column, table, is_serial_type) {
        action = action.with(Hazard::FailsOnExistingRows, finding);
    }
    action
}

/// The message when the new column `column`, whose constraints are `body`, must have a value
/// (`NOT NULL`, `PRIMARY KEY`) and gets none for the rows `table` has already: no default (or
/// `DEFAULT NULL`), no identity, not generated, not serial. PostgreSQL then refuses it on a
/// table with rows, while it passes on an empty one (a developer's database, a test's).
fn required_without_value(
    t: &Tokens<'_>,
    body: Range<usize>,
    column: &str,
    table: &str,
    serial: bool,
) -> Option<String> {
    let required = top_level_not_null(t, body.clone()) || t.find(body.clone(), "PRIMARY").is_some();
    let default = t
        .find(body.clone(), "DEFAULT")
        .is_some_and(|d| !t.is(d + 1, "NULL"));
    let filled = default || serial || t.find(body, "GENERATED").is_some();
    (required && !filled).then(|| {
        format!(
            "ADD COLUMN {column} must have a value but gets no default, so it fails if {table} \
             has any row (it passes on an empty table); add it with a DEFAULT, or add it \
             nullable, fill it, then SET NOT NULL"
        )
    })
}

/// Whether `NOT NULL` appears in `range` outside parentheses (not in a `CHECK (… IS NOT
/// NULL)`).
fn top_level_not_null(t: &Tokens<'_>, range: Range<usize>) -> bool {
    let mut from = range.start;
    while let Some(not) = t.find(from..range.end, "NOT") {
        if t.is(not + 1, "NULL") {
            return true;
        }
        from = not + 1;
    }
    false
}

/// `ADD [CONSTRAINT name] …`, from `CONSTRAINT` (or the constraint's kind) on.
fn add_constraint(
    t: &Tokens<'_>,
    range: Range<usize>,
    table: &str,
    catalog: &mut Catalog,
) -> Action {
    let (name, i) = if t.is(range.start, "CONSTRAINT") {
        t.name(range.start + 1)
            .map_or((None, range.start + 1), |(n, i)| (Some(n), i))
    } else {
        (None, range.start)
    };
    let not_valid = (range.start..range.end).any(|j| t.are(j, &["NOT", "VALID"]));
    let named = name.as_deref().map_or(String::new(), |n| format!(" {n}"));
    if t.is(i, "CHECK") {
        catalog.add_check(table, name.as_deref(), t, i + 1, !not_valid);
        if not_valid {
            return Action::new(Lock::Brief);
        }
        return Action::new(Lock::Long).work("scans it").with(
            Hazard::ValidationScan,
            format!(
                "ADD CONSTRAINT{named} CHECK scans all of {table} to check every row; add it \
                 NOT VALID, then VALIDATE CONSTRAINT in a later migration (that scan lets reads \
                 and writes go on)"
            ),
        );
    }
    if t.is(i, "FOREIGN") {
        if not_valid {
            return Action::new(Lock::Light);
        }
        let referenced = t
            .find(i..range.end, "REFERENCES")
            .and_then(|r| t.name(r + 1))
            .map_or_else(|| "the referenced table".to_owned(), |(n, _)| n);
        return Action::new(Lock::Light).with(
            Hazard::ValidationScan,
            format!(
                "ADD CONSTRAINT{named} FOREIGN KEY scans all of {table} to check every row while \
                 holding SHARE ROW EXCLUSIVE locks on {table} and {referenced}: writes to both \
                 wait until it finishes; add it NOT VALID, then VALIDATE CONSTRAINT in a later \
                 migration"
            ),
        );
    }
    if t.is_any(i, &["UNIQUE", "PRIMARY", "EXCLUDE"]) {
        if t.find(i..range.end, "USING")
            .is_some_and(|u| t.is(u + 1, "INDEX"))
        {
            return Action::new(Lock::Brief);
        }
        let kind = if t.is(i, "PRIMARY") {
            "PRIMARY KEY"
        } else {
            &t.0[i].text.to_ascii_uppercase()
        };
        return Action::new(Lock::Long).work("builds an index").with(
            Hazard::BlockingIndexBuild,
            format!(
                "ADD CONSTRAINT{named} {kind} builds an index on {table} under an ACCESS \
                 EXCLUSIVE lock; build a unique index CONCURRENTLY first, then ADD CONSTRAINT … \
                 {kind} USING INDEX"
            ),
        );
    }
    Action::new(Lock::Brief)
}

/// `ALTER [COLUMN] column …`, from after the column's name.
fn alter_column(
    t: &Tokens<'_>,
    range: Range<usize>,
    table: &str,
    column: &str,
    catalog: &mut Catalog,
) -> Action {
    let i = range.start;
    let type_at = if t.is(i, "TYPE") {
        Some(i + 1)
    } else if t.are(i, &["SET", "DATA", "TYPE"]) {
        Some(i + 3)
    } else {
        None
    };
    if let Some(at) = type_at {
        let Some((new, after)) = parse_type(t, at) else {
            return Action::new(Lock::Brief);
        };
        let old = catalog.column(table, column).cloned();
        catalog.set_column(table, column, new.clone());
        // `USING column`, or the column cast (`::` or `CAST`) to types in turn, converts
        // values as those casts do (PostgreSQL looks through binary-coercible ones); any other
        // expression converts every value.
        let using = match t.find(after..range.end, "USING") {
            None => Some(Vec::new()),
            Some(u) => plain_column_casts(t, u + 1, range.end, column),
        };
        let (old, converts) = match (old, using) {
            (old, None) => (old, true),
            (Some(old), Some(casts)) => match casts.iter().try_fold(old, |from, to| {
                (!change_rewrites(&from, to)).then(|| to.clone())
            }) {
                // Every cast keeps the values: what remains is the change to `new`.
                Some(last) => (Some(last), false),
                None => (None, true),
            },
            (None, Some(_)) => (None, false),
        };
        let why = match (&old, converts) {
            (_, true) => Some(format!("converts every value with USING to {new}")),
            (Some(old), false) if change_rewrites(old, &new) => {
                let zones = [old.base.as_str(), new.base.as_str()];
                let unless = if zones == ["timestamp", "timestamptz"]
                    || zones == ["timestamptz", "timestamp"]
                {
                    " (unless the session's TimeZone is UTC: PostgreSQL 12+ then keeps the rows)"
                } else {
                    ""
                };
                Some(format!(
                    "changes the type from {old} to {new}, which converts every value{unless}"
                ))
            }
            (Some(_), false) => None,
            (None, false) if may_relax(&new) => Some(format!(
                "changes the type to {new}, which converts every value unless it only relaxes \
                 the old type (e.g. varchar(n) to text, a longer varchar or numeric precision); \
                 spawn does not know the column's current type, allow this if it is such a \
                 change"
            )),
            (None, false) => Some(format!(
                "changes the type to {new}, which converts every value"
            )),
        };
        return match why {
            Some(why) => Action::new(Lock::Long).work("rewrites it").with(
                Hazard::TableRewrite,
                format!("ALTER COLUMN {column} {why}: {table} and its indexes are rewritten"),
            ),
            None => Action::new(Lock::Brief),
        };
    }
    if t.are(i, &["SET", "NOT", "NULL"]) {
        if catalog.has_not_null_check(table, column) {
            return Action::new(Lock::Brief);
        }
        return Action::new(Lock::Long).work("scans it").with(
            Hazard::ValidationScan,
            format!(
                "SET NOT NULL on {column} scans all of {table} to check every row; add CHECK \
                 ({column} IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT it in earlier \
                 migrations, then PostgreSQL (12+) skips the scan"
            ),
        );
    }
    if t.are(i, &["SET", "STATISTICS"])
        || (t.is(i, "SET") && t.is_punct(i + 1, "("))
        || t.is(i, "RESET")
    {
        return Action::new(Lock::Light);
    }
    Action::new(Lock::Brief)
}

/// The types `column` is cast to, in order, when the expression at `i..end` is the column
/// alone (`a`, `(a)`), cast with `::` or `CAST(… AS type)`; `None` for any other expression.
fn plain_column_casts(
    t: &Tokens<'_>,
    i: usize,
    end: usize,
    column: &str,
) -> Option<Vec<ColumnType>> {
    let (mut casts, mut i) = plain_column_operand(t, i, column)?;
    while i < end && t.is_punct(i, ":") && t.is_punct(i + 1, ":") {
        let (ty, next) = parse_type(t, i + 2)?;
        casts.push(ty);
        i = next;
    }
    (i == end).then_some(casts)
}

/// `column`, `( <plain column expression> )` or `CAST( <plain column expression> AS type )`
/// at `i`: its casts and the index after it.
fn plain_column_operand(
    t: &Tokens<'_>,
    i: usize,
    column: &str,
) -> Option<(Vec<ColumnType>, usize)> {
    if t.is_punct(i, "(") {
        let close = t.after_group(i);
        let casts = plain_column_casts(t, i + 1, close.checked_sub(1)?, column)?;
        return Some((casts, close));
    }
    if t.is(i, "CAST") && t.is_punct(i + 1, "(") {
        let close = t.after_group(i + 1);
        let as_at = t.find(i + 2..close, "AS")?;
        let mut casts = plain_column_casts(t, i + 2, as_at, column)?;
        let (ty, next) = parse_type(t, as_at + 1)?;
        if next + 1 != close {
            return None;
        }
        casts.push(ty);
        return Some((casts, close));
    }
    match t.name(i) {
        Some((name, next)) if name == column => Some((Vec::new(), next)),
        _ => None,
    }
}
