// SPDX-License-Identifier: GPL-2.0

//! User-space harness for the JIT: executable memory from `mmap`, and
//! helpers to run compiled modules.

#![allow(dead_code)]

pub mod diff;

use cervus_jit::runtime::{Host, Instance, Limits, Stopped, Trap};
pub use cervus_jit::user::MmapCode;

/// A host with no imports and unlimited fuel (refilled `refills` times).
pub struct NoHost {
    pub refills: u64,
}

impl Host for NoHost {
    fn hostcall(&mut self, _memory: &mut [u8], _import: u32, _values: &mut [u64]) -> Result<(), Stopped> {
        Err(Stopped)
    }

    fn out_of_fuel(&mut self, _left: i64) -> Result<i64, Stopped> {
        self.refills += 1;
        Ok(1000)
    }
}

pub const LIMITS: Limits = Limits { memory_bytes: 64 << 20, table_entries: 100_000 };

/// A stack limit leaving `room` bytes below the current stack pointer.
pub fn stack_limit(room: u64) -> u64 {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as u64 - room
}

/// Compiles and instantiates `wasm`.
pub fn instantiate(wasm: &[u8]) -> Result<Box<Instance>, String> {
    let module = cervus_jit::compile(wasm).map_err(|e| e.0)?;
    let code = std::sync::Arc::new(MmapCode::new(&module.code).ok_or("mmap failed")?);
    Instance::new(&module, code, LIMITS).map_err(|e| e.0)
}

/// Calls export `name` with `args`; returns the result slots.
pub fn call(instance: &mut Instance, name: &str, args: &[u64]) -> Result<Vec<u64>, Trap> {
    let index = instance.export(name).expect("no such export");
    let ty = instance.info().func_type(index).clone();
    let mut values = vec![0u64; ty.params().len().max(ty.results().len()).max(1)];
    values[..args.len()].copy_from_slice(args);
    let mut host = NoHost { refills: 0 };
    instance.call(index, &mut values, &mut host, 1000, stack_limit(256 * 1024))?;
    values.truncate(ty.results().len());
    Ok(values)
}
