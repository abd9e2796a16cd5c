// SPDX-License-Identifier: MIT OR Apache-2.0

//! PCI configuration space of the driver's device.

use crate::{Errno, raw};

/// The device's PCI configuration space.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pci;

/// Command register bit: memory space decoding.
pub const COMMAND_MEMORY: u16 = 0x0002;
/// Command register bit: bus mastering (the device may do DMA).
pub const COMMAND_MASTER: u16 = 0x0004;
/// Command register bit: INTx disabled.
pub const COMMAND_INTX_DISABLE: u16 = 0x0400;

fn value(ret: i64) -> Result<u32, Errno> {
    if ret >= 0 { Ok(ret as u32) } else { Err(Errno::from_code(ret as i32).unwrap_or(Errno::Unknown)) }
}

impl Pci {
    /// Reads a byte.
    pub fn read8(self, offset: u16) -> Result<u8, Errno> {
        // SAFETY: plain values; the host checks them.
        value(unsafe { raw::pci_config_read(i32::from(offset), 1) }).map(|v| v as u8)
    }

    /// Reads a 16-bit word.
    pub fn read16(self, offset: u16) -> Result<u16, Errno> {
        // SAFETY: plain values; the host checks them.
        value(unsafe { raw::pci_config_read(i32::from(offset), 2) }).map(|v| v as u16)
    }

    /// Reads a 32-bit word.
    pub fn read32(self, offset: u16) -> Result<u32, Errno> {
        // SAFETY: plain values; the host checks them.
        value(unsafe { raw::pci_config_read(i32::from(offset), 4) })
    }

    /// The vendor and device ids.
    pub fn ids(self) -> Result<(u16, u16), Errno> {
        Ok((self.read16(0)?, self.read16(2)?))
    }

    /// Sets (or clears) bits of the command register; only memory space,
    /// I/O space, bus master and INTx disable may change.
    pub fn set_command(self, set: u16, clear: u16) -> Result<(), Errno> {
        let command = (self.read16(4)? | set) & !clear;
        // SAFETY: plain values; the host checks them.
        crate::check(unsafe { raw::pci_config_write(4, 2, i32::from(command)) }).map(drop)
    }

    /// Walks the capability list: the offset of the first capability with
    /// id `id` after `from` (0 for the start).
    pub fn find_capability(self, id: u8, from: u8) -> Result<Option<u8>, Errno> {
        let mut next = if from == 0 { self.read8(0x34)? & 0xfc } else { self.read8(u16::from(from) + 1)? & 0xfc };
        // A list longer than config space can hold is malformed.
        for _ in 0..48 {
            if next == 0 {
                return Ok(None);
            }
            if self.read8(u16::from(next))? == id {
                return Ok(Some(next));
            }
            next = self.read8(u16::from(next) + 1)? & 0xfc;
        }
        Err(Errno::Io)
    }
}
