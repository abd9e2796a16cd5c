// SPDX-License-Identifier: GPL-2.0

//! One wasm function body → one Cranelift IR function.
//!
//! The translation is the classic one-pass scheme: wasm's value stack is a
//! stack of SSA values, locals are frontend variables, and each `block`,
//! `loop` and `if` is a frame with a continuation block whose parameters
//! are the frame's results. Code after an unconditional branch is skipped
//! (only its nesting is tracked) until the frame ends.
//!
//! # Safety-critical code
//!
//! [`Translator::heap_address`] is the sandbox (with the guard of
//! [`Translator::counted_loop`] and the scan it trusts, `crate::counted`):
//! every load and store of linear memory goes through it, and it emits the
//! bounds check that keeps the access inside `[memory_base, memory_base +
//! memory_len)`. The index is zero-extended from 32 bits, the static
//! offset and the access size are added in 64 bits (no overflow: both are
//! below 2^33), and the access is allowed only if the end is at most
//! `memory_len`, which is read from the context at entry and after every
//! call (only a call can grow memory).
//! The same pattern guards tables ([`Translator::table_entry`]).
//!
//! Accesses at constant distances from one index value share one check.
//! An access's index is `root + c` when an `i32.add` of a constant `c` in
//! `[0, 2^31)` computed it (else the index is its own root, `c = 0`). The
//! first access of a run through a root checks `root + c + offset + size
//! <= memory_len` in 64 bits for the farthest `c + offset + size` of the
//! run (its constant is raised as later accesses are translated), and the
//! others check nothing. If that passes, no index of the run wrapped
//! around 2^32 and every access is inside. If it fails, a cold path checks
//! each access of the run exactly, in program order, and traps at the
//! first one outside; if none is (indexes that wrapped into bounds), the
//! run goes on. A run is a stretch of straight-line code of pure operators
//! that cannot trap, loads and stores (`keeps_open_checks`). No check is
//! raised after a store: an access after a store shares a check only if an
//! access before the store, through the same `root + c`, reached as far
//! (`OpenCheck::frozen`). Trapping at the first access of a run instead of
//! a later one is then invisible: nothing between them changed memory,
//! globals or tables, called out, or could trap with another kind.
//!
//! A counted loop (`crate::counted`: straight-line body, counter from a
//! known constant, at most `MAX_UNCHECKED_FUEL` operators in all) is
//! translated twice. Before it, a guard checks each access whose index is
//! `inv + i + c` (`inv` a local the body never writes, `i` the counter)
//! for the counter's last value, in 64 bits: if all are inside, they are
//! inside at every iteration (no index wraps), and a copy without those
//! checks and without fuel checks runs (it charges the whole loop's fuel
//! on entry); otherwise the copy translated as usual runs, and traps where
//! the wasm does. The unchecked copy is unrolled (`Translator::fast_loop`):
//! its trip count is known, so all but one exit test per trip around are
//! known to pass.
//!
//! Division, remainder and float-to-int conversions check their operands
//! explicitly, so no compiled instruction ever raises a CPU exception:
//! every wasm trap is a branch to a block that records it in the context
//! and returns.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::types::{F32, F64, I8, I16, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, AliasRegion, AliasRegionData, Block, BlockArg, ExtFuncData, ExternalName, FuncRef, Function, InstBuilder,
    MemFlagsData, SigRef, Signature, StackSlotData, StackSlotKind, Type, UserExternalName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{BlockType, FuncType, FuncValidator, FunctionBody, MemArg, Operator, ValType, ValidatorResources};

use crate::counted::{self, CountedLoop, IndexForm};
use crate::module::{CompileError, ModuleInfo, unsupported};
use crate::operators;
use crate::vmctx::{LibCall, TrapKind, offsets};

/// Namespace of compiled wasm functions (and import stubs) in external names.
pub(crate) const NS_FUNC: u32 = 0;

/// The IR type of a wasm value type.
pub(crate) fn ir_type(ty: ValType) -> Result<Type, CompileError> {
    Ok(match ty {
        ValType::I32 => I32,
        ValType::I64 => I64,
        ValType::F32 => F32,
        ValType::F64 => F64,
        ValType::Ref(_) => I64,
        ValType::V128 => return Err(unsupported!("v128 is not supported")),
    })
}

/// The native signature of a compiled function of wasm type `ty`: the
/// context first, then the wasm parameters.
pub(crate) fn signature(ty: &FuncType) -> Result<Signature, CompileError> {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.push(AbiParam::new(I64));
    for p in ty.params() {
        sig.params.push(AbiParam::new(ir_type(*p)?));
    }
    for r in ty.results() {
        sig.returns.push(AbiParam::new(ir_type(*r)?));
    }
    Ok(sig)
}

/// A zero of type `ty`.
pub(crate) fn zero(b: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    match ty {
        F32 => b.ins().f32const(Ieee32::with_bits(0)),
        F64 => b.ins().f64const(Ieee64::with_bits(0)),
        _ => b.ins().iconst(ty, 0),
    }
}

/// Values as block arguments.
pub(crate) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

/// What a control frame is.
enum FrameKind {
    /// `block` (and the function body).
    Block,
    /// `loop`: branches go back to `header`; `fuel` is the cost constant
    /// patched when the loop ends (none in an unchecked copy, which charged
    /// its fuel on entry), `ops` the operator count at its start; `fast`,
    /// for a counted loop, its unchecked copy to translate next.
    Loop { header: Block, fuel: Option<cranelift_codegen::ir::Inst>, ops: u64, fast: Option<Box<FastLoop>> },
    /// `if`: `else_block` until the `else` is seen; `params` are the values
    /// the else arm starts with.
    If { else_block: Option<Block>, params: Vec<Value> },
}

/// A control frame.
struct Frame {
    kind: FrameKind,
    /// Where the frame continues; its parameters are the frame's results.
    next: Block,
    /// Number of parameters (a loop's branch arguments).
    params: usize,
    /// Number of results (a block's or if's branch arguments).
    results: usize,
    /// Stack height below the parameters.
    height: usize,
}

impl Frame {
    /// Where a branch to this frame goes, and how many values it carries.
    fn target(&self) -> (Block, usize) {
        match self.kind {
            FrameKind::Loop { header, .. } => (header, self.params),
            _ => (self.next, self.results),
        }
    }
}

/// What an access's index root is, for sharing checks: a local between
/// two writes of it (the same value, though each `local.get` is a new SSA
/// value once a check has split the block), or any other value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IndexKey {
    Local { local: u32, generation: u64 },
    Value(Value),
}

/// A bounds check that later accesses of the run may share (see the module
/// docs): the accesses whose index is `root + c` for a constant `c` in
/// `[0, 2^31)` (`c` is 0 for the root itself).
struct OpenCheck {
    /// The root the accesses' indexes are based on.
    index: IndexKey,
    /// The root's value (an `i32`), for the exact checks.
    root: Value,
    /// The `iconst` of the checked reach, raised as accesses join.
    constant: cranelift_codegen::ir::Inst,
    /// The farthest `c + offset + size` of the run so far.
    reach: u64,
    /// The memory length the check compared with.
    len: Value,
    /// Where the run goes on once the check passed. Sealed when the run
    /// ends: the exact checks may branch back to it.
    cont: Block,
    /// Where a failed check goes: the exact checks, filled in when the run
    /// ends.
    exact: Block,
    /// Each access's `(c, offset + size)`, in program order; one entry per
    /// `c`, with the farthest reach through it.
    accesses: Vec<(u32, u64)>,
    /// A store came after the check: it may no longer be raised (no check
    /// moves above a store), and covers only accesses an entry of
    /// `accesses` already covers.
    frozen: bool,
}

/// Open checks kept at most (the oldest is closed first): bounds the
/// search at each access.
const MAX_OPEN_CHECKS: usize = 8;

/// Values of locals remembered per run, at most (the oldest is forgotten
/// first).
const MAX_LOCAL_READS: usize = 32;

/// The most fuel a counted loop may take without checking it inside (see
/// [`Translator::counted_loop`]): its whole run is then no longer than
/// straight-line code of that many operators.
const MAX_UNCHECKED_FUEL: u64 = 100_000;

/// The unchecked copy of a counted loop, to translate once the checked one
/// has ended.
struct FastLoop {
    /// Where the guard goes when every hoisted check passed.
    entry: Block,
    /// The fuel of the whole loop, charged on entry.
    fuel: i64,
    /// How many times the body runs (at least once).
    trips: u32,
    scan: CountedLoop,
}

/// Operators of a counted loop's body, its copies counted, that the
/// unchecked copy's loop may hold at most (see [`Translator::fast_loop`]).
///
/// Small: unrolling saves a loop's exit test, back edge and moves of its
/// loop-carried values once per copy, but every copy is more code to fetch
/// (under QEMU's TCG, where the benchmarks run, each x86 instruction
/// becomes several translated ones). Measured on SHA-256 under TCG (its
/// rounds are loops of 85 operators, its message schedule of 54; fastest
/// of 6-12 runs each, alternated in one boot): 2 copies per trip ran
/// fastest; 8 copies 12-16% slower, 1 copy 24% slower, and complete
/// unrolling about 50% slower.
const MAX_UNROLLED_OPS: u64 = 200;

