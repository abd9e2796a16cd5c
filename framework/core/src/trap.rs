// SPDX-License-Identifier: GPL-2.0

//! How a wasmi error ends a run.

use cervus_hostcalls::message;
use cervus_hostcalls::protocol::{Outcome, Trap, TrapCode};

use crate::instance::Stop;

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
