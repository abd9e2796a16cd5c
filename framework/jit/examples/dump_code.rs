// SPDX-License-Identifier: GPL-2.0

//! Compiles a wasm file with the JIT and writes its code image to OUT.bin
//! and the offset of each function to OUT.funcs (one "index offset" per
//! line), for reading the generated code with
//! `objdump -D -b binary -m i386:x86-64 --start-address=...`.
//!
//! `cargo run --release -p cervus-jit --example dump_code -- FILE.wasm OUT`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wasm, out] = args.as_slice() else {
        eprintln!("usage: dump_code FILE.wasm OUT");
        std::process::exit(2);
    };
    let bytes = std::fs::read(wasm).unwrap_or_else(|e| panic!("{wasm}: {e}"));
    let module = cervus_jit::compile(&bytes).unwrap_or_else(|e| panic!("{wasm}: {e}"));
    std::fs::write(format!("{out}.bin"), &module.code).expect("cannot write the image");
    let funcs: String = module.funcs.iter().enumerate().map(|(i, o)| format!("{i} {o:#x}\n")).collect();
    std::fs::write(format!("{out}.funcs"), funcs).expect("cannot write the offsets");
}
