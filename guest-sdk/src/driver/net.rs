// SPDX-License-Identifier: MIT OR Apache-2.0

//! The driver's Ethernet interface.
//!
//! Frames move between the network stack and the driver's DMA buffers
//! without passing through its linear memory: [`deliver`] hands received
//! frames (a DMA buffer, an offset, a length) to the stack, and [`take`]
//! copies frames queued for transmission into slots of a DMA buffer.

use super::DmaBuffer;
use crate::{Errno, check, raw};

pub use cervus_hostcalls::driver::{FrameOp, MAX_FRAMES};

/// Registers the interface: a name pattern such as `eth%d`, the MAC
/// address and the MTU. The interface belongs to the device: after a hot
/// swap, registering again with the same MAC re-attaches it.
pub fn register(pattern: &str, mac: [u8; 6], mtu: u32) -> Result<(), Errno> {
    // SAFETY: the host reads `len` bytes of `pattern` and 6 of `mac`.
    check(unsafe {
        raw::netdev_register(pattern.as_ptr() as i32, pattern.len() as i32, mac.as_ptr() as i32, mtu as i32)
    })
    .map(drop)
}

/// Reports the link up or down.
pub fn set_carrier(up: bool) -> Result<(), Errno> {
    // SAFETY: plain value.
    check(unsafe { raw::netdev_carrier(i32::from(up)) }).map(drop)
}

/// A frame in a DMA buffer.
pub fn frame(buffer: &DmaBuffer, offset: usize, len: usize) -> FrameOp {
    FrameOp { dma: buffer.handle(), len: len as u32, offset: offset as u64 }
}

/// Hands received frames to the stack; returns how many were delivered
/// (frames received while the interface is down are dropped).
pub fn deliver(frames: &[FrameOp]) -> Result<usize, Errno> {
    let mut raw_ops = [[0u8; FrameOp::SIZE]; 64];
    let mut delivered = 0;
    for chunk in frames.chunks(raw_ops.len()) {
        for (r, f) in raw_ops.iter_mut().zip(chunk) {
            *r = f.encode();
        }
        delivered += deliver_encoded(&raw_ops[..chunk.len()])?;
    }
    Ok(delivered)
}

/// [`deliver`] for frames already encoded ([`FrameOp::encode`]): for
/// drivers that build them directly, without the intermediate values.
pub fn deliver_encoded(ops: &[[u8; FrameOp::SIZE]]) -> Result<usize, Errno> {
    let mut delivered = 0;
    for chunk in ops.chunks(MAX_FRAMES) {
        // SAFETY: the host reads `len` ops inside `chunk`.
        delivered += check(unsafe { raw::netdev_rx(chunk.as_ptr() as i32, chunk.len() as i32) })? as usize;
    }
    Ok(delivered)
}

/// Fills the slots described by `slots` (a DMA buffer, an offset, a
/// capacity) with frames queued for transmission, in order, setting each
/// taken slot's `len` to its frame's length; returns how many were taken.
pub fn take(slots: &mut [FrameOp]) -> Result<usize, Errno> {
    let mut raw_ops = [[0u8; FrameOp::SIZE]; 64];
    let mut taken = 0;
    for chunk in slots.chunks_mut(raw_ops.len()) {
        for (r, f) in raw_ops.iter_mut().zip(chunk.iter()) {
            *r = f.encode();
        }
        let n = take_encoded(&mut raw_ops[..chunk.len()])?;
        for (r, f) in raw_ops[..n].iter().zip(chunk.iter_mut()) {
            *f = FrameOp::decode(r);
        }
        taken += n;
        if n < chunk.len() {
            break;
        }
    }
    Ok(taken)
}

/// [`take`] for slots already encoded; the lengths of the taken ones are
/// written back in place (bytes 4-7, little-endian).
pub fn take_encoded(ops: &mut [[u8; FrameOp::SIZE]]) -> Result<usize, Errno> {
    let mut taken = 0;
    for chunk in ops.chunks_mut(MAX_FRAMES) {
        // SAFETY: the host reads and writes `len` ops inside `chunk`.
        let n = check(unsafe { raw::netdev_tx(chunk.as_mut_ptr() as i32, chunk.len() as i32) })? as usize;
        taken += n;
        if n < chunk.len() {
            break;
        }
    }
    Ok(taken)
}
