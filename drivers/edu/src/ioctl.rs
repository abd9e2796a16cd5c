// SPDX-License-Identifier: MIT OR Apache-2.0

//! `/dev/edu` ioctl commands, encoded like Linux's `_IOR`/`_IOW`/`_IOWR`
//! with type `'E'`.

const WRITE: u32 = 1;
const READ: u32 = 2;

const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((b'E' as u32) << 8) | nr
}

/// Bytes in a DMA round trip: the size of the device's buffer.
pub const DMA_LEN: usize = super::regs::DMA_DEVICE_BUFFER_SIZE;

/// `_IOWR('E', 1, [u8; 4096])`: sends the buffer to the device by DMA and
/// back into a second DMA buffer, which is returned in place.
pub const DMA_ROUND_TRIP: u32 = ioc(READ | WRITE, 1, DMA_LEN);
/// `_IOR('E', 2, [u64; 6])`: the driver's counters, see [`Stats`](crate::Stats).
pub const STATS: u32 = ioc(READ, 2, 48);
/// `_IOW('E', 3, u32)`: raises an interrupt with these status bits.
pub const RAISE: u32 = ioc(WRITE, 3, 4);
/// `_IOWR('E', 4, u32)`: writes the liveness register and returns what it
/// reads (the inverse).
pub const LIVENESS: u32 = ioc(READ | WRITE, 4, 4);
