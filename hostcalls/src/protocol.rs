// SPDX-License-Identifier: MIT OR Apache-2.0

//! Requests and replies carried by the [`CVCTL_CALL`](crate::device::CVCTL_CALL) ioctl.
//!
//! Both are encoded with `postcard`. Every variable-sized field is bounded:
//! strings and lists in replies by their `heapless` capacity, borrowed fields
//! of requests by [`Request::check`]. A request that does not decode, or
//! decodes with trailing bytes, or fails its check, is answered with
//! `EINVAL` by the kernel.

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

/// Lists in replies live on the heap: a reply is built in the kernel, where
/// large stack frames are unwelcome, and only ever decoded in user space.
/// The kernel bounds them (at most [`MAX_LISTED`] entries).
pub type ReplyList<T> = alloc::vec::Vec<T>;

/// Longest instance name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Most arguments passed to an app.
pub const MAX_ARGS: usize = 256;
/// Longest single argument, in bytes.
pub const MAX_ARG_LEN: usize = 4096;
/// Most environment variables passed to an app.
pub const MAX_ENV: usize = 256;
/// Longest `KEY=VALUE` environment entry, in bytes.
pub const MAX_ENV_LEN: usize = 4096;
/// Most directories preopened for an app.
pub const MAX_PREOPENS: usize = 16;
/// Longest preopen path (host or guest side), in bytes.
pub const MAX_PATH_LEN: usize = 4096;
/// Most instances listed by [`Request::List`] (and the cap on `max_instances`).
pub const MAX_LISTED: usize = 256;
/// Longest human-readable message in a reply, in bytes.
pub const MAX_MESSAGE_LEN: usize = 384;

/// A bounded, human-readable message.
pub type Message = String<MAX_MESSAGE_LEN>;

/// Makes a [`Message`] from `text`, cut at a character boundary if too long.
pub fn message(text: &str) -> Message {
    let mut end = text.len().min(MAX_MESSAGE_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut m = Message::new();
    // Cannot fail: `end` is at most the capacity.
    let _ = m.push_str(&text[..end]);
    m
}

/// Builds a [`Message`] with `format!` syntax, truncating if too long.
#[macro_export]
macro_rules! message {
    ($($arg:tt)*) => {
        $crate::protocol::format_message(format_args!($($arg)*))
    };
}

/// Formats into a [`Message`], truncating at a character boundary.
pub fn format_message(args: core::fmt::Arguments<'_>) -> Message {
    struct Truncating(Message);
    impl core::fmt::Write for Truncating {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let room = MAX_MESSAGE_LEN - self.0.len();
            let mut end = s.len().min(room);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            // Cannot fail: `end` fits in the remaining capacity.
            let _ = self.0.push_str(&s[..end]);
            Ok(())
        }
    }
    let mut t = Truncating(Message::new());
    let _ = core::fmt::write(&mut t, args);
    t.0
}

