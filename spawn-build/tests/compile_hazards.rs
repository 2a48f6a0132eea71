//! `compile()` and hazards: migrations still being written (not pinned before the build)
//! report theirs, as cargo warnings and in [`Compiled::hazards`]; pinned ones never do;
//! `-- spawn:allow` accepts one; `Config::deny_hazards` makes chosen ones errors naming file
//! and line.

use std::path::PathBuf;

use spawn_build::{BuildError, Config, Hazard};

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let p = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        p.write("spawn.toml", "spawn_folder = \"db\"\n");
        p.write("db/components/ok.sql", "SELECT 1;\n");
        p
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn migration(&self, name: &str, sql: &str) -> PathBuf {
        self.write(&format!("db/migrations/{name}/up.sql"), sql)
    }

    /// An unlocked build; `auto_pin` as a debug build does, or not.
    fn config(&self, auto_pin: bool) -> Config {
        let mut config = Config::new();
        config
            .spawn_toml(self.dir.path().join("spawn.toml"))
            .out_dir(self.dir.path().join("out"))
            .cargo_output(false)
            .auto_pin(auto_pin)
            .locked(false);
        config
    }

    /// The warnings of a build without pinning.
    fn warnings(&self) -> Vec<String> {
        let compiled = self.config(false).compile().expect("compile");
        compiled
            .hazards
            .iter()
            .filter(|f| !f.finding.allowed)
            .map(|f| f.warning())
            .collect()
    }
}

const TABLES: &str = "CREATE TABLE account (id int PRIMARY KEY, name varchar(50));\n";

#[test]
fn unpinned_migrations_warn_with_file_line_and_how_to_accept() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    let up = p.migration(
        "20250102000000-index",
        "-- spawn:lock-timeout 5s\n\nCREATE INDEX account_name ON account (name);\n",
    );
    assert_eq!(
        p.warnings(),
        [format!(
            "{}:3: blocking-index-build: CREATE INDEX on account blocks writes to it (SHARE lock) \
             until the index is built; use CREATE INDEX CONCURRENTLY in a \
             `-- spawn:no-transaction` migration (accept with -- spawn:allow blocking-index-build)",
            up.display()
        )]
    );
}

#[test]
fn pinned_migrations_never_warn_but_what_they_did_is_known() {
    let p = Project::new();
    p.migration(
        "20250101000000-tables",
        &format!("{TABLES}CREATE INDEX ON account (name);\n"),
    );
    // A debug build pins it, and warns this once: it was still being written.
    let first = p.config(true).compile().expect("compile");
    assert_eq!(first.newly_pinned, ["20250101000000-tables"]);
    assert!(first.hazards.is_empty(), "a new table is never hazardous");
    p.migration("20250102000000-drop", "DROP TABLE account;\n");
    let second = p.config(true).compile().expect("compile");
    assert_eq!(second.newly_pinned, ["20250102000000-drop"]);
    let names: Vec<&str> = second
        .hazards
        .iter()
        .map(|f| f.finding.hazard.name())
        .collect();
    assert_eq!(names, ["access-exclusive-lock", "data-loss"]);
    assert!(second
        .hazards
        .iter()
        .all(|f| f.migration == "20250102000000-drop"));
    // Pinned now: no more warnings.
    assert!(p
        .config(true)
        .compile()
        .expect("compile")
        .hazards
        .is_empty());
    assert!(p.warnings().is_empty());

    // A migration after pinned ones knows their column types: varchar(50) → text rewrites
    // nothing.
    let q = Project::new();
    q.migration("20250101000000-tables", TABLES);
    q.config(true).compile().expect("pin");
    q.migration(
        "20250102000000-widen",
        "-- spawn:lock-timeout 5s\nALTER TABLE account ALTER name TYPE text;\n",
    );
    assert!(q.warnings().is_empty(), "{:?}", q.warnings());
}

#[test]
fn allow_accepts_one_hazard_of_one_statement() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    p.config(true).compile().expect("pin");
    let up = p.migration(
        "20250102000000-cleanup",
        "-- spawn:lock-timeout 5s\n\
         -- spawn:allow data-loss\n\
         ALTER TABLE account DROP COLUMN name;\n\
         DELETE FROM account;\n",
    );
    let compiled = p.config(false).compile().expect("compile");
    let found: Vec<(u32, &str, bool)> = compiled
        .hazards
        .iter()
        .map(|f| (f.finding.line, f.finding.hazard.name(), f.finding.allowed))
        .collect();
    assert_eq!(found, [(3, "data-loss", true), (4, "data-loss", false)]);
    assert_eq!(
        p.warnings(),
        [format!(
            "{}:4: data-loss: DELETE without WHERE deletes every row of account (accept with \
             -- spawn:allow data-loss)",
            up.display()
        )]
    );
}

