// SPDX-License-Identifier: MIT OR Apache-2.0

//! Guest SDK for Cervus.
//!
//! Apps and drivers written against this crate need no `unsafe` code: the
//! raw hostcall imports (declared in [`raw`] from the one hostcall list in
//! `cervus-hostcalls`) are wrapped in safe functions here.
//!
//! A minimal app (`apps/hello`, built and run in the kernel by the tests):
//!
#![doc = concat!("```text\n", include_str!("../../apps/hello/src/main.rs"), "```")]
//!
//! Build it with `cargo build --target wasm32-unknown-unknown` and the
//! `panic-handler` feature, and run it with `cvctl run hello.wasm`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cwa;
pub mod driver;
pub mod io;
#[cfg(all(feature = "panic-handler", not(feature = "std"), target_family = "wasm"))]
mod panic;
pub mod raw;

pub use cervus_hostcalls::Errno;

#[doc(hidden)]
pub use cervus_hostcalls as __hostcalls;

/// Turns a hostcall's `i32` result into `Ok(value)` or `Err(Errno)`.
pub fn check(ret: i32) -> Result<u32, Errno> {
    if ret >= 0 { Ok(ret as u32) } else { Err(Errno::from_code(ret).unwrap_or(Errno::Unknown)) }
}

/// Exports `fn() -> i32` as the module's entry point, `_start`.
///
/// The value returned becomes the exit status seen by `cvctl run`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(export_name = "_start")]
        pub extern "C" fn __cervus_start() -> i32 {
            let main: fn() -> i32 = $main;
            main()
        }
    };
}
