//! The public API beyond the round trip: safety refusals, exit codes, summaries, options and
//! deterministic output.

mod common;

use spawn_schema::{diff_urls, inspect, Action, DiffError, ObjectKind, Options, SchemaError, Side};
use spawn_tests::TestDb;

async fn db_with(label: &str, sql: &str) -> TestDb {
    let db = TestDb::new(label).await;
    if !sql.is_empty() {
        sqlx::raw_sql(sql)
            .execute(&db.pool)
            .await
            .expect("load the schema");
    }
    db
}

const FROM: &str = "create table keep(id int primary key, note text, amount int);
    create table gone(id int);
    create view v as select id, note from keep;";
const TO: &str = "create table keep(id int primary key, amount bigint, extra text);
    create view v as select id from keep;
    create function f() returns int language sql as 'select 1';";

#[tokio::test]
async fn unsafe_statements_are_refused_and_listed() {
    let from = db_with("api_unsafe_from", FROM).await;
    let to = db_with("api_unsafe_to", TO).await;
    let options = Options::default();
    let source = inspect(&from.pool, &options).await.expect("inspect");
    let target = inspect(&to.pool, &options).await.expect("inspect");
    let err = source
        .diff(&target, &options)
        .expect_err("drops must be refused");
    let DiffError::Unsafe { count, list } = err;
    assert_eq!(count, 2, "{list}");
    assert!(list.contains("DROP TABLE public.gone"), "{list}");
    assert!(list.contains("DROP COLUMN note"), "{list}");

    let allowed = Options::default().allow_unsafe(true);
    let plan = source.diff(&target, &allowed).expect("allowed");
    assert_eq!(plan.unsafe_statements().len(), 2);
    // int → bigint is a widening: not unsafe.
    assert!(plan
        .statements
        .iter()
        .any(|s| s.sql.contains("TYPE bigint") && s.unsafe_reason.is_none()));
    // The view is dropped before the column it uses, and created after.
    let pos = |needle: &str| {
        plan.statements
            .iter()
            .position(|s| s.sql.contains(needle))
            .unwrap_or(usize::MAX)
    };
    assert!(pos("DROP VIEW public.v") < pos("DROP COLUMN note"));
    assert!(pos("DROP COLUMN note") < pos("CREATE VIEW public.v"));
    assert!(plan
        .to_sql()
        .starts_with("SET check_function_bodies = false;\n\n"));
}

