// SPDX-License-Identifier: MIT OR Apache-2.0

//! A wasm driver for QEMU's `edu` teaching device (`-device edu`).
//!
//! It uses every kind of capability a Cervus driver gets: PCI
//! configuration (identification, bus mastering), MMIO on BAR 0, two DMA
//! buffers, an interrupt vector (MSI, or INTx acknowledged by the host), a
//! timer, and the character device `/dev/edu`:
//!
//! - `echo 10 > /dev/edu` starts computing 10! on the device (0 to 12: the
//!   device computes in 32 bits); `cat /dev/edu` then prints `3628800`,
//!   waiting for the device's completion interrupt if needed. A write while
//!   the device computes waits for it (or fails with `EAGAIN` when
//!   non-blocking); `poll` reports both.
//! - ioctls (see [`ioctl`]): a DMA round trip of 4 KiB through the device's
//!   buffer, the driver's counters, raising an interrupt, the liveness
//!   register.
//!
//! A timer watches every computation: if the completion interrupt never
//! comes, the driver notices the result after a second and logs it.
//!
//! Hot swap: a version hands the next its last result and its counters
//! (state version 1), so a process holding `/dev/edu` open reads on.

#![no_std]
#![forbid(unsafe_code)]

pub mod ioctl;
pub mod regs;

use cervus_guest::Errno;
use cervus_guest::driver::{
    COMMAND_MASTER, COMMAND_MEMORY, DmaBuffer, Driver, FileId, Irq, IrqMode, Irqs, Mmio, MmioOp, POLL_IN, POLL_OUT,
    Pci, Timer, UserBuffer, chrdev, handoff, now_ns, sleep_us,
};
use cervus_guest::{info, warn};
use serde::{Deserialize, Serialize};

use regs::*;

cervus_guest::driver!(Edu, pci: [(0x1234, 0x11e8)]);

/// The watchdog timer for factorials.
const WATCHDOG: Timer = Timer(0);
/// How long a factorial may take before the watchdog looks.
const WATCHDOG_US: u64 = 1_000_000;
/// How long a DMA transfer may take (QEMU's takes 100 ms).
const DMA_TIMEOUT_NS: u64 = 2_000_000_000;
/// The largest n whose factorial fits the device's 32 bits.
const MAX_FACTORIAL: u32 = 12;

/// The version of the state handed over in a hot swap.
const STATE_VERSION: u32 = 1;

/// The driver's counters, returned by [`ioctl::STATS`] as six `u64`s in
/// this order.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Hard interrupts.
    pub irqs: u64,
    /// Calls of the interrupt handler (hard interrupts may be coalesced).
    pub irq_events: u64,
    /// Factorials completed.
    pub factorials: u64,
    /// DMA round trips completed.
    pub dma_round_trips: u64,
    /// Interrupts with bits other than the factorial and DMA ones (raised
    /// through [`ioctl::RAISE`]).
    pub raised: u64,
    /// Factorials the watchdog completed because their interrupt was lost.
    pub missed: u64,
}

impl Stats {
    fn to_bytes(self) -> [u8; 48] {
        let mut out = [0u8; 48];
        let values = [self.irqs, self.irq_events, self.factorials, self.dma_round_trips, self.raised, self.missed];
        for (chunk, v) in out.chunks_exact_mut(8).zip(values) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// The factorial unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Job {
    /// Nothing asked yet.
    Idle,
    /// Computing n!.
    Computing(u32),
    /// The last result: n and n!.
    Done(u32, u32),
}

/// The driver's state.
pub struct Edu {
    mmio: Mmio,
    irqs: Irqs,
    /// RAM-to-device source of a round trip.
    dma_in: DmaBuffer,
    /// Device-to-RAM destination of a round trip.
    dma_out: DmaBuffer,
    job: Job,
    stats: Stats,
}

impl Driver for Edu {
    fn probe() -> Result<Self, Errno> {
        let pci = Pci;
        let mmio = Mmio::map(0)?;
        let ident = mmio.read(IDENT)?;
        if ident != IDENT_EDU {
            warn!("unknown identification {ident:#010x}: not an edu device");
            return Err(Errno::NotFound);
        }
        DmaBuffer::set_mask(DMA_ADDRESS_BITS)?;
        let dma_in = DmaBuffer::alloc(DMA_DEVICE_BUFFER_SIZE)?;
        let dma_out = DmaBuffer::alloc(DMA_DEVICE_BUFFER_SIZE)?;
        let irqs = Irqs::alloc(Irqs::MSI | Irqs::INTX, 1, 1)?;
        if irqs.mode() == IrqMode::Intx {
            irqs.intx_config(&mmio, IRQ_STATUS, Some(IRQ_ACK))?;
        }
        pci.set_command(COMMAND_MEMORY | COMMAND_MASTER, 0)?;
        mmio.write(STATUS, STATUS_IRQ_FACTORIAL)?;
        // After a swap: the previous version's last result and counters. A
        // computation it had started is lost with its device state.
        let (job, stats) = match handoff::restore::<(Job, Stats)>(STATE_VERSION) {
            Ok(Some((Job::Computing(_), stats))) => (Job::Idle, stats),
            Ok(Some(saved)) => saved,
            Ok(None) => (Job::Idle, Stats::default()),
            Err(e) => {
                warn!("cannot read the previous version's state: {e:?}");
                return Err(e);
            }
        };
        chrdev::register("edu")?;
        chrdev::set_ready(match job {
            Job::Done(..) => POLL_IN | POLL_OUT,
            _ => POLL_OUT,
        })?;
        info!(
            "edu {}.{} ready: {:?} interrupts, DMA at {:#x} and {:#x}, /dev/edu",
            ident >> 24,
            (ident >> 16) & 0xff,
            irqs.mode(),
            dma_in.bus_addr(),
            dma_out.bus_addr()
        );
        Ok(Edu { mmio, irqs, dma_in, dma_out, job, stats })
    }

