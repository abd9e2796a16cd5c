// SPDX-License-Identifier: GPL-2.0

//! Behaviour of `Request::Run` on the host, with a fake platform.
//!
//! This file runs the suite (`suites/run.rs`) on the interpreter; `run_jit.rs` runs it on the JIT.

mod common;

use cervus_hostcalls::protocol::EngineKind;

/// The engine every instance of this suite runs on.
pub const ENGINE: EngineKind = EngineKind::Interp;

include!("suites/run.rs");
