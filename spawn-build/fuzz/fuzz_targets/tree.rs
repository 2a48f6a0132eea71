//! `decode_tree` never panics, and the entries of any tree it accepts, sorted, encode to
//! bytes that decode to the same entries.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spawn_build::pin::tree::{decode_tree, encode_tree, sort_entries};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut entries) = decode_tree(data) {
        sort_entries(&mut entries);
        let bytes = encode_tree(&entries);
        assert_eq!(decode_tree(bytes.as_bytes()), Ok(entries));
    }
});
