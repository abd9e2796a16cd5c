// SPDX-License-Identifier: GPL-2.0

//! Entering the engine.
//!
//! Every call runs on a private stack ([`EngineStack`]) through
//! `cervus_call_on_stack` (`trampoline.S`): the engine's phases need more
//! stack than a kernel task has (wasmi's module translation alone takes
//! ~16 KiB). If the engine panics, its panic handler unwinds to the
//! trampoline, which returns `TRAMPOLINE_ABORTED`; we then make one
//! `OP_RECOVER` call, which kills the instance that was running and answers
//! the request with an error. The kernel and the other instances go on.

use kernel::{
    error::to_result,
    prelude::*, //
};

use crate::call::{
    EngineCall,
    EngineEvent,
    EngineInit,
    OP_DRIVER_EVENT,
    OP_HEAP_STATS,
    OP_INIT,
    OP_RECOVER,
    OP_REQUEST,
    OP_SHUTDOWN,
    OP_UNLOAD_DRIVERS,
    TRAMPOLINE_ABORTED,
    TRAMPOLINE_RETURNED, //
};
use crate::stack::EngineStack;

extern "C" {
    /// Runs `cervus_engine_entry(call)` on the stack that ends at
    /// `stack_top`, after saving the frame to unwind to in `*abort_frame`.
    /// Returns `TRAMPOLINE_RETURNED`, or `TRAMPOLINE_ABORTED` after a panic.
    fn cervus_call_on_stack(call: *mut EngineCall, stack_top: *mut u8, abort_frame: *mut usize) -> isize;

    /// Ends the kernel FPU section an aborted call left open, if any
    /// (`jit.c`).
    fn cervus_host_jit_abort();
}

/// The module parameters the engine needs.
pub(crate) struct Settings {
    pub(crate) max_instances: u32,
    pub(crate) memory_limit: u64,
    pub(crate) exec_slice: u64,
    pub(crate) max_files: u32,
    pub(crate) test_hooks: bool,
    pub(crate) driver_budget: u64,
    pub(crate) dma_quota: u64,
    pub(crate) swap_ready_ms: u64,
}

/// Who made a request.
pub(crate) struct Caller {
    pub(crate) uid: u32,
    pub(crate) pid: i32,
}

/// The started engine; shut down when dropped.
pub(crate) struct Engine;

impl Engine {
    /// Creates the engine's runtime.
    pub(crate) fn start(settings: Settings) -> Result<Self> {
        let init = EngineInit {
            max_instances: settings.max_instances,
            test_hooks: u32::from(settings.test_hooks),
            memory_limit: settings.memory_limit,
            exec_slice: settings.exec_slice,
            max_files: settings.max_files,
            driver_budget: settings.driver_budget,
            dma_quota: settings.dma_quota,
            swap_ready_ms: settings.swap_ready_ms,
        };
        let mut call = EngineCall::new(OP_INIT);
        call.init = &init;
        run(&mut call)?;
        pr_info!(
            "engine ready: max_instances={} memory_limit={} MiB exec_slice={} max_files={} driver_budget={} \
             dma_quota={} KiB test_hooks={}\n",
            settings.max_instances,
            settings.memory_limit >> 20,
            settings.exec_slice,
            settings.max_files,
            settings.driver_budget,
            settings.dma_quota >> 10,
            settings.test_hooks
        );
        Ok(Engine)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Err(e) = run(&mut EngineCall::new(OP_SHUTDOWN)) {
            pr_err!("engine shutdown failed: {:?}\n", e);
        }
        let mut stats = EngineCall::new(OP_HEAP_STATS);
        if run(&mut stats).is_ok() {
            pr_info!(
                "engine stopped: {} bytes in {} allocations still held\n",
                stats.heap_bytes,
                stats.heap_allocations
            );
        }
    }
}

/// Carries out one `/dev/cvctl` request; returns the reply's length.
pub(crate) fn request(request: &[u8], reply: &mut [u8], caller: Caller) -> Result<usize> {
    let mut call = EngineCall::new(OP_REQUEST);
    call.request = request.as_ptr();
    call.request_len = request.len();
    call.reply = reply.as_mut_ptr();
    call.reply_cap = reply.len();
    call.uid = caller.uid;
    call.pid = caller.pid;
    run(&mut call)?;
    Ok(call.reply_len.min(reply.len()))
}

/// Delivers `event` to a driver on `stack` (a fresh one if `None`);
/// returns the event's result: a count or a negative errno.
pub(crate) fn driver_event(stack: Option<&mut EngineStack>, mut event: EngineEvent) -> i64 {
    let mut call = EngineCall::new(OP_DRIVER_EVENT);
    call.event = &mut event;
    let result = match stack {
        Some(stack) => run_on(&mut call, stack),
        None => EngineStack::new().and_then(|mut stack| run_on(&mut call, &mut stack)),
    };
    match result {
        Ok(()) => event.result,
        // A panicking event reports `ENODEV` in `result`; other failures
        // (no memory for a stack) are the call's own.
        Err(e) if event.result == 0 => i64::from(e.to_errno()),
        Err(_) => event.result,
    }
}

/// Unloads every driver, giving their devices back.
pub(crate) fn unload_drivers() {
    if let Err(e) = run(&mut EngineCall::new(OP_UNLOAD_DRIVERS)) {
        pr_err!("unloading the drivers failed: {:?}\n", e);
    }
}

/// Runs `call` on a private stack, recovering from an engine panic.
fn run(call: &mut EngineCall) -> Result {
    let mut stack = EngineStack::new()?;
    run_on(call, &mut stack)
}

/// Runs `call` on `stack`, recovering from an engine panic.
fn run_on(call: &mut EngineCall, stack: &mut EngineStack) -> Result {
    if enter(call, stack)? == TRAMPOLINE_ABORTED {
        // The engine logged the panic. Let it clean up and write the reply;
        // a second panic is not retried.
        call.op = OP_RECOVER;
        call.status = 0;
        if enter(call, stack)? != TRAMPOLINE_RETURNED {
            pr_err!("engine panicked again while recovering\n");
            return Err(EIO);
        }
    }
    // The engine only reports negative errnos of its own choosing.
    to_result(call.status)
}

fn enter(call: &mut EngineCall, stack: &mut EngineStack) -> Result<isize> {
    call.stack_base = stack.base();
    let call: *mut EngineCall = call;
    // The trampoline preserves the callee-saved registers, also on abort.
    // SAFETY: `call` is valid and exclusively ours for the duration of the
    // call; its buffers are valid for their lengths (set by our callers);
    // `stack.top()` is the top of a live stack used by nobody else.
    let ret = unsafe { cervus_call_on_stack(call, stack.top(), core::ptr::addr_of_mut!((*call).abort_frame)) };
    if ret == TRAMPOLINE_ABORTED {
        // A panic in the runtime of JIT-compiled code may have left its FPU
        // section (and so preemption) off: close it before anything else.
        // SAFETY: no arguments; called right after the abort, on the CPU
        // the section (if any) was opened on.
        unsafe { cervus_host_jit_abort() };
    }
    if !stack.intact() {
        pr_err!("engine stack overrun detected (canary overwritten)\n");
        return Err(EIO);
    }
    Ok(ret)
}
