// SPDX-License-Identifier: MIT OR Apache-2.0

//! Writing device drivers.
//!
//! A driver is a type implementing [`Driver`], declared with
//! [`driver!`](crate::driver!) together with the PCI ids it handles. Its
//! `probe` gets the device's capabilities ([`Pci`], [`Mmio`], [`DmaBuffer`],
//! [`Irqs`], [`chrdev`], [`net`]) and returns the driver's state; the host then calls
//! its methods for interrupts, timers and its character device, one at a
//! time. Everything is checked by the host: a bad offset or a stale handle
//! is an [`Errno`](crate::Errno), never a crash.
//!
//! ```text
//! cervus_guest::driver!(Edu, pci: [(0x1234, 0x11e8)]);
//!
//! struct Edu { mmio: Mmio }
//!
//! impl Driver for Edu {
//!     fn probe() -> Result<Self, Errno> {
//!         let mmio = Mmio::map(0)?;
//!         mmio.write(FACTORIAL, 5)?;
//!         Ok(Edu { mmio })
//!     }
//! }
//! ```
//!
//! `drivers/edu` is a complete example.

mod chrdev_api;
mod dma;
pub mod handoff;
mod irq;
mod mmio;
pub mod net;
mod pci;
mod time;

pub use chrdev_api::{FileId, UserBuffer, chrdev};
pub use dma::DmaBuffer;
pub use irq::{IrqMode, Irqs};
pub use mmio::{Mmio, MmioOp, Reg, Width};
pub use pci::{COMMAND_INTX_DISABLE, COMMAND_MASTER, COMMAND_MEMORY, Pci};
pub use time::{Timer, log_line, now_ns, sleep_us};

pub use cervus_hostcalls::driver::{POLL_IN, POLL_OUT, WOULD_BLOCK};

use crate::Errno;

/// An interrupt delivered to the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Irq {
    /// The vector (0 for MSI and INTx with one vector).
    pub vector: u32,
    /// For INTx: what the host read from the status register (and
    /// acknowledged, if told how). 0 for MSI/MSI-X.
    pub status: u32,
    /// Hard interrupts coalesced into this call.
    pub count: u32,
}

/// A device driver. Every method but `probe` has a default that does
/// nothing or refuses.
pub trait Driver: Sized + 'static {
    /// Sets the device up; the state returned lives until the driver is
    /// unloaded (or fails).
    fn probe() -> Result<Self, Errno>;

    /// Stops the device before unloading.
    fn remove(&mut self) {}

    /// Handles interrupts.
    fn irq(&mut self, _irq: Irq) {}

    /// Handles timer `id`.
    fn timer(&mut self, _id: u32) {}

    /// `/dev/NAME` was opened.
    fn open(&mut self, _file: FileId) -> Result<(), Errno> {
        Ok(())
    }

    /// A file of `/dev/NAME` was closed.
    fn release(&mut self, _file: FileId) {}

    /// `read(2)`: deliver up to `buf.len()` bytes with `buf.write`; return
    /// the count, or `Err(WouldBlock)` to make the caller wait until the
    /// driver sets [`POLL_IN`].
    fn read(&mut self, _file: FileId, _buf: &mut UserBuffer, _offset: i64) -> Result<usize, Errno> {
        Err(Errno::Unsupported)
    }

    /// `write(2)`: take the bytes with `buf.read`; return the count.
    fn write(&mut self, _file: FileId, _buf: &mut UserBuffer, _offset: i64) -> Result<usize, Errno> {
        Err(Errno::Unsupported)
    }

    /// `ioctl(2)`: the argument is `buf` (`_IOC_SIZE(cmd)` bytes); return
    /// a non-negative result.
    fn ioctl(&mut self, _file: FileId, _cmd: u32, _buf: &mut UserBuffer) -> Result<i32, Errno> {
        Err(Errno::Unsupported)
    }

    /// The network interface was brought up: start the device.
    fn net_open(&mut self) -> Result<(), Errno> {
        Ok(())
    }

    /// The network interface was brought down: stop the device.
    fn net_stop(&mut self) {}

    /// Frames are queued for transmission: take them with [`net::take`].
    fn net_tx(&mut self) {}

    /// A hot swap is replacing this version: save what the next one needs
    /// with [`handoff::save`]. `remove` follows, unless this version hands
    /// the device over running ([`handoff::keep_device`]). An error is
    /// logged; the next version then gets no state and a stopped device.
    fn save(&mut self) -> Result<(), Errno> {
        Ok(())
    }
}

