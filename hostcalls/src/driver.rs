// SPDX-License-Identifier: MIT OR Apache-2.0

//! The driver side of the ABI: what a driver exports, how it names its
//! device, and the layouts its hostcalls use.
//!
//! A driver is a wasm module that imports `cervus_drv` (see
//! [`foreach_hostcall!`](crate::foreach_hostcall)) and exports some of the
//! functions below. The host calls them one at a time (never concurrently),
//! in process context: `cervus_probe` and `cervus_remove` in the task that
//! loads or unloads the driver, `cervus_irq` and `cervus_timer` in the
//! driver's own kernel thread, and `cervus_chr_*` in the task making the
//! system call on `/dev/NAME`. Each call has an execution budget; a driver
//! that exceeds it, traps, or panics the engine is stopped and its device
//! quiesced.

/// `fn() -> i32`: set the device up; 0 or a negative [`Errno`](crate::Errno).
pub const EXPORT_PROBE: &str = "cervus_probe";
/// `fn()`: stop the device (the host then quiesces it anyway).
pub const EXPORT_REMOVE: &str = "cervus_remove";
/// `fn(vector: i32, status: i32, count: i32)`: interrupts arrived on
/// `vector`; `count` hard interrupts were coalesced into this call;
/// `status` is what the host read from the INTx status register (0 for
/// MSI/MSI-X).
pub const EXPORT_IRQ: &str = "cervus_irq";
/// `fn(id: i32)`: timer `id` fired.
pub const EXPORT_TIMER: &str = "cervus_timer";
/// `fn(file: i32) -> i32`: `/dev/NAME` was opened; 0 or an error.
pub const EXPORT_CHR_OPEN: &str = "cervus_chr_open";
/// `fn(file: i32)`: a file of `/dev/NAME` was closed.
pub const EXPORT_CHR_RELEASE: &str = "cervus_chr_release";
/// `fn(file: i32, len: i32, offset: i64) -> i32`: read up to `len` bytes
/// (delivered with `user_write`); returns the count, 0 at the end, or an
/// error. [`WOULD_BLOCK`] makes the host wait until the driver sets
/// [`POLL_IN`] and call again (or fail with `EAGAIN` for non-blocking files).
pub const EXPORT_CHR_READ: &str = "cervus_chr_read";
/// `fn(file: i32, len: i32, offset: i64) -> i32`: take `len` bytes (with
/// `user_read`); returns the count or an error; [`WOULD_BLOCK`] as for read,
/// waiting for [`POLL_OUT`].
pub const EXPORT_CHR_WRITE: &str = "cervus_chr_write";
/// `fn(file: i32, cmd: i32, len: i32) -> i32`: an ioctl whose argument is a
/// `len`-byte buffer (`_IOC_SIZE(cmd)`), read with `user_read` and written
/// with `user_write`; returns a non-negative result or an error.
pub const EXPORT_CHR_IOCTL: &str = "cervus_chr_ioctl";

/// `fn() -> i32`: the network interface was brought up: start the device.
/// A negative result is logged; the interface stays without carrier.
pub const EXPORT_NET_OPEN: &str = "cervus_net_open";
/// `fn()`: the interface was brought down: stop the device.
pub const EXPORT_NET_STOP: &str = "cervus_net_stop";
/// `fn()`: frames are queued for transmission (take them with `netdev_tx`).
pub const EXPORT_NET_TX: &str = "cervus_net_tx";

/// `fn() -> i32`: a hot swap is replacing this instance: save what the next
/// version needs with `state_save`. Called before `cervus_remove`; a
/// negative result aborts the swap (the old version keeps running).
pub const EXPORT_STATE_SAVE: &str = "cervus_state_save";

/// Most bytes of state handed from one version of a driver to the next.
pub const MAX_STATE: usize = 64 * 1024;

/// Returned by `cervus_chr_read` and `cervus_chr_write`: try again when ready.
pub const WOULD_BLOCK: i32 = crate::Errno::WouldBlock as i32;

