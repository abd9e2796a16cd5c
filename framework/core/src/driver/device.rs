// SPDX-License-Identifier: GPL-2.0

//! What the core needs from the system to drive a device.
//!
//! The core checks every request a driver makes (handles, bounds,
//! alignment, widths, quotas) before it reaches [`Devices`]; implementations
//! check again where it is cheap, as a second line of defence. The kernel
//! implements it over a bound PCI device; the host-side tests over a fake.

use heapless::String;

use crate::platform::SysError;
use crate::registry::InstanceId;

/// A bound device, as the system identifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceId(pub u64);

/// A PCI address: domain, bus, device, function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciSlot {
    /// Domain (segment).
    pub domain: u16,
    /// Bus.
    pub bus: u8,
    /// Device.
    pub device: u8,
    /// Function.
    pub function: u8,
}

/// Which device to bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// Acceptable (vendor, device) ids; empty means any.
    pub ids: heapless::Vec<(u16, u16), 16>,
    /// A specific slot, if given.
    pub slot: Option<PciSlot>,
    /// Take the device from the driver it is bound to.
    pub rebind: bool,
}

/// A device bound for a driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundDevice {
    /// The system's id for it.
    pub id: DeviceId,
    /// PCI vendor id.
    pub vendor: u16,
    /// PCI device id.
    pub device: u16,
    /// Its address, as `DDDD:BB:DD.F`.
    pub slot: String<16>,
}

/// A coherent DMA buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaBuffer {
    /// The system's id for it.
    pub id: u64,
    /// The address the device uses.
    pub bus_addr: u64,
    /// Its size in bytes.
    pub size: usize,
}

/// A buffer of the user task making a character-device call: its address
/// in that task and its length. The core never dereferences it; only
/// [`Devices::user_read`] and [`Devices::user_write`] do, in that task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserBuf {
    /// User-space address.
    pub addr: u64,
    /// Length in bytes.
    pub len: usize,
}

/// Device access for drivers. `dev` is always a device this instance
/// bound; `owner` the driver instance it was bound for.
pub trait Devices: Sync {
    /// Takes the device's driver lock (sleeping): every entry into the
    /// driver's instance happens under it, so the driver runs one call at
    /// a time.
    fn lock(&self, dev: DeviceId);
    /// Releases the driver lock.
    fn unlock(&self, dev: DeviceId);

    /// Finds and binds a device for driver `owner` (named `name`).
    fn bind(&self, spec: &DeviceSpec, owner: InstanceId, name: &str) -> Result<BoundDevice, SysError>;
    /// Stops everything the device can do on its own: bus mastering off,
    /// interrupts freed, timers stopped, the character device answering
    /// `ENODEV`. Idempotent.
    fn quiesce(&self, dev: DeviceId);
    /// Releases the device (after `quiesce`), giving it back to the driver
    /// it was taken from, if any.
    fn unbind(&self, dev: DeviceId);

    /// Reads PCI configuration space.
    fn config_read(&self, dev: DeviceId, offset: u16, width: u8) -> Result<u32, SysError>;
    /// Writes PCI configuration space (the core allows only safe bits).
    fn config_write(&self, dev: DeviceId, offset: u16, width: u8, value: u32) -> Result<(), SysError>;

    /// The size of memory BAR `bar`; `ENOENT` if it is absent or I/O space.
    fn bar_size(&self, dev: DeviceId, bar: u8) -> Result<u64, SysError>;
    /// Maps memory BAR `bar` (idempotent).
    fn mmio_map(&self, dev: DeviceId, bar: u8) -> Result<(), SysError>;
    /// Reads a mapped BAR.
    fn mmio_read(&self, dev: DeviceId, bar: u8, offset: u64, width: u8) -> Result<u64, SysError>;
    /// Writes a mapped BAR.
    fn mmio_write(&self, dev: DeviceId, bar: u8, offset: u64, width: u8, value: u64) -> Result<(), SysError>;