/// Declares the driver type and its PCI match table, and exports the entry
/// points the host calls.
#[macro_export]
macro_rules! driver {
    ($ty:ty, pci: [$(($vendor:expr, $device:expr)),* $(,)?]) => {
        #[unsafe(link_section = "cervus.driver")]
        #[used]
        static __CERVUS_MATCH: [u8; $crate::__hostcalls::driver::MATCH_TABLE_LEN] =
            $crate::__hostcalls::driver::encode_match_table(&[$(($vendor, $device)),*]);

        static __CERVUS_DRIVER: $crate::driver::Slot<$ty> = $crate::driver::Slot::new();

        #[unsafe(export_name = "cervus_probe")]
        pub extern "C" fn __cervus_probe() -> i32 {
            __CERVUS_DRIVER.probe()
        }
        #[unsafe(export_name = "cervus_remove")]
        pub extern "C" fn __cervus_remove() {
            __CERVUS_DRIVER.remove()
        }
        #[unsafe(export_name = "cervus_irq")]
        pub extern "C" fn __cervus_irq(vector: i32, status: i32, count: i32) {
            __CERVUS_DRIVER.irq(vector, status, count)
        }
        #[unsafe(export_name = "cervus_timer")]
        pub extern "C" fn __cervus_timer(id: i32) {
            __CERVUS_DRIVER.timer(id)
        }
        #[unsafe(export_name = "cervus_chr_open")]
        pub extern "C" fn __cervus_chr_open(file: i32) -> i32 {
            __CERVUS_DRIVER.open(file)
        }
        #[unsafe(export_name = "cervus_chr_release")]
        pub extern "C" fn __cervus_chr_release(file: i32) {
            __CERVUS_DRIVER.release(file)
        }
        #[unsafe(export_name = "cervus_chr_read")]
        pub extern "C" fn __cervus_chr_read(file: i32, len: i32, offset: i64) -> i32 {
            __CERVUS_DRIVER.read(file, len, offset)
        }
        #[unsafe(export_name = "cervus_chr_write")]
        pub extern "C" fn __cervus_chr_write(file: i32, len: i32, offset: i64) -> i32 {
            __CERVUS_DRIVER.write(file, len, offset)
        }
        #[unsafe(export_name = "cervus_chr_ioctl")]
        pub extern "C" fn __cervus_chr_ioctl(file: i32, cmd: i32, len: i32) -> i32 {
            __CERVUS_DRIVER.ioctl(file, cmd, len)
        }
        #[unsafe(export_name = "cervus_net_open")]
        pub extern "C" fn __cervus_net_open() -> i32 {
            __CERVUS_DRIVER.net_open()
        }
        #[unsafe(export_name = "cervus_net_stop")]
        pub extern "C" fn __cervus_net_stop() {
            __CERVUS_DRIVER.net_stop()
        }
        #[unsafe(export_name = "cervus_net_tx")]
        pub extern "C" fn __cervus_net_tx() {
            __CERVUS_DRIVER.net_tx()
        }
        #[unsafe(export_name = "cervus_state_save")]
        pub extern "C" fn __cervus_state_save() -> i32 {
            __CERVUS_DRIVER.save()
        }
    };
}

/// The driver's state, held for the host's calls (used by [`driver!`]).
#[doc(hidden)]
pub struct Slot<T>(core::cell::RefCell<Option<T>>);

// SAFETY: wasm guests are single-threaded: the host never runs two calls of
// one instance at once, and there are no threads inside it.
unsafe impl<T> Sync for Slot<T> {}

fn result(r: Result<i32, Errno>) -> i32 {
    r.unwrap_or_else(Errno::code)
}

impl<T: Driver> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Slot(core::cell::RefCell::new(None))
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.0.borrow_mut().as_mut().map(f)
    }

    #[doc(hidden)]
    pub fn probe(&self) -> i32 {
        match T::probe() {
            Ok(state) => {
                *self.0.borrow_mut() = Some(state);
                0
            }
            Err(e) => e.code(),
        }
    }

    #[doc(hidden)]
    pub fn remove(&self) {
        self.with(T::remove);
        *self.0.borrow_mut() = None;
    }

    #[doc(hidden)]
    pub fn irq(&self, vector: i32, status: i32, count: i32) {
        let irq = Irq { vector: vector as u32, status: status as u32, count: count as u32 };
        self.with(|d| d.irq(irq));
    }

    #[doc(hidden)]
    pub fn timer(&self, id: i32) {
        self.with(|d| d.timer(id as u32));
    }

    #[doc(hidden)]
    pub fn open(&self, file: i32) -> i32 {
        result(self.with(|d| d.open(FileId(file as u32)).map(|()| 0)).unwrap_or(Err(Errno::NotFound)))
    }

    #[doc(hidden)]
    pub fn release(&self, file: i32) {
        self.with(|d| d.release(FileId(file as u32)));
    }

    #[doc(hidden)]
    pub fn read(&self, file: i32, len: i32, offset: i64) -> i32 {
        let mut buf = UserBuffer::new(len.max(0) as usize);
        result(
            self.with(|d| d.read(FileId(file as u32), &mut buf, offset).map(|n| n as i32))
                .unwrap_or(Err(Errno::NotFound)),
        )
    }

    #[doc(hidden)]
    pub fn write(&self, file: i32, len: i32, offset: i64) -> i32 {
        let mut buf = UserBuffer::new(len.max(0) as usize);
        result(
            self.with(|d| d.write(FileId(file as u32), &mut buf, offset).map(|n| n as i32))
                .unwrap_or(Err(Errno::NotFound)),
        )
    }

    #[doc(hidden)]
    pub fn ioctl(&self, file: i32, cmd: i32, len: i32) -> i32 {
        let mut buf = UserBuffer::new(len.max(0) as usize);
        result(self.with(|d| d.ioctl(FileId(file as u32), cmd as u32, &mut buf)).unwrap_or(Err(Errno::NotFound)))
    }
}

impl<T: Driver> Slot<T> {
    #[doc(hidden)]
    pub fn net_open(&self) -> i32 {
        result(self.with(|d| d.net_open().map(|()| 0)).unwrap_or(Err(Errno::NotFound)))
    }

    #[doc(hidden)]
    pub fn net_stop(&self) {
        self.with(T::net_stop);
    }

    #[doc(hidden)]
    pub fn net_tx(&self) {
        self.with(T::net_tx);
    }

    #[doc(hidden)]
    pub fn save(&self) -> i32 {
        result(self.with(|d| d.save().map(|()| 0)).unwrap_or(Err(Errno::NotFound)))
    }
}

impl<T: Driver> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}
