// SPDX-License-Identifier: MIT OR Apache-2.0

//! What the driver needs from its device, as a trait: the wasm build
//! implements it with the host's capabilities (`glue.rs`), the host tests
//! with a fake virtio-net device (`fake.rs`).

use core::fmt;

pub use cervus_guest::Errno;

/// The driver's DMA buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buf {
    /// The receive queue's descriptor table, available and used rings.
    RxRing,
    /// The transmit queue's.
    TxRing,
    /// Receive slots.
    RxPool,
    /// Transmit slots.
    TxPool,
}

/// A memory barrier between the driver's and the device's view of DMA
/// memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Barrier {
    /// Loads before, loads and stores after.
    Read,
    /// Stores before, stores after.
    Write,
    /// Everything.
    Full,
}

/// A frame in a DMA buffer: the buffer, the offset, the length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Which buffer.
    pub buf: Buf,
    /// Where in it.
    pub offset: usize,
    /// The frame's length (for [`Hw::take`]: the slot's capacity in, the
    /// frame's length out).
    pub len: usize,
}

/// The device, as the driver uses it. Every call may fail with an error
/// from the host; none can crash anything.
pub trait Hw {
    /// Reads a byte of PCI configuration space.
    fn config_read8(&self, offset: u16) -> Result<u8, Errno>;
    /// Reads a 32-bit word of PCI configuration space.
    fn config_read32(&self, offset: u16) -> Result<u32, Errno>;
    /// Reads `width` bytes at `offset` of memory BAR `bar`.
    fn read(&self, bar: u8, offset: u32, width: u8) -> Result<u64, Errno>;
    /// Writes `width` bytes at `offset` of memory BAR `bar`.
    fn write(&self, bar: u8, offset: u32, width: u8, value: u64) -> Result<(), Errno>;
    /// Copies from a DMA buffer.
    fn dma_read(&self, buf: Buf, offset: usize, dst: &mut [u8]) -> Result<(), Errno>;
    /// Copies into a DMA buffer.
    fn dma_write(&self, buf: Buf, offset: usize, src: &[u8]) -> Result<(), Errno>;
    /// The device's address of a DMA buffer.
    fn bus_addr(&self, buf: Buf) -> u64;
    /// A DMA memory barrier.
    fn barrier(&self, kind: Barrier);
    /// Sleeps (for waiting on a device reset).
    fn sleep_us(&self, us: u32);
    /// Hands received frames to the network stack; how many it took.
    fn deliver(&self, frames: &[Frame]) -> Result<usize, Errno>;
    /// Fills slots with frames queued for transmission (setting their
    /// lengths); how many.
    fn take(&self, slots: &mut [Frame]) -> Result<usize, Errno>;
    /// Reports the link state.
    fn set_carrier(&self, up: bool);
    /// Logs a warning.
    fn warn(&self, args: fmt::Arguments<'_>);
}
