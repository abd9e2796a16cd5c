// SPDX-License-Identifier: MIT OR Apache-2.0

//! The caller's standard output and standard error.

use crate::{Errno, check, raw};

/// One of the caller's standard streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout = 1,
    /// Standard error.
    Stderr = 2,
}

impl Stream {
    /// Writes some of `bytes`, returning how many were written.
    pub fn write(self, bytes: &[u8]) -> Result<usize, Errno> {
        let len = i32::try_from(bytes.len()).map_err(|_| Errno::InvalidArgument)?;
        // SAFETY: the host reads at most `len` bytes at `ptr` and checks the
        // range against linear memory; `bytes` is such a range.
        let ret = unsafe { raw::stdio_write(self as i32, bytes.as_ptr() as i32, len) };
        check(ret).map(|n| n as usize)
    }

    /// Writes all of `bytes`.
    pub fn write_all(self, mut bytes: &[u8]) -> Result<(), Errno> {
        while !bytes.is_empty() {
            let n = self.write(bytes)?;
            if n == 0 {
                return Err(Errno::Io);
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

impl core::fmt::Write for Stream {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// Prints to the caller's standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::io::Stream::Stdout, format_args!($($arg)*));
    }};
}

/// Prints a line to the caller's standard output.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        $crate::print!($($arg)*);
        $crate::print!("\n");
    }};
}

/// Prints a line to the caller's standard error.
#[macro_export]
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::io::Stream::Stderr, format_args!($($arg)*));
        let _ = $crate::io::Stream::Stderr.write_all(b"\n");
    }};
}
