// SPDX-License-Identifier: MIT OR Apache-2.0

//! The hostcall list.

/// Invokes `$callback!` with every hostcall a wasm module may import.
///
/// This is the single source of truth for hostcall names and wasm
/// signatures. `cervus-core` expands it into its linker registration (each
/// entry must have a host implementation with exactly this signature) and
/// `cervus-guest` into its `extern` import declarations.
///
/// Each entry reads
///
/// ```text
/// /// docs
/// "import-module" fn name(arg: wasm_type, ...) -> wasm_type;
/// ```
///
/// where `wasm_type` is one of `i32`, `i64`, `f32`, `f64`, and the return
/// type may be omitted. Pointers are `i32` offsets into the guest's linear
/// memory; the host treats every (pointer, length) pair as a claim and checks
/// it against the memory on each use. Unless stated otherwise, a hostcall
/// that returns `i32` returns a non-negative value on success and a negative
/// [`Errno`](crate::Errno) code on failure.
///
/// Import modules, and who gets them:
/// - `cervus`: every instance. Basic output.
/// - `cwa`: apps. CommonWA (see `ABI.md` for the exact semantics);
///   errors are CommonWA's -1 unknown, -2 invalid argument, -3 permission
///   denied, -4 not found.
/// - `cervus_drv`: drivers. Capabilities for the one device a driver is
///   bound to; see [`crate::driver`] and `ABI.md`.
/// - `cervus_test`: only when the kernel module was loaded with
///   `test_hooks=1`. Fault injection for the test suite.
///
/// WASI preview 1 has its own list, [`foreach_wasi_hostcall!`].
#[macro_export]
macro_rules! foreach_hostcall {
    ($callback:ident) => {
        $callback! {
            /// Writes `len` bytes at `ptr` to one of the caller's standard
            /// streams: `stream` 1 is standard output, 2 is standard error.
            ///
            /// Returns the number of bytes written (possibly short), or
            /// `InvalidArgument` (bad stream or negative length), `BadPointer`
            /// (the bytes are not all inside linear memory), `Interrupted`
            /// (a signal arrived before anything was written) or `Io`.
            "cervus" fn stdio_write(stream: i32, ptr: i32, len: i32) -> i32;

            /// Panics inside the engine, on purpose. Tests use it to check
            /// that an engine panic kills only the instance that caused it.
            "cervus_test" fn engine_panic();

            /// The major version of the CommonWA spec implemented: 0.
            "cwa" fn runtime_spec_major() -> i32;
            /// The minor version of the CommonWA spec implemented: 0.
            "cwa" fn runtime_spec_minor() -> i32;
            /// Writes the runtime's name (`cervus`) to `ptr`; returns its
            /// length, or -2 if `len` is too small (nothing written).
            "cwa" fn runtime_name(ptr: i32, len: i32) -> i32;
            /// Sleeps `ms` milliseconds; a signal or a kill ends the instance.
            "cwa" fn runtime_msleep(ms: i32);
            /// Logs UTF-8 text to the kernel log, prefixed with the instance;
            /// `level` 1 error, 3 warning, 6 info. Rate-limited.
            "cwa" fn log_write(level: i32, ptr: i32, len: i32);
            /// Copies the value of environment variable `key` to `value`;
            /// returns its length. If it does not fit, nothing is written and
            /// the needed length is returned. -4 if `key` is not set.
            "cwa" fn env_get(key_ptr: i32, key_len: i32, value_ptr: i32, value_len: i32) -> i32;
            /// The number of startup arguments, the program name included.
            "cwa" fn startup_arg_len() -> i32;
            /// Copies argument `index` to `ptr`, truncated to `len`; returns
            /// the bytes written, or -2 if `index` is out of range.
            "cwa" fn startup_arg_at(index: i32, ptr: i32, len: i32) -> i32;
            /// Opens a resource by URL (`null://`, `zero://`, `log://?prefix=P`,
            /// `random://`, `file://PATH?mode=r|w|a|rw`, `ipc-broadcast://NAME`);
            /// returns its id (>= 0) or an error code.
            "cwa" fn resource_open(url_ptr: i32, url_len: i32) -> i32;
            /// Reads up to `len` bytes; returns the count (0 at end of data).
            "cwa" fn resource_read(id: i32, ptr: i32, len: i32) -> i32;
            /// Writes `len` bytes; returns the count written.
            "cwa" fn resource_write(id: i32, ptr: i32, len: i32) -> i32;
            /// Closes a resource. An id that is not open is a fatal error
            /// (the instance traps), as the CommonWA spec says.
            "cwa" fn resource_close(id: i32);
            /// Flushes a resource; returns 0.
            "cwa" fn resource_flush(id: i32) -> i32;
            /// A random `i32` from the kernel's CSPRNG.
            "cwa" fn random_i32() -> i32;
            /// A random `i64` from the kernel's CSPRNG.
            "cwa" fn random_i64() -> i64;
            /// Opens the caller's standard input as a new resource.
            "cwa" fn io_get_stdin() -> i32;
            /// Opens the caller's standard output as a new resource.
            "cwa" fn io_get_stdout() -> i32;
            /// Opens the caller's standard error as a new resource.
            "cwa" fn io_get_stderr() -> i32;

            /// Reads `width` (1, 2, 4) bytes of the device's PCI configuration
            /// space at `offset`; returns the value (>= 0) or an error.
            /// `OutOfBounds` past 4 KiB, `Misaligned`, `InvalidArgument` for
            /// another width.
            "cervus_drv" fn pci_config_read(offset: i32, width: i32) -> i64;
            /// Writes PCI configuration space. Only the command register
            /// (offset 4, width 2) may be written, and only its I/O space,
            /// memory space, bus master and INTx-disable bits; anything else
            /// is `PermissionDenied`.
            "cervus_drv" fn pci_config_write(offset: i32, width: i32, value: i32) -> i32;
            /// Maps memory BAR `bar` (0-5); returns an MMIO handle.
            /// `NotFound` if the BAR is absent or I/O space.
            "cervus_drv" fn mmio_map(bar: i32) -> i32;
            /// The size in bytes of an MMIO handle's BAR.
            "cervus_drv" fn mmio_size(mmio: i32) -> i64;
            /// Reads `width` (1, 2, 4, 8) bytes at `offset` of the BAR into
            /// the little-endian `u64` at `value_ptr`. `BadHandle`,
            /// `OutOfBounds`, `Misaligned`, `InvalidArgument` (width).
            "cervus_drv" fn mmio_read(mmio: i32, offset: i64, width: i32, value_ptr: i32) -> i32;
            /// Writes the low `width` bytes of `value` at `offset` of the BAR.
            "cervus_drv" fn mmio_write(mmio: i32, offset: i64, width: i32, value: i64) -> i32;
            /// Runs `count` (at most 256) MMIO operations of 16 bytes each at
            /// `ops_ptr` (see [`crate::driver::MmioOp`]), in order, after
            /// checking them all; reads store their value in place.
            "cervus_drv" fn mmio_batch(mmio: i32, ops_ptr: i32, count: i32) -> i32;
            /// Declares how many address bits the device can use for DMA
            /// (32 to 64, or fewer for limited devices such as QEMU's `edu`,
            /// 28); buffers are then allocated below that limit. Call before
            /// `dma_alloc`.
            "cervus_drv" fn dma_set_mask(bits: i32) -> i32;
            /// Allocates a coherent DMA buffer of `size` bytes (rounded up to
            /// pages) within the driver's quota; returns a DMA handle.
            "cervus_drv" fn dma_alloc(size: i64) -> i32;
            /// Releases a DMA buffer. Its memory is returned to the kernel
            /// only once the device can no longer reach it (bus mastering off,
            /// or the driver unloaded); it counts against the quota until then.
            "cervus_drv" fn dma_free(dma: i32) -> i32;
            /// The address the device uses for a DMA buffer.
            "cervus_drv" fn dma_bus_addr(dma: i32) -> i64;
            /// The size of a DMA buffer.
            "cervus_drv" fn dma_size(dma: i32) -> i64;
            /// Copies `len` bytes from linear memory at `src` into the buffer
            /// at `offset`.
            "cervus_drv" fn dma_write(dma: i32, offset: i64, src: i32, len: i32) -> i32;
            /// Copies `len` bytes of the buffer at `offset` to linear memory
            /// at `dst`.
            "cervus_drv" fn dma_read(dma: i32, offset: i64, dst: i32, len: i32) -> i32;
            /// Memory barrier between the driver's view of DMA buffers and
            /// the device's: 0 full, 1 read, 2 write.
            "cervus_drv" fn dma_barrier(kind: i32) -> i32;
            /// Allocates between `min` and `max` interrupt vectors of the kinds
            /// in `kinds` (1 MSI-X, 2 MSI, 4 INTx), preferring in that order.
            /// Returns the vector count; [`crate::driver::irq_mode`] says which.
            "cervus_drv" fn irq_alloc(kinds: i32, min: i32, max: i32) -> i32;
            /// The interrupt mode in use: 0 none, 1 MSI-X, 2 MSI, 4 INTx.
            "cervus_drv" fn irq_mode() -> i32;
            /// How the host's hard handler recognises and acknowledges an
            /// INTx interrupt: read `width` bytes at `status_offset` of the
            /// MMIO handle's BAR (zero: not ours); then, if `ack_offset` >= 0,
            /// write that value to `ack_offset`. Required before INTx events
            /// are delivered; the status reaches the driver with the event.
            "cervus_drv" fn irq_intx_config(mmio: i32, status_offset: i64, ack_offset: i64, width: i32) -> i32;
            /// Frees the interrupt vectors.
            "cervus_drv" fn irq_free() -> i32;
            /// Sleeps `us` microseconds (at most one second per call).
            "cervus_drv" fn sleep_us(us: i64) -> i32;
            /// Monotonic time in nanoseconds.
            "cervus_drv" fn now_ns() -> i64;
            /// Arms timer `id` (0-7): `cervus_timer(id)` runs after
            /// `delay_us`, then every `period_us` if that is > 0.
            "cervus_drv" fn timer_start(id: i32, delay_us: i64, period_us: i64) -> i32;
            /// Disarms timer `id`.
            "cervus_drv" fn timer_stop(id: i32) -> i32;
            /// Logs a line (level 3 error, 4 warning, 6 info), prefixed with
            /// the driver's name; rate-limited.
            "cervus_drv" fn log(level: i32, ptr: i32, len: i32) -> i32;
            /// Registers the character device `/dev/NAME` (one per driver):
            /// its open, read, write, ioctl, poll and release reach the
            /// driver's `cervus_chr_*` exports.
            "cervus_drv" fn chrdev_register(name_ptr: i32, name_len: i32) -> i32;
            /// Sets the device's readiness for `poll()` (1 readable, 4
            /// writable) and wakes readers and pollers waiting for it.
            "cervus_drv" fn chrdev_set_ready(mask: i32) -> i32;
            /// During `cervus_chr_write` or `cervus_chr_ioctl`: copies up to
            /// `len` bytes of the caller's buffer, from `offset`, to linear
            /// memory at `dst`; returns the count.
            "cervus_drv" fn user_read(offset: i32, dst: i32, len: i32) -> i32;
            /// During `cervus_chr_read` or `cervus_chr_ioctl`: copies `len`
            /// bytes from linear memory at `src` to the caller's buffer at
            /// `offset`; returns the count.
            "cervus_drv" fn user_write(offset: i32, src: i32, len: i32) -> i32;
            /// Registers the driver's Ethernet interface: a name pattern
            /// (`eth%d`, at most 15 bytes), the 6-byte MAC at `mac_ptr` and
            /// the MTU (68-9000). One per device; it outlives the instance
            /// (a hot swap re-attaches the new one to it), so a second call
            /// must give the same MAC or fails with `InvalidArgument`.
            /// `cervus_net_open`, `cervus_net_stop` and `cervus_net_tx`
            /// then follow the interface.
            "cervus_drv" fn netdev_register(name_ptr: i32, name_len: i32, mac_ptr: i32, mtu: i32) -> i32;
            /// Reports the link up (1) or down (0).
            "cervus_drv" fn netdev_carrier(up: i32) -> i32;
            /// Hands received frames to the network stack: `count` 16-byte
            /// [`crate::driver::FrameOp`]s at `ops_ptr`, each a frame of
            /// `len` bytes at `offset` in DMA buffer `dma` (copied once,
            /// straight into a socket buffer). Returns how many were
            /// delivered; frames arriving while the interface is down are
            /// dropped (and counted).
            "cervus_drv" fn netdev_rx(ops_ptr: i32, count: i32) -> i32;
            /// Takes frames the stack queued for transmission: for each of
            /// the `count` [`crate::driver::FrameOp`]s at `ops_ptr`, copies the
            /// next queued frame into DMA buffer `dma` at `offset` (at most
            /// `len` bytes) and stores its length in `len`. Returns how many
            /// frames were taken (0: the queue is empty); frames longer than
            /// their slot are dropped (and counted).
            "cervus_drv" fn netdev_tx(ops_ptr: i32, count: i32) -> i32;
            /// During `cervus_state_save` (a hot swap): hands the host `len`
            /// bytes of state (at most 64 KiB) for the next version of the
            /// driver. A second call replaces the first.
            "cervus_drv" fn state_save(ptr: i32, len: i32) -> i32;
            /// During `cervus_state_save` (a hot swap): asks that the device
            /// go to the next version as it runs. `cervus_remove` is not
            /// called and the device is not stopped: its DMA buffers pass to
            /// the next version under the same handles (which `dma_size`
            /// and `dma_bus_addr` confirm), instead of being freed. If the
            /// next version fails to start, the device is stopped and those
            /// buffers freed before the old version starts again, afresh.
            /// `InvalidArgument` outside `cervus_state_save`.
            "cervus_drv" fn state_keep_device() -> i32;
            /// During `cervus_probe` after a hot swap: the length of the
            /// state the previous version saved; `NotFound` if it saved none
            /// (a first load, or a driver without `cervus_state_save`).
            "cervus_drv" fn state_len() -> i32;
            /// Copies up to `len` bytes of that state to linear memory at
            /// `ptr`; returns the count.
            "cervus_drv" fn state_restore(ptr: i32, len: i32) -> i32;
        }
    };
}

