// SPDX-License-Identifier: GPL-2.0

//! Host implementations of the hostcall lists.
//!
//! [`register`] is generated from `cervus_hostcalls::foreach_hostcall!` and
//! `foreach_wasi_hostcall!`: each entry becomes a linker entry calling the
//! method of [`Host`] with the same name and signature, so a hostcall that is
//! listed but not implemented (or implemented with another signature) does
//! not compile. The implementations live with their ABI: `cervus.rs`,
//! `cervus_test.rs`, `crate::cwa`, `crate::wasi`.
//!
//! A hostcall returns `Ok(error code)` for an error the guest can handle, and
//! `Err(_)` for a fault or a stop that ends the instance.

mod cervus;
mod cervus_test;

use wasmi::Linker;

use crate::instance::HostState;

/// Namespace for the hostcall implementations.
pub(crate) struct Host;

/// Which import modules an instance may link against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `cwa` and `wasi_snapshot_preview1`: the app ABIs.
    pub apps: bool,
    /// `cervus_drv`: device capabilities.
    pub drivers: bool,
    /// `cervus_test`: fault injection, for the test suite only.
    pub test_hooks: bool,
}

impl Capabilities {
    fn allows(&self, module: &str) -> bool {
        match module {
            "cervus" => true,
            "cwa" | "wasi_snapshot_preview1" => self.apps,
            "cervus_drv" => self.drivers,
            "cervus_test" => self.test_hooks,
            _ => false,
        }
    }
}

macro_rules! ret_type {
    () => {
        ()
    };
    ($ret:ident) => {
        $ret
    };
}

macro_rules! define_register {
    ($( $(#[$meta:meta])* $module:literal fn $name:ident ($($arg:ident : $ty:ident),* $(,)?) $(-> $ret:ident)? ; )*) => {
        /// Adds every hostcall of this list the capabilities allow.
        pub(super) fn register(linker: &mut Linker<HostState>, caps: Capabilities) -> Result<(), wasmi::Error> {
            $(
                if caps.allows($module) {
                    linker.func_wrap(
                        $module,
                        stringify!($name),
                        |mut caller: wasmi::Caller<'_, HostState>, $($arg: $ty),*| -> Result<ret_type!($($ret)?), wasmi::Error> {
                            Host::$name(&mut caller, $($arg),*)
                        },
                    )?;
                }
            )*
            Ok(())
        }
    };
}

mod native {
    use super::*;
    cervus_hostcalls::foreach_hostcall!(define_register);
}

mod wasi {
    use super::*;
    cervus_hostcalls::foreach_wasi_hostcall!(define_register);
}

/// Adds every hostcall the capabilities allow to `linker`.
pub(crate) fn register(linker: &mut Linker<HostState>, caps: Capabilities) -> Result<(), wasmi::Error> {
    native::register(linker, caps)?;
    wasi::register(linker, caps)
}
