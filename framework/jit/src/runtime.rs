// SPDX-License-Identifier: GPL-2.0

//! Instances of compiled modules: their memory, globals and tables, and the
//! runtime functions compiled code calls ([`LibCalls`]).
//!
//! What differs between the kernel and user space is behind two traits:
//! [`Code`] (executable memory, and how to enter it) and [`Host`] (imports
//! and fuel). Everything else, including every bounds check done on behalf
//! of compiled code (bulk memory, tables, segments), is here and shared.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr;

use crate::CompileError;
use crate::compile::CompiledModule;
use crate::module::{Const, ModuleInfo, unsupported};
use crate::vmctx::{FuncRef, LibCalls, TableDesc, TrapKind, VmCtx};

/// Bytes in a wasm page.
pub const PAGE: u64 = 65536;

/// A compiled module's code, made executable somewhere. Shared by every
/// instance of the module (it is immutable; instances differ only in their
/// contexts).
pub trait Code: Send + Sync {
    /// Address of the first byte of the image.
    fn base(&self) -> *const u8;

    /// Calls the array-call entry at `entry` (an address inside the image)
    /// with `vmctx` and `values`.
    ///
    /// # Safety
    ///
    /// `entry` is an entry of this image, `vmctx` the context of an
    /// instance of its module, `values` holds one slot per parameter and
    /// result of the entry's function.
    unsafe fn enter(&self, entry: *const u8, vmctx: *mut VmCtx, values: *mut u64);

    /// Leaves the execution context [`Code::enter`] set up, before the
    /// runtime does something that may sleep or allocate on behalf of
    /// compiled code (a hostcall, a fuel yield, growing memory or a table).
    /// The kernel ends its FPU section here. Default: nothing.
    fn suspend(&self) {}

    /// Re-enters the execution context after [`Code::suspend`].
    fn resume(&self) {}
}

/// Why a call ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A wasm trap.
    Wasm(TrapKind),
    /// The host stopped the call; it knows why.
    Host,
}

/// The host ended the call (it keeps the reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

/// What compiled code asks of its embedder.
pub trait Host {
    /// Import `import` is called: its arguments are in `values` (one slot
    /// each), its results go back there. `Err` ends the call.
    fn hostcall(&mut self, memory: &mut [u8], import: u32, values: &mut [u64]) -> Result<(), Stopped>;

    /// The fuel ran out (`left` is at most 0): the new amount, or `Err` to
    /// end the call.
    fn out_of_fuel(&mut self, left: i64) -> Result<i64, Stopped>;
}

/// Limits on what an instance may allocate.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most bytes of linear memory.
    pub memory_bytes: u64,
    /// Most entries per table.
    pub table_entries: u64,
}

/// A live instance. Boxed: compiled code holds its address (through the
/// context) while it runs.
pub struct Instance {
    ctx: VmCtx,
    code: Arc<dyn Code>,
    entries: Vec<Option<u32>>,
    info: ModuleInfo,
    limits: Limits,
    memory: Vec<u8>,
    globals: Vec<u64>,
    tables: Vec<Vec<u64>>,
    table_descs: Vec<TableDesc>,
    funcrefs: Vec<FuncRef>,
    data_dropped: Vec<bool>,
    elem_dropped: Vec<bool>,
    host: Option<*mut dyn Host>,
}

// SAFETY: the raw pointers in an instance point into its own allocations
// (memory, globals, tables, function references) or, during a call only, at
// the caller's host; moving the instance to another thread moves all of
// them with it. The code is `Send` by the trait's bound.
unsafe impl Send for Instance {}

static LIBCALLS: LibCalls = LibCalls {
    hostcall,
    out_of_fuel,
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
};

/// Why instantiation failed.
pub type InstantiateError = CompileError;

