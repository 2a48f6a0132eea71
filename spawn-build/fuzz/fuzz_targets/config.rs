//! `SpawnToml::parse` (what `SpawnToml::load` runs on the text of `spawn.toml`) never
//! panics.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use spawn_build::spawn_toml::SpawnToml;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SpawnToml::parse(Path::new("/project/spawn.toml"), text);
    }
});
