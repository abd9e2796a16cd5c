// SPDX-License-Identifier: GPL-2.0

//! Services the kernel module's glue exports to the engine.
//!
//! They are plain C-ABI functions defined in `framework/kmod/host.rs` (and
//! `cervus_stack_abort` in `trampoline.S`), called directly: no function
//! pointers cross the boundary. Each wrapper below states what the glue
//! guarantees.

/// Kernel log levels used by [`log`].
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum LogLevel {
    /// `KERN_ERR`.
    Error = 3,
    /// `KERN_WARNING`.
    Warning = 4,
    /// `KERN_INFO`.
    Info = 6,
}

unsafe extern "C" {
    fn cervus_host_alloc(size: usize, align: usize, zeroed: bool) -> *mut u8;
    fn cervus_host_realloc(ptr: *mut u8, old_size: usize, new_size: usize, align: usize) -> *mut u8;
    fn cervus_host_free(ptr: *mut u8, size: usize, align: usize);
    fn cervus_host_log(level: u32, msg: *const u8, len: usize);
    fn cervus_host_stdio_write(fd: u32, buf: *const u8, len: usize) -> isize;
    fn cervus_host_signal_pending() -> bool;
    fn cervus_host_yield();
    fn cervus_host_current_task() -> usize;
    // Never returns to its caller, but is declared as returning so that the
    // `ud2` after the call is kept: objtool sees the `ret` at the end of
    // cervus_stack_abort (which returns from the trampoline's frame) and
    // needs the `ud2` to know the call site is a dead end.
    fn cervus_stack_abort(frame: usize);
}

/// Allocates from the kernel (`kvmalloc`, `GFP_KERNEL`): may sleep.
///
/// # Safety
///
/// `size` must be non-zero and `align` a power of two.
pub unsafe fn alloc(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    // SAFETY: forwarded precondition; the glue returns null or a block of
    // `size` bytes aligned to `align`.
    unsafe { cervus_host_alloc(size, align, zeroed) }
}

/// Resizes a block from [`alloc`].
///
/// # Safety
///
/// `ptr` must come from [`alloc`] or `realloc` with `old_size` and `align`.
pub unsafe fn realloc(ptr: *mut u8, old_size: usize, new_size: usize, align: usize) -> *mut u8 {
    // SAFETY: forwarded precondition.
    unsafe { cervus_host_realloc(ptr, old_size, new_size, align) }
}

/// Frees a block from [`alloc`] or [`realloc`].
///
/// # Safety
///
/// `ptr` must be live and come from [`alloc`]/[`realloc`] with `size`, `align`.
pub unsafe fn free(ptr: *mut u8, size: usize, align: usize) {
    // SAFETY: forwarded precondition.
    unsafe { cervus_host_free(ptr, size, align) }
}

/// Writes one line to the kernel log, prefixed with `cervus: `.
pub fn log(level: LogLevel, msg: &str) {
    // SAFETY: the glue reads `len` bytes at `msg` and does not keep them.
    unsafe { cervus_host_log(level as u32, msg.as_ptr(), msg.len()) }
}

/// Writes to the calling process's file descriptor `fd` (0..=2).
/// Returns bytes written or a negative errno.
pub fn stdio_write(fd: u32, bytes: &[u8]) -> isize {
    // SAFETY: the glue reads at most `len` bytes at `buf` and does not keep them.
    unsafe { cervus_host_stdio_write(fd, bytes.as_ptr(), bytes.len()) }
}

/// Whether a signal is pending for the calling task.
pub fn signal_pending() -> bool {
    // SAFETY: no arguments; only reads the current task's state.
    unsafe { cervus_host_signal_pending() }
}

/// `cond_resched()`.
pub fn yield_now() {
    // SAFETY: no arguments; called in process context, where it may sleep.
    unsafe { cervus_host_yield() }
}

/// The current task, as an opaque non-zero token.
pub fn current_task() -> usize {
    // SAFETY: no arguments; returns `current`.
    unsafe { cervus_host_current_task() }
}

/// Abandons the current engine call: restores the stack frame that
/// `cervus_call_on_stack` saved at `frame` and returns
/// `TRAMPOLINE_ABORTED` from it.
///
/// # Safety
///
/// `frame` must be the `abort_frame` the trampoline wrote for a call that is
/// still executing on this task, and nothing on the engine stack above that
/// frame may be used again.
pub unsafe fn stack_abort(frame: usize) -> ! {
    // SAFETY: forwarded precondition.
    unsafe { cervus_stack_abort(frame) };
    // SAFETY: not reached: `cervus_stack_abort` resumes in the trampoline.
    // Were it reached, #UD would report the bug and kill the task.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}
