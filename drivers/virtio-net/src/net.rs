// SPDX-License-Identifier: MIT OR Apache-2.0

//! The virtio-net device: feature negotiation, the receive and transmit
//! queues, interrupts and the link.
//!
//! The device is reset at probe and kept reset while the interface is down;
//! [`VirtioNet::open`] runs the whole initialisation (spec 3.1.1) and
//! [`VirtioNet::stop`] resets it again, so nothing of the device survives a
//! stop or an unload. A hot swap is different: the old version describes
//! its queues ([`VirtioNet::snapshot`]) and hands the device over running;
//! the new one takes the queues over where they are ([`VirtioNet::adopt`]),
//! with no reset, so frames in flight are neither lost nor replayed.
//!
//! Each queue's descriptors own fixed slots of 2 KiB: a 12-byte header
//! (`virtio_net_hdr_v1`, all zero on transmit) followed by the frame.
//! Received frames go to the stack straight from their slot, frames to send
//! are copied by the host straight into theirs: the driver's own memory
//! never holds packet data.

use serde::{Deserialize, Serialize};

use crate::hw::{Buf, Errno, Frame, Hw};
use crate::ring::{MAX_SIZE, Ring, RingState, Used};
use crate::transport::{Layout, NO_VECTOR, Transport, status};

/// Bytes per slot.
pub const SLOT: usize = 2048;
/// The header before each frame.
pub const HEADER: usize = 12;
/// Bytes of a receive or transmit pool.
pub const POOL_BYTES: usize = SLOT * MAX_SIZE as usize;
/// The interface's MTU.
pub const MTU: u32 = 1500;
/// Frames handled per round: small enough that the per-round arrays cost
/// little to set up (the interpreter pays for every byte), large enough to
/// amortise the hostcalls.
const BATCH: usize = 32;

/// Feature bits.
pub mod feature {
    /// The device has a MAC address in its configuration.
    pub const MAC: u64 = 1 << 5;
    /// The configuration has a link status.
    pub const STATUS: u64 = 1 << 16;
    /// Notifications are suppressed with event indexes (`VIRTIO_F_EVENT_IDX`).
    pub const EVENT_IDX: u64 = 1 << 29;
    /// Virtio 1.x.
    pub const VERSION_1: u64 = 1 << 32;
}

/// What this driver accepts.
pub const FEATURES: u64 = feature::VERSION_1 | feature::MAC | feature::STATUS | feature::EVENT_IDX;

/// Queue indexes.
const RX: u16 = 0;
const TX: u16 = 1;

/// Offsets in the device configuration.
const CONFIG_MAC: u32 = 0;
const CONFIG_STATUS: u32 = 6;
/// Status bit: link up.
const LINK_UP: u16 = 1;

/// ISR bits (INTx).
const ISR_QUEUE: u32 = 1;
const ISR_CONFIG: u32 = 2;

/// How interrupts arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interrupts {
    /// MSI-X, with this many vectors: 3 is config, receive, transmit; fewer
    /// share vector 0.
    MsiX(u32),
    /// INTx: the host reads the ISR and passes it along.
    Intx,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Frames received.
    pub rx_frames: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Received entries too short to hold a frame.
    pub rx_runts: u64,
    /// Link changes seen.
    pub link_changes: u64,
}

/// What [`VirtioNet::snapshot`] saves for the next version of the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    interrupts: Interrupts,
    mac: [u8; 6],
    rx: RingState,
    tx: RingState,
    rx_notify: u32,
    tx_notify: u32,
    running: bool,
    has_status: bool,
    tx_waiting: bool,
    counters: Counters,
}

/// A virtio-net device and its queues.
pub struct VirtioNet {
    transport: Transport,
    interrupts: Interrupts,
    /// Its MAC address.
    pub mac: [u8; 6],
    rx: Ring,
    tx: Ring,
    rx_notify: u32,
    tx_notify: u32,
    /// Transmit slots not in flight: a stack, so that the slot sent last
    /// (whose memory is still warm) is used first; while the device keeps
    /// up, a few slots carry all the traffic.
    tx_free: [u16; MAX_SIZE as usize],
    tx_free_len: usize,
    /// Whether the device is running (the interface is up).
    pub running: bool,
    /// Whether the device reports its link (the STATUS feature).
    has_status: bool,
    /// The last transmit found the ring full: transmit interrupts are on,
    /// and the next one tries again.
    tx_waiting: bool,
    link: bool,
    /// Counters.
    pub counters: Counters,
}