/// A request to the kernel.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "bounded inline fields: decoding never allocates")]
pub enum Request<'a> {
    /// Versions, counters and limits. Answered with [`Reply::Info`].
    Info,
    /// Load a module, run it to completion in the caller's context, and
    /// discard it. Answered with [`Reply::Run`] or [`Reply::Error`].
    Run(#[serde(borrow)] RunRequest<'a>),
    /// The live instances. Answered with [`Reply::List`].
    List,
    /// Stop an instance; only its owner or CAP_SYS_ADMIN may. Answered with
    /// [`Reply::Done`] or [`Reply::Error`].
    Kill {
        /// The instance's id.
        instance: u32,
    },
    /// Load a driver and bind it to a device (CAP_SYS_ADMIN only). Answered
    /// with [`Reply::Done`] or [`Reply::Error`].
    DriverLoad(#[serde(borrow)] DriverLoadRequest<'a>),
    /// Stop a driver and give its device back (CAP_SYS_ADMIN only).
    DriverUnload {
        /// The driver's name.
        name: &'a str,
    },
    /// The loaded drivers. Answered with [`Reply::Drivers`].
    DriverList,
    /// Replace a running driver's module, keeping its device, interface and
    /// character device (CAP_SYS_ADMIN only). Answered with
    /// [`Reply::Swapped`], or [`Reply::Error`] (`RolledBack` if the new
    /// version failed and the old one runs again).
    DriverSwap(#[serde(borrow)] DriverSwapRequest<'a>),
}

/// Parameters of [`Request::DriverSwap`].
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct DriverSwapRequest<'a> {
    /// The driver's name.
    pub name: &'a str,
    /// The new wasm binary.
    pub wasm: &'a [u8],
    /// The engine to run it on.
    pub engine: EngineKind,
}

/// How a swap went.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SwapReport {
    /// The module now running (`sha256::short_hex`).
    pub module_hash: String<16>,
    /// The module it replaced.
    pub previous_hash: String<16>,
    /// Microseconds the driver's data path was closed: from pausing the old
    /// instance to resuming with the new one (compiling and instantiating
    /// the new module come before, waiting for the link after).
    pub blackout_us: u64,
    /// Microseconds for the whole swap.
    pub total_us: u64,
    /// Whether the new version saved state from the old one.
    pub state_handed_over: bool,
    /// Whether the old version handed the device over running, with its
    /// DMA buffers (`state_keep_device`), rather than stopping it.
    pub device_kept: bool,
}

/// A PCI address.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PciAddress {
    /// Domain.
    pub domain: u16,
    /// Bus.
    pub bus: u8,
    /// Device (0-31).
    pub device: u8,
    /// Function (0-7).
    pub function: u8,
}

/// Parameters of [`Request::DriverLoad`].
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct DriverLoadRequest<'a> {
    /// The driver's name (also its `/dev` name's default), at most
    /// [`MAX_NAME_LEN`] bytes.
    pub name: &'a str,
    /// The wasm binary.
    pub wasm: &'a [u8],
    /// The engine to run on.
    pub engine: EngineKind,
    /// Bind a device with these (vendor, device) ids; if neither this nor
    /// `slot` is given, the module's match table says.
    pub pci_id: Option<(u16, u16)>,
    /// Bind the device at this address.
    pub slot: Option<PciAddress>,
    /// Take the device from the driver it is bound to (it gets it back when
    /// this driver is unloaded).
    pub rebind: bool,
}

/// Which engine runs an instance.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// wasmi, the interpreter.
    #[default]
    Interp,
    /// Cranelift, compiled in the kernel.
    Jit,
}

impl EngineKind {
    /// The name used on the command line and in listings.
    pub const fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
        }
    }
}

/// A host directory made visible to a WASI app.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Preopen<'a> {
    /// The directory, as the caller names it (relative to its working
    /// directory, opened with its credentials).
    pub host: &'a str,
    /// The name the app sees (e.g. `/data`).
    pub guest: &'a str,
}

/// Parameters of [`Request::Run`].
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct RunRequest<'a> {
    /// Instance name shown in logs, at most [`MAX_NAME_LEN`] bytes.
    pub name: &'a str,
    /// The wasm binary.
    pub wasm: &'a [u8],
    /// Arguments, `args[0]` being the program name.
    #[serde(borrow)]
    pub args: Vec<&'a str, MAX_ARGS>,
    /// Environment, as `KEY=VALUE` entries.
    #[serde(borrow)]
    pub env: Vec<&'a str, MAX_ENV>,
    /// Directories preopened for WASI, in descriptor order from 3.
    #[serde(borrow)]
    pub preopens: Vec<Preopen<'a>, MAX_PREOPENS>,
    /// Cap on linear memory in bytes; `None` for the module's default. Only
    /// CAP_SYS_ADMIN may go above the default.
    pub memory_limit: Option<u64>,
    /// The engine to run on.
    pub engine: EngineKind,
}

