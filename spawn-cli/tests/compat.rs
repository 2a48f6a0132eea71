//! Original-style projects build byte-identical pinned output: the golden vectors of the
//! original spawn CLI (`../shared/compat`, when present) and this crate's own fixture
//! (`tests/fixtures/original`, always).

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn spawn() -> Command {
    let mut c = Command::cargo_bin("spawn").expect("the spawn binary");
    c.env_remove("SPAWN_TARGET")
        .env_remove("SPAWN_CONFIG")
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    c
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/compat` seen from the workspace root.
fn compat_dir() -> Option<PathBuf> {
    spawn_tests::shared_dir("compat")
}

/// Runs `spawn migration build <m> --pinned -e <env> [--variables <file>]` in `project`.
fn build(
    project: &Path,
    migration: &str,
    env: &str,
    variables: Option<&str>,
) -> assert_cmd::assert::Assert {
    let mut cmd = spawn();
    cmd.current_dir(project)
        .args(["migration", "build", migration, "--pinned", "-e", env]);
    if let Some(v) = variables {
        cmd.args(["--variables", v]);
    }
    cmd.assert()
}

#[test]
fn golden_vectors_of_the_original_cli_build_byte_identical() {
    let Some(compat) = compat_dir() else {
        return;
    };
    let vectors = std::fs::read_to_string(compat.join("vectors.tsv")).expect("vectors.tsv");
    let mut checked = 0;
    for line in vectors.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (project, migration, env, vars) = (cols[0], cols[1], cols[2], cols[3]);
        let dir = compat.join("projects").join(project);
        let vars = (vars != "-").then_some(vars);
        // Run from a subfolder: paths must be relative to spawn.toml, not the current folder.
        let out = build(&dir.join("migrations"), migration, env, vars)
            .success()
            .get_output()
            .stdout
            .clone();
        let expected = std::fs::read(
            compat
                .join("expected")
                .join(project)
                .join(format!("{migration}.{env}.sql")),
        )
        .expect("expected");
        let mut expected_stdout = expected.clone();
        expected_stdout.push(b'\n');
        assert!(
            out == expected_stdout,
            "{project} {migration} {env}: the pinned build differs from the original's"
        );
        checked += 1;
    }
    let errors = std::fs::read_to_string(compat.join("errors.tsv")).expect("errors.tsv");
    for line in errors.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let dir = compat.join("projects").join(cols[0]);
        let vars = (cols[3] != "-").then_some(cols[3]);
        build(&dir, cols[1], cols[2], vars).failure().code(1);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} vectors");
}

#[test]
fn golden_vector_projects_pass_check_and_pin_verify() {
    let Some(compat) = compat_dir() else {
        return;
    };
    // Projects whose every migration renders: check passes (their failing migrations are the
    // point of the others).
    for project in [
        "s03-macros",
        "s04-extends-blocks",
        "s06-env-branches",
        "s11-edit-between-pins",
    ] {
        let dir = compat.join("projects").join(project);
        spawn()
            .current_dir(&dir)
            .args(["pin", "verify"])
            .assert()
            .success();
    }
}

/// Our own original-style project: spawn.toml in the original format, XXH3-128 pins,
/// expected output checked in.
#[test]
fn own_original_style_fixture_builds_its_expected_output() {
    let dir = manifest_dir().join("tests/fixtures/original");
    let expected_dir = dir.join("expected");
    let mut n = 0;
    for entry in std::fs::read_dir(&expected_dir).expect("expected/") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .expect("name")
            .to_owned();
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let (migration, env) = stem.rsplit_once('.').expect("<migration>.<env>.sql");
        let out = build(&dir, migration, env, None)
            .success()
            .get_output()
            .stdout
            .clone();
        let mut expected = std::fs::read(&path).expect("read");
        expected.push(b'\n');
        assert!(
            out == expected,
            "{file}: got\n{}",
            String::from_utf8_lossy(&out)
        );
        n += 1;
    }
    assert_eq!(n, 6);
    spawn()
        .current_dir(&dir)
        .args(["pin", "verify"])
        .assert()
        .success();
    spawn().current_dir(&dir).arg("check").assert().success();
}

/// Writes the fixture's XXH3-128 pins and expected files (run by hand after editing it:
/// `cargo test -p spawn-cli --test compat -- --ignored regenerate`).
#[test]
#[ignore]
fn regenerate_original_fixture() {
    use spawn_build::pin::{write_lock, HashAlgorithm, PinStore};
    let dir = manifest_dir().join("tests/fixtures/original");
    let store = PinStore::with_algorithm(dir.join("pinned"), HashAlgorithm::Xxh3_128);
    let root = store.pin(&dir.join("components")).expect("pin");
    let expected_dir = dir.join("expected");
    std::fs::create_dir_all(&expected_dir).expect("mkdir");
    for entry in std::fs::read_dir(dir.join("migrations")).expect("migrations") {
        let m = entry.expect("entry").path();
        write_lock(&m.join("lock.toml"), &root).expect("lock");
        let name = m
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        for env in ["dev", "prod"] {
            let out = build(&dir, &name, env, None)
                .success()
                .get_output()
                .stdout
                .clone();
            std::fs::write(
                expected_dir.join(format!("{name}.{env}.sql")),
                &out[..out.len() - 1],
            )
            .expect("write");
        }
    }
}
