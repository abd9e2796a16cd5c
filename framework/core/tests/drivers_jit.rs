// SPDX-License-Identifier: GPL-2.0

//! Drivers on a fake `edu` device: the real `drivers/edu` wasm driver, and
//! `drv-abuse.wat`, which misuses every capability on request.
//!
//! The edu driver is built by `ci/build` (or `cargo build --release --target
//! wasm32-unknown-unknown -p cervus-driver-edu`); these tests fail, naming
//! the command, if it was not.
//!
//! This file runs the suite (`suites/drivers.rs`) on the JIT; `drivers.rs` runs it on the interpreter.

mod common;

use cervus_hostcalls::protocol::EngineKind;

/// The engine every instance of this suite runs on.
pub const ENGINE: EngineKind = EngineKind::Jit;

include!("suites/drivers.rs");
