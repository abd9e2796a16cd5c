// SPDX-License-Identifier: GPL-2.0

//! The state handoff hostcalls of `cervus_drv`: what one version of a
//! driver saves for the next during a hot swap.

use crate::guest::Caller;
use cervus_hostcalls::Errno;
use cervus_hostcalls::driver::MAX_STATE;

use super::caps::driver;
use crate::guest_memory::{self, Claim};
use crate::hostcalls::Host;

type HostResult<T> = Result<T, wasmi::Error>;

impl Host {
    pub(crate) fn state_save(caller: &mut Caller<'_>, ptr: i32, len: i32) -> HostResult<i32> {
        let result = (|| {
            if usize::try_from(len).is_ok_and(|l| l > MAX_STATE) {
                return Err(Errno::QuotaExceeded);
            }
            let bytes = guest_memory::copy_out(caller, Claim::new(ptr, len), MAX_STATE)?;
            driver(caller)?.saved = Some(bytes);
            Ok(())
        })();
        Ok(result.map_or_else(Errno::code, |()| 0))
    }

    pub(crate) fn state_keep_device(caller: &mut Caller<'_>) -> HostResult<i32> {
        let result = driver(caller).and_then(|d| {
            if !d.saving {
                return Err(Errno::InvalidArgument);
            }
            d.keep_device = true;
            Ok(())
        });
        Ok(result.map_or_else(Errno::code, |()| 0))
    }

    pub(crate) fn state_len(caller: &mut Caller<'_>) -> HostResult<i32> {
        let result = driver(caller).and_then(|d| d.restore.as_ref().map(|s| s.len() as i32).ok_or(Errno::NotFound));
        Ok(result.unwrap_or_else(Errno::code))
    }

    pub(crate) fn state_restore(caller: &mut Caller<'_>, ptr: i32, len: i32) -> HostResult<i32> {
        let result = (|| {
            let state = driver(caller)?.restore.clone().ok_or(Errno::NotFound)?;
            let n = usize::try_from(len).map_err(|_| Errno::InvalidArgument)?.min(state.len());
            guest_memory::write_bytes(caller, ptr, &state[..n])?;
            Ok(n as i32)
        })();
        Ok(result.unwrap_or_else(Errno::code))
    }
}