/// Readiness bit: data can be read.
pub const POLL_IN: i32 = 1;
/// Readiness bit: data can be written.
pub const POLL_OUT: i32 = 4;

/// Interrupt kinds, for `irq_alloc` and `irq_mode`.
pub mod irq {
    /// MSI-X.
    pub const MSIX: i32 = 1;
    /// MSI.
    pub const MSI: i32 = 2;
    /// Legacy INTx (shared, level-triggered).
    pub const INTX: i32 = 4;
}

/// The PCI command register bits a driver may set or clear: I/O space,
/// memory space, bus master, INTx disable.
pub const COMMAND_WRITABLE: u16 = 0x0001 | 0x0002 | 0x0004 | 0x0400;
/// Offset of the PCI command register.
pub const PCI_COMMAND: u16 = 0x04;
/// Size of PCI configuration space.
pub const PCI_CONFIG_SIZE: u16 = 4096;

/// Most operations in one `mmio_batch`.
pub const MAX_BATCH: usize = 256;

/// One `mmio_batch` operation: 16 bytes, little-endian.
///
/// | bytes | field |
/// |---|---|
/// | 0 | 0 read, 1 write |
/// | 1 | width: 1, 2, 4 or 8 |
/// | 2-3 | zero |
/// | 4-7 | offset in the BAR |
/// | 8-15 | value written, or value read |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmioOp {
    /// `true` to write.
    pub write: bool,
    /// Access width in bytes.
    pub width: u8,
    /// Offset in the BAR.
    pub offset: u32,
    /// The value.
    pub value: u64,
}

impl MmioOp {
    /// Size of an encoded operation.
    pub const SIZE: usize = 16;

    /// Encodes an operation.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0] = u8::from(self.write);
        b[1] = self.width;
        b[4..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8..16].copy_from_slice(&self.value.to_le_bytes());
        b
    }

    /// Decodes an operation; `None` if a reserved byte is set or the kind is
    /// unknown.
    pub fn decode(b: &[u8; Self::SIZE]) -> Option<Self> {
        if b[0] > 1 || b[2] != 0 || b[3] != 0 {
            return None;
        }
        Some(MmioOp {
            write: b[0] == 1,
            width: b[1],
            offset: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            value: u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]),
        })
    }
}

/// One frame of `netdev_rx` or `netdev_tx`: 16 bytes, little-endian.
///
/// | bytes | field |
/// |---|---|
/// | 0-3 | DMA handle |
/// | 4-7 | length (`netdev_tx`: the slot's capacity in, the frame's length out) |
/// | 8-15 | offset in the DMA buffer |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameOp {
    /// The DMA buffer's handle.
    pub dma: i32,
    /// The length.
    pub len: u32,
    /// The offset in the buffer.
    pub offset: u64,
}

impl FrameOp {
    /// Size of an encoded frame.
    pub const SIZE: usize = 16;

    /// Encodes a frame.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..4].copy_from_slice(&self.dma.to_le_bytes());
        b[4..8].copy_from_slice(&self.len.to_le_bytes());
        b[8..16].copy_from_slice(&self.offset.to_le_bytes());
        b
    }

    /// Decodes a frame.
    pub fn decode(b: &[u8; Self::SIZE]) -> Self {
        FrameOp {
            dma: i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            len: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            offset: u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]),
        }
    }
}

/// Most frames in one `netdev_rx` or `netdev_tx`.
pub const MAX_FRAMES: usize = 256;

/// A capability handle as the guest sees it: a positive `i32` made of a
/// slot index (bits 0-11) and the slot's generation (bits 12-30). Minted by
/// the host only; a handle whose slot was reused (stale) or that was never
/// minted (forged) does not match and is refused with `BadHandle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub i32);

impl Handle {
    /// Slots per table.
    pub const SLOTS: usize = 1 << 12;
    const GENERATIONS: u32 = 1 << 19;

