// SPDX-License-Identifier: GPL-2.0

//! Executable memory for the JIT.
//!
//! Compiled code lives in the arena `framework/kmod/jit_arena.S` reserves
//! in the module's own text (its doc comment and `jit.c`'s explain why and
//! the security argument). Here the arena is split into page-sized units,
//! handed out first-fit to instances ([`load`]) and given back, refilled
//! with int3, when an instance drops its code ([`KernelCode`]).
//!
//! Compiled code runs through `cervus_jit_call`, an assembly trampoline,
//! so the kernel's kCFI type checks never see an indirect call into it,
//! and every entry begins with `endbr64` for IBT. Code that uses float
//! registers runs inside a kernel FPU section, which
//! [`Code::suspend`] ends before the runtime does anything that may sleep
//! (hostcalls, yields, allocations) and [`Code::resume`] starts again.

use alloc::sync::Arc;

use cervus_core::platform::SysError;
use cervus_core::{Level, Platform};
use cervus_jit::runtime::Code;
use cervus_jit::vmctx::VmCtx;
use spin::Mutex;

use crate::host;

const PAGE: usize = 4096;
/// Most arena pages tracked (16 MiB); the arena is 8 MiB.
const MAX_PAGES: usize = 4096;

/// One bit per arena page: in use.
static USED: Mutex<[u64; MAX_PAGES / 64]> = Mutex::new([0; MAX_PAGES / 64]);

fn is_used(used: &[u64], page: usize) -> bool {
    used[page / 64] & (1 << (page % 64)) != 0
}

fn mark(used: &mut [u64], pages: core::ops::Range<usize>, value: bool) {
    for page in pages {
        if value {
            used[page / 64] |= 1 << (page % 64);
        } else {
            used[page / 64] &= !(1 << (page % 64));
        }
    }
}

/// Reserves `n` consecutive pages of the `total` in the arena; returns the
/// first.
fn allocate(total: usize, n: usize) -> Option<usize> {
    let mut used = USED.lock();
    let mut start = 0;
    while start + n <= total {
        match (start..start + n).find(|&p| is_used(&*used, p)) {
            Some(taken) => start = taken + 1,
            None => {
                mark(&mut *used, start..start + n, true);
                return Some(start);
            }
        }
    }
    None
}

fn release(first: usize, n: usize) {
    mark(&mut *USED.lock(), first..first + n, false);
}

/// Copies `image` into a fresh region of the arena.
pub(crate) fn load(image: &[u8], floats: bool) -> Result<Arc<dyn Code>, SysError> {
    let (arena, size) = host::jit_arena();
    let total = (size / PAGE).min(MAX_PAGES);
    let pages = image.len().div_ceil(PAGE).max(1);
    let first = allocate(total, pages).ok_or(SysError::ENOMEM)?;
    // SAFETY: `first + pages <= total`, so the region lies in the arena.
    let base = unsafe { arena.add(first * PAGE) };
    // SAFETY: the region is ours alone (just reserved), no code in it runs.
    if let Err(errno) = unsafe { host::jit_write(base, Some(image), image.len()) } {
        release(first, pages);
        return Err(SysError(errno));
    }
    // INVARIANT: `base` is page `first` of the arena, `pages` are reserved.
    Ok(Arc::new(KernelCode { base, first, pages, floats }))
}

/// A region of the arena holding one instance's code.
///
/// # Invariants
///
/// `base` is the address of arena page `first`; pages `first..first +
/// pages` are reserved for this value and hold its code.
pub(crate) struct KernelCode {
    base: *mut u8,
    first: usize,
    pages: usize,
    floats: bool,
}

// SAFETY: the region is owned by this value; its address may be used from
// any task.
unsafe impl Send for KernelCode {}

// SAFETY: the code is immutable while this value lives; entering it from
// several tasks at once is fine (each call has its own context).
unsafe impl Sync for KernelCode {}

impl Code for KernelCode {
    fn base(&self) -> *const u8 {
        self.base
    }

    unsafe fn enter(&self, entry: *const u8, vmctx: *mut VmCtx, values: *mut u64) {
        // SAFETY: the caller's contract (an entry of this image, its
        // context and values). Refused only if the FPU is unusable here; the
        // context's trap is then set, as for any stop by the host.
        if unsafe { host::jit_enter(entry, vmctx.cast(), values, self.floats) }.is_err() {
            // SAFETY: `vmctx` is valid (the caller's contract).
            unsafe { (*vmctx).trap = cervus_jit::vmctx::TrapKind::Host as u32 };
        }
    }

    fn suspend(&self) {
        if self.floats {
            host::fpu_end();
        }
    }

    fn resume(&self) {
        if self.floats {
            host::fpu_begin();
        }
    }
}

impl Drop for KernelCode {
    fn drop(&mut self) {
        // Refill with int3 before the pages are reused: stale code must not
        // stay reachable. If that fails, the pages are leaked, not reused.
        // SAFETY: the region is ours (type invariant) and its instance is
        // being dropped, so none of its code runs.
        match unsafe { host::jit_write(self.base, None, self.pages * PAGE) } {
            Ok(()) => release(self.first, self.pages),
            Err(errno) => crate::platform::PLATFORM.log(
                Level::Error,
                format_args!("JIT code region of {} pages leaked: clearing it failed (errno {errno})", self.pages),
            ),
        }
    }
}
