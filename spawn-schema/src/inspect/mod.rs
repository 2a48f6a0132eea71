//! Reading a database's schema from `pg_catalog` into a [`Schema`].
//!
//! One query per object kind (never one per object), all inside one read-only,
//! repeatable-read transaction with an empty `search_path`, so that the server's own
//! deparsers (`pg_get_viewdef`, `pg_get_functiondef`, `format_type`, …) print every name
//! schema-qualified and the two databases of a diff are rendered the same way. Objects that
//! belong to an extension are left out (the extension stands for them), and so are the system
//! schemas.
//!
//! The members of extensions and the comments are read first; then two more connections,
//! joined to the same snapshot (`pg_export_snapshot`), read constraints, indexes, views,
//! triggers, policies and statistics (the second) and `pg_depend` (the third) while the first
//! reads the rest, so that the server works on three processes at once. Without a third
//! connection (a connection limit, no free slot) the first reads `pg_depend` too; without a
//! second, everything is read on the first.
//!
//! Index definitions and the definitions of keys, foreign keys and CHECK constraints are not
//! deparsed by the server one by one: they are composed from their catalog rows and node
//! trees once both halves are read ([`indexdef`], [`constraintdef`], [`exprdef`]), the
//! server's deparser being asked only for what cannot be composed with certainty.
//!
//! The bigger queries (`pg_depend`, tables, columns, constraints, indexes, views) are read
//! through a binary COPY ([`copyout`]), which costs the client much less per row.

mod constraintdef;
mod copyout;
mod database_wide;
mod depend;
mod exprdef;
mod foreign;
mod foreign_columns;
mod foreign_wrappers;
mod indexdef;
mod indexes;
mod namespaces;
mod nodetree;
mod opclasses;
mod operators;
mod relations;
mod routines;
mod rules;
mod textsearch;
mod textsearch_parsers;
mod types;
mod user_mappings;

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::Connection;
use sqlx::{PgPool, Row};
use tracing::debug;

use crate::model::{Grant, Meta, Name, Object, ObjectId, ObjectKind, Schema};
use crate::{Options, SchemaError};

/// Reads the schema of the database behind `pool`.
///
/// Uses one connection of `pool`, plus, for the time of the inspection, one connection of its
/// own opened with the pool's connect options (see the module documentation); when that one
/// cannot be opened, everything is read on the pool's connection.
///
/// Behaves as `async fn inspect(pool: &PgPool, options: &Options) -> Result<Schema, SchemaError>`;
/// the future is boxed so that it is `Send` for every lifetime (it can be spawned).
pub fn inspect<'a>(
    pool: &'a PgPool,
    options: &'a Options,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Schema, SchemaError>> + Send + 'a>> {
    let (pool, options) = (pool.clone(), options.clone());
    Box::pin(async move { inspect_database(pool, options).await })
}

/// The connection an [`Inspector`] reads on, inside its read-only transaction.
enum Reader {
    /// A connection of the caller's pool, in a transaction sqlx rolls back if it is dropped.
    Pooled(sqlx::Transaction<'static, sqlx::Postgres>),
    /// A connection of our own, in a transaction begun by hand; closed when done (never
    /// handed to a pool, so its transaction cannot outlive it).
    Own(sqlx::PgConnection),
}

impl std::ops::Deref for Reader {
    type Target = sqlx::PgConnection;

