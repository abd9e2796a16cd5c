// SPDX-License-Identifier: MIT OR Apache-2.0

//! Waits up to 2 s for standard input with `poll_oneoff` (a clock and an
//! fd_read subscription), and prints which fired; then sleeps 100 ms with
//! `std::thread::sleep` and checks the monotonic clock moved at least that.

use std::time::{Duration, Instant};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn poll_oneoff(subs: *const u8, events: *mut u8, count: u32, nevents: *mut u32) -> u16;
}

fn main() {
    let mut subs = [0u8; 96];
    // Subscription 0: the monotonic clock, 2 s from now.
    subs[0..8].copy_from_slice(&1u64.to_le_bytes());
    subs[8] = 0;
    subs[16..20].copy_from_slice(&1u32.to_le_bytes());
    subs[24..32].copy_from_slice(&2_000_000_000u64.to_le_bytes());
    // Subscription 1: standard input readable.
    subs[48..56].copy_from_slice(&2u64.to_le_bytes());
    subs[56] = 1;
    subs[64..68].copy_from_slice(&0u32.to_le_bytes());
    let mut events = [0u8; 64];
    let mut n = 0u32;
    // SAFETY: the buffers have room for 2 subscriptions and 2 events.
    let errno = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2, &mut n) };
    assert_eq!(errno, 0, "poll_oneoff failed");
    let first = u64::from_le_bytes(events[0..8].try_into().unwrap());
    println!("{}", if first == 2 { "stdin is readable" } else { "timed out" });
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(100));
    println!("slept at least 100 ms: {}", start.elapsed() >= Duration::from_millis(100));
}