    fn remove(&mut self) {
        let _ = self.mmio.write(STATUS, 0);
        let _ = WATCHDOG.stop();
        let _ = Pci.set_command(0, COMMAND_MASTER);
        info!(
            "edu stopped after {} factorials, {} DMA round trips, {} interrupts ({:?})",
            self.stats.factorials,
            self.stats.dma_round_trips,
            self.stats.irqs,
            self.irqs.mode()
        );
    }

    fn save(&mut self) -> Result<(), Errno> {
        handoff::save(STATE_VERSION, &(self.job, self.stats))
    }

    fn irq(&mut self, irq: Irq) {
        self.stats.irqs += u64::from(irq.count);
        self.stats.irq_events += 1;
        // INTx: the host read and acknowledged the status for us.
        let status = if irq.status != 0 { irq.status } else { self.take_irq_status() };
        if status & IRQ_FACTORIAL != 0 {
            self.finish_factorial();
        }
        if status & !(IRQ_FACTORIAL | IRQ_DMA) != 0 {
            self.stats.raised += 1;
        }
    }

    fn timer(&mut self, _id: u32) {
        if let Job::Computing(_) = self.job {
            match self.mmio.read(STATUS) {
                Ok(status) if status & STATUS_COMPUTING == 0 => {
                    warn!("the factorial interrupt was lost; completing from the register");
                    self.stats.missed += 1;
                    self.finish_factorial();
                }
                _ => {
                    let _ = WATCHDOG.start(WATCHDOG_US, 0);
                }
            }
        }
    }

    fn read(&mut self, _file: FileId, buf: &mut UserBuffer, offset: i64) -> Result<usize, Errno> {
        match self.job {
            _ if offset > 0 => Ok(0),
            Job::Idle => Ok(0),
            Job::Computing(_) => Err(Errno::WouldBlock),
            Job::Done(_, value) => {
                let mut text = Decimal::new(value);
                let line = text.line();
                buf.write(0, &line[..line.len().min(buf.len())])
            }
        }
    }

    fn write(&mut self, _file: FileId, buf: &mut UserBuffer, _offset: i64) -> Result<usize, Errno> {
        if let Job::Computing(_) = self.job {
            return Err(Errno::WouldBlock);
        }
        let mut text = [0u8; 16];
        if buf.len() > text.len() {
            return Err(Errno::InvalidArgument);
        }
        let n = buf.read(0, &mut text[..buf.len()])?;
        let n = parse_decimal(&text[..n]).filter(|n| *n <= MAX_FACTORIAL).ok_or(Errno::InvalidArgument)?;
        chrdev::set_ready(0)?;
        self.job = Job::Computing(n);
        self.mmio.write(FACTORIAL, n)?;
        WATCHDOG.start(WATCHDOG_US, 0)?;
        Ok(buf.len())
    }

