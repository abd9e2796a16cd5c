// SPDX-License-Identifier: GPL-2.0

//! What the system asks a driver to handle, the export that handles it, and
//! what the system call gets back.

use cervus_hostcalls::Errno;
use wasmi::Val;

use super::device::UserBuf;
use super::instance::Export;
use crate::platform::SysError;

/// Something the system asks a driver to handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Interrupts on `vector`: `count` coalesced, INTx `status`.
    Irq {
        /// The vector.
        vector: u32,
        /// What the host read from the INTx status register.
        status: u32,
        /// Hard interrupts coalesced.
        count: u32,
    },
    /// Timer `id` fired.
    Timer(u32),
    /// `/dev/NAME` was opened; the file's id.
    ChrOpen(u32),
    /// A file was closed.
    ChrRelease(u32),
    /// `read(2)`: file, the caller's buffer, file offset.
    ChrRead(u32, UserBuf, i64),
    /// `write(2)`: file, the caller's buffer, file offset.
    ChrWrite(u32, UserBuf, i64),
    /// `ioctl(2)`: file, command, the argument buffer.
    ChrIoctl(u32, u32, UserBuf),
    /// The network interface was brought up.
    NetOpen,
    /// The network interface was brought down.
    NetStop,
    /// Frames are queued for transmission.
    NetTx,
}

/// How an event becomes a call.
pub(crate) struct Call {
    pub(crate) export: Export,
    pub(crate) params: [Val; 3],
    pub(crate) count: usize,
    /// The caller's buffer, for character-device calls.
    pub(crate) user: Option<UserBuf>,
}

impl Event {
    /// Whether it is a character-device call (counted as such).
    pub(crate) fn is_chr(self) -> bool {
        matches!(
            self,
            Event::ChrOpen(_) | Event::ChrRelease(_) | Event::ChrRead(..) | Event::ChrWrite(..) | Event::ChrIoctl(..)
        )
    }

    /// The export and its arguments.
    pub(crate) fn call(self) -> Call {
        let i = |v: u32| Val::I32(v as i32);
        let len = |b: UserBuf| Val::I32(b.len.min(i32::MAX as usize) as i32);
        let (export, params, count, user) = match self {
            Event::Irq { vector, status, count } => (Export::Irq, [i(vector), i(status), i(count)], 3, None),
            Event::Timer(id) => (Export::Timer, [i(id), i(0), i(0)], 1, None),
            Event::ChrOpen(file) => (Export::ChrOpen, [i(file), i(0), i(0)], 1, None),
            Event::ChrRelease(file) => (Export::ChrRelease, [i(file), i(0), i(0)], 1, None),
            Event::ChrRead(file, buf, offset) => (Export::ChrRead, [i(file), len(buf), Val::I64(offset)], 3, Some(buf)),
            Event::ChrWrite(file, buf, offset) => {
                (Export::ChrWrite, [i(file), len(buf), Val::I64(offset)], 3, Some(buf))
            }
            Event::ChrIoctl(file, cmd, buf) => (Export::ChrIoctl, [i(file), i(cmd), len(buf)], 3, Some(buf)),
            Event::NetOpen => (Export::NetOpen, [i(0), i(0), i(0)], 0, None),
            Event::NetStop => (Export::NetStop, [i(0), i(0), i(0)], 0, None),
            Event::NetTx => (Export::NetTx, [i(0), i(0), i(0)], 0, None),
        };
        Call { export, params, count, user }
    }

    /// What the system call gets for the driver's answer: the count or a
    /// Linux errno. Exports a driver does not have answer as if they
    /// refused (`EINVAL`, or `ENOTTY` for ioctls), except `open`, which
    /// succeeds; events without a system call get 0.
    pub(crate) fn answer(self, value: Option<i32>) -> Result<i64, SysError> {
        let ioctl = matches!(self, Event::ChrIoctl(..));
        let len = match self {
            Event::ChrRead(_, buf, _) | Event::ChrWrite(_, buf, _) => Some(buf.len),
            Event::ChrOpen(_) | Event::ChrIoctl(..) => None,
            Event::Irq { .. }
            | Event::Timer(_)
            | Event::ChrRelease(_)
            | Event::NetOpen
            | Event::NetStop
            | Event::NetTx => {
                return Ok(0);
            }
        };
        match value {
            None if matches!(self, Event::ChrOpen(_)) => Ok(0),
            None => Err(if ioctl { SysError::ENOTTY } else { SysError::EINVAL }),
            Some(v) if v < 0 => Err(errno(v, ioctl)),
            // A driver claiming more bytes than the call had is broken.
            Some(v) if len.is_some_and(|len| v as usize > len) => Err(SysError::EIO),
            Some(_) if matches!(self, Event::ChrOpen(_)) => Ok(0),
            Some(v) => Ok(i64::from(v)),
        }
    }
}

/// The Linux errno for a driver's error code.
fn errno(code: i32, ioctl: bool) -> SysError {
    match Errno::from_code(code) {
        Some(Errno::WouldBlock) => SysError::EAGAIN,
        Some(Errno::Unsupported) if ioctl => SysError::ENOTTY,
        Some(Errno::InvalidArgument | Errno::Misaligned | Errno::Unsupported) => SysError::EINVAL,
        Some(Errno::PermissionDenied) => SysError::EPERM,
        Some(Errno::NotFound) => SysError::ENOENT,
        Some(Errno::BadPointer) => SysError::EFAULT,
        Some(Errno::BadHandle) => SysError::EBADF,
        Some(Errno::OutOfBounds) => SysError::ERANGE,
        Some(Errno::QuotaExceeded) => SysError::EDQUOT,
        Some(Errno::NoMemory) => SysError::ENOMEM,
        Some(Errno::Interrupted) => SysError::EINTR,
        Some(Errno::Io | Errno::Unknown) | None => SysError::EIO,
    }
}
