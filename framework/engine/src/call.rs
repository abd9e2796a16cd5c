// SPDX-License-Identifier: GPL-2.0

//! The C ABI between the kernel module's glue and the engine staticlib.
//!
//! Defined once: the engine uses this file as a module, and the glue
//! includes it with `#[path]`. It has no dependencies for that reason.
//!
//! The glue fills an [`EngineCall`] and runs `cervus_engine_entry(call)` on a
//! private stack through `cervus_call_on_stack` (trampoline.S). If the engine
//! panics, the trampoline returns [`TRAMPOLINE_ABORTED`] instead of the
//! entry's result, and the glue makes one more call with [`OP_RECOVER`] and
//! the same `EngineCall`, which kills the instance the panicking call was
//! running and writes an error reply.

/// Creates the runtime; `init` points at an [`EngineInit`].
pub const OP_INIT: u32 = 1;
/// Handles one `/dev/cvctl` request: `request`, `reply`, `uid` and `pid`.
pub const OP_REQUEST: u32 = 2;
/// Cleans up after a panic of the previous call with this `EngineCall`.
pub const OP_RECOVER: u32 = 3;
/// Drops the runtime. No other call may be running or follow.
pub const OP_SHUTDOWN: u32 = 4;
/// Reads the engine's heap counters into `heap_bytes`/`heap_allocations`.
pub const OP_HEAP_STATS: u32 = 5;

/// What `cervus_call_on_stack` returns when the call completed.
pub const TRAMPOLINE_RETURNED: isize = 0;
/// What `cervus_call_on_stack` returns when the engine panicked.
pub const TRAMPOLINE_ABORTED: isize = 1;

/// Words per stat record from `cervus_host_file_stat` (`cervus_host.h`).
pub const HOST_STAT_WORDS: usize = 8;
/// Words per directory entry from `cervus_host_file_read_dir` (`cervus_host.h`).
pub const HOST_DIRENT_WORDS: usize = 4;
/// `cervus_host_file_status` bit: open for reading.
pub const HOST_STATUS_READ: u32 = 1;
/// `cervus_host_file_status` bit: open for writing.
pub const HOST_STATUS_WRITE: u32 = 2;
/// `cervus_host_file_status` bit: `O_APPEND`.
pub const HOST_STATUS_APPEND: u32 = 4;
/// `cervus_host_file_status` bit: `O_NONBLOCK`.
pub const HOST_STATUS_NONBLOCK: u32 = 8;
/// `cervus_host_file_status`: the file type is in the bits from here.
pub const HOST_STATUS_KIND_SHIFT: u32 = 8;

/// Capacity of [`EngineCall::panic_message`].
pub const PANIC_MESSAGE_LEN: usize = 192;

/// Parameters of [`OP_INIT`] (the module parameters).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EngineInit {
    /// Most instances alive at once.
    pub max_instances: u32,
    /// Non-zero to link the `cervus_test` hostcalls.
    pub test_hooks: u32,
    /// Most open resources and descriptors per instance.
    pub max_files: u32,
    /// Default cap on an instance's linear memory, in bytes.
    pub memory_limit: u64,
    /// Fuel per execution slice.
    pub exec_slice: u64,
}

/// One call into the engine. Owned by the glue, on its kernel stack.
#[repr(C)]
#[derive(Debug)]
pub struct EngineCall {
    /// One of the `OP_*` constants.
    pub op: u32,
    /// Set by the engine: zero or a negative errno.
    pub status: i32,
    /// [`OP_INIT`]: the parameters.
    pub init: *const EngineInit,
    /// [`OP_REQUEST`]: the encoded request.
    pub request: *const u8,
    /// Its length.
    pub request_len: usize,
    /// [`OP_REQUEST`], [`OP_RECOVER`]: buffer for the encoded reply.
    pub reply: *mut u8,
    /// Its capacity (`MAX_REPLY_LEN`).
    pub reply_cap: usize,
    /// Set by the engine: the reply's length.
    pub reply_len: usize,
    /// Effective uid of the calling process.
    pub uid: u32,
    /// Its thread group id.
    pub pid: i32,
    /// [`OP_HEAP_STATS`]: bytes held by the engine.
    pub heap_bytes: u64,
    /// [`OP_HEAP_STATS`]: allocations held by the engine.
    pub heap_allocations: u64,
    /// Written by the trampoline: the stack frame a panic unwinds to.
    pub abort_frame: usize,
    /// Set by the engine's panic handler: the panic message (UTF-8).
    pub panic_message: [u8; PANIC_MESSAGE_LEN],
    /// Its length.
    pub panic_message_len: usize,
}

impl EngineCall {
    /// A call of operation `op` with every other field empty.
    pub const fn new(op: u32) -> Self {
        EngineCall {
            op,
            status: 0,
            init: core::ptr::null(),
            request: core::ptr::null(),
            request_len: 0,
            reply: core::ptr::null_mut(),
            reply_cap: 0,
            reply_len: 0,
            uid: 0,
            pid: 0,
            heap_bytes: 0,
            heap_allocations: 0,
            abort_frame: 0,
            panic_message: [0; PANIC_MESSAGE_LEN],
            panic_message_len: 0,
        }
    }
}