    fn deref(&self) -> &Self::Target {
        match self {
            Reader::Pooled(tx) => tx,
            Reader::Own(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Reader::Pooled(tx) => &mut *tx,
            Reader::Own(conn) => conn,
        }
    }
}

impl Reader {
    /// Ends the transaction (nothing was written) and gives the connection back.
    async fn finish(self) -> Result<(), SchemaError> {
        let result = match self {
            Reader::Pooled(tx) => tx.rollback().await,
            Reader::Own(conn) => conn.close().await,
        };
        result.map_err(|source| SchemaError::Query {
            what: "transaction",
            source,
        })
    }
}

fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> SchemaError {
    move |source| SchemaError::Query { what, source }
}

/// Opens the read-only snapshot inspection runs in, on a connection of `pool`: the reader,
/// the server version and the current user.
fn begin(pool: &PgPool) -> BoxFuture<'_, Result<(Reader, i32, String), SchemaError>> {
    Box::pin(async move {
        let mut tx = pool.begin().await.map_err(query_error("transaction"))?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(query_error("session settings"))?;
        let mut reader = Reader::Pooled(tx);
        settings(&mut reader).await?;
        let (version, user): (i32, String) = sqlx::query_as(
            "SELECT current_setting('server_version_num')::int4, current_user::text",
        )
        .fetch_one(&mut *reader)
        .await
        .map_err(query_error("server version"))?;
        Ok((reader, version, user))
    })
}

/// The session settings every reader runs with: an empty `search_path` (so the server's
/// deparsers qualify every name), no JIT (compiling the bigger catalog queries costs more than
/// running them), enough memory for their sorts and hashes, `quote_all_identifiers` off
/// (definitions composed here quote names as the server does by default), and
/// `standard_conforming_strings` on (literals written into COPY statements rely on it).
fn settings(reader: &mut Reader) -> BoxFuture<'_, Result<(), SchemaError>> {
    Box::pin(async move {
        sqlx::query(
            "SELECT set_config('search_path', '', true), set_config('jit', 'off', true), \
         set_config('work_mem', '64MB', true), set_config('quote_all_identifiers', 'off', true), \
         set_config('standard_conforming_strings', 'on', true)",
        )
        .execute(&mut **reader)
        .await
        .map_err(query_error("session settings"))?;
        Ok(())
    })
}

/// Up to two more connections reading the same snapshot as `first`, so that the catalog
/// queries run on several server processes at once (see [`inspect_database`]). Fewer, or
/// none, when they cannot be had: no free connection slot, a role's connection limit, … Each
/// is opened once, without the retries of a pool, and both are opened at the same time.
///
/// Exporting the snapshot (which PostgreSQL 13 and later allow on primaries and standbys
/// alike) is the one step that could leave `first`'s transaction failed, so its failure is
/// an error, not a fallback.
fn more_readers<'a>(
    pool: &'a PgPool,
    first: &'a mut Inspector,
) -> BoxFuture<'a, Result<MoreReaders, SchemaError>> {
    Box::pin(async move {
        let snapshot = export_snapshot(&mut first.tx).await?;
        // `SET TRANSACTION SNAPSHOT` takes no parameters; the identifier is the server's own
        // (hex digits and dashes), checked before it is spliced in.
        if !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(SchemaError::Query {
                what: "snapshot",
                source: sqlx::Error::Protocol(format!(
                    "unexpected snapshot identifier {snapshot:?}"
                )),
            });
        }
        let (one, two) = tokio::join!(
            snapshot_reader(pool, &snapshot),
            snapshot_reader(pool, &snapshot)
        );
        let mut readers = [one, two].into_iter().flatten().map(|r| first.sibling(r));
        Ok((readers.next(), readers.next()))
    })
}

/// The second and third readers [`more_readers`] could open (a third only with a second).
type MoreReaders = (Option<Inspector>, Option<Inspector>);

/// A connection of its own in a transaction reading `snapshot`, or `None` (logged) when it
/// cannot be opened.
fn snapshot_reader<'a>(pool: &'a PgPool, snapshot: &'a str) -> BoxFuture<'a, Option<Reader>> {
    Box::pin(async move {
        let attempt = async {
            let mut conn = sqlx::PgConnection::connect_with(&pool.connect_options())
                .await
                .map_err(query_error("another connection"))?;
            let sql = [
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY".to_string(),
                format!("SET TRANSACTION SNAPSHOT '{snapshot}'"),
            ];
            if let Err(source) = execute(&mut conn, &sql).await {
                let _ = conn.close().await;
                return Err(SchemaError::Query {
                    what: "snapshot",
                    source,
                });
            }
            let mut reader = Reader::Own(conn);
            settings(&mut reader).await?;
            Ok(reader)
        };
        match attempt.await {
            Ok(reader) => Some(reader),
            Err(error) => {
                debug!(%error, "one connection fewer to inspect on");
                None
            }
        }
    })
}

