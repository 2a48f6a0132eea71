//! The model as bytes, so that an inspected [`Schema`] can be cached and read back instead of
//! inspecting the database again: [`Schema::encode`] and [`Schema::decode`].
//!
//! # Format
//!
//! [`MAGIC`] (8 bytes), then [`MODEL_HASH`] (8 bytes, little-endian), then the [`Schema`] in
//! [postcard](https://docs.rs/postcard) through the model's serde derives. Nothing may follow.
//!
//! # Versioning
//!
//! The postcard encoding carries no field names or types: bytes are only meaningful to a
//! build whose model types are the same. [`MODEL_HASH`] is an FNV-1a hash of the source of the
//! model (`mod.rs`, `objects.rs` and this file, which defines how identities are written),
//! computed at compile time, so any edit of them changes it and the bytes of an earlier or
//! later build are refused with [`DecodeError::OtherVersion`] instead of being misread.
//!
//! # Sharing
//!
//! In an inspected model the names of identities are interned (`Arc<str>`), and the
//! identities of [`Schema::dependencies`] are clones of the keys of [`Schema::objects`]; the
//! planner's fast paths compare them by address. While [`Schema::encode`] runs, each distinct
//! [`ObjectId`] is written in full the first time and as its number afterwards, and likewise
//! each distinct name; [`Schema::decode`] keeps what it has read in tables and hands out
//! clones. A decoded model thus shares its identities and names as an inspected one does (equal
//! values are one allocation), and the bytes hold each identity and name once. Outside those
//! two functions (serde_json output, say), an identity is written as its plain parts.
//!
//! The encoder looks an identity or a name up by its address first (a shared one is met
//! again and again: each dependency names two objects), and by its text only when the address
//! is new, so equal values in separate allocations are still written once.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{empty_name, IdParts, Name, Object, ObjectId, ObjectKind, Schema};

/// The first bytes of an encoded model.
const MAGIC: &[u8; 8] = b"spawnSM\x01";

/// FNV-1a (64-bit) of `bytes`, continuing from `hash`.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// One source file into the hash: its length, then its bytes (so that text moving from one
/// file to the next changes the hash too).
const fn hash_file(hash: u64, bytes: &[u8]) -> u64 {
    fnv1a(fnv1a(hash, &(bytes.len() as u64).to_le_bytes()), bytes)
}

/// The hash of the model's source: bytes written by a build with another one are refused.
const MODEL_HASH: u64 = {
    let hash = 0xcbf2_9ce4_8422_2325;
    let hash = hash_file(hash, include_bytes!("mod.rs"));
    let hash = hash_file(hash, include_bytes!("objects.rs"));
    hash_file(hash, include_bytes!("encode.rs"))
};

/// The header: magic, then the model hash.
const HEADER_LEN: usize = MAGIC.len() + 8;

/// Why [`Schema::decode`] refused its bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes do not start as an encoded model does.
    #[error("not a cached schema model")]
    NotAModel,
    /// The bytes were written by a build whose model differs from this one.
    #[error("the cached schema model was written by another version of spawn")]
    OtherVersion,
    /// The bytes are an encoded model of this version, but truncated, extended or corrupt.
    #[error("the cached schema model is damaged: {0}")]
    Damaged(String),
}

impl Schema {
    /// The model as bytes (see [`Schema::decode`]): a header naming this build's model, then
    /// the model with each identity and name written once.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 64 * self.objects.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&MODEL_HASH.to_le_bytes());
        with_codec(Codec::encoding(), || postcard::to_extend(self, out))
            // Only unsized sequences or a failing writer make postcard fail; the model has
            // neither (every collection knows its length, a Vec grows).
            .expect("the model serializes into memory")
    }

    /// A model from [`Schema::encode`]'s bytes; `Err` if they were written by another build of
    /// the model (or are damaged). The identities and names of the result are shared as in an
    /// inspected model.
    pub fn decode(bytes: &[u8]) -> Result<Schema, DecodeError> {
        let Some((magic, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(if MAGIC.starts_with(bytes) {
                DecodeError::Damaged(format!("{} bytes, not even a header", bytes.len()))
            } else {
                DecodeError::NotAModel
            });
        };
        if magic != MAGIC {
            return Err(DecodeError::NotAModel);
        }
        let Some((hash, payload)) = rest.split_first_chunk::<8>() else {
            return Err(DecodeError::Damaged(format!(
                "{} bytes, not even a header",
                bytes.len()
            )));
        };
        if u64::from_le_bytes(*hash) != MODEL_HASH {
            return Err(DecodeError::OtherVersion);
        }
        let (schema, rest) = with_codec(Codec::decoding(), || {
            postcard::take_from_bytes::<Schema>(payload)
        })
        .map_err(|e| DecodeError::Damaged(e.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Damaged(format!(
                "trailing bytes after the model ({})",
                rest.len()
            )));
        }
        Ok(schema)
    }
}

