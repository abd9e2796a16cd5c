// SPDX-License-Identifier: MIT OR Apache-2.0

//! DMA buffers: memory the device reads and writes by bus address.

use crate::{Errno, check, raw};

/// A coherent DMA buffer; released when dropped (the host keeps its memory
/// until the device can no longer reach it).
#[derive(Debug)]
pub struct DmaBuffer {
    handle: i32,
    bus_addr: u64,
    size: usize,
}

impl DmaBuffer {
    /// Declares the device's DMA addressing limit in bits (before any
    /// allocation).
    pub fn set_mask(bits: u8) -> Result<(), Errno> {
        // SAFETY: plain value; the host checks it.
        check(unsafe { raw::dma_set_mask(i32::from(bits)) }).map(drop)
    }

    /// Allocates at least `size` bytes.
    pub fn alloc(size: usize) -> Result<Self, Errno> {
        // SAFETY: plain value; the host checks it.
        let handle = check(unsafe { raw::dma_alloc(size as i64) })? as i32;
        // SAFETY: as above.
        let (bus_addr, size) = unsafe { (raw::dma_bus_addr(handle), raw::dma_size(handle)) };
        if bus_addr < 0 || size < 0 {
            return Err(Errno::Io);
        }
        Ok(DmaBuffer { handle, bus_addr: bus_addr as u64, size: size as usize })
    }

    /// Takes back a buffer the previous version of the driver handed over
    /// with the device ([`handoff::keep_device`](super::handoff::keep_device)),
    /// by its handle. `BadHandle` if this instance holds no such buffer,
    /// `InvalidArgument` if it is not `size` bytes.
    pub fn adopt(handle: i32, size: usize) -> Result<Self, Errno> {
        // SAFETY: plain value; the host checks it.
        let found = unsafe { raw::dma_size(handle) };
        if found < 0 {
            return Err(Errno::from_code(found as i32).unwrap_or(Errno::Io));
        }
        // SAFETY: as above.
        let bus_addr = unsafe { raw::dma_bus_addr(handle) };
        if bus_addr < 0 {
            return Err(Errno::from_code(bus_addr as i32).unwrap_or(Errno::Io));
        }
        let buffer = DmaBuffer { handle, bus_addr: bus_addr as u64, size: found as usize };
        if buffer.size != size {
            // Not ours to keep either: dropping it frees it.
            return Err(Errno::InvalidArgument);
        }
        Ok(buffer)
    }

    /// The host's handle for it (for [`FrameOp`](super::net::FrameOp)s).
    pub fn handle(&self) -> i32 {
        self.handle
    }

    /// The address the device uses.
    pub fn bus_addr(&self) -> u64 {
        self.bus_addr
    }

    /// Its size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Copies `bytes` into the buffer at `offset`.
    pub fn write(&self, offset: usize, bytes: &[u8]) -> Result<(), Errno> {
        // SAFETY: the host reads `len` bytes inside `bytes`.
        check(unsafe { raw::dma_write(self.handle, offset as i64, bytes.as_ptr() as i32, bytes.len() as i32) })
            .map(drop)
    }

    /// Copies from the buffer at `offset` into `bytes`.
    pub fn read(&self, offset: usize, bytes: &mut [u8]) -> Result<(), Errno> {
        // SAFETY: the host writes `len` bytes inside `bytes`.
        check(unsafe { raw::dma_read(self.handle, offset as i64, bytes.as_mut_ptr() as i32, bytes.len() as i32) })
            .map(drop)
    }

    /// Orders the driver's accesses to DMA memory before the device's
    /// (`write_barrier`), after them (`read_barrier`), or both.
    pub fn barrier() {
        // SAFETY: plain value.
        unsafe { raw::dma_barrier(0) };
    }

    /// A write barrier: buffer contents before, doorbell after.
    pub fn write_barrier() {
        // SAFETY: plain value.
        unsafe { raw::dma_barrier(2) };
    }

    /// A read barrier: index read before, contents after.
    pub fn read_barrier() {
        // SAFETY: plain value.
        unsafe { raw::dma_barrier(1) };
    }
}

impl Drop for DmaBuffer {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and freed once, here.
        unsafe { raw::dma_free(self.handle) };
    }
}
