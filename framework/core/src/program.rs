// SPDX-License-Identifier: GPL-2.0

//! A module compiled for one of the two engines, and its instances.
//!
//! [`Program`] is what `run` and the drivers keep (a driver keeps it to
//! instantiate again after a failed swap); [`Instance`] is what they call.
//! Both engines get the module with the same trap attribution
//! (`instrument`), link against the same hostcall list, run in the same
//! execution slices and report results and traps the same way.

use alloc::sync::Arc;

use cervus_hostcalls::message;
use core::sync::atomic::{AtomicU64, Ordering};

use alloc::vec::Vec;
use cervus_hostcalls::protocol::{EngineKind, ErrorKind, ErrorReply, JitStats};

use wasmi::{CompilationMode, Config, Engine, ExternType, FuncType, Linker, Module, Store, Val, ValType};

use crate::exec::{self, Ended, Policy};
use crate::hostcalls::{self, Capabilities};
use crate::instance::HostState;
use crate::instrument;
use crate::jit::JitInstance;
use crate::platform::{Clock, Platform};

/// A validated, compiled module.
#[derive(Clone)]
pub(crate) enum Program {
    /// For the interpreter.
    Interp {
        /// The engine it was compiled in (one per module).
        engine: Engine,
        /// The module.
        module: Module,
    },
    /// Machine code from the JIT, already in executable memory (shared by
    /// every instance).
    Jit(Arc<JitProgram>),
}

/// A module compiled by the JIT, with its code made executable.
pub(crate) struct JitProgram {
    /// Its shape and code image.
    pub(crate) module: cervus_jit::CompiledModule,
    /// The image, executable.
    pub(crate) code: Arc<dyn cervus_jit::runtime::Code>,
}

impl Drop for JitProgram {
    fn drop(&mut self) {
        JIT.code_bytes.fetch_sub(self.module.code.len() as u64, Ordering::Relaxed);
    }
}

/// The JIT's counters (see [`JitStats`]).
struct JitCounters {
    modules: AtomicU64,
    wasm_bytes: AtomicU64,
    compile_ns: AtomicU64,
    code_bytes: AtomicU64,
}

static JIT: JitCounters = JitCounters {
    modules: AtomicU64::new(0),
    wasm_bytes: AtomicU64::new(0),
    compile_ns: AtomicU64::new(0),
    code_bytes: AtomicU64::new(0),
};

/// What the JIT compiled since the module was loaded, and holds now.
pub(crate) fn jit_stats() -> JitStats {
    JitStats {
        modules: JIT.modules.load(Ordering::Relaxed),
        wasm_bytes: JIT.wasm_bytes.load(Ordering::Relaxed),
        compile_ns: JIT.compile_ns.load(Ordering::Relaxed),
        code_bytes: JIT.code_bytes.load(Ordering::Relaxed),
    }
}

