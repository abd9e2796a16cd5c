// SPDX-License-Identifier: GPL-2.0

//! Assembles the hand-written test modules: `wat2wasm IN.wat OUT.wasm`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: wat2wasm IN.wat OUT.wasm");
        std::process::exit(2);
    };
    match wat::parse_file(input) {
        Ok(wasm) => std::fs::write(output, wasm).expect("cannot write the output"),
        Err(e) => {
            eprintln!("{input}: {e}");
            std::process::exit(1);
        }
    }
}
