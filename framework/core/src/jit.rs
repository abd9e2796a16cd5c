// SPDX-License-Identifier: GPL-2.0

//! Running modules on the JIT.
//!
//! [`JitInstance`] pairs a `cervus_jit` instance with its host state and
//! its imports, resolved against the same hostcall list as the interpreter
//! ([`hostcalls::resolve`]). Calls run in the same execution slices
//! ([`Slices`]): compiled code calls back when its fuel runs out, and that
//! callback publishes the counters, stops the call or yields the CPU, just
//! as the interpreter's runner does between resumptions.
//!
//! Results and traps are reported exactly as the interpreter reports them:
//! a trap kind becomes the interpreter's trap code (and message), a
//! hostcall's error is kept and reported as it would be there.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{ErrorKind, ErrorReply};
use cervus_jit::runtime::{self, Stopped, Trap};
use cervus_jit::vmctx::TrapKind;
use cervus_jit::{CompiledModule, ExportKind};
use wasmi::Val;

use crate::exec::{Ended, Policy, Slices};
use crate::guest::JitCaller;
use crate::hostcalls::{self, Capabilities, Hostcall};
use crate::instance::HostState;
use crate::instrument;
use crate::program::JitProgram;
use crate::trap;

/// Most entries per table of a JIT instance (the interpreter's store
/// limits allow one table of any size within the memory limit; a table
/// entry is 8 bytes here).
const TABLE_ENTRIES: u64 = 1 << 20;

/// A live JIT instance and its host state.
pub(crate) struct JitInstance {
    instance: Box<runtime::Instance>,
    state: HostState,
    imports: Vec<Hostcall>,
    /// Whether the module exports its memory as `memory` (hostcalls see
    /// only an exported memory, as with the interpreter).
    exports_memory: bool,
}

#[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
fn link(module: &CompiledModule, caps: Capabilities) -> Result<Vec<Hostcall>, ErrorReply> {
    let info = &module.info;
    let link = |(index, import): (usize, &cervus_jit::Import)| {
        let ty = info.func_type(index as u32);
        hostcalls::link(&import.module, &import.name, ty.params(), ty.results(), caps)
            .map_err(|message| ErrorReply { kind: ErrorKind::Link, message })
    };
    info.imports.iter().enumerate().map(link).collect()
}

/// The outcome of a JIT trap, as the interpreter reports the same trap.
fn trap_error(kind: TrapKind) -> wasmi::Error {
    use wasmi::TrapCode as W;
    wasmi::Error::from(match kind {
        TrapKind::Unreachable => W::UnreachableCodeReached,
        TrapKind::MemoryOutOfBounds => W::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds => W::TableOutOfBounds,
        TrapKind::IndirectCallToNull => W::IndirectCallToNull,
        TrapKind::BadSignature => W::BadSignature,
        TrapKind::IntegerDivisionByZero => W::IntegerDivisionByZero,
        TrapKind::IntegerOverflow => W::IntegerOverflow,
        TrapKind::BadConversionToInteger => W::BadConversionToInteger,
        TrapKind::StackOverflow => W::StackOverflow,
        // Reported by the runner itself, never turned into an error.
        TrapKind::Host => W::UnreachableCodeReached,
    })
}

/// The runtime's view of the embedder during one call.
struct Runner<'a> {
    state: &'a mut HostState,
    imports: &'a [Hostcall],
    exports_memory: bool,
    slices: Slices,
    /// Why the host stopped the call, when it did.
    ended: Option<Ended>,
    /// Whether `out_of_fuel` stopped it (the slice is then counted).
    stopped_between_slices: bool,
}

impl runtime::Host for Runner<'_> {
    fn hostcall(&mut self, memory: &mut [u8], import: u32, values: &mut [u64]) -> Result<(), Stopped> {
        let Some(hostcall) = self.imports.get(import as usize) else {
            self.ended = Some(Ended::Stopped(trap::outcome(&wasmi::Error::new("call of an unknown import"))));
            return Err(Stopped);
        };
        let memory = self.exports_memory.then_some(memory);
        let mut caller = JitCaller { memory, state: self.state };
        (hostcall.call)(&mut caller, values).map_err(|e| {
            self.ended = Some(Ended::Stopped(trap::outcome(&e)));
            Stopped
        })
    }

    fn out_of_fuel(&mut self, left: i64) -> Result<i64, Stopped> {
        // `left` is at most 0: the slice used what it was given, and the
        // charge that crossed zero is counted with it.
        self.slices.end(self.state, left, None);
        match self.slices.next(self.state, 1) {
            Ok(fuel) => Ok(i64::try_from(fuel).unwrap_or(i64::MAX)),
            Err(ended) => {
                self.ended = Some(ended);
                self.stopped_between_slices = true;
                Err(Stopped)
            }
        }
    }
}

