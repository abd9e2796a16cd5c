// SPDX-License-Identifier: GPL-2.0

//! How a wasmi error ends a run.

use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{Message, Outcome, Trap, TrapCode};

use crate::instance::Stop;
use crate::instrument;

/// The outcome of a call that failed with `error`.
pub(crate) fn outcome(error: &wasmi::Error) -> Outcome {
    if let Some(status) = error.i32_exit_status() {
        return Outcome::Exited(status);
    }
    match error.downcast_ref::<Stop>() {
        Some(Stop::Interrupted) => return Outcome::Interrupted,
        Some(Stop::Killed(by_uid)) => return Outcome::Killed { by_uid: *by_uid },
        None => {}
    }
    let code = error.as_trap_code().map_or(TrapCode::Host, trap_code);
    Outcome::Trapped(Trap { code, message: message!("{error}") })
}

fn trap_code(code: wasmi::TrapCode) -> TrapCode {
    use wasmi::TrapCode as W;
    match code {
        W::UnreachableCodeReached => TrapCode::Unreachable,
        W::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        W::TableOutOfBounds => TrapCode::TableOutOfBounds,
        W::IndirectCallToNull => TrapCode::IndirectCallToNull,
        W::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
        W::IntegerOverflow => TrapCode::IntegerOverflow,
        W::BadConversionToInteger => TrapCode::BadConversionToInteger,
        W::StackOverflow => TrapCode::StackOverflow,
        W::BadSignature => TrapCode::BadSignature,
        W::GrowthOperationLimited => TrapCode::GrowthLimited,
        // Fuel is resumed, never a trap; anything newer is the host's business.
        _ => TrapCode::Host,
    }
}

/// Adds where a trap happened to its message: the function's index, and
/// its name when the module has a `name` section.
pub(crate) fn locate(message: &Message, function: Option<u32>, wasm: &[u8]) -> Message {
    match function {
        None => message.clone(),
        Some(index) => match instrument::function_name(wasm, index) {
            Some(name) => message!("{message} in function {index} ({name})"),
            None => message!("{message} in function {index}"),
        },
    }
}
