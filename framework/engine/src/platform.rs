// SPDX-License-Identifier: GPL-2.0

//! The core's [`Platform`], implemented with the glue's host services.

use cervus_core::{HeapStats, InstanceId, Level, Platform, Stdio};
use cervus_hostcalls::Errno;

use crate::host::{self, LogLevel};
use crate::{heap, supervisor};

/// The kernel, as seen by the core.
pub struct KernelPlatform;

/// The one platform instance.
pub static PLATFORM: KernelPlatform = KernelPlatform;

/// Maps a negative kernel errno to a hostcall error.
fn errno(e: isize) -> Errno {
    const EPERM: isize = 1;
    const EINTR: isize = 4;
    const EBADF: isize = 9;
    const EAGAIN: isize = 11;
    const ENOMEM: isize = 12;
    const EACCES: isize = 13;
    const EFAULT: isize = 14;
    const EINVAL: isize = 22;
    const ERESTARTSYS: isize = 512;
    match -e {
        EINTR | ERESTARTSYS => Errno::Interrupted,
        EAGAIN => Errno::WouldBlock,
        ENOMEM => Errno::NoMemory,
        EPERM | EACCES => Errno::PermissionDenied,
        EFAULT => Errno::BadPointer,
        EBADF | EINVAL => Errno::InvalidArgument,
        _ => Errno::Io,
    }
}

impl Platform for KernelPlatform {
    fn stdio_write(&self, stream: Stdio, bytes: &[u8]) -> Result<usize, Errno> {
        match host::stdio_write(stream as u32, bytes) {
            n if n >= 0 => Ok(n as usize),
            e => Err(errno(e)),
        }
    }

    fn interrupted(&self) -> bool {
        host::signal_pending()
    }

    fn yield_now(&self) {
        host::yield_now()
    }

    fn log(&self, level: Level, args: core::fmt::Arguments<'_>) {
        let level = match level {
            Level::Error => LogLevel::Error,
            Level::Warning => LogLevel::Warning,
            Level::Info => LogLevel::Info,
        };
        let mut line = heapless::String::<256>::new();
        supervisor::format_bounded(&mut line, args);
        host::log(level, &line);
    }

    fn heap_stats(&self) -> HeapStats {
        heap::stats()
    }

    fn set_running(&self, instance: Option<InstanceId>) {
        supervisor::set_running(instance)
    }
}
