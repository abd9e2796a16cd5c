// SPDX-License-Identifier: GPL-2.0

//! Import module `cervus`: available to every instance.

use crate::guest::Caller;
use cervus_hostcalls::Errno;

use super::Host;
use crate::guest_memory::{self, Claim};
use crate::platform::{Level, Stdio};

/// Most bytes of a driver's output logged per call.
const DRIVER_OUTPUT_MAX: usize = 512;

impl Host {
    pub(crate) fn stdio_write(caller: &mut Caller<'_>, stream: i32, ptr: i32, len: i32) -> Result<i32, wasmi::Error> {
        let stream = match stream {
            1 => Stdio::Stdout,
            2 => Stdio::Stderr,
            _ => return Ok(Errno::InvalidArgument.code()),
        };
        if caller.data().driver.is_some() {
            return Ok(Self::driver_output(caller, stream, ptr, len));
        }
        let state = caller.data();
        let (platform, file) = (state.platform, state.stdio(stream));
        let written = guest_memory::with_bytes(caller, Claim::new(ptr, len), |bytes| match file {
            None => Err(Errno::InvalidArgument),
            Some(file) => platform.write(file, bytes, None).map_err(crate::cwa::errno),
        });
        Ok(match written {
            // At most `len` bytes, so it fits.
            Ok(Ok(n)) => n as i32,
            Ok(Err(e)) | Err(e) => e.code(),
        })
    }

    /// Drivers have no standard streams: what they print (a panic message,
    /// say) goes to the kernel log, line by line, rate-limited.
    fn driver_output(caller: &mut Caller<'_>, stream: Stdio, ptr: i32, len: i32) -> i32 {
        let len = len.min(DRIVER_OUTPUT_MAX as i32);
        let text = match guest_memory::copy_out(caller, Claim::new(ptr, len), DRIVER_OUTPUT_MAX) {
            Ok(t) => t,
            Err(e) => return e.code(),
        };
        let level = if stream == Stdio::Stderr { Level::Warning } else { Level::Info };
        let text = core::str::from_utf8(&text).unwrap_or("<not UTF-8>");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            caller.data_mut().log(level, format_args!("{line}"));
        }
        len
    }
}
