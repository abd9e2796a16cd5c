// SPDX-License-Identifier: GPL-2.0

//! The Cervus engine, built as a staticlib for the kernel module.
//!
//! `cervus-core` does the work; this crate adapts it to the kernel:
//!
//! - [`call`]: the C ABI shared with the glue (`framework/kmod`).
//! - `entry`: `cervus_engine_entry`, the only global symbol left after
//!   prelinking (see `Kbuild`).
//! - `heap`: the global allocator over the kernel's `kvmalloc`, counted.
//! - `supervisor`: per-task call slots and the panic handler that turns an
//!   engine panic into a killed instance instead of a kernel crash.
//! - `platform`: the core's `Platform` over the glue's host services.
//! - `code`: executable memory for the JIT, in an arena of the module's
//!   text, and entering compiled code.
//! - `devices`: the core's `Devices` (drivers' device access) over the
//!   glue's device services.
//!
//! It is built with `-Zbuild-std=core,alloc` for the kernel's own Rust
//! target and code-generation flags (see `ci/engine-rustflags`), and always
//! runs on a private stack entered through `trampoline.S`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

pub mod call;
mod code;
mod devices;
mod entry;
mod heap;
mod host;
mod objtool;
mod platform;
mod supervisor;