    fn ioctl(&mut self, _file: FileId, cmd: u32, buf: &mut UserBuffer) -> Result<i32, Errno> {
        match cmd {
            ioctl::DMA_ROUND_TRIP => self.dma_round_trip(buf),
            ioctl::STATS => buf.write(0, &self.stats.to_bytes()).map(|_| 0),
            ioctl::RAISE => {
                let bits = read_u32(buf)?;
                if bits == 0 {
                    return Err(Errno::InvalidArgument);
                }
                self.mmio.write(IRQ_RAISE, bits).map(|()| 0)
            }
            ioctl::LIVENESS => {
                self.mmio.write(LIVENESS, read_u32(buf)?)?;
                let value = self.mmio.read(LIVENESS)?;
                buf.write(0, &value.to_le_bytes()).map(|_| 0)
            }
            _ => Err(Errno::Unsupported),
        }
    }
}

impl Edu {
    /// Reads and acknowledges the interrupt status (MSI).
    fn take_irq_status(&self) -> u32 {
        let status = self.mmio.read(IRQ_STATUS).unwrap_or(0);
        if status != 0 {
            let _ = self.mmio.write(IRQ_ACK, status);
        }
        status
    }

    /// Collects a finished factorial and wakes readers.
    fn finish_factorial(&mut self) {
        let Job::Computing(n) = self.job else { return };
        let Ok(value) = self.mmio.read(FACTORIAL) else { return };
        let _ = WATCHDOG.stop();
        self.job = Job::Done(n, value);
        self.stats.factorials += 1;
        let _ = chrdev::set_ready(POLL_IN | POLL_OUT);
    }

    /// Sends the caller's 4 KiB to the device's buffer by DMA, then back
    /// into the second DMA buffer, and returns that. It goes in two halves
    /// (see [`DMA_CHUNK`]), each through the start of the device's buffer.
    fn dma_round_trip(&mut self, buf: &mut UserBuffer) -> Result<i32, Errno> {
        let mut data = [0u8; ioctl::DMA_LEN];
        if buf.read(0, &mut data)? != data.len() {
            return Err(Errno::BadPointer);
        }
        self.dma_in.write(0, &data)?;
        self.dma_out.write(0, &[0; ioctl::DMA_LEN])?;
        DmaBuffer::write_barrier();
        for at in (0..ioctl::DMA_LEN).step_by(DMA_CHUNK) {
            let at = at as u64;
            self.dma(self.dma_in.bus_addr() + at, DMA_DEVICE_BUFFER, 0)?;
            self.dma(DMA_DEVICE_BUFFER, self.dma_out.bus_addr() + at, DMA_TO_RAM)?;
        }
        DmaBuffer::read_barrier();
        self.dma_out.read(0, &mut data)?;
        buf.write(0, &data)?;
        self.stats.dma_round_trips += 1;
        Ok(data.len() as i32)
    }

    /// Runs one DMA transfer of [`DMA_CHUNK`] bytes and waits for it.
    fn dma(&self, src: u64, dst: u64, direction: u64) -> Result<(), Errno> {
        if self.mmio.read(DMA_CMD)? & DMA_RUN != 0 {
            return Err(Errno::WouldBlock);
        }
        let mut ops = [
            MmioOp { write: true, width: 8, offset: DMA_SRC.offset, value: src },
            MmioOp { write: true, width: 8, offset: DMA_DST.offset, value: dst },
            MmioOp { write: true, width: 8, offset: DMA_COUNT.offset, value: DMA_CHUNK as u64 },
            MmioOp { write: true, width: 8, offset: DMA_CMD.offset, value: DMA_RUN | direction | DMA_IRQ },
        ];
        self.mmio.batch(&mut ops)?;
        let deadline = now_ns() + DMA_TIMEOUT_NS;
        while self.mmio.read(DMA_CMD)? & DMA_RUN != 0 {
            if now_ns() > deadline {
                warn!("DMA transfer {src:#x} -> {dst:#x} did not finish");
                return Err(Errno::Io);
            }
            sleep_us(2000)?;
        }
        Ok(())
    }
}

/// A little-endian `u32` from the start of an ioctl argument.
fn read_u32(buf: &mut UserBuffer) -> Result<u32, Errno> {
    let mut bytes = [0u8; 4];
    if buf.read(0, &mut bytes)? != bytes.len() {
        return Err(Errno::BadPointer);
    }
    Ok(u32::from_le_bytes(bytes))
}

/// A decimal number, surrounded by optional ASCII whitespace.
fn parse_decimal(text: &[u8]) -> Option<u32> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u32, |n, &c| {
        let digit = char::from(c).to_digit(10)?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// A `u32` as a decimal line.
struct Decimal {
    buf: [u8; 11],
    start: usize,
}

impl Decimal {
    fn new(mut value: u32) -> Self {
        let mut buf = [0u8; 11];
        let mut start = buf.len() - 1;
        buf[start] = b'\n';
        loop {
            start -= 1;
            buf[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        Decimal { buf, start }
    }

    fn line(&mut self) -> &[u8] {
        &self.buf[self.start..]
    }
}