impl Instance {
    /// Instantiates `module`, whose code `code` holds: memory, globals,
    /// tables, then the active segments. The start function is not run
    /// (call [`Instance::start`]).
    pub fn new(
        module: &CompiledModule,
        code: Arc<dyn Code>,
        limits: Limits,
    ) -> Result<Box<Instance>, InstantiateError> {
        let CompiledModule { info, funcs, entries, .. } = module;
        let (info, entries) = (info.clone(), entries.clone());
        let base = code.base();
        let funcrefs = funcs
            .iter()
            .enumerate()
            // SAFETY: each offset is inside the image `code` holds.
            .map(|(i, off)| FuncRef {
                code: unsafe { base.add(*off as usize) },
                type_id: info.type_ids[info.funcs[i] as usize] as u64,
            })
            .collect::<Vec<_>>();
        let mut memory = Vec::new();
        if let Some(m) = info.memory {
            let bytes = m.min * PAGE;
            if bytes > limits.memory_bytes {
                return Err(unsupported!("memory of {} pages is over the limit", m.min));
            }
            memory = vec![0; bytes as usize];
        }
        let mut tables = Vec::new();
        for t in &info.tables {
            if t.min > limits.table_entries {
                return Err(unsupported!("table of {} entries is over the limit", t.min));
            }
            tables.push(vec![0u64; t.min as usize]);
        }
        let mut instance = Box::new(Instance {
            ctx: VmCtx {
                memory_base: ptr::null_mut(),
                memory_len: 0,
                fuel: 0,
                stack_limit: u64::MAX,
                globals: ptr::null_mut(),
                tables: ptr::null_mut(),
                funcrefs: ptr::null(),
                libcalls: &LIBCALLS,
                trap: 0,
                _pad: 0,
                host: ptr::null_mut(),
            },
            code,
            entries,
            data_dropped: vec![false; info.data.len()],
            elem_dropped: vec![false; info.elements.len()],
            limits,
            memory,
            globals: Vec::new(),
            table_descs: Vec::new(),
            tables,
            funcrefs,
            host: None,
            info,
        });
        let globals: Vec<u64> = {
            let mut values = Vec::with_capacity(instance.info.globals.len());
            for g in &instance.info.globals {
                let v = match g.init {
                    Const::Global(j) => values[j as usize],
                    c => instance.constant(c),
                };
                values.push(v);
            }
            values
        };
        instance.globals = globals;
        instance.refresh();
        for i in 0..instance.info.elements.len() {
            let (active, declared) = (instance.info.elements[i].active, instance.info.elements[i].declared);
            if let Some((table, offset)) = active {
                let offset = instance.constant(offset) as u32 as u64;
                let n = instance.info.elements[i].items.len() as u64;
                instance
                    .init_table(table, i, offset, 0, n)
                    .map_err(|_| unsupported!("element segment {i} does not fit its table"))?;
            }
            if active.is_some() || declared {
                instance.elem_dropped[i] = true;
            }
        }
        for i in 0..instance.info.data.len() {
            if let Some(offset) = instance.info.data[i].active {
                let offset = instance.constant(offset) as u32 as u64;
                let n = instance.info.data[i].bytes.len() as u64;
                instance
                    .init_memory(i, offset, 0, n)
                    .map_err(|_| unsupported!("data segment {i} does not fit memory"))?;
                instance.data_dropped[i] = true;
            }
        }
        Ok(instance)
    }

    /// Points the context at the current memory, globals and tables.
    fn refresh(&mut self) {
        self.ctx.memory_base = self.memory.as_mut_ptr();
        self.ctx.memory_len = self.memory.len() as u64;
        self.ctx.globals = self.globals.as_mut_ptr();
        self.table_descs =
            self.tables.iter_mut().map(|t| TableDesc { base: t.as_mut_ptr(), len: t.len() as u64 }).collect();
        self.ctx.tables = self.table_descs.as_mut_ptr();
        self.ctx.funcrefs = self.funcrefs.as_ptr();
    }

    fn constant(&self, c: Const) -> u64 {
        match c {
            Const::Bits(b) => b,
            Const::Global(j) => self.globals.get(j as usize).copied().unwrap_or(0),
            Const::Func(f) => &self.funcrefs[f as usize] as *const FuncRef as u64,
            Const::Null => 0,
        }
    }

    /// The module's shape.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// Linear memory.
    pub fn memory(&self) -> &[u8] {
        &self.memory
    }

    /// Linear memory, writable.
    pub fn memory_mut(&mut self) -> &mut [u8] {
        &mut self.memory
    }

