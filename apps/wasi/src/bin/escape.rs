// SPDX-License-Identifier: MIT OR Apache-2.0

//! `escape PATH...`: tries to read each file; prints `read PATH: first line`
//! or `blocked PATH: error`. Exits with the number of files it could read,
//! so that a test of escape attempts expects 0.

fn main() {
    let mut read = 0;
    for path in std::env::args().skip(1) {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                read += 1;
                println!("read {path}: {}", text.lines().next().unwrap_or(""));
            }
            Err(e) => println!("blocked {path}: {e}"),
        }
    }
    std::process::exit(read);
}
