// SPDX-License-Identifier: GPL-2.0

//! Any difference between the JIT and the interpreter on a wasm-smith
//! module is a crash.

#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use arbitrary::Unstructured;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut module) = wasm_smith::Module::new(common::diff::smith_config(), &mut Unstructured::new(data)) else {
        return;
    };
    if module.ensure_termination(500).is_err() {
        return;
    }
    let engine = wasmi::Engine::default();
    common::diff::compare(&engine, &module.to_bytes(), data.len() as u64, &mut common::diff::Stats::default());
});
