// SPDX-License-Identifier: GPL-2.0

//! `cervus_engine_entry`: the engine's only global symbol.

use alloc::boxed::Box;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use cervus_core::{CallError, Caller, Config, InstanceId, Runtime};
use cervus_hostcalls::protocol::{Limits, encode_reply};

use crate::call::{
    EngineCall, EngineInit, OP_HEAP_STATS, OP_INIT, OP_RECOVER, OP_REQUEST, OP_SHUTDOWN, PANIC_MESSAGE_LEN,
    TRAMPOLINE_RETURNED,
};
use crate::platform::PLATFORM;
use crate::{heap, supervisor};

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
                (OP_RECOVER, Some(instance)) => unsafe { recover(&input, instance, &panic_message) },
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

/// Answers the request whose call panicked while running `instance`.
///
/// # Safety
///
/// The reply pointer of `input` must be valid for its length.
unsafe fn recover(input: &Input, instance: Option<InstanceId>, message: &str) -> Output {
    // The dead instance's files are still open in the glue's table.
    if let Some(id) = instance {
        crate::host::files_release(id.0);
    }
    // A panic outside a request (in `OP_INIT`, say) has no reply to give.
    if input.reply.is_null() {
        return status(Err(EIO));
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return status(Err(e)),
    };
    let answer = rt.engine_panicked(instance, message);
    // SAFETY: precondition.
    let reply = unsafe { core::slice::from_raw_parts_mut(input.reply, input.reply_cap) };
    match encode_reply(&answer, reply) {
        Ok(bytes) => Output { reply_len: bytes.len(), ..Default::default() },
        Err(_) => status(Err(ENOSPC)),
    }
}
