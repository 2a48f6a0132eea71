//! `read_lock` never panics on a `lock.toml` of any bytes, and an existing file is a pin or
//! an error, never "not pinned".

#![no_main]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use spawn_build::pin::read_lock;

/// A folder of this process for the lock files.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("spawn-fuzz-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the lock folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    // A new file each time: rewriting one file in place makes ext4 flush it to disk.
    static FILES: AtomicU64 = AtomicU64::new(0);
    let path = dir().join(format!("{}.toml", FILES.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, data).expect("write the lock file");
    let result = read_lock(&path);
    std::fs::remove_file(&path).expect("remove the lock file");
    assert!(!matches!(result, Ok(None)));
});
