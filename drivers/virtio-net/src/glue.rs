// SPDX-License-Identifier: MIT OR Apache-2.0

//! The driver as the host sees it: [`Hw`] over the host's capabilities,
//! and the entry points.

use core::fmt;

use cervus_guest::driver::{
    COMMAND_MASTER, COMMAND_MEMORY, DmaBuffer, Driver, Irq, IrqMode, Irqs, Mmio, Pci, Reg, handoff, log_line, net,
    sleep_us,
};
use cervus_guest::{Errno, info};
use serde::{Deserialize, Serialize};

use crate::hw::{Barrier, Buf, Frame, Hw};
use crate::net::{Interrupts, MTU, POOL_BYTES, Snapshot, VirtioNet};
use crate::ring::RING_BYTES;
use crate::transport::{Layout, find_layout};

/// The version of [`Handover`]; a new version that changes its meaning
/// changes this, and then sets the device up afresh after a swap.
/// Version 2: the queues may suppress notifications with event indexes,
/// which a version-1 driver would not keep up (it would wait for
/// interrupts the device no longer sends).
const HANDOVER_VERSION: u32 = 2;

/// What a version of the driver leaves the next in a hot swap: the DMA
/// buffers (handle and size, rx ring, tx ring, rx pool, tx pool) and the
/// queues in them. The device keeps running meanwhile.
#[derive(Serialize, Deserialize)]
struct Handover {
    buffers: [(i32, u64); 4],
    net: Snapshot,
}

cervus_guest::driver!(VirtioNetDriver, pci: [(0x1af4, 0x1041)]);

/// The device's capabilities.
struct Device {
    bars: [Option<Mmio>; 6],
    rx_ring: DmaBuffer,
    tx_ring: DmaBuffer,
    rx_pool: DmaBuffer,
    tx_pool: DmaBuffer,
}

impl Device {
    fn buffer(&self, buf: Buf) -> &DmaBuffer {
        match buf {
            Buf::RxRing => &self.rx_ring,
            Buf::TxRing => &self.tx_ring,
            Buf::RxPool => &self.rx_pool,
            Buf::TxPool => &self.tx_pool,
        }
    }

    fn bar(&self, bar: u8) -> Result<&Mmio, Errno> {
        self.bars.get(usize::from(bar)).and_then(Option::as_ref).ok_or(Errno::NotFound)
    }

    /// Encodes `f` as a [`net::FrameOp`] in place.
    fn encode(&self, op: &mut [u8; net::FrameOp::SIZE], f: &Frame) {
        op[0..4].copy_from_slice(&self.buffer(f.buf).handle().to_le_bytes());
        op[4..8].copy_from_slice(&(f.len as u32).to_le_bytes());
        op[8..16].copy_from_slice(&(f.offset as u64).to_le_bytes());
    }
}

impl Hw for Device {
    fn config_read8(&self, offset: u16) -> Result<u8, Errno> {
        Pci.read8(offset)
    }

    fn config_read32(&self, offset: u16) -> Result<u32, Errno> {
        Pci.read32(offset)
    }

    fn read(&self, bar: u8, offset: u32, width: u8) -> Result<u64, Errno> {
        let mmio = self.bar(bar)?;
        let offset = u64::from(offset);
        match width {
            1 => mmio.read_at::<u8>(offset).map(u64::from),
            2 => mmio.read_at::<u16>(offset).map(u64::from),
            4 => mmio.read_at::<u32>(offset).map(u64::from),
            _ => mmio.read_at::<u64>(offset),
        }
    }

    fn write(&self, bar: u8, offset: u32, width: u8, value: u64) -> Result<(), Errno> {
        let mmio = self.bar(bar)?;
        let offset = u64::from(offset);
        match width {
            1 => mmio.write_at(offset, value as u8),
            2 => mmio.write_at(offset, value as u16),
            4 => mmio.write_at(offset, value as u32),
            _ => mmio.write_at(offset, value),
        }
    }

