// SPDX-License-Identifier: GPL-2.0

//! Interrupts and timers, turned into driver calls.
//!
//! Hard interrupt handlers and timer callbacks cannot run wasm: they only
//! record what happened in [`Events`] (atomically, coalescing repeats) and
//! queue its work item. The work item runs in process context on
//! `system_dfl_wq` (unbound; `system_unbound_wq` is deprecated) and calls
//! the driver's `cervus_irq` and `cervus_timer` through the engine, on the
//! device's own engine stack. A work item never runs concurrently with
//! itself, so a driver sees its events one at a time.
//!
//! Unbound, because a driver call may run long (one that loops runs until
//! its fuel budget kills it), and on a per-CPU queue that holds up the
//! CPU's other work items. Measured under TCG (`qemu-tests/bench/net`), the
//! per-CPU queues shortened the virtio-net driver's round trips (2.0x the
//! in-tree driver's instead of 2.7x) but did not raise its throughput,
//! nor did high-priority or SCHED_FIFO workers.

use kernel::{
    bindings,
    prelude::*,
    sync::{
        atomic::{ordering, Atomic},
        Arc, ArcBorrow, Mutex,
    },
    time::{
        hrtimer::{HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart, RelativeMode},
        Delta, Monotonic,
    },
    workqueue::{self, impl_has_work, new_work, Work, WorkItem},
};

use crate::call::{EngineEvent, EVENT_IRQ, EVENT_NET_OPEN, EVENT_NET_STOP, EVENT_NET_TX, EVENT_TIMER};
use crate::engine;
use crate::stack::EngineStack;

/// Interrupt vectors a driver may have.
pub(crate) const MAX_VECTORS: usize = 16;
/// Timers a driver may have.
pub(crate) const TIMERS: usize = 8;

/// The workqueue event work runs on: `system_dfl_wq`.
fn queue() -> &'static workqueue::Queue {
    // SAFETY: `system_dfl_wq` is created at boot and never destroyed.
    unsafe { workqueue::Queue::from_raw(bindings::system_dfl_wq) }
}

/// Sets `bits` in `word` (an atomic OR).
fn set_bits(word: &Atomic<u32>, bits: u32) {
    let mut old = word.load(ordering::Relaxed);
    loop {
        match word.cmpxchg(old, old | bits, ordering::Full) {
            Ok(_) => return,
            Err(now) => old = now,
        }
    }
}

/// `Events::net` bit: the interface was brought up or down.
pub(crate) const NET_STATE: u32 = 1;
/// `Events::net` bit: frames are queued for transmission.
pub(crate) const NET_TX: u32 = 2;

/// What happened since the driver was last called, for one device.
#[pin_data]
pub(crate) struct Events {
    /// The driver's instance id (a hot swap changes it).
    instance: Atomic<u32>,
    /// Hard interrupts per vector not yet delivered.
    irqs: [Atomic<u32>; MAX_VECTORS],
    /// INTx status bits read by the hard handler, not yet delivered.
    status: Atomic<u32>,
    /// Timers that fired, one bit each.
    timers: Atomic<u32>,
    /// Network interface events (`NET_*` bits).
    net: Atomic<u32>,
    /// Whether the driver was last told the interface is up.
    net_up: Atomic<bool>,
    /// The interface (`struct cervus_netdev *`), 0 if none.
    netdev: Atomic<usize>,
    /// Set when the device is quiesced: nothing more is delivered.
    stopped: Atomic<bool>,
    /// The stack the work item enters the engine on.
    #[pin]
    stack: Mutex<EngineStack>,
    #[pin]
    work: Work<Events>,
}

impl_has_work! {
    impl HasWork<Self> for Events { self.work }
}

impl Events {
    /// Events for the driver instance `instance`.
    pub(crate) fn new(instance: u32) -> Result<Arc<Self>> {
        let stack = EngineStack::new()?;
        Arc::pin_init(
            pin_init!(Events {
                instance: Atomic::new(instance),
                irqs: [const { Atomic::new(0) }; MAX_VECTORS],
                status: Atomic::new(0),
                timers: Atomic::new(0),
                net: Atomic::new(0),
                net_up: Atomic::new(false),
                netdev: Atomic::new(0),
                stopped: Atomic::new(false),
                stack <- kernel::new_mutex!(stack),
                work <- new_work!("cervus::Events::work"),
            }),
            GFP_KERNEL,
        )
    }

    /// Queues the work item (any context). Already queued is fine: it will
    /// see everything recorded before it runs.
    fn kick(this: ArcBorrow<'_, Self>) {
        if !this.stopped.load(ordering::Relaxed) {
            let _ = queue().enqueue(Arc::<Self>::from(this));
        }
    }

    /// Records `count` interrupts on `vector` with INTx `status` (any
    /// context, including hard interrupts).
    pub(crate) fn irq(this: ArcBorrow<'_, Self>, vector: usize, status: u32) {
        if let Some(counter) = this.irqs.get(vector) {
            counter.add(1, ordering::Relaxed);
            if status != 0 {
                set_bits(&this.status, status);
            }
            Self::kick(this);
        }
    }

