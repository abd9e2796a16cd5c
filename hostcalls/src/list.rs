// SPDX-License-Identifier: MIT OR Apache-2.0

//! The hostcall list.

/// Invokes `$callback!` with every hostcall a wasm module may import.
///
/// This is the single source of truth for hostcall names and wasm
/// signatures. `cervus-core` expands it into its linker registration (each
/// entry must have a host implementation with exactly this signature) and
/// `cervus-guest` into its `extern` import declarations.
///
/// Each entry reads
///
/// ```text
/// /// docs
/// "import-module" fn name(arg: wasm_type, ...) -> wasm_type;
/// ```
///
/// where `wasm_type` is one of `i32`, `i64`, `f32`, `f64`, and the return
/// type may be omitted. Pointers are `i32` offsets into the guest's linear
/// memory; the host treats every (pointer, length) pair as a claim and checks
/// it against the memory on each use. Unless stated otherwise, a hostcall
/// that returns `i32` returns a non-negative value on success and a negative
/// [`Errno`](crate::Errno) code on failure.
///
/// Import modules, and who gets them:
/// - `cervus`: every instance. Basic output.
/// - `cervus_test`: only when the kernel module was loaded with
///   `test_hooks=1`. Fault injection for the test suite.
#[macro_export]
macro_rules! foreach_hostcall {
    ($callback:ident) => {
        $callback! {
            /// Writes `len` bytes at `ptr` to one of the caller's standard
            /// streams: `stream` 1 is standard output, 2 is standard error.
            ///
            /// Returns the number of bytes written (possibly short), or
            /// `InvalidArgument` (bad stream or negative length), `BadPointer`
            /// (the bytes are not all inside linear memory), `Interrupted`
            /// (a signal arrived before anything was written) or `Io`.
            "cervus" fn stdio_write(stream: i32, ptr: i32, len: i32) -> i32;

            /// Panics inside the engine, on purpose. Tests use it to check
            /// that an engine panic kills only the instance that caused it.
            "cervus_test" fn engine_panic();
        }
    };
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::{string::String, vec::Vec};

    macro_rules! collect {
        ($( $(#[$meta:meta])* $module:literal fn $name:ident ($($arg:ident : $ty:ident),* $(,)?) $(-> $ret:ident)? ; )*) => {
            [$( ($module, stringify!($name), { let params: &[&str] = &[$(stringify!($ty)),*]; params.join(",") }, String::from(concat!($(stringify!($ret))?))) ),*]
        };
    }

    #[test]
    fn names_are_unique_and_types_are_wasm_types() {
        let list = foreach_hostcall!(collect);
        let mut seen = Vec::new();
        for (module, name, params, ret) in list.iter() {
            assert!(!seen.contains(&(module, name)), "duplicate {module}.{name}");
            seen.push((module, name));
            for ty in params.split(',').filter(|t| !t.is_empty()).chain(Some(ret.as_str()).filter(|r| !r.is_empty())) {
                assert!(["i32", "i64", "f32", "f64"].contains(&ty), "{module}.{name}: {ty} is not a wasm type");
            }
        }
    }
}