impl VirtioNet {
    /// Checks the device (found at `layout`) speaks virtio 1 with a MAC,
    /// reads the MAC and leaves it reset.
    pub fn probe(hw: &impl Hw, layout: Layout, interrupts: Interrupts) -> Result<Self, Errno> {
        let transport = Transport { layout };
        transport.reset(hw)?;
        transport.set_status(hw, status::ACKNOWLEDGE | status::DRIVER)?;
        let offered = transport.device_features(hw)?;
        let needed = feature::VERSION_1 | feature::MAC;
        let result = if offered & needed != needed {
            Err(Errno::Unsupported)
        } else {
            let mut mac = [0u8; 6];
            transport.read_device_config(hw, CONFIG_MAC, &mut mac).map(|()| mac)
        };
        transport.reset(hw)?;
        let mac = result?;
        Ok(VirtioNet {
            transport,
            interrupts,
            mac,
            rx: Ring::new(MAX_SIZE, Buf::RxRing, Buf::RxPool, SLOT, true),
            tx: Ring::new(MAX_SIZE, Buf::TxRing, Buf::TxPool, SLOT, false),
            rx_notify: 0,
            tx_notify: 0,
            tx_free: [0; MAX_SIZE as usize],
            tx_free_len: 0,
            running: false,
            has_status: false,
            tx_waiting: false,
            link: false,
            counters: Counters::default(),
        })
    }

    /// The MSI-X vectors for configuration, receive and transmit.
    fn vectors(&self) -> (u16, u16, u16) {
        match self.interrupts {
            Interrupts::MsiX(n) if n >= 3 => (0, 1, 2),
            Interrupts::MsiX(_) => (0, 0, 0),
            Interrupts::Intx => (NO_VECTOR, NO_VECTOR, NO_VECTOR),
        }
    }

