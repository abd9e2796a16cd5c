// SPDX-License-Identifier: GPL-2.0

//! Import module `cervus_drv`: the capabilities of a driver for its device.
//!
//! Every argument is checked here before anything reaches the device: the
//! handle (kind, generation), the offset and width (in bounds, aligned, one
//! of the allowed widths), guest (pointer, length) claims, the DMA quota,
//! and for configuration writes, that only the allowed command bits change.

use crate::guest::Caller;
use cervus_hostcalls::Errno;
use cervus_hostcalls::driver::{COMMAND_WRITABLE, MAX_BATCH, MmioOp, PCI_COMMAND, PCI_CONFIG_SIZE};

use super::state::{Cap, DriverState};
use crate::guest_memory::{self, Claim};
use crate::hostcalls::Host;
use crate::instance::HostState;
use crate::platform::{Clock, Level, SysError};

type HostResult<T> = Result<T, wasmi::Error>;

/// Pages for DMA buffers.
const PAGE: usize = 4096;
/// Longest `sleep_us`.
const MAX_SLEEP_US: i64 = 1_000_000;
/// Timers per driver.
const TIMERS: i32 = 8;

fn code(e: Errno) -> i32 {
    e.code()
}

pub(crate) fn sys(e: SysError) -> Errno {
    match e {
        SysError::ENOENT | SysError::ENODEV => Errno::NotFound,
        SysError::ENOMEM => Errno::NoMemory,
        SysError::EBUSY => Errno::WouldBlock,
        SysError::EINVAL => Errno::InvalidArgument,
        SysError::EPERM | SysError::EACCES => Errno::PermissionDenied,
        SysError::EFAULT => Errno::BadPointer,
        SysError::ENOSPC => Errno::QuotaExceeded,
        e if e.is_interruption() => Errno::Interrupted,
        _ => Errno::Io,
    }
}

/// The driver part of the caller's state; drivers are the only instances
/// linked against `cervus_drv`, so it is always there.
pub(crate) fn driver<'a>(caller: &'a mut Caller<'_>) -> Result<&'a mut DriverState, Errno> {
    caller.data_mut().driver.as_mut().ok_or(Errno::Unsupported)
}

/// Checks an access of `width` bytes at `offset` in a region of `size`
/// bytes: a known width, aligned, entirely inside.
pub(crate) fn check_access(offset: i64, width: i32, size: u64, widths: &[i32]) -> Result<(u64, u8), Errno> {
    if !widths.contains(&width) {
        return Err(Errno::InvalidArgument);
    }
    let offset = u64::try_from(offset).map_err(|_| Errno::OutOfBounds)?;
    let end = offset.checked_add(width as u64).ok_or(Errno::OutOfBounds)?;
    if end > size {
        return Err(Errno::OutOfBounds);
    }
    if offset % width as u64 != 0 {
        return Err(Errno::Misaligned);
    }
    Ok((offset, width as u8))
}

/// Checks a range of `len` bytes at `offset` in a region of `size` bytes.
pub(crate) fn check_range(offset: i64, len: i32, size: usize) -> Result<(usize, usize), Errno> {
    let offset = usize::try_from(offset).map_err(|_| Errno::OutOfBounds)?;
    let len = usize::try_from(len).map_err(|_| Errno::InvalidArgument)?;
    let end = offset.checked_add(len).ok_or(Errno::OutOfBounds)?;
    if end > size {
        return Err(Errno::OutOfBounds);
    }
    Ok((offset, len))
}

/// Whether a configuration write may happen: only the command register,
/// whole, and only its writable bits may differ from their current value.
pub(crate) fn config_write_allowed(offset: i32, width: i32, value: i32, current: u32) -> Result<(), Errno> {
    if offset != i32::from(PCI_COMMAND) || width != 2 {
        return Err(Errno::PermissionDenied);
    }
    let changed = (value as u32 ^ current) & 0xffff;
    if changed & !u32::from(COMMAND_WRITABLE) != 0 || value as u32 > 0xffff {
        return Err(Errno::PermissionDenied);
    }
    Ok(())
}

fn mmio_of(state: &DriverState, handle: i32) -> Result<(u8, u64), Errno> {
    state.caps.get(handle, |c| match *c {
        Cap::Mmio { bar, size } => Some((bar, size)),
        Cap::Dma(_) => None,
    })
}