/// Iterations of a counted loop's unchecked copy per trip around its
/// loop: the largest of 8, 4 and 2 whose copies of a body of `ops`
/// operators stay under [`MAX_UNROLLED_OPS`], and that does not exceed
/// `trips`; else 1.
fn unroll_factor(trips: u32, ops: u64) -> u32 {
    [8, 4, 2].into_iter().find(|&f| f <= trips && u64::from(f) * ops <= MAX_UNROLLED_OPS).unwrap_or(1)
}

/// Whether a run of shared bounds checks (see the module docs) may go on
/// across `op`: true only for operators that cannot trap, have no effect
/// outside the function's own values and do not branch, and for loads
/// and stores (whose own traps are out-of-bounds ones, like the shared
/// check's; a store freezes the checks before it). Anything not listed
/// ends the run.
fn keeps_open_checks(op: &Operator<'_>) -> bool {
    operators::pure_effect(op).is_some() || operators::access(op).is_some()
}

/// The accesses of an unchecked loop copy's body (see
/// [`Translator::fast_loop`]) while it is translated.
#[derive(Clone)]
struct ProvenAccesses {
    /// Each access's index form, in order, if the guard checked it.
    forms: Vec<Option<IndexForm>>,
    /// How many accesses were translated.
    next: usize,
    /// The loop's counter local.
    counter: u32,
}

/// Per-function translation state.
pub(crate) struct Translator<'a, 'f> {
    b: FunctionBuilder<'f>,
    info: &'a ModuleInfo,
    vmctx: Value,
    /// The memory's base address and length in bytes, as read from the
    /// context at entry and after every call (only a call can grow the
    /// memory: `memory.grow` is one, and any function or hostcall may run
    /// it). Held in variables, they stay in registers across loops instead
    /// of being reloaded at every access.
    memory_base: Variable,
    memory_len: Variable,
    /// The fuel left, in a register: written back to the context before
    /// every call and return (the runtime and callees read it there) and
    /// read again after every call. A trap leaves the last value written.
    fuel: Variable,
    /// The bounds checks of the current run (see the module docs).
    open_checks: Vec<OpenCheck>,
    /// The scan of the loop the next operator opens, if it is counted.
    loop_scan: Option<CountedLoop>,
    /// A counted loop whose checked copy has just ended: its unchecked
    /// copy, translated next ([`Translator::fast_loop`]), and the block
    /// where both continue.
    pending_fast: Option<(Box<FastLoop>, Block)>,
    /// While translating an unchecked copy: which accesses the guard
    /// checked, in order, and how many were translated.
    proven: Option<ProvenAccesses>,
    /// While translating the unchecked copy of a loop that stores nothing:
    /// the memory base its proven loads use and their alias region (see
    /// [`Translator::movable_loads`]).
    movable: Option<(Value, AliasRegion)>,
    /// The values locals were read as or set to in the current run, with
    /// the local and its generation (at most `MAX_LOCAL_READS`, the
    /// latest).
    local_reads: Vec<(Value, IndexKey)>,
    /// Each local's generation: a new one at every write.
    generations: Vec<u64>,
    next_generation: u64,
    locals: Vec<Variable>,
    stack: Vec<Value>,
    control: Vec<Frame>,
    /// False after an unconditional branch until the frame ends.
    reachable: bool,
    /// Frames opened in unreachable code, not translated.
    dead_depth: u32,
    results: Vec<Type>,
    traps: [Option<Block>; 11],
    propagate: Option<Block>,
    callee_refs: Vec<Option<FuncRef>>,
    type_sigs: Vec<Option<SigRef>>,
    libcall_sigs: [Option<SigRef>; 12],
    ops: u64,
    vm_region: AliasRegion,
    heap_region: AliasRegion,
    /// The fuel counter, globals and table entries each have a region of
    /// their own, so that storing to one (the stack pointer global in every
    /// Rust function, say) does not make Cranelift reload another.
    fuel_region: AliasRegion,
    global_region: AliasRegion,
    table_region: AliasRegion,
}

/// Translates function `index` of `info` (a defined function) into `func`.
pub(crate) fn translate(
    info: &ModuleInfo,
    index: u32,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
) -> Result<(), CompileError> {
    let ty = info.func_type(index).clone();
    func.signature = signature(&ty)?;
    func.name = cranelift_codegen::ir::UserFuncName::user(NS_FUNC, index);
    let vm_region = func.dfg.alias_regions.insert(AliasRegionData { user_id: 0, description: "vmctx".into() });
    let heap_region = func.dfg.alias_regions.insert(AliasRegionData { user_id: 1, description: "heap".into() });
    let fuel_region = func.dfg.alias_regions.insert(AliasRegionData { user_id: 2, description: "fuel".into() });
    let global_region = func.dfg.alias_regions.insert(AliasRegionData { user_id: 3, description: "globals".into() });
    let table_region = func.dfg.alias_regions.insert(AliasRegionData { user_id: 4, description: "tables".into() });
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let vmctx = params[0];

    // Locals: the parameters, then the declared ones, zeroed.
    let mut locals = Vec::new();
    for (i, p) in ty.params().iter().enumerate() {
        let var = b.declare_var(ir_type(*p)?);
        b.def_var(var, params[i + 1]);
        locals.push(var);
    }
    let origin = body.get_binary_reader();
    let mut reader = origin.clone();
    let groups = reader.read_var_u32()?;
    for _ in 0..groups {
        let offset = reader.original_position();
        let count = reader.read_var_u32()?;
        let vt = reader.read()?;
        validator.define_locals(offset, count, vt)?;
        let ir = ir_type(vt)?;
        if locals.len() as u64 + count as u64 > 50_000 {
            return Err(unsupported!("function {index} has too many locals"));
        }
        for _ in 0..count {
            let var = b.declare_var(ir);
            let z = zero(&mut b, ir);
            b.def_var(var, z);
            locals.push(var);
        }
    }

    let memory_base = b.declare_var(I64);
    let memory_len = b.declare_var(I64);
    let fuel = b.declare_var(I64);
    let results: Vec<Type> = ty.results().iter().map(|r| ir_type(*r)).collect::<Result<_, _>>()?;
    let ret = b.create_block();
    for r in &results {
        b.append_block_param(ret, *r);
    }
    let mut t = Translator {
        b,
        info,
        vmctx,
        memory_base,
        memory_len,
        fuel,
        open_checks: Vec::new(),
        loop_scan: None,
        pending_fast: None,
        proven: None,
        movable: None,
        local_reads: Vec::new(),
        generations: vec![0; locals.len()],
        next_generation: 1,
        locals,
        stack: Vec::new(),
        control: Vec::new(),
        reachable: true,
        dead_depth: 0,
        results: results.clone(),
        traps: [None; 11],
        propagate: None,
        callee_refs: vec![None; info.funcs.len()],
        type_sigs: vec![None; info.types.len()],
        libcall_sigs: [None; 12],
        ops: 0,
        vm_region,
        heap_region,
        fuel_region,
        global_region,
        table_region,
    };
    t.control.push(Frame { kind: FrameKind::Block, next: ret, params: 0, results: results.len(), height: 0 });
    t.reload_memory();
    t.load_fuel();
    t.check_stack();
    t.charge_fuel_const(1);

    let mut ops = reader;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read_operator()?;
        validator.op(offset, &op)?;
        t.ops += 1;
        if t.reachable && matches!(op, Operator::Loop { blockty: BlockType::Empty }) {
            t.loop_scan = counted::scan(&ops);
        }
        t.operator(&op)?;
        if let Some((fast, next)) = t.pending_fast.take() {
            // Its body has been validated by now: read it again.
            let mut body = origin.clone();
            body.read_bytes(fast.scan.body - body.original_position())?;
            t.fast_loop(*fast, next, body)?;
        }
    }
    validator.finish(ops.original_position())?;

    // The function body's `end` left the return block current.
    let values = t.b.block_params(ret).to_vec();
    t.save_fuel();
    t.b.ins().return_(&values);
    t.fill_trap_blocks();
    t.b.seal_all_blocks();
    t.b.finalize(config);
    Ok(())
}