    /// The state of the device and its queues, for the next version of
    /// the driver to [`adopt`](VirtioNet::adopt).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            interrupts: self.interrupts,
            mac: self.mac,
            rx: self.rx.state(),
            tx: self.tx.state(),
            rx_notify: self.rx_notify,
            tx_notify: self.tx_notify,
            running: self.running,
            has_status: self.has_status,
            tx_waiting: self.tx_waiting,
            counters: self.counters,
        }
    }

    /// Takes over the device (found at `layout`, interrupts arriving as
    /// `interrupts`) where the previous version of the driver left it,
    /// running or reset as `snapshot` says, with its queues and the
    /// buffers in flight.
    /// `InvalidArgument` if the snapshot does not match the device (another
    /// interrupt mode, queues the device no longer runs): the caller then
    /// sets the device up afresh. The link is not reported yet (see
    /// [`report_link`](VirtioNet::report_link)).
    pub fn adopt(hw: &impl Hw, layout: Layout, interrupts: Interrupts, snapshot: Snapshot) -> Result<Self, Errno> {
        let transport = Transport { layout };
        let status = transport.status(hw)?;
        let running = status & (status::DRIVER_OK | status::NEEDS_RESET | status::FAILED) == status::DRIVER_OK;
        if snapshot.interrupts != interrupts || snapshot.running != running || (!running && status != 0) {
            return Err(Errno::InvalidArgument);
        }
        let mut net = VirtioNet {
            transport,
            interrupts,
            mac: snapshot.mac,
            rx: Ring::resume(snapshot.rx, Buf::RxRing, Buf::RxPool, SLOT, true)?,
            tx: Ring::resume(snapshot.tx, Buf::TxRing, Buf::TxPool, SLOT, false)?,
            rx_notify: snapshot.rx_notify,
            tx_notify: snapshot.tx_notify,
            tx_free: [0; MAX_SIZE as usize],
            tx_free_len: 0,
            running,
            has_status: snapshot.has_status,
            tx_waiting: snapshot.tx_waiting,
            link: false,
            counters: snapshot.counters,
        };
        // Notifications are suppressed the way the device was set up (by
        // whichever version did it).
        if running {
            let event_idx = transport.driver_features(hw)? & feature::EVENT_IDX != 0;
            net.rx.set_event_idx(event_idx);
            net.tx.set_event_idx(event_idx);
        }
        // The transmit slots not in flight are free (their order does not
        // matter).
        for id in net.tx.idle_ids() {
            net.tx_free[net.tx_free_len] = id;
            net.tx_free_len += 1;
        }
        Ok(net)
    }

    /// After [`adopt`](VirtioNet::adopt), once the interface is registered:
    /// reports the link as it is now.
    pub fn report_link(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        if !self.running {
            return Ok(());
        }
        self.link = false;
        self.update_link(hw, self.has_status)
    }

    /// Initialises and starts the device (spec 3.1.1): features, queues,
    /// receive buffers, DRIVER_OK. Resets it again if anything fails.
    /// Nothing to do if it runs already (taken over running in a swap).
    pub fn open(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        if self.running {
            return Ok(());
        }
        let started = self.start(hw);
        if started.is_err() {
            let t = self.transport;
            let _ = t.set_status(hw, status::FAILED);
            let _ = t.reset(hw);
            self.running = false;
        }
        started
    }

    fn start(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        let t = self.transport;
        t.reset(hw)?;
        t.set_status(hw, status::ACKNOWLEDGE)?;
        t.set_status(hw, status::ACKNOWLEDGE | status::DRIVER)?;
        let accepted = t.device_features(hw)? & FEATURES;
        t.set_driver_features(hw, accepted)?;
        t.set_status(hw, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK)?;
        if t.status(hw)? & status::FEATURES_OK == 0 {
            return Err(Errno::Unsupported);
        }
        let (config, rx_vector, tx_vector) = self.vectors();
        if config != NO_VECTOR && !t.set_config_vector(hw, config)? {
            return Err(Errno::Io);
        }
        let (size, notify) = t.setup_queue(hw, RX, MAX_SIZE, self.rx.addresses(hw), rx_vector)?;
        self.rx = Ring::new(size, Buf::RxRing, Buf::RxPool, SLOT, true);
        self.rx_notify = notify;
        let (size, notify) = t.setup_queue(hw, TX, MAX_SIZE, self.tx.addresses(hw), tx_vector)?;
        self.tx = Ring::new(size, Buf::TxRing, Buf::TxPool, SLOT, false);
        self.tx_notify = notify;
        let event_idx = accepted & feature::EVENT_IDX != 0;
        self.rx.set_event_idx(event_idx);
        self.tx.set_event_idx(event_idx);
        self.rx.init(hw)?;
        self.tx.init(hw)?;
        self.init_tx_slots();
        // Sent slots are reclaimed when the next frames go out; transmit
        // interrupts are only wanted when the ring is full.
        self.tx.set_interrupts(hw, false)?;
        self.tx_waiting = false;
        let all: [u16; MAX_SIZE as usize] = core::array::from_fn(|i| i as u16);
        self.rx.post(hw, &all[..usize::from(self.rx.size)])?;
        t.enable_queue(hw, RX)?;
        t.enable_queue(hw, TX)?;
        t.set_status(hw, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK)?;
        t.notify(hw, RX, self.rx_notify)?;
        self.rx.notified();
        self.running = true;
        self.link = false;
        self.has_status = accepted & feature::STATUS != 0;
        self.update_link(hw, self.has_status)
    }

    /// Marks every transmit slot free. (Their headers need no writing: DMA
    /// buffers start zeroed, the device only reads transmit slots, and the
    /// host copies frames after the header.)
    fn init_tx_slots(&mut self) {
        // Slot 0 on top.
        for (i, id) in (0..self.tx.size).rev().enumerate() {
            self.tx_free[i] = id;
        }
        self.tx_free_len = usize::from(self.tx.size);
    }

    /// Reads the link state (up if the device has no status) and reports
    /// changes.
    fn update_link(&mut self, hw: &impl Hw, has_status: bool) -> Result<(), Errno> {
        let up = if has_status {
            let mut s = [0u8; 2];
            self.transport.read_device_config(hw, CONFIG_STATUS, &mut s)?;
            u16::from_le_bytes(s) & LINK_UP != 0
        } else {
            true
        };
        if up != self.link {
            self.link = up;
            self.counters.link_changes += 1;
            hw.set_carrier(up);
        }
        Ok(())
    }

    /// Resets the device: it stops using every buffer.
    pub fn stop(&mut self, hw: &impl Hw) {
        if let Err(e) = self.transport.reset(hw) {
            hw.warn(format_args!("the device did not reset: {e:?}"));
        }
        self.running = false;
        if self.link {
            self.link = false;
            hw.set_carrier(false);
        }
    }

    /// Handles an interrupt on `vector` (MSI-X) or with ISR `status` (INTx).
    pub fn interrupt(&mut self, hw: &impl Hw, vector: u32, isr: u32) -> Result<(), Errno> {
        if !self.running {
            return Ok(());
        }
        // (receive, transmit, configuration): which causes to look at.
        let (rx, tx, config) = match self.interrupts {
            Interrupts::Intx => (isr & ISR_QUEUE != 0, isr & ISR_QUEUE != 0, isr & ISR_CONFIG != 0),
            Interrupts::MsiX(n) if n >= 3 => (vector == 1, vector == 2, vector == 0),
            Interrupts::MsiX(_) => (true, true, true),
        };
        if config {
            self.update_link(hw, true)?;
            if self.transport.status(hw)? & status::NEEDS_RESET != 0 {
                hw.warn(format_args!("the device needs a reset; restarting it"));
                self.stop(hw);
                return self.open(hw);
            }
        }
        if rx {
            self.receive(hw)?;
        }
        // Frames the stack queued while handling what was received (TCP
        // acknowledgements, replies) go out in this same call; completed
        // sends matter when frames wait for slots.
        if rx || (tx && self.tx_waiting) {
            self.transmit(hw)?;
        }
        Ok(())
    }

    /// Hands what the device received to the stack and gives it the slots
    /// back. Receive interrupts are off meanwhile (as NAPI does): the
    /// device would only raise them for frames this loop picks up anyway.
    pub fn receive(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        self.rx.set_interrupts(hw, false)?;
        loop {
            self.receive_batches(hw)?;
            // Interrupts back on, then one more look: a frame that arrived
            // in between would otherwise wait for the next one.
            self.rx.set_interrupts(hw, true)?;
            if !self.rx.has_used(hw)? {
                return Ok(());
            }
            self.rx.set_interrupts(hw, false)?;
        }
    }

    fn receive_batches(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        let mut used = [Used { id: 0, len: 0 }; BATCH];
        let mut frames = [Frame { buf: Buf::RxPool, offset: 0, len: 0 }; BATCH];
        let mut ids = [0u16; BATCH];
        loop {
            let n = self.rx.collect(hw, &mut used)?;
            if n == 0 {
                return Ok(());
            }
            let mut count = 0;
            for (i, u) in used[..n].iter().enumerate() {
                ids[i] = u.id;
                // At least an Ethernet header after the virtio header.
                if (u.len as usize) < HEADER + 14 {
                    self.counters.rx_runts += 1;
                    continue;
                }
                frames[count] = Frame {
                    buf: Buf::RxPool,
                    offset: self.rx.slot_offset(u.id) + HEADER,
                    len: u.len as usize - HEADER,
                };
                count += 1;
            }
            hw.deliver(&frames[..count])?;
            self.counters.rx_frames += count as u64;
            self.rx.post(hw, &ids[..n])?;
            if self.rx.needs_notify(hw)? {
                self.transport.notify(hw, RX, self.rx_notify)?;
            }
        }
    }

    /// Reclaims sent slots, then fills free ones with queued frames and
    /// tells the device.
    pub fn transmit(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        if !self.running {
            return Ok(());
        }
        let mut slots = [Frame { buf: Buf::TxPool, offset: 0, len: 0 }; BATCH];
        let mut ids = [0u16; BATCH];
        let mut lengths = [(0u16, 0u32); BATCH];
        loop {
            // Slots the device finished with since the last round: without
            // this, a burst larger than the ring would wait for the next
            // transmit interrupt.
            self.reclaim(hw)?;
            let free = self.tx_free_len.min(BATCH);
            if free == 0 {
                if !self.tx_waiting {
                    // Full: ask for a transmit interrupt once most of what
                    // is in flight is sent (one interrupt, not one per
                    // frame, with event indexes), then look once more
                    // (slots may have come back in between).
                    self.tx_waiting = true;
                    let most = (self.tx.in_flight() * 3 / 4) as u16;
                    self.tx.interrupt_after(hw, most)?;
                    continue;
                }
                return Ok(());
            }
            if self.tx_waiting {
                // Slots came back: completions need no interrupt again
                // until the ring fills up.
                self.tx_waiting = false;
                self.tx.set_interrupts(hw, false)?;
            }
            for i in 0..free {
                let id = self.tx_free[self.tx_free_len - 1 - i];
                ids[i] = id;
                slots[i] = Frame { buf: Buf::TxPool, offset: self.tx.slot_offset(id) + HEADER, len: SLOT - HEADER };
            }
            let taken = hw.take(&mut slots[..free])?;
            if taken == 0 {
                return Ok(());
            }
            for i in 0..taken {
                lengths[i] = (ids[i], (HEADER + slots[i].len) as u32);
            }
            self.tx.set_lengths(hw, &lengths[..taken])?;
            self.tx_free_len -= taken;
            self.tx.post(hw, &ids[..taken])?;
            if self.tx.needs_notify(hw)? {
                self.transport.notify(hw, TX, self.tx_notify)?;
            }
            self.counters.tx_frames += taken as u64;
            if taken < free {
                return Ok(());
            }
        }
    }

    /// Returns the slots the device finished sending to the free list.
    fn reclaim(&mut self, hw: &impl Hw) -> Result<(), Errno> {
        let mut used = [Used { id: 0, len: 0 }; BATCH];
        loop {
            let n = self.tx.collect(hw, &mut used)?;
            for u in &used[..n] {
                // `collect` only returns ids that were in flight: the
                // stack has room for each.
                self.tx_free[self.tx_free_len] = u.id;
                self.tx_free_len += 1;
            }
            if n < used.len() {
                return Ok(());
            }
        }
    }

    /// Used entries ignored because they did not match what was given.
    pub fn bad_entries(&self) -> u64 {
        self.rx.bad_entries + self.tx.bad_entries
    }
}
