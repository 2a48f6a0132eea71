//! Checksums of rendered migrations, as recorded in the tracking tables.
//!
//! spawn records SHA-256 of the rendered SQL after CRLF→LF and without a leading BOM, so a
//! Windows checkout records the same checksum. The original spawn CLI recorded XXH3-128 of
//! the raw render; it is embedded too so rows it wrote can be compared like with like.

use sha2::{Digest, Sha256};

/// SHA-256 of `sql` with CRLF turned into LF and a leading UTF-8 BOM removed.
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

/// XXH3-128 (seed 0) of the raw bytes, high 64 bits first (as `xxh128sum` prints it).
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
        assert_eq!(
            hex::encode(sha256_normalized("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn xxh3_matches_the_original_test_value() {
        // From ../shared/compat/PINS.md: the empty input.
        assert_eq!(
            hex::encode(xxh3_128("")),
            "99aa06d3014798d86001c324468d497f"
        );
    }
}
