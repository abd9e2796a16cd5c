// SPDX-License-Identifier: GPL-2.0

//! What the core needs from the system it runs in.

use cervus_hostcalls::Errno;
use core::fmt;

use crate::registry::InstanceId;

/// One of the calling process's standard streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// File descriptor 0.
    Stdin = 0,
    /// File descriptor 1.
    Stdout = 1,
    /// File descriptor 2.
    Stderr = 2,
}

/// Log severity, mapped to the kernel's log levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `KERN_ERR`.
    Error,
    /// `KERN_WARNING`.
    Warning,
    /// `KERN_INFO`.
    Info,
}

/// The engine's use of the system allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes held.
    pub bytes: u64,
    /// Allocations held.
    pub allocations: u64,
}

/// Services of the system the core runs in.
///
/// In the kernel, every method acts on behalf of the task that is calling
/// into the engine (the process blocked in the ioctl).
pub trait Platform: Sync {
    /// Writes to one of the calling process's standard streams.
    fn stdio_write(&self, stream: Stdio, bytes: &[u8]) -> Result<usize, Errno>;

    /// Whether a signal is pending for the calling process.
    fn interrupted(&self) -> bool;

    /// Gives other tasks a chance to run (between execution slices).
    fn yield_now(&self);

    /// Writes a line to the system log.
    fn log(&self, level: Level, args: fmt::Arguments<'_>);

    /// The allocator counters.
    fn heap_stats(&self) -> HeapStats;

    /// Records which instance the calling task is executing, so that a fault
    /// (an engine panic) can be pinned on it. `None` when it stops.
    fn set_running(&self, instance: Option<InstanceId>);
}
