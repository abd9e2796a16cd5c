// SPDX-License-Identifier: GPL-2.0

//! CommonWA, import module `cwa`.
//!
//! Semantics follow the CommonWA spec and the original Cervus where the spec
//! is silent (see `hostcalls/ABI.md`): errors are negative codes, -1 unknown,
//! -2 invalid argument, -3 permission denied, -4 not found, then Cervus's own
//! codes (`cervus_hostcalls::Errno`). Closing a resource that is not open is
//! fatal, as the spec says; every other bad argument returns a code.

mod resource;
mod url;

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::guest::Caller;
use cervus_hostcalls::Errno;

pub use resource::{Resource, Resources};
use url::Url;

use crate::guest_memory::{self, Claim};
use crate::hostcalls::Host;
use crate::instance::{HostState, OwnedFile};
use crate::ipc::IpcError;
use crate::platform::{Level, OpenFlags, Stdio, SysError};

/// The name `runtime_name` reports.
const RUNTIME_NAME: &[u8] = b"cervus";

/// Maps a system error to a CommonWA code.
pub(crate) fn errno(e: SysError) -> Errno {
    match e {
        SysError::EACCES | SysError::EPERM | SysError::EROFS => Errno::PermissionDenied,
        SysError::ENOENT | SysError::ENOTDIR => Errno::NotFound,
        SysError::EINVAL | SysError::EISDIR | SysError::EBADF | SysError::ENAMETOOLONG | SysError::ELOOP => {
            Errno::InvalidArgument
        }
        SysError::EAGAIN => Errno::WouldBlock,
        SysError::ENOMEM => Errno::NoMemory,
        e if e.is_interruption() => Errno::Interrupted,
        _ => Errno::Io,
    }
}

type HostResult<T> = Result<T, wasmi::Error>;

impl Host {
    pub(crate) fn runtime_spec_major(_: &mut Caller<'_>) -> HostResult<i32> {
        Ok(0)
    }

    pub(crate) fn runtime_spec_minor(_: &mut Caller<'_>) -> HostResult<i32> {
        Ok(0)
    }

    pub(crate) fn runtime_name(caller: &mut Caller<'_>, ptr: i32, len: i32) -> HostResult<i32> {
        if usize::try_from(len).map_or(true, |l| l < RUNTIME_NAME.len()) {
            return Ok(Errno::InvalidArgument.code());
        }
        Ok(match guest_memory::write_bytes(caller, ptr, RUNTIME_NAME) {
            Ok(()) => RUNTIME_NAME.len() as i32,
            Err(e) => e.code(),
        })
    }

    pub(crate) fn runtime_msleep(caller: &mut Caller<'_>, ms: i32) -> HostResult<()> {
        let ns = u64::from(ms.max(0) as u32) * 1_000_000;
        caller.data().sleep(ns)?;
        Ok(())
    }

    pub(crate) fn log_write(caller: &mut Caller<'_>, level: i32, ptr: i32, len: i32) -> HostResult<()> {
        let Ok(text) = guest_memory::copy_out(caller, Claim::new(ptr, len), 1024) else { return Ok(()) };
        let level = match level {
            1 => Level::Error,
            3 => Level::Warning,
            _ => Level::Info,
        };
        let text = core::str::from_utf8(&text).unwrap_or("<not UTF-8>");
        caller.data_mut().log(level, format_args!("{text}"));
        Ok(())
    }

    pub(crate) fn env_get(
        caller: &mut Caller<'_>,
        key_ptr: i32,
        key_len: i32,
        value_ptr: i32,
        value_len: i32,
    ) -> HostResult<i32> {
        let key = match guest_memory::copy_out(caller, Claim::new(key_ptr, key_len), 4096) {
            Ok(k) => k,
            Err(e) => return Ok(e.code()),
        };
        let value = caller.data().env.iter().find_map(|entry| {
            let (k, v) = entry.split_once('=')?;
            (k.as_bytes() == key.as_slice()).then(|| Box::<[u8]>::from(v.as_bytes()))
        });
        let Some(value) = value else { return Ok(Errno::NotFound.code()) };
        if usize::try_from(value_len).map_or(true, |l| l < value.len()) {
            // Too small: nothing is written, the needed size is returned.
            return Ok(value.len() as i32);
        }
        Ok(match guest_memory::write_bytes(caller, value_ptr, &value) {
            Ok(()) => value.len() as i32,
            Err(e) => e.code(),
        })
    }

