// SPDX-License-Identifier: GPL-2.0

//! A fake of QEMU's `edu` teaching device, for host-side driver tests.
//!
//! Registers (BAR 0, 1 MiB), as QEMU's `hw/misc/edu.c` documents them:
//! `0x00` identification `0x010000ed`; `0x04` liveness (reads return the
//! inverse of what was written); `0x08` factorial (write n, read n!);
//! `0x20` status (bit 7: raise interrupt 0x1 when the factorial is done);
//! `0x24` interrupt status; `0x60` raise (ORs into status); `0x64`
//! acknowledge (clears bits); `0x80`/`0x88`/`0x90` DMA source,
//! destination, count; `0x98` DMA command (bit 0 start, bit 1 device to
//! RAM, bit 2 raise interrupt 0x100 when done). The device's DMA buffer is
//! at device address `0x40000`, 4 KiB.
//!
//! Interrupts are recorded in [`FakeEdu::raised`]; tests deliver them to
//! the driver with `Runtime::driver_event`. "User" buffers of character
//! device calls are ids into [`FakeEdu::user`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::vec::Vec;

use heapless::String;

use crate::driver::device::{BoundDevice, DeviceId, DeviceSpec, Devices, DmaBuffer, UserBuf};
use crate::platform::SysError;
use crate::registry::InstanceId;

const BAR0_SIZE: u64 = 1 << 20;
const DMA_START: u64 = 0x40000;
const DMA_SIZE: usize = 4096;

#[derive(Default)]
struct Regs {
    liveness: u32,
    factorial: u32,
    status: u32,
    irq_status: u32,
    dma_src: u64,
    dma_dst: u64,
    dma_count: u64,
    dma_command: u64,
    command: u16,
    buffer: Vec<u8>,
}

/// The fake device and its surroundings (DMA memory, user buffers).
#[derive(Default)]
pub struct FakeEdu {
    regs: Mutex<Regs>,
    bound: AtomicBool,
    locked: AtomicBool,
    quiesced: AtomicBool,
    dma: Mutex<HashMap<u64, Vec<u8>>>,
    next_dma: AtomicU64,
    /// Interrupts raised, in order: the status bits of each.
    pub raised: Mutex<Vec<u32>>,
    /// Buffers of character-device calls, by the id tests put in `UserBuf`.
    pub user: Mutex<HashMap<u64, Vec<u8>>>,
    /// Whether `/dev/NAME` was registered, and its readiness.
    pub chrdev: Mutex<Option<(std::string::String, u32)>>,
    /// The interrupt mode allocated.
    pub irq_mode: Mutex<i32>,
    /// Timers armed: (id, delay ns, period ns).
    pub timers: Mutex<Vec<(u8, u64, u64)>>,
    /// The network interface, once registered.
    pub netdev: Mutex<Option<FakeNetdev>>,
    /// Pauses (hot swaps and their rollbacks).
    pub pauses: AtomicU64,
}

/// A fake network interface: what the driver registered and delivered, and
/// frames tests queue for it to send.
#[derive(Debug, Default)]
pub struct FakeNetdev {
    /// Its name.
    pub name: std::string::String,
    /// Its MAC.
    pub mac: [u8; 6],
    /// Its MTU.
    pub mtu: u32,
    /// Carrier.
    pub carrier: bool,
    /// Up (`ip link set up`): frames are delivered, not dropped.
    pub up: bool,
    /// Frames the driver handed to the stack.
    pub received: Vec<Vec<u8>>,
    /// Frames waiting for the driver to transmit.
    pub to_send: std::collections::VecDeque<Vec<u8>>,
    /// Frames dropped: received while down, or too long for their slot.
    pub dropped: u64,
}

impl FakeEdu {
    /// Whether the device was quiesced (and not bound again since).
    pub fn quiesced(&self) -> bool {
        self.quiesced.load(Ordering::Relaxed)
    }

    /// Bytes of DMA memory allocated now.
    pub fn dma_bytes(&self) -> usize {
        self.dma.lock().unwrap().values().map(Vec::len).sum()
    }

    fn raise(&self, regs: &mut Regs, bits: u32) {
        regs.irq_status |= bits;
        self.raised.lock().unwrap().push(bits);
    }

