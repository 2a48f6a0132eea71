//! `ObjectHash`'s `FromStr` never panics, and what it accepts prints back as the same text
//! in lower case.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spawn_build::pin::ObjectHash;

fuzz_target!(|text: &str| {
    if let Ok(hash) = text.parse::<ObjectHash>() {
        assert_eq!(hash.to_string(), text.to_ascii_lowercase());
    }
});
