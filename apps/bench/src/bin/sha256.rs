// SPDX-License-Identifier: MIT OR Apache-2.0

//! CPU-bound benchmark: SHA-256 over MiB of generated data (default 16).
//! Prints the digest and the time spent hashing, in milliseconds. The hash
//! is the ABI crate's SHA-256, the same code natively and in wasm.

use std::time::Instant;

use cervus_hostcalls::sha256::sha256;

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(16);
    let mut data = vec![0u8; mib << 20];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    assert_eq!(
        sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let start = Instant::now();
    let digest = sha256(&data);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    println!("sha256 of {mib} MiB: {hex}");
    println!("hash_ms {ms:.1}");
}
