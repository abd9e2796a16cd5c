// SPDX-License-Identifier: GPL-2.0

//! Coherent DMA buffers of a bound device, by id.
//!
//! Ids are indexes + 1 into the device's table; a freed id stays empty
//! (the engine never reuses one, and checks its own handles first). During
//! a hot swap, freed buffers are kept and handed (zeroed) to the new
//! instance's allocations of the same size.

use kernel::{dma::Coherent, prelude::*};

use super::context::DevCtx;

impl DevCtx {
    /// Allocates a zeroed coherent buffer of `size` bytes: (id, bus address).
    pub(crate) fn dma_alloc(&self, size: usize) -> Result<(u64, u64)> {
        let mut state = self.bound_state()?;
        let reused = match state.dma_released.iter().position(|b| b.len() == size) {
            Some(i) => Some(state.dma_released.remove(i)?),
            None => None,
        };
        let buffer = match reused {
            Some(buffer) => {
                // SAFETY: the buffer is `len` bytes, ours, and the device
                // cannot reach it (a swap turns bus mastering off before freeing).
                unsafe { core::ptr::write_bytes(buffer.as_mut_ptr().cast::<u8>(), 0, buffer.len()) };
                buffer
            }
            None => {
                // SAFETY: the state lock is held and the device is bound.
                let dev = unsafe { self.bound() };
                Coherent::<u8>::zeroed_slice(dev.as_ref(), size, GFP_KERNEL)?
            }
        };
        let bus = buffer.dma_address();
        let slot = state.dma.len();
        state.dma.push(Some(buffer), GFP_KERNEL)?;
        Ok((slot as u64 + 1, bus))
    }

    /// Frees buffer `id` (the engine does so once the device cannot reach
    /// it). During a swap it is kept for the next instance to reuse.
    pub(crate) fn dma_free(&self, id: u64) {
        let mut state = self.state.lock();
        let Some(buffer) = id.checked_sub(1).and_then(|i| state.dma.get_mut(i as usize)).and_then(Option::take) else {
            return;
        };
        if state.paused {
            // On failure to keep it, it is simply freed.
            let _ = state.dma_released.push(buffer, GFP_KERNEL);
        }
    }

    /// Copies `len` bytes between `buf` and buffer `id` at `offset`: into
    /// the buffer if `to_buffer`, else out of it.
    ///
    /// # Safety
    ///
    /// `buf` is valid for reading (`to_buffer`) or writing `len` bytes.
    pub(crate) unsafe fn dma_copy(&self, id: u64, offset: usize, buf: *mut u8, len: usize, to_buffer: bool) -> Result {
        let state = self.bound_state()?;
        let index = usize::try_from(id.checked_sub(1).ok_or(EINVAL)?)?;
        let buffer = state.dma.get(index).and_then(Option::as_ref).ok_or(EINVAL)?;
        let end = offset.checked_add(len).ok_or(ERANGE)?;
        if end > buffer.len() {
            return Err(ERANGE);
        }
        let base = buffer.as_mut_ptr().cast::<u8>();
        // The device may write the buffer concurrently: that is what DMA
        // is, and bytes are copied without forming references.
        // SAFETY: `offset..end` is inside the buffer, which stays allocated
        // while we hold the state lock; `buf` is valid (precondition).
        unsafe {
            if to_buffer {
                core::ptr::copy_nonoverlapping(buf.cast_const(), base.add(offset), len);
            } else {
                core::ptr::copy_nonoverlapping(base.add(offset).cast_const(), buf, len);
            }
        }
        Ok(())
    }
}