fn export_snapshot(conn: &mut sqlx::PgConnection) -> BoxFuture<'_, Result<String, SchemaError>> {
    Box::pin(async move {
        let (snapshot,): (String,) = sqlx::query_as("SELECT pg_export_snapshot()")
            .fetch_one(conn)
            .await
            .map_err(query_error("snapshot"))?;
        Ok(snapshot)
    })
}

/// `sql` with the parameters every filtered catalog query takes (`$1` the schemas to read,
/// `$2` those to leave out, `$3` the extension members) written in as literals, for a COPY
/// (which takes no parameters). Names become string literals, which the session reads with
/// `standard_conforming_strings` on (see [`settings`]).
fn inline_parameters(
    sql: &str,
    schemas: &[String],
    excluded: &[String],
    members: &[i64],
) -> String {
    let texts = |items: &[String]| {
        let quoted: Vec<String> = items
            .iter()
            .map(|item| format!("'{}'", item.replace('\'', "''")))
            .collect();
        format!("(ARRAY[{}]::text[])", quoted.join(", "))
    };
    let numbers: Vec<String> = members.iter().map(i64::to_string).collect();
    let values = [
        texts(schemas),
        texts(excluded),
        format!("(ARRAY[{}]::int8[])", numbers.join(", ")),
    ];
    // One pass over the query's own text: a name that looks like `$2` stays a name.
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let token = &rest[at..at + 1 + digits];
        match token[1..]
            .parse::<usize>()
            .ok()
            .and_then(|n| values.get(n.wrapping_sub(1)))
        {
            Some(value) => out.push_str(value),
            None => out.push_str(token),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

/// Runs statements one after the other (no parameters, no rows).
fn execute<'a>(
    conn: &'a mut sqlx::PgConnection,
    statements: &'a [String],
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        for sql in statements {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// A boxed `Send` future: rustc cannot prove the futures of [`inspect`] `Send` for every
/// lifetime without this.
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

async fn inspect_database(pool: PgPool, options: Options) -> Result<Schema, SchemaError> {
    let started = std::time::Instant::now();
    let (tx, version, user) = begin(&pool).await?;
    if version < 130000 {
        return Err(SchemaError::UnsupportedVersion(version / 10000));
    }
    let mut ins = Inspector::new(tx, options, version, user);
    // First: which objects belong to extensions (left out of every other query), and the
    // comments (which every half attaches to its objects).
    ins.read_extension_members().await?;
    ins.read_comments().await?;
    match more_readers(&pool, &mut ins).await? {
        (Some(second), third) => {
            // Each reader on a task of its own, so that its rows are decoded on another
            // thread while this one decodes the first half's.
            let second_task = spawn_reader(second, |r| Box::pin(r.read_second_half()));
            let third_task = third.map(|t| spawn_reader(t, |r| Box::pin(r.read_dependencies())));
            // Without a third connection, `pg_depend` is this one's to read first.
            let first_half = async {
                if third_task.is_none() {
                    ins.read_dependencies().await?;
                }
                ins.read_first_half().await
            }
            .await;
            // Every connection is closed whatever happened.
            let second_half = ins.absorb(second_task).await;
            let dependencies = match third_task {
                Some(task) => ins.absorb(task).await,
                None => Ok(()),
            };
            first_half.and(second_half).and(dependencies)?;
        }
        (None, _) => {
            ins.read_dependencies().await?;
            ins.read_first_half().await?;
            ins.read_second_half().await?;
        }
    }
    ins.finish_indexes().await?;
    ins.finish_constraints().await?;
    ins.dependencies()?;
    let Inspector { tx, schema, .. } = ins;
    tx.finish().await?;
    debug!(
        objects = schema.objects.len(),
        dependencies = schema.dependencies.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "inspected"
    );
    Ok(schema)
}

impl Inspector {
    fn new(tx: Reader, options: Options, version: i32, current_user: String) -> Self {
        Inspector {
            tx,
            options,
            version,
            schema: Schema {
                current_user,
                server_version: version,
                ..Schema::default()
            },
            oids: HashMap::default(),
            names: Default::default(),
            comments: Default::default(),
            members: Vec::new(),
            member_of: HashMap::default(),
            raw_deps: Vec::new(),
            extra_deps: Vec::new(),
            inherited_from: Vec::new(),
            column_facts: FastMap::default(),
            index_support: indexdef::Support::default(),
            pending_indexes: Vec::new(),
            pending_constraints: Vec::new(),
        }
    }

    /// An inspector reading on `reader` what this one knows before the split: the options,
    /// the extension members and the comments (its objects are absorbed afterwards).
    fn sibling(&self, reader: Reader) -> Self {
        let mut sibling = Inspector::new(reader, self.options.clone(), self.version, String::new());
        sibling.members = self.members.clone();
        sibling.comments = self.comments.clone();
        sibling
    }

    /// Schemas, extensions, types, routines, sequences, tables and their columns (which need
    /// their tables), foreign tables' column options and checks; then foreign-data wrappers,
    /// foreign servers, user mappings, rules, operators, operator families and classes,
    /// text search objects, casts, publications, event triggers and default privileges.
    async fn read_first_half(&mut self) -> Result<(), SchemaError> {
        self.schemas().await?;
        self.extensions().await?;
        self.collations().await?;
        self.enums().await?;
        self.domains().await?;
        self.composites().await?;
        self.ranges().await?;
        self.functions().await?;
        self.sequences().await?;
        self.tables().await?;
        self.columns().await?;
        self.foreign_table_parts().await?;
        // The smaller kinds (read here: the second half takes longer).
        self.foreign_data_wrappers().await?;
        self.foreign_servers().await?;
        self.user_mappings().await?;
        self.rules().await?;
        self.operators().await?;
        self.operator_classes().await?;
        self.text_search_parsers().await?;
        self.text_search().await?;
        self.casts().await?;
        self.publications().await?;
        self.event_triggers().await?;
        self.default_privileges().await?;
        Ok(())
    }

    /// Constraints, indexes, views, triggers, policies and statistics: each only adds objects
    /// of its own, so it can be read on a second connection and absorbed afterwards. (Views
    /// read on the first connection, after the columns, made the whole slower: 0.687 vs
    /// 0.661 s at N = 2,000; so did views read on the third, after `pg_depend`: 331–398 vs
    /// 301–364 ms for one inspection.)
    async fn read_second_half(&mut self) -> Result<(), SchemaError> {
        self.constraints().await?;
        self.index_support().await?;
        self.indexes().await?;
        self.views().await?;
        self.triggers().await?;
        self.policies().await?;
        self.statistics().await?;
        Ok(())
    }

    /// Waits for a reader started by [`spawn_reader`], takes in what it read, and ends its
    /// transaction (whatever happened); the outcome of its reading.
    async fn absorb(&mut self, task: ReaderTask) -> Result<(), SchemaError> {
        let (mut other, outcome) = task.await.map_err(|e| SchemaError::Query {
            what: "another connection",
            source: sqlx::Error::Protocol(format!("a reader's task failed: {e}")),
        })?;
        // Inserted one by one: `append` would rebuild the whole tree, moving every object.
        self.schema
            .objects
            .extend(std::mem::take(&mut other.schema.objects));
        self.oids.extend(other.oids.drain());
        self.extra_deps.append(&mut other.extra_deps);
        self.inherited_from.append(&mut other.inherited_from);
        self.pending_indexes.append(&mut other.pending_indexes);
        self.pending_constraints
            .append(&mut other.pending_constraints);
        self.raw_deps.append(&mut other.raw_deps);
        if other.index_support.is_read() {
            self.index_support = std::mem::take(&mut other.index_support);
        }
        if let Err(error) = other.tx.finish().await {
            debug!(%error, "ending another reader's transaction");
        }
        outcome
    }
}

/// A reader's task: the reader back, and the outcome of what it read.
type ReaderTask = tokio::task::JoinHandle<(Inspector, Result<(), SchemaError>)>;

/// Starts `read` on `reader`, on a task of its own.
fn spawn_reader(
    mut reader: Inspector,
    read: impl for<'a> FnOnce(&'a mut Inspector) -> BoxFuture<'a, Result<(), SchemaError>>
        + Send
        + 'static,
) -> ReaderTask {
    tokio::spawn(async move {
        let outcome = read(&mut reader).await;
        (reader, outcome)
    })
}

/// `pg_class`'s OID (system catalogs have fixed OIDs, the same in every version).
pub(crate) const PG_CLASS: i64 = 1259;
/// `pg_type`'s OID.
pub(crate) const PG_TYPE: i64 = 1247;

/// A catalog kind an OID belongs to (the `classid` of `pg_depend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Catalog {
    Class,
    Type,
    Proc,
    Namespace,
    Constraint,
    AttrDef,
    Trigger,
    Extension,
    Collation,
    Policy,
    StatisticExt,
    Rewrite,
    Operator,
    OpFamily,
    OpClass,
    ForeignDataWrapper,
    ForeignServer,
    UserMapping,
    Cast,
    TsParser,
    TsTemplate,
    TsDict,
    TsConfig,
    Publication,
    EventTrigger,
}

impl Catalog {
    /// The catalog with this OID. System catalogs have fixed OIDs (`CATALOG(pg_class,1259,…)`
    /// in the server's headers), the same in every PostgreSQL version.
    fn from_oid(oid: i64) -> Option<Self> {
        Some(match oid {
            PG_CLASS => Catalog::Class,
            PG_TYPE => Catalog::Type,
            1255 => Catalog::Proc,
            2615 => Catalog::Namespace,
            2606 => Catalog::Constraint,
            2604 => Catalog::AttrDef,
            2620 => Catalog::Trigger,
            3079 => Catalog::Extension,
            3456 => Catalog::Collation,
            3256 => Catalog::Policy,
            3381 => Catalog::StatisticExt,
            2618 => Catalog::Rewrite,
            2617 => Catalog::Operator,
            2753 => Catalog::OpFamily,
            2616 => Catalog::OpClass,
            2328 => Catalog::ForeignDataWrapper,
            1417 => Catalog::ForeignServer,
            1418 => Catalog::UserMapping,
            3601 => Catalog::TsParser,
            3764 => Catalog::TsTemplate,
            2605 => Catalog::Cast,
            3600 => Catalog::TsDict,
            3602 => Catalog::TsConfig,
            6104 => Catalog::Publication,
            3466 => Catalog::EventTrigger,
            _ => return None,
        })
    }
}

/// A hash map with a fast, non-cryptographic hasher (keys are OIDs, not attacker-controlled).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// State of one inspection.
struct Inspector {
    tx: Reader,
    options: Options,
    version: i32,
    schema: Schema,
    /// (catalog, oid, sub-id) → identity, to translate `pg_depend`.
    oids: FastMap<(Catalog, i64, i32), ObjectId>,
    /// Comments by (catalog, OID, sub-id), read once (see [`Inspector::read_comments`]).
    comments: std::sync::Arc<FastMap<(Catalog, i64, i32), String>>,
    /// Every name read so far, shared by the identities that repeat it (see [`Inspector::name`]).
    names: std::collections::HashSet<Name, foldhash::fast::RandomState>,
    /// Members of extensions as `catalog OID << 32 | object OID`, sorted: bound as `$3` of
    /// every query, which leaves them out (see [`not_extension_member`]).
    members: Vec<i64>,
    /// (catalog OID, object OID) of extension members (and of their types' array types) →
    /// the extension's OID.
    member_of: FastMap<(i64, i64), i64>,
    /// `pg_depend` as read, translated once every object is known.
    raw_deps: Vec<depend::RawDep>,
    /// Dependencies known without `pg_depend` (a column on its table, …).
    extra_deps: Vec<crate::model::Dependency>,
    /// Partitions' copies of indexes and constraints, and the OID of the parent's original.
    inherited_from: Vec<(ObjectId, Catalog, i64)>,
    /// Table columns by (table OID, number), for the index definitions.
    column_facts: FastMap<(i64, i32), indexdef::ColumnFacts>,
    /// Operator classes and reserved words, for the index definitions.
    index_support: indexdef::Support,
    /// Indexes read, waiting for their definitions ([`Inspector::finish_indexes`]).
    pending_indexes: Vec<(ObjectId, crate::model::Index, indexdef::RawIndex)>,
    /// Keys read without a definition ([`Inspector::finish_constraints`]).
    pending_constraints: Vec<constraintdef::PendingConstraint>,
}

/// The filter on a namespace alias: no system schemas, and the schema options
/// (`$1` = only these, `$2` = not these).
pub(crate) fn ns_filter(alias: &str) -> String {
    format!(
        "{a}.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND {a}.nspname !~ '^pg_(toast|temp_|toast_temp_)' \
         AND (cardinality($1::text[]) = 0 OR {a}.nspname = ANY($1::text[])) \
         AND NOT ({a}.nspname = ANY($2::text[]))",
        a = alias
    )
}

/// The filter leaving out members of extensions (`$3`, read beforehand from `pg_depend`, so
/// that no query probes `pg_depend` once per row).
pub(crate) fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!("NOT (('{catalog}'::regclass::oid::int8 << 32 | {oid}::int8) = ANY($3::int8[]))")
}

