// SPDX-License-Identifier: GPL-2.0

//! Services the engine calls back: allocation, logging, task state.
//!
//! The engine declares these in `framework/engine/src/host.rs`. They run on
//! the engine's private stack, in the context of the task that called into
//! the engine (process context: they may sleep). `cervus_host_stdio_write`
//! and `cervus_host_yield` are in `helpers.c`.

use core::{alloc::Layout, ptr, ptr::NonNull};

use kernel::{
    alloc::{
        allocator::KVmalloc,
        flags::{
            __GFP_NOWARN,
            __GFP_ZERO, //
        },
        Allocator,
        NumaNode, //
    },
    prelude::*,
    task::Task,
};

/// Allocation flags. Failures are handled by the engine (a guest sees an
/// error), so they are not worth a kernel warning.
fn flags(zeroed: bool) -> kernel::alloc::Flags {
    let flags = GFP_KERNEL | __GFP_NOWARN;
    if zeroed {
        flags | __GFP_ZERO
    } else {
        flags
    }
}

/// Allocates `size` bytes aligned to `align`; null on failure.
#[no_mangle]
pub(crate) extern "C" fn cervus_host_alloc(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    let Ok(layout) = Layout::from_size_align(size, align) else {
        return ptr::null_mut();
    };
    KVmalloc::alloc(layout, flags(zeroed), NumaNode::NO_NODE).map_or(ptr::null_mut(), |p| p.cast::<u8>().as_ptr())
}

/// Resizes a block from `cervus_host_alloc`; null on failure (the old block
/// is then untouched).
///
/// # Safety
///
/// `ptr` must be live and come from `cervus_host_alloc`/`cervus_host_realloc`
/// with `old_size` and `align`.
#[no_mangle]
pub(crate) unsafe extern "C" fn cervus_host_realloc(ptr: *mut u8, old_size: usize, new_size: usize, align: usize) -> *mut u8 {
    let (Ok(old), Ok(new)) = (Layout::from_size_align(old_size, align), Layout::from_size_align(new_size, align)) else {
        return ptr::null_mut();
    };
    // SAFETY: `ptr` is a live `KVmalloc` block with layout `old` (precondition).
    unsafe { KVmalloc::realloc(NonNull::new(ptr), new, old, flags(false), NumaNode::NO_NODE) }
        .map_or(ptr::null_mut(), |p| p.cast::<u8>().as_ptr())
}

/// Frees a block from `cervus_host_alloc`/`cervus_host_realloc`.
///
/// # Safety
///
/// `ptr` must be live and come from those functions with `size` and `align`.
#[no_mangle]
pub(crate) unsafe extern "C" fn cervus_host_free(ptr: *mut u8, size: usize, align: usize) {
    let (Some(ptr), Ok(layout)) = (NonNull::new(ptr), Layout::from_size_align(size, align)) else {
        return;
    };
    // SAFETY: a live `KVmalloc` block with this layout (precondition).
    unsafe { KVmalloc::free(ptr, layout) };
}

/// Logs one line at kernel log level `level` (3 error, 4 warning, else info).
///
/// # Safety
///
/// `msg` must be valid for reading `len` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn cervus_host_log(level: u32, msg: *const u8, len: usize) {
    // SAFETY: precondition.
    let bytes = unsafe { core::slice::from_raw_parts(msg, len) };
    let text = core::str::from_utf8(bytes).unwrap_or("<message is not UTF-8>");
    match level {
        3 => pr_err!("{}\n", text),
        4 => pr_warn!("{}\n", text),
        _ => pr_info!("{}\n", text),
    }
}

/// Whether a signal is pending for the current task.
#[no_mangle]
pub(crate) extern "C" fn cervus_host_signal_pending() -> bool {
    current!().signal_pending()
}

/// The current task, as an opaque non-zero token.
#[no_mangle]
pub(crate) extern "C" fn cervus_host_current_task() -> usize {
    Task::current_raw() as usize
}
