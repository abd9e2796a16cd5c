// SPDX-License-Identifier: GPL-2.0

//! Load, instantiate and run a module, in execution slices.
//!
//! Fuel metering is always on. An instance runs for at most one slice of
//! fuel at a time; between slices the runner checks for a pending signal
//! (which stops the instance) and yields the CPU.

use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{ErrorKind, ErrorReply, Outcome, RunReport, RunRequest};
use wasmi::{
    CompilationMode, Config, Engine, Func, FuncType, Instance, Linker, Module, ResumableCall, Store, StoreLimits,
    StoreLimitsBuilder, Val, ValType,
};

use crate::hostcalls::{self, Capabilities};
use crate::platform::Platform;
use crate::registry::{InstanceId, Registration, State};
use crate::trap;

/// Per-instance host state, reachable from hostcalls.
pub struct HostState {
    pub(crate) platform: &'static dyn Platform,
    pub(crate) id: InstanceId,
    limits: StoreLimits,
}

/// What a run may use.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Cap on linear memory, in bytes.
    pub memory: u64,
    /// Fuel per execution slice.
    pub slice: u64,
    /// Import modules the instance may use.
    pub capabilities: Capabilities,
}

/// Entry points, in the order they are looked for. Each takes no parameters
/// and returns nothing or an `i32` exit status.
const ENTRY_POINTS: [&str; 2] = ["_start", "__app_main"];

fn engine_config() -> Config {
    let mut config = Config::default();
    config.consume_fuel(true);
    // Validate everything up front (so a bad module is refused at load), and
    // translate function bodies on first call.
    config.compilation_mode(CompilationMode::LazyTranslation);
    config
}

fn error(kind: ErrorKind, err: &dyn core::fmt::Display) -> ErrorReply {
    ErrorReply { kind, message: message!("{err}") }
}

/// Runs `request` to completion as instance `registration`.
#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
pub fn run(
    platform: &'static dyn Platform,
    registration: &Registration<'_>,
    request: &RunRequest<'_>,
    limits: RunLimits,
) -> Result<RunReport, ErrorReply> {
    let engine = Engine::new(&engine_config());
    let module = Module::new(&engine, request.wasm).map_err(|e| error(ErrorKind::InvalidModule, &e))?;
    let memory_cap = usize::try_from(limits.memory).unwrap_or(usize::MAX);
    let state = HostState {
        platform,
        id: registration.id(),
        limits: StoreLimitsBuilder::new().memory_size(memory_cap).instances(1).memories(1).tables(1).build(),
    };
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.limits);
    let mut linker = Linker::new(&engine);
    hostcalls::register(&mut linker, limits.capabilities).map_err(|e| error(ErrorKind::Internal, &e))?;

    // A start function runs during instantiation, within one slice.
    store.set_fuel(limits.slice).map_err(|e| error(ErrorKind::Internal, &e))?;
    let instance = linker.instantiate_and_start(&mut store, &module).map_err(|e| instantiation_error(&e))?;
    let (entry, returns_status) = entry_point(&instance, &store)?;

    registration.set_state(State::Running);
    platform.set_running(Some(registration.id()));
    let report = run_slices(platform, &mut store, entry, returns_status, limits.slice, registration.id());
    platform.set_running(None);
    Ok(report)
}

fn instantiation_error(e: &wasmi::Error) -> ErrorReply {
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
    error(kind, e)
}

#[expect(clippy::result_large_err, reason = "see `run`")]
fn entry_point(instance: &Instance, store: &Store<HostState>) -> Result<(Func, bool), ErrorReply> {
    for name in ENTRY_POINTS {
        let Some(func) = instance.get_func(store, name) else { continue };
        let ty: FuncType = func.ty(store);
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

fn run_slices(
    platform: &dyn Platform,
    store: &mut Store<HostState>,
    entry: Func,
    returns_status: bool,
    slice: u64,
    id: InstanceId,
) -> RunReport {
    let mut results = [Val::I32(0)];
    let results = if returns_status { &mut results[..] } else { &mut results[..0] };
    let mut fuel_used = 0u64;
    let mut slices = 1u64;
    let mut given = slice;
    // Cannot fail: fuel metering is enabled in `engine_config`.
    let _ = store.set_fuel(given);
    let mut call = entry.call_resumable(&mut *store, &[], results);
    let outcome = loop {
        fuel_used += given.saturating_sub(store.get_fuel().unwrap_or(0));
        match call {
            Ok(ResumableCall::Finished) => {
                let status = results.first().and_then(Val::i32).unwrap_or(0);
                break Outcome::Exited(status);
            }
            Ok(ResumableCall::OutOfFuel(paused)) => {
                if platform.interrupted() {
                    break Outcome::Interrupted;
                }
                platform.yield_now();
                slices += 1;
                given = slice.max(paused.required_fuel());
                let _ = store.set_fuel(given);
                call = paused.resume(&mut *store, results);
            }
            // Host errors of plain hostcalls end the run: exits and faults.
            Ok(ResumableCall::HostTrap(paused)) => break trap::outcome(paused.host_error()),
            Err(e) => break trap::outcome(&e),
        }
    };
    RunReport { instance: id.0, outcome, fuel_used, slices }
}