impl Inspector {
    /// Runs one catalog query with the schema filters bound as `$1` and `$2`.
    ///
    /// The future is boxed as `Send` explicitly: without that, rustc cannot prove the
    /// futures of [`inspect`] `Send` for every lifetime, and they could not be spawned.
    fn fetch<'a>(
        &'a mut self,
        what: &'static str,
        sql: &'a str,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<PgRow>, SchemaError>> + Send + 'a>,
    > {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let rows = sqlx::query(sql)
                .bind(&self.options.schemas)
                .bind(&self.options.exclude_schemas)
                .bind(&self.members)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|source| SchemaError::Query { what, source })?;
            debug!(
                what,
                rows = rows.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "catalog query"
            );
            Ok(rows)
        })
    }

    /// Runs one of the biggest catalog queries like [`Inspector::fetch`], but through a binary
    /// COPY ([`copyout`]), decoding each row with `decode`.
    fn fetch_map<'a, T, F>(
        &'a mut self,
        what: &'static str,
        sql: &'a str,
        mut decode: F,
    ) -> BoxFuture<'a, Result<Vec<T>, SchemaError>>
    where
        T: Send + 'a,
        F: FnMut(&copyout::CopyCols<'_>) -> Result<T, SchemaError> + Send + 'a,
    {
        Box::pin(async move {
            let mut rows = self.fetch_copy(what, sql).await?;
            let mut values = Vec::new();
            while let Some(row) = rows.next_row()? {
                values.push(decode(&row)?);
            }
            Ok(values)
        })
    }

    /// Runs one of the bigger catalog queries like [`Inspector::fetch`], but through a binary
    /// COPY ([`copyout`]): its rows, to be read one after the other.
    fn fetch_copy<'a>(
        &'a mut self,
        what: &'static str,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<copyout::CopyRows, SchemaError>> {
        Box::pin(async move {
            use futures_util::TryStreamExt;
            let started = std::time::Instant::now();
            let copy = format!(
                "COPY ({}) TO STDOUT (FORMAT binary)",
                self.inline_parameters(sql)
            );
            let mut data = Vec::new();
            {
                let mut chunks = self
                    .tx
                    .copy_out_raw(&copy)
                    .await
                    .map_err(|source| SchemaError::Query { what, source })?;
                while let Some(chunk) = chunks
                    .try_next()
                    .await
                    .map_err(|source| SchemaError::Query { what, source })?
                {
                    data.extend_from_slice(&chunk);
                }
            }
            debug!(
                what,
                bytes = data.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "catalog query"
            );
            copyout::CopyRows::new(data, what)
        })
    }

    fn inline_parameters(&self, sql: &str) -> String {
        inline_parameters(
            sql,
            &self.options.schemas,
            &self.options.exclude_schemas,
            &self.members,
        )
    }

    /// Runs one catalog query that takes no parameters (not filtered by schema).
    fn fetch_unfiltered<'a>(
        &'a mut self,
        what: &'static str,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PgRow>, SchemaError>> {
        Box::pin(async move {
            let rows = sqlx::query(sql)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|source| SchemaError::Query { what, source })?;
            debug!(what, rows = rows.len(), "catalog query");
            Ok(rows)
        })
    }

    /// What the server's deparser `function` (`pg_get_indexdef`, `pg_get_constraintdef`)
    /// prints for each OID: the definitions that could not be composed here.
    fn server_definitions<'a>(
        &'a mut self,
        what: &'static str,
        function: &'static str,
        oids: &'a [i64],
    ) -> BoxFuture<'a, Result<FastMap<i64, String>, SchemaError>> {
        Box::pin(async move {
            let sql = format!("SELECT o, {function}(o::oid) FROM unnest($1::int8[]) o");
            let rows = sqlx::query(&sql)
                .bind(oids)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(query_error(what))?;
            let mut definitions = FastMap::default();
            for row in &rows {
                let c = Cols::new(row, what);
                definitions.insert(c.get::<i64>(0)?, c.get::<String>(1)?);
            }
            Ok(definitions)
        })
    }

    /// Two select-list expressions: the effective privileges and the default ones, as
    /// `grantee<US>privilege<US>grantable` strings (NULL when privileges are not inspected).
    fn acl_columns(&self, acl: &str, kind: char, owner: &str) -> String {
        if !self.options.with_privileges {
            return "NULL::text[], NULL::text[]".to_string();
        }
        let explode = |expr: String| {
            format!(
                "ARRAY(SELECT coalesce(pg_get_userbyid(nullif(a.grantee, 0)), '') || chr(31) || \
                 a.privilege_type || chr(31) || a.is_grantable::text FROM aclexplode({expr}) a ORDER BY 1)"
            )
        };
        format!(
            "{}, {}",
            explode(format!("coalesce({acl}, acldefault('{kind}', {owner}))")),
            explode(format!("acldefault('{kind}', {owner})"))
        )
    }

    /// The comment on an object (`sub`: a column's number, else 0).
    fn comment(&self, catalog: Catalog, oid: i64, sub: i32) -> Option<String> {
        self.comments.get(&(catalog, oid, sub)).cloned()
    }

    /// The meta of a row whose first column is the object's OID in `catalog` (see
    /// [`MetaRow::meta`]).
    fn meta(&self, c: &impl MetaRow, index: usize, catalog: Catalog) -> Result<Meta, SchemaError> {
        c.meta(index, self.comment(catalog, c.oid()?, 0))
    }

    /// Reads every comment on a user object (one query; a join per object kind would be
    /// planned badly on catalogs that were never analysed, as in a freshly created database).
    async fn read_comments(&mut self) -> Result<(), SchemaError> {
        let rows = self
            .fetch(
                "comments",
                "SELECT classoid::int8, objoid::int8, objsubid, description FROM pg_description \
                 WHERE (objoid >= 16384 OR classoid = 'pg_namespace'::regclass) AND cardinality($1::text[]) >= 0 \
                 AND cardinality($2::text[]) >= 0 AND cardinality($3::int8[]) >= 0",
            )
            .await?;
        let mut comments = FastMap::default();
        for row in &rows {
            let c = Cols::new(row, "comments");
            if let Some(catalog) = Catalog::from_oid(c.get(0)?) {
                comments.insert((catalog, c.get(1)?, c.get(2)?), c.get(3)?);
            }
        }
        self.comments = std::sync::Arc::new(comments);
        Ok(())
    }

    /// The shared copy of a name: schema, table and column names repeat across thousands of
    /// identities, which then hold one allocation each.
    fn name(&mut self, name: &str) -> Name {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        let shared = Name::from(name);
        self.names.insert(shared.clone());
        shared
    }

    /// An identity with shared names (`sub` empty for top-level objects).
    fn id(&mut self, kind: ObjectKind, schema: &str, name: &str, sub: &str) -> ObjectId {
        let (schema, name, sub) = (self.name(schema), self.name(name), self.name(sub));
        ObjectId::part(kind, schema, name, sub)
    }

    fn insert(&mut self, id: ObjectId, object: Object) {
        self.schema.objects.insert(id, object);
    }
}