    /// Runs a DMA transfer: device to RAM when `to_ram`, else RAM to device.
    fn run_dma(&self, regs: &mut Regs, to_ram: bool) {
        if regs.command & 0x4 == 0 {
            return; // bus mastering off: the device cannot reach memory
        }
        let (device_addr, ram_addr) = if to_ram { (regs.dma_src, regs.dma_dst) } else { (regs.dma_dst, regs.dma_src) };
        let Some(off) = device_addr.checked_sub(DMA_START).map(|o| o as usize).filter(|o| *o < DMA_SIZE) else {
            return;
        };
        let mut dma = self.dma.lock().unwrap();
        let Some((buf, at)) = dma
            .iter_mut()
            .find(|(base, b)| ram_addr >= **base && ram_addr < **base + b.len() as u64)
            .map(|(base, b)| (b, (ram_addr - base) as usize))
        else {
            return;
        };
        let n = (regs.dma_count as usize).min(buf.len() - at).min(DMA_SIZE - off);
        if to_ram {
            buf[at..at + n].copy_from_slice(&regs.buffer[off..off + n]);
        } else {
            regs.buffer[off..off + n].copy_from_slice(&buf[at..at + n]);
        }
    }
}

fn factorial(n: u32) -> u32 {
    (1..=n).fold(1u32, |a, b| a.wrapping_mul(b))
}

impl Devices for FakeEdu {
    fn lock(&self, _dev: DeviceId) {
        while self.locked.swap(true, Ordering::Acquire) {
            std::thread::yield_now();
        }
    }

    fn unlock(&self, _dev: DeviceId) {
        self.locked.store(false, Ordering::Release);
    }

    fn bind(&self, spec: &DeviceSpec, _owner: InstanceId, _name: &str) -> Result<BoundDevice, SysError> {
        let matches = spec.ids.is_empty() || spec.ids.contains(&(0x1234, 0x11e8));
        if !matches || spec.slot.is_some_and(|s| (s.bus, s.device) != (0, 4)) {
            return Err(SysError::ENODEV);
        }
        if self.bound.swap(true, Ordering::AcqRel) {
            return Err(SysError::EBUSY);
        }
        *self.regs.lock().unwrap() = Regs { buffer: std::vec![0; DMA_SIZE], ..Regs::default() };
        self.quiesced.store(false, Ordering::Relaxed);
        Ok(BoundDevice { id: DeviceId(1), vendor: 0x1234, device: 0x11e8, slot: "0000:00:04.0".try_into().unwrap() })
    }

    fn quiesce(&self, _dev: DeviceId) {
        self.regs.lock().unwrap().command &= !0x4;
        *self.irq_mode.lock().unwrap() = 0;
        self.timers.lock().unwrap().clear();
        if let Some((_, ready)) = self.chrdev.lock().unwrap().as_mut() {
            *ready = 0;
        }
        self.quiesced.store(true, Ordering::Relaxed);
    }

    fn unbind(&self, _dev: DeviceId) {
        self.dma.lock().unwrap().clear();
        *self.chrdev.lock().unwrap() = None;
        *self.netdev.lock().unwrap() = None;
        self.bound.store(false, Ordering::Release);
    }

    fn config_read(&self, _dev: DeviceId, offset: u16, width: u8) -> Result<u32, SysError> {
        let regs = self.regs.lock().unwrap();
        let space: [u8; 8] = [0x34, 0x12, 0xe8, 0x11, regs.command as u8, (regs.command >> 8) as u8, 0x10, 0];
        let mut v = 0u32;
        for i in 0..width as usize {
            v |= u32::from(*space.get(offset as usize + i).unwrap_or(&0)) << (8 * i);
        }
        Ok(v)
    }

    fn config_write(&self, _dev: DeviceId, offset: u16, width: u8, value: u32) -> Result<(), SysError> {
        assert_eq!((offset, width), (4, 2), "the core only lets the command register through");
        self.regs.lock().unwrap().command = value as u16;
        Ok(())
    }

    fn bar_size(&self, _dev: DeviceId, bar: u8) -> Result<u64, SysError> {
        if bar == 0 { Ok(BAR0_SIZE) } else { Err(SysError::ENOENT) }
    }

    fn mmio_map(&self, _dev: DeviceId, bar: u8) -> Result<(), SysError> {
        if bar == 0 { Ok(()) } else { Err(SysError::ENOENT) }
    }

