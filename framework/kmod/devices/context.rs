// SPDX-License-Identifier: GPL-2.0

//! [`DevCtx`]: everything the kernel holds for a device bound to a wasm
//! driver, and the checked operations on it.
//!
//! The engine has checked every request against the driver's capabilities
//! before it gets here; these functions check again what is cheap to check
//! (BAR presence and bounds, the MSI-X table, configuration space size, DMA
//! buffer ids), so that a bug in the engine cannot become a stray access.
//!
//! A `DevCtx` lives from the probe of our PCI driver until the last
//! reference goes (the engine's, the probe data's, open files'). The
//! device is *bound* from the probe until [`DevCtx::teardown`], which our
//! PCI driver's `unbind` runs; operations that need a bound device check
//! `State::bound` under the state lock, which `teardown` also takes.

use core::ffi::c_void;

use kernel::{
    bindings, device,
    dma::Coherent,
    error::to_result,
    io::Io,
    pci,
    pci::DevresBar,
    prelude::*,
    sync::{
        atomic::Atomic,
        lock::Guard,
        new_condvar, new_mutex,
        poll::PollCondVar,
        Arc, CondVar, Mutex, SetOnce,
    },
    time::hrtimer::ArcHrTimerHandle,
    sync::aref::ARef,
};

use super::chrdev::Node;
use super::netdev::Netdev;
use super::events::{Events, Timer, MAX_VECTORS, TIMERS};

/// A memory BAR, mapped at probe.
pub(super) struct MappedBar {
    pub(super) mmio: DevresBar,
    pub(super) size: u64,
}

/// A byte range of a BAR the driver may not touch (the MSI-X table and
/// pending-bit array: writing them would aim the device's interrupt
/// messages at arbitrary memory).
#[derive(Clone, Copy, Default)]
pub(super) struct Hole {
    pub(super) bar: u8,
    pub(super) start: u64,
    pub(super) end: u64,
}

/// How the hard interrupt handler recognises and acknowledges INTx.
pub(super) struct IntxConfig {
    pub(super) configured: Atomic<bool>,
    pub(super) bar: Atomic<u32>,
    pub(super) status: Atomic<u64>,
    /// The acknowledge register's offset, or `u64::MAX` for none.
    pub(super) ack: Atomic<u64>,
    pub(super) width: Atomic<u32>,
}

/// Mutable state, under [`DevCtx::state`].
pub(super) struct State {
    /// Our PCI driver holds the device.
    pub(super) bound: bool,
    /// Coherent DMA buffers by id - 1.
    pub(super) dma: KVec<Option<Coherent<[u8]>>>,
    /// Allocated interrupts: the mode (`driver::irq` kind) and vector count.
    pub(super) irq: Option<(i32, u32)>,
    /// Timers, created on first use, and their handles while armed.
    pub(super) timers: [Option<(Arc<Timer>, Option<ArcHrTimerHandle<Timer>>)>; TIMERS],
    /// The character device, once registered.
    pub(super) chrdev: Option<Node>,
    /// The Ethernet interface, once registered.
    pub(super) netdev: Option<Netdev>,
    /// A hot swap is under way (between `pause` and `resume`).
    pub(super) paused: bool,
    /// During a swap: the interrupt vectors still allocated for the old
    /// instance, which the new one takes over if it asks for compatible
    /// ones (freed at `resume` otherwise).
    pub(super) irq_adoptable: bool,
    /// During a swap: the old instance's DMA buffers, reused (zeroed) by
    /// the new one's allocations of the same size (freed at `resume`
    /// otherwise).
    pub(super) dma_released: KVec<Coherent<[u8]>>,
}

/// Readiness of the character device, under [`DevCtx::ready`].
pub(super) struct Ready {
    /// `driver::POLL_IN`/`POLL_OUT` bits set by the driver.
    pub(super) mask: u32,
    /// Bumped by every `chrdev_set_ready`.
    pub(super) generation: u64,
    /// The driver stopped: waiters give up.
    pub(super) dead: bool,
}

/// A lock that one call into the glue takes and another releases (the
/// engine's `lock` and `unlock` are separate calls). It sleeps.
#[pin_data]
pub(super) struct DriverLock {
    #[pin]
    held: Mutex<bool>,
    #[pin]
    released: CondVar,
}

