// SPDX-License-Identifier: GPL-2.0

//! Services the kernel module's glue exports to the engine.
//!
//! They are plain C-ABI functions, called directly (no function pointers
//! cross the boundary): allocation, logging and task state in
//! `framework/kmod/host.rs`; files, clocks and the like in
//! `framework/kmod/{files,helpers}.c` (declared in `cervus_host.h`); and
//! `cervus_stack_abort` in `trampoline.S`. The wrappers below are safe: each
//! passes only valid pointers and lengths, and the glue checks the rest
//! (file handles against the calling instance).

use crate::call::{HOST_DIRENT_WORDS, HOST_STAT_WORDS, HostBindSpec, HostBound};

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
    fn cervus_host_dev_bind(spec: *const HostBindSpec, out: *mut HostBound) -> isize;
    fn cervus_host_dev_lock(dev: u64);
    fn cervus_host_dev_unlock(dev: u64);
    fn cervus_host_dev_quiesce(dev: u64);
    fn cervus_host_dev_unbind(dev: u64);
    fn cervus_host_dev_config_read(dev: u64, offset: u16, width: u8, value: *mut u32) -> isize;
    fn cervus_host_dev_config_write(dev: u64, offset: u16, width: u8, value: u32) -> isize;
    fn cervus_host_dev_bar_size(dev: u64, bar: u8, size: *mut u64) -> isize;
    fn cervus_host_dev_mmio_map(dev: u64, bar: u8) -> isize;
    fn cervus_host_dev_mmio_read(dev: u64, bar: u8, offset: u64, width: u8, value: *mut u64) -> isize;
    fn cervus_host_dev_mmio_write(dev: u64, bar: u8, offset: u64, width: u8, value: u64) -> isize;
    fn cervus_host_dev_dma_set_mask(dev: u64, bits: u8) -> isize;
    fn cervus_host_dev_dma_alloc(dev: u64, size: usize, id: *mut u64, bus_addr: *mut u64) -> isize;
    fn cervus_host_dev_dma_free(dev: u64, id: u64);
    fn cervus_host_dev_dma_copy(dev: u64, id: u64, offset: usize, buf: *mut u8, len: usize, to_buffer: bool) -> isize;
    fn cervus_host_dma_barrier(kind: u8);
    fn cervus_host_dev_irq_alloc(dev: u64, kinds: i32, min: u32, max: u32, count: *mut u32) -> isize;
    fn cervus_host_dev_irq_intx_config(dev: u64, bar: u8, status: u64, ack: i64, width: u8) -> isize;
    fn cervus_host_dev_irq_free(dev: u64);
    fn cervus_host_dev_timer_start(dev: u64, id: u8, delay_ns: u64, period_ns: u64) -> isize;
    fn cervus_host_dev_timer_stop(dev: u64, id: u8);
    fn cervus_host_dev_chrdev_register(dev: u64, name: *const u8, len: usize) -> isize;
    fn cervus_host_dev_chrdev_set_ready(dev: u64, mask: u32);
    fn cervus_host_dev_netdev_register(
        dev: u64,
        pattern: *const u8,
        len: usize,
        mac: *const u8,
        mtu: u32,
        name: *mut u8,
    ) -> isize;
    fn cervus_host_dev_netdev_carrier(dev: u64, up: bool);
    fn cervus_host_dev_netdev_running(dev: u64) -> bool;
    fn cervus_host_dev_netdev_link(dev: u64) -> i32;
    fn cervus_host_dev_pause(dev: u64);
    fn cervus_host_dev_halt_dma(dev: u64);
    fn cervus_host_dev_resume(dev: u64, net_up: bool);
    fn cervus_host_dev_netdev_rx(dev: u64, id: u64, offset: usize, len: usize) -> isize;
    fn cervus_host_dev_netdev_rx_flush(dev: u64);
    fn cervus_host_dev_netdev_tx(dev: u64, id: u64, offset: usize, cap: usize) -> isize;
    fn cervus_host_copy_from_user(dst: *mut u8, user: u64, len: usize) -> isize;
    fn cervus_host_copy_to_user(user: u64, src: *const u8, len: usize) -> isize;
    fn cervus_host_alloc(size: usize, align: usize, zeroed: bool) -> *mut u8;
    fn cervus_host_realloc(ptr: *mut u8, old_size: usize, new_size: usize, align: usize) -> *mut u8;
    fn cervus_host_free(ptr: *mut u8, size: usize, align: usize);
    fn cervus_host_log(level: u32, msg: *const u8, len: usize);
    fn cervus_host_signal_pending() -> bool;
    fn cervus_host_yield();
    fn cervus_host_jit_arena(size: *mut usize) -> *mut u8;
    fn cervus_host_jit_write(dst: *mut u8, src: *const u8, len: usize) -> isize;
    fn cervus_host_jit_enter(entry: *const u8, vmctx: *mut core::ffi::c_void, values: *mut u64, fpu: bool) -> isize;
    fn cervus_host_fpu_begin();
    fn cervus_host_fpu_end();
    fn cervus_host_current_task() -> usize;
    fn cervus_host_interrupt_task(task: usize);
    fn cervus_host_now(clock: u32) -> u64;
    fn cervus_host_sleep_ns(ns: u64) -> bool;
    fn cervus_host_random(buf: *mut u8, len: usize);
    fn cervus_host_capable_sys_admin() -> bool;
    fn cervus_host_file_stdio(owner: u32, fd: u32) -> u64;
    fn cervus_host_file_open(owner: u32, path: *const u8, len: usize, flags: i32, handle: *mut u64) -> isize;
    fn cervus_host_file_open_at(
        owner: u32,
        dir: u64,
        path: *const u8,
        len: usize,
        flags: i32,
        mode: u32,
        handle: *mut u64,
    ) -> isize;
    fn cervus_host_file_close(owner: u32, handle: u64);
    fn cervus_host_files_release(owner: u32);
    fn cervus_host_file_read(owner: u32, handle: u64, buf: *mut u8, len: usize, offset: u64, at: bool) -> isize;
    fn cervus_host_file_write(owner: u32, handle: u64, buf: *const u8, len: usize, offset: u64, at: bool) -> isize;
    fn cervus_host_file_seek(owner: u32, handle: u64, offset: i64, whence: i32, pos: *mut u64) -> isize;
    fn cervus_host_file_stat(owner: u32, handle: u64, out: *mut u64) -> isize;
    fn cervus_host_file_stat_at(
        owner: u32,
        dir: u64,
        path: *const u8,
        len: usize,
        follow: bool,
        out: *mut u64,
    ) -> isize;
    fn cervus_host_file_status(owner: u32, handle: u64, status: *mut u32) -> isize;
    fn cervus_host_file_set_status(owner: u32, handle: u64, append: bool, nonblock: bool) -> isize;
    fn cervus_host_file_read_dir(
        owner: u32,
        dir: u64,
        cookie: u64,
        entries: *mut u64,
        max: usize,
        names: *mut u8,
        names_cap: usize,
        count: *mut usize,
    ) -> isize;
    fn cervus_host_file_mkdir_at(owner: u32, dir: u64, path: *const u8, len: usize) -> isize;
    fn cervus_host_file_rmdir_at(owner: u32, dir: u64, path: *const u8, len: usize) -> isize;
    fn cervus_host_file_unlink_at(owner: u32, dir: u64, path: *const u8, len: usize) -> isize;
    fn cervus_host_file_rename_at(
        owner: u32,
        old_dir: u64,
        old: *const u8,
        old_len: usize,
        new_dir: u64,
        new: *const u8,
        new_len: usize,
    ) -> isize;
    fn cervus_host_file_symlink_at(
        owner: u32,
        target: *const u8,
        target_len: usize,
        dir: u64,
        path: *const u8,
        len: usize,
    ) -> isize;
    fn cervus_host_file_readlink_at(
        owner: u32,
        dir: u64,
        path: *const u8,
        len: usize,
        buf: *mut u8,
        cap: usize,
    ) -> isize;
    fn cervus_host_file_sync(owner: u32, handle: u64, data_only: bool) -> isize;
    fn cervus_host_file_set_size(owner: u32, handle: u64, size: u64) -> isize;
    fn cervus_host_file_readable_now(owner: u32, handle: u64) -> bool;
    fn cervus_stack_abort(frame: usize);
}