impl<'a, 'f> Translator<'a, 'f> {
    fn vm_flags(&self) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(self.vm_region))
    }

    fn region_flags(&self, region: AliasRegion) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(region))
    }

    fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new().with_notrap().with_alias_region(Some(self.heap_region))
    }

    /// Reads the memory's base and length from the context (at entry and
    /// after every call).
    fn reload_memory(&mut self) {
        let base = self.vm_load(I64, offsets::MEMORY_BASE);
        self.b.def_var(self.memory_base, base);
        let len = self.vm_load(I64, offsets::MEMORY_LEN);
        self.b.def_var(self.memory_len, len);
    }

    /// Loads a field of the context.
    fn vm_load(&mut self, ty: Type, offset: i32) -> Value {
        let flags = self.vm_flags();
        self.b.ins().load(ty, flags, self.vmctx, offset)
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated: operand stack underflow")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn top(&self, n: usize) -> Vec<Value> {
        self.stack[self.stack.len() - n..].to_vec()
    }

    /// The block that records trap `kind` and returns (one per function;
    /// filled in by [`Translator::fill_trap_blocks`]).
    fn trap_block(&mut self, kind: TrapKind) -> Block {
        if let Some(block) = self.traps[kind as usize] {
            return block;
        }
        let block = self.b.create_block();
        self.b.set_cold_block(block);
        self.traps[kind as usize] = Some(block);
        block
    }

    /// The block that returns zeros because a trap is pending.
    fn propagate_block(&mut self) -> Block {
        if let Some(block) = self.propagate {
            return block;
        }
        let block = self.b.create_block();
        self.b.set_cold_block(block);
        self.propagate = Some(block);
        block
    }

    /// Fills the trap blocks and the propagation block, once the body is
    /// translated.
    fn fill_trap_blocks(&mut self) {
        for kind in 1..self.traps.len() {
            if let Some(block) = self.traps[kind] {
                self.b.switch_to_block(block);
                let code = self.b.ins().iconst(I32, kind as i64);
                let flags = self.vm_flags();
                self.b.ins().store(flags, code, self.vmctx, offsets::TRAP);
                let propagate = self.propagate_block();
                self.b.ins().jump(propagate, &[]);
            }
        }
        if let Some(block) = self.propagate {
            self.b.switch_to_block(block);
            let zeros: Vec<Value> = self.results.clone().into_iter().map(|ty| zero(&mut self.b, ty)).collect();
            self.b.ins().return_(&zeros);
        }
    }

    /// Continues in a new block; traps with `kind` if `cond` is non-zero.
    fn trap_if(&mut self, cond: Value, kind: TrapKind) {
        let trap = self.trap_block(kind);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, trap, &[], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Continues in a new block; returns (propagating a trap) if `status`
    /// is non-zero.
    fn propagate_if(&mut self, status: Value) {
        let propagate = self.propagate_block();
        let cont = self.b.create_block();
        self.b.ins().brif(status, propagate, &[], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// After a call to compiled code: propagate its trap, if any.
    fn check_trap(&mut self) {
        let trap = self.vm_load(I32, offsets::TRAP);
        self.propagate_if(trap);
    }

    /// Traps with `StackOverflow` if the stack pointer is below the limit.
    fn check_stack(&mut self) {
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.vm_load(I64, offsets::STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(low, TrapKind::StackOverflow);
    }

    /// Reads the fuel left from the context into its variable.
    fn load_fuel(&mut self) {
        let flags = self.region_flags(self.fuel_region);
        let fuel = self.b.ins().load(I64, flags, self.vmctx, offsets::FUEL);
        self.b.def_var(self.fuel, fuel);
    }

    /// Writes the fuel left back to the context.
    fn save_fuel(&mut self) {
        let flags = self.region_flags(self.fuel_region);
        let fuel = self.b.use_var(self.fuel);
        self.b.ins().store(flags, fuel, self.vmctx, offsets::FUEL);
    }

    /// Subtracts `cost` from the fuel; calls the runtime when it runs out.
    fn charge_fuel(&mut self, cost: Value) {
        let fuel = self.b.use_var(self.fuel);
        let left = self.b.ins().isub(fuel, cost);
        self.b.def_var(self.fuel, left);
        let empty = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, left, 0);
        let refuel = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(refuel);
        self.b.ins().brif(empty, refuel, &[], cont, &[]);
        self.b.switch_to_block(refuel);
        self.b.seal_block(refuel);
        let status = self.libcall(LibCall::OutOfFuel, &[]);
        let propagate = self.propagate_block();
        self.b.ins().brif(status, propagate, &[], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    fn charge_fuel_const(&mut self, cost: i64) {
        let cost = self.b.ins().iconst(I64, cost);
        self.charge_fuel(cost);
    }

    /// Calls a runtime function; its result is the status (or a size).
    fn libcall(&mut self, call: LibCall, args: &[Value]) -> Value {
        debug_assert_eq!(args.len(), call.params());
        let sig = match self.libcall_sigs[call as usize] {
            Some(sig) => sig,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                for _ in 0..=call.params() {
                    sig.params.push(AbiParam::new(I64));
                }
                let ret = if matches!(call, LibCall::MemoryGrow | LibCall::TableGrow) { I64 } else { I32 };
                sig.returns.push(AbiParam::new(ret));
                let sig = self.b.import_signature(sig);
                self.libcall_sigs[call as usize] = Some(sig);
                sig
            }
        };
        let table = self.vm_load(I64, offsets::LIBCALLS);
        let flags = self.vm_flags();
        let target = self.b.ins().load(I64, flags, table, call.offset());
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        self.save_fuel();
        let inst = self.b.ins().call_indirect(sig, target, &all);
        let result = self.b.inst_results(inst)[0];
        // The runtime refuels and charges bulk operations; only
        // `memory.grow` changes the memory, but reloading is cheap.
        self.load_fuel();
        self.reload_memory();
        result
    }

    /// A libcall whose non-zero result means a trap is pending.
    fn libcall_checked(&mut self, call: LibCall, args: &[Value]) {
        let status = self.libcall(call, args);
        self.propagate_if(status);
    }

    fn u64(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == I64 { v } else { self.b.ins().uextend(I64, v) }
    }

    fn const64(&mut self, v: u64) -> Value {
        self.b.ins().iconst(I64, v as i64)
    }

    /// Ends the run of shared bounds checks (see the module docs).
    fn end_run(&mut self) {
        if !self.open_checks.is_empty() {
            // The exact checks are filled in from another block: end this
            // one first (the jump costs nothing, its target comes next).
            let next = self.b.create_block();
            self.b.ins().jump(next, &[]);
            for check in core::mem::take(&mut self.open_checks) {
                self.close_check(check);
            }
            self.b.switch_to_block(next);
            self.b.seal_block(next);
        }
        self.local_reads.clear();
    }

    /// Fills in the exact checks of a run's shared check and seals its
    /// blocks. The exact checks run only if the shared one failed: they
    /// check each access in program order and trap at the first that is
    /// out of bounds. If none is, every index wrapped around 2^32 (the
    /// shared check computes without wrapping), and the run goes on.
    /// The current block must be ended; the caller switches to the next.
    fn close_check(&mut self, check: OpenCheck) {
        self.b.switch_to_block(check.exact);
        let trap = self.trap_block(TrapKind::MemoryOutOfBounds);
        if check.accesses.iter().all(|(c, _)| *c == 0) {
            // One index: the shared check is the farthest access's own.
            self.b.ins().jump(trap, &[]);
        } else {
            for (c, reach) in check.accesses {
                let index = self.b.ins().iadd_imm_s(check.root, c as i64);
                let index = self.b.ins().uextend(I64, index);
                let end = self.b.ins().iadd_imm_s(index, reach as i64);
                let outside = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, check.len);
                let next = self.b.create_block();
                self.b.set_cold_block(next);
                self.b.ins().brif(outside, trap, &[], next, &[]);
                self.b.switch_to_block(next);
                self.b.seal_block(next);
            }
            self.b.ins().jump(check.cont, &[]);
        }
        self.b.seal_block(check.exact);
        self.b.seal_block(check.cont);
    }

    /// How an index value is known for sharing checks: as a read of a
    /// local, or as itself.
    fn index_key(&self, v: Value) -> IndexKey {
        self.local_reads.iter().rev().find(|(r, _)| *r == v).map_or(IndexKey::Value(v), |r| r.1)
    }

    /// Remembers that `v` is the value of local `local` (for
    /// [`Translator::index_key`]).
    fn remember_local(&mut self, v: Value, local: u32) {
        if self.local_reads.len() == MAX_LOCAL_READS {
            self.local_reads.remove(0);
        }
        let generation = self.generations[local as usize];
        self.local_reads.push((v, IndexKey::Local { local, generation }));
    }

    /// An `i32` index as `root + c`: `c` is the constant operand of the
    /// `i32.add` that computed it if that is in `[0, 2^31)`, else 0.
    fn index_parts(&self, index: Value) -> (Value, u32) {
        use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
        let dfg = &self.b.func.dfg;
        if let ValueDef::Result(inst, _) = dfg.value_def(index)
            && let InstructionData::Binary { opcode: Opcode::Iadd, args: [x, y] } = dfg.insts[inst]
        {
            for (root, other) in [(x, y), (y, x)] {
                if let Some(c) = self.constant_u32(other)
                    && c < 1 << 31
                    && self.constant_u32(root).is_none()
                {
                    return (root, c);
                }
            }
        }
        (index, 0)
    }

    /// Local `index` was written: reads from now on are another value.
    fn new_generation(&mut self, index: u32) {
        self.generations[index as usize] = self.next_generation;
        self.next_generation += 1;
    }

    /// In an unchecked loop copy: the next access's index form, if the
    /// guard checked it.
    fn take_proven(&mut self) -> Option<IndexForm> {
        let proven = self.proven.as_mut()?;
        let form = proven.forms.get(proven.next).copied().flatten();
        proven.next += 1;
        form
    }

    /// The constant an `i32` value is, if it is one.
    fn constant_u32(&self, v: Value) -> Option<u32> {
        use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
        let dfg = &self.b.func.dfg;
        match dfg.value_def(v) {
            ValueDef::Result(inst, _) => match dfg.insts[inst] {
                InstructionData::UnaryImm { opcode: Opcode::Iconst, imm } if dfg.value_type(v) == I32 => {
                    Some(imm.bits() as u32)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// At a `loop` that [`counted::scan`] accepted: if the counter starts
    /// at a known constant, the loop runs `trips` times with the counter in
    /// `[start, end - step]`, and its fuel is at most
    /// [`MAX_UNCHECKED_FUEL`], emits a guard that checks, for the farthest
    /// iteration, every access of the body whose index the scan worked out,
    /// and returns the unchecked copy to translate after the checked one.
    /// The guard branches to the unchecked copy if all pass, else to the
    /// checked one, which the caller then translates as any loop (it traps
    /// exactly where the wasm would). The unchecked copy charges the whole
    /// loop's fuel on entry and checks neither fuel nor the accesses the
    /// guard covered: its accesses are inside for every iteration, and it
    /// runs at most [`MAX_UNCHECKED_FUEL`] operators.
    fn counted_loop(&mut self, scan: CountedLoop) -> Option<Box<FastLoop>> {
        let counter = *self.locals.get(scan.counter as usize)?;
        let start = self.b.use_var(counter);
        let start = self.constant_u32(start)?;
        let (step, end) = (scan.step, scan.end);
        if end <= start || end > i32::MAX as u32 || (end - start) % step != 0 {
            return None;
        }
        let fuel = u64::from((end - start) / step).checked_mul(scan.ops)?;
        if fuel > MAX_UNCHECKED_FUEL {
            return None;
        }
        let last = u64::from(end - step);
        // The farthest reach through each invariant local (or none).
        let mut reaches: Vec<(Option<u32>, u64)> = Vec::new();
        for (form, reach) in &scan.accesses {
            let Some(form) = form else { continue };
            let far = u64::from(form.c) + reach + if form.counter { last } else { 0 };
            match reaches.iter_mut().find(|(inv, _)| *inv == form.invariant) {
                Some(entry) => entry.1 = entry.1.max(far),
                None => reaches.push((form.invariant, far)),
            }
        }
        let mut bases = Vec::new();
        for (invariant, _) in &reaches {
            if let Some(local) = invariant {
                let var = *self.locals.get(*local as usize)?;
                let v = self.b.use_var(var);
                if self.b.func.dfg.value_type(v) != I32 {
                    return None;
                }
                bases.push(Some(v));
            } else {
                bases.push(None);
            }
        }
        let len = self.b.use_var(self.memory_len);
        let mut inside = None;
        for (base, (_, far)) in bases.into_iter().zip(&reaches) {
            let far_end = match base {
                Some(v) => {
                    let v = self.b.ins().uextend(I64, v);
                    self.b.ins().iadd_imm_s(v, *far as i64)
                }
                None => self.const64(*far),
            };
            let ok = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, far_end, len);
            inside = Some(match inside {
                Some(all) => self.b.ins().band(all, ok),
                None => ok,
            });
        }
        let entry = self.b.create_block();
        let checked = self.b.create_block();
        match inside {
            Some(inside) => {
                self.b.ins().brif(inside, entry, &[], checked, &[]);
            }
            None => {
                self.b.ins().jump(entry, &[]);
            }
        }
        self.b.switch_to_block(checked);
        self.b.seal_block(checked);
        Some(Box::new(FastLoop { entry, fuel: fuel as i64, trips: (end - start) / step, scan }))
    }

    /// Translates the unchecked copy of a counted loop (see
    /// [`Translator::counted_loop`]) from `body`, its operators, once the
    /// checked copy has ended; both continue at `next`, sealed here.
    ///
    /// The copy is unrolled: its loop runs [`unroll_factor`] iterations
    /// per trip around, after the `trips % factor` first ones, peeled off
    /// before it. The loop's exit test is then translated only at the end
    /// of a trip around: every other iteration's is known to pass (the
    /// counter is below `end` until the last iteration), and goes straight
    /// on to the next copy of the body. Each copy is one iteration; the
    /// guard's checks hold for all of them, and their addresses are
    /// computed without 32-bit wrapping (see
    /// [`Translator::proven_address`]).
    ///
    /// If the body stores nothing, its checked loads may also move (see
    /// [`Translator::movable_loads`]).
    fn fast_loop(
        &mut self,
        fast: FastLoop,
        next: Block,
        body: wasmparser::BinaryReader<'_>,
    ) -> Result<(), CompileError> {
        let resume = self.b.current_block().expect("after the checked copy");
        self.b.switch_to_block(fast.entry);
        self.b.seal_block(fast.entry);
        self.charge_fuel_const(fast.fuel);
        let header = self.b.create_block();
        self.control.push(Frame {
            kind: FrameKind::Loop { header, fuel: None, ops: self.ops, fast: None },
            next,
            params: 0,
            results: 0,
            height: self.stack.len(),
        });
        if !fast.scan.stores {
            self.movable = Some(self.movable_loads());
        }
        let forms = fast.scan.accesses.iter().map(|(form, _)| *form).collect();
        let proven = ProvenAccesses { forms, next: 0, counter: fast.scan.counter };
        let factor = unroll_factor(fast.trips, fast.scan.ops);
        for _ in 0..fast.trips % factor {
            self.iteration(&body, &proven, false)?;
        }
        self.end_run();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        for copy in 1..=factor {
            self.iteration(&body, &proven, copy == factor)?;
        }
        self.end_run();
        self.b.ins().jump(next, &[]);
        self.b.seal_block(header);
        self.control.pop();
        self.movable = None;
        self.b.switch_to_block(resume);
        self.b.seal_block(next);
        Ok(())
    }

    /// For the unchecked copy of a loop whose body stores nothing (nor
    /// calls anything): memory does not change while it runs, so its
    /// proven loads (those the guard checked for every iteration) may be
    /// moved, and Cranelift may then schedule each next to its first use
    /// instead of where the wasm has it (compilers for wasm often load
    /// everything up front, which costs spills), merge equal ones and
    /// hoist loop-invariant ones to the loop's entry. Returns the memory
    /// base these loads use and their alias region.
    ///
    /// Why this is sound. Cranelift moves a load (treats it as a pure
    /// value) only if it is `readonly`, `notrap` and `can_move`, and then
    /// only where its operands are defined, so:
    /// - The base is read again here, after the guard, by an atomic load:
    ///   an instruction Cranelift neither moves nor replaces with an
    ///   earlier load of the same field (it is a fence to its alias
    ///   analysis). No load of the copy can move above the guard, or out
    ///   of any loop around this one.
    /// - Each such load's address is one the guard checked for every
    ///   iteration, and the copy runs at least one iteration, so placing
    ///   it anywhere between the guard and its first use reads in bounds.
    /// - Memory does not change from the guard to the copy's end, and no
    ///   load is placed after that end: Cranelift places a movable value
    ///   no later than its first use, and a value of the copy reaches later
    ///   code only through locals (the body leaves nothing on the operand
    ///   stack), which the copy's last jump passes as arguments to the
    ///   block where the copy and the checked one meet (the two copies'
    ///   values differ, so they are block parameters there). The fresh
    ///   base value and alias region keep the loads from being merged with
    ///   loads outside the copy.
    ///
    /// Accesses the guard did not check keep their checks and are not
    /// moved.
    fn movable_loads(&mut self) -> (Value, AliasRegion) {
        let field = self.b.ins().iadd_imm_s(self.vmctx, i64::from(offsets::MEMORY_BASE));
        let flags = self.vm_flags();
        let base = self.b.ins().atomic_load(I64, flags, field);
        let region = self.b.func.dfg.alias_regions.insert(AliasRegionData { user_id: 5, description: "loop".into() });
        (base, region)
    }

    /// Translates one iteration of an unchecked loop copy from `body`
    /// (see [`Translator::fast_loop`]), without its exit test unless
    /// `exit_test`: the body's last operator is the `br_if 0` that loops.
    fn iteration(
        &mut self,
        body: &wasmparser::BinaryReader<'_>,
        proven: &ProvenAccesses,
        exit_test: bool,
    ) -> Result<(), CompileError> {
        self.proven = Some(proven.clone());
        let mut body = body.clone();
        loop {
            let op = body.read_operator()?;
            match op {
                Operator::End => break,
                // The body's only branch (`counted::scan`), its last
                // operator: the test passes, the next iteration follows.
                Operator::BrIf { .. } if !exit_test => {
                    self.pop();
                }
                _ => self.operator(&op)?,
            }
        }
        self.proven = None;
        Ok(())
    }

    /// The native address of a `size`-byte access at the popped index plus
    /// `memarg.offset`, after the bounds check (see the module docs), and
    /// the flags to access it with.
    fn heap_address(&mut self, memarg: &MemArg, size: u64) -> (Value, MemFlagsData) {
        let index32 = self.pop();
        if let Some(form) = self.take_proven() {
            // Checked before the loop, for every iteration.
            let (base, flags) = match self.movable {
                Some((base, region)) => {
                    let flags = MemFlagsData::new()
                        .with_notrap()
                        .with_readonly()
                        .with_can_move()
                        .with_alias_region(Some(region));
                    (base, flags)
                }
                None => (self.b.use_var(self.memory_base), self.heap_flags()),
            };
            return (self.proven_address(base, form, memarg.offset), flags);
        }
        let (root, c) = self.index_parts(index32);
        let key = self.index_key(root);
        // memarg.offset < 2^32 (32-bit memory), size <= 8, c < 2^31: no
        // overflow.
        let reach = memarg.offset + size;
        let covered =
            |check: &OpenCheck| !check.frozen || check.accesses.iter().any(|&(c2, r2)| c2 == c && r2 >= reach);
        match self.open_checks.iter_mut().find(|check| check.index == key && covered(check)) {
            Some(check) if check.frozen => {}
            Some(check) => {
                // The run's check now covers this access too.
                let total = c as u64 + reach;
                if total > check.reach {
                    check.reach = total;
                    self.b.func.replace(check.constant).iconst(I64, total as i64);
                }
                match check.accesses.iter_mut().find(|(c2, _)| *c2 == c) {
                    Some(entry) => entry.1 = entry.1.max(reach),
                    None => check.accesses.push((c, reach)),
                }
            }
            None => {
                let total = c as u64 + reach;
                let root64 = self.b.ins().uextend(I64, root);
                let constant = self.b.ins().iconst(I64, total as i64);
                let end = self.b.ins().iadd(root64, constant);
                let len = self.b.use_var(self.memory_len);
                let outside = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
                let exact = self.b.create_block();
                self.b.set_cold_block(exact);
                let cont = self.b.create_block();
                self.b.ins().brif(outside, exact, &[], cont, &[]);
                if self.open_checks.len() == MAX_OPEN_CHECKS {
                    let oldest = self.open_checks.remove(0);
                    self.close_check(oldest);
                }
                self.b.switch_to_block(cont);
                let constant = self.b.func.dfg.value_def(constant).unwrap_inst();
                self.open_checks.push(OpenCheck {
                    index: key,
                    root,
                    constant,
                    reach: total,
                    len,
                    cont,
                    exact,
                    accesses: vec![(c, reach)],
                    frozen: false,
                });
            }
        }
        (self.native_address(index32, memarg.offset), self.heap_flags())
    }

    /// The native address of an access the guard of a counted loop checked
    /// (see [`Translator::counted_loop`]): `base + invariant + counter + c +
    /// offset` as 64-bit sums, from the locals its index `form` names.
    ///
    /// Equal to `base + (index as u64) + offset`, the index computed by the
    /// wasm's own 32-bit arithmetic, because that sum does not wrap: the
    /// scan showed the index to be `invariant + counter + c` modulo 2^32,
    /// and the guard that `invariant + c + offset + size` plus the
    /// counter's last value is at most the memory's length, itself at most
    /// 2^32. Summed this way, `base + invariant` is the same value for
    /// every access through the same local, and the counter and the
    /// constant fold into the instruction's addressing mode (or, in a copy
    /// where the counter is a known constant, the constant alone), where
    /// the 32-bit index would cost an addition and a register of its own.
    fn proven_address(&mut self, base: Value, form: IndexForm, offset: u64) -> Value {
        let mut addr = base;
        let counter = self.proven.as_ref().map(|p| p.counter);
        let terms = [form.invariant, if form.counter { counter } else { None }];
        for local in terms.into_iter().flatten() {
            // `counted_loop` built the guard only once it found each of
            // these locals (an `i32`).
            let v = self.b.use_var(self.locals[local as usize]);
            let v = self.b.ins().uextend(I64, v);
            addr = self.b.ins().iadd(addr, v);
        }
        self.b.ins().iadd_imm_s(addr, (u64::from(form.c) + offset) as i64)
    }

    /// `memory_base + index + offset`, for an access already checked.
    fn native_address(&mut self, index32: Value, offset: u64) -> Value {
        let index = self.b.ins().uextend(I64, index32);
        let base = self.b.use_var(self.memory_base);
        let addr = self.b.ins().iadd(base, index);
        if offset == 0 { addr } else { self.b.ins().iadd_imm_s(addr, offset as i64) }
    }

    fn load(&mut self, memarg: &MemArg, ty: Type, size: u64, extend: Option<(bool, Type)>) {
        let (addr, flags) = self.heap_address(memarg, size);
        let v = match (extend, size) {
            (None, _) => self.b.ins().load(ty, flags, addr, 0),
            (Some((true, _)), 1) => self.b.ins().sload8(ty, flags, addr, 0),
            (Some((false, _)), 1) => self.b.ins().uload8(ty, flags, addr, 0),
            (Some((true, _)), 2) => self.b.ins().sload16(ty, flags, addr, 0),
            (Some((false, _)), 2) => self.b.ins().uload16(ty, flags, addr, 0),
            (Some((true, _)), _) => self.b.ins().sload32(flags, addr, 0),
            (Some((false, _)), _) => self.b.ins().uload32(flags, addr, 0),
        };
        self.push(v);
    }

    fn store(&mut self, memarg: &MemArg, size: u64) {
        let value = self.pop();
        let (addr, flags) = self.heap_address(memarg, size);
        // No check may move above a store.
        for check in &mut self.open_checks {
            check.frozen = true;
        }
        let ty = self.b.func.dfg.value_type(value);
        match size {
            1 => self.b.ins().istore8(flags, value, addr, 0),
            2 => self.b.ins().istore16(flags, value, addr, 0),
            4 if ty == I64 => self.b.ins().istore32(flags, value, addr, 0),
            _ => self.b.ins().store(flags, value, addr, 0),
        };
    }

    /// The address of the popped index's entry in table `table`, after the
    /// bounds check.
    fn table_entry(&mut self, table: u32) -> Value {
        let index = self.pop();
        let index = self.b.ins().uextend(I64, index);
        let tables = self.vm_load(I64, offsets::TABLES);
        let desc = self.b.ins().iadd_imm_s(tables, table as i64 * offsets::TABLE_SIZE);
        let flags = self.vm_flags();
        let len = self.b.ins().load(I64, flags, desc, offsets::TABLE_LEN);
        let outside = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(outside, TrapKind::TableOutOfBounds);
        let base = self.b.ins().load(I64, flags, desc, offsets::TABLE_BASE);
        let offset = self.b.ins().ishl_imm_s(index, 3);
        self.b.ins().iadd(base, offset)
    }

    fn global_address(&mut self, index: u32) -> Value {
        let globals = self.vm_load(I64, offsets::GLOBALS);
        self.b.ins().iadd_imm_s(globals, index as i64 * 8)
    }

    fn block_type(&self, ty: BlockType) -> Result<(Vec<Type>, Vec<Type>), CompileError> {
        Ok(match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![ir_type(t)?]),
            BlockType::FuncType(i) => {
                let ft = &self.info.types[i as usize];
                (
                    ft.params().iter().map(|p| ir_type(*p)).collect::<Result<_, _>>()?,
                    ft.results().iter().map(|p| ir_type(*p)).collect::<Result<_, _>>()?,
                )
            }
        })
    }

    fn block_with_params(&mut self, types: &[Type]) -> Block {
        let block = self.b.create_block();
        for ty in types {
            self.b.append_block_param(block, *ty);
        }
        block
    }

    /// Jumps to frame `depth`'s target with the top values as arguments.
    fn branch_args(&mut self, depth: u32) -> (Block, Vec<Value>) {
        let frame = &self.control[self.control.len() - 1 - depth as usize];
        let (target, n) = frame.target();
        (target, self.top(n))
    }

    /// `br_table` as a tree of compares: no jump table, because an
    /// indirect `jmp` into compiled code has no `endbr64` to land on under
    /// IBT (the kernel itself is built with `-fno-jump-tables`).
    fn switch(&mut self, index: Value, cases: &[(Block, Vec<Value>)], default: (Block, Vec<Value>)) {
        if cases.is_empty() {
            self.b.ins().jump(default.0, &block_args(&default.1));
            return;
        }
        let n = cases.len() as i64;
        let in_range = self.b.create_block();
        let outside = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, index, n);
        self.b.ins().brif(outside, default.0, &block_args(&default.1), in_range, &[]);
        self.b.switch_to_block(in_range);
        self.b.seal_block(in_range);
        self.switch_range(index, cases, 0);
    }

    /// Dispatches `index` (known to be in `base..base + cases.len()`).
    fn switch_range(&mut self, index: Value, cases: &[(Block, Vec<Value>)], base: i64) {
        if cases.len() <= 4 {
            for (i, (target, args)) in cases.iter().enumerate() {
                if i + 1 == cases.len() {
                    self.b.ins().jump(*target, &block_args(args));
                } else {
                    let hit = self.b.ins().icmp_imm_s(IntCC::Equal, index, base + i as i64);
                    let next = self.b.create_block();
                    self.b.ins().brif(hit, *target, &block_args(args), next, &[]);
                    self.b.switch_to_block(next);
                    self.b.seal_block(next);
                }
            }
            return;
        }
        let mid = cases.len() / 2;
        let low = self.b.create_block();
        let high = self.b.create_block();
        let below = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, index, base + mid as i64);
        self.b.ins().brif(below, low, &[], high, &[]);
        self.b.switch_to_block(low);
        self.b.seal_block(low);
        self.switch_range(index, &cases[..mid], base);
        self.b.switch_to_block(high);
        self.b.seal_block(high);
        self.switch_range(index, &cases[mid..], base + mid as i64);
    }

    fn callee(&mut self, index: u32) -> Result<FuncRef, CompileError> {
        if let Some(r) = self.callee_refs[index as usize] {
            return Ok(r);
        }
        let sig = signature(self.info.func_type(index))?;
        let signature = self.b.import_signature(sig);
        let name = self.b.func.declare_imported_user_function(UserExternalName::new(NS_FUNC, index));
        let r = self.b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.callee_refs[index as usize] = Some(r);
        Ok(r)
    }

    fn type_sig(&mut self, type_index: u32) -> Result<SigRef, CompileError> {
        if let Some(s) = self.type_sigs[type_index as usize] {
            return Ok(s);
        }
        let sig = signature(&self.info.types[type_index as usize])?;
        let s = self.b.import_signature(sig);
        self.type_sigs[type_index as usize] = Some(s);
        Ok(s)
    }

    fn call_args(&mut self, ty: &FuncType) -> Vec<Value> {
        let n = ty.params().len();
        let mut args = vec![self.vmctx];
        args.extend_from_slice(&self.stack[self.stack.len() - n..]);
        self.stack.truncate(self.stack.len() - n);
        args
    }

    fn push_call_results(&mut self, inst: cranelift_codegen::ir::Inst) {
        let results = self.b.inst_results(inst).to_vec();
        self.stack.extend(results);
        self.check_trap();
        // The callee used fuel and may have grown the memory.
        self.load_fuel();
        self.reload_memory();
    }

    fn bool_to_i32(&mut self, b: Value) -> Value {
        self.b.ins().uextend(I32, b)
    }

    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let r = self.b.ins().icmp(cc, a, b);
        let r = self.bool_to_i32(r);
        self.push(r);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let r = self.b.ins().fcmp(cc, a, b);
        let r = self.bool_to_i32(r);
        self.push(r);
    }

    fn binary(&mut self, f: impl FnOnce(&mut FunctionBuilder<'f>, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let r = f(&mut self.b, a, b);
        self.push(r);
    }

    fn unary(&mut self, f: impl FnOnce(&mut FunctionBuilder<'f>, Value) -> Value) {
        let a = self.pop();
        let r = f(&mut self.b, a);
        self.push(r);
    }

    /// Division and remainder, with wasm's traps checked first.
    fn divide(&mut self, signed: bool, remainder: bool) {
        let (a, b) = self.pop2();
        let ty = self.b.func.dfg.value_type(b);
        let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(is_zero, TrapKind::IntegerDivisionByZero);
        let r = match (signed, remainder) {
            (false, false) => self.b.ins().udiv(a, b),
            (false, true) => self.b.ins().urem(a, b),
            (true, false) => {
                let min = if ty == I32 { i32::MIN as i64 } else { i64::MIN };
                let a_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
                let b_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let overflow = self.b.ins().band(a_min, b_neg1);
                self.trap_if(overflow, TrapKind::IntegerOverflow);
                self.b.ins().sdiv(a, b)
            }
            (true, true) => {
                // x rem -1 is 0 (and MIN rem -1 must not fault): divide by 1.
                let b_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let one = self.b.ins().iconst(ty, 1);
                let divisor = self.b.ins().select(b_neg1, one, b);
                self.b.ins().srem(a, divisor)
            }
        };
        self.push(r);
    }

    /// A trapping float → int conversion: NaN and out-of-range values trap,
    /// then the saturating conversion (which never faults) does the work.
    fn truncate(&mut self, to: Type, signed: bool) {
        let x = self.pop();
        let from = self.b.func.dfg.value_type(x);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(nan, TrapKind::BadConversionToInteger);
        // (lower bound, lower bound is exclusive, upper bound exclusive)
        let (lo, lo_exclusive, hi): (f64, bool, f64) = match (to == I32, signed, from == F32) {
            (true, true, true) => (-2147483648.0, false, 2147483648.0),
            (true, true, false) => (-2147483649.0, true, 2147483648.0),
            (true, false, _) => (-1.0, true, 4294967296.0),
            (false, true, _) => (-9223372036854775808.0, false, 9223372036854775808.0),
            (false, false, _) => (-1.0, true, 18446744073709551616.0),
        };
        let (lo, hi) = if from == F32 {
            (self.b.ins().f32const(lo as f32), self.b.ins().f32const(hi as f32))
        } else {
            (self.b.ins().f64const(lo), self.b.ins().f64const(hi))
        };
        let below = self.b.ins().fcmp(if lo_exclusive { FloatCC::LessThanOrEqual } else { FloatCC::LessThan }, x, lo);
        let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, hi);
        let outside = self.b.ins().bor(below, above);
        self.trap_if(outside, TrapKind::IntegerOverflow);
        let r = if signed { self.b.ins().fcvt_to_sint_sat(to, x) } else { self.b.ins().fcvt_to_uint_sat(to, x) };
        self.push(r);
    }

    fn extend(&mut self, narrow: Type, wide: Type) {
        let x = self.pop();
        let n = self.b.ins().ireduce(narrow, x);
        let r = self.b.ins().sextend(wide, n);
        self.push(r);
    }

    /// Ends the current frame (an `end` operator).
    fn end_frame(&mut self) {
        let frame = self.control.pop().expect("validated: control stack underflow");
        if self.reachable {
            let args = self.top(frame.results);
            self.b.ins().jump(frame.next, &block_args(&args));
        }
        match frame.kind {
            FrameKind::If { else_block: Some(else_block), params } => {
                // No `else`: the else arm passes its parameters through.
                self.b.switch_to_block(else_block);
                self.b.seal_block(else_block);
                self.b.ins().jump(frame.next, &block_args(&params));
            }
            FrameKind::Loop { header, fuel, ops, fast } => {
                self.b.seal_block(header);
                if let Some(fuel) = fuel {
                    let cost = (self.ops - ops).max(1) as i64;
                    self.b.func.replace(fuel).iconst(I64, cost);
                }
                if let Some(fast) = fast {
                    // The checked copy is done: the unchecked one is next,
                    // translated by `fast_loop` before `frame.next` is
                    // sealed (it joins there too).
                    self.pending_fast = Some((fast, frame.next));
                }
            }
            _ => {}
        }
        self.stack.truncate(frame.height);
        self.b.switch_to_block(frame.next);
        if self.pending_fast.is_none() {
            self.b.seal_block(frame.next);
        }
        let results = self.b.block_params(frame.next).to_vec();
        self.stack.extend(results);
        self.reachable = true;
    }

    fn operator(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        if !self.reachable {
            match op {
                O::Block { .. } | O::Loop { .. } | O::If { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                O::Else if self.dead_depth == 0 => {}
                O::End if self.dead_depth == 0 => {}
                O::End => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        if !keeps_open_checks(op) {
            self.end_run();
        }
        match *op {
            O::Unreachable => {
                let trap = self.trap_block(TrapKind::Unreachable);
                self.b.ins().jump(trap, &[]);
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    next,
                    params: params.len(),
                    results: results.len(),
                    height,
                });
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let scan = self.loop_scan.take();
                let fast = match scan {
                    Some(scan) if params.is_empty() && results.is_empty() => self.counted_loop(scan),
                    _ => None,
                };
                let header = self.block_with_params(&params);
                let next = self.block_with_params(&results);
                let args = self.top(params.len());
                self.b.ins().jump(header, &block_args(&args));
                let height = self.stack.len() - params.len();
                self.stack.truncate(height);
                self.b.switch_to_block(header);
                let header_params = self.b.block_params(header).to_vec();
                self.stack.extend(header_params);
                let cost = self.b.ins().iconst(I64, 1);
                let fuel = self.b.func.dfg.value_def(cost).unwrap_inst();
                self.charge_fuel(cost);
                self.control.push(Frame {
                    kind: FrameKind::Loop { header, fuel: Some(fuel), ops: self.ops, fast },
                    next,
                    params: params.len(),
                    results: results.len(),
                    height,
                });
            }
            O::If { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let cond = self.pop();
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                let next = self.block_with_params(&results);
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.switch_to_block(then_block);
                self.b.seal_block(then_block);
                let height = self.stack.len() - params.len();
                let params_now = self.top(params.len());
                self.control.push(Frame {
                    kind: FrameKind::If { else_block: Some(else_block), params: params_now },
                    next,
                    params: params.len(),
                    results: results.len(),
                    height,
                });
            }
            O::Else => {
                let frame = self.control.last_mut().expect("validated");
                let FrameKind::If { else_block, params } = &mut frame.kind else {
                    unreachable!("validated: else without if")
                };
                let else_block = else_block.take().expect("validated: one else");
                let params = core::mem::take(params);
                let (next, results, height) = (frame.next, frame.results, frame.height);
                if self.reachable {
                    let args = self.top(results);
                    self.b.ins().jump(next, &block_args(&args));
                }
                self.stack.truncate(height);
                self.stack.extend(params);
                self.b.switch_to_block(else_block);
                self.b.seal_block(else_block);
                self.reachable = true;
            }
            O::End => self.end_frame(),
            O::Br { relative_depth } => {
                let (target, args) = self.branch_args(relative_depth);
                self.b.ins().jump(target, &block_args(&args));
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, args) = self.branch_args(relative_depth);
                let cont = self.b.create_block();
                self.b.ins().brif(cond, target, &block_args(&args), cont, &[]);
                self.b.switch_to_block(cont);
                self.b.seal_block(cont);
            }
            O::BrTable { ref targets } => {
                let index = self.pop();
                let mut cases = Vec::new();
                for depth in targets.targets() {
                    cases.push(self.branch_args(depth?));
                }
                let default = self.branch_args(targets.default());
                self.switch(index, &cases, default);
                self.reachable = false;
            }
            O::Return => {
                let values = self.top(self.results.len());
                self.save_fuel();
                self.b.ins().return_(&values);
                self.reachable = false;
            }
            O::Call { function_index } => {
                let callee = self.callee(function_index)?;
                let ty = self.info.func_type(function_index).clone();
                let args = self.call_args(&ty);
                self.save_fuel();
                let inst = self.b.ins().call(callee, &args);
                self.push_call_results(inst);
            }
            O::CallIndirect { type_index, table_index } => {
                let entry = self.table_entry(table_index);
                let entry_flags = self.region_flags(self.table_region);
                let funcref = self.b.ins().load(I64, entry_flags, entry, 0);
                let flags = self.vm_flags();
                let null = self.b.ins().icmp_imm_s(IntCC::Equal, funcref, 0);
                self.trap_if(null, TrapKind::IndirectCallToNull);
                let type_id = self.b.ins().load(I64, flags, funcref, offsets::FUNCREF_TYPE);
                let expected = self.info.type_ids[type_index as usize] as i64;
                let wrong = self.b.ins().icmp_imm_s(IntCC::NotEqual, type_id, expected);
                self.trap_if(wrong, TrapKind::BadSignature);
                let code = self.b.ins().load(I64, flags, funcref, offsets::FUNCREF_CODE);
                let sig = self.type_sig(type_index)?;
                let ty = self.info.types[type_index as usize].clone();
                let args = self.call_args(&ty);
                self.save_fuel();
                let inst = self.b.ins().call_indirect(sig, code, &args);
                self.push_call_results(inst);
            }
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let r = self.b.ins().select(c, a, b);
                self.push(r);
            }
            O::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.remember_local(v, local_index);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize], v);
                self.new_generation(local_index);
                self.remember_local(v, local_index);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.b.def_var(self.locals[local_index as usize], v);
                self.new_generation(local_index);
                self.remember_local(v, local_index);
            }
            O::GlobalGet { global_index } => {
                let ty = ir_type(self.info.globals[global_index as usize].ty)?;
                let addr = self.global_address(global_index);
                let flags = self.region_flags(self.global_region);
                let v = self.b.ins().load(ty, flags, addr, 0);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let addr = self.global_address(global_index);
                let flags = self.region_flags(self.global_region);
                self.b.ins().store(flags, v, addr, 0);
            }
            O::I32Load { memarg } => self.load(&memarg, I32, 4, None),
            O::I64Load { memarg } => self.load(&memarg, I64, 8, None),
            O::F32Load { memarg } => self.load(&memarg, F32, 4, None),
            O::F64Load { memarg } => self.load(&memarg, F64, 8, None),
            O::I32Load8S { memarg } => self.load(&memarg, I32, 1, Some((true, I32))),
            O::I32Load8U { memarg } => self.load(&memarg, I32, 1, Some((false, I32))),
            O::I32Load16S { memarg } => self.load(&memarg, I32, 2, Some((true, I32))),
            O::I32Load16U { memarg } => self.load(&memarg, I32, 2, Some((false, I32))),
            O::I64Load8S { memarg } => self.load(&memarg, I64, 1, Some((true, I64))),
            O::I64Load8U { memarg } => self.load(&memarg, I64, 1, Some((false, I64))),
            O::I64Load16S { memarg } => self.load(&memarg, I64, 2, Some((true, I64))),
            O::I64Load16U { memarg } => self.load(&memarg, I64, 2, Some((false, I64))),
            O::I64Load32S { memarg } => self.load(&memarg, I64, 4, Some((true, I64))),
            O::I64Load32U { memarg } => self.load(&memarg, I64, 4, Some((false, I64))),
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => self.store(&memarg, 4),
            O::I64Store { memarg } | O::F64Store { memarg } => self.store(&memarg, 8),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(&memarg, 1),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(&memarg, 2),
            O::MemorySize { .. } => {
                let len = self.vm_load(I64, offsets::MEMORY_LEN);
                let pages = self.b.ins().ushr_imm_s(len, 16);
                let pages = self.b.ins().ireduce(I32, pages);
                self.push(pages);
            }
            O::MemoryGrow { .. } => {
                let delta = self.pop();
                let delta = self.u64(delta);
                let old = self.libcall(LibCall::MemoryGrow, &[delta]);
                let old = self.b.ins().ireduce(I32, old);
                self.push(old);
            }
            O::MemoryFill { .. } => {
                let (dst, value, len) = self.pop3();
                let args = [self.u64(dst), self.u64(value), self.u64(len)];
                self.libcall_checked(LibCall::MemoryFill, &args);
            }
            O::MemoryCopy { .. } => {
                let (dst, src, len) = self.pop3();
                let args = [self.u64(dst), self.u64(src), self.u64(len)];
                self.libcall_checked(LibCall::MemoryCopy, &args);
            }
            O::MemoryInit { data_index, .. } => {
                let (dst, src, len) = self.pop3();
                let segment = self.const64(data_index as u64);
                let args = [segment, self.u64(dst), self.u64(src), self.u64(len)];
                self.libcall_checked(LibCall::MemoryInit, &args);
            }
            O::DataDrop { data_index } => {
                let segment = self.const64(data_index as u64);
                self.libcall_checked(LibCall::DataDrop, &[segment]);
            }
            O::TableGet { table } => {
                let entry = self.table_entry(table);
                let flags = self.region_flags(self.table_region);
                let v = self.b.ins().load(I64, flags, entry, 0);
                self.push(v);
            }
            O::TableSet { table } => {
                let value = self.pop();
                let entry = self.table_entry(table);
                let flags = self.region_flags(self.table_region);
                self.b.ins().store(flags, value, entry, 0);
            }
            O::TableSize { table } => {
                let tables = self.vm_load(I64, offsets::TABLES);
                let flags = self.vm_flags();
                let len = self.b.ins().load(
                    I64,
                    flags,
                    tables,
                    table as i32 * offsets::TABLE_SIZE as i32 + offsets::TABLE_LEN,
                );
                let len = self.b.ins().ireduce(I32, len);
                self.push(len);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let t = self.const64(table as u64);
                let args = [t, init, self.u64(delta)];
                let old = self.libcall(LibCall::TableGrow, &args);
                let old = self.b.ins().ireduce(I32, old);
                self.push(old);
            }
            O::TableFill { table } => {
                let (dst, value, len) = self.pop3();
                let t = self.const64(table as u64);
                let args = [t, self.u64(dst), value, self.u64(len)];
                self.libcall_checked(LibCall::TableFill, &args);
            }
            O::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3();
                let args = [
                    self.const64(dst_table as u64),
                    self.const64(src_table as u64),
                    self.u64(dst),
                    self.u64(src),
                    self.u64(len),
                ];
                self.libcall_checked(LibCall::TableCopy, &args);
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let args = [
                    self.const64(table as u64),
                    self.const64(elem_index as u64),
                    self.u64(dst),
                    self.u64(src),
                    self.u64(len),
                ];
                self.libcall_checked(LibCall::TableInit, &args);
            }
            O::ElemDrop { elem_index } => {
                let segment = self.const64(elem_index as u64);
                self.libcall_checked(LibCall::ElemDrop, &[segment]);
            }
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let v = self.pop();
                let r = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let r = self.bool_to_i32(r);
                self.push(r);
            }
            O::RefFunc { function_index } => {
                let refs = self.vm_load(I64, offsets::FUNCREFS);
                let r = self.b.ins().iadd_imm_s(refs, function_index as i64 * offsets::FUNCREF_SIZE);
                self.push(r);
            }
            O::I32Const { value } => {
                let v = self.b.ins().iconst(I32, value as u32 as i64);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            O::I32Eqz | O::I64Eqz => {
                let v = self.pop();
                let r = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let r = self.bool_to_i32(r);
                self.push(r);
            }
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),
            O::I32Clz | O::I64Clz => self.unary(|b, a| b.ins().clz(a)),
            O::I32Ctz | O::I64Ctz => self.unary(|b, a| b.ins().ctz(a)),
            O::I32Popcnt | O::I64Popcnt => self.unary(|b, a| b.ins().popcnt(a)),
            O::I32Add | O::I64Add => self.binary(|b, x, y| b.ins().iadd(x, y)),
            O::I32Sub | O::I64Sub => self.binary(|b, x, y| b.ins().isub(x, y)),
            O::I32Mul | O::I64Mul => self.binary(|b, x, y| b.ins().imul(x, y)),
            O::I32DivS | O::I64DivS => self.divide(true, false),
            O::I32DivU | O::I64DivU => self.divide(false, false),
            O::I32RemS | O::I64RemS => self.divide(true, true),
            O::I32RemU | O::I64RemU => self.divide(false, true),
            O::I32And | O::I64And => self.binary(|b, x, y| b.ins().band(x, y)),
            O::I32Or | O::I64Or => self.binary(|b, x, y| b.ins().bor(x, y)),
            O::I32Xor | O::I64Xor => self.binary(|b, x, y| b.ins().bxor(x, y)),
            O::I32Shl | O::I64Shl => self.binary(|b, x, y| b.ins().ishl(x, y)),
            O::I32ShrS | O::I64ShrS => self.binary(|b, x, y| b.ins().sshr(x, y)),
            O::I32ShrU | O::I64ShrU => self.binary(|b, x, y| b.ins().ushr(x, y)),
            O::I32Rotl | O::I64Rotl => self.binary(|b, x, y| b.ins().rotl(x, y)),
            O::I32Rotr | O::I64Rotr => self.binary(|b, x, y| b.ins().rotr(x, y)),
            O::F32Abs | O::F64Abs => self.unary(|b, a| b.ins().fabs(a)),
            O::F32Neg | O::F64Neg => self.unary(|b, a| b.ins().fneg(a)),
            O::F32Ceil | O::F64Ceil => self.unary(|b, a| b.ins().ceil(a)),
            O::F32Floor | O::F64Floor => self.unary(|b, a| b.ins().floor(a)),
            O::F32Trunc | O::F64Trunc => self.unary(|b, a| b.ins().trunc(a)),
            O::F32Nearest | O::F64Nearest => self.unary(|b, a| b.ins().nearest(a)),
            O::F32Sqrt | O::F64Sqrt => self.unary(|b, a| b.ins().sqrt(a)),
            O::F32Add | O::F64Add => self.binary(|b, x, y| b.ins().fadd(x, y)),
            O::F32Sub | O::F64Sub => self.binary(|b, x, y| b.ins().fsub(x, y)),
            O::F32Mul | O::F64Mul => self.binary(|b, x, y| b.ins().fmul(x, y)),
            O::F32Div | O::F64Div => self.binary(|b, x, y| b.ins().fdiv(x, y)),
            O::F32Min | O::F64Min => self.binary(|b, x, y| b.ins().fmin(x, y)),
            O::F32Max | O::F64Max => self.binary(|b, x, y| b.ins().fmax(x, y)),
            O::F32Copysign | O::F64Copysign => self.binary(|b, x, y| b.ins().fcopysign(x, y)),
            O::I32WrapI64 => self.unary(|b, a| b.ins().ireduce(I32, a)),
            O::I64ExtendI32S => self.unary(|b, a| b.ins().sextend(I64, a)),
            O::I64ExtendI32U => self.unary(|b, a| b.ins().uextend(I64, a)),
            O::I32TruncF32S | O::I32TruncF64S => self.truncate(I32, true),
            O::I32TruncF32U | O::I32TruncF64U => self.truncate(I32, false),
            O::I64TruncF32S | O::I64TruncF64S => self.truncate(I64, true),
            O::I64TruncF32U | O::I64TruncF64U => self.truncate(I64, false),
            O::I32TruncSatF32S | O::I32TruncSatF64S => self.unary(|b, a| b.ins().fcvt_to_sint_sat(I32, a)),
            O::I32TruncSatF32U | O::I32TruncSatF64U => self.unary(|b, a| b.ins().fcvt_to_uint_sat(I32, a)),
            O::I64TruncSatF32S | O::I64TruncSatF64S => self.unary(|b, a| b.ins().fcvt_to_sint_sat(I64, a)),
            O::I64TruncSatF32U | O::I64TruncSatF64U => self.unary(|b, a| b.ins().fcvt_to_uint_sat(I64, a)),
            O::F32ConvertI32S | O::F32ConvertI64S => self.unary(|b, a| b.ins().fcvt_from_sint(F32, a)),
            O::F32ConvertI32U | O::F32ConvertI64U => self.unary(|b, a| b.ins().fcvt_from_uint(F32, a)),
            O::F64ConvertI32S | O::F64ConvertI64S => self.unary(|b, a| b.ins().fcvt_from_sint(F64, a)),
            O::F64ConvertI32U | O::F64ConvertI64U => self.unary(|b, a| b.ins().fcvt_from_uint(F64, a)),
            O::F32DemoteF64 => self.unary(|b, a| b.ins().fdemote(F32, a)),
            O::F64PromoteF32 => self.unary(|b, a| b.ins().fpromote(F64, a)),
            O::I32ReinterpretF32 => self.unary(|b, a| b.ins().bitcast(I32, MemFlagsData::new(), a)),
            O::I64ReinterpretF64 => self.unary(|b, a| b.ins().bitcast(I64, MemFlagsData::new(), a)),
            O::F32ReinterpretI32 => self.unary(|b, a| b.ins().bitcast(F32, MemFlagsData::new(), a)),
            O::F64ReinterpretI64 => self.unary(|b, a| b.ins().bitcast(F64, MemFlagsData::new(), a)),
            O::I32Extend8S => self.extend(I8, I32),
            O::I32Extend16S => self.extend(I16, I32),
            O::I64Extend8S => self.extend(I8, I64),
            O::I64Extend16S => self.extend(I16, I64),
            O::I64Extend32S => self.extend(I32, I64),
            ref op => return Err(unsupported!("operator {op:?} is not supported")),
        }
        Ok(())
    }
}

