// SPDX-License-Identifier: MIT OR Apache-2.0

//! A driver needs little stack: 64 KiB instead of rustc's 1 MiB keeps its
//! linear memory (which the kernel allocates) small.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=65536");
    }
}
