// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-env KEY...`: prints `KEY=VALUE` for each variable that is set and
//! `KEY is not set` for the others; exits 1 if any was missing.
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};
use std::io::Write;

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let Ok(mut out) = Resource::stdout() else { return 1 };
    let mut status = 0;
    for key in cwa::args().into_iter().skip(1) {
        let line = match cwa::env(&key) {
            Some(value) => format!("{key}={value}"),
            None => {
                status = 1;
                format!("{key} is not set")
            }
        };
        if writeln!(out, "{line}").is_err() {
            return 1;
        }
    }
    status
}
