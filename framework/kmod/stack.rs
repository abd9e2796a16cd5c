// SPDX-License-Identifier: GPL-2.0

//! Private stacks for engine calls.
//!
//! A stack is a `vmalloc` area. `vmalloc` leaves an unmapped guard page after
//! every area, so the page below a stack's base is either the guard page of
//! the area before it or unmapped address space: running off the end of the
//! stack faults instead of corrupting memory. The engine is built with inline
//! stack probes, so no frame can step over the guard page. A canary at the
//! base catches the unlikely case that the guard was missed anyway.

use core::{alloc::Layout, ptr::NonNull};

use kernel::{
    alloc::{
        allocator::Vmalloc,
        Allocator,
        NumaNode, //
    },
    page::PAGE_SIZE,
    prelude::*,
};

/// Size of an engine stack. Translating a module takes about 16 KiB with
/// wasmi; the rest is headroom for hostcalls into the kernel.
const STACK_SIZE: usize = 256 * 1024;

const CANARY: u64 = 0xc0de_5ca1_ab1e_c0de;

/// One private stack, freed on drop.
///
/// # Invariants
///
/// `base` points to a live `Vmalloc` allocation of `STACK_SIZE` bytes with
/// the layout returned by `layout()`.
pub(crate) struct EngineStack {
    base: NonNull<u8>,
}

// SAFETY: a stack is plain memory owned by the `EngineStack`; it is used
// by one engine call at a time, from whichever task holds it.
unsafe impl Send for EngineStack {}

fn layout() -> Layout {
    // Cannot fail: PAGE_SIZE is a power of two and STACK_SIZE a multiple of it.
    Layout::from_size_align(STACK_SIZE, PAGE_SIZE).unwrap_or(Layout::new::<u8>())
}

impl EngineStack {
    /// Allocates a stack.
    pub(crate) fn new() -> Result<Self> {
        let base = Vmalloc::alloc(layout(), GFP_KERNEL, NumaNode::NO_NODE)?.cast::<u8>();
        // SAFETY: the allocation is at least 8 bytes and page-aligned.
        unsafe { base.cast::<u64>().write(CANARY) };
        // INVARIANT: just allocated with `layout()`.
        Ok(EngineStack { base })
    }

    /// The stack's top (its highest address, exclusive), 16-byte aligned.
    pub(crate) fn top(&mut self) -> *mut u8 {
        // SAFETY: one past the end of the allocation (type invariant).
        unsafe { self.base.as_ptr().add(STACK_SIZE) }
    }

    /// The stack's base (its lowest address).
    pub(crate) fn base(&self) -> usize {
        self.base.as_ptr() as usize
    }

    /// Whether the canary at the base survived.
    pub(crate) fn intact(&self) -> bool {
        // SAFETY: the base is live, aligned and was initialised in `new`.
        unsafe { self.base.cast::<u64>().read_volatile() == CANARY }
    }
}

impl Drop for EngineStack {
    fn drop(&mut self) {
        // SAFETY: allocated by `Vmalloc` with `layout()` (type invariant) and
        // no longer used: the engine call on it has returned.
        unsafe { Vmalloc::free(self.base, layout()) };
    }
}
