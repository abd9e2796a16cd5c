// SPDX-License-Identifier: MIT OR Apache-2.0

//! Handing state from one version of a driver to the next (hot swap).
//!
//! During a swap the old version's [`Driver::save`](super::Driver::save)
//! runs; it calls [`save`] with a version number and its state. The new
//! version's `probe` calls [`restore`] with the version it understands: it
//! gets the state, nothing (a first load, or an old version that saved
//! none), or an error for a state it cannot read, which it may ignore (and
//! start afresh) or return (the swap is then rolled back). State is
//! serialized with `postcard`, at most [`MAX_STATE`] bytes. A driver whose
//! state describes live queues may also hand the device over running
//! ([`keep_device`]), so the next version skips setting it up again.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Errno, check, raw};

/// Most bytes of state this module handles.
pub const MAX_STATE: usize = 4096;

/// Saves `state`, tagged with `version`, for the next version of the driver.
pub fn save<T: Serialize>(version: u32, state: &T) -> Result<(), Errno> {
    let mut buf = [0u8; MAX_STATE];
    let bytes = postcard::to_slice(&(version, state), &mut buf).map_err(|_| Errno::QuotaExceeded)?;
    // SAFETY: the host reads `len` bytes inside `buf`.
    check(unsafe { raw::state_save(bytes.as_ptr() as i32, bytes.len() as i32) }).map(drop)
}

/// From [`Driver::save`](super::Driver::save): hands the device to the next
/// version running, instead of stopping it (`remove` is then not called).
/// The DMA buffers pass to the next version under the same handles (save
/// them in the state; the next version takes them back with
/// [`DmaBuffer::adopt`](super::DmaBuffer::adopt)). If that version fails to
/// start, the host stops the device and frees them, and this version starts
/// again from its state on a stopped device: its `probe` must then find its
/// handles refused and set the device up afresh.
pub fn keep_device() -> Result<(), Errno> {
    // SAFETY: no arguments.
    check(unsafe { raw::state_keep_device() }).map(drop)
}

/// The state the previous version saved, if there is one. `Err` if it was
/// saved with another version or does not decode as `T`.
pub fn restore<T: DeserializeOwned>(version: u32) -> Result<Option<T>, Errno> {
    // SAFETY: no arguments.
    let len = unsafe { raw::state_len() };
    if len == Errno::NotFound.code() {
        return Ok(None);
    }
    let len = check(len)? as usize;
    let mut buf = [0u8; MAX_STATE];
    if len > buf.len() {
        return Err(Errno::QuotaExceeded);
    }
    // SAFETY: the host writes at most `len` bytes inside `buf`.
    let n = check(unsafe { raw::state_restore(buf.as_mut_ptr() as i32, len as i32) })? as usize;
    let (saved_version, state): (u32, T) = postcard::from_bytes(&buf[..n]).map_err(|_| Errno::InvalidArgument)?;
    if saved_version != version {
        return Err(Errno::InvalidArgument);
    }
    Ok(Some(state))
}