    fn dma_read(&self, buf: Buf, offset: usize, dst: &mut [u8]) -> Result<(), Errno> {
        self.buffer(buf).read(offset, dst)
    }

    fn dma_write(&self, buf: Buf, offset: usize, src: &[u8]) -> Result<(), Errno> {
        self.buffer(buf).write(offset, src)
    }

    fn bus_addr(&self, buf: Buf) -> u64 {
        self.buffer(buf).bus_addr()
    }

    fn barrier(&self, kind: Barrier) {
        match kind {
            Barrier::Read => DmaBuffer::read_barrier(),
            Barrier::Write => DmaBuffer::write_barrier(),
            Barrier::Full => DmaBuffer::barrier(),
        }
    }

    fn sleep_us(&self, us: u32) {
        let _ = sleep_us(us);
    }

    fn deliver(&self, frames: &[Frame]) -> Result<usize, Errno> {
        let mut ops = [[0u8; net::FrameOp::SIZE]; 32];
        let mut delivered = 0;
        for chunk in frames.chunks(ops.len()) {
            for (op, f) in ops.iter_mut().zip(chunk) {
                self.encode(op, f);
            }
            delivered += net::deliver_encoded(&ops[..chunk.len()])?;
        }
        Ok(delivered)
    }

    fn take(&self, slots: &mut [Frame]) -> Result<usize, Errno> {
        let mut ops = [[0u8; net::FrameOp::SIZE]; 32];
        let mut taken = 0;
        for chunk in slots.chunks_mut(ops.len()) {
            for (op, f) in ops.iter_mut().zip(chunk.iter()) {
                self.encode(op, f);
            }
            let n = net::take_encoded(&mut ops[..chunk.len()])?;
            for (f, op) in chunk.iter_mut().zip(&ops[..n]) {
                f.len = u32::from_le_bytes([op[4], op[5], op[6], op[7]]) as usize;
            }
            taken += n;
            if n < chunk.len() {
                break;
            }
        }
        Ok(taken)
    }

    fn set_carrier(&self, up: bool) {
        // The test build whose link never comes up.
        let up = up && !cfg!(feature = "test-no-link");
        let _ = net::set_carrier(up);
    }

    fn warn(&self, args: fmt::Arguments<'_>) {
        log_line(4, args);
    }
}

/// The driver's state.
pub struct VirtioNetDriver {
    dev: Device,
    net: VirtioNet,
    _irqs: Irqs,
}

impl VirtioNetDriver {
    /// Sets the device up from reset, with new buffers.
    fn set_up() -> Result<Self, Errno> {
        // Bus mastering only once the device is reset (below): a device a
        // dead predecessor left running must not write to our new buffers.
        Pci.set_command(COMMAND_MEMORY, 0)?;
        DmaBuffer::set_mask(64)?;
        let dev = Device {
            bars: core::array::from_fn(|bar| Mmio::map(bar as u8).ok()),
            rx_ring: DmaBuffer::alloc(RING_BYTES)?,
            tx_ring: DmaBuffer::alloc(RING_BYTES)?,
            rx_pool: DmaBuffer::alloc(POOL_BYTES)?,
            tx_pool: DmaBuffer::alloc(POOL_BYTES)?,
        };
        let layout = find_layout(&dev)?;
        let (irqs, interrupts) = interrupts(&dev, &layout)?;
        let net = VirtioNet::probe(&dev, layout, interrupts)?;
        Pci.set_command(COMMAND_MASTER, 0)?;
        net::register("eth%d", net.mac, MTU)?;
        info!(
            "virtio-net {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, {:?} interrupts{}",
            net.mac[0],
            net.mac[1],
            net.mac[2],
            net.mac[3],
            net.mac[4],
            net.mac[5],
            interrupts,
            if cfg!(feature = "test-alt") { " (alternative build)" } else { "" }
        );
        Ok(VirtioNetDriver { dev, net, _irqs: irqs })
    }

