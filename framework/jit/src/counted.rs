// SPDX-License-Identifier: GPL-2.0

//! Counted loops: finds the loops the translator also compiles without
//! fuel or bounds checks inside (see `Translator::counted_loop`).
//!
//! A loop qualifies if its body is straight-line code (no branch, call,
//! trap-prone operator or nested frame) that ends with
//!
//! ```text
//! local.get $i  i32.const STEP  i32.add  local.tee $i
//! i32.const END  i32.ne  br_if 0  end
//! ```
//!
//! and writes `$i` nowhere else: the shape of a Rust `for i in a..b` loop
//! once LLVM has rotated it. Entered with `$i` a known constant, such a
//! loop runs a known number of times with `$i` in a known range at the
//! top of the body. For each memory access of the body the scan also works
//! out, where it can, the access's index as `$inv + $i + c`: `$inv` a
//! local the body never writes (or none), `$i` the counter (or not) and
//! `c` a constant in `[0, 2^31)`. The translator then checks each such
//! access once, for the farthest iteration, before the loop.
//!
//! The scan is pure analysis over operators that the validator has not
//! seen yet: it gives up (`None`) on anything it does not know, and the
//! loop is translated as usual.

use alloc::vec::Vec;

use wasmparser::{BinaryReader, Operator};

use crate::operators::{access, pure_effect};

/// Operators of a body scanned at most.
const MAX_BODY: usize = 4096;

/// An access's index as `invariant + counter + c` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexForm {
    /// A local the body never writes, read as is.
    pub invariant: Option<u32>,
    /// Whether the loop counter is a term.
    pub counter: bool,
    /// The constant term (an access's index form is recorded only if it
    /// is below 2^31).
    pub c: u32,
}

/// A loop the scan accepted.
pub(crate) struct CountedLoop {
    /// The counter local.
    pub counter: u32,
    /// What each iteration adds to the counter.
    pub step: u32,
    /// The counter's value that ends the loop.
    pub end: u32,
    /// Each load and store of the body, in order: its index form, if known,
    /// and its `offset + size`.
    pub accesses: Vec<(Option<IndexForm>, u64)>,
    /// Whether the body stores to memory (else memory does not change
    /// while the loop runs: it calls nothing either).
    pub stores: bool,
    /// Operators of the body, its `end` included.
    pub ops: u64,
    /// Where the body starts in the code section (its first operator).
    pub body: usize,
}

/// A value on the abstract operand stack: an index form, or unknown.
type Value = Option<IndexForm>;

/// Scans the loop whose body starts at `reader` (just after the `loop`
/// operator, whose block type must be empty).
pub(crate) fn scan(reader: &BinaryReader<'_>) -> Option<CountedLoop> {
    let body = reader.original_position();
    let mut r = reader.clone();
    let mut ops = Vec::new();
    loop {
        let op = r.read_operator().ok()?;
        match op {
            Operator::End => break,
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } | Operator::Else => return None,
            _ => ops.push(op),
        }
        if ops.len() > MAX_BODY {
            return None;
        }
    }
    let n = ops.len();
    if n < 7 {
        return None;
    }
    let (counter, step, end) = match ops[n - 7..] {
        [
            Operator::LocalGet { local_index: a },
            Operator::I32Const { value: step },
            Operator::I32Add,
            Operator::LocalTee { local_index: b },
            Operator::I32Const { value: end },
            Operator::I32Ne,
            Operator::BrIf { relative_depth: 0 },
        ] if a == b && step > 0 && end > 0 => (a, step as u32, end as u32),
        _ => return None,
    };
    let body_ops = &ops[..n - 7];
    let mut written = Vec::new();
    for op in body_ops {
        if let Operator::LocalSet { local_index } | Operator::LocalTee { local_index } = op {
            if *local_index == counter {
                return None;
            }
            written.push(*local_index);
        }
    }
    let accesses = evaluate(body_ops, counter, &written)?;
    let stores = body_ops.iter().any(|op| matches!(access(op), Some((_, _, true))));
    Some(CountedLoop { counter, step, end, accesses, stores, ops: n as u64 + 1, body })
}

/// Runs the body on abstract values; `None` if it has an operator the scan
/// does not know.
fn evaluate(ops: &[Operator<'_>], counter: u32, written: &[u32]) -> Option<Vec<(Option<IndexForm>, u64)>> {
    use Operator as O;
    let mut stack: Vec<Value> = Vec::new();
    // Locals set in this iteration so far, with their values.
    let mut set: Vec<(u32, Value)> = Vec::new();
    let mut accesses = Vec::new();
    let constant = |c: i32| Some(IndexForm { invariant: None, counter: false, c: c as u32 });
    for op in ops {
        if let Some((memarg, size, store)) = access(op) {
            if memarg.memory != 0 {
                return None;
            }
            if store {
                stack.pop()?;
            }
            let index = stack.pop()?;
            let form = index.filter(|f| f.c < 1 << 31);
            accesses.push((form, memarg.offset + size));
            if !store {
                stack.push(None);
            }
            continue;
        }
        match *op {
            O::I32Const { value } => stack.push(constant(value)),
            O::LocalGet { local_index } => {
                let v = match set.iter().rev().find(|(l, _)| *l == local_index) {
                    Some((_, v)) => *v,
                    None if local_index == counter => Some(IndexForm { invariant: None, counter: true, c: 0 }),
                    None if written.contains(&local_index) => None,
                    None => Some(IndexForm { invariant: Some(local_index), counter: false, c: 0 }),
                };
                stack.push(v);
            }
            O::LocalSet { local_index } => {
                let v = stack.pop()?;
                set.push((local_index, v));
            }
            O::LocalTee { local_index } => {
                let v = *stack.last()?;
                set.push((local_index, v));
            }
            O::I32Add => {
                let b = stack.pop()?;
                let a = stack.pop()?;
                stack.push(add(a, b));
            }
            O::GlobalSet { .. } => {
                stack.pop()?;
            }
            _ => {
                let (pops, pushes) = pure_effect(op)?;
                for _ in 0..pops {
                    stack.pop()?;
                }
                for _ in 0..pushes {
                    stack.push(None);
                }
            }
        }
    }
    Some(accesses)
}

/// The sum of two index forms, if it is one.
fn add(a: Value, b: Value) -> Value {
    let (a, b) = (a?, b?);
    let invariant = match (a.invariant, b.invariant) {
        (Some(_), Some(_)) => return None,
        (x, y) => x.or(y),
    };
    if a.counter && b.counter {
        return None;
    }
    let c = a.c.checked_add(b.c).filter(|c| *c < 1 << 31)?;
    Some(IndexForm { invariant, counter: a.counter || b.counter, c })
}
