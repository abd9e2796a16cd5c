// SPDX-License-Identifier: MIT OR Apache-2.0

//! The smallest Cervus app: `cvctl run hello.wasm` prints a greeting.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

cervus_guest::entry!(main);

fn main() -> i32 {
    cervus_guest::println!("hello from the kernel: 2 + 2 = {}", 2 + 2);
    0
}
