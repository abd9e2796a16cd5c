// SPDX-License-Identifier: GPL-2.0

//! The network-interface hostcalls of `cervus_drv`.
//!
//! Frames never pass through the driver's linear memory: received frames
//! are copied by the host from the driver's DMA buffer straight into socket
//! buffers, and frames to send are copied from socket buffers straight into
//! the DMA buffer the driver names. Every (handle, offset, length) is checked
//! against the driver's buffers before any frame moves.

use alloc::vec::Vec;

use crate::guest::Caller;
use cervus_hostcalls::Errno;
use cervus_hostcalls::driver::{FrameOp, MAX_FRAMES};

use super::caps::{check_range, dma_of, driver, sys};
use super::device::DmaBuffer;
use crate::guest_memory::{self, Claim};
use crate::hostcalls::Host;
use crate::platform::{Clock, Level};

type HostResult<T> = Result<T, wasmi::Error>;

/// Shortest Ethernet frame the host accepts (a header).
const MIN_FRAME: usize = 14;
/// Longest: a 9000-byte MTU plus the header and a VLAN tag.
const MAX_FRAME: usize = 9000 + 18;

/// Whether `pattern` is a valid interface name pattern: 1-15 bytes of
/// letters, digits, `-`, `_` and `.`, with at most one `%d`.
pub(crate) fn valid_pattern(pattern: &[u8]) -> bool {
    let rest = match pattern.windows(2).position(|w| w == b"%d") {
        Some(at) => [&pattern[..at], &pattern[at + 2..]].concat(),
        None => pattern.to_vec(),
    };
    (1..=15).contains(&pattern.len())
        && !rest.contains(&b'%')
        && rest.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether `mac` is a usable unicast address.
pub(crate) fn valid_mac(mac: [u8; 6]) -> bool {
    mac != [0; 6] && mac[0] & 1 == 0
}

/// Reads and checks `count` frame ops at `ptr`: each must name a DMA buffer
/// of the driver and a range inside it of a plausible frame length
/// (`netdev_rx`) or slot capacity (`netdev_tx`).
fn frame_ops(caller: &mut Caller<'_>, ptr: i32, count: i32, tx: bool) -> Result<Vec<(FrameOp, DmaBuffer)>, Errno> {
    let count = usize::try_from(count).ok().filter(|c| *c <= MAX_FRAMES).ok_or(Errno::InvalidArgument)?;
    let len = i32::try_from(count * FrameOp::SIZE).map_err(|_| Errno::InvalidArgument)?;
    let raw = guest_memory::copy_out(caller, Claim::new(ptr, len), MAX_FRAMES * FrameOp::SIZE)?;
    let d = driver(caller)?;
    if d.netdev.is_none() {
        return Err(Errno::NotFound);
    }
    let mut ops = Vec::with_capacity(count);
    for chunk in raw.chunks_exact(FrameOp::SIZE) {
        let op = FrameOp::decode(chunk.try_into().map_err(|_| Errno::InvalidArgument)?);
        let buffer = dma_of(d, op.dma)?;
        let offset = i64::try_from(op.offset).map_err(|_| Errno::OutOfBounds)?;
        let len = i32::try_from(op.len).map_err(|_| Errno::InvalidArgument)?;
        check_range(offset, len, buffer.size)?;
        let plausible =
            if tx { op.len as usize >= MIN_FRAME } else { (MIN_FRAME..=MAX_FRAME).contains(&(op.len as usize)) };
        if !plausible {
            return Err(Errno::InvalidArgument);
        }
        ops.push((op, buffer));
    }
    Ok(ops)
}

/// Records that the driver moved `frames` frames now; at the first frames
/// of a swapped-in instance, logs the frame gap of the swap (from its
/// predecessor's last frame to its own first) and its parts.
fn frames_moved(caller: &mut Caller<'_>, frames: i32) {
    let platform = caller.data().platform;
    let now = platform.now(Clock::Monotonic);
    let Ok(d) = driver(caller) else { return };
    d.last_frame_ns = now;
    // Frames moved while the new version started (before the device
    // resumed) do not end the gap.
    if let Some(swap) = d.swapped_in.filter(|s| s.resumed != 0) {
        d.swapped_in = None;
        if swap.last_frame == 0 {
            return;
        }
        let us = |from: u64, to: u64| to.saturating_sub(from) / 1000;
        let name = &caller.data().name;
        platform.log(
            Level::Info,
            format_args!(
                "driver {name}: first frames after the swap ({frames}) {} us after the previous version's last \
                 (last frame to pause {} us, pause to resume {} us, resume to first frame {} us)",
                us(swap.last_frame, now),
                us(swap.last_frame, swap.paused),
                us(swap.paused, swap.resumed),
                us(swap.resumed, now),
            ),
        );
    }
}

impl Host {
    pub(crate) fn netdev_register(
        caller: &mut Caller<'_>,
        name_ptr: i32,
        name_len: i32,
        mac_ptr: i32,
        mtu: i32,
    ) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let pattern = guest_memory::copy_out(caller, Claim::new(name_ptr, name_len), 15)?;
            if !valid_pattern(&pattern) {
                return Err(Errno::InvalidArgument);
            }
            let pattern = core::str::from_utf8(&pattern).map_err(|_| Errno::InvalidArgument)?;
            let mac: [u8; 6] = guest_memory::copy_out(caller, Claim::new(mac_ptr, 6), 6)?
                .try_into()
                .map_err(|_| Errno::InvalidArgument)?;
            let mtu = u32::try_from(mtu).ok().filter(|m| (68..=9000).contains(m)).ok_or(Errno::InvalidArgument)?;
            if !valid_mac(mac) {
                return Err(Errno::InvalidArgument);
            }
            let d = driver(caller)?;
            if d.netdev.is_some() {
                return Err(Errno::WouldBlock);
            }
            let name = platform.devices().netdev_register(d.device, pattern, mac, mtu).map_err(sys)?;
            d.netdev = Some(name);
            Ok(())
        })();
        Ok(result.map_or_else(Errno::code, |()| 0))
    }

    pub(crate) fn netdev_carrier(caller: &mut Caller<'_>, up: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = driver(caller).and_then(|d| {
            if d.netdev.is_none() {
                return Err(Errno::NotFound);
            }
            platform.devices().netdev_carrier(d.device, up != 0);
            Ok(())
        });
        Ok(result.map_or_else(Errno::code, |()| 0))
    }

    pub(crate) fn netdev_rx(caller: &mut Caller<'_>, ops_ptr: i32, count: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let ops = frame_ops(caller, ops_ptr, count, false)?;
            let d = driver(caller)?;
            let devices = platform.devices();
            let mut delivered = 0;
            let mut result = Ok(());
            for (op, buffer) in &ops {
                match devices.netdev_rx(d.device, buffer.id, op.offset as usize, op.len as usize) {
                    Ok(true) => delivered += 1,
                    Ok(false) => {}
                    Err(e) => {
                        result = Err(sys(e));
                        break;
                    }
                }
            }
            // The frames queued so far go up the stack even if a later op
            // failed: they are the driver's, and its buffers are reusable.
            devices.netdev_rx_flush(d.device);
            d.counters.rx_frames += delivered as u64;
            result.map(|()| delivered)
        })();
        if let Ok(n @ 1..) = result {
            frames_moved(caller, n);
        }
        Ok(result.unwrap_or_else(Errno::code))
    }

    pub(crate) fn netdev_tx(caller: &mut Caller<'_>, ops_ptr: i32, count: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let ops = frame_ops(caller, ops_ptr, count, true)?;
            let d = driver(caller)?;
            let mut out = Vec::with_capacity(ops.len() * FrameOp::SIZE);
            let (mut taken, mut empty) = (0, false);
            for (mut op, buffer) in ops {
                let frame = if empty {
                    None
                } else {
                    platform
                        .devices()
                        .netdev_tx(d.device, buffer.id, op.offset as usize, op.len as usize)
                        .map_err(sys)?
                };
                match frame {
                    Some(len) => {
                        op.len = len as u32;
                        taken += 1;
                    }
                    None => {
                        op.len = 0;
                        empty = true;
                    }
                }
                out.extend_from_slice(&op.encode());
            }
            d.counters.tx_frames += taken as u64;
            guest_memory::write_bytes(caller, ops_ptr, &out)?;
            Ok(taken)
        })();
        if let Ok(n @ 1..) = result {
            frames_moved(caller, n);
        }
        Ok(result.unwrap_or_else(Errno::code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_name_patterns() {
        assert!(valid_pattern(b"eth%d"));
        assert!(valid_pattern(b"wasmnet0"));
        assert!(valid_pattern(b"vn.%d"));
        assert!(!valid_pattern(b""));
        assert!(!valid_pattern(b"eth%d%d"));
        assert!(!valid_pattern(b"eth%s"));
        assert!(!valid_pattern(b"a/b"));
        assert!(!valid_pattern(b"0123456789abcdef"));
    }

    #[test]
    fn macs() {
        assert!(valid_mac([0x52, 0x54, 0, 0, 0, 0x10]));
        assert!(!valid_mac([0; 6]));
        assert!(!valid_mac([0x01, 0, 0x5e, 0, 0, 1]), "multicast");
    }
}
