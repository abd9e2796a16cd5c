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

/// Publishes the instance's counters for `cvctl ps`.
fn account(store: &Store<HostState>, instance: &Instance, fuel: u64, cpu_ns: u64) {
    let control = &store.data().control;
    control.fuel_used.fetch_add(fuel, Ordering::Relaxed);
    control.cpu_ns.fetch_add(cpu_ns, Ordering::Relaxed);
    if let Some(memory) = instance.get_memory(store, "memory") {
        control.memory_bytes.store(memory.data_size(store) as u64, Ordering::Relaxed);
    }
}

/// Calls `func` under `policy`; returns how it ended and the fuel it used.
pub(crate) fn execute(
    store: &mut Store<HostState>,
    instance: &Instance,
    func: Func,
    params: &[Val],
    results: &mut [Val],
    policy: Policy,
) -> (Ended, u64, u64) {
    let platform = store.data().platform;
    let mut fuel_used = 0u64;
    let mut slices = 1u64;
    let mut given = policy.slice;
    // Cannot fail: fuel metering is enabled for every engine.
    let _ = store.set_fuel(given);
    let mut started = platform.now(Clock::ThreadCpu);
    let mut call = func.call_resumable(&mut *store, params, results);
    let ended = loop {
        let used = given.saturating_sub(store.get_fuel().unwrap_or(0));
        fuel_used += used;
        let cpu = platform.now(Clock::ThreadCpu).saturating_sub(started);
        account(store, instance, used, cpu);
        match call {
            Ok(ResumableCall::Finished) => break Ended::Returned,
            Ok(ResumableCall::OutOfFuel(paused)) => {
                if policy.stoppable {
                    if let Some(by_uid) = store.data().control.kill_requested() {
                        break Ended::Stopped(Outcome::Killed { by_uid });
                    }
                    if platform.interrupted() {
                        break Ended::Stopped(Outcome::Interrupted);
                    }
                }
                if policy.budget.is_some_and(|b| fuel_used >= b) {
                    break Ended::Budget(fuel_used);
                }
                platform.yield_now();
                slices += 1;
                given = policy.slice.max(paused.required_fuel());
                let _ = store.set_fuel(given);
                started = platform.now(Clock::ThreadCpu);
                call = paused.resume(&mut *store, results);
            }
            // Host errors of plain hostcalls end the call: exits and faults.
            Ok(ResumableCall::HostTrap(paused)) => break Ended::Stopped(trap::outcome(paused.host_error())),
            Err(e) => break Ended::Stopped(trap::outcome(&e)),
        }
    };
    (ended, fuel_used, slices)
}
