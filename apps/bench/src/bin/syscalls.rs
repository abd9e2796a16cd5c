// SPDX-License-Identifier: MIT OR Apache-2.0

//! Syscall-heavy benchmark: COUNT (default 1000000) unbuffered 16-byte
//! reads from standard input and as many writes to standard output. Run
//! with `< /dev/zero > /dev/null`; prints the time taken on standard error.

use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::time::Instant;

#[cfg(unix)]
use std::os::unix::io::FromRawFd;
#[cfg(target_os = "wasi")]
use std::os::wasi::io::FromRawFd;

fn main() {
    let count: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    // SAFETY: descriptors 0 and 1 are open for the whole run; ManuallyDrop
    // keeps them from being closed.
    let (mut input, mut output) =
        unsafe { (ManuallyDrop::new(File::from_raw_fd(0)), ManuallyDrop::new(File::from_raw_fd(1))) };
    let mut buf = [0u8; 16];
    let start = Instant::now();
    for _ in 0..count {
        input.read_exact(&mut buf).expect("read");
        output.write_all(&buf).expect("write");
    }
    let ms = start.elapsed().as_secs_f64() * 1e3;
    eprintln!("syscalls {count} reads + {count} writes: loop_ms {ms:.1}");
}