/// A result from the glue: a non-negative value or a negative errno.
pub type HostResult<T> = Result<T, i32>;

fn check(ret: isize) -> HostResult<usize> {
    if ret >= 0 { Ok(ret as usize) } else { Err(-(ret as i32)) }
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

/// The JIT's code arena: its first byte and its size.
pub fn jit_arena() -> (*mut u8, usize) {
    let mut size = 0;
    // SAFETY: writes the size to a valid location; returns a static address.
    let base = unsafe { cervus_host_jit_arena(&mut size) };
    (base, size)
}

/// Writes `bytes` (or int3 filler, for `None`, `len` bytes) at `dst` in the
/// JIT arena, through a temporary writable alias.
///
/// # Safety
///
/// `dst..dst + len` lies in the arena and no code there runs or will run
/// until the write is complete.
pub unsafe fn jit_write(dst: *mut u8, bytes: Option<&[u8]>, len: usize) -> HostResult<()> {
    let src = bytes.map_or(core::ptr::null(), <[u8]>::as_ptr);
    let len = bytes.map_or(len, <[u8]>::len);
    // SAFETY: the caller's contract; `src` is null or valid for `len` bytes.
    check(unsafe { cervus_host_jit_write(dst, src, len) }).map(drop)
}

/// Calls compiled code at `entry`, inside a kernel FPU section if `fpu`.
///
/// # Safety
///
/// `entry` is an array-call entry of code in the arena, `vmctx` and
/// `values` what that code expects (see `cervus_jit::runtime::Code::enter`).
pub unsafe fn jit_enter(
    entry: *const u8,
    vmctx: *mut core::ffi::c_void,
    values: *mut u64,
    fpu: bool,
) -> HostResult<()> {
    // SAFETY: the caller's contract.
    check(unsafe { cervus_host_jit_enter(entry, vmctx, values, fpu) }).map(drop)
}

/// Starts a kernel FPU section (after [`fpu_end`], inside a call of
/// [`jit_enter`] with `fpu`).
pub fn fpu_begin() {
    // SAFETY: no arguments; pairs with a preceding `fpu_end`.
    unsafe { cervus_host_fpu_begin() }
}

/// Ends the kernel FPU section [`jit_enter`] started.
pub fn fpu_end() {
    // SAFETY: no arguments; called only inside an FPU section.
    unsafe { cervus_host_fpu_end() }
}

/// The current task, as an opaque non-zero token.
pub fn current_task() -> usize {
    // SAFETY: no arguments; returns `current`.
    unsafe { cervus_host_current_task() }
}

/// Interrupts `task`'s interruptible waits.
///
/// # Safety
///
/// `task` must be a token from [`current_task`] of a task that is running
/// an instance and cannot leave it meanwhile (the registry's lock is held).
pub unsafe fn interrupt_task(task: usize) {
    // SAFETY: forwarded precondition.
    unsafe { cervus_host_interrupt_task(task) }
}

/// A clock's time in nanoseconds (WASI clock numbering).
pub fn now(clock: u32) -> u64 {
    // SAFETY: plain values.
    unsafe { cervus_host_now(clock) }
}

/// Sleeps up to `ns`; `false` if a signal woke the task.
pub fn sleep_ns(ns: u64) -> bool {
    // SAFETY: plain values; process context.
    unsafe { cervus_host_sleep_ns(ns) }
}

/// Fills `buf` from the kernel's CSPRNG.
pub fn random(buf: &mut [u8]) {
    // SAFETY: the glue writes exactly `len` bytes at `buf`.
    unsafe { cervus_host_random(buf.as_mut_ptr(), buf.len()) }
}

/// `capable(CAP_SYS_ADMIN)` for the calling task.
pub fn capable_sys_admin() -> bool {
    // SAFETY: no arguments.
    unsafe { cervus_host_capable_sys_admin() }
}

/// A new handle for the caller's file descriptor `fd` (0-2); 0 if closed.
pub fn file_stdio(owner: u32, fd: u32) -> u64 {
    // SAFETY: plain values.
    unsafe { cervus_host_file_stdio(owner, fd) }
}

/// `filp_open(path, flags)` as the caller.
pub fn file_open(owner: u32, path: &str, flags: i32) -> HostResult<u64> {
    let mut handle = 0;
    // SAFETY: `path` is valid for its length; `handle` is writable.
    check(unsafe { cervus_host_file_open(owner, path.as_ptr(), path.len(), flags, &mut handle) })?;
    Ok(handle)
}

/// Opens `path` beneath directory handle `dir`.
pub fn file_open_at(owner: u32, dir: u64, path: &str, flags: i32, mode: u32) -> HostResult<u64> {
    let mut handle = 0;
    // SAFETY: `path` is valid for its length; `handle` is writable.
    check(unsafe { cervus_host_file_open_at(owner, dir, path.as_ptr(), path.len(), flags, mode, &mut handle) })?;
    Ok(handle)
}

/// Closes a handle.
pub fn file_close(owner: u32, handle: u64) {
    // SAFETY: plain values.
    unsafe { cervus_host_file_close(owner, handle) }
}

/// Closes every handle `owner` holds.
pub fn files_release(owner: u32) {
    // SAFETY: plain values.
    unsafe { cervus_host_files_release(owner) }
}

/// Reads at the position or at `at`.
pub fn file_read(owner: u32, handle: u64, buf: &mut [u8], at: Option<u64>) -> HostResult<usize> {
    // SAFETY: `buf` is writable for its length.
    check(unsafe { cervus_host_file_read(owner, handle, buf.as_mut_ptr(), buf.len(), at.unwrap_or(0), at.is_some()) })
}

/// Writes at the position or at `at`.
pub fn file_write(owner: u32, handle: u64, buf: &[u8], at: Option<u64>) -> HostResult<usize> {
    // SAFETY: `buf` is readable for its length.
    check(unsafe { cervus_host_file_write(owner, handle, buf.as_ptr(), buf.len(), at.unwrap_or(0), at.is_some()) })
}

/// `vfs_llseek`.
pub fn file_seek(owner: u32, handle: u64, offset: i64, whence: i32) -> HostResult<u64> {
    let mut pos = 0;
    // SAFETY: `pos` is writable.
    check(unsafe { cervus_host_file_seek(owner, handle, offset, whence, &mut pos) })?;
    Ok(pos)
}

/// Attributes of an open file.
pub fn file_stat(owner: u32, handle: u64) -> HostResult<[u64; HOST_STAT_WORDS]> {
    let mut out = [0u64; HOST_STAT_WORDS];
    // SAFETY: `out` has the HOST_STAT_WORDS words the glue writes.
    check(unsafe { cervus_host_file_stat(owner, handle, out.as_mut_ptr()) })?;
    Ok(out)
}

/// Attributes of `path` beneath `dir`.
pub fn file_stat_at(owner: u32, dir: u64, path: &str, follow: bool) -> HostResult<[u64; HOST_STAT_WORDS]> {
    let mut out = [0u64; HOST_STAT_WORDS];
    // SAFETY: `path` is valid for its length; `out` has HOST_STAT_WORDS words.
    check(unsafe { cervus_host_file_stat_at(owner, dir, path.as_ptr(), path.len(), follow, out.as_mut_ptr()) })?;
    Ok(out)
}

/// Status bits of an open file (`HOST_STATUS_*`).
pub fn file_status(owner: u32, handle: u64) -> HostResult<u32> {
    let mut status = 0;
    // SAFETY: `status` is writable.
    check(unsafe { cervus_host_file_status(owner, handle, &mut status) })?;
    Ok(status)
}

/// Sets `O_APPEND` and `O_NONBLOCK`.
pub fn file_set_status(owner: u32, handle: u64, append: bool, nonblock: bool) -> HostResult<()> {
    // SAFETY: plain values.
    check(unsafe { cervus_host_file_set_status(owner, handle, append, nonblock) }).map(drop)
}

/// Reads entries of `dir` from `cookie`: up to `entries.len() /
/// HOST_DIRENT_WORDS` of them, names packed into `names`. Returns the count.
pub fn file_read_dir(owner: u32, dir: u64, cookie: u64, entries: &mut [u64], names: &mut [u8]) -> HostResult<usize> {
    let mut count = 0;
    // SAFETY: both buffers are writable for the lengths passed.
    check(unsafe {
        cervus_host_file_read_dir(
            owner,
            dir,
            cookie,
            entries.as_mut_ptr(),
            entries.len() / HOST_DIRENT_WORDS,
            names.as_mut_ptr(),
            names.len(),
            &mut count,
        )
    })?;
    Ok(count)
}

/// Creates a directory beneath `dir`.
pub fn file_mkdir_at(owner: u32, dir: u64, path: &str) -> HostResult<()> {
    // SAFETY: `path` is valid for its length.
    check(unsafe { cervus_host_file_mkdir_at(owner, dir, path.as_ptr(), path.len()) }).map(drop)
}

/// Removes a directory beneath `dir`.
pub fn file_rmdir_at(owner: u32, dir: u64, path: &str) -> HostResult<()> {
    // SAFETY: `path` is valid for its length.
    check(unsafe { cervus_host_file_rmdir_at(owner, dir, path.as_ptr(), path.len()) }).map(drop)
}

/// Removes a file beneath `dir`.
pub fn file_unlink_at(owner: u32, dir: u64, path: &str) -> HostResult<()> {
    // SAFETY: `path` is valid for its length.
    check(unsafe { cervus_host_file_unlink_at(owner, dir, path.as_ptr(), path.len()) }).map(drop)
}

/// Renames beneath directories.
pub fn file_rename_at(owner: u32, old_dir: u64, old: &str, new_dir: u64, new: &str) -> HostResult<()> {
    // SAFETY: both paths are valid for their lengths.
    check(unsafe {
        cervus_host_file_rename_at(owner, old_dir, old.as_ptr(), old.len(), new_dir, new.as_ptr(), new.len())
    })
    .map(drop)
}

/// Creates a symbolic link beneath `dir`.
pub fn file_symlink_at(owner: u32, target: &str, dir: u64, path: &str) -> HostResult<()> {
    // SAFETY: both strings are valid for their lengths.
    check(unsafe { cervus_host_file_symlink_at(owner, target.as_ptr(), target.len(), dir, path.as_ptr(), path.len()) })
        .map(drop)
}

/// Reads a symbolic link beneath `dir`.
pub fn file_readlink_at(owner: u32, dir: u64, path: &str, buf: &mut [u8]) -> HostResult<usize> {
    // SAFETY: `path` is valid for its length, `buf` writable for its length.
    check(unsafe { cervus_host_file_readlink_at(owner, dir, path.as_ptr(), path.len(), buf.as_mut_ptr(), buf.len()) })
}

/// `vfs_fsync`.
pub fn file_sync(owner: u32, handle: u64, data_only: bool) -> HostResult<()> {
    // SAFETY: plain values.
    check(unsafe { cervus_host_file_sync(owner, handle, data_only) }).map(drop)
}

/// `vfs_truncate`.
pub fn file_set_size(owner: u32, handle: u64, size: u64) -> HostResult<()> {
    // SAFETY: plain values.
    check(unsafe { cervus_host_file_set_size(owner, handle, size) }).map(drop)
}

/// Whether a read would not block.
pub fn file_readable_now(owner: u32, handle: u64) -> bool {
    // SAFETY: plain values.
    unsafe { cervus_host_file_readable_now(owner, handle) }
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

/// Device services for drivers (`framework/kmod/devices`). `dev` is always a
/// handle from [`dev_bind`] not yet passed to [`dev_unbind`]: the core only
/// uses the devices its drivers bound, until it unbinds them.
pub mod dev {
    use super::*;

    /// Finds and binds a device.
    pub fn bind(spec: &HostBindSpec) -> HostResult<HostBound> {
        let mut out = HostBound { dev: 0, vendor: 0, device: 0, slot: [0; 16] };
        // SAFETY: both pointers are valid for their types during the call.
        check(unsafe { cervus_host_dev_bind(spec, &mut out) }).map(|_| out)
    }

    /// Takes the device's driver lock (sleeps).
    pub fn lock(dev: u64) {
        // SAFETY: a live device handle (module contract).
        unsafe { cervus_host_dev_lock(dev) }
    }

    /// Releases the device's driver lock.
    pub fn unlock(dev: u64) {
        // SAFETY: a live device handle, locked by this task.
        unsafe { cervus_host_dev_unlock(dev) }
    }

    /// Stops the device's own activity.
    pub fn quiesce(dev: u64) {
        // SAFETY: a live device handle.
        unsafe { cervus_host_dev_quiesce(dev) }
    }

    /// Releases the device; the handle is dead afterwards.
    pub fn unbind(dev: u64) {
        // SAFETY: a live device handle, never used again by the core.
        unsafe { cervus_host_dev_unbind(dev) }
    }

    /// Reads configuration space.
    pub fn config_read(dev: u64, offset: u16, width: u8) -> HostResult<u32> {
        let mut value = 0;
        // SAFETY: a live handle; `value` is valid for writing.
        check(unsafe { cervus_host_dev_config_read(dev, offset, width, &mut value) }).map(|_| value)
    }

    /// Writes configuration space.
    pub fn config_write(dev: u64, offset: u16, width: u8, value: u32) -> HostResult<()> {
        // SAFETY: a live handle.
        check(unsafe { cervus_host_dev_config_write(dev, offset, width, value) }).map(drop)
    }

    /// The size of a memory BAR.
    pub fn bar_size(dev: u64, bar: u8) -> HostResult<u64> {
        let mut size = 0;
        // SAFETY: a live handle; `size` is valid for writing.
        check(unsafe { cervus_host_dev_bar_size(dev, bar, &mut size) }).map(|_| size)
    }

    /// Maps a memory BAR.
    pub fn mmio_map(dev: u64, bar: u8) -> HostResult<()> {
        // SAFETY: a live handle.
        check(unsafe { cervus_host_dev_mmio_map(dev, bar) }).map(drop)
    }

    /// Reads a mapped BAR.
    pub fn mmio_read(dev: u64, bar: u8, offset: u64, width: u8) -> HostResult<u64> {
        let mut value = 0;
        // SAFETY: a live handle; `value` is valid for writing.
        check(unsafe { cervus_host_dev_mmio_read(dev, bar, offset, width, &mut value) }).map(|_| value)
    }

    /// Writes a mapped BAR.
    pub fn mmio_write(dev: u64, bar: u8, offset: u64, width: u8, value: u64) -> HostResult<()> {
        // SAFETY: a live handle.
        check(unsafe { cervus_host_dev_mmio_write(dev, bar, offset, width, value) }).map(drop)
    }

    /// Sets the DMA mask.
    pub fn dma_set_mask(dev: u64, bits: u8) -> HostResult<()> {
        // SAFETY: a live handle.
        check(unsafe { cervus_host_dev_dma_set_mask(dev, bits) }).map(drop)
    }

    /// Allocates a coherent buffer: (id, bus address).
    pub fn dma_alloc(dev: u64, size: usize) -> HostResult<(u64, u64)> {
        let (mut id, mut bus) = (0, 0);
        // SAFETY: a live handle; both outputs are valid for writing.
        check(unsafe { cervus_host_dev_dma_alloc(dev, size, &mut id, &mut bus) }).map(|_| (id, bus))
    }

    /// Frees a coherent buffer.
    pub fn dma_free(dev: u64, id: u64) {
        // SAFETY: a live handle; the glue checks `id`.
        unsafe { cervus_host_dev_dma_free(dev, id) }
    }

    /// Copies `src` into buffer `id` at `offset`.
    pub fn dma_write(dev: u64, id: u64, offset: usize, src: &[u8]) -> HostResult<()> {
        // SAFETY: the glue only reads `len` bytes at the pointer when
        // `to_buffer` is set.
        check(unsafe { cervus_host_dev_dma_copy(dev, id, offset, src.as_ptr().cast_mut(), src.len(), true) }).map(drop)
    }

    /// Copies from buffer `id` at `offset` into `dst`.
    pub fn dma_read(dev: u64, id: u64, offset: usize, dst: &mut [u8]) -> HostResult<()> {
        // SAFETY: `dst` is valid for writing `len` bytes.
        check(unsafe { cervus_host_dev_dma_copy(dev, id, offset, dst.as_mut_ptr(), dst.len(), false) }).map(drop)
    }

    /// A DMA memory barrier: 0 full, 1 read, 2 write.
    pub fn dma_barrier(kind: u8) {
        // SAFETY: a plain value.
        unsafe { cervus_host_dma_barrier(kind) }
    }

    /// Allocates interrupt vectors: (mode, count).
    pub fn irq_alloc(dev: u64, kinds: i32, min: u32, max: u32) -> HostResult<(i32, u32)> {
        let mut count = 0;
        // SAFETY: a live handle; `count` is valid for writing.
        check(unsafe { cervus_host_dev_irq_alloc(dev, kinds, min, max, &mut count) }).map(|mode| (mode as i32, count))
    }

    /// Configures INTx status/acknowledge registers.
    pub fn irq_intx_config(dev: u64, bar: u8, status: u64, ack: Option<u64>, width: u8) -> HostResult<()> {
        let ack = ack.map_or(-1, |a| a as i64);
        // SAFETY: a live handle.
        check(unsafe { cervus_host_dev_irq_intx_config(dev, bar, status, ack, width) }).map(drop)
    }

    /// Frees the interrupt vectors.
    pub fn irq_free(dev: u64) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_irq_free(dev) }
    }

    /// Arms a timer.
    pub fn timer_start(dev: u64, id: u8, delay_ns: u64, period_ns: u64) -> HostResult<()> {
        // SAFETY: a live handle.
        check(unsafe { cervus_host_dev_timer_start(dev, id, delay_ns, period_ns) }).map(drop)
    }

    /// Disarms a timer.
    pub fn timer_stop(dev: u64, id: u8) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_timer_stop(dev, id) }
    }

    /// Registers the character device.
    pub fn chrdev_register(dev: u64, name: &str) -> HostResult<()> {
        // SAFETY: the glue reads `len` bytes of `name` and copies them.
        check(unsafe { cervus_host_dev_chrdev_register(dev, name.as_ptr(), name.len()) }).map(drop)
    }

    /// Sets the character device's readiness.
    pub fn chrdev_set_ready(dev: u64, mask: u32) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_chrdev_set_ready(dev, mask) }
    }

    /// `copy_from_user` from the calling task's address `user`.
    pub fn copy_from_user(dst: &mut [u8], user: u64) -> HostResult<()> {
        // SAFETY: `dst` is valid for writing `len` bytes; the user address
        // is checked by `copy_from_user`.
        check(unsafe { cervus_host_copy_from_user(dst.as_mut_ptr(), user, dst.len()) }).map(drop)
    }

    /// `copy_to_user` to the calling task's address `user`.
    pub fn copy_to_user(user: u64, src: &[u8]) -> HostResult<()> {
        // SAFETY: `src` is valid for reading `len` bytes; the user address
        // is checked by `copy_to_user`.
        check(unsafe { cervus_host_copy_to_user(user, src.as_ptr(), src.len()) }).map(drop)
    }

    /// Registers (or re-attaches) the Ethernet interface; its name.
    pub fn netdev_register(dev: u64, pattern: &str, mac: [u8; 6], mtu: u32) -> HostResult<[u8; 16]> {
        let mut name = [0u8; 16];
        // SAFETY: a live handle; the pointers are valid for their lengths
        // (pattern `len`, mac 6, name 16).
        check(unsafe {
            cervus_host_dev_netdev_register(dev, pattern.as_ptr(), pattern.len(), mac.as_ptr(), mtu, name.as_mut_ptr())
        })
        .map(|_| name)
    }

    /// Sets the carrier.
    pub fn netdev_carrier(dev: u64, up: bool) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_netdev_carrier(dev, up) }
    }

    /// Delivers a received frame; whether it was delivered.
    pub fn netdev_rx(dev: u64, id: u64, offset: usize, len: usize) -> HostResult<bool> {
        // SAFETY: a live handle; the glue checks the buffer range.
        check(unsafe { cervus_host_dev_netdev_rx(dev, id, offset, len) }).map(|n| n == 1)
    }

    /// Hands the frames received so far to the stack.
    pub fn netdev_rx_flush(dev: u64) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_netdev_rx_flush(dev) }
    }

    /// Takes a queued frame; its length, `None` if the queue is empty.
    pub fn netdev_tx(dev: u64, id: u64, offset: usize, cap: usize) -> HostResult<Option<usize>> {
        // SAFETY: a live handle; the glue checks the buffer range.
        check(unsafe { cervus_host_dev_netdev_tx(dev, id, offset, cap) }).map(|n| (n > 0).then_some(n))
    }

    /// Whether the interface exists and is up.
    pub fn netdev_running(dev: u64) -> bool {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_netdev_running(dev) }
    }

    /// The carrier last reported, if there is an interface.
    pub fn netdev_link(dev: u64) -> Option<bool> {
        // SAFETY: a live handle.
        match unsafe { cervus_host_dev_netdev_link(dev) } {
            -1 => None,
            up => Some(up != 0),
        }
    }

    /// A hot swap begins.
    pub fn pause(dev: u64) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_pause(dev) }
    }

    /// During a pause: bus mastering off, before buffers are freed.
    pub fn halt_dma(dev: u64) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_halt_dma(dev) }
    }

    /// It ends.
    pub fn resume(dev: u64, net_up: bool) {
        // SAFETY: a live handle.
        unsafe { cervus_host_dev_resume(dev, net_up) }
    }
}
