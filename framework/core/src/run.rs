// SPDX-License-Identifier: GPL-2.0

//! Load, instantiate and run a module, in execution slices.
//!
//! Fuel metering is always on. An instance runs for at most one slice of
//! fuel at a time; between slices the runner records its counters, stops it
//! if it was killed or a signal is pending, and yields the CPU.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{ErrorKind, ErrorReply, InstanceState, Outcome, RunReport, RunRequest};
use wasmi::{StoreLimitsBuilder, Val, ValType};

use crate::exec::{Ended, Policy};
use crate::hostcalls::Capabilities;
use crate::instance::{HostState, InstanceLimits};
use crate::ipc::Broadcasts;
use crate::platform::Platform;
use crate::program::{Func, Instance, Program};
use crate::registry::{InstanceId, Registration};
use crate::trap;
use crate::wasi;

/// What a run may use.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Cap on linear memory, in bytes.
    pub memory: u64,
    /// Fuel per execution slice.
    pub slice: u64,
    /// Open resources and descriptors together.
    pub max_files: usize,
    /// Import modules the instance may use.
    pub capabilities: Capabilities,
}

/// Entry points, in the order they are looked for. Each takes no parameters
/// and returns nothing or an `i32` exit status.
const ENTRY_POINTS: [&str; 2] = ["_start", "__app_main"];

/// Runs `request` to completion as instance `registration`.
#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
pub fn run(
    platform: &'static dyn Platform,
    registration: &Registration,
    request: &RunRequest<'_>,
    limits: RunLimits,
    broadcasts: &Arc<Broadcasts>,
) -> Result<RunReport, ErrorReply> {
    let program = Program::compile(platform, request.wasm, request.engine)?;
    // From here on the instance holds host files, tagged with its id. The
    // guard is declared before the instance, so it clears the record only
    // after the instance (and every file it holds) is dropped.
    platform.set_running(Some(registration.id()));
    let _running = RunningGuard(platform);
    let memory_cap = usize::try_from(limits.memory).unwrap_or(usize::MAX);
    let store_limits = StoreLimitsBuilder::new().memory_size(memory_cap).instances(1).memories(1).tables(1).build();
    let owned = |list: &[&str]| list.iter().map(|s| Box::<str>::from(*s)).collect::<Vec<_>>();
    let mut state = HostState::new(
        platform,
        registration.id(),
        request.name,
        registration.control().clone(),
        owned(&request.args),
        owned(&request.env),
        broadcasts.clone(),
        InstanceLimits { max_files: limits.max_files },
        store_limits,
    );
    if limits.capabilities.apps {
        for p in &request.preopens {
            wasi::preopen(&mut state, p.host, p.guest).map_err(|e| ErrorReply {
                kind: ErrorKind::Preopen,
                message: message!("{}: {}", p.host, sys_error_text(e.0)),
            })?;
        }
    }
    let policy = Policy { slice: limits.slice, budget: None, stoppable: true };
    let mut instance = Instance::new(&program, state, limits.capabilities, limits.memory, policy)?;
    let (entry, returns_status) = entry_point(&instance)?;

    registration.set_state(InstanceState::Running);
    let mut report = run_entry(&mut instance, &entry, returns_status, policy, registration.id());
    if let Outcome::Trapped(trap) = &mut report.outcome {
        trap.message = trap::locate(&trap.message, instance.current_function(), request.wasm);
    }
    Ok(report)
}

/// Clears the platform's record of the running instance when dropped.
struct RunningGuard(&'static dyn Platform);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.set_running(None);
    }
}

/// A short description of a Linux errno, for messages.
pub(crate) fn sys_error_text(errno: i32) -> &'static str {
    match errno {
        1 => "operation not permitted",
        2 => "no such file or directory",
        12 => "out of memory",
        13 => "permission denied",
        16 => "device or resource busy",
        19 => "no such device",
        20 => "not a directory",
        22 => "invalid argument",
        40 => "too many levels of symbolic links",
        _ => "failed",
    }
}

pub(crate) fn instantiation_error(e: &wasmi::Error) -> ErrorReply {
    use wasmi::errors::{ErrorKind as W, InstantiationError as I};
    let kind = match e.kind() {
        W::Instantiation(
            I::FailedToInstantiateMemory(_)
            | I::FailedToInstantiateTable(_)
            | I::TooManyInstances
            | I::TooManyTables
            | I::TooManyMemories,
        ) => ErrorKind::Limit,
        W::Linker(_) | W::Instantiation(_) => ErrorKind::Link,
        W::Memory(_) | W::Table(_) => ErrorKind::Limit,
        _ if e.as_trap_code().is_some() => ErrorKind::Link,
        _ => ErrorKind::Internal,
    };
    ErrorReply { kind, message: message!("{e}") }
}

#[expect(clippy::result_large_err, reason = "see `run`")]
fn entry_point(instance: &Instance) -> Result<(Func, bool), ErrorReply> {
    for name in ENTRY_POINTS {
        let Some(func) = instance.func(name) else { continue };
        let ty = &func.ty;
        let returns_status = match (ty.params(), ty.results()) {
            ([], []) => false,
            ([], [ValType::I32]) => true,
            _ => {
                return Err(ErrorReply {
                    kind: ErrorKind::NoEntryPoint,
                    message: message!(
                        "export `{name}` has type {ty:?}; an entry point takes nothing and returns nothing or i32"
                    ),
                });
            }
        };
        return Ok((func, returns_status));
    }
    Err(ErrorReply { kind: ErrorKind::NoEntryPoint, message: message!("the module exports none of {ENTRY_POINTS:?}") })
}

fn run_entry(instance: &mut Instance, entry: &Func, returns_status: bool, policy: Policy, id: InstanceId) -> RunReport {
    let mut results = [Val::I32(0)];
    let results = if returns_status { &mut results[..] } else { &mut results[..0] };
    let (ended, fuel_used, slices) = instance.call(entry, &[], results, policy);
    let outcome = match ended {
        Ended::Returned => Outcome::Exited(results.first().and_then(Val::i32).unwrap_or(0)),
        Ended::Stopped(outcome) => outcome,
        // Apps have no budget.
        Ended::Budget(_) => Outcome::Interrupted,
    };
    RunReport { instance: id.0, outcome, fuel_used, slices }
}