#[test]
fn denied_hazards_fail_the_build_naming_file_and_line() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    p.config(true).compile().expect("pin");
    let up = p.migration(
        "20250102000000-ids",
        "-- spawn:lock-timeout 5s\nALTER TABLE account ALTER id TYPE bigint;\nUPDATE account SET name = 'x';\n",
    );
    let err = p
        .config(false)
        .deny_hazards([Hazard::TableRewrite, Hazard::DataLoss])
        .compile()
        .expect_err("a table rewrite is denied");
    assert!(matches!(err, BuildError::DeniedHazard(_)), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: table-rewrite: ALTER COLUMN id changes the type from int4 to int8, which \
             converts every value: account and its indexes are rewritten (denied by \
             Config::deny_hazards in build.rs; to accept this one, put \
             `-- spawn:allow table-rewrite` on the line before the statement)",
            up.display()
        )
    );
    // Allowed, it builds; the hazards not denied are still reported.
    p.migration(
        "20250102000000-ids",
        "-- spawn:lock-timeout 5s\n-- spawn:allow table-rewrite access-exclusive-lock\nALTER TABLE account ALTER id TYPE bigint;\nUPDATE account SET name = 'x';\n",
    );
    let compiled = p
        .config(false)
        .deny_hazards([Hazard::TableRewrite, Hazard::DataLoss])
        .compile()
        .expect("allowed");
    let open: Vec<&str> = compiled
        .hazards
        .iter()
        .filter(|f| !f.finding.allowed)
        .map(|f| f.finding.hazard.name())
        .collect();
    assert_eq!(open, ["long-running"]);
}

#[test]
fn denied_hazards_in_pinned_migrations_do_not_fail() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    p.migration("20250102000000-drop", "DROP TABLE account;\n");
    p.config(true).compile().expect("pin both");
    p.config(false)
        .deny_hazards([Hazard::DataLoss])
        .compile()
        .expect("pinned migrations are settled");
}

#[test]
fn unknown_hazard_in_allow_names_file_line_and_the_hazards() {
    let p = Project::new();
    let up = p.migration(
        "20250101000000-tables",
        "CREATE TABLE t (id int);\n-- spawn:allow rewrite\nDROP TABLE t;\n",
    );
    let err = p.config(false).compile().expect_err("unknown hazard");
    assert_eq!(
        err.to_string(),
        format!(
            "migration 20250101000000-tables ({}, environment prod): the rendered SQL has 1 \
             problem:\n  rendered line 2, column 1: unknown hazard `rewrite` in \
             `-- spawn:allow`; the hazards are access-exclusive-lock, table-rewrite, \
             validation-scan, blocking-index-build, data-loss, non-transactional, long-running, \
             fails-on-existing-rows\n  \
             (see the rendered SQL with `spawn migration build 20250101000000-tables -e prod`)",
            up.display()
        )
    );
}

#[test]
fn a_debug_build_does_not_pin_a_migration_with_a_denied_hazard() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    p.config(true).compile().expect("pin");
    let drop = p.migration("20250102000000-drop", "DROP TABLE account;\n");
    let lock = drop.with_file_name("lock.toml");
    for _ in 0..2 {
        let err = p
            .config(true)
            .deny_hazards([Hazard::DataLoss])
            .compile()
            .expect_err("denied, every time");
        assert!(matches!(err, BuildError::DeniedHazard(_)), "{err}");
        assert!(
            !lock.exists(),
            "left unpinned, so the next build checks it again"
        );
    }
    p.migration(
        "20250102000000-drop",
        "-- spawn:allow data-loss\nDROP TABLE account;\n",
    );
    let compiled = p
        .config(true)
        .deny_hazards([Hazard::DataLoss])
        .compile()
        .expect("allowed");
    assert_eq!(compiled.newly_pinned, ["20250102000000-drop"]);
    assert!(lock.exists());
}

#[test]
fn lines_are_lines_of_up_sql_even_below_an_include() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    p.config(true).compile().expect("pin");
    p.write(
        "db/components/functions/f.sql",
        "CREATE FUNCTION f() RETURNS int\nLANGUAGE sql\nAS $$ SELECT 1 $$;\n",
    );
    p.write("db/components/drop.sql", "DROP TABLE account;\n");
    let up = p.migration(
        "20250102000000-f",
        "{% include \"functions/f.sql\" %}\nTRUNCATE account;\n{% include \"drop.sql\" %}\n",
    );
    let compiled = p.config(false).compile().expect("compile");
    let shown: Vec<String> = compiled
        .hazards
        .iter()
        .filter(|f| f.finding.hazard == Hazard::DataLoss)
        .map(|f| f.to_string())
        .collect();
    assert_eq!(
        shown,
        [
            format!(
                "{}:2: data-loss: TRUNCATE deletes every row of account",
                up.display()
            ),
            format!(
                "{} (rendered line 5, from component drop.sql): data-loss: DROP TABLE deletes \
                 account and all its rows",
                up.display()
            ),
        ]
    );
}

#[test]
fn an_allow_that_accepts_nothing_is_a_warning() {
    let p = Project::new();
    p.migration("20250101000000-tables", TABLES);
    p.config(true).compile().expect("pin");
    let up = p.migration(
        "20250102000000-index",
        "-- spawn:lock-timeout 5s\n-- spawn:allow table-rewrite blocking-index-build\nCREATE INDEX ON account (name);\n",
    );
    let compiled = p.config(false).compile().expect("compile");
    assert!(compiled.hazards.iter().all(|f| f.finding.allowed));
    let unused: Vec<String> = compiled
        .unused_allows
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        unused,
        [format!(
            "{}:2: `-- spawn:allow table-rewrite` accepts nothing: its statement has no \
             table-rewrite hazard; remove it",
            up.display()
        )]
    );
}
