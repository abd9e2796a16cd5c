// SPDX-License-Identifier: GPL-2.0

//! User-space harness for the JIT: executable memory from `mmap`, and
//! helpers to run compiled modules.

#![allow(dead_code)]

pub mod diff;

use cervus_jit::runtime::{Code, Host, Instance, Limits, Stopped, Trap};
use cervus_jit::vmctx::VmCtx;

/// Code in an anonymous mapping: written while read-write, then switched
/// to read-execute (never both).
pub struct MmapCode {
    base: *mut u8,
    len: usize,
}

impl MmapCode {
    pub fn new(code: &[u8]) -> MmapCode {
        let len = code.len().max(1).next_multiple_of(4096);
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let base = base.cast::<u8>();
        // SAFETY: the mapping is `len >= code.len()` bytes, writable.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), base, code.len());
            assert_eq!(libc::mprotect(base.cast(), len, libc::PROT_READ | libc::PROT_EXEC), 0);
        }
        MmapCode { base, len }
    }
}

impl Drop for MmapCode {
    fn drop(&mut self) {
        // SAFETY: our own mapping.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl Code for MmapCode {
    fn base(&self) -> *const u8 {
        self.base
    }

    unsafe fn enter(&self, entry: *const u8, vmctx: *mut VmCtx, values: *mut u64) {
        // SAFETY: the caller's contract: `entry` is an array-call entry.
        unsafe {
            let f: extern "sysv64" fn(*mut VmCtx, *mut u64) = std::mem::transmute(entry);
            f(vmctx, values)
        }
    }
}

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
    let code = Box::new(MmapCode::new(&module.code));
    Instance::new(module, code, LIMITS).map_err(|e| e.0)
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