/// `diff_urls` reports in typed values what `spawn diff` turns into its exit codes (0 equal,
/// 2 different, 3 refused) and messages (spawn-cli's tests check those).
#[tokio::test]
async fn diff_urls_refuses_plans_and_names_the_side_it_cannot_reach() {
    let from = db_with("api_codes_from", FROM).await;
    let to = db_with("api_codes_to", TO).await;
    let same = db_with("api_codes_same", TO).await;
    let (f, t, s) = (
        common::libpq_url(&from.url),
        common::libpq_url(&to.url),
        common::libpq_url(&same.url),
    );

    let refused = diff_urls(&f, &t, &Options::default())
        .await
        .expect_err("drops must be refused");
    let SchemaError::Diff(DiffError::Unsafe { count, list }) = refused else {
        panic!("not a refusal: {refused}");
    };
    assert_eq!(count, 2, "{list}");
    assert!(list.contains("DROP TABLE public.gone"), "{list}");

    let allowed = diff_urls(&f, &t, &Options::default().allow_unsafe(true))
        .await
        .expect("diff");
    assert!(!allowed.is_empty());
    assert!(allowed.to_sql().contains("DROP TABLE public.gone;"));
    let summary = allowed.summary();
    assert!(
        summary
            .contains("- drop table public.gone  [unsafe: drops table public.gone and its rows]"),
        "{summary}"
    );
    assert!(
        summary.contains("+ create function public.f()"),
        "{summary}"
    );
    assert!(
        summary.contains("~ alter column public.keep.amount"),
        "{summary}"
    );

    let none = diff_urls(&t, &s, &Options::default()).await.expect("diff");
    assert!(none.is_empty());
    assert_eq!(none.to_sql(), "");

    for (from, to, side) in [
        (
            "postgres://nobody:secret@127.0.0.1:1/x",
            t.as_str(),
            Side::Source,
        ),
        (
            t.as_str(),
            "postgres://nobody:secret@127.0.0.1:1/x",
            Side::Target,
        ),
    ] {
        let err = diff_urls(from, to, &Options::default())
            .await
            .expect_err("no server");
        let message = err.to_string();
        assert!(
            matches!(&err, SchemaError::Connect { side: s, url, .. } if *s == side && url == "postgres://nobody:***@127.0.0.1:1/x"),
            "{err:?}"
        );
        assert!(
            message.contains(&format!("the {side} database")) && !message.contains("secret"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn output_is_deterministic_across_databases() {
    // The same schemas loaded into different databases (different OIDs) give the same bytes.
    let everything = common::own_fixtures().join("comments");
    let a = std::fs::read_to_string(everything.join("a.sql")).expect("a.sql");
    let b = std::fs::read_to_string(everything.join("b.sql")).expect("b.sql");
    let options = common::oracle_options();
    let mut outputs = Vec::new();
    for round in 0..2 {
        // The second round loads in a different order, so OIDs differ.
        let (from, to) = if round == 0 {
            let from = db_with("api_det_from", &a).await;
            let to = db_with("api_det_to", &b).await;
            (from, to)
        } else {
            let to = db_with("api_det_to2", &b).await;
            let from = db_with("api_det_from2", &a).await;
            (from, to)
        };
        let source = inspect(&from.pool, &options).await.expect("inspect");
        let target = inspect(&to.pool, &options).await.expect("inspect");
        let plan = source.diff(&target, &options).expect("diff");
        outputs.push((plan.to_sql(), plan.summary()));
    }
    assert!(!outputs[0].0.is_empty());
    assert_eq!(outputs[0], outputs[1]);
}

#[tokio::test]
async fn schema_filters_and_extension_options() {
    let from = db_with(
        "api_opts_from",
        "create schema a; create schema b; create table a.t(id int); create table b.t(id int);
         create extension pg_trgm version '1.3';",
    )
    .await;
    let to = db_with(
        "api_opts_to",
        "create schema a; create schema b; create table a.t(id int, x int); create table b.t(id int, y int);
         create extension pg_trgm version '1.4'; create extension citext;",
    )
    .await;
    let run = |options: Options| {
        let (from, to) = (&from, &to);
        async move {
            let source = inspect(&from.pool, &options).await.expect("inspect");
            let target = inspect(&to.pool, &options).await.expect("inspect");
            source.plan(&target, &options)
        }
    };
    let only_a = run(Options::default().schemas(["a"])).await.to_sql();
    assert!(
        only_a.contains("ALTER TABLE a.t ADD COLUMN x integer"),
        "{only_a}"
    );
    assert!(!only_a.contains("b.t"), "{only_a}");

    let not_a = run(Options::default().exclude_schemas(["a"]))
        .await
        .to_sql();
    assert!(
        not_a.contains("ALTER TABLE b.t ADD COLUMN y integer") && !not_a.contains("a.t"),
        "{not_a}"
    );

    let all = run(Options::default()).await.to_sql();
    assert!(
        all.contains("ALTER EXTENSION pg_trgm UPDATE TO '1.4'"),
        "{all}"
    );
    assert!(
        all.contains("CREATE EXTENSION citext WITH SCHEMA public VERSION"),
        "{all}"
    );

    let ignoring = run(Options::default().ignore_extension_versions(true))
        .await
        .to_sql();
    assert!(!ignoring.contains("UPDATE TO"), "{ignoring}");
    assert!(
        ignoring.contains("CREATE EXTENSION citext WITH SCHEMA public;"),
        "{ignoring}"
    );

    let extensions_only = run(Options::default().create_extensions_only(true)).await;
    assert!(extensions_only.statements.iter().all(|s| s
        .object
        .as_ref()
        .is_some_and(|o| o.kind == ObjectKind::Extension)
        && s.action == Action::Create));
    assert!(
        extensions_only
            .to_sql()
            .starts_with("CREATE EXTENSION citext"),
        "{}",
        extensions_only.to_sql()
    );
}

#[tokio::test]
async fn renamed_columns_keep_their_data() {
    let from = db_with(
        "api_rename_from",
        "create table t(a int, b text); insert into t values (1, 'kept');",
    )
    .await;
    let to = db_with("api_rename_to", "create table t(a int, c text);").await;
    let options = Options::default();
    let source = inspect(&from.pool, &options).await.expect("inspect");
    let target = inspect(&to.pool, &options).await.expect("inspect");
    let plan = source.diff(&target, &options).expect("a rename is safe");
    assert_eq!(
        plan.to_sql(),
        "ALTER TABLE public.t RENAME COLUMN b TO c;\n"
    );
    let no_renames = Options::default().detect_renames(false).allow_unsafe(true);
    let plan = source.diff(&target, &no_renames).expect("diff");
    assert!(plan.to_sql().contains("DROP COLUMN b"));
}

/// Inspection reads the catalogs on three connections sharing the first one's snapshot (the
/// first, a second for the heavier half, a third for `pg_depend`); where fewer can be had
/// (here: roles limited to one and to two), it reads on those, with the same result.
#[tokio::test]
async fn inspection_on_fewer_connections_equals_inspection_on_three() {
    let db = db_with(
        "api_one_connection",
        "create type mood as enum ('ok', 'meh');
         create table parent(id int primary key, m mood default 'ok', note text check (note <> ''));
         create table child(id int primary key, parent_id int references parent(id), note text);
         create index child_note on child (lower(note)) where note is not null;
         create view v as select p.id, c.note from parent p join child c on c.parent_id = p.id;
         create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
         create trigger child_touch before update on child for each row execute function touch();
         comment on index child_note is 'partial';",
    )
    .await;
    // The roles first: their privileges are part of what is inspected.
    let roles = roles_with_limits(
        &db,
        "few_conn",
        &[1, 2],
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    )
    .await;
    let options = Options::default().with_privileges(true);
    let three = inspect(&db.pool, &options)
        .await
        .expect("inspect on three connections");
    assert!(three.objects.len() > 10, "{:?}", three.objects.keys());
    for (limit, role) in &roles {
        let limited = pool_as(&db, role).await;
        let fewer = inspect(&limited, &options).await;
        limited.close().await;
        let fewer = fewer.unwrap_or_else(|e| panic!("inspect on {limit} connection(s): {e}"));
        assert_eq!(fewer.objects, three.objects, "{limit} connection(s)");
        assert_eq!(
            fewer.dependencies, three.dependencies,
            "{limit} connection(s)"
        );
        assert!(
            fewer.plan(&three, &options).is_empty(),
            "{limit} connection(s)"
        );
    }
    drop_roles(&db, &roles).await;
}

/// Creates a login role for each of `limits` (its connection limit; -1: none) in `db`'s
/// server, each also given `grant` (with `{role}` for its name).
async fn roles_with_limits(
    db: &TestDb,
    prefix: &str,
    limits: &[i32],
    grant: &str,
) -> Vec<(i32, String)> {
    let mut roles = Vec::new();
    for &limit in limits {
        let role = spawn_tests::unique_name(prefix);
        let grant = grant.replace("{role}", &role);
        sqlx::raw_sql(&format!(
            "CREATE ROLE {role} LOGIN CONNECTION LIMIT {limit}; {grant}"
        ))
        .execute(&db.pool)
        .await
        .expect("create the limited role");
        roles.push((limit, role));
    }
    roles
}

/// A pool of one connection to `db` as `role`.
async fn pool_as(db: &TestDb, role: &str) -> sqlx::PgPool {
    spawn_tests::connect::pool(spawn_tests::server().options(&db.name).username(role), 1).await
}

/// Drops the roles of [`roles_with_limits`], and what they own or were granted in `db`.
async fn drop_roles(db: &TestDb, roles: &[(i32, String)]) {
    for (_, role) in roles {
        sqlx::raw_sql(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
            .execute(&db.pool)
            .await
            .expect("drop the role");
    }
}

/// A catalog the role cannot read fails the inspection with the server's reason, whichever
/// reader meets it: on three connections the third fails reading dependencies while the
/// first fails reading rules; on fewer, the first meets it reading dependencies.
#[tokio::test]
async fn a_catalog_the_role_cannot_read_fails_the_inspection_on_any_number_of_connections() {
    let db = db_with(
        "api_unreadable_catalog",
        "create table t(id int primary key); create view v as select id from t;",
    )
    .await;
    let roles = roles_with_limits(&db, "no_rules", &[1, 2, -1], "").await;
    sqlx::raw_sql("REVOKE SELECT ON pg_catalog.pg_rewrite FROM PUBLIC")
        .execute(&db.pool)
        .await
        .expect("revoke");
    let options = Options::default();
    for (limit, role) in &roles {
        let pool = pool_as(&db, role).await;
        let result = inspect(&pool, &options).await;
        pool.close().await;
        let error = result
            .map(|_| ())
            .expect_err("pg_rewrite cannot be read")
            .to_string();
        assert!(
            error.contains("permission denied") && error.contains("pg_rewrite"),
            "limit {limit}: {error}"
        );
        // Which reader met it first: the first connection's rules, or its dependencies
        // when it reads them itself.
        let first_query = if *limit == -1 {
            "inspecting rules:"
        } else {
            "inspecting rules and operator class members:"
        };
        assert!(error.starts_with(first_query), "limit {limit}: {error}");
    }
    sqlx::raw_sql("GRANT SELECT ON pg_catalog.pg_rewrite TO PUBLIC")
        .execute(&db.pool)
        .await
        .expect("grant");
    drop_roles(&db, &roles).await;
}

/// Columns are compared by their place among live columns: a column dropped in the middle of
/// one table leaves no difference with a table created without it, and comments on columns
/// follow their column.
#[tokio::test]
async fn dropped_columns_leave_no_gap() {
    let from = db_with(
        "api_dropped_from",
        "create table t(a int, b int, c text default 'x');
         alter table t drop column b;
         comment on column t.c is 'kept';",
    )
    .await;
    let to = db_with(
        "api_dropped_to",
        "create table t(a int, c text default 'x'); comment on column t.c is 'kept';",
    )
    .await;
    let options = Options::default();
    let source = inspect(&from.pool, &options).await.expect("inspect");
    let target = inspect(&to.pool, &options).await.expect("inspect");
    let plan = source.diff(&target, &options).expect("diff");
    assert!(plan.is_empty(), "{}", plan.to_sql());
    let column = source
        .columns_of(&spawn_schema::ObjectId::new(
            ObjectKind::Table,
            "public",
            "t",
        ))
        .map(|(id, c)| (id.sub.to_string(), c.position, c.meta.comment.clone()))
        .collect::<Vec<_>>();
    assert_eq!(
        column,
        vec![
            ("a".into(), 1, None),
            ("c".into(), 2, Some("kept".to_string()))
        ]
    );
}

#[tokio::test]
async fn a_dropped_tables_constraints_go_with_it() {
    // `gone`'s CHECK depends on its column twice (automatically, and through its
    // expression): it is still dropped by DROP TABLE, not before it. `other`'s key to
    // `gone` stays behind with its table, so it is dropped on its own, first.
    let from = db_with(
        "api_gone_constraints_from",
        "create table gone(id int primary key, amount numeric check (amount >= 0),
                           code text unique, constraint positive check (id > 0));
         create table other(id int, gone_id int references gone(id));",
    )
    .await;
    let to = db_with(
        "api_gone_constraints_to",
        "create table other(id int, gone_id int);",
    )
    .await;
    let options = Options::default().allow_unsafe(true);
    let source = inspect(&from.pool, &options).await.expect("inspect");
    let target = inspect(&to.pool, &options).await.expect("inspect");
    let sql = source.diff(&target, &options).expect("diff").to_sql();
    let drops: Vec<&str> = sql
        .lines()
        .filter(|l| l.starts_with("ALTER TABLE") || l.starts_with("DROP"))
        .collect();
    assert_eq!(
        drops,
        vec![
            "ALTER TABLE public.other DROP CONSTRAINT other_gone_id_fkey;",
            "DROP TABLE public.gone;",
        ],
        "{sql}"
    );
    sqlx::raw_sql(&sql)
        .execute(&from.pool)
        .await
        .expect("apply the plan");
    let after = inspect(&from.pool, &options).await.expect("inspect");
    let rest = after.diff(&target, &options).expect("diff");
    assert!(rest.is_empty(), "{}", rest.to_sql());
}

/// A foreign key to a table of a schema left out of the inspection cannot be composed (the
/// referenced column names were not read): the server's definition stands, byte for byte.
#[tokio::test]
async fn keys_referencing_a_left_out_schema_keep_the_servers_definition() {
    let db = db_with(
        "api_fk_left_out",
        "create schema other;
         create table other.parent (a int, \"B\" text, primary key (a, \"B\"));
         create table child (a int, b text, foreign key (a, b) references other.parent (a, \"B\") on delete cascade);
         create index child_a on child (a);",
    )
    .await;
    let options = Options::default().exclude_schemas(["other"]);
    let schema = inspect(&db.pool, &options).await.expect("inspect");
    let definitions: Vec<&str> = schema
        .objects
        .values()
        .filter_map(|o| match o {
            spawn_schema::Object::Constraint(c) => Some(c.definition.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        definitions,
        vec!["FOREIGN KEY (a, b) REFERENCES other.parent(a, \"B\") ON DELETE CASCADE"]
    );
    common::check_composed_definitions(&db, &schema)
        .await
        .expect("the definitions are the server's");
}

/// The schema filters are written into the catalog queries as literals (COPY takes no
/// parameters): a name with a quote, or one that looks like a parameter, is still just a name.
#[tokio::test]
async fn schema_filters_take_any_name() {
    let schema = r#"create schema "it's $1"; create schema "$1";"#;
    let from = db_with(
        "api_odd_filters_from",
        &format!(r#"{schema} create table "it's $1".t(id int); create table "$1".t(id int);"#),
    )
    .await;
    let to = db_with(
        "api_odd_filters_to",
        &format!(
            r#"{schema} create table "it's $1".t(id int, x int); create table "$1".t(id int, y int);"#
        ),
    )
    .await;
    let options = Options::default()
        .schemas(["it's $1"])
        .exclude_schemas(["$1"]);
    let source = inspect(&from.pool, &options).await.expect("inspect");
    let target = inspect(&to.pool, &options).await.expect("inspect");
    let sql = source.plan(&target, &options).to_sql();
    assert!(
        sql.contains(r#"ALTER TABLE "it's $1".t ADD COLUMN x integer"#),
        "{sql}"
    );
    assert!(!sql.contains(r#""$1".t"#), "{sql}");
}

/// `pg_user_mappings` shows a mapping's options only to a superuser, the mapped role and
/// (for `PUBLIC`) the server's owner: a role that cannot read them sees the mappings
/// without options, and the plan leaves options it cannot read alone.
#[tokio::test]
async fn user_mapping_options_hidden_from_a_role_are_left_alone() {
    let role = spawn_tests::unique_name("mapping_reader");
    let schema = |user: &str| {
        format!(
            "create foreign data wrapper w;
             create server s foreign data wrapper w;
             create user mapping for public server s options (user '{user}');"
        )
    };
    let from = db_with("api_mapping_from", &schema("a")).await;
    let to = db_with("api_mapping_to", &schema("b")).await;
    sqlx::raw_sql(&format!("CREATE ROLE {role} LOGIN"))
        .execute(&from.pool)
        .await
        .expect("create the role");
    let connect = |db: &TestDb| {
        spawn_tests::connect::pool(spawn_tests::server().options(&db.name).username(&role), 2)
    };
    let (from_limited, to_limited) = (connect(&from).await, connect(&to).await);
    let options = Options::default();
    let source = inspect(&from_limited, &options)
        .await
        .expect("inspect from");
    let target = inspect(&to_limited, &options).await.expect("inspect to");
    from_limited.close().await;
    to_limited.close().await;
    let as_superuser = inspect(&from.pool, &options).await.expect("inspect");
    let superuser_target = inspect(&to.pool, &options).await.expect("inspect");
    sqlx::raw_sql(&format!("DROP ROLE {role}"))
        .execute(&from.pool)
        .await
        .expect("drop the role");

    let mapping = |schema: &spawn_schema::Schema| {
        schema
            .objects_of(ObjectKind::UserMapping)
            .map(|(id, object)| (id.to_string(), object.clone()))
            .collect::<Vec<_>>()
    };
    let hidden = mapping(&source);
    assert_eq!(hidden.len(), 1, "{hidden:?}");
    assert_eq!(hidden[0].0, "for public on server s");
    assert!(
        matches!(&hidden[0].1, spawn_schema::model::Object::UserMapping(m) if m.options.is_none()),
        "{hidden:?}"
    );
    assert!(source.plan(&target, &options).is_empty());
    let plan = as_superuser.plan(&superuser_target, &options);
    assert_eq!(
        plan.to_sql(),
        "ALTER USER MAPPING FOR PUBLIC SERVER s OPTIONS (SET \"user\" 'b');\n"
    );
}

/// A user mapping's `password` option is a secret: never in a plan, never changed by one
/// (the other options still are).
#[tokio::test]
async fn user_mapping_passwords_are_never_in_a_plan() {
    let schema = |user: &str, password: &str| {
        format!(
            "create foreign data wrapper w;
             create server s foreign data wrapper w;
             create user mapping for public server s options (user '{user}', password '{password}');"
        )
    };
    let from = db_with("api_mapping_password_from", &schema("a", "old-secret")).await;
    let to = db_with("api_mapping_password_to", &schema("b", "new-secret")).await;
    let empty = db_with("api_mapping_password_empty", "").await;
    let options = Options::default();
    let source = inspect(&from.pool, &options).await.expect("inspect from");
    let target = inspect(&to.pool, &options).await.expect("inspect to");
    let nothing = inspect(&empty.pool, &options).await.expect("inspect empty");
    let change = source.plan(&target, &options).to_sql();
    assert_eq!(
        change,
        "ALTER USER MAPPING FOR PUBLIC SERVER s OPTIONS (SET \"user\" 'b');\n"
    );
    let create = nothing.plan(&target, &options).to_sql();
    assert!(create.contains("CREATE USER MAPPING"), "{create}");
    for sql in [&change, &create] {
        assert!(!sql.contains("secret"), "a password in the plan: {sql}");
    }
}

/// A foreign server is created after its wrapper and a user mapping after its server, and
/// dropped in the reverse order; a text search dictionary after its template and a
/// configuration after its parser. (Creations would come in that order by kind alone; the
/// drops, whose ties are broken by kind the same way, need the dependencies.)
#[tokio::test]
async fn foreign_and_text_search_objects_follow_their_dependencies() {
    let from = db_with("api_foreign_order_from", "").await;
    let to = db_with(
        "api_foreign_order_to",
        "create foreign data wrapper a_wrapper;
         create server a_server foreign data wrapper a_wrapper;
         create user mapping for public server a_server;
         create text search template z_template (lexize = dsimple_lexize);
         create text search dictionary a_dictionary (template = z_template);
         create text search parser z_parser (start = prsd_start, gettoken = prsd_nexttoken,
           end = prsd_end, lextypes = prsd_lextype);
         create text search configuration a_configuration (parser = z_parser);",
    )
    .await;
    let options = Options::default().allow_unsafe(true);
    let empty = inspect(&from.pool, &options).await.expect("inspect");
    let full = inspect(&to.pool, &options).await.expect("inspect");
    for (plan, create) in [
        (empty.plan(&full, &options), true),
        (full.plan(&empty, &options), false),
    ] {
        let sql = plan.to_sql();
        let pos = |needle: &str| {
            sql.find(needle)
                .unwrap_or_else(|| panic!("{needle} not in\n{sql}"))
        };
        let pairs = [
            ("FOREIGN DATA WRAPPER a_wrapper", "SERVER a_server"),
            ("SERVER a_server", "USER MAPPING FOR PUBLIC"),
            (
                "TEXT SEARCH TEMPLATE public.z_template",
                "TEXT SEARCH DICTIONARY public.a_dictionary",
            ),
            (
                "TEXT SEARCH PARSER public.z_parser",
                "TEXT SEARCH CONFIGURATION public.a_configuration",
            ),
        ];
        for (first, then) in pairs {
            let (first, then) = if create {
                (format!("CREATE {first}"), format!("CREATE {then}"))
            } else {
                (format!("DROP {then}"), format!("DROP {first}"))
            };
            assert!(pos(&first) < pos(&then), "{first} before {then}:\n{sql}");
        }
    }
}