    /// The raw value of global `index` (low bits for 32-bit types).
    pub fn global(&self, index: u32) -> Option<u64> {
        let g = self.info.globals.get(index as usize)?;
        let raw = self.globals[index as usize];
        Some(match g.ty {
            wasmparser::ValType::I32 | wasmparser::ValType::F32 => raw & 0xffff_ffff,
            _ => raw,
        })
    }

    /// Runs the start function, if any.
    pub fn start(&mut self, host: &mut dyn Host, fuel: i64, stack_limit: u64) -> Result<(), Trap> {
        match self.info.start {
            Some(f) => self.call(f, &mut [], host, fuel, stack_limit),
            None => Ok(()),
        }
    }

    /// The index of exported function `name`.
    pub fn export(&self, name: &str) -> Option<u32> {
        self.info.exported_func(name)
    }

    /// Calls function `index` (exported, or the start function): its
    /// parameters in `values`, which must have one slot per parameter and
    /// per result; the results are left there. `fuel` is the first slice,
    /// `stack_limit` the lowest stack address compiled code may start a
    /// function at (see [`crate::MAX_FRAME`]).
    pub fn call(
        &mut self,
        index: u32,
        values: &mut [u64],
        host: &mut dyn Host,
        fuel: i64,
        stack_limit: u64,
    ) -> Result<(), Trap> {
        let entry = self.entries.get(index as usize).copied().flatten().ok_or(Trap::Host)?;
        let ty = self.info.func_type(index);
        if values.len() < ty.params().len().max(ty.results().len()) {
            return Err(Trap::Host);
        }
        // SAFETY: the lifetime is erased only for the duration of this call:
        // `host` is cleared below before it returns.
        let host: *mut dyn Host = unsafe { core::mem::transmute::<&mut dyn Host, &'static mut dyn Host>(host) };
        self.host = Some(host);
        self.ctx.fuel = fuel;
        self.ctx.stack_limit = stack_limit;
        self.ctx.trap = 0;
        let this: *mut Instance = self;
        self.ctx.host = this.cast();
        // The runtime functions reach the instance only through `ctx.host`
        // while compiled code runs; `self` is not used until it returns.
        // SAFETY: `entry` is an array-call entry of this image for function
        // `index`, `values` is long enough (checked), the context is this
        // instance's, alive and pinned (boxed) for the call.
        unsafe {
            let code = self.code.base().add(entry as usize);
            let ctx = ptr::addr_of_mut!((*this).ctx);
            (*this).code.enter(code, ctx, values.as_mut_ptr());
        }
        self.host = None;
        // 32-bit results fill only the low half of their slot.
        for (slot, ty) in values.iter_mut().zip(self.info.func_type(index).results()) {
            if matches!(ty, wasmparser::ValType::I32 | wasmparser::ValType::F32) {
                *slot &= 0xffff_ffff;
            }
        }
        match self.ctx.trap {
            0 => Ok(()),
            code => Err(TrapKind::from_code(code)
                .map_or(Trap::Host, |k| if k == TrapKind::Host { Trap::Host } else { Trap::Wasm(k) })),
        }
    }

    /// Fuel left after the last call.
    pub fn fuel_left(&self) -> i64 {
        self.ctx.fuel
    }

    fn grow_memory(&mut self, delta: u64) -> u64 {
        let Some(m) = self.info.memory else { return u64::MAX };
        let old = self.memory.len() as u64 / PAGE;
        let new = old.saturating_add(delta);
        let max = m.max.unwrap_or(65536).min(65536).min(self.limits.memory_bytes / PAGE);
        if new > max {
            return u64::MAX;
        }
        if self.memory.try_reserve_exact((delta * PAGE) as usize).is_err() {
            return u64::MAX;
        }
        self.memory.resize((new * PAGE) as usize, 0);
        self.refresh();
        old
    }

    fn grow_table(&mut self, table: usize, init: u64, delta: u64) -> u64 {
        let t = &self.info.tables[table];
        let old = self.tables[table].len() as u64;
        let new = old.saturating_add(delta);
        if new > t.max.unwrap_or(u32::MAX as u64).min(self.limits.table_entries) {
            return u64::MAX;
        }
        if self.tables[table].try_reserve_exact(delta as usize).is_err() {
            return u64::MAX;
        }
        self.tables[table].resize(new as usize, init);
        self.refresh();
        old
    }

    fn init_memory(&mut self, segment: usize, dst: u64, src: u64, len: u64) -> Result<(), TrapKind> {
        let bytes: &[u8] = if self.data_dropped[segment] { &[] } else { &self.info.data[segment].bytes };
        let src = range(src, len, bytes.len() as u64).ok_or(TrapKind::MemoryOutOfBounds)?;
        let dst = range(dst, len, self.memory.len() as u64).ok_or(TrapKind::MemoryOutOfBounds)?;
        self.memory[dst].copy_from_slice(&bytes[src]);
        Ok(())
    }

    fn init_table(&mut self, table: u32, segment: usize, dst: u64, src: u64, len: u64) -> Result<(), TrapKind> {
        let n = if self.elem_dropped[segment] { 0 } else { self.info.elements[segment].items.len() as u64 };
        let src = range(src, len, n).ok_or(TrapKind::TableOutOfBounds)?;
        let t = table as usize;
        let dst = range(dst, len, self.tables[t].len() as u64).ok_or(TrapKind::TableOutOfBounds)?;
        for (d, s) in dst.zip(src) {
            let item = self.info.elements[segment].items[s];
            let value = match item {
                Const::Global(j) => self.globals[j as usize],
                c => self.constant(c),
            };
            self.tables[t][d] = value;
        }
        Ok(())
    }
}

/// `start..start + len` if it lies within `0..size`.
fn range(start: u64, len: u64, size: u64) -> Option<core::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size).then_some(start as usize..end as usize)
}

