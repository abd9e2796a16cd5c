// SPDX-License-Identifier: GPL-2.0

//! The engine's global allocator: the kernel's `kvmalloc`, counted.
//!
//! The counters are what `cvctl info` reports and what the leak tests
//! compare before and after a batch of runs.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU64, Ordering};

use cervus_core::HeapStats;

use crate::host;

struct KernelHeap;

static BYTES: AtomicU64 = AtomicU64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap;

/// The current counters.
pub fn stats() -> HeapStats {
    HeapStats { bytes: BYTES.load(Ordering::Relaxed), allocations: ALLOCATIONS.load(Ordering::Relaxed) }
}

fn counted(ptr: *mut u8, size: usize) -> *mut u8 {
    if !ptr.is_null() {
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    ptr
}

// SAFETY: the host returns blocks of at least the requested size and
// alignment (or null), which stay valid until freed; sizes are tracked by
// `Layout`, as `GlobalAlloc` requires of callers.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `GlobalAlloc` callers pass a non-zero size; `Layout`
        // guarantees a power-of-two alignment.
        counted(unsafe { host::alloc(layout.size(), layout.align(), false) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        counted(unsafe { host::alloc(layout.size(), layout.align(), true) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator with `layout`.
        unsafe { host::free(ptr, layout.size(), layout.align()) };
        BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        ALLOCATIONS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by this allocator with `layout`, and
        // `new_size` is non-zero.
        let new = unsafe { host::realloc(ptr, layout.size(), new_size, layout.align()) };
        if !new.is_null() {
            BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
            BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        new
    }
}