/// Invokes `$callback!` with every WASI preview 1 function
/// (`wasi_snapshot_preview1`), in the same format as [`foreach_hostcall!`].
///
/// Signatures follow the preview 1 witx definitions. Each returns a WASI
/// errno (0 on success); `proc_exit` does not return. Functions Cervus does
/// not implement return `ENOSYS` (52).
#[macro_export]
macro_rules! foreach_wasi_hostcall {
    ($callback:ident) => {
        $callback! {
            /// Writes the argument pointers to `argv` and the strings to `argv_buf`.
            "wasi_snapshot_preview1" fn args_get(argv: i32, argv_buf: i32) -> i32;
            /// Writes the argument count and the size of their strings.
            "wasi_snapshot_preview1" fn args_sizes_get(argc_ptr: i32, argv_buf_size_ptr: i32) -> i32;
            /// Writes the environment pointers and strings.
            "wasi_snapshot_preview1" fn environ_get(environ: i32, environ_buf: i32) -> i32;
            /// Writes the environment count and the size of its strings.
            "wasi_snapshot_preview1" fn environ_sizes_get(count_ptr: i32, buf_size_ptr: i32) -> i32;
            /// Writes a clock's resolution in nanoseconds.
            "wasi_snapshot_preview1" fn clock_res_get(clock: i32, resolution_ptr: i32) -> i32;
            /// Writes a clock's time in nanoseconds.
            "wasi_snapshot_preview1" fn clock_time_get(clock: i32, precision: i64, time_ptr: i32) -> i32;
            /// File advice: not implemented.
            "wasi_snapshot_preview1" fn fd_advise(fd: i32, offset: i64, len: i64, advice: i32) -> i32;
            /// Space allocation: not implemented.
            "wasi_snapshot_preview1" fn fd_allocate(fd: i32, offset: i64, len: i64) -> i32;
            /// Closes a descriptor.
            "wasi_snapshot_preview1" fn fd_close(fd: i32) -> i32;
            /// Syncs a file's data.
            "wasi_snapshot_preview1" fn fd_datasync(fd: i32) -> i32;
            /// Writes a descriptor's type, flags and rights.
            "wasi_snapshot_preview1" fn fd_fdstat_get(fd: i32, stat_ptr: i32) -> i32;
            /// Sets `append` / `nonblock` on a descriptor.
            "wasi_snapshot_preview1" fn fd_fdstat_set_flags(fd: i32, flags: i32) -> i32;
            /// Drops rights from a descriptor.
            "wasi_snapshot_preview1" fn fd_fdstat_set_rights(fd: i32, rights_base: i64, rights_inheriting: i64) -> i32;
            /// Writes a file's attributes.
            "wasi_snapshot_preview1" fn fd_filestat_get(fd: i32, filestat_ptr: i32) -> i32;
            /// Truncates or extends a file.
            "wasi_snapshot_preview1" fn fd_filestat_set_size(fd: i32, size: i64) -> i32;
            /// Timestamps: not implemented.
            "wasi_snapshot_preview1" fn fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32;
            /// Reads at an offset, without moving the file position.
            "wasi_snapshot_preview1" fn fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread_ptr: i32) -> i32;
            /// Describes a preopened directory.
            "wasi_snapshot_preview1" fn fd_prestat_get(fd: i32, prestat_ptr: i32) -> i32;
            /// Writes a preopened directory's guest path.
            "wasi_snapshot_preview1" fn fd_prestat_dir_name(fd: i32, path: i32, path_len: i32) -> i32;
            /// Writes at an offset, without moving the file position.
            "wasi_snapshot_preview1" fn fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten_ptr: i32) -> i32;
            /// Reads into a list of buffers.
            "wasi_snapshot_preview1" fn fd_read(fd: i32, iovs: i32, iovs_len: i32, nread_ptr: i32) -> i32;
            /// Reads directory entries, starting after `cookie`.
            "wasi_snapshot_preview1" fn fd_readdir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused_ptr: i32) -> i32;
            /// Moves descriptor `fd` to number `to`, closing what `to` was.
            "wasi_snapshot_preview1" fn fd_renumber(fd: i32, to: i32) -> i32;
            /// Moves the file position.
            "wasi_snapshot_preview1" fn fd_seek(fd: i32, offset: i64, whence: i32, newoffset_ptr: i32) -> i32;
            /// Syncs a file's data and metadata.
            "wasi_snapshot_preview1" fn fd_sync(fd: i32) -> i32;
            /// Writes the file position.
            "wasi_snapshot_preview1" fn fd_tell(fd: i32, offset_ptr: i32) -> i32;
            /// Writes a list of buffers.
            "wasi_snapshot_preview1" fn fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten_ptr: i32) -> i32;
            /// Creates a directory beneath a preopen.
            "wasi_snapshot_preview1" fn path_create_directory(fd: i32, path: i32, path_len: i32) -> i32;
            /// Writes the attributes of a path beneath a preopen.
            "wasi_snapshot_preview1" fn path_filestat_get(fd: i32, flags: i32, path: i32, path_len: i32, filestat_ptr: i32) -> i32;
            /// Timestamps: not implemented.
            "wasi_snapshot_preview1" fn path_filestat_set_times(fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32;
            /// Hard links: not implemented.
            "wasi_snapshot_preview1" fn path_link(old_fd: i32, old_flags: i32, old_path: i32, old_path_len: i32, new_fd: i32, new_path: i32, new_path_len: i32) -> i32;
            /// Opens a file or directory beneath a preopen.
            "wasi_snapshot_preview1" fn path_open(fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, rights_base: i64, rights_inheriting: i64, fdflags: i32, fd_ptr: i32) -> i32;
            /// Reads a symbolic link beneath a preopen.
            "wasi_snapshot_preview1" fn path_readlink(fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused_ptr: i32) -> i32;
            /// Removes an empty directory beneath a preopen.
            "wasi_snapshot_preview1" fn path_remove_directory(fd: i32, path: i32, path_len: i32) -> i32;
            /// Renames a path, both ends beneath preopens.
            "wasi_snapshot_preview1" fn path_rename(fd: i32, old_path: i32, old_path_len: i32, new_fd: i32, new_path: i32, new_path_len: i32) -> i32;
            /// Creates a symbolic link beneath a preopen.
            "wasi_snapshot_preview1" fn path_symlink(old_path: i32, old_path_len: i32, fd: i32, new_path: i32, new_path_len: i32) -> i32;
            /// Removes a file beneath a preopen.
            "wasi_snapshot_preview1" fn path_unlink_file(fd: i32, path: i32, path_len: i32) -> i32;
            /// Waits for clock and descriptor events.
            "wasi_snapshot_preview1" fn poll_oneoff(subscriptions: i32, events: i32, nsubscriptions: i32, nevents_ptr: i32) -> i32;
            /// Ends the instance with an exit status.
            "wasi_snapshot_preview1" fn proc_exit(code: i32);
            /// Signals: not implemented.
            "wasi_snapshot_preview1" fn proc_raise(signal: i32) -> i32;
            /// Yields the CPU.
            "wasi_snapshot_preview1" fn sched_yield() -> i32;
            /// Fills a buffer from the kernel's CSPRNG.
            "wasi_snapshot_preview1" fn random_get(buf: i32, buf_len: i32) -> i32;
            /// Sockets: not implemented.
            "wasi_snapshot_preview1" fn sock_accept(fd: i32, flags: i32, fd_ptr: i32) -> i32;
            /// Sockets: not implemented.
            "wasi_snapshot_preview1" fn sock_recv(fd: i32, ri_data: i32, ri_data_len: i32, ri_flags: i32, ro_datalen_ptr: i32, ro_flags_ptr: i32) -> i32;
            /// Sockets: not implemented.
            "wasi_snapshot_preview1" fn sock_send(fd: i32, si_data: i32, si_data_len: i32, si_flags: i32, so_datalen_ptr: i32) -> i32;
            /// Sockets: not implemented.
            "wasi_snapshot_preview1" fn sock_shutdown(fd: i32, how: i32) -> i32;
        }
    };
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::{string::String, vec::Vec};

    macro_rules! collect {
        ($( $(#[$meta:meta])* $module:literal fn $name:ident ($($arg:ident : $ty:ident),* $(,)?) $(-> $ret:ident)? ; )*) => {
            [$( ($module, stringify!($name), { let params: &[&str] = &[$(stringify!($ty)),*]; params.join(",") }, String::from(concat!($(stringify!($ret))?))) ),*]
        };
    }

    #[test]
    fn names_are_unique_and_types_are_wasm_types() {
        let mut list = foreach_hostcall!(collect).to_vec();
        list.extend(foreach_wasi_hostcall!(collect));
        assert_eq!(list.iter().filter(|h| h.0 == "wasi_snapshot_preview1").count(), 46);
        assert_eq!(list.iter().filter(|h| h.0 == "cwa").count(), 18);
        assert_eq!(list.iter().filter(|h| h.0 == "cervus_drv").count(), 36);
        let mut seen = Vec::new();
        for (module, name, params, ret) in list.iter() {
            assert!(!seen.contains(&(module, name)), "duplicate {module}.{name}");
            seen.push((module, name));
            for ty in params.split(',').filter(|t| !t.is_empty()).chain(Some(ret.as_str()).filter(|r| !r.is_empty())) {
                assert!(["i32", "i64", "f32", "f64"].contains(&ty), "{module}.{name}: {ty} is not a wasm type");
            }
        }
    }
}
