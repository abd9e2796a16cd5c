// SPDX-License-Identifier: MIT OR Apache-2.0

//! The virtio 1.x modern PCI transport: finding the configuration
//! structures through the vendor capabilities, and the common
//! configuration (status, features, queues).

use crate::hw::{Errno, Hw};

/// A structure in a BAR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// The BAR.
    pub bar: u8,
    /// Its offset in the BAR.
    pub offset: u32,
    /// Its length.
    pub len: u32,
}

/// Where the device's configuration structures are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Common configuration.
    pub common: Region,
    /// Notifications.
    pub notify: Region,
    /// Bytes between queues' notify addresses.
    pub notify_multiplier: u32,
    /// The interrupt status byte.
    pub isr: Region,
    /// The device-specific configuration (virtio-net's MAC and status).
    pub device: Region,
}

const PCI_CAP_ID_VNDR: u8 = 0x09;
const PCI_CAPABILITY_LIST: u16 = 0x34;
const CFG_COMMON: u8 = 1;
const CFG_NOTIFY: u8 = 2;
const CFG_ISR: u8 = 3;
const CFG_DEVICE: u8 = 4;

/// Status bits.
pub mod status {
    /// The guest noticed the device.
    pub const ACKNOWLEDGE: u8 = 1;
    /// The guest knows how to drive it.
    pub const DRIVER: u8 = 2;
    /// The driver is ready.
    pub const DRIVER_OK: u8 = 4;
    /// Feature negotiation is complete.
    pub const FEATURES_OK: u8 = 8;
    /// The device needs a reset.
    pub const NEEDS_RESET: u8 = 0x40;
    /// The driver gave up.
    pub const FAILED: u8 = 0x80;
}

/// Common configuration registers (`virtio_pci_common_cfg`).
mod common {
    pub const DEVICE_FEATURE_SELECT: u32 = 0x00;
    pub const DEVICE_FEATURE: u32 = 0x04;
    pub const DRIVER_FEATURE_SELECT: u32 = 0x08;
    pub const DRIVER_FEATURE: u32 = 0x0c;
    pub const MSIX_CONFIG: u32 = 0x10;
    pub const DEVICE_STATUS: u32 = 0x14;
    pub const CONFIG_GENERATION: u32 = 0x15;
    pub const QUEUE_SELECT: u32 = 0x16;
    pub const QUEUE_SIZE: u32 = 0x18;
    pub const QUEUE_MSIX_VECTOR: u32 = 0x1a;
    pub const QUEUE_ENABLE: u32 = 0x1c;
    pub const QUEUE_NOTIFY_OFF: u32 = 0x1e;
    pub const QUEUE_DESC: u32 = 0x20;
    pub const QUEUE_DRIVER: u32 = 0x28;
    pub const QUEUE_DEVICE: u32 = 0x30;
}

/// No MSI-X vector (`VIRTIO_MSI_NO_VECTOR`).
pub const NO_VECTOR: u16 = 0xffff;

/// Walks the PCI capability list for the virtio structures.
pub fn find_layout(hw: &impl Hw) -> Result<Layout, Errno> {
    let mut layout = Layout::default();
    let (mut common, mut notify, mut isr, mut device) = (false, false, false, false);
    let mut at = hw.config_read8(PCI_CAPABILITY_LIST)? & 0xfc;
    // A list longer than configuration space can hold is malformed.
    for _ in 0..48 {
        if at == 0 {
            break;
        }
        let at16 = u16::from(at);
        if hw.config_read8(at16)? == PCI_CAP_ID_VNDR {
            let cfg_type = hw.config_read8(at16 + 3)?;
            let bar = hw.config_read8(at16 + 4)?;
            let region = Region { bar, offset: hw.config_read32(at16 + 8)?, len: hw.config_read32(at16 + 12)? };
            // Linux takes the first structure of each type; so do we.
            if bar <= 5 {
                match cfg_type {
                    CFG_COMMON if !common => (layout.common, common) = (region, true),
                    CFG_NOTIFY if !notify => {
                        layout.notify = region;
                        layout.notify_multiplier = hw.config_read32(at16 + 16)?;
                        notify = true;
                    }
                    CFG_ISR if !isr => (layout.isr, isr) = (region, true),
                    CFG_DEVICE if !device => (layout.device, device) = (region, true),
                    _ => {}
                }
            }
        }
        at = hw.config_read8(at16 + 1)? & 0xfc;
    }
    if common && notify && isr && device && layout.common.len >= 0x38 && layout.device.len >= 8 {
        Ok(layout)
    } else {
        Err(Errno::NotFound)
    }
}