    /// Takes over the device the previous version handed over running.
    fn take_over(handover: Handover) -> Result<Self, Errno> {
        let adopt = |(handle, size): (i32, u64)| DmaBuffer::adopt(handle, size as usize);
        let dev = Device {
            bars: core::array::from_fn(|bar| Mmio::map(bar as u8).ok()),
            rx_ring: adopt(handover.buffers[0])?,
            tx_ring: adopt(handover.buffers[1])?,
            rx_pool: adopt(handover.buffers[2])?,
            tx_pool: adopt(handover.buffers[3])?,
        };
        let layout = find_layout(&dev)?;
        let (irqs, interrupts) = interrupts(&dev, &layout)?;
        let mut net = VirtioNet::adopt(&dev, layout, interrupts, handover.net)?;
        net::register("eth%d", net.mac, MTU)?;
        net.report_link(&dev)?;
        info!(
            "virtio-net: took over the running device ({} frames received, {} sent so far){}",
            net.counters.rx_frames,
            net.counters.tx_frames,
            if cfg!(feature = "test-alt") { " (alternative build)" } else { "" }
        );
        Ok(VirtioNetDriver { dev, net, _irqs: irqs })
    }
}

/// Takes the interrupt vectors: MSI-X if the device has them, else INTx
/// (whose status the host reads from the ISR).
fn interrupts(dev: &Device, layout: &Layout) -> Result<(Irqs, Interrupts), Errno> {
    let irqs = Irqs::alloc(Irqs::MSIX | Irqs::INTX, 1, 3)?;
    let interrupts = match irqs.mode() {
        IrqMode::Intx => {
            // Reading the ISR acknowledges it: the host's handler does that
            // and passes the bits on.
            let isr: Reg<u8> = Reg::at(layout.isr.offset);
            irqs.intx_config(dev.bar(layout.isr.bar)?, isr, None)?;
            Interrupts::Intx
        }
        _ => Interrupts::MsiX(irqs.count()),
    };
    Ok((irqs, interrupts))
}

impl Driver for VirtioNetDriver {
    fn probe() -> Result<Self, Errno> {
        if cfg!(feature = "test-trap-at-start") {
            core::arch::wasm32::unreachable();
        }
        match handoff::restore::<Handover>(HANDOVER_VERSION) {
            Ok(Some(handover)) => match Self::take_over(handover) {
                Ok(driver) => return Ok(driver),
                // After a failed swap the old version comes back on a
                // stopped device, without its buffers: this is that case.
                Err(e) => info!("virtio-net: no running device to take over ({e:?}); setting it up"),
            },
            Ok(None) => {}
            Err(e) => info!("virtio-net: the previous version's state is not one this version reads ({e:?})"),
        }
        Self::set_up()
    }

    /// Hands the device over running: the buffers and the queues' state.
    fn save(&mut self) -> Result<(), Errno> {
        let d = &self.dev;
        let handover = Handover {
            buffers: [&d.rx_ring, &d.tx_ring, &d.rx_pool, &d.tx_pool].map(|b| (b.handle(), b.size() as u64)),
            net: self.net.snapshot(),
        };
        handoff::save(HANDOVER_VERSION, &handover)?;
        handoff::keep_device()
    }

    fn remove(&mut self) {
        self.net.stop(&self.dev);
    }

    fn irq(&mut self, irq: Irq) {
        if let Err(e) = self.net.interrupt(&self.dev, irq.vector, irq.status) {
            self.dev.warn(format_args!("interrupt: {e:?}"));
        }
    }

    fn net_open(&mut self) -> Result<(), Errno> {
        self.net.open(&self.dev)
    }

    fn net_stop(&mut self) {
        self.net.stop(&self.dev);
    }

    fn net_tx(&mut self) {
        if let Err(e) = self.net.transmit(&self.dev) {
            self.dev.warn(format_args!("transmit: {e:?}"));
        }
    }
}