    /// The handle of `slot` in its `generation` (taken modulo 2^19; never 0).
    pub fn new(slot: usize, generation: u32) -> Self {
        let generation = generation % Self::GENERATIONS;
        Handle(((generation.max(1) << 12) | (slot as u32 & 0xfff)) as i32)
    }

    /// The slot index.
    pub fn slot(self) -> usize {
        (self.0 & 0xfff) as usize
    }

    /// The generation.
    pub fn generation(self) -> u32 {
        (self.0 as u32 >> 12) & (Self::GENERATIONS - 1)
    }
}

/// Name of the custom section holding a driver's match table.
pub const MATCH_SECTION: &str = "cervus.driver";
/// Most entries in a match table.
pub const MAX_MATCHES: usize = 16;
/// Size of the encoded match table.
pub const MATCH_TABLE_LEN: usize = 2 + 4 * MAX_MATCHES;

/// Encodes a match table: version 1, the entry count, then each entry as
/// vendor and device ids (little-endian `u16`); unused entries are zero.
/// For the guest SDK's `driver!` macro, in a `const`.
pub const fn encode_match_table(ids: &[(u16, u16)]) -> [u8; MATCH_TABLE_LEN] {
    let mut out = [0u8; MATCH_TABLE_LEN];
    assert!(ids.len() <= MAX_MATCHES, "too many PCI ids in a match table");
    out[0] = 1;
    out[1] = ids.len() as u8;
    let mut i = 0;
    while i < ids.len() {
        let (vendor, device) = ids[i];
        out[2 + 4 * i] = vendor as u8;
        out[3 + 4 * i] = (vendor >> 8) as u8;
        out[4 + 4 * i] = device as u8;
        out[5 + 4 * i] = (device >> 8) as u8;
        i += 1;
    }
    out
}

/// Decodes a match table; `None` if it is malformed.
pub fn decode_match_table(bytes: &[u8]) -> Option<heapless::Vec<(u16, u16), MAX_MATCHES>> {
    let (&version, rest) = bytes.split_first()?;
    let (&count, entries) = rest.split_first()?;
    if version != 1 || count as usize > MAX_MATCHES || entries.len() < 4 * count as usize {
        return None;
    }
    entries
        .chunks_exact(4)
        .take(count as usize)
        .map(|e| Some((u16::from_le_bytes([e[0], e[1]]), u16::from_le_bytes([e[2], e[3]]))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_are_never_zero_or_negative() {
        for (slot, generation) in [(0, 0), (0, 1), (4095, 1), (17, 524_287), (3, 524_288)] {
            let h = Handle::new(slot, generation);
            assert!(h.0 > 0, "{h:?}");
            assert_eq!(h.slot(), slot);
            assert_eq!(h.generation(), (generation % (1 << 19)).max(1));
        }
    }

    #[test]
    fn match_tables_round_trip() {
        const TABLE: [u8; MATCH_TABLE_LEN] = encode_match_table(&[(0x1234, 0x11e8), (0x1af4, 0x1041)]);
        let ids = decode_match_table(&TABLE).unwrap();
        assert_eq!(ids.as_slice(), &[(0x1234, 0x11e8), (0x1af4, 0x1041)]);
        assert!(decode_match_table(&[2, 0]).is_none());
        assert!(decode_match_table(&[1, 3, 0, 0]).is_none());
        assert!(decode_match_table(&[]).is_none());
    }

    #[test]
    fn mmio_ops_round_trip_and_reserved_bytes_are_refused() {
        let op = MmioOp { write: true, width: 4, offset: 0x64, value: 0xdead_beef };
        assert_eq!(MmioOp::decode(&op.encode()), Some(op));
        let mut bad = op.encode();
        bad[2] = 1;
        assert_eq!(MmioOp::decode(&bad), None);
        bad = op.encode();
        bad[0] = 2;
        assert_eq!(MmioOp::decode(&bad), None);
    }
}