impl<'a> RunRequest<'a> {
    /// A request with no arguments, environment or preopens, default limits
    /// and the interpreter.
    pub fn new(name: &'a str, wasm: &'a [u8]) -> Self {
        RunRequest {
            name,
            wasm,
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            memory_limit: None,
            engine: EngineKind::Interp,
        }
    }
}

/// Why a request was malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The bytes are not a valid encoding, or have trailing bytes.
    Encoding,
    /// A field is out of its bounds.
    Bounds,
}

impl<'a> Request<'a> {
    /// Decodes a request and checks its bounds.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, RequestError> {
        let (request, rest) = postcard::take_from_bytes::<Request<'a>>(bytes).map_err(|_| RequestError::Encoding)?;
        if !rest.is_empty() {
            return Err(RequestError::Encoding);
        }
        request.check()?;
        Ok(request)
    }

    /// Checks every borrowed field against its bound.
    pub fn check(&self) -> Result<(), RequestError> {
        match self {
            Request::Info | Request::List | Request::Kill { .. } | Request::DriverList => Ok(()),
            Request::DriverSwap(swap) => {
                if !swap.name.is_empty() && swap.name.len() <= MAX_NAME_LEN {
                    Ok(())
                } else {
                    Err(RequestError::Bounds)
                }
            }
            Request::DriverUnload { name } => {
                if !name.is_empty() && name.len() <= MAX_NAME_LEN {
                    Ok(())
                } else {
                    Err(RequestError::Bounds)
                }
            }
            Request::DriverLoad(load) => {
                let name_ok = !load.name.is_empty()
                    && load.name.len() <= MAX_NAME_LEN
                    && load.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                let slot_ok = load.slot.is_none_or(|s| s.device < 32 && s.function < 8);
                if name_ok && slot_ok { Ok(()) } else { Err(RequestError::Bounds) }
            }
            Request::Run(run) => {
                let name_ok = !run.name.is_empty() && run.name.len() <= MAX_NAME_LEN && !run.name.contains('\0');
                let args_ok = run.args.iter().all(|a| a.len() <= MAX_ARG_LEN && !a.contains('\0'));
                let env_ok = run.env.iter().all(|e| e.len() <= MAX_ENV_LEN && e.contains('=') && !e.contains('\0'));
                let path_ok = |p: &str| !p.is_empty() && p.len() <= MAX_PATH_LEN && !p.contains('\0');
                let preopens_ok = run.preopens.iter().all(|p| path_ok(p.host) && path_ok(p.guest));
                if name_ok && args_ok && env_ok && preopens_ok { Ok(()) } else { Err(RequestError::Bounds) }
            }
        }
    }
}

/// A reply from the kernel.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum Reply {
    /// Answer to [`Request::Info`].
    Info(Info),
    /// The module ran; how it ended.
    Run(RunReport),
    /// The request failed before or while running anything.
    Error(ErrorReply),
    /// Answer to [`Request::List`].
    List(ReplyList<InstanceInfo>),
    /// Answer to [`Request::DriverList`].
    Drivers(ReplyList<DriverInfo>),
    /// Answer to [`Request::DriverSwap`].
    Swapped(SwapReport),
    /// The request was carried out.
    Done,
}

/// What kind of program an instance is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum InstanceKind {
    /// Run by `cvctl run`, in its caller's context.
    App,
    /// Bound to a device.
    Driver,
}

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum InstanceState {
    /// Being validated, compiled or instantiated.
    Loading,
    /// Executing, or blocked in a hostcall.
    Running,
    /// Asked to stop; stops at its next check.
    Stopping,
}

impl InstanceState {
    /// The name used in listings.
    pub const fn name(self) -> &'static str {
        match self {
            InstanceState::Loading => "loading",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
        }
    }
}

