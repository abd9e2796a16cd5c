// SPDX-License-Identifier: MIT OR Apache-2.0

//! Sleeping, timers and logging.

use core::fmt::Write;

use crate::{Errno, check, raw};

/// Sleeps `us` microseconds (at most one second).
pub fn sleep_us(us: u32) -> Result<(), Errno> {
    // SAFETY: plain value; the host checks it.
    check(unsafe { raw::sleep_us(i64::from(us)) }).map(drop)
}

/// Monotonic time in nanoseconds.
pub fn now_ns() -> u64 {
    // SAFETY: no arguments.
    unsafe { raw::now_ns() as u64 }
}

/// Timer `id` (0-7): `Driver::timer(id)` runs when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer(pub u8);

impl Timer {
    /// Fires after `delay_us`, then every `period_us` if it is not 0.
    pub fn start(self, delay_us: u64, period_us: u64) -> Result<(), Errno> {
        // SAFETY: plain values; the host checks them.
        check(unsafe { raw::timer_start(i32::from(self.0), delay_us as i64, period_us as i64) }).map(drop)
    }

    /// Disarms it.
    pub fn stop(self) -> Result<(), Errno> {
        // SAFETY: plain value; the host checks it.
        check(unsafe { raw::timer_stop(i32::from(self.0)) }).map(drop)
    }
}

/// Logs a line at kernel level `level` (3 error, 4 warning, 6 info); the
/// host prefixes the driver's name and rate-limits.
pub fn log_line(level: i32, args: core::fmt::Arguments<'_>) {
    struct Line {
        buf: [u8; 256],
        len: usize,
    }
    impl Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut line = Line { buf: [0; 256], len: 0 };
    let _ = line.write_fmt(args);
    // SAFETY: the host reads `len` bytes inside `line.buf`.
    unsafe { raw::log(level, line.buf.as_ptr() as i32, line.len as i32) };
}

/// Logs a formatted line at info level.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::driver::log_line(6, format_args!($($arg)*)) };
}

/// Logs a formatted line at warning level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::driver::log_line(4, format_args!($($arg)*)) };
}
