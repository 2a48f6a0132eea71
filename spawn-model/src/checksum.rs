//! Checksums of rendered migrations, as recorded in the tracking tables.
//!
//! spawn records SHA-256 of the rendered SQL after CRLF→LF and without a leading BOM, so a
//! Windows checkout records the same checksum. The original spawn CLI recorded XXH3-128 of
//! the raw render; it is embedded too so rows it wrote can be compared like with like.

use sha2::{Digest, Sha256};

/// SHA-256 of `sql` with CRLF turned into LF and a leading UTF-8 BOM removed: what spawn
/// records in `migration_history.checksum` (32 bytes).
#[must_use]
pub fn sha256_normalized(sql: &str) -> [u8; 32] {
    let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    let mut hasher = Sha256::new();
    let mut rest = sql;
    while let Some(i) = rest.find("\r\n") {
        hasher.update(&rest.as_bytes()[..i]);
        hasher.update(b"\n");
        rest = &rest[i + 2..];
    }
    hasher.update(rest.as_bytes());
    hasher.finalize().into()
}

/// XXH3-128 (seed 0) of the raw bytes, high 64 bits first (as `xxh128sum` prints it): what
/// the original spawn CLI recorded (16 bytes).
#[must_use]
pub fn xxh3_128(sql: &str) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(sql.as_bytes()).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_bom_do_not_change_the_sha256() {
        let lf = sha256_normalized("CREATE TABLE t ();\nSELECT 1;\n");
        assert_eq!(lf, sha256_normalized("CREATE TABLE t ();\r\nSELECT 1;\r\n"));
        assert_eq!(
            lf,
            sha256_normalized("\u{feff}CREATE TABLE t ();\r\nSELECT 1;\n")
        );
        assert_ne!(lf, sha256_normalized("CREATE TABLE t ();\nSELECT 2;\n"));
    }

    #[test]
    fn sha256_of_the_empty_input() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(hex::encode(sha256_normalized("")), empty);
        // A lone BOM is stripped; a lone CR is not a line ending and stays.
        assert_eq!(hex::encode(sha256_normalized("\u{feff}")), empty);
        assert_ne!(hex::encode(sha256_normalized("\r")), empty);
        // Only the CR of a CRLF pair goes.
        assert_ne!(sha256_normalized("a\r\r\nb"), sha256_normalized("a\nb"));
    }

    #[test]
    fn sha256_of_known_texts() {
        // `printf 'abc' | sha256sum`, `printf 'abc\n' | sha256sum`
        assert_eq!(
            hex::encode(sha256_normalized("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let abc_lf = "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb";
        assert_eq!(hex::encode(sha256_normalized("abc\n")), abc_lf);
        assert_eq!(hex::encode(sha256_normalized("\u{feff}abc\r\n")), abc_lf);
    }

    #[test]
    fn xxh3_matches_the_original_test_value() {
        // From ../shared/compat/PINS.md: the empty input.
        assert_eq!(
            hex::encode(xxh3_128("")),
            "99aa06d3014798d86001c324468d497f"
        );
    }

    #[test]
    fn xxh3_is_taken_of_the_raw_bytes() {
        // Unlike SHA-256, the original's checksum sees line endings and the BOM.
        assert_ne!(xxh3_128("SELECT 1;\n"), xxh3_128("SELECT 1;\r\n"));
        assert_ne!(xxh3_128("SELECT 1;"), xxh3_128("\u{feff}SELECT 1;"));
        assert_eq!(
            xxh3_128("SELECT 1;"),
            xxhash_rust::xxh3::xxh3_128(b"SELECT 1;").to_be_bytes()
        );
    }
}