/// The transport of one device.
#[derive(Clone, Copy, Debug)]
pub struct Transport {
    /// Where things are.
    pub layout: Layout,
}

impl Transport {
    fn common_read(&self, hw: &impl Hw, offset: u32, width: u8) -> Result<u64, Errno> {
        hw.read(self.layout.common.bar, self.layout.common.offset + offset, width)
    }

    fn common_write(&self, hw: &impl Hw, offset: u32, width: u8, value: u64) -> Result<(), Errno> {
        hw.write(self.layout.common.bar, self.layout.common.offset + offset, width, value)
    }

    /// A 64-bit field, as two 32-bit writes, low half first (spec 4.1.3.1).
    fn common_write64(&self, hw: &impl Hw, offset: u32, value: u64) -> Result<(), Errno> {
        self.common_write(hw, offset, 4, value & 0xffff_ffff)?;
        self.common_write(hw, offset + 4, 4, value >> 32)
    }

    /// The device status.
    pub fn status(&self, hw: &impl Hw) -> Result<u8, Errno> {
        Ok(self.common_read(hw, common::DEVICE_STATUS, 1)? as u8)
    }

    /// Sets the device status.
    pub fn set_status(&self, hw: &impl Hw, value: u8) -> Result<(), Errno> {
        self.common_write(hw, common::DEVICE_STATUS, 1, u64::from(value))
    }

    /// Resets the device and waits (up to a second) until it reads back 0.
    pub fn reset(&self, hw: &impl Hw) -> Result<(), Errno> {
        self.set_status(hw, 0)?;
        for _ in 0..1000 {
            if self.status(hw)? == 0 {
                return Ok(());
            }
            hw.sleep_us(1000);
        }
        Err(Errno::Io)
    }

    /// The 64 feature bits the device offers.
    pub fn device_features(&self, hw: &impl Hw) -> Result<u64, Errno> {
        self.features(hw, common::DEVICE_FEATURE_SELECT, common::DEVICE_FEATURE)
    }

    /// The 64 feature bits the driver accepted (as the device read them).
    pub fn driver_features(&self, hw: &impl Hw) -> Result<u64, Errno> {
        self.features(hw, common::DRIVER_FEATURE_SELECT, common::DRIVER_FEATURE)
    }

    /// 64 feature bits read 32 at a time through the `select` register.
    fn features(&self, hw: &impl Hw, select: u32, value: u32) -> Result<u64, Errno> {
        self.common_write(hw, select, 4, 0)?;
        let low = self.common_read(hw, value, 4)?;
        self.common_write(hw, select, 4, 1)?;
        let high = self.common_read(hw, value, 4)?;
        Ok(low | high << 32)
    }

    /// Accepts `features`.
    pub fn set_driver_features(&self, hw: &impl Hw, features: u64) -> Result<(), Errno> {
        self.common_write(hw, common::DRIVER_FEATURE_SELECT, 4, 0)?;
        self.common_write(hw, common::DRIVER_FEATURE, 4, features & 0xffff_ffff)?;
        self.common_write(hw, common::DRIVER_FEATURE_SELECT, 4, 1)?;
        self.common_write(hw, common::DRIVER_FEATURE, 4, features >> 32)
    }

    /// Maps configuration-change interrupts to MSI-X `vector`; whether the
    /// device accepted it.
    pub fn set_config_vector(&self, hw: &impl Hw, vector: u16) -> Result<bool, Errno> {
        self.common_write(hw, common::MSIX_CONFIG, 2, u64::from(vector))?;
        Ok(self.common_read(hw, common::MSIX_CONFIG, 2)? as u16 == vector)
    }