/// The instance behind a context.
///
/// # Safety
///
/// `vmctx` is the context of a live instance in a call (set up by
/// [`Instance::call`]), and compiled code passes it unchanged.
unsafe fn instance<'a>(vmctx: *mut VmCtx) -> &'a mut Instance {
    // SAFETY: the caller's contract; `host` was set to the instance.
    unsafe { &mut *(*vmctx).host.cast::<Instance>() }
}

fn trap(instance: &mut Instance, kind: TrapKind) -> u32 {
    instance.ctx.trap = kind as u32;
    1
}

fn status(instance: &mut Instance, result: Result<(), TrapKind>) -> u32 {
    match result {
        Ok(()) => 0,
        Err(kind) => trap(instance, kind),
    }
}

unsafe extern "C" fn hostcall(vmctx: *mut VmCtx, index: u64, values: *mut u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    let Some(host) = instance.host else { return trap(instance, TrapKind::Host) };
    let ty = instance.info.func_type(index as u32);
    let n = ty.params().len().max(ty.results().len()).max(1);
    // SAFETY: the import stub passes an array of at least `n` slots.
    let values = unsafe { core::slice::from_raw_parts_mut(values, n) };
    instance.code.suspend();
    // SAFETY: `host` lives for the whole call (see `Instance::call`).
    let result = unsafe { (*host).hostcall(&mut instance.memory, index as u32, values) };
    instance.code.resume();
    match result {
        Ok(()) => 0,
        Err(Stopped) => trap(instance, TrapKind::Host),
    }
}

unsafe extern "C" fn out_of_fuel(vmctx: *mut VmCtx) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    let Some(host) = instance.host else { return trap(instance, TrapKind::Host) };
    instance.code.suspend();
    // SAFETY: as in `hostcall`.
    let result = unsafe { (*host).out_of_fuel(instance.ctx.fuel) };
    instance.code.resume();
    match result {
        Ok(fuel) => {
            instance.ctx.fuel = fuel;
            0
        }
        Err(Stopped) => trap(instance, TrapKind::Host),
    }
}

unsafe extern "C" fn memory_grow(vmctx: *mut VmCtx, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    instance.code.suspend();
    let old = instance.grow_memory(delta);
    instance.code.resume();
    old
}

/// Bytes a bulk operation moves per unit of fuel.
const BULK_BYTES_PER_FUEL: u64 = 64;
/// Bulk operations over more bytes than this run outside the code's
/// execution context ([`Code::suspend`]): they can take a while, and a
/// kernel FPU section must stay short.
const BULK_SUSPEND_BYTES: u64 = 4096;