/// Builds the stub through which compiled code calls import `index`: it
/// spills the arguments to a stack array, calls the runtime's `hostcall`
/// and reads the results back from the same array.
pub(crate) fn import_stub(
    info: &ModuleInfo,
    index: u32,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
) -> Result<(), CompileError> {
    let ty = info.func_type(index).clone();
    func.signature = signature(&ty)?;
    func.name = cranelift_codegen::ir::UserFuncName::user(NS_FUNC, index);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let vmctx = params[0];
    let slots = ty.params().len().max(ty.results().len()).max(1) as u32;
    let slot = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, slots * 8, 3));
    for (i, p) in params[1..].iter().enumerate() {
        b.ins().stack_store(I64, *p, slot, i as i32 * 8);
    }
    let values = b.ins().stack_addr(I64, slot, 0);
    let import = b.ins().iconst(I64, index as i64);
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(I64), AbiParam::new(I64), AbiParam::new(I64)]);
    sig.returns.push(AbiParam::new(I32));
    let sig = b.import_signature(sig);
    let table = b.ins().load(I64, MemFlagsData::trusted(), vmctx, offsets::LIBCALLS);
    let target = b.ins().load(I64, MemFlagsData::trusted(), table, LibCall::Hostcall.offset());
    let call = b.ins().call_indirect(sig, target, &[vmctx, import, values]);
    let status = b.inst_results(call)[0];
    let ok = b.create_block();
    let failed = b.create_block();
    b.ins().brif(status, failed, &[], ok, &[]);
    b.switch_to_block(failed);
    b.seal_block(failed);
    let types: Vec<Type> = ty.results().iter().map(|r| ir_type(*r)).collect::<Result<_, _>>()?;
    let zeros: Vec<Value> = types.iter().map(|t| zero(&mut b, *t)).collect();
    b.ins().return_(&zeros);
    b.switch_to_block(ok);
    b.seal_block(ok);
    let results: Vec<Value> =
        types.iter().enumerate().map(|(i, t)| b.ins().stack_load(I64, *t, slot, i as i32 * 8)).collect();
    b.ins().return_(&results);
    b.finalize(config);
    Ok(())
}

