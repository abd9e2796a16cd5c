// SPDX-License-Identifier: MIT OR Apache-2.0

//! `cwa-cat URL...`: copies each resource to standard output (standard
//! input if no URL is given), like cat(1).
#![no_main]
#![forbid(unsafe_code)]

use cervus_guest::cwa::{self, Resource};
use std::io::Write;

cervus_guest::cwa_main!(main);

fn main() -> i32 {
    let Ok(mut out) = Resource::stdout() else { return 1 };
    let urls: Vec<String> = cwa::args().into_iter().skip(1).collect();
    if urls.is_empty() {
        return match Resource::stdin().and_then(|mut input| input.copy_to(&mut out)) {
            Ok(_) => 0,
            Err(_) => 1,
        };
    }
    let mut status = 0;
    for url in &urls {
        let copied = Resource::open(url).and_then(|mut r| r.copy_to(&mut out));
        if let Err(e) = copied {
            if let Ok(mut err) = Resource::stderr() {
                let _ = writeln!(err, "cwa-cat: {url}: {}", e.describe());
            }
            status = 1;
        }
    }
    status
}
