// SPDX-License-Identifier: GPL-2.0

//! `cervus_engine_entry`: the engine's only global symbol.

use alloc::boxed::Box;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use cervus_core::{CallError, Caller, Config, InstanceId, Runtime};
use cervus_hostcalls::protocol::{Limits, encode_reply};

use crate::call::{
    EVENT_CHR_IOCTL, EVENT_CHR_OPEN, EVENT_CHR_READ, EVENT_CHR_RELEASE, EVENT_CHR_WRITE, EVENT_IRQ, EVENT_NET_OPEN,
    EVENT_NET_STOP, EVENT_NET_TX, EVENT_TIMER, EngineCall, EngineEvent, EngineInit, OP_DRIVER_EVENT, OP_HEAP_STATS,
    OP_INIT, OP_RECOVER, OP_REQUEST, OP_SHUTDOWN, OP_UNLOAD_DRIVERS, PANIC_MESSAGE_LEN, TRAMPOLINE_RETURNED,
};
use crate::host::dev;
use crate::platform::PLATFORM;
use crate::supervisor::Panicked;
use crate::{heap, supervisor};
use cervus_core::driver::{Event, UserBuf};

const EIO: i32 = 5;
const ENOMEM: i32 = 12;
const ENODEV: i32 = 19;
const EBUSY: i32 = 16;
const EINVAL: i32 = 22;
const ENOSPC: i32 = 28;
const ENOSYS: i32 = 38;

/// The runtime, from `OP_INIT` to `OP_SHUTDOWN`.
static RUNTIME: AtomicPtr<Runtime> = AtomicPtr::new(ptr::null_mut());

/// The inputs of a call, copied out of the `EngineCall`.
#[derive(Clone, Copy)]
struct Input {
    op: u32,
    init: *const EngineInit,
    request: *const u8,
    request_len: usize,
    reply: *mut u8,
    reply_cap: usize,
    caller: Caller,
    event: *mut EngineEvent,
}

/// The outputs of a call, written back into the `EngineCall`.
#[derive(Default)]
struct Output {
    status: i32,
    reply_len: usize,
    heap_bytes: u64,
    heap_allocations: u64,
}

/// Runs one engine operation. Must be entered through `cervus_call_on_stack`.
///
/// # Safety
///
/// `call` must point to a valid `EngineCall`, not accessed by anyone else
/// until this returns, whose pointers are valid for their lengths (see
/// `call.rs`); and it must run on a stack set up by the trampoline.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cervus_engine_entry(call: *mut EngineCall) -> isize {
    // SAFETY: `call` is valid (precondition). No reference to it is held
    // while the engine runs, because the panic handler reads `abort_frame`
    // through the raw pointer.
    let input = unsafe {
        Input {
            op: (*call).op,
            init: (*call).init,
            request: (*call).request,
            request_len: (*call).request_len,
            reply: (*call).reply,
            reply_cap: (*call).reply_cap,
            caller: Caller { uid: (*call).uid, pid: (*call).pid },
            event: (*call).event,
        }
    };
    // After a panic, the aborted call still holds this task's slot: take it
    // (and what it was running) before entering again.
    let mut panic_message = heapless::String::<PANIC_MESSAGE_LEN>::new();
    let panicked = if input.op == OP_RECOVER { supervisor::take_panicked(&mut panic_message) } else { None };
    let output = match supervisor::enter(call) {
        None => Output { status: -EBUSY, ..Default::default() },
        Some(entered) => {
            let output = match (input.op, panicked) {
                // SAFETY: forwarded precondition on the reply buffer.
                (OP_RECOVER, Some(panicked)) => unsafe { recover(&input, panicked, &panic_message) },
                (OP_RECOVER, None) => status(Err(EINVAL)),
                // SAFETY: forwarded precondition on the pointers in `input`.
                _ => unsafe { dispatch(&input) },
            };
            drop(entered);
            output
        }
    };
    // SAFETY: `call` is valid (precondition).
    unsafe {
        (*call).status = output.status;
        (*call).reply_len = output.reply_len;
        (*call).heap_bytes = output.heap_bytes;
        (*call).heap_allocations = output.heap_allocations;
    }
    TRAMPOLINE_RETURNED
}

/// # Safety
///
/// The pointers in `input` must be valid for their lengths.
unsafe fn dispatch(input: &Input) -> Output {
    match input.op {
        // SAFETY: `init` is valid for `OP_INIT` (precondition).
        OP_INIT => status(init(unsafe { &*input.init })),
        OP_SHUTDOWN => status(shutdown()),
        OP_HEAP_STATS => {
            let stats = heap::stats();
            Output { heap_bytes: stats.bytes, heap_allocations: stats.allocations, ..Default::default() }
        }
        // SAFETY: the request and reply buffers are valid (precondition).
        OP_REQUEST => unsafe { request(input) },
        // SAFETY: `event` is valid for `OP_DRIVER_EVENT` (precondition).
        OP_DRIVER_EVENT => status(unsafe { input.event.as_mut() }.ok_or(EINVAL).and_then(driver_event)),
        OP_UNLOAD_DRIVERS => status(runtime().map(Runtime::unload_drivers)),
        _ => status(Err(ENOSYS)),
    }
}

