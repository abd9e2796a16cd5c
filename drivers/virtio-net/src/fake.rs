// SPDX-License-Identifier: MIT OR Apache-2.0

//! A fake virtio-net device for host tests, laid out as QEMU's
//! `virtio-net-pci,disable-legacy=on`: the virtio structures in BAR 4
//! (common configuration at 0, ISR at 0x1000, device configuration at
//! 0x2000, notify at 0x3000 with a multiplier of 4).
//!
//! It processes the transmit queue when notified (recording the frames;
//! unless a test holds it) and fills receive buffers with frames the test
//! injects. It counts the interrupts it would raise, honouring the
//! driver's suppression (flags, or `used_event` with event indexes), and
//! with event indexes asks for notifications through `avail_event` as
//! QEMU does. DMA memory is four byte vectors at distinct bus addresses.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;

use crate::hw::{Barrier, Buf, Errno, Frame, Hw};

const BUFS: [Buf; 4] = [Buf::RxRing, Buf::TxRing, Buf::RxPool, Buf::TxPool];
const BAR: u8 = 4;
const COMMON: u32 = 0;
const ISR: u32 = 0x1000;
const DEVICE: u32 = 0x2000;
const NOTIFY: u32 = 0x3000;

/// Feature bits the fake offers: more than the driver accepts.
pub const OFFERED: u64 = (1 << 32) | (1 << 5) | (1 << 16) | (1 << 17) | (1 << 22) | (1 << 29) | (1 << 40);
/// `VIRTIO_F_EVENT_IDX`.
const EVENT_IDX: u64 = 1 << 29;