/// The tables of identities and names of the encode or decode running on this thread.
enum Codec {
    /// Identities and names written so far, by their number.
    Encoding {
        ids: Numbered<ObjectId>,
        names: Numbered<Name>,
    },
    /// Identities and names read so far, in order.
    Decoding {
        ids: Vec<ObjectId>,
        names: Vec<Name>,
    },
}

impl Codec {
    fn encoding() -> Self {
        let mut names = Numbered::default();
        // Name 0 is the empty name, written by neither side.
        names.number(&empty_name());
        Codec::Encoding {
            ids: Numbered::default(),
            names,
        }
    }

    fn decoding() -> Self {
        Codec::Decoding {
            ids: Vec::new(),
            names: vec![empty_name()],
        }
    }
}

/// Something shared by reference count, whose allocation's address can key a table.
trait Shared: Clone + Eq + std::hash::Hash {
    fn address(&self) -> usize;
}

impl Shared for ObjectId {
    fn address(&self) -> usize {
        std::sync::Arc::as_ptr(&self.0) as usize
    }
}

impl Shared for Name {
    fn address(&self) -> usize {
        std::sync::Arc::as_ptr(self).cast::<u8>() as usize
    }
}

/// The values an encode has written, numbered in the order they were first written: by
/// address (cheap to hash) and by value (for an equal value in another allocation).
struct Numbered<T> {
    by_address: HashMap<usize, u32, foldhash::fast::RandomState>,
    by_value: HashMap<T, u32, foldhash::fast::RandomState>,
    /// A clone of each value whose address keys `by_address` but not `by_value`: no address
    /// in the table is freed (and reused by another value) before the encode ends.
    kept: Vec<T>,
}

impl<T> Default for Numbered<T> {
    fn default() -> Self {
        Self {
            by_address: HashMap::default(),
            by_value: HashMap::default(),
            kept: Vec::new(),
        }
    }
}

impl<T: Shared> Numbered<T> {
    /// `value`'s number and whether it was written before (if not, it gets the next number).
    fn number(&mut self, value: &T) -> (u32, bool) {
        let address = value.address();
        if let Some(&number) = self.by_address.get(&address) {
            return (number, true);
        }
        let next = u32::try_from(self.by_value.len()).expect("fewer than 2^32 values");
        let (number, seen) = match self.by_value.entry(value.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => {
                self.kept.push(value.clone());
                (*e.get(), true)
            }
            std::collections::hash_map::Entry::Vacant(e) => (*e.insert(next), false),
        };
        self.by_address.insert(address, number);
        (number, seen)
    }
}

thread_local! {
    static CODEC: RefCell<Option<Codec>> = const { RefCell::new(None) };
}

/// Runs `f` with `codec` as this thread's codec, then puts back the previous one (also on
/// unwinding).
fn with_codec<R>(codec: Codec, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Codec>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CODEC.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CODEC.with(|c| c.replace(Some(codec))));
    f()
}

/// An identity as [`Schema::encode`] writes it.
#[derive(Serialize, Deserialize)]
enum IdWire<'a> {
    /// The identity numbered so (in the order they were first written).
    Seen(u32),
    /// A new identity: it gets the next number.
    New {
        kind: ObjectKind,
        #[serde(borrow)]
        schema: NameWire<'a>,
        #[serde(borrow)]
        name: NameWire<'a>,
        #[serde(borrow)]
        sub: NameWire<'a>,
    },
}

