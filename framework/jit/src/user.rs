// SPDX-License-Identifier: GPL-2.0

//! Executable memory in user space, for tests and the core's `std`
//! platform.

use std::ptr;

use crate::runtime::Code;
use crate::vmctx::VmCtx;

/// Code in an anonymous mapping: written while read-write, then switched
/// to read-execute (never both), unmapped on drop.
pub struct MmapCode {
    base: *mut u8,
    len: usize,
}

impl MmapCode {
    /// Maps a copy of `image`; `None` if the system refuses the mapping.
    pub fn new(image: &[u8]) -> Option<MmapCode> {
        let len = image.len().max(1).next_multiple_of(4096);
        // SAFETY: a fresh private anonymous mapping; no existing memory is
        // affected.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let code = MmapCode { base: base.cast(), len };
        // SAFETY: the mapping is `len >= image.len()` bytes and writable;
        // it is ours alone.
        let protected = unsafe {
            ptr::copy_nonoverlapping(image.as_ptr(), code.base, image.len());
            libc::mprotect(code.base.cast(), len, libc::PROT_READ | libc::PROT_EXEC)
        };
        (protected == 0).then_some(code)
    }
}

impl Drop for MmapCode {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer executed (the instance that
        // owns it is being dropped).
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl Code for MmapCode {
    fn base(&self) -> *const u8 {
        self.base
    }

    unsafe fn enter(&self, entry: *const u8, vmctx: *mut VmCtx, values: *mut u64) {
        // SAFETY: the caller's contract: `entry` is an array-call entry of
        // this image, which has the System V signature below.
        unsafe {
            let f: extern "sysv64" fn(*mut VmCtx, *mut u64) = core::mem::transmute(entry);
            f(vmctx, values)
        }
    }
}

// SAFETY: the mapping is immutable after `new` and owned by this value.
unsafe impl Send for MmapCode {}

// SAFETY: as for `Send`: nothing in it changes after `new`.
unsafe impl Sync for MmapCode {}
