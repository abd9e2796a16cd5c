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
/// Delivers an event to a driver: `event` points at an [`EngineEvent`].
pub const OP_DRIVER_EVENT: u32 = 6;
/// Unloads every driver (before the module goes away).
pub const OP_UNLOAD_DRIVERS: u32 = 7;

/// [`EngineEvent::kind`]: interrupts; `a` vector, `b` INTx status, `c` count.
pub const EVENT_IRQ: u32 = 1;
/// [`EngineEvent::kind`]: timer `a` fired.
pub const EVENT_TIMER: u32 = 2;
/// [`EngineEvent::kind`]: file `a` of the driver's char device was opened.
pub const EVENT_CHR_OPEN: u32 = 3;
/// [`EngineEvent::kind`]: file `a` was closed.
pub const EVENT_CHR_RELEASE: u32 = 4;
/// [`EngineEvent::kind`]: `read(2)` on file `a` into the user buffer, at `offset`.
pub const EVENT_CHR_READ: u32 = 5;
/// [`EngineEvent::kind`]: `write(2)` on file `a` from the user buffer, at `offset`.
pub const EVENT_CHR_WRITE: u32 = 6;
/// [`EngineEvent::kind`]: `ioctl(2)` on file `a`, command `b`, argument in the user buffer.
pub const EVENT_CHR_IOCTL: u32 = 7;
/// [`EngineEvent::kind`]: the network interface was brought up.
pub const EVENT_NET_OPEN: u32 = 8;
/// [`EngineEvent::kind`]: the network interface was brought down.
pub const EVENT_NET_STOP: u32 = 9;
/// [`EngineEvent::kind`]: frames are queued for transmission.
pub const EVENT_NET_TX: u32 = 10;

/// An event for a driver ([`OP_DRIVER_EVENT`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineEvent {
    /// The driver's instance id.
    pub instance: u32,
    /// One of the `EVENT_*` constants.
    pub kind: u32,
    /// First argument (see the kinds).
    pub a: u32,
    /// Second argument.
    pub b: u32,
    /// Third argument.
    pub c: u32,
    /// The user buffer's address (character-device calls).
    pub user_addr: u64,
    /// Its length.
    pub user_len: u64,
    /// The file offset (read, write).
    pub offset: i64,
    /// Set by the engine: the system call's result, a count or a negative
    /// errno (`-EAGAIN`: the driver would block).
    pub result: i64,
}

/// Most PCI ids in a [`HostBindSpec`].
pub const BIND_MAX_IDS: usize = 16;

/// Which device to bind (`cervus_host_dev_bind`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostBindSpec {
    /// The driver's instance id.
    pub owner: u32,
    /// Acceptable ids, `vendor << 16 | device`.
    pub ids: [u32; BIND_MAX_IDS],
    /// How many of `ids` are used; 0 with a slot means any.
    pub ids_len: u32,
    /// Non-zero if `domain`, `bus`, `devfn` name the device.
    pub has_slot: u32,
    /// PCI domain.
    pub domain: u32,
    /// Bus.
    pub bus: u32,
    /// Device and function, `device << 3 | function`.
    pub devfn: u32,
    /// Non-zero to take the device from the driver it is bound to.
    pub rebind: u32,
    /// The driver's name (UTF-8, not NUL-terminated).
    pub name: [u8; 32],
    /// Its length.
    pub name_len: u32,
}

/// A bound device (`cervus_host_dev_bind`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostBound {
    /// The glue's handle for the device, valid until `cervus_host_dev_unbind`.
    pub dev: u64,
    /// PCI vendor id.
    pub vendor: u16,
    /// PCI device id.
    pub device: u16,
    /// Its address as `DDDD:BB:DD.F` (NUL-padded).
    pub slot: [u8; 16],
}

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
    /// Fuel per call into a driver.
    pub driver_budget: u64,
    /// Bytes of DMA memory per driver.
    pub dma_quota: u64,
    /// Milliseconds a swapped-in network driver has to bring its link up.
    pub swap_ready_ms: u64,
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
    /// [`OP_DRIVER_EVENT`]: the event, and its result.
    pub event: *mut EngineEvent,
    /// Written by the trampoline: the stack frame a panic unwinds to.
    pub abort_frame: usize,
    /// Set by the glue: the lowest address of the private stack the call
    /// runs on (JIT-compiled code keeps its frames well above it).
    pub stack_base: usize,
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
            event: core::ptr::null_mut(),
            abort_frame: 0,
            stack_base: 0,
            panic_message: [0; PANIC_MESSAGE_LEN],
            panic_message_len: 0,
        }
    }
}
