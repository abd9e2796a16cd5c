// SPDX-License-Identifier: GPL-2.0

//! Running wasm in execution slices.
//!
//! Fuel metering is always on. A call runs for at most one slice of fuel at
//! a time; between slices the executor publishes the instance's counters,
//! may stop it (a kill, a signal, an exhausted budget), and yields the CPU.

use core::sync::atomic::Ordering;

use cervus_hostcalls::protocol::Outcome;
use wasmi::{Func, Instance, ResumableCall, Store, Val};

use crate::instance::HostState;
use crate::platform::Clock;
use crate::trap;

/// When to stop a call early.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// Fuel per slice.
    pub slice: u64,
    /// Most fuel for the whole call (drivers); `None` for no limit (apps).
    pub budget: Option<u64>,
    /// Stop for `cvctl kill` and pending signals (apps, which run in their
    /// caller's context; not drivers, whose calls must complete).
    pub stoppable: bool,
}

/// How a call ended.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "returned once per call, never stored")]
pub(crate) enum Ended {
    /// It returned; the results are in place.
    Returned,
    /// It exited, trapped, or was stopped.
    Stopped(Outcome),
    /// It used up its budget (fuel consumed).
    Budget(u64),
}

/// The bookkeeping between slices, the same for both engines: counters,
/// stops, budget, yielding.
pub(crate) struct Slices {
    policy: Policy,
    /// Fuel given for the current slice.
    pub(crate) given: u64,
    /// Fuel used by the slices that ended.
    pub(crate) fuel_used: u64,
    /// Slices started.
    pub(crate) slices: u64,
    started: u64,
}

impl Slices {
    /// Starts the first slice.
    pub(crate) fn start(state: &HostState, policy: Policy) -> Self {
        Slices { policy, given: policy.slice, fuel_used: 0, slices: 1, started: state.platform.now(Clock::ThreadCpu) }
    }

    /// Ends the current slice, in which `left` of the fuel given is left
    /// (below zero if the last charge overdrew it), and publishes the
    /// counters (with the memory's size in bytes, if known).
    pub(crate) fn end(&mut self, state: &HostState, left: i64, memory_bytes: Option<u64>) {
        let used = (i128::from(self.given) - i128::from(left)).clamp(0, i128::from(u64::MAX)) as u64;
        self.fuel_used += used;
        let cpu = state.platform.now(Clock::ThreadCpu).saturating_sub(self.started);
        let control = &state.control;
        control.fuel_used.fetch_add(used, Ordering::Relaxed);
        control.cpu_ns.fetch_add(cpu, Ordering::Relaxed);
        Self::publish_memory(state, memory_bytes);
    }

    /// Publishes the memory's size in bytes, if known.
    pub(crate) fn publish_memory(state: &HostState, memory_bytes: Option<u64>) {
        if let Some(bytes) = memory_bytes {
            state.control.memory_bytes.store(bytes, Ordering::Relaxed);
        }
    }

    /// After [`Slices::end`] for a slice that ran out of fuel: stops the
    /// call (a kill, a signal, the budget), or yields the CPU and starts the
    /// next slice with at least `required` fuel, which it returns.
    #[expect(clippy::result_large_err, reason = "once per slice, never stored")]
    pub(crate) fn next(&mut self, state: &HostState, required: u64) -> Result<u64, Ended> {
        if self.policy.stoppable {
            if let Some(by_uid) = state.control.kill_requested() {
                return Err(Ended::Stopped(Outcome::Killed { by_uid }));
            }
            if state.platform.interrupted() {
                return Err(Ended::Stopped(Outcome::Interrupted));
            }
        }
        if self.policy.budget.is_some_and(|b| self.fuel_used >= b) {
            return Err(Ended::Budget(self.fuel_used));
        }
        state.platform.yield_now();
        self.slices += 1;
        self.given = self.policy.slice.max(required);
        self.started = state.platform.now(Clock::ThreadCpu);
        Ok(self.given)
    }
}

/// Calls `func` under `policy`; returns how it ended, the fuel it used and
/// the number of slices.
pub(crate) fn execute(
    store: &mut Store<HostState>,
    instance: &Instance,
    func: Func,
    params: &[Val],
    results: &mut [Val],
    policy: Policy,
) -> (Ended, u64, u64) {
    let mut slices = Slices::start(store.data(), policy);
    // Cannot fail: fuel metering is enabled for every engine.
    let _ = store.set_fuel(slices.given);
    let mut call = func.call_resumable(&mut *store, params, results);
    let ended = loop {
        let memory = instance.get_memory(&*store, "memory").map(|m| m.data_size(&*store) as u64);
        let left = i64::try_from(store.get_fuel().unwrap_or(0)).unwrap_or(i64::MAX);
        slices.end(store.data(), left, memory);
        match call {
            Ok(ResumableCall::Finished) => break Ended::Returned,
            Ok(ResumableCall::OutOfFuel(paused)) => match slices.next(store.data(), paused.required_fuel()) {
                Ok(fuel) => {
                    let _ = store.set_fuel(fuel);
                    call = paused.resume(&mut *store, results);
                }
                Err(ended) => break ended,
            },
            // Host errors of plain hostcalls end the call: exits and faults.
            Ok(ResumableCall::HostTrap(paused)) => break Ended::Stopped(trap::outcome(paused.host_error())),
            Err(e) => break Ended::Stopped(trap::outcome(&e)),
        }
    };
    (ended, slices.fuel_used, slices.slices)
}
