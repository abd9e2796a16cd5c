// SPDX-License-Identifier: GPL-2.0

//! Compiles each wasm file given on the command line with the JIT and
//! prints its size, the best of five compile times, and the time per KiB
//! of wasm. Used by `qemu-tests/bench/jit-compile` on the repo's modules;
//! fails if any of them does not compile.
//!
//! `cargo run --release -p cervus-jit --example compile_time -- FILE.wasm...`

use std::time::Instant;

fn main() {
    let mut failed = false;
    let (mut total_kib, mut total_ms) = (0.0, 0.0);
    println!("{:<40} {:>9} {:>10} {:>10} {:>12} {:>6}", "module", "wasm KiB", "code KiB", "ms", "ms per KiB", "floats");
    for path in std::env::args().skip(1) {
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut best = f64::MAX;
        let mut code = 0;
        let mut floats = false;
        for _ in 0..5 {
            let start = Instant::now();
            match cervus_jit::compile(&wasm) {
                Ok(m) => (code, floats) = (m.code.len(), m.info.uses_floats),
                Err(e) => {
                    println!("{path}: not compiled: {e}");
                    failed = true;
                    break;
                }
            }
            best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        }
        if best == f64::MAX {
            continue;
        }
        let kib = wasm.len() as f64 / 1024.0;
        total_kib += kib;
        total_ms += best;
        let name = std::path::Path::new(&path).file_name().unwrap().to_string_lossy().into_owned();
        println!("{name:<40} {kib:>9.1} {:>10.1} {best:>10.2} {:>12.3} {floats:>6}", code as f64 / 1024.0, best / kib);
    }
    if total_kib > 0.0 {
        println!("{:<40} {total_kib:>9.1} {:>10} {total_ms:>10.2} {:>12.3}", "all", "", total_ms / total_kib);
    }
    if failed {
        std::process::exit(1);
    }
}
