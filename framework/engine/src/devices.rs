// SPDX-License-Identifier: GPL-2.0

//! The core's [`Devices`], implemented with the glue's device services
//! (`framework/kmod/devices`).
//!
//! Device handles are the glue's; the core only uses those it bound, until
//! it unbinds them. The driver lock is recorded in the supervisor while a
//! task holds it, so that a panicking call's lock can be released by
//! `OP_RECOVER` instead of blocking the device forever.

use cervus_core::driver::{BoundDevice, DeviceId, DeviceSpec, Devices, DmaBuffer, UserBuf};
use cervus_core::{InstanceId, SysError};
use heapless::String;

use crate::call::{BIND_MAX_IDS, HostBindSpec};
use crate::host::dev;
use crate::supervisor;

/// The kernel's PCI devices.
pub struct KernelDevices;

fn sys<T>(r: crate::host::HostResult<T>) -> Result<T, SysError> {
    r.map_err(SysError)
}

/// The `len`-byte window at `offset` of a user buffer, clamped to it.
fn window(user: UserBuf, offset: usize, len: usize) -> Option<(u64, usize)> {
    let n = len.min(user.len.checked_sub(offset)?);
    Some((user.addr.checked_add(offset as u64)?, n))
}

impl Devices for KernelDevices {
    fn lock(&self, d: DeviceId) {
        dev::lock(d.0);
        supervisor::set_held_device(d.0);
    }

    fn unlock(&self, d: DeviceId) {
        supervisor::set_held_device(0);
        dev::unlock(d.0);
    }

    fn bind(&self, spec: &DeviceSpec, owner: InstanceId, name: &str) -> Result<BoundDevice, SysError> {
        let mut host = HostBindSpec {
            owner: owner.0,
            ids: [0; BIND_MAX_IDS],
            ids_len: 0,
            has_slot: 0,
            domain: 0,
            bus: 0,
            devfn: 0,
            rebind: u32::from(spec.rebind),
            name: [0; 32],
            name_len: 0,
        };
        for (out, (vendor, device)) in host.ids.iter_mut().zip(spec.ids.iter()) {
            *out = u32::from(*vendor) << 16 | u32::from(*device);
            host.ids_len += 1;
        }
        if let Some(slot) = spec.slot {
            host.has_slot = 1;
            host.domain = u32::from(slot.domain);
            host.bus = u32::from(slot.bus);
            host.devfn = u32::from(slot.device) << 3 | u32::from(slot.function);
        }
        let n = name.len().min(host.name.len());
        host.name[..n].copy_from_slice(&name.as_bytes()[..n]);
        host.name_len = n as u32;
        let bound = sys(dev::bind(&host))?;
        let len = bound.slot.iter().position(|b| *b == 0).unwrap_or(bound.slot.len());
        let slot = core::str::from_utf8(&bound.slot[..len]).unwrap_or("?");
        Ok(BoundDevice {
            id: DeviceId(bound.dev),
            vendor: bound.vendor,
            device: bound.device,
            slot: cervus_core::runtime::short(slot),
        })
    }

    fn quiesce(&self, d: DeviceId) {
        dev::quiesce(d.0)
    }

    fn unbind(&self, d: DeviceId) {
        dev::unbind(d.0)
    }

    fn config_read(&self, d: DeviceId, offset: u16, width: u8) -> Result<u32, SysError> {
        sys(dev::config_read(d.0, offset, width))
    }

    fn config_write(&self, d: DeviceId, offset: u16, width: u8, value: u32) -> Result<(), SysError> {
        sys(dev::config_write(d.0, offset, width, value))
    }

    fn bar_size(&self, d: DeviceId, bar: u8) -> Result<u64, SysError> {
        sys(dev::bar_size(d.0, bar))
    }

    fn mmio_map(&self, d: DeviceId, bar: u8) -> Result<(), SysError> {
        sys(dev::mmio_map(d.0, bar))
    }

    fn mmio_read(&self, d: DeviceId, bar: u8, offset: u64, width: u8) -> Result<u64, SysError> {
        sys(dev::mmio_read(d.0, bar, offset, width))
    }

    fn mmio_write(&self, d: DeviceId, bar: u8, offset: u64, width: u8, value: u64) -> Result<(), SysError> {
        sys(dev::mmio_write(d.0, bar, offset, width, value))
    }

    fn dma_set_mask(&self, d: DeviceId, bits: u8) -> Result<(), SysError> {
        sys(dev::dma_set_mask(d.0, bits))
    }