/// Runs a bulk operation over `bytes` bytes: charges its fuel (one unit per
/// [`BULK_BYTES_PER_FUEL`]; the next fuel check calls the runtime if that
/// used it up, so a loop of large copies yields like any loop), and runs
/// long ones suspended.
fn bulk(instance: &mut Instance, bytes: u64, op: impl FnOnce(&mut Instance) -> Result<(), TrapKind>) -> u32 {
    let cost = i64::try_from(bytes / BULK_BYTES_PER_FUEL).unwrap_or(i64::MAX);
    instance.ctx.fuel = instance.ctx.fuel.saturating_sub(cost);
    let long = bytes > BULK_SUSPEND_BYTES;
    if long {
        instance.code.suspend();
    }
    let result = op(instance);
    if long {
        instance.code.resume();
    }
    status(instance, result)
}

unsafe extern "C" fn memory_fill(vmctx: *mut VmCtx, dst: u64, value: u64, len: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    bulk(instance, len, |instance| match range(dst, len, instance.memory.len() as u64) {
        Some(r) => {
            instance.memory[r].fill(value as u8);
            Ok(())
        }
        None => Err(TrapKind::MemoryOutOfBounds),
    })
}

unsafe extern "C" fn memory_copy(vmctx: *mut VmCtx, dst: u64, src: u64, len: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    bulk(instance, len, |instance| {
        let size = instance.memory.len() as u64;
        match (range(src, len, size), range(dst, len, size)) {
            (Some(s), Some(d)) => {
                instance.memory.copy_within(s, d.start);
                Ok(())
            }
            _ => Err(TrapKind::MemoryOutOfBounds),
        }
    })
}

unsafe extern "C" fn memory_init(vmctx: *mut VmCtx, segment: u64, dst: u64, src: u64, len: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    bulk(instance, len, |instance| instance.init_memory(segment as usize, dst, src, len))
}

unsafe extern "C" fn data_drop(vmctx: *mut VmCtx, segment: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    instance.data_dropped[segment as usize] = true;
    0
}

unsafe extern "C" fn table_grow(vmctx: *mut VmCtx, table: u64, init: u64, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    instance.code.suspend();
    let old = instance.grow_table(table as usize, init, delta);
    instance.code.resume();
    old
}

unsafe extern "C" fn table_fill(vmctx: *mut VmCtx, table: u64, dst: u64, value: u64, len: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    bulk(instance, len.saturating_mul(8), |instance| {
        let t = &mut instance.tables[table as usize];
        match range(dst, len, t.len() as u64) {
            Some(r) => {
                t[r].fill(value);
                Ok(())
            }
            None => Err(TrapKind::TableOutOfBounds),
        }
    })
}

unsafe extern "C" fn table_copy(
    vmctx: *mut VmCtx,
    dst_table: u64,
    src_table: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    let (dt, st) = (dst_table as usize, src_table as usize);
    bulk(instance, len.saturating_mul(8), |instance| {
        match (range(src, len, instance.tables[st].len() as u64), range(dst, len, instance.tables[dt].len() as u64)) {
            (Some(s), Some(d)) => {
                // No allocation here: compiled code may run in a section
                // that must not sleep (see `Code::suspend`).
                if dt == st {
                    instance.tables[dt].copy_within(s, d.start);
                } else {
                    let (lo, hi) = instance.tables.split_at_mut(dt.max(st));
                    let (dst, src) = if dt < st { (&mut lo[dt], &hi[0]) } else { (&mut hi[0], &lo[st]) };
                    dst[d].copy_from_slice(&src[s]);
                }
                Ok(())
            }
            _ => Err(TrapKind::TableOutOfBounds),
        }
    })
}

unsafe extern "C" fn table_init(vmctx: *mut VmCtx, table: u64, segment: u64, dst: u64, src: u64, len: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    bulk(instance, len.saturating_mul(8), |instance| instance.init_table(table as u32, segment as usize, dst, src, len))
}

unsafe extern "C" fn elem_drop(vmctx: *mut VmCtx, segment: u64) -> u32 {
    // SAFETY: called by compiled code with its context.
    let instance = unsafe { instance(vmctx) };
    instance.elem_dropped[segment as usize] = true;
    0
}
