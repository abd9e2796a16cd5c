// SPDX-License-Identifier: MIT OR Apache-2.0

//! `copy SRC DST`: copies a file, reporting the byte count.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: copy SRC DST");
        std::process::exit(2);
    }
    match std::fs::copy(&args[1], &args[2]) {
        Ok(n) => println!("copied {n} bytes"),
        Err(e) => {
            eprintln!("copy: {e}");
            std::process::exit(1);
        }
    }
}
