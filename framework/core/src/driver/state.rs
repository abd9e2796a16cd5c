// SPDX-License-Identifier: GPL-2.0

//! A driver instance's capabilities and counters (part of its host state).

use alloc::vec::Vec;

use super::DriverLimits;
use super::device::{DeviceId, DmaBuffer, UserBuf};
use super::handles::HandleTable;

/// A capability a driver holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// A mapped memory BAR.
    Mmio {
        /// BAR index.
        bar: u8,
        /// Its size.
        size: u64,
    },
    /// A DMA buffer.
    Dma(DmaBuffer),
}

/// Counters shown by `cvctl driver list`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverCounters {
    /// `cervus_irq` calls.
    pub irq_events: u64,
    /// Hard interrupts, coalesced into those calls.
    pub irqs: u64,
    /// `cervus_timer` calls.
    pub timer_events: u64,
    /// Character-device calls.
    pub chr_calls: u64,
    /// MMIO accesses.
    pub mmio_ops: u64,
    /// Frames handed to the network stack.
    pub rx_frames: u64,
    /// Frames taken for transmission.
    pub tx_frames: u64,
}

/// The device-facing part of a driver's host state.
pub struct DriverState {
    /// The bound device.
    pub device: DeviceId,
    /// Its capabilities.
    pub caps: HandleTable<Cap>,
    /// Buffers the driver freed while the device could still reach them.
    pub quarantine: Vec<DmaBuffer>,
    /// Bytes of DMA held, quarantine included.
    pub dma_bytes: usize,
    /// Most bytes of DMA it may hold.
    pub dma_quota: usize,
    /// What it may use.
    pub limits: DriverLimits,
    /// The interrupt mode (`driver::irq` kind), 0 if none.
    pub irq_mode: i32,
    /// Whether `/dev/NAME` is registered.
    pub chrdev: bool,
    /// The network interface's name, once registered.
    pub netdev: Option<heapless::String<16>>,
    /// The caller's buffer, during a character-device call.
    pub user: Option<UserBuf>,
    /// Counters.
    pub counters: DriverCounters,
    /// What the driver saved for its next version (`state_save`).
    pub saved: Option<Vec<u8>>,
    /// What its previous version saved (`state_restore`).
    pub restore: Option<Vec<u8>>,
    /// `cervus_state_save` is running (a swap hands the device over).
    pub saving: bool,
    /// The driver asked, while saving, to hand the device over running
    /// (`state_keep_device`).
    pub keep_device: bool,
    /// A swap is retiring this instance: the interrupt vectors it frees are
    /// left to the system, which hands them to the next instance.
    pub retiring: bool,
    /// When (monotonic ns) it last handed a frame to the stack or took one.
    pub last_frame_ns: u64,
    /// Swapped in: when its predecessor handled its last frame, and when
    /// the device resumed (for the frame gap logged at this instance's
    /// first frame).
    pub swapped_in: Option<SwapTimes>,
}

/// When a swap's events happened (monotonic ns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwapTimes {
    /// The old version's last frame.
    pub last_frame: u64,
    /// The device was paused.
    pub paused: u64,
    /// The device resumed with the new version.
    pub resumed: u64,
}

impl DriverState {
    /// The state of a driver of device `device`.
    pub fn new(device: DeviceId, limits: DriverLimits) -> Self {
        DriverState {
            device,
            caps: HandleTable::default(),
            quarantine: Vec::new(),
            dma_bytes: 0,
            dma_quota: limits.dma_quota,
            limits,
            irq_mode: 0,
            chrdev: false,
            netdev: None,
            user: None,
            counters: DriverCounters::default(),
            saved: None,
            restore: None,
            saving: false,
            keep_device: false,
            retiring: false,
            last_frame_ns: 0,
            swapped_in: None,
        }
    }

    /// Hands the device's DMA buffers, under their handles, to `next` (a
    /// swap that keeps the device running). Other capabilities stay: the
    /// next version maps its BARs itself.
    pub fn hand_buffers_to(&mut self, next: &mut DriverState) {
        next.caps = self.caps.split_off(|c| matches!(c, Cap::Dma(_)));
        next.quarantine = core::mem::take(&mut self.quarantine);
        next.dma_bytes = core::mem::take(&mut self.dma_bytes);
    }

    /// Takes every DMA buffer the driver holds or freed, for the system to
    /// free once the device is stopped (a swap hands the device to a new
    /// instance with its own buffers).
    pub fn take_buffers(&mut self) -> Vec<DmaBuffer> {
        let mut buffers: Vec<DmaBuffer> = self.quarantine.drain(..).collect();
        buffers.extend(self.caps.drain().filter_map(|c| match c {
            Cap::Dma(buffer) => Some(buffer),
            Cap::Mmio { .. } => None,
        }));
        self.dma_bytes = 0;
        buffers
    }
}
