//! Keeps musl's allocator from giving memory back to the kernel, and mapping it again, on every
//! invocation.
//!
//! musl's malloc (mallocng) frees a group of small slots as soon as its last slot is freed
//! (unmapping it when it was mapped for itself) and makes a new one at the next allocation of
//! that size. The HTTP client allocates and frees a few dozen small objects per request; with
//! nothing else alive in their size classes, the shipped echo function made one `mmap` and one
//! `munmap` per invocation (strace over 2 000 invocations), which cost it 10 µs of CPU per
//! invocation (the coldstart benchmark, pinned). One slot kept alive in each small size class
//! keeps most of those groups: 2 005 unmaps in 2 000 invocations became 181. glibc keeps freed
//! memory in its arenas; there this does nothing.

/// Sizes that fall in musl mallocng's size classes 0 to 19 (slots of 16 to 800 bytes, less the
/// allocator's 4-byte header): the sizes of the objects ureq allocates and frees per request.
#[cfg(target_env = "musl")]
const SMALL_CLASS_SIZES: [usize; 20] = [
    12, 28, 44, 60, 76, 92, 108, 124, 140, 156, 188, 236, 284, 316, 396, 492, 508, 572, 668, 796,
];

/// One allocation in each small size class, alive as long as the value is. Allocated, never
/// written: they cost their slots' headers, not their bytes.
pub(crate) struct SmallClassesKept {
    _slots: Vec<Vec<u8>>,
}

/// Allocates [`SmallClassesKept`]; keep it for as long as the runtime serves.
pub(crate) fn keep_small_classes() -> SmallClassesKept {
    #[cfg(target_env = "musl")]
    let slots = SMALL_CLASS_SIZES.map(Vec::with_capacity).into();
    #[cfg(not(target_env = "musl"))]
    let slots = Vec::new();
    SmallClassesKept { _slots: slots }
}