/// Reads typed columns of a row, turning decoding errors into [`SchemaError`]s.
pub(crate) struct Cols<'r> {
    row: &'r PgRow,
    what: &'static str,
}

impl<'r> Cols<'r> {
    pub(crate) fn new(row: &'r PgRow, what: &'static str) -> Self {
        Self { row, what }
    }

    /// The value at `index`, decoded as `T`.
    ///
    /// Every catalog query casts its columns to the types read here, and the test builds
    /// (debug assertions on) check each value's type against `T`; release builds skip that
    /// check, which costs more than the decoding itself on the bigger catalogs.
    pub(crate) fn get<T>(&self, index: usize) -> Result<T, SchemaError>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        let value = if cfg!(debug_assertions) {
            self.row.try_get(index)
        } else {
            self.row.try_get_unchecked(index)
        };
        value.map_err(|source| SchemaError::Query {
            what: self.what,
            source,
        })
    }
}

/// A catalog row with an object's OID first and, somewhere, its owner, privileges and default
/// privileges side by side: read through sqlx ([`Cols`]) or a COPY ([`copyout::CopyCols`]).
pub(crate) trait MetaRow {
    /// The OID in the first column.
    fn oid(&self) -> Result<i64, SchemaError>;

    /// The owner, privileges and default privileges at `index`, `index + 1`, `index + 2`.
    fn owner_and_grants(&self, index: usize) -> Result<OwnerAndGrants, SchemaError>;

