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
use cervus_hostcalls::protocol::{EngineKind, ErrorKind, ErrorReply, InstanceState, Outcome, RunReport, RunRequest};
use wasmi::{
    CompilationMode, Config, Engine, Func, FuncType, Instance, Linker, Module, Store, StoreLimitsBuilder, Val, ValType,
};

use crate::exec::{self, Ended, Policy};
use crate::hostcalls::{self, Capabilities};
use crate::instance::{HostState, InstanceLimits};
use crate::instrument;
use crate::ipc::Broadcasts;
use crate::platform::Platform;
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

fn engine_config() -> Config {
    let mut config = Config::default();
    config.consume_fuel(true);
    // Validate and translate everything up front: a bad module is refused
    // at load, and no call pays for translation. (wasmi charges lazy
    // translation to the caller's fuel, and a translation that runs out of
    // fuel inside a call is an error, not a resumable pause: with lazy
    // modes, a function first called near the end of a slice would trap.)
    config.compilation_mode(CompilationMode::Eager);
    config
}

fn error(kind: ErrorKind, err: &dyn core::fmt::Display) -> ErrorReply {
    ErrorReply { kind, message: message!("{err}") }
}

/// Validates and compiles a module, with trap attribution (see
/// `instrument`), in an engine of its own.
#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
pub(crate) fn compile(wasm: &[u8]) -> Result<(Engine, Module), ErrorReply> {
    let engine = Engine::new(&engine_config());
    let module = match instrument::instrument(wasm).map(|w| Module::new(&engine, &w)) {
        Some(Ok(module)) => module,
        // Report errors against the module as it was given.
        _ => Module::new(&engine, wasm).map_err(|e| error(ErrorKind::InvalidModule, &e))?,
    };
    Ok((engine, module))
}

/// Runs `request` to completion as instance `registration`.
#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
pub fn run(
    platform: &'static dyn Platform,
    registration: &Registration,
    request: &RunRequest<'_>,
    limits: RunLimits,
    broadcasts: &Arc<Broadcasts>,
) -> Result<RunReport, ErrorReply> {
    if request.engine != EngineKind::Interp {
        return Err(ErrorReply {
            kind: ErrorKind::EngineUnavailable,
            message: message!("engine `{}` is not built into this module", request.engine.name()),
        });
    }
    let (engine, module) = compile(request.wasm)?;
    // From here on the instance holds host files, tagged with its id. The
    // guard is declared before the store, so it clears the record only after
    // the store (and every file it holds) is dropped.
    platform.set_running(Some(registration.id()));
    let _running = RunningGuard(platform);
    let memory_cap = usize::try_from(limits.memory).unwrap_or(usize::MAX);
    let store_limits = StoreLimitsBuilder::new().memory_size(memory_cap).instances(1).memories(1).tables(1).build();
    let owned = |list: &[&str]| list.iter().map(|s| Box::<str>::from(*s)).collect::<Vec<_>>();
    let state = HostState::new(
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
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.store_limits);
    if limits.capabilities.apps {
        for p in &request.preopens {
            wasi::preopen(store.data_mut(), p.host, p.guest).map_err(|e| ErrorReply {
                kind: ErrorKind::Preopen,
                message: message!("{}: {}", p.host, sys_error_text(e.0)),
            })?;
        }
    }
    let mut linker = Linker::new(&engine);
    hostcalls::register(&mut linker, limits.capabilities).map_err(|e| error(ErrorKind::Internal, &e))?;

    // A start function runs during instantiation, within one slice.
    store.set_fuel(limits.slice).map_err(|e| error(ErrorKind::Internal, &e))?;
    let instance = linker.instantiate_and_start(&mut store, &module).map_err(|e| instantiation_error(&e))?;
    let (entry, returns_status) = entry_point(&instance, &store)?;

    registration.set_state(InstanceState::Running);
    let mut report = run_slices(&mut store, &instance, entry, returns_status, limits.slice, registration.id());
    if let Outcome::Trapped(trap) = &mut report.outcome {
        trap.message = trap::locate(&trap.message, current_function(&store, &instance), request.wasm);
    }
    Ok(report)
}

/// The function that was running when the instance stopped (see
/// `instrument`), if known.
fn current_function(store: &Store<HostState>, instance: &Instance) -> Option<u32> {
    let global = instance.get_global(store, instrument::CURRENT_FUNCTION)?;
    match global.get(store) {
        Val::I32(index) if index >= 0 => Some(index as u32),
        _ => None,
    }
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
    store: &mut Store<HostState>,
    instance: &Instance,
    entry: Func,
    returns_status: bool,
    slice: u64,
    id: InstanceId,
) -> RunReport {
    let mut results = [Val::I32(0)];
    let results = if returns_status { &mut results[..] } else { &mut results[..0] };
    let policy = Policy { slice, budget: None, stoppable: true };
    let (ended, fuel_used, slices) = exec::execute(store, instance, entry, &[], results, policy);
    let outcome = match ended {
        Ended::Returned => Outcome::Exited(results.first().and_then(Val::i32).unwrap_or(0)),
        Ended::Stopped(outcome) => outcome,
        // Apps have no budget.
        Ended::Budget(_) => Outcome::Interrupted,
    };
    RunReport { instance: id.0, outcome, fuel_used, slices }
}