/// A name as [`Schema::encode`] writes it.
#[derive(Serialize, Deserialize)]
enum NameWire<'a> {
    /// The name numbered so (0 is the empty name).
    Seen(u32),
    /// A new name: it gets the next number.
    New(#[serde(borrow)] Cow<'a, str>),
}

/// An identity as written outside [`Schema::encode`]: its parts (as [`IdParts`] serializes).
#[derive(Deserialize)]
struct PlainId<'a> {
    kind: ObjectKind,
    #[serde(borrow)]
    schema: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    sub: Cow<'a, str>,
}

/// The wire form of `name`, numbering it if it is new.
fn name_wire<'a>(names: &mut Numbered<Name>, name: &'a Name) -> NameWire<'a> {
    match names.number(name) {
        (number, true) => NameWire::Seen(number),
        (_, false) => NameWire::New(Cow::Borrowed(name)),
    }
}

/// The name `wire` stands for, numbering it if it is new.
fn read_name(names: &mut Vec<Name>, wire: NameWire<'_>) -> Result<Name, String> {
    match wire {
        NameWire::Seen(number) => names
            .get(number as usize)
            .cloned()
            .ok_or_else(|| format!("name {number} used before it is defined")),
        NameWire::New(text) => {
            let name = Name::from(text.as_ref());
            names.push(name.clone());
            Ok(name)
        }
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = CODEC.with(|codec| match &mut *codec.borrow_mut() {
            Some(Codec::Encoding { ids, names }) => {
                if let (number, true) = ids.number(self) {
                    return Some(IdWire::Seen(number));
                }
                // In the order they are written, which is the order they are read.
                let schema = name_wire(names, &self.schema);
                let name = name_wire(names, &self.name);
                let sub = name_wire(names, &self.sub);
                Some(IdWire::New {
                    kind: self.kind,
                    schema,
                    name,
                    sub,
                })
            }
            _ => None,
        });
        match wire {
            Some(wire) => wire.serialize(serializer),
            None => IdParts::serialize(&self.0, serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let decoding = CODEC.with(|c| matches!(&*c.borrow(), Some(Codec::Decoding { .. })));
        if !decoding {
            let plain = PlainId::deserialize(deserializer)?;
            return Ok(ObjectId::part(
                plain.kind,
                plain.schema.as_ref(),
                plain.name.as_ref(),
                plain.sub.as_ref(),
            ));
        }
        let wire = IdWire::deserialize(deserializer)?;
        CODEC
            .with(|codec| match &mut *codec.borrow_mut() {
                Some(Codec::Decoding { ids, names }) => match wire {
                    IdWire::Seen(number) => ids
                        .get(number as usize)
                        .cloned()
                        .ok_or_else(|| format!("identity {number} used before it is defined")),
                    IdWire::New {
                        kind,
                        schema,
                        name,
                        sub,
                    } => {
                        let schema = read_name(names, schema)?;
                        let name = read_name(names, name)?;
                        let sub = read_name(names, sub)?;
                        let id = ObjectId::part(kind, schema, name, sub);
                        ids.push(id.clone());
                        Ok(id)
                    }
                },
                _ => Err("the decoder went away".to_string()),
            })
            .map_err(D::Error::custom)
    }
}

/// Reads [`Schema::objects`] in one go: the map is written in order, so building it from the
/// entries at once is cheaper than inserting them one by one.
pub(super) fn sorted_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<ObjectId, Object>, D::Error> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = BTreeMap<ObjectId, Object>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of objects by identity")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // Bounded: a damaged length must not reserve gigabytes.
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(entry) = map.next_entry::<ObjectId, Object>()? {
                entries.push(entry);
            }
            // Sorted input: the sort checks the order in one pass, then the tree is built
            // bottom-up.
            Ok(entries.into_iter().collect())
        }
    }
    deserializer.deserialize_map(Entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DepKind, Dependency, Meta, SchemaDef, Table};

    fn table(columns: &[&str]) -> Object {
        Object::Table(Box::new(Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            unlogged: false,
            partition_key: None,
            options: Vec::new(),
            rls_enabled: false,
            rls_forced: false,
            replica_identity: "d".into(),
            replica_identity_index: None,
            inherits: Vec::new(),
            partition_of: None,
            access_method: None,
            foreign: None,
            meta: Meta::default(),
        }))
    }

    fn sample() -> Schema {
        let mut schema = Schema {
            current_user: "me".into(),
            server_version: 150_000,
            ..Schema::default()
        };
        let app = ObjectId::new(ObjectKind::Schema, "", "app");
        let t = ObjectId::new(ObjectKind::Table, "app", "t");
        let u = ObjectId::new(ObjectKind::Table, "app", "u");
        schema.objects.insert(
            app.clone(),
            Object::Schema(Box::new(SchemaDef {
                meta: Meta::default(),
            })),
        );
        schema.objects.insert(t.clone(), table(&["a"]));
        schema.objects.insert(u.clone(), table(&[]));
        for (from, to) in [(&t, &app), (&u, &app), (&u, &t)] {
            schema.dependencies.push(Dependency {
                // Equal to the key, but another allocation: decoding must share them.
                from: ObjectId::new(from.kind, &*from.schema, &*from.name),
                to: to.clone(),
                kind: DepKind::Normal,
            });
        }
        schema
    }

    #[test]
    fn the_hash_is_computed_at_compile_time() {
        const { assert!(MODEL_HASH != 0) };
    }

    #[test]
    fn decoded_identities_and_names_are_shared() {
        let original = sample();
        let decoded = Schema::decode(&original.encode()).expect("decode");
        assert_eq!(decoded, original);
        for dep in &decoded.dependencies {
            for end in [&dep.from, &dep.to] {
                let (key, _) = decoded.objects.get_key_value(end).expect("a key");
                assert!(key.same(end), "{end} is not the key's identity");
            }
        }
        let keys: Vec<&ObjectId> = decoded.objects.keys().collect();
        // `app` the schema's name and `app` the tables' schema are one name; the empty
        // names are the shared empty name.
        assert!(Name::ptr_eq(&keys[0].name, &keys[1].schema));
        assert!(Name::ptr_eq(&keys[1].schema, &keys[2].schema));
        assert!(Name::ptr_eq(&keys[0].schema, &empty_name()));
        assert!(Name::ptr_eq(&keys[1].sub, &empty_name()));
    }

    #[test]
    fn equal_values_in_other_allocations_are_written_once() {
        // In `sample` each dependency's `from` is an allocation of its own; here they are
        // the keys' own identities. The encoder finds the copies by value: the same bytes.
        let copies = sample();
        let mut shared = sample();
        for dep in &mut shared.dependencies {
            let (key, _) = shared.objects.get_key_value(&dep.from).expect("a key");
            dep.from = key.clone();
        }
        assert!(!copies.dependencies[0].from.same(
            copies
                .objects
                .get_key_value(&copies.dependencies[0].from)
                .expect("a key")
                .0
        ));
        assert_eq!(copies.encode(), shared.encode());
        // A name met again in another allocation is written once too.
        let mut names = Numbered::<Name>::default();
        let (first, second): (Name, Name) = ("app".into(), "app".into());
        assert_eq!(names.number(&first), (0, false));
        assert_eq!(names.number(&second), (0, true));
        assert_eq!(names.number(&first), (0, true));
        assert_eq!(names.number(&"t".into()), (1, false));
    }

    #[test]
    fn identities_outside_the_codec_are_plain_parts() {
        let id = ObjectId::part(ObjectKind::Column, "app", "t", "a");
        let bytes = postcard::to_allocvec(&id).expect("encode");
        let back: ObjectId = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(back, id);
    }

    #[test]
    fn references_to_unread_identities_are_damage() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&MODEL_HASH.to_le_bytes());
        // One object whose key is identity 7, never defined.
        bytes.extend(postcard::to_allocvec(&(1u8, IdWire::Seen(7))).expect("encode"));
        assert!(matches!(
            Schema::decode(&bytes),
            Err(DecodeError::Damaged(_))
        ));
    }
}
