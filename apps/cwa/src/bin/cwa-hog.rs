// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-hog COUNT`: tries to hold COUNT resources open at once; prints how
//! many it got and the error that stopped it, exits 0 only if it got all.
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};
use std::io::Write;

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let count: usize = cwa::args().get(1).and_then(|c| c.parse().ok()).unwrap_or(10_000);
    let Ok(mut out) = Resource::stdout() else { return 1 };
    let mut held = Vec::new();
    let mut error = None;
    for _ in 0..count {
        match Resource::open("zero://") {
            Ok(r) => held.push(r),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let _ = writeln!(out, "opened {} of {count}: {}", held.len(), error.map_or("no error", |e| e.describe()));
    drop(held);
    // Every resource was closed: opening works again.
    let reopened = Resource::open("zero://").is_ok();
    let _ = writeln!(out, "after closing: {}", if reopened { "open works" } else { "open fails" });
    if error.is_none() { 0 } else { 3 }
}