    /// Records a network interface event (`NET_*`; any context).
    pub(crate) fn net(this: ArcBorrow<'_, Self>, bits: u32) {
        set_bits(&this.net, bits);
        Self::kick(this);
    }

    /// The driver's instance id.
    pub(crate) fn instance(&self) -> u32 {
        self.instance.load(ordering::Relaxed)
    }

    /// Records whether the driver was told the interface is up (after a
    /// swap, for the new instance).
    pub(crate) fn set_net_up(&self, up: bool) {
        self.net_up.store(up, ordering::Relaxed);
    }

    /// Sets the interface whose state the work item follows (0: none).
    pub(crate) fn set_netdev(&self, netdev: usize) {
        self.netdev.store(netdev, ordering::Release);
    }

    /// Records that timer `id` fired (any context).
    pub(crate) fn timer(this: ArcBorrow<'_, Self>, id: usize) {
        set_bits(&this.timers, 1 << id);
        Self::kick(this);
    }

    /// Stops delivering events. The work item may still be running (this
    /// may be called from it); [`Events::cancel`] waits for it.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, ordering::Release);
    }

    /// Stops delivering events and waits until the work item is idle for
    /// good. Must not be called from the work item.
    pub(crate) fn cancel(&self) {
        self.stop();
        // SAFETY: `work` is a valid, initialised work item (pinned in an
        // `Arc` that we borrow); `disable_work_sync` waits for a running
        // instance and prevents further queueing.
        unsafe { bindings::disable_work_sync(Work::raw_get(&self.work)) };
    }

    fn deliver(&self, stack: &mut EngineStack, kind: u32, a: u32, b: u32, c: u32) {
        let event = EngineEvent { instance: self.instance(), kind, a, b, c, ..EngineEvent::default() };
        // The result is only for system calls; faults are the engine's to log.
        let _ = engine::driver_event(Some(stack), event);
    }
}

impl WorkItem for Events {
    type Pointer = Arc<Events>;

    fn run(this: Arc<Events>) {
        let mut stack = this.stack.lock();
        for (vector, counter) in this.irqs.iter().enumerate() {
            let count = counter.xchg(0, ordering::Full);
            if count == 0 || this.stopped.load(ordering::Acquire) {
                continue;
            }
            let status = if vector == 0 { this.status.xchg(0, ordering::Full) } else { 0 };
            this.deliver(&mut stack, EVENT_IRQ, vector as u32, status, count);
        }
        let net = this.net.xchg(0, ordering::Full);
        let netdev = this.netdev.load(ordering::Acquire);
        if net != 0 && netdev != 0 && !this.stopped.load(ordering::Acquire) {
            // The interface's state now, not the order of the events: an up
            // and a down that both happened since the last run cancel out.
            let up = super::netdev::running(netdev);
            if up != this.net_up.load(ordering::Relaxed) {
                this.net_up.store(up, ordering::Relaxed);
                this.deliver(&mut stack, if up { EVENT_NET_OPEN } else { EVENT_NET_STOP }, 0, 0, 0);
            }
            // The driver may have taken the frames already (in the call
            // that handled a receive interrupt): then there is nothing to do.
            if net & NET_TX != 0 && up && super::netdev::tx_pending(netdev) {
                this.deliver(&mut stack, EVENT_NET_TX, 0, 0, 0);
            }
        }
        let fired = this.timers.xchg(0, ordering::Full);
        for id in 0..TIMERS as u32 {
            if fired & (1 << id) != 0 && !this.stopped.load(ordering::Acquire) {
                this.deliver(&mut stack, EVENT_TIMER, id, 0, 0);
            }
        }
    }
}

/// One of a driver's timers: an hrtimer whose callback records the event.
#[pin_data]
pub(crate) struct Timer {
    #[pin]
    timer: HrTimer<Timer>,
    events: Arc<Events>,
    id: usize,
    /// Re-arm period in nanoseconds; 0 for one-shot.
    period_ns: Atomic<u64>,
}

kernel::impl_has_hr_timer! {
    impl HasHrTimer<Self> for Timer { mode: RelativeMode<Monotonic>, field: self.timer }
}

impl Timer {
    /// Timer `id` of the device with `events`.
    pub(crate) fn new(events: Arc<Events>, id: usize) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Timer { timer <- HrTimer::new(), events, id, period_ns: Atomic::new(0) }),
            GFP_KERNEL,
        )
    }

    /// Sets the period used when it fires next.
    pub(crate) fn set_period(&self, period_ns: u64) {
        self.period_ns.store(period_ns, ordering::Relaxed);
    }

    /// The delay as a `Delta`, saturated.
    pub(crate) fn delta(ns: u64) -> Delta {
        Delta::from_nanos(i64::try_from(ns).unwrap_or(i64::MAX))
    }
}

impl HrTimerCallback for Timer {
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        Events::timer(this.events.as_arc_borrow(), this.id);
        match this.period_ns.load(ordering::Relaxed) {
            0 => HrTimerRestart::NoRestart,
            period => {
                ctx.forward_now(Timer::delta(period));
                HrTimerRestart::Restart
            }
        }
    }
}