/// One line of `cvctl ps`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstanceInfo {
    /// The instance's id.
    pub id: u32,
    /// Its name.
    pub name: String<MAX_NAME_LEN>,
    /// App or driver.
    pub kind: InstanceKind,
    /// The engine running it.
    pub engine: EngineKind,
    /// Where it is in its life.
    pub state: InstanceState,
    /// The uid that started it.
    pub owner_uid: u32,
    /// The process that started it (thread group id).
    pub pid: i32,
    /// Size of its linear memory, in bytes.
    pub memory_bytes: u64,
    /// Fuel consumed so far.
    pub fuel_used: u64,
    /// CPU time spent executing it, in nanoseconds.
    pub cpu_ns: u64,
}

/// Versions, counters and limits of the running module.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Info {
    /// The module's [`ABI_VERSION`](crate::device::ABI_VERSION).
    pub abi_version: u32,
    /// The kernel module's version.
    pub module_version: String<32>,
    /// The engines compiled in, e.g. `wasmi 2.0.0`.
    pub engines: String<64>,
    /// Instances alive now.
    pub live_instances: u32,
    /// Instances started since the module was loaded.
    pub started_instances: u64,
    /// Bytes the engine holds from the kernel allocator now.
    pub heap_bytes: u64,
    /// Allocations the engine holds from the kernel allocator now.
    pub heap_allocations: u64,
    /// Engine panics survived since the module was loaded.
    pub engine_panics: u64,
    /// The JIT's work since the module was loaded.
    pub jit: JitStats,
    /// The limits in force.
    pub limits: Limits,
}

/// What the JIT compiled, and the code it holds now.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct JitStats {
    /// Modules compiled.
    pub modules: u64,
    /// Their wasm bytes in all.
    pub wasm_bytes: u64,
    /// Time spent compiling them, in nanoseconds.
    pub compile_ns: u64,
    /// Machine code loaded now (modules in use), in bytes.
    pub code_bytes: u64,
}

/// Limits applied to instances (module parameters).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    /// Most instances alive at once.
    pub max_instances: u32,
    /// Default cap on an instance's linear memory, in bytes.
    pub memory_limit: u64,
    /// Fuel per execution slice; the engine yields the CPU between slices.
    pub exec_slice: u64,
}

/// Whether a driver runs.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum DriverStatus {
    /// Handling its device.
    Running,
    /// Stopped by a fault; its device is quiesced. Unload it (or load it
    /// again) to release the device.
    Dead,
}

/// One line of `cvctl driver list`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DriverInfo {
    /// The driver's instance id.
    pub id: u32,
    /// Its name.
    pub name: String<MAX_NAME_LEN>,
    /// The engine running it.
    pub engine: EngineKind,
    /// The device's PCI address, `DDDD:BB:DD.F`.
    pub device: String<16>,
    /// PCI vendor id.
    pub vendor: u16,
    /// PCI device id.
    pub device_id: u16,
    /// Running or dead.
    pub status: DriverStatus,
    /// Why it stopped, if it did.
    pub reason: Message,
    /// `cervus_irq` calls.
    pub irq_events: u64,
    /// Hard interrupts coalesced into them.
    pub irqs: u64,
    /// `cervus_timer` calls.
    pub timer_events: u64,
    /// Character-device calls.
    pub chr_calls: u64,
    /// MMIO accesses.
    pub mmio_ops: u64,
    /// DMA bytes held.
    pub dma_bytes: u64,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Its network interface's name, if it registered one.
    pub netdev: String<16>,
    /// Frames handed to the network stack.
    pub rx_frames: u64,
    /// Frames taken for transmission.
    pub tx_frames: u64,
    /// The running module's hash (the first 8 bytes of its SHA-256, as
    /// hex), to tell versions apart.
    pub module_hash: String<16>,
    /// Successful hot swaps since it was loaded.
    pub swaps: u32,
}

