// SPDX-License-Identifier: MIT OR Apache-2.0

//! Panic handler for `#![no_std]` guests: report, then trap.

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::eprintln!("{}", info);
    core::arch::wasm32::unreachable()
}
