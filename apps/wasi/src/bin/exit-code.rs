// SPDX-License-Identifier: MIT OR Apache-2.0

//! `exit-code N`: exits with status N through `std::process::exit`.

fn main() {
    let code: i32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    println!("exiting with {code}");
    std::process::exit(code);
}