impl JitInstance {
    /// Links `program`'s imports under `caps`, instantiates
    /// it with `state` and runs its start function (within one slice of
    /// `policy`).
    #[expect(clippy::result_large_err, reason = "replies are bounded inline values, built without allocating")]
    pub(crate) fn new(
        program: &JitProgram,
        state: HostState,
        caps: Capabilities,
        memory_limit: u64,
        policy: Policy,
    ) -> Result<Self, ErrorReply> {
        let module = &program.module;
        let imports = link(module, caps)?;
        let code = program.code.clone();
        let limits = runtime::Limits { memory_bytes: memory_limit, table_entries: TABLE_ENTRIES };
        let instance = runtime::Instance::new(module, code, limits)
            .map_err(|e| ErrorReply { kind: ErrorKind::Limit, message: message!("{}", e.0) })?;
        let exports_memory = module.info.exports.iter().any(|e| e.kind == ExportKind::Memory && e.name == "memory");
        let mut jit = JitInstance { instance, state, imports, exports_memory };
        if let Some(start) = module.info.start {
            match jit.call(start, &[], &mut [], Policy { budget: Some(policy.slice), ..policy }).0 {
                Ended::Returned => {}
                Ended::Stopped(outcome) => {
                    return Err(ErrorReply { kind: ErrorKind::Link, message: message!("start function: {outcome:?}") });
                }
                Ended::Budget(_) => {
                    return Err(ErrorReply {
                        kind: ErrorKind::Link,
                        message: message!("start function: used up its fuel"),
                    });
                }
            }
        }
        Ok(jit)
    }

    /// Its host state.
    pub(crate) fn state(&self) -> &HostState {
        &self.state
    }

    /// Its host state, writable.
    pub(crate) fn state_mut(&mut self) -> &mut HostState {
        &mut self.state
    }

    /// The module's shape.
    pub(crate) fn info(&self) -> &cervus_jit::ModuleInfo {
        self.instance.info()
    }

    /// The function that was running when the instance last trapped (see
    /// `instrument`), if known.
    pub(crate) fn current_function(&self) -> Option<u32> {
        let info = self.instance.info();
        let export =
            info.exports.iter().find(|e| e.kind == ExportKind::Global && e.name == instrument::CURRENT_FUNCTION)?;
        let index = self.instance.global(export.index)? as u32 as i32;
        u32::try_from(index).ok()
    }

    /// Calls function `index` with `params`, its results into `results`,
    /// under `policy`; returns how it ended, the fuel it used and the
    /// number of slices.
    pub(crate) fn call(
        &mut self,
        index: u32,
        params: &[Val],
        results: &mut [Val],
        policy: Policy,
    ) -> (Ended, u64, u64) {
        let mut values = vec![0u64; params.len().max(results.len()).max(1)];
        for (slot, param) in values.iter_mut().zip(params) {
            *slot = match param {
                Val::I32(v) => u64::from(*v as u32),
                Val::I64(v) => *v as u64,
                Val::F32(v) => u64::from(v.to_bits()),
                Val::F64(v) => v.to_bits(),
                _ => 0,
            };
        }
        let slices = Slices::start(&self.state, policy);
        let given = i64::try_from(slices.given).unwrap_or(i64::MAX);
        let stack_limit = self.state.platform.jit_stack_limit();
        let mut runner = Runner {
            state: &mut self.state,
            imports: &self.imports,
            exports_memory: self.exports_memory,
            slices,
            ended: None,
            stopped_between_slices: false,
        };
        let result = self.instance.call(index, &mut values, &mut runner, given, stack_limit);
        let Runner { mut slices, ended, stopped_between_slices, .. } = runner;
        let memory = Some(self.instance.memory().len() as u64);
        if stopped_between_slices {
            // Its last slice was counted in `out_of_fuel`.
            Slices::publish_memory(&self.state, memory);
        } else {
            slices.end(&self.state, self.instance.fuel_left(), memory);
        }
        let ended = match result {
            Ok(()) => {
                let ty = self.instance.info().func_type(index);
                for ((result, slot), ty) in results.iter_mut().zip(&values).zip(ty.results()) {
                    *result = match ty {
                        wasmparser::ValType::I32 => Val::I32(*slot as u32 as i32),
                        wasmparser::ValType::I64 => Val::I64(*slot as i64),
                        wasmparser::ValType::F32 => Val::F32(f32::from_bits(*slot as u32).into()),
                        wasmparser::ValType::F64 => Val::F64(f64::from_bits(*slot).into()),
                        _ => Val::I32(0),
                    };
                }
                Ended::Returned
            }
            Err(Trap::Wasm(kind)) => Ended::Stopped(trap::outcome(&trap_error(kind))),
            Err(Trap::Host) => {
                ended.unwrap_or_else(|| Ended::Stopped(trap::outcome(&wasmi::Error::new("the call could not be made"))))
            }
        };
        (ended, slices.fuel_used, slices.slices)
    }
}