pub(crate) fn dma_of(state: &DriverState, handle: i32) -> Result<super::device::DmaBuffer, Errno> {
    state.caps.get(handle, |c| match *c {
        Cap::Dma(buf) => Some(buf),
        Cap::Mmio { .. } => None,
    })
}

/// Frees quarantined DMA buffers: the device can no longer reach them.
pub(crate) fn release_quarantine(state: &mut HostState) {
    let platform = state.platform;
    if let Some(d) = state.driver.as_mut() {
        for buffer in d.quarantine.drain(..) {
            platform.devices().dma_free(d.device, buffer.id);
            d.dma_bytes -= buffer.size;
        }
    }
}

impl Host {
    pub(crate) fn pci_config_read(caller: &mut Caller<'_>, offset: i32, width: i32) -> HostResult<i64> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let (offset, width) = check_access(offset.into(), width, PCI_CONFIG_SIZE.into(), &[1, 2, 4])?;
            platform.devices().config_read(d.device, offset as u16, width).map_err(sys)
        })();
        Ok(result.map_or_else(|e| i64::from(e.code()), i64::from))
    }

    pub(crate) fn pci_config_write(caller: &mut Caller<'_>, offset: i32, width: i32, value: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            check_access(offset.into(), width, PCI_CONFIG_SIZE.into(), &[1, 2, 4])?;
            let current = platform.devices().config_read(d.device, PCI_COMMAND, 2).map_err(sys)?;
            config_write_allowed(offset, width, value, current)?;
            platform.devices().config_write(d.device, PCI_COMMAND, 2, value as u32).map_err(sys)?;
            Ok(value as u32 & 0x4 == 0)
        })();
        match result {
            // Bus mastering is off: the device cannot reach freed buffers.
            Ok(true) => {
                release_quarantine(caller.data_mut());
                Ok(0)
            }
            Ok(false) => Ok(0),
            Err(e) => Ok(code(e)),
        }
    }

    pub(crate) fn mmio_map(caller: &mut Caller<'_>, bar: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let bar = u8::try_from(bar).ok().filter(|b| *b < 6).ok_or(Errno::InvalidArgument)?;
            let size = platform.devices().bar_size(d.device, bar).map_err(sys)?;
            platform.devices().mmio_map(d.device, bar).map_err(sys)?;
            d.caps.insert(Cap::Mmio { bar, size })
        })();
        Ok(result.map_or_else(code, |h| h.0))
    }

    pub(crate) fn mmio_size(caller: &mut Caller<'_>, mmio: i32) -> HostResult<i64> {
        Ok(driver(caller).and_then(|d| mmio_of(d, mmio)).map_or_else(|e| i64::from(e.code()), |(_, size)| size as i64))
    }

    pub(crate) fn mmio_read(
        caller: &mut Caller<'_>,
        mmio: i32,
        offset: i64,
        width: i32,
        value_ptr: i32,
    ) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let (bar, size) = mmio_of(d, mmio)?;
            let (offset, width) = check_access(offset, width, size, &[1, 2, 4, 8])?;
            d.counters.mmio_ops += 1;
            let device = d.device;
            // Check the destination before touching the device: reads can
            // have side effects.
            guest_memory::with_bytes(caller, Claim::new(value_ptr, 8), |_| ())?;
            let value = platform.devices().mmio_read(device, bar, offset, width).map_err(sys)?;
            guest_memory::write_bytes(caller, value_ptr, &value.to_le_bytes())
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn mmio_write(
        caller: &mut Caller<'_>,
        mmio: i32,
        offset: i64,
        width: i32,
        value: i64,
    ) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let (bar, size) = mmio_of(d, mmio)?;
            let (offset, width) = check_access(offset, width, size, &[1, 2, 4, 8])?;
            d.counters.mmio_ops += 1;
            platform.devices().mmio_write(d.device, bar, offset, width, value as u64).map_err(sys)
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn mmio_batch(caller: &mut Caller<'_>, mmio: i32, ops_ptr: i32, count: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let count = usize::try_from(count).ok().filter(|c| *c <= MAX_BATCH).ok_or(Errno::InvalidArgument)?;
            let len = i32::try_from(count * MmioOp::SIZE).map_err(|_| Errno::InvalidArgument)?;
            let raw = guest_memory::copy_out(caller, Claim::new(ops_ptr, len), MAX_BATCH * MmioOp::SIZE)?;
            let d = driver(caller)?;
            let (bar, size) = mmio_of(d, mmio)?;
            // Check every operation before running any.
            let mut ops = heapless::Vec::<MmioOp, MAX_BATCH>::new();
            for chunk in raw.chunks_exact(MmioOp::SIZE) {
                let op = MmioOp::decode(chunk.try_into().map_err(|_| Errno::InvalidArgument)?)
                    .ok_or(Errno::InvalidArgument)?;
                check_access(i64::from(op.offset), i32::from(op.width), size, &[1, 2, 4, 8])?;
                let _ = ops.push(op);
            }
            d.counters.mmio_ops += count as u64;
            let device = d.device;
            let mut out = raw;
            for (op, chunk) in ops.iter_mut().zip(out.chunks_exact_mut(MmioOp::SIZE)) {
                if op.write {
                    platform.devices().mmio_write(device, bar, op.offset.into(), op.width, op.value).map_err(sys)?;
                } else {
                    op.value = platform.devices().mmio_read(device, bar, op.offset.into(), op.width).map_err(sys)?;
                    chunk.copy_from_slice(&op.encode());
                }
            }
            guest_memory::write_bytes(caller, ops_ptr, &out)?;
            Ok(count as i32)
        })();
        Ok(result.unwrap_or_else(code))
    }

    pub(crate) fn dma_set_mask(caller: &mut Caller<'_>, bits: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let bits = u8::try_from(bits).ok().filter(|b| (24..=64).contains(b)).ok_or(Errno::InvalidArgument)?;
            if !d.caps.iter().all(|c| matches!(c, Cap::Mmio { .. })) {
                // Buffers already allocated may lie above the new limit.
                return Err(Errno::WouldBlock);
            }
            platform.devices().dma_set_mask(d.device, bits).map_err(sys)
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn dma_alloc(caller: &mut Caller<'_>, size: i64) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let size = usize::try_from(size).ok().filter(|s| *s > 0).ok_or(Errno::InvalidArgument)?;
            let size = size.checked_next_multiple_of(PAGE).ok_or(Errno::QuotaExceeded)?;
            if d.dma_bytes.checked_add(size).is_none_or(|total| total > d.dma_quota) {
                return Err(Errno::QuotaExceeded);
            }
            let buffer = platform.devices().dma_alloc(d.device, size).map_err(sys)?;
            match d.caps.insert(Cap::Dma(buffer)) {
                Ok(handle) => {
                    d.dma_bytes += buffer.size;
                    Ok(handle.0)
                }
                Err(e) => {
                    platform.devices().dma_free(d.device, buffer.id);
                    Err(e)
                }
            }
        })();
        Ok(result.unwrap_or_else(code))
    }

    pub(crate) fn dma_free(caller: &mut Caller<'_>, dma: i32) -> HostResult<i32> {
        let result = (|| {
            let d = driver(caller)?;
            let Cap::Dma(buffer) = d.caps.remove(dma, |c| matches!(c, Cap::Dma(_)))? else {
                return Err(Errno::BadHandle);
            };
            // The device may still write to it: keep it until it cannot.
            d.quarantine.push(buffer);
            Ok(())
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn dma_bus_addr(caller: &mut Caller<'_>, dma: i32) -> HostResult<i64> {
        Ok(driver(caller).and_then(|d| dma_of(d, dma)).map_or_else(|e| i64::from(e.code()), |b| b.bus_addr as i64))
    }

    pub(crate) fn dma_size(caller: &mut Caller<'_>, dma: i32) -> HostResult<i64> {
        Ok(driver(caller).and_then(|d| dma_of(d, dma)).map_or_else(|e| i64::from(e.code()), |b| b.size as i64))
    }

    pub(crate) fn dma_write(caller: &mut Caller<'_>, dma: i32, offset: i64, src: i32, len: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let buffer = dma_of(d, dma)?;
            let device = d.device;
            let (offset, len) = check_range(offset, len, buffer.size)?;
            guest_memory::with_bytes(caller, Claim::new(src, len as i32), |bytes| {
                platform.devices().dma_write(device, buffer.id, offset, bytes).map_err(sys)
            })?
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn dma_read(caller: &mut Caller<'_>, dma: i32, offset: i64, dst: i32, len: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let buffer = dma_of(d, dma)?;
            let device = d.device;
            let (offset, len) = check_range(offset, len, buffer.size)?;
            let (memory, _) = guest_memory::memory_and_state(caller)?;
            let dest = guest_memory::write(memory, Claim::new(dst, len as i32))?;
            platform.devices().dma_read(device, buffer.id, offset, dest).map_err(sys)
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn dma_barrier(caller: &mut Caller<'_>, kind: i32) -> HostResult<i32> {
        match u8::try_from(kind) {
            Ok(k @ 0..=2) => {
                caller.data().platform.devices().dma_barrier(k);
                Ok(0)
            }
            _ => Ok(code(Errno::InvalidArgument)),
        }
    }

    pub(crate) fn irq_alloc(caller: &mut Caller<'_>, kinds: i32, min: i32, max: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            use cervus_hostcalls::driver::irq;
            if kinds & !(irq::MSIX | irq::MSI | irq::INTX) != 0 || kinds == 0 {
                return Err(Errno::InvalidArgument);
            }
            let min = u32::try_from(min).ok().filter(|m| *m >= 1).ok_or(Errno::InvalidArgument)?;
            let max = u32::try_from(max).ok().filter(|m| *m >= min && *m <= 64).ok_or(Errno::InvalidArgument)?;
            if d.irq_mode != 0 {
                return Err(Errno::WouldBlock);
            }
            let (mode, count) = platform.devices().irq_alloc(d.device, kinds, min, max).map_err(sys)?;
            d.irq_mode = mode;
            Ok(count as i32)
        })();
        Ok(result.unwrap_or_else(code))
    }

    pub(crate) fn irq_mode(caller: &mut Caller<'_>) -> HostResult<i32> {
        Ok(driver(caller).map_or_else(code, |d| d.irq_mode))
    }

    pub(crate) fn irq_intx_config(
        caller: &mut Caller<'_>,
        mmio: i32,
        status_offset: i64,
        ack_offset: i64,
        width: i32,
    ) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            let (bar, size) = mmio_of(d, mmio)?;
            let (status, width) = check_access(status_offset, width, size, &[1, 2, 4])?;
            let ack =
                if ack_offset < 0 { None } else { Some(check_access(ack_offset, width.into(), size, &[1, 2, 4])?.0) };
            platform.devices().irq_intx_config(d.device, bar, status, ack, width).map_err(sys)
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn irq_free(caller: &mut Caller<'_>) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = driver(caller).map(|d| {
            if !d.retiring {
                platform.devices().irq_free(d.device);
            }
            d.irq_mode = 0;
        });
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn sleep_us(caller: &mut Caller<'_>, us: i64) -> HostResult<i32> {
        if !(0..=MAX_SLEEP_US).contains(&us) {
            return Ok(code(Errno::InvalidArgument));
        }
        caller.data().platform.sleep(us as u64 * 1000);
        Ok(0)
    }

    pub(crate) fn now_ns(caller: &mut Caller<'_>) -> HostResult<i64> {
        Ok(caller.data().platform.now(Clock::Monotonic) as i64)
    }

    pub(crate) fn timer_start(caller: &mut Caller<'_>, id: i32, delay_us: i64, period_us: i64) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            if !(0..TIMERS).contains(&id) || delay_us < 0 || period_us < 0 {
                return Err(Errno::InvalidArgument);
            }
            let ns = |us: i64| (us as u64).saturating_mul(1000);
            platform.devices().timer_start(d.device, id as u8, ns(delay_us), ns(period_us)).map_err(sys)
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn timer_stop(caller: &mut Caller<'_>, id: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let d = driver(caller)?;
            if !(0..TIMERS).contains(&id) {
                return Err(Errno::InvalidArgument);
            }
            platform.devices().timer_stop(d.device, id as u8);
            Ok(())
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn log(caller: &mut Caller<'_>, level: i32, ptr: i32, len: i32) -> HostResult<i32> {
        let text = match guest_memory::copy_out(caller, Claim::new(ptr, len), 1024) {
            Ok(t) => t,
            Err(e) => return Ok(code(e)),
        };
        let level = match level {
            0..=3 => Level::Error,
            4 => Level::Warning,
            _ => Level::Info,
        };
        let text = core::str::from_utf8(&text).unwrap_or("<not UTF-8>");
        caller.data_mut().log(level, format_args!("{text}"));
        Ok(0)
    }

    pub(crate) fn chrdev_register(caller: &mut Caller<'_>, name_ptr: i32, name_len: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let name = guest_memory::copy_out(caller, Claim::new(name_ptr, name_len), 32)?;
            let name = core::str::from_utf8(&name).map_err(|_| Errno::InvalidArgument)?;
            let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(Errno::InvalidArgument);
            }
            let d = driver(caller)?;
            if d.chrdev {
                return Err(Errno::WouldBlock);
            }
            platform.devices().chrdev_register(d.device, name).map_err(sys)?;
            d.chrdev = true;
            Ok(())
        })();
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn chrdev_set_ready(caller: &mut Caller<'_>, mask: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = driver(caller).and_then(|d| {
            if !d.chrdev {
                return Err(Errno::NotFound);
            }
            platform.devices().chrdev_set_ready(d.device, mask as u32 & 0xffff);
            Ok(())
        });
        Ok(result.map_or_else(code, |()| 0))
    }

    pub(crate) fn user_read(caller: &mut Caller<'_>, offset: i32, dst: i32, len: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let offset = usize::try_from(offset).map_err(|_| Errno::InvalidArgument)?;
            let user = driver(caller)?.user.ok_or(Errno::Unsupported)?;
            let (memory, _) = guest_memory::memory_and_state(caller)?;
            let dest = guest_memory::write(memory, Claim::new(dst, len))?;
            platform.devices().user_read(user, offset, dest).map_err(sys)
        })();
        Ok(result.map_or_else(code, |n| n as i32))
    }

    pub(crate) fn user_write(caller: &mut Caller<'_>, offset: i32, src: i32, len: i32) -> HostResult<i32> {
        let platform = caller.data().platform;
        let result = (|| {
            let offset = usize::try_from(offset).map_err(|_| Errno::InvalidArgument)?;
            let user = driver(caller)?.user.ok_or(Errno::Unsupported)?;
            guest_memory::with_bytes(caller, Claim::new(src, len), |bytes| {
                platform.devices().user_write(user, offset, bytes).map_err(sys)
            })?
        })();
        Ok(result.map_or_else(code, |n| n as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_checked_for_width_alignment_and_bounds() {
        let w = &[1, 2, 4, 8];
        assert_eq!(check_access(0, 4, 16, w), Ok((0, 4)));
        assert_eq!(check_access(12, 4, 16, w), Ok((12, 4)));
        assert_eq!(check_access(8, 8, 16, w), Ok((8, 8)));
        assert_eq!(check_access(16, 1, 16, w), Err(Errno::OutOfBounds));
        assert_eq!(check_access(14, 4, 16, w), Err(Errno::OutOfBounds));
        assert_eq!(check_access(-4, 4, 16, w), Err(Errno::OutOfBounds));
        assert_eq!(check_access(i64::MAX - 7, 8, i64::MAX as u64, w), Err(Errno::OutOfBounds), "end past a huge size");
        assert_eq!(check_access(i64::MAX - 7, 8, u64::MAX, w), Ok(((i64::MAX - 7) as u64, 8)));
        assert_eq!(check_access(2, 4, 16, w), Err(Errno::Misaligned));
        assert_eq!(check_access(0, 3, 16, w), Err(Errno::InvalidArgument));
        assert_eq!(check_access(0, 8, 16, &[1, 2, 4]), Err(Errno::InvalidArgument));
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(check_range(0, 4096, 4096), Ok((0, 4096)));
        assert_eq!(check_range(1, 4096, 4096), Err(Errno::OutOfBounds));
        assert_eq!(check_range(-1, 1, 4096), Err(Errno::OutOfBounds));
        assert_eq!(check_range(0, -1, 4096), Err(Errno::InvalidArgument));
        assert_eq!(check_range(i64::MAX, 1, i64::MAX as usize), Err(Errno::OutOfBounds));
        assert_eq!(check_range(0, i32::MAX, 4096), Err(Errno::OutOfBounds));
    }

    #[test]
    fn only_safe_command_bits_may_change() {
        let current = 0x0103; // I/O + memory + SERR enable
        assert_eq!(config_write_allowed(4, 2, 0x0107, current), Ok(()), "bus master on");
        assert_eq!(config_write_allowed(4, 2, 0x0503, current), Ok(()), "INTx disable on");
        assert_eq!(config_write_allowed(4, 2, 0x0003, current), Err(Errno::PermissionDenied), "SERR is not ours");
        assert_eq!(config_write_allowed(4, 4, 0x0107, current), Err(Errno::PermissionDenied), "whole register");
        assert_eq!(config_write_allowed(0x10, 4, 0, current), Err(Errno::PermissionDenied), "BARs");
        assert_eq!(config_write_allowed(4, 2, 0x10107, current), Err(Errno::PermissionDenied), "out of range");
    }
}
