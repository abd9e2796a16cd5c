// SPDX-License-Identifier: MIT OR Apache-2.0

//! The Cervus ABI, defined once and consumed by both sides.
//!
//! - [`device`]: the `/dev/cvctl` ioctl numbers and call header (also
//!   compiled into the kernel module).
//! - [`protocol`]: the requests and replies carried by that ioctl, encoded
//!   with `postcard`, every size bounded.
//! - [`foreach_hostcall!`]: the list of every hostcall a wasm module may
//!   import. The host registers its linker entries from it and `cervus-guest`
//!   declares its imports from it, so the two cannot drift apart.
//! - [`errno`]: the fixed numeric error codes hostcalls return.
//!
//! This crate (like `cervus-guest`) is licensed MIT OR Apache-2.0 so that
//! drivers and apps built on it may use any licence.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod device;
pub mod driver;
pub mod errno;
mod list;
#[cfg(feature = "alloc")]
pub mod protocol;
pub mod sha256;

pub use errno::Errno;
