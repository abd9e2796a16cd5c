// SPDX-License-Identifier: GPL-2.0

//! The comparison behind the differential test and the fuzz target: one
//! module under both engines, the same instantiation outcome, then each
//! exported function called with the same arguments gives the same results
//! or the same trap, and at the end the globals and memory are the same.

use super::{LIMITS, MmapCode, stack_limit};
use cervus_jit::runtime::{Host, Instance, Stopped, Trap};
use cervus_jit::vmctx::TrapKind;
use wasmi::{Engine, Linker, Module, Store, Val, ValType};

/// wasm-smith's configuration: the features the JIT implements, NaNs made
/// canonical (wasm leaves NaN bits to the engine), every loop and call
/// bounded by a fuel global (so both engines stop at the same point).
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        min_funcs: 1,
        max_funcs: 12,
        export_everything: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        max_memories: 1,
        max_memory32_bytes: 1 << 20,
        max_tables: 3,
        max_table_elements: 1000,
        canonicalize_nans: true,
        ..wasm_smith::Config::default()
    }
}

/// What a call gave.
#[derive(Debug, PartialEq)]
enum Outcome {
    Values(Vec<u64>),
    Trap(TrapKind),
    /// Either engine ran out of native stack (their limits differ).
    Exhausted,
}

fn kind(code: wasmi::TrapCode) -> Option<TrapKind> {
    use wasmi::TrapCode as W;
    Some(match code {
        W::UnreachableCodeReached => TrapKind::Unreachable,
        W::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        W::TableOutOfBounds => TrapKind::TableOutOfBounds,
        W::IndirectCallToNull => TrapKind::IndirectCallToNull,
        W::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        W::IntegerOverflow => TrapKind::IntegerOverflow,
        W::BadConversionToInteger => TrapKind::BadConversionToInteger,
        W::StackOverflow => TrapKind::StackOverflow,
        W::BadSignature => TrapKind::BadSignature,
        _ => return None,
    })
}

fn wasmi_outcome(e: &wasmi::Error) -> Outcome {
    match e.as_trap_code().and_then(kind) {
        Some(TrapKind::StackOverflow) => Outcome::Exhausted,
        Some(k) => Outcome::Trap(k),
        None => panic!("wasmi failed without a trap: {e}"),
    }
}

fn jit_outcome(t: Trap) -> Outcome {
    match t {
        Trap::Wasm(TrapKind::StackOverflow) => Outcome::Exhausted,
        Trap::Wasm(k) => Outcome::Trap(k),
        Trap::Host => panic!("the JIT stopped for the host"),
    }
}

fn bits(v: &Val) -> u64 {
    match v {
        Val::I32(x) => *x as u32 as u64,
        Val::I64(x) => *x as u64,
        Val::F32(x) => x.to_bits() as u64,
        Val::F64(x) => x.to_bits(),
        Val::FuncRef(r) => !r.is_null() as u64,
        Val::ExternRef(r) => !r.is_null() as u64,
        other => panic!("unexpected value {other:?}"),
    }
}

fn arg(ty: &ValType, raw: u64) -> Val {
    match ty {
        ValType::I32 => Val::I32(raw as i32),
        ValType::I64 => Val::I64(raw as i64),
        ValType::F32 => Val::F32(wasmi::F32::from_bits(raw as u32)),
        ValType::F64 => Val::F64(wasmi::F64::from_bits(raw)),
        other => Val::default_for_ty(*other),
    }
}

struct Unlimited;

impl Host for Unlimited {
    fn hostcall(&mut self, _: &mut [u8], _: u32, _: &mut [u64]) -> Result<(), Stopped> {
        Err(Stopped)
    }
    fn out_of_fuel(&mut self, _: i64) -> Result<i64, Stopped> {
        Ok(1 << 40)
    }
}

/// What a comparison covered.
#[derive(Debug, Default)]
pub struct Stats {
    /// Modules both engines instantiated.
    pub instantiated: usize,
    /// Calls that returned values under both.
    pub returned: usize,
    /// Calls that trapped the same way under both.
    pub trapped: usize,
}