    /// The device configuration's generation counter.
    pub fn config_generation(&self, hw: &impl Hw) -> Result<u8, Errno> {
        Ok(self.common_read(hw, common::CONFIG_GENERATION, 1)? as u8)
    }

    /// Reads `dst.len()` bytes of device configuration at `offset`,
    /// consistently (retrying while the generation changes).
    pub fn read_device_config(&self, hw: &impl Hw, offset: u32, dst: &mut [u8]) -> Result<(), Errno> {
        for _ in 0..16 {
            let before = self.config_generation(hw)?;
            for (i, byte) in dst.iter_mut().enumerate() {
                *byte = hw.read(self.layout.device.bar, self.layout.device.offset + offset + i as u32, 1)? as u8;
            }
            if self.config_generation(hw)? == before {
                return Ok(());
            }
        }
        Err(Errno::Io)
    }

    /// Sets queue `index` up: at most `max_size` entries (a power of two),
    /// rings at the given bus addresses, MSI-X `vector` (or [`NO_VECTOR`]).
    /// Returns the size and the queue's notify offset. The queue is not
    /// enabled yet.
    pub fn setup_queue(
        &self,
        hw: &impl Hw,
        index: u16,
        max_size: u16,
        rings: (u64, u64, u64),
        vector: u16,
    ) -> Result<(u16, u32), Errno> {
        self.common_write(hw, common::QUEUE_SELECT, 2, u64::from(index))?;
        let device_max = self.common_read(hw, common::QUEUE_SIZE, 2)? as u16;
        if device_max == 0 || self.common_read(hw, common::QUEUE_ENABLE, 2)? != 0 {
            return Err(Errno::NotFound);
        }
        let size = largest_power_of_two(device_max.min(max_size));
        self.common_write(hw, common::QUEUE_SIZE, 2, u64::from(size))?;
        self.common_write64(hw, common::QUEUE_DESC, rings.0)?;
        self.common_write64(hw, common::QUEUE_DRIVER, rings.1)?;
        self.common_write64(hw, common::QUEUE_DEVICE, rings.2)?;
        if vector != NO_VECTOR {
            self.common_write(hw, common::QUEUE_MSIX_VECTOR, 2, u64::from(vector))?;
            if self.common_read(hw, common::QUEUE_MSIX_VECTOR, 2)? as u16 != vector {
                return Err(Errno::Io);
            }
        }
        let notify_off = self.common_read(hw, common::QUEUE_NOTIFY_OFF, 2)? as u32;
        Ok((size, notify_off))
    }

    /// Enables queue `index`.
    pub fn enable_queue(&self, hw: &impl Hw, index: u16) -> Result<(), Errno> {
        self.common_write(hw, common::QUEUE_SELECT, 2, u64::from(index))?;
        self.common_write(hw, common::QUEUE_ENABLE, 2, 1)
    }

    /// Tells the device queue `index` (notify offset `notify_off`) has new
    /// buffers.
    pub fn notify(&self, hw: &impl Hw, index: u16, notify_off: u32) -> Result<(), Errno> {
        let offset = notify_off.checked_mul(self.layout.notify_multiplier).ok_or(Errno::OutOfBounds)?;
        hw.write(self.layout.notify.bar, self.layout.notify.offset + offset, 2, u64::from(index))
    }
}

/// The largest power of two not above `n` (0 for 0).
fn largest_power_of_two(n: u16) -> u16 {
    if n == 0 { 0 } else { 1 << (15 - n.leading_zeros()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_two() {
        assert_eq!(largest_power_of_two(256), 256);
        assert_eq!(largest_power_of_two(255), 128);
        assert_eq!(largest_power_of_two(1), 1);
        assert_eq!(largest_power_of_two(0), 0);
        assert_eq!(largest_power_of_two(u16::MAX), 32768);
    }
}
