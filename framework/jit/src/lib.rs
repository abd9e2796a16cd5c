// SPDX-License-Identifier: GPL-2.0

//! The Cervus JIT: WebAssembly compiled to x86-64 machine code by
//! Cranelift.
//!
//! `no_std` + `alloc`: the same crate runs inside the kernel engine and in
//! user space, where it is tested against the interpreter. It only produces
//! code ([`compile`]); making it executable, instantiating and calling it
//! belong to a runtime ([`runtime`]), which talks to compiled code through
//! the [`vmctx::VmCtx`] alone.

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod compile;
mod counted;
mod module;
mod operators;
pub mod runtime;
mod translate;
#[cfg(feature = "std")]
pub mod user;
pub mod vmctx;

pub use compile::{CompiledModule, MAX_FRAME, compile};
pub use module::{CompileError, Const, Export, ExportKind, Import, ModuleInfo, features};
