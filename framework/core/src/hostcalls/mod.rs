// SPDX-License-Identifier: GPL-2.0

//! Host implementations of the hostcall list.
//!
//! [`register`] is generated from `cervus_hostcalls::foreach_hostcall!`: each
//! entry of the list becomes a linker entry calling the method of [`Host`]
//! with the same name and signature, so a hostcall that is listed but not
//! implemented (or implemented with another signature) does not compile.
//! The implementations live in one file per import module.
//!
//! A hostcall returns `Ok(negative errno)` for an error the guest can handle,
//! and `Err(_)` for a fault that kills the instance.

mod cervus;
mod cervus_test;

use wasmi::Linker;

use crate::run::HostState;

/// Namespace for the hostcall implementations.
pub(crate) struct Host;

/// Which import modules an instance may link against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `cervus_test`: fault injection, for the test suite only.
    pub test_hooks: bool,
}

impl Capabilities {
    fn allows(&self, module: &str) -> bool {
        match module {
            "cervus" => true,
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
        /// Adds every hostcall the capabilities allow to `linker`.
        pub(crate) fn register(linker: &mut Linker<HostState>, caps: Capabilities) -> Result<(), wasmi::Error> {
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

cervus_hostcalls::foreach_hostcall!(define_register);