impl DriverLock {
    fn new() -> impl PinInit<Self> {
        pin_init!(DriverLock { held <- new_mutex!(false), released <- new_condvar!() })
    }

    pub(super) fn lock(&self) {
        let mut held = self.held.lock();
        while *held {
            self.released.wait(&mut held);
        }
        *held = true;
    }

    pub(super) fn unlock(&self) {
        *self.held.lock() = false;
        self.released.notify_one();
    }
}

/// A device bound for a wasm driver.
#[pin_data]
pub(crate) struct DevCtx {
    pub(super) pdev: ARef<pci::Device>,
    /// `cervus:NAME`, NUL-terminated, for `/proc/interrupts`.
    pub(super) irq_name: [u8; 48],
    /// The driver's name (for logs).
    pub(super) name: [u8; 32],
    pub(super) name_len: usize,
    /// The kernel driver the device was taken from (NUL-terminated), to
    /// give it back on unbind.
    pub(super) previous: Option<KVec<u8>>,
    pub(super) bars: [SetOnce<MappedBar>; 6],
    pub(super) holes: [Hole; 2],
    pub(super) intx: IntxConfig,
    /// The Linux interrupt number of each vector (0: none).
    pub(super) vector_irqs: [Atomic<u32>; MAX_VECTORS],
    pub(super) events: Arc<Events>,
    #[pin]
    pub(super) driver_lock: DriverLock,
    #[pin]
    pub(super) state: Mutex<State>,
    #[pin]
    pub(super) ready: Mutex<Ready>,
    #[pin]
    pub(super) ready_changed: PollCondVar,
}

// SAFETY: the raw pointers in `State` (the character device's) are only
// used under the state lock; everything else is `Send` and `Sync` or
// atomic.
unsafe impl Send for State {}

impl DevCtx {
    /// The context of `pdev`, probed for driver `owner` named `name`.
    pub(super) fn new(
        pdev: &pci::Device<device::Core<'_>>,
        owner: u32,
        name: &[u8],
        previous: Option<KVec<u8>>,
    ) -> Result<Arc<Self>> {
        let events = Events::new(owner)?;
        let mut irq_name = [0u8; 48];
        let prefix = b"cervus:";
        irq_name[..prefix.len()].copy_from_slice(prefix);
        let n = name.len().min(irq_name.len() - prefix.len() - 1);
        irq_name[prefix.len()..prefix.len() + n].copy_from_slice(&name[..n]);
        let mut short = [0u8; 32];
        let name_len = name.len().min(short.len());
        short[..name_len].copy_from_slice(&name[..name_len]);
        let holes = msix_holes(pdev);
        let ctx = Arc::pin_init(
            try_pin_init!(DevCtx {
                pdev: pdev.into(),
                irq_name,
                name: short,
                name_len,
                previous,
                bars: [const { SetOnce::new() }; 6],
                holes,
                intx: IntxConfig {
                    configured: Atomic::new(false),
                    bar: Atomic::new(0),
                    status: Atomic::new(0),
                    ack: Atomic::new(u64::MAX),
                    width: Atomic::new(4),
                },
                vector_irqs: [const { Atomic::new(0) }; MAX_VECTORS],
                events,
                driver_lock <- DriverLock::new(),
                state <- new_mutex!(State {
                    bound: true,
                    dma: KVec::new(),
                    irq: None,
                    timers: [const { None }; TIMERS],
                    chrdev: None,
                    netdev: None,
                    paused: false,
                    irq_adoptable: false,
                    dma_released: KVec::new(),
                }),
                ready <- new_mutex!(Ready { mask: 0, generation: 0, dead: false }),
                ready_changed <- kernel::new_poll_condvar!("cervus::DevCtx::ready_changed"),
            }),
            GFP_KERNEL,
        )?;
        ctx.map_bars(pdev)?;
        Ok(ctx)
    }

    /// Maps every memory BAR (they stay mapped until unbind, when devres
    /// revokes them).
    fn map_bars(&self, pdev: &pci::Device<device::Bound>) -> Result {
        for bar in 0..6u32 {
            if !is_memory_bar(pdev, bar) {
                continue;
            }
            let size = pdev.resource_len(bar)?;
            let mmio = pdev.iomap_region(bar, c"cervus")?.into_devres()?;
            self.bars[bar as usize].populate(MappedBar { mmio, size });
        }
        Ok(())
    }

