// SPDX-License-Identifier: MIT OR Apache-2.0

//! The driver's character device, `/dev/NAME`.

use crate::{Errno, check, raw};

/// An open file of the character device (the host's id for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub u32);

/// The caller's buffer during a `read`, `write` or `ioctl` call: the
/// driver copies out of it and into it through the host, which checks the
/// offsets and copies only within the caller's buffer.
#[derive(Debug)]
pub struct UserBuffer {
    len: usize,
}

impl UserBuffer {
    pub(crate) fn new(len: usize) -> Self {
        UserBuffer { len }
    }

    /// Its length (the `read`/`write` count, or the ioctl argument size).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies from the caller's buffer at `offset` into `dst`; returns the
    /// count.
    pub fn read(&mut self, offset: usize, dst: &mut [u8]) -> Result<usize, Errno> {
        // SAFETY: the host writes at most `len` bytes inside `dst`.
        check(unsafe { raw::user_read(offset as i32, dst.as_mut_ptr() as i32, dst.len() as i32) }).map(|n| n as usize)
    }

    /// Copies `src` to the caller's buffer at `offset`; returns the count.
    pub fn write(&mut self, offset: usize, src: &[u8]) -> Result<usize, Errno> {
        // SAFETY: the host reads `len` bytes inside `src`.
        check(unsafe { raw::user_write(offset as i32, src.as_ptr() as i32, src.len() as i32) }).map(|n| n as usize)
    }
}

/// The character device.
pub mod chrdev {
    use super::*;

    /// Registers `/dev/NAME` (letters, digits, `-`, `_`; one per driver).
    pub fn register(name: &str) -> Result<(), Errno> {
        // SAFETY: the host reads `len` bytes inside `name`.
        check(unsafe { raw::chrdev_register(name.as_ptr() as i32, name.len() as i32) }).map(drop)
    }

    /// Sets readiness (`POLL_IN`, `POLL_OUT`) and wakes waiting readers.
    pub fn set_ready(mask: i32) -> Result<(), Errno> {
        // SAFETY: plain value.
        check(unsafe { raw::chrdev_set_ready(mask) }).map(drop)
    }
}