fn bus_base(buf: Buf) -> u64 {
    match buf {
        Buf::RxRing => 0x1000_0000,
        Buf::TxRing => 0x2000_0000,
        Buf::RxPool => 0x3000_0000,
        Buf::TxPool => 0x4000_0000,
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Queue {
    pub size: u16,
    pub vector: u16,
    pub enabled: bool,
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
    pub last_avail: u16,
    pub used_idx: u16,
}

#[derive(Debug)]
pub struct State {
    pub status: u8,
    pub offered: u64,
    pub device_feature_select: u32,
    pub driver_feature_select: u32,
    pub driver_features: u64,
    pub msix_config: u16,
    pub queue_select: u16,
    pub queues: [Queue; 2],
    pub mac: [u8; 6],
    pub link_up: bool,
    pub generation: u8,
    pub mem: [Vec<u8>; 4],
    /// Frames the device sent.
    pub sent: Vec<Vec<u8>>,
    /// Where each sent frame was (the bus address of its descriptor).
    pub sent_from: Vec<u64>,
    /// Frames waiting for receive buffers.
    pub incoming: VecDeque<Vec<u8>>,
    /// What the driver handed to the stack.
    pub delivered: Vec<Vec<u8>>,
    /// Frames the stack queued for the driver to send.
    pub to_send: VecDeque<Vec<u8>>,
    pub carrier: Option<bool>,
    pub warnings: Vec<String>,
    pub notifies: [u32; 2],
    /// Interrupts raised per queue (those the driver did not suppress).
    pub interrupts: [u32; 2],
    /// Per queue, the used index that raised the last interrupt.
    pub interrupted_at: [u16; 2],
    /// While set, notifications of the transmit queue are counted but
    /// nothing is sent ([`FakeDevice::release_tx`] sends).
    pub hold_tx: bool,
}

pub struct FakeDevice {
    pub state: RefCell<State>,
    config: [u8; 256],
}

impl FakeDevice {
    pub fn new() -> Self {
        let mut config = [0u8; 256];
        config[0..4].copy_from_slice(&[0xf4, 0x1a, 0x41, 0x10]);
        config[0x34] = 0x40;
        // (type, offset, length) of each structure, chained from 0x40.
        let caps: [(u8, u32, u32); 4] =
            [(1, COMMON, 0x1000), (3, ISR, 0x1000), (4, DEVICE, 0x1000), (2, NOTIFY, 0x1000)];
        for (i, (kind, offset, len)) in caps.iter().enumerate() {
            let at = 0x40 + i * 0x14;
            config[at] = 0x09;
            config[at + 1] = if i + 1 < caps.len() { (at + 0x14) as u8 } else { 0 };
            config[at + 2] = if *kind == 2 { 20 } else { 16 };
            config[at + 3] = *kind;
            config[at + 4] = BAR;
            config[at + 8..at + 12].copy_from_slice(&offset.to_le_bytes());
            config[at + 12..at + 16].copy_from_slice(&len.to_le_bytes());
            if *kind == 2 {
                config[at + 16..at + 20].copy_from_slice(&4u32.to_le_bytes());
            }
        }
        FakeDevice {
            config,
            state: RefCell::new(State {
                status: 0,
                offered: OFFERED,
                device_feature_select: 0,
                driver_feature_select: 0,
                driver_features: 0,
                msix_config: 0xffff,
                queue_select: 0,
                queues: [Queue { vector: 0xffff, ..Queue::default() }; 2],
                mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
                link_up: true,
                generation: 0,
                mem: [
                    vec![0; crate::ring::RING_BYTES],
                    vec![0; crate::ring::RING_BYTES],
                    vec![0; crate::net::POOL_BYTES],
                    vec![0; crate::net::POOL_BYTES],
                ],
                sent: Vec::new(),
                sent_from: Vec::new(),
                incoming: VecDeque::new(),
                delivered: Vec::new(),
                to_send: VecDeque::new(),
                carrier: None,
                warnings: Vec::new(),
                notifies: [0; 2],
                interrupts: [0; 2],
                interrupted_at: [0; 2],
                hold_tx: false,
            }),
        }
    }

    fn reset(state: &mut State) {
        state.status = 0;
        state.driver_features = 0;
        state.msix_config = 0xffff;
        state.queues = [Queue { vector: 0xffff, ..Queue::default() }; 2];
    }

    /// Queues `frame` for reception and fills receive buffers.
    pub fn inject(&self, frame: &[u8]) {
        self.state.borrow_mut().incoming.push_back(frame.to_vec());
        self.fill_rx();
    }

    /// Stops holding the transmit queue and sends what it holds.
    pub fn release_tx(&self) {
        let mut s = self.state.borrow_mut();
        s.hold_tx = false;
        Self::process_tx(&mut s);
    }

    /// Writes a used entry as a misbehaving device would.
    pub fn write_bogus_used(&self, queue: usize, id: u32, len: u32) {
        let mut s = self.state.borrow_mut();
        let q = s.queues[queue];
        let at = q.used + 4 + 8 * u64::from(q.used_idx % q.size);
        let mut entry = [0u8; 8];
        entry[..4].copy_from_slice(&id.to_le_bytes());
        entry[4..].copy_from_slice(&len.to_le_bytes());
        write_bus(&mut s, at, &entry);
        s.queues[queue].used_idx = q.used_idx.wrapping_add(1);
        let idx = s.queues[queue].used_idx;
        write_bus(&mut s, q.used + 2, &idx.to_le_bytes());
    }

    fn fill_rx(&self) {
        let mut s = self.state.borrow_mut();
        if s.status & 4 == 0 || !s.queues[0].enabled {
            return;
        }
        while !s.incoming.is_empty() {
            let q = s.queues[0];
            let avail_idx = u16::from_le_bytes(read_bus(&s, q.avail + 2, 2).try_into().unwrap());
            if avail_idx == q.last_avail {
                break;
            }
            let frame = s.incoming.pop_front().unwrap();
            let slot = u64::from(q.last_avail % q.size);
            let id = u16::from_le_bytes(read_bus(&s, q.avail + 4 + 2 * slot, 2).try_into().unwrap());
            let desc = read_bus(&s, q.desc + 16 * u64::from(id), 16);
            let addr = u64::from_le_bytes(desc[0..8].try_into().unwrap());
            let cap = u32::from_le_bytes(desc[8..12].try_into().unwrap()) as usize;
            let mut data = vec![0u8; 12];
            data[10] = 1; // num_buffers
            data.extend_from_slice(&frame);
            data.truncate(cap);
            write_bus(&mut s, addr, &data);
            used(&mut s, 0, u32::from(id), data.len() as u32);
            s.queues[0].last_avail = q.last_avail.wrapping_add(1);
        }
        ask_notify(&mut s, 0);
    }

    fn process_tx(state: &mut State) {
        let q = state.queues[1];
        if state.status & 4 == 0 || !q.enabled {
            return;
        }
        let avail_idx = u16::from_le_bytes(read_bus(state, q.avail + 2, 2).try_into().unwrap());
        let mut last = q.last_avail;
        while last != avail_idx {
            let slot = u64::from(last % q.size);
            let id = u16::from_le_bytes(read_bus(state, q.avail + 4 + 2 * slot, 2).try_into().unwrap());
            let desc = read_bus(state, q.desc + 16 * u64::from(id), 16);
            let addr = u64::from_le_bytes(desc[0..8].try_into().unwrap());
            let len = u32::from_le_bytes(desc[8..12].try_into().unwrap()) as usize;
            let data = read_bus(state, addr, len);
            assert!(data[..12].iter().all(|b| *b == 0), "transmit header not zero");
            state.sent.push(data[12..].to_vec());
            state.sent_from.push(addr);
            used(state, 1, u32::from(id), 0);
            last = last.wrapping_add(1);
        }
        state.queues[1].last_avail = last;
        ask_notify(state, 1);
    }
}

fn locate(state: &State, bus: u64) -> (usize, usize) {
    for (i, buf) in BUFS.iter().enumerate() {
        let base = bus_base(*buf);
        if bus >= base && bus < base + state.mem[i].len() as u64 {
            return (i, (bus - base) as usize);
        }
    }
    panic!("the device touched {bus:#x}, outside every DMA buffer");
}

fn read_bus(state: &State, bus: u64, len: usize) -> Vec<u8> {
    let (i, off) = locate(state, bus);
    state.mem[i][off..off + len].to_vec()
}

fn write_bus(state: &mut State, bus: u64, data: &[u8]) {
    let (i, off) = locate(state, bus);
    state.mem[i][off..off + data.len()].copy_from_slice(data);
}

fn used(state: &mut State, queue: usize, id: u32, len: u32) {
    let q = state.queues[queue];
    let mut entry = [0u8; 8];
    entry[..4].copy_from_slice(&id.to_le_bytes());
    entry[4..].copy_from_slice(&len.to_le_bytes());
    write_bus(state, q.used + 4 + 8 * u64::from(q.used_idx % q.size), &entry);
    let idx = q.used_idx.wrapping_add(1);
    state.queues[queue].used_idx = idx;
    write_bus(state, q.used + 2, &idx.to_le_bytes());
    // Like QEMU's virtio-net, one interrupt check per used entry.
    let wanted = if state.driver_features & EVENT_IDX != 0 {
        let event = read_u16(state, q.avail + 4 + 2 * u64::from(q.size));
        idx.wrapping_sub(event).wrapping_sub(1) < idx.wrapping_sub(q.used_idx)
    } else {
        read_u16(state, q.avail) & 1 == 0
    };
    if wanted {
        state.interrupts[queue] += 1;
        state.interrupted_at[queue] = idx;
    }
}

/// With event indexes, asks to be notified when the driver makes the next
/// entry available (what QEMU does when it has processed a queue).
fn ask_notify(state: &mut State, queue: usize) {
    let q = state.queues[queue];
    if state.driver_features & EVENT_IDX != 0 {
        write_bus(state, q.used + 4 + 8 * u64::from(q.size), &q.last_avail.to_le_bytes());
    }
}

fn read_u16(state: &State, bus: u64) -> u16 {
    u16::from_le_bytes(read_bus(state, bus, 2).try_into().unwrap())
}

fn index(buf: Buf) -> usize {
    BUFS.iter().position(|b| *b == buf).unwrap()
}

impl Hw for FakeDevice {
    fn config_read8(&self, offset: u16) -> Result<u8, Errno> {
        self.config.get(usize::from(offset)).copied().ok_or(Errno::OutOfBounds)
    }

    fn config_read32(&self, offset: u16) -> Result<u32, Errno> {
        let at = usize::from(offset);
        let bytes = self.config.get(at..at + 4).ok_or(Errno::OutOfBounds)?;
        Ok(u32::from_le_bytes(bytes.try_into().unwrap()))
    }

    fn read(&self, bar: u8, offset: u32, width: u8) -> Result<u64, Errno> {
        assert_eq!(bar, BAR);
        let s = self.state.borrow();
        let q = s.queues[usize::from(s.queue_select).min(1)];
        Ok(match offset {
            0x04 => (s.offered >> (32 * s.device_feature_select)) & 0xffff_ffff,
            0x0c => (s.driver_features >> (32 * s.driver_feature_select)) & 0xffff_ffff,
            0x10 => u64::from(s.msix_config),
            0x12 => 2,
            0x14 => u64::from(s.status),
            0x15 => u64::from(s.generation),
            0x18 => 256,
            0x1a => u64::from(q.vector),
            0x1c => u64::from(q.enabled),
            0x1e => u64::from(s.queue_select),
            o if (DEVICE..DEVICE + 6).contains(&o) => u64::from(s.mac[(o - DEVICE) as usize]),
            o if o == DEVICE + 6 => u64::from(s.link_up),
            o if o == DEVICE + 7 => 0,
            o if o == ISR => 0,
            _ => panic!("read of unexpected register {offset:#x} width {width}"),
        })
    }

    fn write(&self, bar: u8, offset: u32, width: u8, value: u64) -> Result<(), Errno> {
        assert_eq!(bar, BAR);
        let mut s = self.state.borrow_mut();
        let sel = usize::from(s.queue_select).min(1);
        let half = |old: u64, high: bool| {
            if high { (old & 0xffff_ffff) | (value << 32) } else { (old & !0xffff_ffff) | (value & 0xffff_ffff) }
        };
        match offset {
            0x00 => s.device_feature_select = value as u32,
            0x08 => s.driver_feature_select = value as u32,
            0x0c => {
                let shift = 32 * s.driver_feature_select;
                s.driver_features = (s.driver_features & !(0xffff_ffff << shift)) | (value << shift);
            }
            0x10 => s.msix_config = value as u16,
            0x14 => {
                if value == 0 {
                    Self::reset(&mut s);
                } else {
                    // FEATURES_OK does not stick if the driver accepted
                    // something that was not offered.
                    let refused = value as u8 & 8 != 0 && s.driver_features & !s.offered != 0;
                    s.status = if refused { value as u8 & !8 } else { value as u8 };
                }
            }
            0x16 => s.queue_select = value as u16,
            0x18 => s.queues[sel].size = value as u16,
            0x1a => s.queues[sel].vector = value as u16,
            0x1c => s.queues[sel].enabled = value == 1,
            0x20 | 0x24 => {
                assert_eq!(width, 4, "64-bit fields are written as two 32-bit halves");
                s.queues[sel].desc = half(s.queues[sel].desc, offset == 0x24);
            }
            0x28 | 0x2c => s.queues[sel].avail = half(s.queues[sel].avail, offset == 0x2c),
            0x30 | 0x34 => s.queues[sel].used = half(s.queues[sel].used, offset == 0x34),
            o if o == NOTIFY || o == NOTIFY + 4 => {
                let q = ((o - NOTIFY) / 4) as usize;
                s.notifies[q] += 1;
                if q == 1 {
                    if !s.hold_tx {
                        Self::process_tx(&mut s);
                    }
                } else {
                    drop(s);
                    self.fill_rx();
                }
            }
            _ => panic!("write of unexpected register {offset:#x}"),
        }
        Ok(())
    }

    fn dma_read(&self, buf: Buf, offset: usize, dst: &mut [u8]) -> Result<(), Errno> {
        let s = self.state.borrow();
        let mem = &s.mem[index(buf)];
        dst.copy_from_slice(mem.get(offset..offset + dst.len()).ok_or(Errno::OutOfBounds)?);
        Ok(())
    }

    fn dma_write(&self, buf: Buf, offset: usize, src: &[u8]) -> Result<(), Errno> {
        let mut s = self.state.borrow_mut();
        let mem = &mut s.mem[index(buf)];
        mem.get_mut(offset..offset + src.len()).ok_or(Errno::OutOfBounds)?.copy_from_slice(src);
        Ok(())
    }

    fn bus_addr(&self, buf: Buf) -> u64 {
        bus_base(buf)
    }

    fn barrier(&self, _kind: Barrier) {}

    fn sleep_us(&self, _us: u32) {}

    fn deliver(&self, frames: &[Frame]) -> Result<usize, Errno> {
        let mut s = self.state.borrow_mut();
        for f in frames {
            let frame = s.mem[index(f.buf)][f.offset..f.offset + f.len].to_vec();
            s.delivered.push(frame);
        }
        Ok(frames.len())
    }

    fn take(&self, slots: &mut [Frame]) -> Result<usize, Errno> {
        let mut s = self.state.borrow_mut();
        let mut taken = 0;
        for slot in slots.iter_mut() {
            let Some(frame) = s.to_send.pop_front() else { break };
            assert!(frame.len() <= slot.len);
            s.mem[index(slot.buf)][slot.offset..slot.offset + frame.len()].copy_from_slice(&frame);
            slot.len = frame.len();
            taken += 1;
        }
        Ok(taken)
    }

    fn set_carrier(&self, up: bool) {
        self.state.borrow_mut().carrier = Some(up);
    }

    fn warn(&self, args: fmt::Arguments<'_>) {
        self.state.borrow_mut().warnings.push(args.to_string());
    }
}
