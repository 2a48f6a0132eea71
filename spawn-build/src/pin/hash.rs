//! Object hashes of the pin store.
//!
//! Every object in `pinned/` is named by the hash of its exact bytes. Two algorithms exist:
//! SHA-256 (64 hex digits), which new pins use, and XXH3-128 with seed 0 (32 hex digits,
//! high 64 bits first like `xxh128sum`), which the original spawn CLI wrote. The length of
//! the hex text tells them apart, so existing pins keep working unchanged.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The hash function an object (and the tree naming it) was hashed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-256; 64 hex digits. The default for new pins.
    Sha256,
    /// XXH3-128, seed 0; 32 hex digits. What the original spawn CLI used.
    Xxh3_128,
}

impl HashAlgorithm {
    /// Hashes `bytes` with this algorithm.
    pub fn hash(self, bytes: &[u8]) -> ObjectHash {
        match self {
            HashAlgorithm::Sha256 => ObjectHash::Sha256(Sha256::digest(bytes).into()),
            HashAlgorithm::Xxh3_128 => {
                ObjectHash::Xxh3_128(xxhash_rust::xxh3::xxh3_128(bytes).to_be_bytes())
            }
        }
    }

    /// Number of hex digits of a hash made with this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 64,
            HashAlgorithm::Xxh3_128 => 32,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Xxh3_128 => "XXH3-128",
        })
    }
}

/// The name of one object in the pin store: a blob (file bytes) or a tree (directory).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectHash {
    /// A SHA-256 digest.
    Sha256([u8; 32]),
    /// An XXH3-128 digest, big-endian (high 64 bits first).
    Xxh3_128([u8; 16]),
}

impl ObjectHash {
    /// The algorithm this hash was made with.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self {
            ObjectHash::Sha256(_) => HashAlgorithm::Sha256,
            ObjectHash::Xxh3_128(_) => HashAlgorithm::Xxh3_128,
        }
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ObjectHash::Sha256(b) => b,
            ObjectHash::Xxh3_128(b) => b,
        }
    }

    /// Whether `bytes` hash to this value (with this hash's own algorithm).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.algorithm().hash(bytes) == *self
    }

    /// Path of the object relative to the store: `<first 2 hex>/<rest>`.
    pub fn relative_path(&self) -> PathBuf {
        let hex = self.to_string();
        let (dir, file) = hex.split_at(2);
        Path::new(dir).join(file)
    }
}

impl fmt::Display for ObjectHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectHash({}:{})", self.algorithm(), self)
    }
}

/// Text that is not a 32- or 64-digit hex object hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an object hash (expected 64 hex digits for SHA-256 or 32 for XXH3-128)")]
pub struct ParseHashError {
    /// The rejected text.
    pub text: String,
}

impl FromStr for ObjectHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseHashError { text: s.to_owned() };
        match s.len() {
            64 => {
                let mut out = [0u8; 32];
                hex::decode_to_slice(s, &mut out).map_err(|_| err())?;
                Ok(ObjectHash::Sha256(out))
            }
            32 => {
                let mut out = [0u8; 16];
                hex::decode_to_slice(s, &mut out).map_err(|_| err())?;
                Ok(ObjectHash::Xxh3_128(out))
            }
            _ => Err(err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh3_test_values_from_pins_md() {
        let empty = HashAlgorithm::Xxh3_128.hash(b"");
        assert_eq!(empty.to_string(), "99aa06d3014798d86001c324468d497f");
        let empty_tree = HashAlgorithm::Xxh3_128.hash(b"entries = []\n");
        assert_eq!(empty_tree.to_string(), "3c9035096da0374a13055e4b2e489938");
        assert_eq!(
            empty_tree.relative_path(),
            Path::new("3c").join("9035096da0374a13055e4b2e489938")
        );
    }

    #[test]
    fn sha256_of_empty_blob() {
        let h = HashAlgorithm::Sha256.hash(b"");
        assert_eq!(
            h.to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_round_trips_and_picks_algorithm_by_length() {
        for algo in [HashAlgorithm::Sha256, HashAlgorithm::Xxh3_128] {
            let h = algo.hash(b"spawn");
            let parsed: ObjectHash = h.to_string().parse().expect("valid hash");
            assert_eq!(parsed, h);
            assert_eq!(parsed.algorithm(), algo);
            assert_eq!(h.to_string().len(), algo.hex_len());
        }
        let upper: ObjectHash = "99AA06D3014798D86001C324468D497F".parse().expect("hex");
        assert_eq!(upper.to_string(), "99aa06d3014798d86001c324468d497f");
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!("".parse::<ObjectHash>().is_err());
        assert!("abc".parse::<ObjectHash>().is_err());
        assert!("zz".repeat(16).parse::<ObjectHash>().is_err());
        assert!("0".repeat(33).parse::<ObjectHash>().is_err());
    }
}