    /// Sets the device's DMA addressing limit, in bits.
    fn dma_set_mask(&self, dev: DeviceId, bits: u8) -> Result<(), SysError>;
    /// Allocates a coherent DMA buffer.
    fn dma_alloc(&self, dev: DeviceId, size: usize) -> Result<DmaBuffer, SysError>;
    /// Frees a DMA buffer. The core calls this only once the device cannot
    /// reach the buffer any more.
    fn dma_free(&self, dev: DeviceId, buffer: u64);
    /// Copies into a DMA buffer.
    fn dma_write(&self, dev: DeviceId, buffer: u64, offset: usize, src: &[u8]) -> Result<(), SysError>;
    /// Copies out of a DMA buffer.
    fn dma_read(&self, dev: DeviceId, buffer: u64, offset: usize, dst: &mut [u8]) -> Result<(), SysError>;
    /// A memory barrier for DMA: 0 full, 1 read, 2 write.
    fn dma_barrier(&self, kind: u8);

    /// Allocates interrupt vectors; returns the mode (`driver::irq` kind)
    /// and the count.
    fn irq_alloc(&self, dev: DeviceId, kinds: i32, min: u32, max: u32) -> Result<(i32, u32), SysError>;
    /// Declares how to recognise and acknowledge an INTx interrupt.
    fn irq_intx_config(
        &self,
        dev: DeviceId,
        bar: u8,
        status_offset: u64,
        ack_offset: Option<u64>,
        width: u8,
    ) -> Result<(), SysError>;
    /// Frees the interrupt vectors.
    fn irq_free(&self, dev: DeviceId);

    /// Arms timer `id`.
    fn timer_start(&self, dev: DeviceId, id: u8, delay_ns: u64, period_ns: u64) -> Result<(), SysError>;
    /// Disarms timer `id`.
    fn timer_stop(&self, dev: DeviceId, id: u8);

    /// Registers the driver's character device `/dev/NAME`.
    fn chrdev_register(&self, dev: DeviceId, name: &str) -> Result<(), SysError>;
    /// Sets its readiness and wakes waiters.
    fn chrdev_set_ready(&self, dev: DeviceId, mask: u32);
    /// During a character-device call: copies from the caller's buffer
    /// `user`, at `offset`, into `dst`; returns the count.
    fn user_read(&self, user: UserBuf, offset: usize, dst: &mut [u8]) -> Result<usize, SysError>;
    /// During a character-device call: copies `src` to the caller's buffer
    /// `user` at `offset`; returns the count.
    fn user_write(&self, user: UserBuf, offset: usize, src: &[u8]) -> Result<usize, SysError>;

    /// Registers the device's Ethernet interface, or re-attaches the
    /// existing one (same MAC) after a swap; returns its name.
    fn netdev_register(&self, dev: DeviceId, pattern: &str, mac: [u8; 6], mtu: u32) -> Result<String<16>, SysError>;
    /// Sets the interface's carrier.
    fn netdev_carrier(&self, dev: DeviceId, up: bool);
    /// Hands the frame at `offset..offset + len` of DMA buffer `buffer` to
    /// the network stack; `false` if it was dropped (interface down).
    fn netdev_rx(&self, dev: DeviceId, buffer: u64, offset: usize, len: usize) -> Result<bool, SysError>;
    /// Hands the frames delivered with `netdev_rx` so far to the stack (the
    /// end of a batch).
    fn netdev_rx_flush(&self, dev: DeviceId);
    /// Copies the next frame queued for transmission into DMA buffer
    /// `buffer` at `offset` (at most `cap` bytes); its length, or `None` if
    /// the queue is empty.
    fn netdev_tx(&self, dev: DeviceId, buffer: u64, offset: usize, cap: usize) -> Result<Option<usize>, SysError>;
    /// Whether the device's interface exists and is up (`ip link set up`).
    fn netdev_running(&self, dev: DeviceId) -> bool;
    /// The carrier the driver last reported (held or not), if the device
    /// has an interface.
    fn netdev_link(&self, dev: DeviceId) -> Option<bool>;

    /// For a hot swap: stops what the running instance set up (interrupts,
    /// timers) without declaring the device dead; the
    /// interface stops its queue (frames wait in the stack) and holds
    /// carrier changes, the character device stays. Events that arrive
    /// meanwhile wait for [`Devices::resume`].
    fn pause(&self, dev: DeviceId);
    /// During a pause, before the instance's DMA buffers are freed: bus
    /// mastering off, so the device cannot reach them any more. (A pause
    /// leaves it on: a device handed over running keeps using its queues.)
    fn halt_dma(&self, dev: DeviceId);
    /// Ends a pause: events are delivered again, to the new instance; the
    /// interface applies the carrier last reported and restarts its queue.
    /// `net_up` says whether the new instance was told the interface is up.
    fn resume(&self, dev: DeviceId, net_up: bool);
}
