// SPDX-License-Identifier: MIT OR Apache-2.0

//! Hello, world.

fn main() {
    println!("Hello from WASI, running inside the Linux kernel!");
}