    /// The driver's name.
    pub(super) fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }

    /// The `struct pci_dev`.
    pub(super) fn raw(&self) -> *mut bindings::pci_dev {
        // `pci::Device` is a transparent wrapper of `struct pci_dev`.
        core::ptr::from_ref::<pci::Device>(&self.pdev).cast::<bindings::pci_dev>().cast_mut()
    }

    /// Its `struct device`.
    pub(super) fn raw_dev(&self) -> *mut bindings::device {
        // SAFETY: `raw()` is a valid `pci_dev` (we hold a reference).
        unsafe { core::ptr::addr_of_mut!((*self.raw()).dev) }
    }

    /// The device as bound, for APIs that need proof of binding.
    ///
    /// # Safety
    ///
    /// The caller holds the state lock and has checked `State::bound`:
    /// the device stays bound to our driver until `teardown` takes the lock.
    pub(super) unsafe fn bound(&self) -> &pci::Device<device::Bound> {
        // SAFETY: same layout (the context is a marker); bound per the
        // caller's guarantee.
        unsafe { &*core::ptr::from_ref::<pci::Device>(&self.pdev).cast::<pci::Device<device::Bound>>() }
    }

    /// The state, if the device is still bound.
    pub(super) fn bound_state(&self) -> Result<Guard<'_, State, kernel::sync::lock::mutex::MutexBackend>> {
        let state = self.state.lock();
        if state.bound { Ok(state) } else { Err(ENODEV) }
    }

    /// Stops everything the device can do on its own: events, timers,
    /// interrupts, bus mastering; wakes and fails character-device waiters.
    /// Idempotent. Does not wait for the event work item (this may run in
    /// it).
    pub(crate) fn quiesce(&self) {
        self.events.stop();
        {
            let mut ready = self.ready.lock();
            ready.dead = true;
            ready.mask = 0;
        }
        self.ready_changed.notify_all();
        let mut state = self.state.lock();
        for timer in state.timers.iter_mut().flatten() {
            if let Some(mut handle) = timer.1.take() {
                kernel::time::hrtimer::HrTimerHandle::cancel(&mut handle);
            }
        }
        self.free_irqs(&mut state);
        if let Some(netdev) = state.netdev.as_ref() {
            netdev.detach();
        }
        if state.bound {
            // SAFETY: a valid, bound device.
            unsafe { bindings::pci_clear_master(self.raw()) };
        }
    }

    /// For a hot swap: stops what the running instance set up (timers)
    /// without declaring the device dead, and pauses the interface. Bus
    /// mastering stays on: an instance may hand the device over running
    /// (its queues live); [`DevCtx::halt_dma`] turns it off before buffers
    /// are freed. Its interrupt vectors stay allocated for the next instance
    /// to take over, and the DMA buffers it frees are kept for reuse:
    /// tearing down and setting up MSI-X and coherent memory would be most
    /// of the blackout. Events already recorded wait: the event work blocks
    /// on the driver lock, which the swapping task holds.
    pub(crate) fn pause(&self) {
        let mut state = self.state.lock();
        for timer in state.timers.iter_mut().flatten() {
            if let Some(mut handle) = timer.1.take() {
                kernel::time::hrtimer::HrTimerHandle::cancel(&mut handle);
            }
        }
        state.paused = true;
        // INTx stays acknowledged by the old configuration (same device,
        // same registers) until the new instance declares its own.
        state.irq_adoptable = state.irq.is_some();
        if let Some(netdev) = state.netdev.as_ref() {
            netdev.pause();
        }
    }

    /// During a pause: bus mastering off, so the device can no longer reach
    /// the buffers about to be freed (or kept for reuse).
    pub(crate) fn halt_dma(&self) {
        let state = self.state.lock();
        if state.bound {
            // SAFETY: a valid, bound device.
            unsafe { bindings::pci_clear_master(self.raw()) };
        }
    }

    /// Ends a pause: the interface resumes, and the event work follows the
    /// interface for the new instance (told it is up if `net_up`).
    pub(crate) fn resume(&self, net_up: bool) {
        self.events.set_net_up(net_up);
        let mut state = self.state.lock();
        state.paused = false;
        state.dma_released.clear();
        if state.irq_adoptable {
            self.free_irqs(&mut state);
        }
        if let Some(netdev) = state.netdev.as_ref() {
            netdev.resume();
        }
    }

    /// Whether the interface exists and is up.
    pub(crate) fn netdev_running(&self) -> bool {
        self.state.lock().netdev.as_ref().is_some_and(|n| n.running())
    }

    /// The carrier last reported, if there is an interface.
    pub(crate) fn netdev_link(&self) -> Option<bool> {
        self.state.lock().netdev.as_ref().map(|n| n.link())
    }

    /// Releases everything (our PCI driver's `unbind`): quiesces, waits for
    /// the event work, frees DMA memory and the character device, disables
    /// the device.
    pub(super) fn teardown(&self) {
        self.quiesce();
        self.events.cancel();
        self.events.set_netdev(0);
        // Unregistering takes RTNL: not under the state lock.
        let netdev = self.state.lock().netdev.take();
        drop(netdev);
        let mut state = self.state.lock();
        if let Some(node) = state.chrdev.take() {
            node.remove();
        }
        state.dma.clear();
        state.dma_released.clear();
        for timer in state.timers.iter_mut() {
            *timer = None;
        }
        if state.bound {
            state.bound = false;
            // SAFETY: enabled in probe, disabled once here.
            unsafe { bindings::pci_disable_device(self.raw()) };
        }
    }

    /// Checks an MMIO access against the BAR and the MSI-X holes.
    fn mmio_bar(&self, bar: u8, offset: u64, width: u8) -> Result<&MappedBar> {
        let mapped = self.bars.get(usize::from(bar)).and_then(SetOnce::as_ref).ok_or(ENOENT)?;
        let end = offset.checked_add(u64::from(width)).ok_or(ERANGE)?;
        if end > mapped.size {
            return Err(ERANGE);
        }
        let in_hole = |h: &Hole| h.end > h.start && h.bar == bar && offset < h.end && end > h.start;
        if self.holes.iter().any(in_hole) {
            return Err(EACCES);
        }
        Ok(mapped)
    }

    /// The size of memory BAR `bar`.
    pub(crate) fn bar_size(&self, bar: u8) -> Result<u64> {
        self.bars.get(usize::from(bar)).and_then(SetOnce::as_ref).map(|b| b.size).ok_or(ENOENT)
    }

    /// Reads `width` bytes at `offset` of BAR `bar`.
    pub(crate) fn mmio_read(&self, bar: u8, offset: u64, width: u8) -> Result<u64> {
        let mapped = self.mmio_bar(bar, offset, width)?;
        let io = mapped.mmio.try_access().ok_or(ENODEV)?;
        let offset = usize::try_from(offset)?;
        Ok(match width {
            1 => u64::from(io.try_read8(offset)?),
            2 => u64::from(io.try_read16(offset)?),
            4 => u64::from(io.try_read32(offset)?),
            8 => io.try_read64(offset)?,
            _ => return Err(EINVAL),
        })
    }

    /// Writes `width` bytes at `offset` of BAR `bar`.
    pub(crate) fn mmio_write(&self, bar: u8, offset: u64, width: u8, value: u64) -> Result {
        let mapped = self.mmio_bar(bar, offset, width)?;
        let io = mapped.mmio.try_access().ok_or(ENODEV)?;
        let offset = usize::try_from(offset)?;
        match width {
            1 => io.try_write8(value as u8, offset),
            2 => io.try_write16(value as u16, offset),
            4 => io.try_write32(value as u32, offset),
            8 => io.try_write64(value, offset),
            _ => Err(EINVAL),
        }
    }

    /// Reads configuration space.
    pub(crate) fn config_read(&self, offset: u16, width: u8) -> Result<u32> {
        let _state = self.bound_state()?;
        self.config_check(offset, width)?;
        let (dev, at) = (self.raw(), i32::from(offset));
        // SAFETY: a valid, bound device; the outputs are valid for writing.
        let ret = unsafe {
            match width {
                1 => {
                    let mut v = 0u8;
                    let r = bindings::pci_read_config_byte(dev, at, &mut v);
                    (r, u32::from(v))
                }
                2 => {
                    let mut v = 0u16;
                    let r = bindings::pci_read_config_word(dev, at, &mut v);
                    (r, u32::from(v))
                }
                _ => {
                    let mut v = 0u32;
                    let r = bindings::pci_read_config_dword(dev, at, &mut v);
                    (r, v)
                }
            }
        };
        if ret.0 != 0 { Err(EIO) } else { Ok(ret.1) }
    }

    /// Writes configuration space (the engine lets only the command
    /// register's safe bits through).
    pub(crate) fn config_write(&self, offset: u16, width: u8, value: u32) -> Result {
        let _state = self.bound_state()?;
        self.config_check(offset, width)?;
        if (offset, width) != (bindings::PCI_COMMAND as u16, 2) {
            return Err(EPERM);
        }
        // SAFETY: a valid, bound device.
        let ret = unsafe { bindings::pci_write_config_word(self.raw(), i32::from(offset), value as u16) };
        if ret != 0 { Err(EIO) } else { Ok(()) }
    }

    fn config_check(&self, offset: u16, width: u8) -> Result {
        // SAFETY: a valid device; `cfg_size` is set at enumeration.
        let size = unsafe { (*self.raw()).cfg_size };
        let aligned = matches!(width, 1 | 2 | 4) && offset % u16::from(width) == 0;
        if !aligned || i32::from(offset) + i32::from(width) > size {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Takes the driver lock.
    pub(crate) fn lock(&self) {
        self.driver_lock.lock()
    }

    /// Releases the driver lock.
    pub(crate) fn unlock(&self) {
        self.driver_lock.unlock()
    }

    /// A pointer usable as an interrupt's `dev_id`.
    pub(super) fn as_dev_id(&self) -> *mut c_void {
        core::ptr::from_ref(self).cast_mut().cast()
    }
}

/// Whether BAR `bar` of `pdev` is present and memory (not I/O) space.
fn is_memory_bar(pdev: &pci::Device<device::Bound>, bar: u32) -> bool {
    let raw = core::ptr::from_ref(pdev).cast::<bindings::pci_dev>();
    // SAFETY: a valid device; `resource` has an entry per standard BAR.
    let flags = unsafe { (*raw).resource[bar as usize].flags };
    flags & bindings::IORESOURCE_MEM as usize != 0 && pdev.resource_len(bar).is_ok_and(|len| len > 0)
}

/// The MSI-X table and pending-bit array of `pdev`, if it has MSI-X.
fn msix_holes(pdev: &pci::Device<device::Core<'_>>) -> [Hole; 2] {
    let raw = core::ptr::from_ref(pdev).cast::<bindings::pci_dev>().cast_mut();
    // SAFETY: a valid device.
    let cap = unsafe { bindings::pci_find_capability(raw, bindings::PCI_CAP_ID_MSIX as i32) };
    if cap == 0 {
        return [Hole::default(); 2];
    }
    let read = |at: u8| {
        let mut v = 0u32;
        // SAFETY: a valid device; `v` is valid for writing.
        unsafe { bindings::pci_read_config_dword(raw, i32::from(at), &mut v) };
        v
    };
    let mut control = 0u16;
    // SAFETY: as above.
    unsafe { bindings::pci_read_config_word(raw, i32::from(cap) + 2, &mut control) };
    let entries = u64::from(control & 0x7ff) + 1;
    let (table, pba) = (read(cap + 4), read(cap + 8));
    let hole = |word: u32, len: u64| {
        let start = u64::from(word & !7);
        Hole { bar: (word & 7) as u8, start, end: start + len }
    };
    [hole(table, entries * 16), hole(pba, entries.div_ceil(64) * 8)]
}

/// Sets the DMA mask of a bound device.
pub(super) fn set_dma_mask(ctx: &DevCtx, bits: u8) -> Result {
    let _state = ctx.bound_state()?;
    let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    // SAFETY: a valid, bound device; the driver lock serialises this with
    // the driver's allocations.
    to_result(unsafe { bindings::dma_set_mask_and_coherent(ctx.raw_dev(), mask) })
}
