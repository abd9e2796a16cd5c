// SPDX-License-Identifier: MIT OR Apache-2.0

//! CommonWA: resources by URL, startup arguments, environment, logging,
//! sleeping and random numbers.
//!
//! ```text
//! let mut out = Resource::stdout()?;
//! let mut file = Resource::open("file:///etc/hostname")?;
//! let mut buf = [0u8; 256];
//! let n = file.read(&mut buf)?;
//! out.write_all(&buf[..n])?;
//! ```
//!
//! URL schemes: `null://`, `zero://`, `random://`, `log://?prefix=P`,
//! `file://PATH[?mode=r|w|a|rw]` (opened with the caller's credentials) and
//! `ipc-broadcast://NAME` (see the `cervus-core` documentation of `ipc`).

use crate::{Errno, check, raw};

/// An open CommonWA resource; closed when dropped.
#[derive(Debug)]
pub struct Resource {
    id: i32,
}

impl Resource {
    /// Opens the resource `url` names.
    pub fn open(url: &str) -> Result<Self, Errno> {
        let len = i32::try_from(url.len()).map_err(|_| Errno::InvalidArgument)?;
        // SAFETY: the host reads `len` bytes at `ptr`, inside linear memory.
        let id = check(unsafe { raw::resource_open(url.as_ptr() as i32, len) })?;
        Ok(Resource { id: id as i32 })
    }

    fn from_id(ret: i32) -> Result<Self, Errno> {
        check(ret).map(|id| Resource { id: id as i32 })
    }

    /// The caller's standard input.
    pub fn stdin() -> Result<Self, Errno> {
        // SAFETY: no arguments.
        Self::from_id(unsafe { raw::io_get_stdin() })
    }

    /// The caller's standard output.
    pub fn stdout() -> Result<Self, Errno> {
        // SAFETY: no arguments.
        Self::from_id(unsafe { raw::io_get_stdout() })
    }

    /// The caller's standard error.
    pub fn stderr() -> Result<Self, Errno> {
        // SAFETY: no arguments.
        Self::from_id(unsafe { raw::io_get_stderr() })
    }

    /// Reads up to `buf.len()` bytes; 0 means the end of the data.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        // SAFETY: the host writes at most `len` bytes at `ptr`, inside `buf`.
        check(unsafe { raw::resource_read(self.id, buf.as_mut_ptr() as i32, len) }).map(|n| n as usize)
    }

    /// Writes some of `bytes`; returns how many.
    pub fn write(&mut self, bytes: &[u8]) -> Result<usize, Errno> {
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        // SAFETY: the host reads at most `len` bytes at `ptr`, inside `bytes`.
        check(unsafe { raw::resource_write(self.id, bytes.as_ptr() as i32, len) }).map(|n| n as usize)
    }

    /// Writes all of `bytes`.
    pub fn write_all(&mut self, mut bytes: &[u8]) -> Result<(), Errno> {
        while !bytes.is_empty() {
            match self.write(bytes)? {
                0 => return Err(Errno::Io),
                n => bytes = &bytes[n..],
            }
        }
        Ok(())
    }

    /// Flushes buffered output (a `log://` resource's partial line).
    pub fn flush(&mut self) -> Result<(), Errno> {
        // SAFETY: plain value.
        check(unsafe { raw::resource_flush(self.id) }).map(drop)
    }

    /// Copies everything readable from `self` to `to`; returns the byte count.
    pub fn copy_to(&mut self, to: &mut Resource) -> Result<u64, Errno> {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        loop {
            match self.read(&mut buf)? {
                0 => return Ok(total),
                n => {
                    to.write_all(&buf[..n])?;
                    total += n as u64;
                }
            }
        }
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        // SAFETY: `id` is open: only `Resource` holds it, and it is closed
        // exactly once, here.
        unsafe { raw::resource_close(self.id) }
    }
}

impl core::fmt::Write for Resource {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

#[cfg(feature = "std")]
impl std::io::Read for Resource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Resource::read(self, buf).map_err(io_error)
    }
}

#[cfg(feature = "std")]
impl std::io::Write for Resource {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Resource::write(self, buf).map_err(io_error)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Resource::flush(self).map_err(io_error)
    }
}

#[cfg(feature = "std")]
fn io_error(e: Errno) -> std::io::Error {
    std::io::Error::other(e.describe())
}

