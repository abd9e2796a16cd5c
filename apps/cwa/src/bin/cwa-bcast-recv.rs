// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-bcast-recv NAME`: joins `ipc-broadcast://NAME`, prints `ready`, then
//! prints each message it receives until `end`.
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};
use std::io::Write;

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let args = cwa::args();
    let Some(name) = args.get(1) else { return 2 };
    let (Ok(mut out), Ok(mut channel)) = (Resource::stdout(), Resource::open(&format!("ipc-broadcast://{name}")))
    else {
        return 1;
    };
    if writeln!(out, "ready").is_err() {
        return 1;
    }
    let mut buf = [0u8; 256];
    loop {
        let n = match channel.read(&mut buf) {
            Ok(n) => n,
            Err(_) => return 1,
        };
        let message = String::from_utf8_lossy(&buf[..n]);
        if message == "end" {
            return 0;
        }
        if writeln!(out, "{message}").is_err() {
            return 1;
        }
    }
}
