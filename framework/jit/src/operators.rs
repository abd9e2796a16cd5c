// SPDX-License-Identifier: GPL-2.0

//! What operators do, for the translator's analyses: which ones are pure
//! (cannot trap, touch nothing outside the function's own values, do not
//! branch) and what they take from and give to the operand stack, and the
//! size of each load's and store's access.

use wasmparser::Operator;

/// Operands taken and results given by a pure operator (see the module
/// docs); `None` for any other.
pub(crate) fn pure_effect(op: &Operator<'_>) -> Option<(usize, usize)> {
    use Operator as O;
    Some(match op {
        O::Nop => (0, 0),
        O::Drop | O::LocalSet { .. } => (1, 0),
        O::Select | O::TypedSelect { .. } => (3, 1),
        O::LocalGet { .. }
        | O::GlobalGet { .. }
        | O::MemorySize { .. }
        | O::I32Const { .. }
        | O::I64Const { .. }
        | O::F32Const { .. }
        | O::F64Const { .. } => (0, 1),
        O::LocalTee { .. }
        | O::I32Eqz
        | O::I64Eqz
        | O::I32Clz
        | O::I64Clz
        | O::I32Ctz
        | O::I64Ctz
        | O::I32Popcnt
        | O::I64Popcnt
        | O::I32WrapI64
        | O::I64ExtendI32S
        | O::I64ExtendI32U
        | O::I32Extend8S
        | O::I32Extend16S
        | O::I64Extend8S
        | O::I64Extend16S
        | O::I64Extend32S => (1, 1),
        O::I32Eq
        | O::I64Eq
        | O::I32Ne
        | O::I64Ne
        | O::I32LtS
        | O::I64LtS
        | O::I32LtU
        | O::I64LtU
        | O::I32GtS
        | O::I64GtS
        | O::I32GtU
        | O::I64GtU
        | O::I32LeS
        | O::I64LeS
        | O::I32LeU
        | O::I64LeU
        | O::I32GeS
        | O::I64GeS
        | O::I32GeU
        | O::I64GeU
        | O::I32Add
        | O::I64Add
        | O::I32Sub
        | O::I64Sub
        | O::I32Mul
        | O::I64Mul
        | O::I32And
        | O::I64And
        | O::I32Or
        | O::I64Or
        | O::I32Xor
        | O::I64Xor
        | O::I32Shl
        | O::I64Shl
        | O::I32ShrS
        | O::I64ShrS
        | O::I32ShrU
        | O::I64ShrU
        | O::I32Rotl
        | O::I64Rotl
        | O::I32Rotr
        | O::I64Rotr => (2, 1),
        _ => return None,
    })
}

/// A load's or store's memory argument and access size in bytes, and
/// whether it is a store; `None` for any other operator.
pub(crate) fn access(op: &Operator<'_>) -> Option<(wasmparser::MemArg, u64, bool)> {
    use Operator as O;
    Some(match *op {
        O::I32Load8S { memarg } | O::I32Load8U { memarg } | O::I64Load8S { memarg } | O::I64Load8U { memarg } => {
            (memarg, 1, false)
        }
        O::I32Load16S { memarg } | O::I32Load16U { memarg } | O::I64Load16S { memarg } | O::I64Load16U { memarg } => {
            (memarg, 2, false)
        }
        O::I32Load { memarg } | O::F32Load { memarg } | O::I64Load32S { memarg } | O::I64Load32U { memarg } => {
            (memarg, 4, false)
        }
        O::I64Load { memarg } | O::F64Load { memarg } => (memarg, 8, false),
        O::I32Store8 { memarg } | O::I64Store8 { memarg } => (memarg, 1, true),
        O::I32Store16 { memarg } | O::I64Store16 { memarg } => (memarg, 2, true),
        O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => (memarg, 4, true),
        O::I64Store { memarg } | O::F64Store { memarg } => (memarg, 8, true),
        _ => return None,
    })
}
