// SPDX-License-Identifier: GPL-2.0

//! What compiled code and the runtime share: the instance context.
//!
//! Every compiled function takes a pointer to a [`VmCtx`] as its first
//! argument and reaches everything outside its own frame through it: linear
//! memory, globals, tables, fuel, the stack limit and the runtime's
//! [`LibCalls`]. Compiled code never holds an absolute address of its own:
//! the context is the only door, and the runtime owns what it points to.
//!
//! Traps do not unwind. A function that traps stores the trap in
//! [`VmCtx::trap`] and returns; every caller checks the field after every
//! call and returns too, so the trap travels back to the entry point through
//! ordinary returns and no frame is ever abandoned.

use core::ffi::c_void;
use core::mem::offset_of;

/// Why compiled code stopped: the same kinds as the interpreter's traps.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// `unreachable` was executed.
    Unreachable = 1,
    /// A memory access out of bounds.
    MemoryOutOfBounds = 2,
    /// A table access out of bounds.
    TableOutOfBounds = 3,
    /// `call_indirect` on a null table entry.
    IndirectCallToNull = 4,
    /// `call_indirect` with the wrong signature.
    BadSignature = 5,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 6,
    /// Signed division overflow, or a float too large for an integer.
    IntegerOverflow = 7,
    /// NaN converted to an integer.
    BadConversionToInteger = 8,
    /// The wasm stack exceeded its limit.
    StackOverflow = 9,
    /// The runtime stopped the call (a hostcall's fault, a kill, a signal,
    /// a budget); it keeps the details.
    Host = 10,
}

impl TrapKind {
    /// The kind stored as `code` in [`VmCtx::trap`], if any.
    pub fn from_code(code: u32) -> Option<TrapKind> {
        use TrapKind::*;
        Some(match code {
            1 => Unreachable,
            2 => MemoryOutOfBounds,
            3 => TableOutOfBounds,
            4 => IndirectCallToNull,
            5 => BadSignature,
            6 => IntegerDivisionByZero,
            7 => IntegerOverflow,
            8 => BadConversionToInteger,
            9 => StackOverflow,
            10 => Host,
            _ => return None,
        })
    }
}

/// A function reference: what a table entry or a `funcref` value points to
/// (null is 0). One per function of the instance, owned by the runtime.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FuncRef {
    /// Native entry of the function (compiled signature: context first).
    pub code: *const u8,
    /// Canonical signature id: equal ids, equal wasm function types.
    pub type_id: u64,
}

/// One table: its entries (each a `*const FuncRef` or 0) and current length.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TableDesc {
    /// The entries.
    pub base: *mut u64,
    /// Number of entries.
    pub len: u64,
}

/// Runtime functions compiled code calls for what it cannot do inline.
///
/// Each returns 0 to go on, or non-zero after storing a trap in
/// [`VmCtx::trap`] (except `memory_grow` and `table_grow`, which return
/// wasm's result and cannot trap). All take integers only, so they have
/// the same ABI in the soft-float kernel build and in user space.
#[repr(C)]
pub struct LibCalls {
    /// A hostcall: import `index`, its arguments and then room for its
    /// results in `values` (one 64-bit slot each).
    pub hostcall: unsafe extern "C" fn(vmctx: *mut VmCtx, index: u64, values: *mut u64) -> u32,
    /// The fuel went negative: account, yield, maybe stop; refill.
    pub out_of_fuel: unsafe extern "C" fn(vmctx: *mut VmCtx) -> u32,
    /// `memory.grow`: the old size in pages, or -1.
    pub memory_grow: unsafe extern "C" fn(vmctx: *mut VmCtx, delta: u64) -> u64,
    /// `memory.fill(dst, value, len)`.
    pub memory_fill: unsafe extern "C" fn(vmctx: *mut VmCtx, dst: u64, value: u64, len: u64) -> u32,
    /// `memory.copy(dst, src, len)`.
    pub memory_copy: unsafe extern "C" fn(vmctx: *mut VmCtx, dst: u64, src: u64, len: u64) -> u32,
    /// `memory.init(segment, dst, src, len)`.
    pub memory_init: unsafe extern "C" fn(vmctx: *mut VmCtx, segment: u64, dst: u64, src: u64, len: u64) -> u32,
    /// `data.drop(segment)`.
    pub data_drop: unsafe extern "C" fn(vmctx: *mut VmCtx, segment: u64) -> u32,
    /// `table.grow(table, init, delta)`: the old length, or -1.
    pub table_grow: unsafe extern "C" fn(vmctx: *mut VmCtx, table: u64, init: u64, delta: u64) -> u64,
    /// `table.fill(table, dst, value, len)`.
    pub table_fill: unsafe extern "C" fn(vmctx: *mut VmCtx, table: u64, dst: u64, value: u64, len: u64) -> u32,
    /// `table.copy(dst_table, src_table, dst, src, len)`.
    pub table_copy:
        unsafe extern "C" fn(vmctx: *mut VmCtx, dst_table: u64, src_table: u64, dst: u64, src: u64, len: u64) -> u32,
    /// `table.init(table, segment, dst, src, len)`.
    pub table_init:
        unsafe extern "C" fn(vmctx: *mut VmCtx, table: u64, segment: u64, dst: u64, src: u64, len: u64) -> u32,
    /// `elem.drop(segment)`.
    pub elem_drop: unsafe extern "C" fn(vmctx: *mut VmCtx, segment: u64) -> u32,
}

