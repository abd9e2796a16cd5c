// SPDX-License-Identifier: GPL-2.0

//! Differential testing of the JIT against the interpreter (wasmi) on
//! wasm-smith modules: the fixed-seed batch (`CERVUS_JIT_DIFF_MODULES`,
//! 10 000 by default) is part of the test command; `fuzz/` has the
//! open-ended `cargo fuzz` target over the same comparison
//! ([`common::diff::compare`]).

mod common;

use arbitrary::Unstructured;
use common::diff::{Stats, compare, smith_config};
use wasmi::{Config, Engine};

fn generate(seed: u64, config: &wasm_smith::Config) -> Option<Vec<u8>> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let bytes: Vec<u8> = (0..16384)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut module = wasm_smith::Module::new(config.clone(), &mut Unstructured::new(&bytes)).ok()?;
    module.ensure_termination(500).ok()?;
    Some(module.to_bytes())
}

#[test]
fn jit_matches_the_interpreter_on_generated_modules() {
    let count: u64 = std::env::var("CERVUS_JIT_DIFF_MODULES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // Deep recursion in generated modules needs room on both engines.
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            // Not `disallow_traps`: its division guards hit a wasmi bug (see
            // `select_after_a_constant_local_is_right_where_wasmi_2_0_is_not`).
            let config = smith_config();
            let engine = Engine::new(&Config::default());
            let (mut modules, mut stats) = (0, Stats::default());
            for seed in 0..count {
                let Some(wasm) = generate(seed, &config) else { continue };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    compare(&engine, &wasm, seed, &mut stats)
                }));
                match result {
                    Ok(()) => {}
                    Err(e) => {
                        std::fs::write(format!("/tmp/cervus-jit-diff-{seed}.wasm"), &wasm).unwrap();
                        std::panic::resume_unwind(e);
                    }
                }
                modules += 1;
            }
            println!("{modules} modules: {stats:?}");
            assert!(modules as u64 >= count * 9 / 10, "only {modules} of {count} seeds made a module");
            assert!(stats.instantiated >= modules / 2, "too few modules instantiated: {stats:?}");
            assert!(stats.returned >= modules / 4, "too few calls returned: {stats:?}");
        })
        .unwrap()
        .join()
        .unwrap();
}