/// How a run ended.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    /// The instance's id.
    pub instance: u32,
    /// Exit, trap or interruption.
    pub outcome: Outcome,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Execution slices run (one more than the number of yields).
    pub slices: u64,
}

/// The end of a run.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "bounded inline message: replies never allocate")]
pub enum Outcome {
    /// The entry point returned, or the app exited, with this code.
    Exited(i32),
    /// The instance trapped.
    Trapped(Trap),
    /// A signal stopped the instance.
    Interrupted,
    /// `cvctl kill` stopped the instance.
    Killed {
        /// The uid that killed it.
        by_uid: u32,
    },
}

/// A trap, with a readable description.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Trap {
    /// What kind of trap.
    pub code: TrapCode,
    /// The engine's description, with the function where known.
    pub message: Message,
}

/// The kinds of trap, the same for every engine.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable,
    /// A memory access out of bounds.
    MemoryOutOfBounds,
    /// A table access out of bounds.
    TableOutOfBounds,
    /// `call_indirect` on a null entry.
    IndirectCallToNull,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Integer overflow (e.g. `i32.div_s` of MIN by -1).
    IntegerOverflow,
    /// A float that does not fit the integer type of a trapping conversion.
    BadConversionToInteger,
    /// The wasm call stack is exhausted.
    StackOverflow,
    /// `call_indirect` with a mismatched signature.
    BadSignature,
    /// A memory or table grew past its limit.
    GrowthLimited,
    /// A hostcall failed fatally.
    Host,
}

impl TrapCode {
    /// A short lower-case description.
    pub const fn describe(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable executed",
            TrapCode::MemoryOutOfBounds => "out-of-bounds memory access",
            TrapCode::TableOutOfBounds => "out-of-bounds table access",
            TrapCode::IndirectCallToNull => "indirect call to null",
            TrapCode::IntegerDivisionByZero => "integer division by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::BadSignature => "indirect call signature mismatch",
            TrapCode::GrowthLimited => "memory or table limit reached",
            TrapCode::Host => "hostcall failure",
        }
    }
}

/// A failed request.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ErrorReply {
    /// The class of failure.
    pub kind: ErrorKind,
    /// What exactly went wrong.
    pub message: Message,
}

/// Classes of failure.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ErrorKind {
    /// The binary is not valid WebAssembly.
    InvalidModule,
    /// An import cannot be satisfied.
    Link,
    /// No usable entry point is exported.
    NoEntryPoint,
    /// A limit (instances, memory) would be exceeded.
    Limit,
    /// The engine panicked; the instance was killed.
    EnginePanic,
    /// The kernel ran out of memory.
    OutOfMemory,
    /// No such instance.
    NotFound,
    /// The caller may not do this.
    PermissionDenied,
    /// A preopened directory could not be opened.
    Preopen,
    /// The engine is not built into this module.
    EngineUnavailable,
    /// No suitable device, or it could not be bound.
    Device,
    /// A driver of that name is loaded.
    Exists,
    /// The driver's probe failed.
    Probe,
    /// A swap's new version failed; the old one runs again.
    RolledBack,
    /// Anything else.
    Internal,
}

impl ErrorKind {
    /// A short lower-case description.
    pub const fn describe(self) -> &'static str {
        match self {
            ErrorKind::InvalidModule => "invalid module",
            ErrorKind::Link => "link error",
            ErrorKind::NoEntryPoint => "no entry point",
            ErrorKind::Limit => "limit exceeded",
            ErrorKind::EnginePanic => "engine panic",
            ErrorKind::OutOfMemory => "out of memory",
            ErrorKind::NotFound => "no such instance",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Preopen => "cannot preopen directory",
            ErrorKind::EngineUnavailable => "engine unavailable",
            ErrorKind::Device => "device unavailable",
            ErrorKind::Exists => "already loaded",
            ErrorKind::Probe => "probe failed",
            ErrorKind::RolledBack => "swap failed, rolled back",
            ErrorKind::Internal => "internal error",
        }
    }
}