    fn dma_alloc(&self, d: DeviceId, size: usize) -> Result<DmaBuffer, SysError> {
        let (id, bus_addr) = sys(dev::dma_alloc(d.0, size))?;
        Ok(DmaBuffer { id, bus_addr, size })
    }

    fn dma_free(&self, d: DeviceId, buffer: u64) {
        dev::dma_free(d.0, buffer)
    }

    fn dma_write(&self, d: DeviceId, buffer: u64, offset: usize, src: &[u8]) -> Result<(), SysError> {
        sys(dev::dma_write(d.0, buffer, offset, src))
    }

    fn dma_read(&self, d: DeviceId, buffer: u64, offset: usize, dst: &mut [u8]) -> Result<(), SysError> {
        sys(dev::dma_read(d.0, buffer, offset, dst))
    }

    fn dma_barrier(&self, kind: u8) {
        dev::dma_barrier(kind)
    }

    fn irq_alloc(&self, d: DeviceId, kinds: i32, min: u32, max: u32) -> Result<(i32, u32), SysError> {
        sys(dev::irq_alloc(d.0, kinds, min, max))
    }

    fn irq_intx_config(
        &self,
        d: DeviceId,
        bar: u8,
        status_offset: u64,
        ack_offset: Option<u64>,
        width: u8,
    ) -> Result<(), SysError> {
        sys(dev::irq_intx_config(d.0, bar, status_offset, ack_offset, width))
    }

    fn irq_free(&self, d: DeviceId) {
        dev::irq_free(d.0)
    }

    fn timer_start(&self, d: DeviceId, id: u8, delay_ns: u64, period_ns: u64) -> Result<(), SysError> {
        sys(dev::timer_start(d.0, id, delay_ns, period_ns))
    }

    fn timer_stop(&self, d: DeviceId, id: u8) {
        dev::timer_stop(d.0, id)
    }

    fn chrdev_register(&self, d: DeviceId, name: &str) -> Result<(), SysError> {
        sys(dev::chrdev_register(d.0, name))
    }

    fn chrdev_set_ready(&self, d: DeviceId, mask: u32) {
        dev::chrdev_set_ready(d.0, mask)
    }

    fn user_read(&self, user: UserBuf, offset: usize, dst: &mut [u8]) -> Result<usize, SysError> {
        let Some((addr, n)) = window(user, offset, dst.len()) else { return Ok(0) };
        sys(dev::copy_from_user(&mut dst[..n], addr)).map(|()| n)
    }

    fn user_write(&self, user: UserBuf, offset: usize, src: &[u8]) -> Result<usize, SysError> {
        let Some((addr, n)) = window(user, offset, src.len()) else { return Ok(0) };
        sys(dev::copy_to_user(addr, &src[..n])).map(|()| n)
    }

    fn netdev_register(&self, d: DeviceId, pattern: &str, mac: [u8; 6], mtu: u32) -> Result<String<16>, SysError> {
        let name = sys(dev::netdev_register(d.0, pattern, mac, mtu))?;
        let len = name.iter().position(|b| *b == 0).unwrap_or(name.len());
        Ok(cervus_core::runtime::short(core::str::from_utf8(&name[..len]).unwrap_or("?")))
    }

    fn netdev_carrier(&self, d: DeviceId, up: bool) {
        dev::netdev_carrier(d.0, up)
    }

    fn netdev_rx(&self, d: DeviceId, buffer: u64, offset: usize, len: usize) -> Result<bool, SysError> {
        sys(dev::netdev_rx(d.0, buffer, offset, len))
    }

    fn netdev_rx_flush(&self, d: DeviceId) {
        dev::netdev_rx_flush(d.0)
    }

    fn netdev_tx(&self, d: DeviceId, buffer: u64, offset: usize, cap: usize) -> Result<Option<usize>, SysError> {
        sys(dev::netdev_tx(d.0, buffer, offset, cap))
    }

    fn netdev_running(&self, d: DeviceId) -> bool {
        dev::netdev_running(d.0)
    }

    fn netdev_link(&self, d: DeviceId) -> Option<bool> {
        dev::netdev_link(d.0)
    }

    fn pause(&self, d: DeviceId) {
        dev::pause(d.0)
    }

    fn halt_dma(&self, d: DeviceId) {
        dev::halt_dma(d.0)
    }

    fn resume(&self, d: DeviceId, net_up: bool) {
        dev::resume(d.0, net_up)
    }
}