    pub(crate) fn startup_arg_len(caller: &mut Caller<'_>) -> HostResult<i32> {
        Ok(caller.data().args.len() as i32)
    }

    pub(crate) fn startup_arg_at(caller: &mut Caller<'_>, index: i32, ptr: i32, len: i32) -> HostResult<i32> {
        let Some(arg) = usize::try_from(index).ok().and_then(|i| caller.data().args.get(i)).cloned() else {
            return Ok(Errno::InvalidArgument.code());
        };
        let Ok(len) = usize::try_from(len) else { return Ok(Errno::InvalidArgument.code()) };
        let n = arg.len().min(len);
        Ok(match guest_memory::write_bytes(caller, ptr, &arg.as_bytes()[..n]) {
            Ok(()) => n as i32,
            Err(e) => e.code(),
        })
    }

    pub(crate) fn resource_open(caller: &mut Caller<'_>, url_ptr: i32, url_len: i32) -> HostResult<i32> {
        let url = match guest_memory::copy_out(caller, Claim::new(url_ptr, url_len), 4096) {
            Ok(u) => u,
            Err(e) => return Ok(e.code()),
        };
        let Some(url) = core::str::from_utf8(&url).ok().and_then(Url::parse) else {
            return Ok(Errno::InvalidArgument.code());
        };
        let state = caller.data_mut();
        if !state.may_open_file() {
            return Ok(Errno::QuotaExceeded.code());
        }
        let resource = match open(state, &url) {
            Ok(r) => r,
            Err(e) => return Ok(e.code()),
        };
        Ok(state.resources.insert(resource))
    }

    pub(crate) fn resource_read(caller: &mut Caller<'_>, id: i32, ptr: i32, len: i32) -> HostResult<i32> {
        let (memory, state) = match guest_memory::memory_and_state(caller) {
            Ok(m) => m,
            Err(e) => return Ok(e.code()),
        };
        let buf = match guest_memory::write(memory, Claim::new(ptr, len)) {
            Ok(b) => b,
            Err(e) => return Ok(e.code()),
        };
        let platform = state.platform;
        loop {
            let Some(resource) = state.resources.get_mut(id) else { return Ok(Errno::InvalidArgument.code()) };
            let n = match resource {
                Resource::Null | Resource::Log { .. } => 0,
                Resource::Zero => {
                    buf.fill(0);
                    buf.len()
                }
                Resource::Random => {
                    platform.random(buf);
                    buf.len()
                }
                Resource::File(file) => match platform.read(file.handle(), buf, None) {
                    Ok(n) => n,
                    Err(e) if e.is_interruption() => {
                        state.check_stop()?;
                        return Ok(Errno::Interrupted.code());
                    }
                    Err(e) => return Ok(errno(e).code()),
                },
                Resource::Broadcast(endpoint) => match endpoint.try_recv(buf) {
                    Some(n) => n,
                    None => {
                        state.wait_a_little()?;
                        continue;
                    }
                },
            };
            return Ok(n.min(i32::MAX as usize) as i32);
        }
    }

    pub(crate) fn resource_write(caller: &mut Caller<'_>, id: i32, ptr: i32, len: i32) -> HostResult<i32> {
        let (memory, state) = match guest_memory::memory_and_state(caller) {
            Ok(m) => m,
            Err(e) => return Ok(e.code()),
        };
        let bytes = match guest_memory::read(memory, Claim::new(ptr, len)) {
            Ok(b) => b,
            Err(e) => return Ok(e.code()),
        };
        let platform = state.platform;
        let Some(resource) = state.resources.get_mut(id) else { return Ok(Errno::InvalidArgument.code()) };
        let n = match resource {
            Resource::Null | Resource::Zero | Resource::Random => bytes.len(),
            Resource::Log { .. } => {
                if let Some((prefix, lines)) = resource.log_lines(bytes) {
                    for line in lines {
                        log_line(state, &prefix, &line);
                    }
                }
                bytes.len()
            }
            Resource::File(file) => match platform.write(file.handle(), bytes, None) {
                Ok(n) => n,
                Err(e) if e.is_interruption() => {
                    state.check_stop()?;
                    return Ok(Errno::Interrupted.code());
                }
                Err(e) => return Ok(errno(e).code()),
            },
            Resource::Broadcast(endpoint) => match endpoint.send(bytes) {
                Ok(_) => bytes.len(),
                Err(IpcError::TooLarge) => return Ok(Errno::InvalidArgument.code()),
                Err(_) => return Ok(Errno::Unknown.code()),
            },
        };
        Ok(n.min(i32::MAX as usize) as i32)
    }