/// Namespace of array-call entries in external names.
pub(crate) const NS_ENTRY: u32 = 1;

/// Builds the entry through which the runtime calls function `index`:
/// `extern "sysv64" fn(vmctx, values: *mut u64)`, the parameters read from
/// `values` and the results written back there (one slot each).
pub(crate) fn array_entry(
    info: &ModuleInfo,
    index: u32,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
) -> Result<(), CompileError> {
    let ty = info.func_type(index).clone();
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(I64), AbiParam::new(I64)]);
    func.signature = sig;
    func.name = cranelift_codegen::ir::UserFuncName::user(NS_ENTRY, index);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (vmctx, values) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let mut args = vec![vmctx];
    for (i, p) in ty.params().iter().enumerate() {
        args.push(b.ins().load(ir_type(*p)?, MemFlagsData::trusted(), values, i as i32 * 8));
    }
    let callee_sig = b.import_signature(signature(&ty)?);
    let name = b.func.declare_imported_user_function(UserExternalName::new(NS_FUNC, index));
    let callee = b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature: callee_sig,
        colocated: true,
        patchable: false,
    });
    let call = b.ins().call(callee, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.iter().enumerate() {
        b.ins().store(MemFlagsData::trusted(), *r, values, i as i32 * 8);
    }
    b.ins().return_(&[]);
    b.finalize(config);
    Ok(())
}
