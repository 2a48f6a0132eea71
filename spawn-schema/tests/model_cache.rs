//! The model cache ([`Schema::encode`] / [`Schema::decode`]) on inspected databases: every
//! schema of the round-trip fixtures (this crate's own and the shared ones) comes back equal,
//! plans as the inspected model does and shares its identities and names as an inspected model
//! does; bytes of another model version, truncated or extended bytes are refused.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use spawn_schema::model::IdParts;
use spawn_schema::{inspect, DecodeError, ObjectId, Schema};
use spawn_tests::TestDb;

/// The schema files of a fixture folder's cases (`a.sql`, `b.sql`), as the round-trip tests
/// find them.
fn schema_files(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("read the fixtures")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|dir| dir.join("a.sql").is_file())
        .collect();
    cases.sort();
    cases
        .into_iter()
        .flat_map(|dir| ["a.sql", "b.sql"].map(|f| (dir.clone(), dir.join(f))))
        .filter(|(_, file)| file.is_file())
        .collect()
}

/// Inspects an empty database with the oracle's options.
async fn empty_model() -> Schema {
    let db = TestDb::new("cache_empty").await;
    let schema = inspect(&db.pool, &common::oracle_options())
        .await
        .expect("inspect the empty database");
    common::drop_db(db).await;
    schema
}

/// The first difference of two models, for failure messages.
fn first_difference(a: &Schema, b: &Schema) -> String {
    if a.current_user != b.current_user || a.server_version != b.server_version {
        return format!(
            "current_user/server_version {:?}/{} vs {:?}/{}",
            a.current_user, a.server_version, b.current_user, b.server_version
        );
    }
    for (id, object) in &a.objects {
        match b.objects.get(id) {
            Some(other) if other == object => {}
            other => return format!("{id}: {object:?} vs {other:?}"),
        }
    }
    if let Some(id) = b.objects.keys().find(|id| !a.objects.contains_key(*id)) {
        return format!("{id} only in the second");
    }
    match a
        .dependencies
        .iter()
        .zip(&b.dependencies)
        .find(|(x, y)| x != y)
    {
        Some((x, y)) => format!("dependency {x:?} vs {y:?}"),
        None => format!(
            "{} vs {} dependencies",
            a.dependencies.len(),
            b.dependencies.len()
        ),
    }
}

/// Whether two identities are the very same one (one allocation), as the planner's fast
/// paths compare them.
fn same(a: &ObjectId, b: &ObjectId) -> bool {
    std::ptr::eq::<IdParts>(&**a, &**b)
}

/// Requires the sharing of an inspected model: the ends of dependencies are the identities of
/// the objects' keys, and equal names are one allocation.
fn check_sharing(schema: &Schema) -> Result<(), String> {
    for dep in &schema.dependencies {
        for end in [&dep.from, &dep.to] {
            if let Some((key, _)) = schema.objects.get_key_value(end) {
                if !same(key, end) {
                    return Err(format!("dependency end {end} is a copy of the key"));
                }
            }
        }
    }
    let mut names: HashMap<&str, *const u8> = HashMap::new();
    let ids = schema
        .objects
        .keys()
        .chain(schema.dependencies.iter().flat_map(|d| [&d.from, &d.to]));
    for id in ids {
        for name in [&id.schema, &id.name, &id.sub] {
            let at = *names.entry(name).or_insert(name.as_ptr());
            if at != name.as_ptr() {
                return Err(format!("the name {name:?} of {id} is a copy"));
            }
        }
    }
    Ok(())
}

/// One schema file: load, inspect, encode, decode, compare.
async fn check_file(dir: &Path, file: &Path, empty: &Schema) -> Result<(), String> {
    common::run_setup(dir);
    let options = common::oracle_options();
    let db = TestDb::new("cache_fixture").await;
    common::load(&db, Some(file));
    let inspected = inspect(&db.pool, &options).await;
    common::drop_db(db).await;
    let original = inspected.map_err(|e| format!("inspect: {e}"))?;
    let bytes = original.encode();
    let decoded = Schema::decode(&bytes).map_err(|e| format!("decode: {e}"))?;
    if decoded != original {
        return Err(format!(
            "decoded model differs: {}",
            first_difference(&original, &decoded)
        ));
    }
    for (label, plan) in [
        ("decoded → inspected", decoded.plan(&original, &options)),
        ("inspected → decoded", original.plan(&decoded, &options)),
    ] {
        if !plan.is_empty() {
            return Err(format!("{label} plan not empty:\n{}", plan.to_sql()));
        }
    }
    for (label, from_decoded, from_original) in [
        (
            "decoded → empty",
            decoded.plan(empty, &options),
            original.plan(empty, &options),
        ),
        (
            "empty → decoded",
            empty.plan(&decoded, &options),
            empty.plan(&original, &options),
        ),
    ] {
        if from_decoded.to_sql() != from_original.to_sql() {
            return Err(format!(
                "{label} plan differs:\n{}\n--- inspected:\n{}",
                from_decoded.to_sql(),
                from_original.to_sql()
            ));
        }
    }
    check_sharing(&decoded).map_err(|e| format!("decoded model: {e}"))
}