/// Encodes a reply into `buf`, returning the used prefix.
pub fn encode_reply<'b>(reply: &Reply, buf: &'b mut [u8]) -> Result<&'b mut [u8], postcard::Error> {
    postcard::to_slice(reply, buf)
}

/// Decodes a reply.
pub fn decode_reply(bytes: &[u8]) -> Result<Reply, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// Encodes a request into `buf`, returning the used prefix.
pub fn encode_request<'b>(request: &Request<'_>, buf: &'b mut [u8]) -> Result<&'b mut [u8], postcard::Error> {
    postcard::to_slice(request, buf)
}

/// An upper bound of the encoded size of `request`, to size its buffer.
pub fn request_size_bound(request: &Request<'_>) -> usize {
    const OVERHEAD: usize = 32;
    match request {
        Request::Info | Request::List | Request::Kill { .. } | Request::DriverList => OVERHEAD,
        Request::DriverUnload { name } => OVERHEAD + name.len(),
        Request::DriverLoad(load) => OVERHEAD + 10 + load.name.len() + 10 + load.wasm.len() + 32,
        Request::DriverSwap(swap) => OVERHEAD + 10 + swap.name.len() + 10 + swap.wasm.len() + 4,
        Request::Run(run) => {
            let strings = |list: &[&str]| 10 + list.iter().map(|s| 10 + s.len()).sum::<usize>();
            OVERHEAD
                + 10
                + run.name.len()
                + 10
                + run.wasm.len()
                + strings(&run.args)
                + strings(&run.env)
                + 10
                + run.preopens.iter().map(|p| 20 + p.host.len() + p.guest.len()).sum::<usize>()
                + 20
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    fn run_request<'a>(name: &'a str, wasm: &'a [u8], args: &[&'a str]) -> Request<'a> {
        let mut run = RunRequest::new(name, wasm);
        run.args = Vec::from_slice(args).unwrap();
        Request::Run(run)
    }

    #[test]
    fn request_round_trips_and_borrows() {
        let wasm = [0u8, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
        let mut run = RunRequest::new("proof", &wasm);
        run.args = Vec::from_slice(&["proof", "-v"]).unwrap();
        run.env = Vec::from_slice(&["HOME=/", "A=b=c"]).unwrap();
        run.preopens = Vec::from_slice(&[Preopen { host: "/tmp", guest: "/data" }]).unwrap();
        run.memory_limit = Some(1 << 20);
        run.engine = EngineKind::Jit;
        let req = Request::Run(run);
        let mut buf = vec![0u8; request_size_bound(&req)];
        let bytes = encode_request(&req, &mut buf).unwrap().to_vec();
        let back = Request::decode(&bytes).unwrap();
        assert_eq!(back, req);
        let Request::Run(run) = back else { panic!() };
        // Zero-copy: the wasm field points into the encoded bytes.
        let range = bytes.as_ptr_range();
        assert!(range.contains(&run.wasm.as_ptr()));
    }

    #[test]
    fn corrupt_and_trailing_bytes_are_rejected() {
        let req = run_request("x", b"abc", &[]);
        let mut buf = [0u8; 64];
        let bytes = encode_request(&req, &mut buf).unwrap().to_vec();
        for cut in 0..bytes.len() {
            assert_eq!(Request::decode(&bytes[..cut]), Err(RequestError::Encoding), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Request::decode(&longer), Err(RequestError::Encoding));
        assert_eq!(Request::decode(&[0xff, 0xff, 0xff]), Err(RequestError::Encoding));
    }

    #[test]
    fn bounds_are_checked() {
        let long = "n".repeat(MAX_NAME_LEN + 1);
        for req in [run_request(&long, b"", &[]), run_request("", b"", &[]), run_request("a\0b", b"", &[])] {
            let mut buf = vec![0u8; 256];
            let bytes = encode_request(&req, &mut buf).unwrap().to_vec();
            assert_eq!(Request::decode(&bytes), Err(RequestError::Bounds));
        }
        let arg = "a".repeat(MAX_ARG_LEN + 1);
        let req = run_request("x", b"", &[&arg]);
        let mut buf = vec![0u8; request_size_bound(&req)];
        let bytes = encode_request(&req, &mut buf).unwrap().to_vec();
        assert_eq!(Request::decode(&bytes), Err(RequestError::Bounds));
        for env in ["NOEQUALS", "A=\0"] {
            let mut run = RunRequest::new("x", b"");
            run.env = Vec::from_slice(&[env]).unwrap();
            let req = Request::Run(run);
            let mut buf = vec![0u8; request_size_bound(&req)];
            let bytes = encode_request(&req, &mut buf).unwrap().to_vec();
            assert_eq!(Request::decode(&bytes), Err(RequestError::Bounds), "{env:?}");
        }
        let mut run = RunRequest::new("x", b"");
        run.preopens = Vec::from_slice(&[Preopen { host: "", guest: "/" }]).unwrap();
        let req = Request::Run(run);
        let mut buf = vec![0u8; request_size_bound(&req)];
        let bytes = encode_request(&req, &mut buf).unwrap().to_vec();
        assert_eq!(Request::decode(&bytes), Err(RequestError::Bounds));
    }

    #[test]
    fn too_many_args_do_not_decode() {
        // Encode a Run request by hand with MAX_ARGS + 1 arguments.
        let mut bytes = vec![1u8, 1, b'x', 0];
        bytes.extend_from_slice(&[0x81, 0x02]); // varint 257
        for _ in 0..=MAX_ARGS {
            bytes.extend_from_slice(&[1, b'a']);
        }
        bytes.extend_from_slice(&[0, 0, 0, 0]); // env, preopens, memory_limit, engine
        assert_eq!(Request::decode(&bytes), Err(RequestError::Encoding));
    }

    #[test]
    fn every_reply_fits_the_reply_buffer() {
        let long = message(&"é".repeat(MAX_MESSAGE_LEN));
        assert!(long.len() <= MAX_MESSAGE_LEN);
        let replies = [
            Reply::Error(ErrorReply { kind: ErrorKind::InvalidModule, message: long.clone() }),
            Reply::Run(RunReport {
                instance: u32::MAX,
                outcome: Outcome::Trapped(Trap { code: TrapCode::Host, message: long }),
                fuel_used: u64::MAX,
                slices: u64::MAX,
            }),
        ];
        let info = InstanceInfo {
            id: u32::MAX,
            name: String::try_from("n".repeat(MAX_NAME_LEN).as_str()).unwrap(),
            kind: InstanceKind::Driver,
            engine: EngineKind::Jit,
            state: InstanceState::Stopping,
            owner_uid: u32::MAX,
            pid: i32::MIN,
            memory_bytes: u64::MAX,
            fuel_used: u64::MAX,
            cpu_ns: u64::MAX,
        };
        let list = std::vec![info; MAX_LISTED];
        let mut replies: std::vec::Vec<Reply> = replies.into_iter().collect();
        replies.push(Reply::List(list));
        for reply in replies {
            let mut buf = vec![0u8; crate::device::MAX_REPLY_LEN as usize];
            let bytes = encode_reply(&reply, &mut buf).unwrap().to_vec();
            assert_eq!(decode_reply(&bytes).unwrap(), reply);
        }
    }

    #[test]
    fn message_macro_truncates_at_char_boundary() {
        let m = message!("{}", "ü".repeat(1000));
        assert!(m.len() <= MAX_MESSAGE_LEN && m.len() >= MAX_MESSAGE_LEN - 1);
        assert!(m.chars().all(|c| c == 'ü'));
    }
}