fn status(result: Result<(), i32>) -> Output {
    Output { status: result.err().map_or(0, |e| -e), ..Default::default() }
}

fn init(params: &EngineInit) -> Result<(), i32> {
    if !RUNTIME.load(Ordering::Acquire).is_null() {
        return Err(EBUSY);
    }
    let config = Config {
        limits: Limits {
            max_instances: params.max_instances,
            memory_limit: params.memory_limit,
            exec_slice: params.exec_slice,
        },
        max_files: params.max_files,
        test_hooks: params.test_hooks != 0,
        driver_budget: params.driver_budget,
        dma_quota: usize::try_from(params.dma_quota).unwrap_or(usize::MAX),
        swap_ready_ms: params.swap_ready_ms,
        // The glue and the engine are built from the same tree.
        module_version: cervus_core::runtime::short(env!("CARGO_PKG_VERSION")),
    };
    let runtime = Runtime::new(&PLATFORM, config).ok_or(ENOMEM)?;
    RUNTIME.store(Box::into_raw(Box::new(runtime)), Ordering::Release);
    Ok(())
}

fn shutdown() -> Result<(), i32> {
    let runtime = RUNTIME.swap(ptr::null_mut(), Ordering::AcqRel);
    if runtime.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: made by `Box::into_raw` in `init`; the glue guarantees no call
    // is running or will run (module unload).
    drop(unsafe { Box::from_raw(runtime) });
    Ok(())
}

fn runtime() -> Result<&'static Runtime, i32> {
    // SAFETY: non-null means set by `init` and not yet freed by `shutdown`,
    // which the glue never runs concurrently with other calls.
    unsafe { RUNTIME.load(Ordering::Acquire).as_ref() }.ok_or(ENODEV)
}

/// # Safety
///
/// The request and reply pointers of `input` must be valid for their lengths.
unsafe fn request(input: &Input) -> Output {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return status(Err(e)),
    };
    // SAFETY: precondition.
    let (request, reply) = unsafe {
        (
            core::slice::from_raw_parts(input.request, input.request_len),
            core::slice::from_raw_parts_mut(input.reply, input.reply_cap),
        )
    };
    match rt.handle(&input.caller, request, reply) {
        Ok(len) => Output { reply_len: len, ..Default::default() },
        Err(CallError::BadRequest) => status(Err(EINVAL)),
        Err(CallError::ReplyTooLarge) => status(Err(ENOSPC)),
    }
}

/// Delivers a driver event; its result goes into `event.result`.
fn driver_event(event: &mut EngineEvent) -> Result<(), i32> {
    let rt = runtime()?;
    let user = UserBuf { addr: event.user_addr, len: usize::try_from(event.user_len).map_err(|_| EINVAL)? };
    let what = match event.kind {
        EVENT_IRQ => Event::Irq { vector: event.a, status: event.b, count: event.c },
        EVENT_TIMER => Event::Timer(event.a),
        EVENT_CHR_OPEN => Event::ChrOpen(event.a),
        EVENT_CHR_RELEASE => Event::ChrRelease(event.a),
        EVENT_CHR_READ => Event::ChrRead(event.a, user, event.offset),
        EVENT_CHR_WRITE => Event::ChrWrite(event.a, user, event.offset),
        EVENT_CHR_IOCTL => Event::ChrIoctl(event.a, event.b, user),
        EVENT_NET_OPEN => Event::NetOpen,
        EVENT_NET_STOP => Event::NetStop,
        EVENT_NET_TX => Event::NetTx,
        _ => return Err(EINVAL),
    };
    event.result = match rt.driver_event(InstanceId(event.instance), what) {
        Ok(value) => value,
        Err(e) => -i64::from(e.0),
    };
    Ok(())
}

/// Cleans up after a call that panicked, and answers its request if it
/// had one.
///
/// # Safety
///
/// The reply pointer of `input` must be valid for its length, and the
/// event pointer valid if not null.
unsafe fn recover(input: &Input, panicked: Panicked, message: &str) -> Output {
    // The dead instance's files are still open in the glue's table.
    if let Some(id) = panicked.instance {
        crate::host::files_release(id.0);
    }
    let rt = runtime();
    // Kill the instance (a driver: quiesce its device) before releasing the
    // device lock the panicking call held.
    let answer = rt.map(|rt| rt.engine_panicked(panicked.instance, message));
    if panicked.held_device != 0 {
        dev::unlock(panicked.held_device);
    }
    // SAFETY: precondition.
    if let Some(event) = unsafe { input.event.as_mut() } {
        event.result = -i64::from(ENODEV);
    }
    // A panic outside a request (in `OP_INIT`, say) has no reply to give.
    let answer = match answer {
        Ok(answer) if !input.reply.is_null() => answer,
        Ok(_) => return status(Err(EIO)),
        Err(e) => return status(Err(e)),
    };
    // SAFETY: precondition.
    let reply = unsafe { core::slice::from_raw_parts_mut(input.reply, input.reply_cap) };
    match encode_reply(&answer, reply) {
        Ok(bytes) => Output { reply_len: bytes.len(), ..Default::default() },
        Err(_) => status(Err(ENOSPC)),
    }
}