    /// Owner, acl and default acl at `index`, `index + 1`, `index + 2`, with `comment`.
    fn meta(&self, index: usize, comment: Option<String>) -> Result<Meta, SchemaError> {
        let (owner, acl, default_acl) = self.owner_and_grants(index)?;
        Ok(Meta {
            owner,
            comment,
            acl: acl.map(|a| parse_grants(&a)),
            default_acl: default_acl.map(|a| parse_grants(&a)).unwrap_or_default(),
        })
    }
}

/// What [`MetaRow::owner_and_grants`] reads.
pub(crate) type OwnerAndGrants = (Option<String>, Option<Vec<String>>, Option<Vec<String>>);

impl MetaRow for Cols<'_> {
    fn oid(&self) -> Result<i64, SchemaError> {
        self.get(0)
    }

    fn owner_and_grants(&self, index: usize) -> Result<OwnerAndGrants, SchemaError> {
        Ok((self.get(index)?, self.get(index + 1)?, self.get(index + 2)?))
    }
}

impl MetaRow for copyout::CopyCols<'_> {
    fn oid(&self) -> Result<i64, SchemaError> {
        self.get(0)
    }

    fn owner_and_grants(&self, index: usize) -> Result<OwnerAndGrants, SchemaError> {
        Ok((self.get(index)?, self.get(index + 1)?, self.get(index + 2)?))
    }
}