    fn mmio_read(&self, _dev: DeviceId, bar: u8, offset: u64, width: u8) -> Result<u64, SysError> {
        assert!(
            bar == 0 && offset + u64::from(width) <= BAR0_SIZE && offset.is_multiple_of(u64::from(width)),
            "unchecked access"
        );
        let regs = self.regs.lock().unwrap();
        Ok(u64::from(match offset {
            0x00 => 0x0100_00ed,
            0x04 => !regs.liveness,
            0x08 => regs.factorial,
            0x20 => regs.status,
            0x24 => regs.irq_status,
            0x80 => regs.dma_src as u32,
            0x88 => regs.dma_dst as u32,
            0x90 => regs.dma_count as u32,
            0x98 => regs.dma_command as u32,
            _ => 0xffff_ffff,
        }))
    }

    fn mmio_write(&self, _dev: DeviceId, bar: u8, offset: u64, width: u8, value: u64) -> Result<(), SysError> {
        assert!(
            bar == 0 && offset + u64::from(width) <= BAR0_SIZE && offset.is_multiple_of(u64::from(width)),
            "unchecked access"
        );
        let mut regs = self.regs.lock().unwrap();
        let v = value as u32;
        match offset {
            0x04 => regs.liveness = v,
            0x08 => {
                regs.factorial = factorial(v);
                if regs.status & 0x80 != 0 {
                    self.raise(&mut regs, 0x1);
                }
            }
            0x20 => regs.status = v & 0x80,
            0x60 => self.raise(&mut regs, v),
            0x64 => regs.irq_status &= !v,
            0x80 => regs.dma_src = value,
            0x88 => regs.dma_dst = value,
            0x90 => regs.dma_count = value,
            0x98 => {
                // Transfers complete at once: the run bit reads 0 after.
                regs.dma_command = value & !1;
                if v & 1 != 0 {
                    self.run_dma(&mut regs, v & 2 != 0);
                    if v & 4 != 0 {
                        self.raise(&mut regs, 0x100);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dma_set_mask(&self, _dev: DeviceId, _bits: u8) -> Result<(), SysError> {
        Ok(())
    }

    fn dma_alloc(&self, _dev: DeviceId, size: usize) -> Result<DmaBuffer, SysError> {
        let bus_addr = 0x1000_0000 + self.next_dma.fetch_add(1, Ordering::Relaxed) * 0x10_0000;
        self.dma.lock().unwrap().insert(bus_addr, std::vec![0; size]);
        Ok(DmaBuffer { id: bus_addr, bus_addr, size })
    }

    fn dma_free(&self, _dev: DeviceId, buffer: u64) {
        assert!(self.dma.lock().unwrap().remove(&buffer).is_some(), "freed twice");
    }

    fn dma_write(&self, _dev: DeviceId, buffer: u64, offset: usize, src: &[u8]) -> Result<(), SysError> {
        let mut dma = self.dma.lock().unwrap();
        let buf = dma.get_mut(&buffer).expect("live buffer");
        buf[offset..offset + src.len()].copy_from_slice(src);
        Ok(())
    }

    fn dma_read(&self, _dev: DeviceId, buffer: u64, offset: usize, dst: &mut [u8]) -> Result<(), SysError> {
        let dma = self.dma.lock().unwrap();
        dst.copy_from_slice(&dma[&buffer][offset..offset + dst.len()]);
        Ok(())
    }

    fn dma_barrier(&self, _kind: u8) {}

    fn irq_alloc(&self, _dev: DeviceId, kinds: i32, _min: u32, _max: u32) -> Result<(i32, u32), SysError> {
        let mode = if kinds & 2 != 0 {
            2
        } else if kinds & 4 != 0 {
            4
        } else {
            return Err(SysError::ENOSPC);
        };
        *self.irq_mode.lock().unwrap() = mode;
        Ok((mode, 1))
    }

    fn irq_intx_config(&self, _: DeviceId, _: u8, _: u64, _: Option<u64>, _: u8) -> Result<(), SysError> {
        Ok(())
    }

    fn irq_free(&self, _dev: DeviceId) {
        *self.irq_mode.lock().unwrap() = 0;
    }

    fn timer_start(&self, _dev: DeviceId, id: u8, delay_ns: u64, period_ns: u64) -> Result<(), SysError> {
        self.timers.lock().unwrap().push((id, delay_ns, period_ns));
        Ok(())
    }

    fn timer_stop(&self, _dev: DeviceId, id: u8) {
        self.timers.lock().unwrap().retain(|t| t.0 != id);
    }

    fn chrdev_register(&self, _dev: DeviceId, name: &str) -> Result<(), SysError> {
        *self.chrdev.lock().unwrap() = Some((name.into(), 0));
        Ok(())
    }

    fn chrdev_set_ready(&self, _dev: DeviceId, mask: u32) {
        if let Some((_, ready)) = self.chrdev.lock().unwrap().as_mut() {
            *ready = mask;
        }
    }

    fn user_read(&self, user: UserBuf, offset: usize, dst: &mut [u8]) -> Result<usize, SysError> {
        let users = self.user.lock().unwrap();
        let buf = users.get(&user.addr).ok_or(SysError::EFAULT)?;
        let src = buf.get(offset..user.len.min(buf.len())).unwrap_or(&[]);
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn user_write(&self, user: UserBuf, offset: usize, src: &[u8]) -> Result<usize, SysError> {
        let mut users = self.user.lock().unwrap();
        let buf = users.get_mut(&user.addr).ok_or(SysError::EFAULT)?;
        let end = (offset + src.len()).min(user.len);
        if buf.len() < end {
            buf.resize(end, 0);
        }
        let n = end.saturating_sub(offset);
        buf[offset..end].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn netdev_register(&self, _dev: DeviceId, pattern: &str, mac: [u8; 6], mtu: u32) -> Result<String<16>, SysError> {
        let mut netdev = self.netdev.lock().unwrap();
        if let Some(existing) = netdev.as_ref() {
            return if existing.mac == mac {
                Ok(existing.name.as_str().try_into().unwrap())
            } else {
                Err(SysError::EINVAL)
            };
        }
        let name = pattern.replace("%d", "0");
        *netdev = Some(FakeNetdev { name: name.clone(), mac, mtu, ..FakeNetdev::default() });
        Ok(name.as_str().try_into().unwrap())
    }

    fn netdev_carrier(&self, _dev: DeviceId, up: bool) {
        if let Some(n) = self.netdev.lock().unwrap().as_mut() {
            n.carrier = up;
        }
    }

    fn netdev_rx(&self, _dev: DeviceId, buffer: u64, offset: usize, len: usize) -> Result<bool, SysError> {
        let frame = self.dma.lock().unwrap()[&buffer][offset..offset + len].to_vec();
        let mut netdev = self.netdev.lock().unwrap();
        let n = netdev.as_mut().ok_or(SysError::ENODEV)?;
        if !n.up {
            n.dropped += 1;
            return Ok(false);
        }
        n.received.push(frame);
        Ok(true)
    }

    fn netdev_rx_flush(&self, _dev: DeviceId) {}

    fn netdev_tx(&self, _dev: DeviceId, buffer: u64, offset: usize, cap: usize) -> Result<Option<usize>, SysError> {
        let mut netdev = self.netdev.lock().unwrap();
        let n = netdev.as_mut().ok_or(SysError::ENODEV)?;
        while let Some(frame) = n.to_send.pop_front() {
            if frame.len() > cap {
                n.dropped += 1;
                continue;
            }
            self.dma.lock().unwrap().get_mut(&buffer).expect("live buffer")[offset..offset + frame.len()]
                .copy_from_slice(&frame);
            return Ok(Some(frame.len()));
        }
        Ok(None)
    }

    fn netdev_running(&self, _dev: DeviceId) -> bool {
        self.netdev.lock().unwrap().as_ref().is_some_and(|n| n.up)
    }

    fn netdev_link(&self, _dev: DeviceId) -> Option<bool> {
        self.netdev.lock().unwrap().as_ref().map(|n| n.carrier)
    }

    fn pause(&self, _dev: DeviceId) {
        *self.irq_mode.lock().unwrap() = 0;
        self.timers.lock().unwrap().clear();
        self.pauses.fetch_add(1, Ordering::Relaxed);
    }

    fn halt_dma(&self, _dev: DeviceId) {
        self.regs.lock().unwrap().command &= !0x4;
    }

    fn resume(&self, _dev: DeviceId, _net_up: bool) {}
}