    pub(crate) fn resource_close(caller: &mut Caller<'_>, id: i32) -> HostResult<()> {
        let state = caller.data_mut();
        let Some(mut resource) = state.resources.remove(id) else {
            return Err(wasmi::Error::new(alloc::format!("resource_close: resource {id} is not open")));
        };
        if let Some((prefix, line)) = resource.take_partial_line() {
            log_line(state, &prefix, &line);
        }
        Ok(())
    }

    pub(crate) fn resource_flush(caller: &mut Caller<'_>, id: i32) -> HostResult<i32> {
        let state = caller.data_mut();
        let Some(resource) = state.resources.get_mut(id) else { return Ok(Errno::InvalidArgument.code()) };
        if let Some((prefix, line)) = resource.take_partial_line() {
            log_line(state, &prefix, &line);
        }
        Ok(0)
    }

    pub(crate) fn random_i32(caller: &mut Caller<'_>) -> HostResult<i32> {
        let mut b = [0u8; 4];
        caller.data().platform.random(&mut b);
        Ok(i32::from_le_bytes(b))
    }

    pub(crate) fn random_i64(caller: &mut Caller<'_>) -> HostResult<i64> {
        let mut b = [0u8; 8];
        caller.data().platform.random(&mut b);
        Ok(i64::from_le_bytes(b))
    }

    pub(crate) fn io_get_stdin(caller: &mut Caller<'_>) -> HostResult<i32> {
        Ok(open_stdio(caller.data_mut(), Stdio::Stdin))
    }

    pub(crate) fn io_get_stdout(caller: &mut Caller<'_>) -> HostResult<i32> {
        Ok(open_stdio(caller.data_mut(), Stdio::Stdout))
    }

    pub(crate) fn io_get_stderr(caller: &mut Caller<'_>) -> HostResult<i32> {
        Ok(open_stdio(caller.data_mut(), Stdio::Stderr))
    }
}

fn open_stdio(state: &mut HostState, stdio: Stdio) -> i32 {
    if !state.may_open_file() {
        return Errno::QuotaExceeded.code();
    }
    match state.platform.stdio(stdio) {
        Some(file) => {
            let file = OwnedFile::new(state.platform, file);
            state.resources.insert(Resource::File(file))
        }
        None => Errno::NotFound.code(),
    }
}

fn log_line(state: &mut HostState, prefix: &str, line: &[u8]) {
    let text = core::str::from_utf8(line).unwrap_or("<not UTF-8>");
    if prefix.is_empty() {
        state.log(Level::Info, format_args!("{text}"));
    } else {
        state.log(Level::Info, format_args!("{prefix}: {text}"));
    }
}

/// Opens the resource `url` names.
fn open(state: &HostState, url: &Url<'_>) -> Result<Resource, Errno> {
    let platform = state.platform;
    match url.scheme {
        "null" => Ok(Resource::Null),
        "zero" => Ok(Resource::Zero),
        "random" => Ok(Resource::Random),
        "log" => Ok(Resource::Log { prefix: url.param("prefix").unwrap_or("").into(), line: Vec::new() }),
        "file" => {
            let (read, write, append, create, truncate) = match url.param("mode").unwrap_or("r") {
                "r" => (true, false, false, false, false),
                "w" => (false, true, false, true, true),
                "a" => (false, true, true, true, false),
                "rw" => (true, true, false, false, false),
                _ => return Err(Errno::InvalidArgument),
            };
            if url.path.is_empty() {
                return Err(Errno::InvalidArgument);
            }
            let flags = OpenFlags { read, write, append, create, truncate, ..OpenFlags::default() };
            let file = platform.open(url.path, flags).map_err(errno)?;
            Ok(Resource::File(OwnedFile::new(platform, file)))
        }
        "ipc-broadcast" => match state.broadcasts.join(url.path) {
            Ok(endpoint) => Ok(Resource::Broadcast(endpoint)),
            Err(IpcError::BadName) => Err(Errno::InvalidArgument),
            Err(_) => Err(Errno::QuotaExceeded),
        },
        _ => Err(Errno::NotFound),
    }
}