/// Runs `wasm` under both engines and panics at the first difference.
pub fn compare(engine: &Engine, wasm: &[u8], seed: u64, stats: &mut Stats) {
    let module = Module::new(engine, wasm).expect("wasm-smith modules are valid");
    // The same limits as the JIT's instance (growth beyond fails alike).
    let limits = wasmi::StoreLimitsBuilder::new()
        .memory_size(LIMITS.memory_bytes as usize)
        .table_elements(LIMITS.table_entries as usize)
        .build();
    let mut store = Store::new(engine, limits);
    store.limiter(|limits| limits);
    let linker = Linker::<wasmi::StoreLimits>::new(engine);
    let reference = linker.instantiate_and_start(&mut store, &module);

    let compiled = cervus_jit::compile(wasm).unwrap_or_else(|e| panic!("the JIT refused a valid module: {e}"));
    let code = std::sync::Arc::new(MmapCode::new(&compiled.code).expect("mmap"));
    let jit = Instance::new(&compiled, code, LIMITS);
    let limit = stack_limit(1 << 20);
    let (reference, mut jit) = match (reference, jit) {
        // Both refuse (a segment out of bounds): the same outcome.
        (Err(_), Err(_)) => return,
        (Ok(r), Ok(mut j)) => match j.start(&mut Unlimited, 1 << 40, limit) {
            Ok(()) => (r, j),
            Err(t) => panic!("start trapped only under the JIT: {t:?}"),
        },
        (Err(e), Ok(mut j)) => {
            // A start function trap is an instantiation error in wasmi.
            let Some(_) = e.as_trap_code() else { panic!("wasmi refused to instantiate: {e}") };
            let t = j.start(&mut Unlimited, 1 << 40, limit).expect_err("start trapped only under wasmi");
            assert_eq!(jit_outcome(t), wasmi_outcome(&e));
            stats.trapped += 1;
            return;
        }
        (Ok(_), Err(e)) => panic!("only the JIT failed to instantiate: {e}"),
    };

    let mut rng = seed | 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    stats.instantiated += 1;
    for export in module.exports() {
        let Some(func) = reference.get_func(&store, export.name()) else { continue };
        let ty = func.ty(&store);
        let raw: Vec<u64> = ty.params().iter().map(|_| (next() % 7 * 0x1_0000_0001) ^ (next() >> 40)).collect();
        let args: Vec<Val> = ty.params().iter().zip(&raw).map(|(t, r)| arg(t, *r)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for_ty(*t)).collect();
        let expected = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Values(results.iter().map(bits).collect()),
            Err(e) => wasmi_outcome(&e),
        };
        let index = jit.export(export.name()).expect("same exports");
        let mut values = vec![0u64; ty.params().len().max(ty.results().len()).max(1)];
        for (slot, (t, r)) in values.iter_mut().zip(ty.params().iter().zip(&raw)) {
            *slot = match t {
                ValType::I32 | ValType::F32 => *r & 0xffff_ffff,
                ValType::FuncRef | ValType::ExternRef => 0,
                _ => *r,
            };
        }
        let got = match jit.call(index, &mut values, &mut Unlimited, 1 << 40, limit) {
            Ok(()) => {
                let refs: Vec<bool> =
                    ty.results().iter().map(|t| matches!(t, ValType::FuncRef | ValType::ExternRef)).collect();
                Outcome::Values(
                    values[..ty.results().len()]
                        .iter()
                        .zip(refs)
                        .map(|(v, is_ref)| if is_ref { (*v != 0) as u64 } else { *v })
                        .collect(),
                )
            }
            Err(t) => jit_outcome(t),
        };
        if expected == Outcome::Exhausted || got == Outcome::Exhausted {
            // The engines' stack limits differ; their states may too now.
            return;
        }
        assert_eq!(got, expected, "export {:?} with {raw:x?}", export.name());
        match got {
            Outcome::Values(_) => stats.returned += 1,
            _ => stats.trapped += 1,
        }
    }
    compare_state(&store, &reference, &jit);
}

fn compare_state(store: &Store<wasmi::StoreLimits>, reference: &wasmi::Instance, jit: &Instance) {
    for (i, g) in jit.info().exports.iter().enumerate() {
        match g.kind {
            cervus_jit::ExportKind::Global => {
                let value = reference.get_global(store, &g.name).expect("same exports").get(store);
                let mine = jit.global(g.index).unwrap();
                let mine = if matches!(value, Val::FuncRef(_) | Val::ExternRef(_)) { (mine != 0) as u64 } else { mine };
                assert_eq!(mine, bits(&value), "global export {i} ({:?})", g.name);
            }
            cervus_jit::ExportKind::Memory => {
                let memory = reference.get_memory(store, &g.name).expect("same exports");
                assert!(memory.data(store) == jit.memory(), "memory differs");
            }
            _ => {}
        }
    }
}
