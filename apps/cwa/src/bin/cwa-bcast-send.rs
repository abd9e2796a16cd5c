// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-bcast-send NAME COUNT [DELAY_MS]`: joins `ipc-broadcast://NAME` and
//! sends `COUNT` messages `message N`, then `end`.
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let args = cwa::args();
    let (Some(name), Some(count)) = (args.get(1), args.get(2).and_then(|c| c.parse::<u32>().ok())) else {
        cwa::log(cwa::LogLevel::Error, "usage: cwa-bcast-send NAME COUNT [DELAY_MS]");
        return 2;
    };
    let delay: u32 = args.get(3).and_then(|d| d.parse().ok()).unwrap_or(0);
    let Ok(mut channel) = Resource::open(&format!("ipc-broadcast://{name}")) else { return 1 };
    for i in 0..count {
        if channel.write_all(format!("message {i}").as_bytes()).is_err() {
            return 1;
        }
        if delay > 0 {
            cwa::msleep(delay);
        }
    }
    if channel.write_all(b"end").is_err() {
        return 1;
    }
    0
}