/// Every schema file under `root`; panics listing the failures.
async fn check_fixtures(root: &Path) {
    let files = schema_files(root);
    assert!(!files.is_empty(), "no fixtures under {}", root.display());
    let empty = empty_model().await;
    let mut failures = Vec::new();
    for (dir, file) in &files {
        if let Err(e) = check_file(dir, file, &empty).await {
            failures.push(format!("=== {}: {e}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} schemas:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn own_fixtures_survive_the_cache() {
    check_fixtures(&common::own_fixtures()).await;
}

#[tokio::test]
async fn shared_fixtures_survive_the_cache() {
    let Some(root) = common::shared_fixtures() else {
        return;
    };
    check_fixtures(&root).await;
}

const SMALL: &str = "create schema app;
    create type app.mood as enum ('sad', 'ok', 'happy');
    create table app.person(id int primary key, name text not null, mood app.mood default 'ok');
    create table app.pet(id int primary key, owner int references app.person(id), name text);
    create index on app.pet(name);
    create view app.owners as select p.name, count(*) as pets
        from app.person p join app.pet on pet.owner = p.id group by p.name;
    create function app.pets_of(int) returns bigint language sql
        as 'select count(*) from app.pet where owner = $1';
    comment on table app.pet is 'pets';";

/// A small inspected model and its bytes.
async fn small() -> (Schema, Vec<u8>) {
    let db = TestDb::new("cache_small").await;
    sqlx::raw_sql(SMALL)
        .execute(&db.pool)
        .await
        .expect("load the schema");
    let schema = inspect(&db.pool, &common::oracle_options())
        .await
        .expect("inspect");
    common::drop_db(db).await;
    let bytes = schema.encode();
    (schema, bytes)
}

#[tokio::test]
async fn decoded_dependencies_share_the_keys_and_names() {
    let (original, bytes) = small().await;
    let decoded = Schema::decode(&bytes).expect("decode");
    assert!(decoded == original);
    let mut checked = 0;
    for dep in &decoded.dependencies {
        for end in [&dep.from, &dep.to] {
            if let Some((key, _)) = decoded.objects.get_key_value(end) {
                assert!(same(key, end), "{end}: an equal identity, not the same");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} dependency ends checked");
    check_sharing(&decoded).expect("shared names");
    // Decoding twice gives two models that share nothing with each other.
    let again = Schema::decode(&bytes).expect("decode");
    let (a, b) = (
        decoded.objects.keys().next().expect("an object"),
        again.objects.keys().next().expect("an object"),
    );
    assert!(a == b && !same(a, b));
}

#[tokio::test]
async fn bytes_of_another_model_version_are_refused() {
    let (_, mut bytes) = small().await;
    // The model hash follows the 8 bytes of magic.
    bytes[8] ^= 0x55;
    let err = Schema::decode(&bytes).expect_err("another model hash");
    assert_eq!(err, DecodeError::OtherVersion);
    assert!(err.to_string().contains("another version"), "{err}");

    bytes[0] ^= 0x55;
    assert_eq!(Schema::decode(&bytes), Err(DecodeError::NotAModel));
}

#[tokio::test]
async fn truncated_bytes_are_refused() {
    let (_, bytes) = small().await;
    for len in 0..bytes.len() {
        match Schema::decode(&bytes[..len]) {
            Err(DecodeError::Damaged(_)) => {}
            other => panic!("{len} of {} bytes: {other:?}", bytes.len()),
        }
    }
}

#[tokio::test]
async fn empty_input_is_refused() {
    let err = Schema::decode(&[]).expect_err("empty input");
    assert!(matches!(err, DecodeError::Damaged(_)), "{err:?}");
    assert!(err.to_string().contains("damaged"), "{err}");
}

#[tokio::test]
async fn trailing_bytes_are_refused() {
    let (original, mut bytes) = small().await;
    assert!(Schema::decode(&bytes).is_ok_and(|s| s == original));
    bytes.push(0);
    let err = Schema::decode(&bytes).expect_err("a byte after the model");
    assert!(matches!(err, DecodeError::Damaged(_)), "{err:?}");
    assert!(err.to_string().contains("after the model"), "{err}");
}