pub(crate) fn parse_grants(items: &[String]) -> Vec<Grant> {
    let mut grants: Vec<Grant> = items
        .iter()
        .filter_map(|item| {
            let mut parts = item.split('\u{1f}');
            let grantee = parts.next()?.to_string();
            let privilege = parts.next()?.to_string();
            let grantable = parts.next()? == "true";
            Some(Grant {
                grantee,
                privilege,
                grantable,
            })
        })
        .collect();
    grants.sort();
    grants.dedup();
    grants
}

/// Splits a `a<US>b<US>c` string.
pub(crate) fn split_us(value: &str) -> Vec<String> {
    value.split('\u{1f}').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_are_inlined_as_literals() {
        let sql = "WHERE n = ANY($1) AND NOT n = ANY($2) AND o <> ALL($3)";
        // A name that looks like a parameter is not replaced in turn.
        assert_eq!(
            super::inline_parameters("x = ANY($2)", &[], &["a$1".into()], &[]),
            "x = ANY((ARRAY['a$1']::text[]))"
        );
        assert_eq!(
            super::inline_parameters(sql, &["app".into(), "it's".into()], &[], &[5, 6]),
            "WHERE n = ANY((ARRAY['app', 'it''s']::text[])) AND NOT n = ANY((ARRAY[]::text[])) \
             AND o <> ALL((ARRAY[5, 6]::int8[]))"
        );
    }
}
