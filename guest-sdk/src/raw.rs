// SPDX-License-Identifier: MIT OR Apache-2.0

//! Raw hostcall imports, declared from `cervus_hostcalls::foreach_hostcall!`.
//!
//! Calling these is `unsafe` only in the FFI sense; the host checks every
//! argument. Prefer the safe wrappers elsewhere in this crate.

macro_rules! declare_imports {
    ($( $(#[$meta:meta])* $module:literal fn $name:ident ($($arg:ident : $ty:ident),* $(,)?) $(-> $ret:ident)? ; )*) => {
        $(
            #[link(wasm_import_module = $module)]
            unsafe extern "C" {
                $(#[$meta])*
                pub fn $name($($arg: $ty),*) $(-> $ret)?;
            }
        )*
    };
}

cervus_hostcalls::foreach_hostcall!(declare_imports);
