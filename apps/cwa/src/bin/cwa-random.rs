// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-random [N]`: prints N (default 4) random u32s from `random_i32`,
//! then N random bytes from `random://`, in hex.
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};
use std::io::Write;

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let n: usize = cwa::args().get(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let Ok(mut out) = Resource::stdout() else { return 1 };
    let numbers: Vec<String> = (0..n).map(|_| format!("{:08x}", cwa::random_u32())).collect();
    let mut bytes = vec![0u8; n];
    if Resource::open("random://").and_then(|mut r| r.read(&mut bytes)).is_err() {
        return 1;
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match writeln!(out, "{}\n{hex}", numbers.join(" ")) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