/// Log levels of [`log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// An error.
    Error = 1,
    /// A warning.
    Warning = 3,
    /// Information.
    Info = 6,
}

/// Writes a line to the kernel log, prefixed with the instance.
pub fn log(level: LogLevel, text: &str) {
    let len = i32::try_from(text.len()).unwrap_or(i32::MAX);
    // SAFETY: the host reads at most `len` bytes at `ptr`, inside `text`.
    unsafe { raw::log_write(level as i32, text.as_ptr() as i32, len) }
}

/// Sleeps for `ms` milliseconds.
pub fn msleep(ms: u32) {
    // SAFETY: plain value.
    unsafe { raw::runtime_msleep(ms.min(i32::MAX as u32) as i32) }
}

/// A random `u32` from the kernel's CSPRNG.
pub fn random_u32() -> u32 {
    // SAFETY: no arguments.
    unsafe { raw::random_i32() as u32 }
}

/// A random `u64` from the kernel's CSPRNG.
pub fn random_u64() -> u64 {
    // SAFETY: no arguments.
    unsafe { raw::random_i64() as u64 }
}

/// The number of startup arguments, the program name included.
pub fn arg_count() -> usize {
    // SAFETY: no arguments.
    unsafe { raw::startup_arg_len() }.max(0) as usize
}

/// Copies argument `index` into `buf`; returns its (possibly truncated) bytes.
pub fn arg_into(index: usize, buf: &mut [u8]) -> Option<&[u8]> {
    let index = i32::try_from(index).ok()?;
    let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: the host writes at most `len` bytes at `ptr`, inside `buf`.
    let n = check(unsafe { raw::startup_arg_at(index, buf.as_mut_ptr() as i32, len) }).ok()?;
    Some(&buf[..n as usize])
}

/// Copies the value of environment variable `key` into `buf`: `Ok(Some(value))`,
/// `Ok(None)` if it is not set, or `Err(needed)` if `buf` is too small.
pub fn env_into<'b>(key: &str, buf: &'b mut [u8]) -> Result<Option<&'b [u8]>, usize> {
    let key_len = i32::try_from(key.len()).unwrap_or(i32::MAX);
    let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: the host reads the key inside `key` and writes at most `len`
    // bytes inside `buf`.
    let ret = unsafe { raw::env_get(key.as_ptr() as i32, key_len, buf.as_mut_ptr() as i32, len) };
    match check(ret) {
        Err(_) => Ok(None),
        Ok(n) if n as usize > buf.len() => Err(n as usize),
        Ok(n) => Ok(Some(&buf[..n as usize])),
    }
}

/// The startup arguments, the program name first.
#[cfg(feature = "alloc")]
pub fn args() -> alloc::vec::Vec<alloc::string::String> {
    let mut buf = alloc::vec![0u8; 4096];
    (0..arg_count())
        .filter_map(|i| arg_into(i, &mut buf).map(|a| alloc::string::String::from_utf8_lossy(a).into_owned()))
        .collect()
}

/// The value of environment variable `key`, if set.
#[cfg(feature = "alloc")]
pub fn env(key: &str) -> Option<alloc::string::String> {
    let mut buf = alloc::vec![0u8; 64];
    loop {
        match env_into(key, &mut buf) {
            Ok(value) => return value.map(|v| alloc::string::String::from_utf8_lossy(v).into_owned()),
            Err(needed) => buf.resize(needed, 0),
        }
    }
}

/// Exports `fn() -> i32` as CommonWA's entry point, `__app_main`; the value
/// returned becomes the exit status. Under `std`, panics are reported on
/// standard error before the instance traps.
#[macro_export]
macro_rules! cwa_main {
    ($main:path) => {
        #[unsafe(export_name = "__app_main")]
        pub extern "C" fn __cervus_cwa_main() -> i32 {
            $crate::cwa::__install_panic_hook();
            let main: fn() -> i32 = $main;
            main()
        }
    };
}

#[doc(hidden)]
pub fn __install_panic_hook() {
    #[cfg(feature = "std")]
    std::panic::set_hook(std::boxed::Box::new(|info| {
        use core::fmt::Write;
        if let Ok(mut err) = Resource::stderr() {
            let _ = writeln!(err, "{info}");
        }
    }));
}
