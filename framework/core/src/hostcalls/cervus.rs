// SPDX-License-Identifier: GPL-2.0

//! Import module `cervus`: available to every instance.

use cervus_hostcalls::Errno;
use wasmi::Caller;

use super::Host;
use crate::guest_memory::{self, Claim};
use crate::instance::HostState;
use crate::platform::Stdio;

impl Host {
    pub(crate) fn stdio_write(
        caller: &mut Caller<'_, HostState>,
        stream: i32,
        ptr: i32,
        len: i32,
    ) -> Result<i32, wasmi::Error> {
        let stream = match stream {
            1 => Stdio::Stdout,
            2 => Stdio::Stderr,
            _ => return Ok(Errno::InvalidArgument.code()),
        };
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
}
