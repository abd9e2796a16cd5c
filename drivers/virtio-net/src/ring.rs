// SPDX-License-Identifier: MIT OR Apache-2.0

//! A split virtqueue whose descriptors each own a fixed slot of a buffer
//! pool: descriptor `i` always points at slot `i`.
//!
//! The driver keeps its own record of what it gave the device (the shadow:
//! which descriptors are in flight, its own ring indexes) and reads only the
//! used ring from shared memory, checking every entry against that record:
//! a device (or anyone writing its memory) reporting an id out of range, a
//! descriptor not in flight, or a length longer than the slot gets the
//! entry ignored and counted, never followed.
//!
//! Layout of the ring buffer (offsets fit queues of up to [`MAX_SIZE`]):
//! descriptors at 0, the available ring at [`AVAIL`], the used ring at
//! [`USED`].
//!
//! Notifications both ways are suppressed with flags, or, once the device
//! and the driver agree on `VIRTIO_F_EVENT_IDX` ([`Ring::set_event_idx`]),
//! with event indexes (spec 2.7.7-2.7.10): the driver writes the used index
//! it wants an interrupt at (`used_event`, after the available ring), the
//! device the available index it wants a notification at (`avail_event`,
//! after the used ring). Event indexes let the driver ask for one
//! interrupt after a number of entries ([`Ring::interrupt_after`]) instead
//! of one per entry.

use serde::{Deserialize, Serialize};

use crate::hw::{Barrier, Buf, Errno, Hw};

/// Largest queue this driver sets up.
pub const MAX_SIZE: u16 = 256;
/// Offset of the available ring.
pub const AVAIL: usize = 16 * MAX_SIZE as usize;
/// Offset of the used ring (4-byte aligned, after the available ring).
pub const USED: usize = 2 * AVAIL;
/// Bytes of a ring buffer.
pub const RING_BYTES: usize = USED + 6 + 8 * MAX_SIZE as usize;

/// Descriptor flag: the device writes the buffer.
const DESC_F_WRITE: u16 = 2;
/// Used-ring flag: the device does not need to be notified of new buffers
/// (it will look at the ring anyway).
const USED_F_NO_NOTIFY: u16 = 1;

/// An entry the device returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    /// The descriptor (= slot) id.
    pub id: u16,
    /// Bytes the device wrote (receive) or 0 (transmit).
    pub len: u32,
}

/// What a queue's shadow state holds beyond its fixed shape: what a new
/// version of the driver needs to take over the live queue (hot swap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingState {
    size: u16,
    avail_idx: u16,
    last_used: u16,
    in_flight: [u64; MAX_SIZE as usize / 64],
    bad_entries: u64,
}

/// One queue's shadow state.
pub struct Ring {
    /// Entries.
    pub size: u16,
    ring: Buf,
    pool: Buf,
    slot_len: usize,
    device_writes: bool,
    avail_idx: u16,
    last_used: u16,
    in_flight: [u64; MAX_SIZE as usize / 64],
    /// Used entries ignored because they did not match what was given.
    pub bad_entries: u64,
    /// Whether notifications are suppressed with event indexes.
    event_idx: bool,
    /// The available index when the driver last decided whether to notify.
    kicked: u16,
}

