// SPDX-License-Identifier: GPL-2.0

//! Supervision of engine calls: which task runs which instance, and what
//! happens when the engine panics.
//!
//! Every call into the engine claims a slot in [`ACTIVE`] for its task. The
//! panic handler finds the slot of the panicking task, records the message,
//! and unwinds to the trampoline with `cervus_stack_abort`, which makes the
//! call return `TRAMPOLINE_ABORTED` to the glue. No destructor of the
//! abandoned frames runs: whatever they owned is leaked, which is the price
//! of not trusting state a panic interrupted. The glue then calls
//! `OP_RECOVER`, which frees the slot and kills the instance the slot was
//! running (see [`take_panicked`]).

use core::cell::UnsafeCell;
use core::fmt::Write;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use cervus_core::InstanceId;

use crate::call::{EngineCall, PANIC_MESSAGE_LEN};
use crate::host::{self, LogLevel};

/// Most calls in the engine at once (one per task).
const MAX_CALLS: usize = 64;

struct Active {
    /// The task owning the slot; 0 when free.
    task: AtomicUsize,
    call: AtomicPtr<EngineCall>,
    /// The instance being run; 0 when none.
    instance: AtomicU32,
    /// The device whose driver lock the task holds; 0 when none.
    held_device: AtomicU64,
    panicked: AtomicBool,
    /// Written by the owning task only (in the panic handler), read by the
    /// same task in `take_panicked`.
    message: UnsafeCell<heapless::String<PANIC_MESSAGE_LEN>>,
}

// SAFETY: all fields but `message` are atomics; `message` is only accessed
// by the task that owns the slot (see its comment), never concurrently.
unsafe impl Sync for Active {}

impl Active {
    const fn new() -> Self {
        Active {
            task: AtomicUsize::new(0),
            call: AtomicPtr::new(ptr::null_mut()),
            instance: AtomicU32::new(0),
            held_device: AtomicU64::new(0),
            panicked: AtomicBool::new(false),
            message: UnsafeCell::new(heapless::String::new()),
        }
    }
}

static ACTIVE: [Active; MAX_CALLS] = [const { Active::new() }; MAX_CALLS];

fn slot_of(task: usize) -> Option<&'static Active> {
    ACTIVE.iter().find(|a| a.task.load(Ordering::Acquire) == task)
}

/// A claimed slot; released on drop (which a panicking call never reaches).
pub struct Entered(&'static Active);

impl Drop for Entered {
    fn drop(&mut self) {
        self.0.instance.store(0, Ordering::Relaxed);
        self.0.held_device.store(0, Ordering::Relaxed);
        self.0.call.store(ptr::null_mut(), Ordering::Relaxed);
        self.0.task.store(0, Ordering::Release);
    }
}

/// Claims a slot for the current task's call. `None` if the task is
/// already inside the engine or all slots are taken.
pub fn enter(call: *mut EngineCall) -> Option<Entered> {
    let task = host::current_task();
    if slot_of(task).is_some() {
        return None;
    }
    let slot = ACTIVE.iter().find(|a| a.task.compare_exchange(0, task, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
    slot.call.store(call, Ordering::Relaxed);
    slot.panicked.store(false, Ordering::Relaxed);
    Some(Entered(slot))
}

/// The instance the current task is running (0 if none).
pub fn running_instance() -> u32 {
    slot_of(host::current_task()).map_or(0, |s| s.instance.load(Ordering::Relaxed))
}

/// Records the instance the current task is running.
pub fn set_running(instance: Option<InstanceId>) {
    if let Some(slot) = slot_of(host::current_task()) {
        slot.instance.store(instance.map_or(0, |i| i.0), Ordering::Relaxed);
    }
}

/// The base (lowest address) of the private stack the current task's call
/// runs on; 0 if it is not in a call.
pub fn stack_base() -> usize {
    let Some(slot) = slot_of(host::current_task()) else { return 0 };
    let call = slot.call.load(Ordering::Relaxed);
    if call.is_null() {
        return 0;
    }
    // SAFETY: the slot's call is the live `EngineCall` of the current task's
    // call into the engine (set in `enter`, cleared when it returns), and
    // the glue does not touch it while the engine runs.
    unsafe { (*call).stack_base }
}

/// Records the device whose driver lock the current task holds (0: none).
pub fn set_held_device(dev: u64) {
    if let Some(slot) = slot_of(host::current_task()) {
        slot.held_device.store(dev, Ordering::Relaxed);
    }
}

/// What an aborted call left behind.
pub struct Panicked {
    /// The instance it was running.
    pub instance: Option<InstanceId>,
    /// The device whose driver lock it held (0: none).
    pub held_device: u64,
}

/// After an aborted call: frees the current task's panicked slot and returns
/// what it was running and the panic message. `None` if the current task
/// has no panicked slot.
pub fn take_panicked(message: &mut heapless::String<PANIC_MESSAGE_LEN>) -> Option<Panicked> {
    let slot = slot_of(host::current_task()).filter(|s| s.panicked.load(Ordering::Acquire))?;
    let instance = match slot.instance.load(Ordering::Relaxed) {
        0 => None,
        id => Some(InstanceId(id)),
    };
    let held_device = slot.held_device.load(Ordering::Relaxed);
    // SAFETY: the slot belongs to the current task (see `Active::message`).
    message.clone_from(unsafe { &*slot.message.get() });
    drop(Entered(slot));
    Some(Panicked { instance, held_device })
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let task = host::current_task();
    let Some(slot) = slot_of(task) else {
        host::log(LogLevel::Error, "engine panic outside any engine call");
        // SAFETY: `ud2` raises #UD: the kernel reports the bug and kills the
        // task. Unreachable: every entry into the engine claims a slot first.
        unsafe { core::arch::asm!("ud2", options(noreturn)) }
    };
    let call = slot.call.load(Ordering::Relaxed);
    if !slot.panicked.swap(true, Ordering::AcqRel) {
        // SAFETY: the slot belongs to the current task (see `Active::message`).
        let message = unsafe { &mut *slot.message.get() };
        message.clear();
        let _ = write!(Truncating(message), "{}", info.message());
        if let Some(location) = info.location() {
            let _ = write!(Truncating(message), " at {}:{}", location.file(), location.line());
        }
        let mut line = heapless::String::<{ PANIC_MESSAGE_LEN + 32 }>::new();
        let _ = write!(Truncating(&mut line), "engine panic: {message}");
        host::log(LogLevel::Error, &line);
    }
    // SAFETY: `call` is the live `EngineCall` of this task's current engine
    // call (the slot is claimed until the glue's `OP_RECOVER`); the
    // trampoline wrote `abort_frame` before entering the engine.
    let frame = unsafe { ptr::addr_of!((*call).abort_frame).read() };
    // SAFETY: `frame` belongs to the call executing on this task, and the
    // frames being abandoned are never used again.
    unsafe { host::stack_abort(frame) }
}

/// A `fmt::Write` into a bounded string that drops what does not fit.
struct Truncating<'a, const N: usize>(&'a mut heapless::String<N>);

impl<const N: usize> Write for Truncating<'_, N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// Formats into a bounded string, truncating.
pub fn format_bounded<const N: usize>(out: &mut heapless::String<N>, args: core::fmt::Arguments<'_>) {
    let _ = Truncating(out).write_fmt(args);
}