fn interp_config() -> Config {
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

impl Program {
    /// Validates and compiles `wasm` for `engine`, with trap attribution
    /// (see `instrument`); JIT code is made executable by `platform`.
    /// Errors name the module as it was given.
    #[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
    pub(crate) fn compile(platform: &dyn Platform, wasm: &[u8], engine: EngineKind) -> Result<Program, ErrorReply> {
        let instrumented = instrument::instrument(wasm);
        let invalid =
            |e: &dyn core::fmt::Display| ErrorReply { kind: ErrorKind::InvalidModule, message: message!("{e}") };
        match engine {
            EngineKind::Interp => {
                let engine = Engine::new(&interp_config());
                let module = match instrumented.map(|w| Module::new(&engine, &w)) {
                    Some(Ok(module)) => module,
                    _ => Module::new(&engine, wasm).map_err(|e| invalid(&e))?,
                };
                Ok(Program::Interp { engine, module })
            }
            EngineKind::Jit => {
                let started = platform.now(Clock::Monotonic);
                let module = match instrumented.map(|w| cervus_jit::compile(&w)) {
                    Some(Ok(module)) => module,
                    _ => cervus_jit::compile(wasm).map_err(|e| invalid(&e.0))?,
                };
                let code = platform.load_code(&module.code, module.info.uses_floats).map_err(|e| ErrorReply {
                    kind: ErrorKind::Limit,
                    message: message!("no room for {} bytes of compiled code (errno {})", module.code.len(), e.0),
                })?;
                JIT.modules.fetch_add(1, Ordering::Relaxed);
                JIT.wasm_bytes.fetch_add(wasm.len() as u64, Ordering::Relaxed);
                JIT.compile_ns.fetch_add(platform.now(Clock::Monotonic).saturating_sub(started), Ordering::Relaxed);
                JIT.code_bytes.fetch_add(module.code.len() as u64, Ordering::Relaxed);
                Ok(Program::Jit(Arc::new(JitProgram { module, code })))
            }
        }
    }

    /// The engine it was compiled for.
    pub(crate) fn engine(&self) -> EngineKind {
        match self {
            Program::Interp { .. } => EngineKind::Interp,
            Program::Jit(_) => EngineKind::Jit,
        }
    }
}

/// An exported function and its type.
#[derive(Clone)]
pub(crate) struct Func {
    inner: FuncRef,
    /// Its type.
    pub(crate) ty: FuncType,
}

#[derive(Clone, Copy)]
enum FuncRef {
    Interp(wasmi::Func),
    Jit(u32),
}

/// An instance on either engine, with its host state.
#[expect(clippy::large_enum_variant, reason = "one per instance, kept in place while it lives")]
pub(crate) enum Instance {
    /// On the interpreter: the store holds the host state.
    Interp {
        /// The store.
        store: Store<HostState>,
        /// The instance in it.
        instance: wasmi::Instance,
    },
    /// On the JIT.
    Jit(JitInstance),
}

/// Refuses a module whose function imports the hostcall list does not
/// have (with these capabilities and signatures), as the JIT does.
#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
fn check_imports(module: &Module, caps: Capabilities) -> Result<(), ErrorReply> {
    for import in module.imports() {
        let ExternType::Func(ty) = import.ty() else { continue };
        let params: Vec<_> = ty.params().iter().map(|t| parser_type(*t)).collect();
        let results: Vec<_> = ty.results().iter().map(|t| parser_type(*t)).collect();
        hostcalls::link(import.module(), import.name(), &params, &results, caps)
            .map_err(|message| ErrorReply { kind: ErrorKind::Link, message })?;
    }
    Ok(())
}

fn parser_type(ty: ValType) -> wasmparser::ValType {
    match ty {
        ValType::I32 => wasmparser::ValType::I32,
        ValType::I64 => wasmparser::ValType::I64,
        ValType::F32 => wasmparser::ValType::F32,
        ValType::F64 => wasmparser::ValType::F64,
        ValType::V128 => wasmparser::ValType::V128,
        ValType::FuncRef => wasmparser::ValType::FUNCREF,
        ValType::ExternRef => wasmparser::ValType::EXTERNREF,
    }
}

fn val_type(ty: wasmparser::ValType) -> ValType {
    match ty {
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::Ref(_) => ValType::FuncRef,
        _ => ValType::I32,
    }
}

impl Instance {
    /// Instantiates `program` with `state`, linked against the hostcalls
    /// `caps` allow, and runs its start function within one slice of
    /// `policy`. Linear memory is capped at `memory_limit` bytes.
    #[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
    pub(crate) fn new(
        program: &Program,
        state: HostState,
        caps: Capabilities,
        memory_limit: u64,
        policy: Policy,
    ) -> Result<Instance, ErrorReply> {
        match program {
            Program::Interp { engine, module } => {
                let mut store = Store::new(engine, state);
                store.limiter(|s| &mut s.store_limits);
                check_imports(module, caps)?;
                let mut linker = Linker::new(engine);
                hostcalls::register(&mut linker, caps)
                    .map_err(|e| ErrorReply { kind: ErrorKind::Internal, message: message!("{e}") })?;
                // A start function runs during instantiation, within one slice.
                let _ = store.set_fuel(policy.slice);
                let instance = linker
                    .instantiate_and_start(&mut store, module)
                    .map_err(|e| crate::run::instantiation_error(&e))?;
                Ok(Instance::Interp { store, instance })
            }
            Program::Jit(program) => JitInstance::new(program, state, caps, memory_limit, policy).map(Instance::Jit),
        }
    }

    /// Its host state.
    pub(crate) fn state(&self) -> &HostState {
        match self {
            Instance::Interp { store, .. } => store.data(),
            Instance::Jit(jit) => jit.state(),
        }
    }

    /// Its host state, writable.
    pub(crate) fn state_mut(&mut self) -> &mut HostState {
        match self {
            Instance::Interp { store, .. } => store.data_mut(),
            Instance::Jit(jit) => jit.state_mut(),
        }
    }

    /// The exported function `name`.
    pub(crate) fn func(&self, name: &str) -> Option<Func> {
        match self {
            Instance::Interp { store, instance } => {
                let func = instance.get_func(store, name)?;
                Some(Func { inner: FuncRef::Interp(func), ty: func.ty(store) })
            }
            Instance::Jit(jit) => {
                let info = jit.info();
                let index = info.exported_func(name)?;
                let ty = info.func_type(index);
                let ty =
                    FuncType::new(ty.params().iter().map(|t| val_type(*t)), ty.results().iter().map(|t| val_type(*t)));
                Some(Func { inner: FuncRef::Jit(index), ty })
            }
        }
    }

    /// Calls `func` (of this instance) under `policy`; returns how it
    /// ended, the fuel it used and the number of slices.
    pub(crate) fn call(
        &mut self,
        func: &Func,
        params: &[Val],
        results: &mut [Val],
        policy: Policy,
    ) -> (Ended, u64, u64) {
        match (self, func.inner) {
            (Instance::Interp { store, instance }, FuncRef::Interp(f)) => {
                exec::execute(store, instance, f, params, results, policy)
            }
            (Instance::Jit(jit), FuncRef::Jit(index)) => jit.call(index, params, results, policy),
            _ => (Ended::Stopped(crate::trap::outcome(&wasmi::Error::new("function of another instance"))), 0, 0),
        }
    }

    /// The function that was running when the instance stopped (see
    /// `instrument`), if known.
    pub(crate) fn current_function(&self) -> Option<u32> {
        match self {
            Instance::Interp { store, instance } => {
                let global = instance.get_global(store, instrument::CURRENT_FUNCTION)?;
                match global.get(store) {
                    Val::I32(index) if index >= 0 => Some(index as u32),
                    _ => None,
                }
            }
            Instance::Jit(jit) => jit.current_function(),
        }
    }
}