/// Whether an index moving from `old` to `new` passed `event` (the spec's
/// `vring_need_event`, in wrapping 16-bit arithmetic).
fn passed(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

impl Ring {
    /// A queue of `size` entries (at most [`MAX_SIZE`]) over `ring`, with
    /// slots of `slot_len` bytes in `pool`; `device_writes` for receive.
    pub fn new(size: u16, ring: Buf, pool: Buf, slot_len: usize, device_writes: bool) -> Self {
        Ring {
            size: size.min(MAX_SIZE),
            ring,
            pool,
            slot_len,
            device_writes,
            avail_idx: 0,
            last_used: 0,
            in_flight: [0; MAX_SIZE as usize / 64],
            bad_entries: 0,
            event_idx: false,
            kicked: 0,
        }
    }

    /// Suppresses notifications with event indexes (`on`: the device
    /// accepted `VIRTIO_F_EVENT_IDX`) or with flags.
    pub fn set_event_idx(&mut self, on: bool) {
        self.event_idx = on;
    }

    /// Offset of `used_event`: after the available ring.
    fn used_event_offset(&self) -> usize {
        AVAIL + 4 + 2 * usize::from(self.size)
    }

    /// Offset of `avail_event`: after the used ring.
    fn avail_event_offset(&self) -> usize {
        USED + 4 + 8 * usize::from(self.size)
    }

    /// Its state, for [`Ring::resume`].
    pub fn state(&self) -> RingState {
        RingState {
            size: self.size,
            avail_idx: self.avail_idx,
            last_used: self.last_used,
            in_flight: self.in_flight,
            bad_entries: self.bad_entries,
        }
    }

    /// The queue `state` describes, over `ring` and `pool` as in
    /// [`Ring::new`]. `InvalidArgument` if the state cannot be one this
    /// driver made (a size out of range, descriptors in flight beyond it).
    pub fn resume(state: RingState, ring: Buf, pool: Buf, slot_len: usize, device_writes: bool) -> Result<Self, Errno> {
        let mut queue = Ring::new(state.size, ring, pool, slot_len, device_writes);
        let beyond = (state.size..MAX_SIZE).any(|id| state.in_flight[usize::from(id) / 64] & (1 << (id % 64)) != 0);
        if state.size == 0 || state.size > MAX_SIZE || beyond {
            return Err(Errno::InvalidArgument);
        }
        queue.avail_idx = state.avail_idx;
        queue.last_used = state.last_used;
        queue.in_flight = state.in_flight;
        queue.bad_entries = state.bad_entries;
        // What the previous version posted, it also notified (or the
        // device did not want it to).
        queue.kicked = state.avail_idx;
        Ok(queue)
    }

    /// Ids below the queue's size that are not in flight, in order.
    pub fn idle_ids(&self) -> impl Iterator<Item = u16> + '_ {
        (0..self.size).filter(|id| !self.flying(*id))
    }

    /// The bus addresses of the descriptor table, available and used rings.
    pub fn addresses(&self, hw: &impl Hw) -> (u64, u64, u64) {
        let base = hw.bus_addr(self.ring);
        (base, base + AVAIL as u64, base + USED as u64)
    }

    /// Where slot `id` starts in the pool.
    pub fn slot_offset(&self, id: u16) -> usize {
        usize::from(id) * self.slot_len
    }

    /// Writes the descriptor table (every descriptor on its slot) and
    /// clears both rings; forgets everything in flight.
    pub fn init(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        let pool = hw.bus_addr(self.pool);
        let mut table = [0u8; 16 * MAX_SIZE as usize];
        for id in 0..self.size {
            let d = &mut table[usize::from(id) * 16..][..16];
            d[0..8].copy_from_slice(&(pool + self.slot_offset(id) as u64).to_le_bytes());
            let len = if self.device_writes { self.slot_len as u32 } else { 0 };
            d[8..12].copy_from_slice(&len.to_le_bytes());
            let flags = if self.device_writes { DESC_F_WRITE } else { 0 };
            d[12..14].copy_from_slice(&flags.to_le_bytes());
        }
        hw.dma_write(self.ring, 0, &table[..16 * usize::from(self.size)])?;
        hw.dma_write(self.ring, AVAIL, &[0; 4])?;
        hw.dma_write(self.ring, self.used_event_offset(), &[0; 2])?;
        hw.dma_write(self.ring, USED, &[0; 4])?;
        // The device writes it only when it next wants a notification: one
        // left from before a reset would silence the next ones.
        hw.dma_write(self.ring, self.avail_event_offset(), &[0; 2])?;
        self.avail_idx = 0;
        self.last_used = 0;
        self.kicked = 0;
        self.in_flight = [0; MAX_SIZE as usize / 64];
        Ok(())
    }

    fn flying(&self, id: u16) -> bool {
        self.in_flight[usize::from(id) / 64] & (1 << (id % 64)) != 0
    }

    fn set_flying(&mut self, id: u16, on: bool) {
        let (word, bit) = (usize::from(id) / 64, 1u64 << (id % 64));
        if on {
            self.in_flight[word] |= bit;
        } else {
            self.in_flight[word] &= !bit;
        }
    }

    /// Entries in flight.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.iter().map(|w| w.count_ones()).sum()
    }

    /// Sets the lengths of transmit descriptors: `(id, len)` pairs, written
    /// in runs of consecutive ids.
    pub fn set_lengths(&mut self, hw: &impl Hw, entries: &[(u16, u32)]) -> Result<(), Errno> {
        if entries.iter().any(|(id, len)| *id >= self.size || *len as usize > self.slot_len) {
            return Err(Errno::InvalidArgument);
        }
        let pool = hw.bus_addr(self.pool);
        let mut run = [0u8; 16 * 64];
        let mut i = 0;
        while i < entries.len() {
            let first = entries[i].0;
            let mut n = 0;
            while i + n < entries.len()
                && n < 64
                && entries[i + n].0 == first.wrapping_add(n as u16)
                && first as usize + n < usize::from(self.size)
            {
                let (id, len) = entries[i + n];
                let d = &mut run[n * 16..][..16];
                d[0..8].copy_from_slice(&(pool + self.slot_offset(id) as u64).to_le_bytes());
                d[8..12].copy_from_slice(&len.to_le_bytes());
                d[12..16].copy_from_slice(&[0; 4]);
                n += 1;
            }
            hw.dma_write(self.ring, usize::from(first) * 16, &run[..n * 16])?;
            i += n;
        }
        Ok(())
    }

    /// Makes descriptors `ids` available to the device (the caller then
    /// notifies it, if it should).
    pub fn post(&mut self, hw: &impl Hw, ids: &[u16]) -> Result<(), Errno> {
        if ids.is_empty() {
            return Ok(());
        }
        if ids.iter().any(|id| *id >= self.size || self.flying(*id)) {
            return Err(Errno::InvalidArgument);
        }
        if ids.len() > 64 {
            let (first, rest) = ids.split_at(64);
            self.post(hw, first)?;
            return self.post(hw, rest);
        }
        let mut ring = [0u8; 2 * 64];
        let start = self.avail_idx % self.size;
        // The entries wrap at most once: write up to the end, then from 0.
        let first = ids.len().min(usize::from(self.size - start));
        for (chunk, part) in [(&ids[..first], start), (&ids[first..], 0)] {
            if chunk.is_empty() {
                continue;
            }
            for (slot, id) in ring.chunks_exact_mut(2).zip(chunk) {
                slot.copy_from_slice(&id.to_le_bytes());
            }
            hw.dma_write(self.ring, AVAIL + 4 + 2 * usize::from(part), &ring[..2 * chunk.len()])?;
        }
        for id in ids {
            self.set_flying(*id, true);
        }
        self.avail_idx = self.avail_idx.wrapping_add(ids.len() as u16);
        // The entries before the index that publishes them.
        hw.barrier(Barrier::Write);
        hw.dma_write(self.ring, AVAIL + 2, &self.avail_idx.to_le_bytes())?;
        hw.barrier(Barrier::Full);
        Ok(())
    }

    /// Asks the device not to interrupt for this queue (`false`), or to
    /// interrupt at the next used entry (`true`). Entries used before
    /// this call may raise none: the caller looks once more after turning
    /// interrupts on. Without event indexes, a hint: the device may still
    /// interrupt.
    pub fn set_interrupts(&self, hw: &impl Hw, on: bool) -> Result<(), Errno> {
        if self.event_idx {
            // Off: one before what was collected, an index the device has
            // passed already, so none of its next entries reaches it.
            return self.interrupt_at(hw, if on { self.last_used } else { self.last_used.wrapping_sub(1) });
        }
        hw.dma_write(self.ring, AVAIL, &u16::from(!on).to_le_bytes())?;
        hw.barrier(Barrier::Full);
        Ok(())
    }

    /// Asks for one interrupt once `count` (at least 1) more entries are
    /// used; with flags, for one per entry from now on.
    pub fn interrupt_after(&self, hw: &impl Hw, count: u16) -> Result<(), Errno> {
        if !self.event_idx {
            return self.set_interrupts(hw, true);
        }
        self.interrupt_at(hw, self.last_used.wrapping_add(count.max(1) - 1))
    }

    /// Writes `used_event`: an interrupt when the used index passes `event`.
    fn interrupt_at(&self, hw: &impl Hw, event: u16) -> Result<(), Errno> {
        hw.dma_write(self.ring, self.used_event_offset(), &event.to_le_bytes())?;
        hw.barrier(Barrier::Full);
        Ok(())
    }

    /// Whether the device wants a notification for the buffers posted
    /// since the last call (read after [`Ring::post`]'s barrier, as the
    /// spec says).
    pub fn needs_notify(&mut self, hw: &impl Hw) -> Result<bool, Errno> {
        if self.event_idx {
            let mut event = [0u8; 2];
            hw.dma_read(self.ring, self.avail_event_offset(), &mut event)?;
            let old = core::mem::replace(&mut self.kicked, self.avail_idx);
            return Ok(passed(u16::from_le_bytes(event), self.avail_idx, old));
        }
        let mut flags = [0u8; 2];
        hw.dma_read(self.ring, USED, &mut flags)?;
        Ok(u16::from_le_bytes(flags) & USED_F_NO_NOTIFY == 0)
    }

    /// Records that the device was notified of everything posted so far
    /// (without asking it: at start-up, which always notifies).
    pub fn notified(&mut self) {
        self.kicked = self.avail_idx;
    }

    /// Whether the device has used entries not collected yet.
    pub fn has_used(&self, hw: &impl Hw) -> Result<bool, Errno> {
        let mut idx = [0u8; 2];
        hw.dma_read(self.ring, USED + 2, &mut idx)?;
        Ok(u16::from_le_bytes(idx) != self.last_used)
    }

    /// Collects the entries the device has used since the last call into
    /// `out`; returns how many were valid.
    pub fn collect(&mut self, hw: &impl Hw, out: &mut [Used]) -> Result<usize, Errno> {
        let mut idx = [0u8; 2];
        hw.dma_read(self.ring, USED + 2, &mut idx)?;
        let used_idx = u16::from_le_bytes(idx);
        // The index before the entries it publishes.
        hw.barrier(Barrier::Read);
        let pending = used_idx.wrapping_sub(self.last_used);
        if pending > self.size {
            // More than could be in flight: the index is garbage.
            self.bad_entries += 1;
            self.last_used = used_idx;
            return Ok(0);
        }
        let count = usize::from(pending).min(out.len());
        let mut raw = [0u8; 8 * 64];
        let count = count.min(64);
        let start = usize::from(self.last_used % self.size);
        let first = count.min(usize::from(self.size) - start);
        hw.dma_read(self.ring, USED + 4 + 8 * start, &mut raw[..8 * first])?;
        if count > first {
            hw.dma_read(self.ring, USED + 4, &mut raw[8 * first..8 * count])?;
        }
        self.last_used = self.last_used.wrapping_add(count as u16);
        let mut valid = 0;
        for entry in raw[..8 * count].chunks_exact(8) {
            let id = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
            let len = u32::from_le_bytes([entry[4], entry[5], entry[6], entry[7]]);
            let ok = id < u32::from(self.size) && self.flying(id as u16) && len as usize <= self.slot_len;
            if !ok {
                self.bad_entries += 1;
                continue;
            }
            self.set_flying(id as u16, false);
            out[valid] = Used { id: id as u16, len };
            valid += 1;
        }
        Ok(valid)
    }
}
