// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-echo ARGS...`: prints its arguments, like echo(1).
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};
use std::io::Write;

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let Ok(mut out) = Resource::stdout() else { return 1 };
    let args: Vec<String> = cwa::args().into_iter().skip(1).collect();
    match writeln!(out, "{}", args.join(" ")) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
