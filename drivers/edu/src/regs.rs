// SPDX-License-Identifier: MIT OR Apache-2.0

//! The edu device's registers (BAR 0), from QEMU's `docs/specs/edu.rst`.
//! Registers below 0x80 take 32-bit accesses only.

cervus_guest::register! {
    /// Identification: `0x010000ed` (major 1, minor 0, `0xed`).
    pub IDENT: u32 = 0x00;
    /// Liveness check: reads return the inverse of the last value written.
    pub LIVENESS: u32 = 0x04;
    /// Factorial: write n to start computing n!, read the result.
    pub FACTORIAL: u32 = 0x08;
    /// Status: bit 0 computing (read only), bit 7 raise interrupt 0x1 when a
    /// factorial is done.
    pub STATUS: u32 = 0x20;
    /// Interrupt status: the bits raised and not yet acknowledged.
    pub IRQ_STATUS: u32 = 0x24;
    /// Raise interrupt: ORs the value into the interrupt status.
    pub IRQ_RAISE: u32 = 0x60;
    /// Acknowledge interrupt: clears the bits written.
    pub IRQ_ACK: u32 = 0x64;
    /// DMA source address.
    pub DMA_SRC: u64 = 0x80;
    /// DMA destination address.
    pub DMA_DST: u64 = 0x88;
    /// DMA transfer count in bytes.
    pub DMA_COUNT: u64 = 0x90;
    /// DMA command: bit 0 start (reads 1 while running), bit 1 direction
    /// (0 RAM to device, 1 device to RAM), bit 2 raise interrupt 0x100 when
    /// done.
    pub DMA_CMD: u64 = 0x98;
}

/// What [`IDENT`] reads on the device this driver knows.
pub const IDENT_EDU: u32 = 0x0100_00ed;
/// [`STATUS`] bit: a factorial is being computed.
pub const STATUS_COMPUTING: u32 = 0x01;
/// [`STATUS`] bit: raise an interrupt when a factorial is done.
pub const STATUS_IRQ_FACTORIAL: u32 = 0x80;
/// Interrupt status bit: a factorial is done.
pub const IRQ_FACTORIAL: u32 = 0x001;
/// Interrupt status bit: a DMA transfer is done.
pub const IRQ_DMA: u32 = 0x100;
/// [`DMA_CMD`] bit: start (reads 1 while running).
pub const DMA_RUN: u64 = 0x1;
/// [`DMA_CMD`] bit: from the device's buffer to RAM.
pub const DMA_TO_RAM: u64 = 0x2;
/// [`DMA_CMD`] bit: raise [`IRQ_DMA`] when done.
pub const DMA_IRQ: u64 = 0x4;
/// Device address of the device's internal DMA buffer.
pub const DMA_DEVICE_BUFFER: u64 = 0x40000;
/// Its size.
pub const DMA_DEVICE_BUFFER_SIZE: usize = 4096;
/// The largest transfer the driver starts: half the buffer. QEMU before 8.0
/// refuses any transfer that reaches the buffer's last byte, and a refused
/// transfer stops the whole machine.
pub const DMA_CHUNK: usize = DMA_DEVICE_BUFFER_SIZE / 2;
/// Address bits the device uses for DMA (it masks addresses to 28 bits).
pub const DMA_ADDRESS_BITS: u8 = 28;
