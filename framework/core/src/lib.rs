// SPDX-License-Identifier: GPL-2.0

//! The portable core of Cervus.
//!
//! Everything here is `no_std` + `alloc` and knows nothing about Linux: the
//! kernel module supplies a [`Platform`] (files, clocks, signals, logging)
//! and feeds requests from `/dev/cvctl` to [`Runtime::handle`]. The same code
//! runs on the host in `cargo test` with a fake platform.
//!
//! - [`runtime`]: request dispatch, the entry point of the core.
//! - [`registry`]: the instance manager's table of live instances.
//! - [`run`]: load, instantiate and run a module in execution slices.
//! - [`instance`]: per-instance host state.
//! - [`hostcalls`], [`cwa`], [`wasi`]: the hostcall implementations.
//! - [`ipc`]: `ipc-broadcast://` channels.
//! - [`guest_memory`]: checks for guest (pointer, length) claims.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod cwa;
pub mod driver;
mod exec;
#[cfg(feature = "std")]
pub mod fake_edu;
mod guest;
pub mod guest_memory;
pub mod hostcalls;
pub mod instance;
pub mod instrument;
pub mod ipc;
mod jit;
pub mod platform;
mod program;
pub mod registry;
pub mod run;
pub mod runtime;
#[cfg(feature = "std")]
pub mod std_platform;
mod trap;
pub mod wasi;

pub use platform::{Clock, HeapStats, HostFile, Level, Platform, Stdio, SysError};
pub use registry::InstanceId;
pub use runtime::{CallError, Caller, Config, Runtime};
