//! Allocator tuning for the `spawn` process: a process-wide setting, so it belongs to the
//! binary and not to a library.
//!
//! An inspection (`spawn diff`) builds and frees about a hundred megabytes in bursts (rows,
//! names, the model). glibc's allocator grows the heap a little at a time and gives freed
//! memory back to the system as soon as it can, so the same pages are faulted in and zeroed by
//! the kernel again and again. Growing the heap in larger steps keeps them. Measured in
//! alternating runs of spawn-schema's bench child at N = 2,000: steps of 32 MiB took the run
//! from 0.691 to 0.663 s (client CPU 500 → 483 ms) with no more peak memory; 64 MiB steps, once
//! the model's objects were boxed, a further 0.615 → 0.598 s (client 404 → 388 ms) for 6 MiB
//! more peak memory (95 → 101 MiB; migra's is 141 MiB).
//!
//! The bench (spawn-schema/benches/diff.rs) makes the same call in its child, so it measures
//! what `spawn diff` does: change both together.

/// How much extra the heap grows by each time it must grow (`M_TOP_PAD`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const HEAP_STEP: libc::c_int = 64 << 20;

/// Asks the C allocator to grow the heap in 64 MiB steps (`main` calls it first thing). A
/// no-op where the allocator is not glibc's.
pub fn reserve_heap_headroom() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a tunable of the allocator; any value is accepted.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, HEAP_STEP);
    }
}