/// The instance context (see the module docs). `#[repr(C)]`: compiled
/// code reaches the fields at the offsets below.
#[repr(C)]
#[derive(Debug)]
pub struct VmCtx {
    /// Start of linear memory (dangling if it has no bytes).
    pub memory_base: *mut u8,
    /// Size of linear memory in bytes; every access is checked against it.
    pub memory_len: u64,
    /// Fuel left; compiled code calls `out_of_fuel` when it goes negative.
    pub fuel: i64,
    /// Lowest stack pointer a function may start with (see `stack`).
    pub stack_limit: u64,
    /// One 64-bit slot per global.
    pub globals: *mut u64,
    /// One descriptor per table.
    pub tables: *mut TableDesc,
    /// One [`FuncRef`] per function, for `ref.func`.
    pub funcrefs: *const FuncRef,
    /// The runtime's functions.
    pub libcalls: *const LibCalls,
    /// The pending trap's code (a [`TrapKind`]), 0 while none.
    pub trap: u32,
    /// Padding; keeps `host` 8-byte aligned.
    pub _pad: u32,
    /// The runtime's own data; compiled code never touches it.
    pub host: *mut c_void,
}

/// Field offsets, for the translator.
pub(crate) mod offsets {
    use super::*;
    pub const MEMORY_BASE: i32 = offset_of!(VmCtx, memory_base) as i32;
    pub const MEMORY_LEN: i32 = offset_of!(VmCtx, memory_len) as i32;
    pub const FUEL: i32 = offset_of!(VmCtx, fuel) as i32;
    pub const STACK_LIMIT: i32 = offset_of!(VmCtx, stack_limit) as i32;
    pub const GLOBALS: i32 = offset_of!(VmCtx, globals) as i32;
    pub const TABLES: i32 = offset_of!(VmCtx, tables) as i32;
    pub const FUNCREFS: i32 = offset_of!(VmCtx, funcrefs) as i32;
    pub const LIBCALLS: i32 = offset_of!(VmCtx, libcalls) as i32;
    pub const TRAP: i32 = offset_of!(VmCtx, trap) as i32;
    pub const TABLE_BASE: i32 = offset_of!(TableDesc, base) as i32;
    pub const TABLE_LEN: i32 = offset_of!(TableDesc, len) as i32;
    pub const TABLE_SIZE: i64 = size_of::<TableDesc>() as i64;
    pub const FUNCREF_CODE: i32 = offset_of!(FuncRef, code) as i32;
    pub const FUNCREF_TYPE: i32 = offset_of!(FuncRef, type_id) as i32;
    pub const FUNCREF_SIZE: i64 = size_of::<FuncRef>() as i64;
}

/// Index of each runtime function in [`LibCalls`] (8 bytes per entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LibCall {
    Hostcall = 0,
    OutOfFuel,
    MemoryGrow,
    MemoryFill,
    MemoryCopy,
    MemoryInit,
    DataDrop,
    TableGrow,
    TableFill,
    TableCopy,
    TableInit,
    ElemDrop,
}

impl LibCall {
    /// Offset of its pointer in [`LibCalls`].
    pub(crate) fn offset(self) -> i32 {
        self as i32 * 8
    }

    /// Number of 64-bit parameters after the context.
    pub(crate) fn params(self) -> usize {
        use LibCall::*;
        match self {
            OutOfFuel => 0,
            DataDrop | ElemDrop | MemoryGrow => 1,
            Hostcall => 2,
            MemoryFill | MemoryCopy | TableGrow => 3,
            MemoryInit | TableFill => 4,
            TableCopy | TableInit => 5,
        }
    }
}

const _: () = assert!(size_of::<LibCalls>() == 12 * 8);
