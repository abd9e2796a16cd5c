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
//! [`resolve`] is generated from the same lists for the JIT: it finds a
//! hostcall by import name and returns its signature and a function taking
//! the arguments and returning the result in 64-bit slots, as the JIT's
//! import stubs pass them.
//!
//! A hostcall returns `Ok(error code)` for an error the guest can handle, and
//! `Err(_)` for a fault or a stop that ends the instance.

mod cervus;
mod cervus_test;

use wasmi::Linker;

use wasmparser::ValType;

use crate::guest::Caller;
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
                            Host::$name(&mut caller as &mut crate::guest::Caller<'_>, $($arg),*)
                        },
                    )?;
                }
            )*
            Ok(())
        }
    };
}

/// A hostcall as the JIT calls it.
#[derive(Clone, Copy)]
pub(crate) struct Hostcall {
    /// Its parameter types.
    pub(crate) params: &'static [ValType],
    /// Its result types (none or one).
    pub(crate) results: &'static [ValType],
    /// Calls it: the arguments in the first slots, the result (if any)
    /// written to the first slot.
    pub(crate) call: fn(&mut Caller<'_>, &mut [u64]) -> Result<(), wasmi::Error>,
}

/// A hostcall parameter or result type, as a JIT slot holds it.
trait Slot: Sized {
    const TYPE: ValType;
    fn from_slot(slot: u64) -> Self;
    fn to_slot(self) -> u64;
}

impl Slot for i32 {
    const TYPE: ValType = ValType::I32;
    fn from_slot(slot: u64) -> Self {
        slot as u32 as i32
    }
    fn to_slot(self) -> u64 {
        u64::from(self as u32)
    }
}

impl Slot for i64 {
    const TYPE: ValType = ValType::I64;
    fn from_slot(slot: u64) -> Self {
        slot as i64
    }
    fn to_slot(self) -> u64 {
        self as u64
    }
}

macro_rules! define_resolve {
    ($( $(#[$meta:meta])* $module:literal fn $name:ident ($($arg:ident : $ty:ident),* $(,)?) $(-> $ret:ident)? ; )*) => {
        /// The hostcall `module`.`name` of this list, if the capabilities
        /// allow it.
        pub(super) fn resolve(module: &str, name: &str, caps: Capabilities) -> Option<Hostcall> {
            $(
                if module == $module && name == stringify!($name) && caps.allows($module) {
                    return Some(Hostcall {
                        params: &[$(<$ty as Slot>::TYPE),*],
                        results: &[$(<$ret as Slot>::TYPE)?],
                        call: |caller, values| {
                            let mut _args = values.iter().copied();
                            $(let $arg = <$ty as Slot>::from_slot(_args.next().unwrap_or(0));)*
                            let _result = Host::$name(caller, $($arg),*)?;
                            $(
                                if let Some(slot) = values.first_mut() {
                                    *slot = <$ret as Slot>::to_slot(_result);
                                }
                            )?
                            Ok(())
                        },
                    });
                }
            )*
            None
        }
    };
}

mod native {
    use super::*;
    cervus_hostcalls::foreach_hostcall!(define_register);
    cervus_hostcalls::foreach_hostcall!(define_resolve);
}

mod wasi {
    use super::*;
    cervus_hostcalls::foreach_wasi_hostcall!(define_register);
    cervus_hostcalls::foreach_wasi_hostcall!(define_resolve);
}

/// Adds every hostcall the capabilities allow to `linker`.
pub(crate) fn register(linker: &mut Linker<HostState>, caps: Capabilities) -> Result<(), wasmi::Error> {
    native::register(linker, caps)?;
    wasi::register(linker, caps)
}

/// The hostcall an import of `module`.`name` with this signature links to,
/// or why it links to none. Both engines check their imports with it, so
/// they refuse a module with the same message.
#[expect(clippy::result_large_err, reason = "messages are bounded inline strings, built without allocating")]
pub(crate) fn link(
    module: &str,
    name: &str,
    params: &[ValType],
    results: &[ValType],
    caps: Capabilities,
) -> Result<Hostcall, cervus_hostcalls::protocol::Message> {
    use cervus_hostcalls::message;
    let hostcall = resolve(module, name, caps).ok_or_else(|| message!("unknown import `{module}::{name}`"))?;
    if params != hostcall.params || results != hostcall.results {
        return Err(message!(
            "import `{module}::{name}` has type {params:?} -> {results:?}; the hostcall takes {:?} -> {:?}",
            hostcall.params,
            hostcall.results
        ));
    }
    Ok(hostcall)
}

/// The hostcall `module`.`name`, if it exists and the capabilities allow it.
fn resolve(module: &str, name: &str, caps: Capabilities) -> Option<Hostcall> {
    native::resolve(module, name, caps).or_else(|| wasi::resolve(module, name, caps))
}
