// SPDX-License-Identifier: GPL-2.0

//! Guest (pointer, length) pairs are claims, checked on every use.
//!
//! A guest passes `i32` offsets into its linear memory. Nothing about them is
//! trusted: the pair is resolved against the memory's current size each time
//! a hostcall touches it (memory can grow, never shrink, between calls).

use alloc::vec::Vec;
use cervus_hostcalls::Errno;
use core::ops::Range;

use crate::guest::Caller;
use crate::instance::HostState;

/// An unchecked (pointer, length) pair from a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    ptr: i32,
    len: i32,
}

impl Claim {
    /// Records the guest's claim; nothing is checked yet.
    pub const fn new(ptr: i32, len: i32) -> Self {
        Claim { ptr, len }
    }

    /// The byte range the claim covers in a memory of `memory_len` bytes.
    ///
    /// The pointer is a wasm32 address, so it is read as unsigned. A negative
    /// length is `InvalidArgument`; a range that does not lie entirely inside
    /// the memory is `BadPointer`.
    pub fn range(self, memory_len: usize) -> Result<Range<usize>, Errno> {
        let len = usize::try_from(self.len).map_err(|_| Errno::InvalidArgument)?;
        let start = self.ptr as u32 as usize;
        let end = start.checked_add(len).ok_or(Errno::BadPointer)?;
        if end > memory_len {
            return Err(Errno::BadPointer);
        }
        Ok(start..end)
    }
}

/// The bytes a claim covers, for reading.
pub fn read(memory: &[u8], claim: Claim) -> Result<&[u8], Errno> {
    Ok(&memory[claim.range(memory.len())?])
}

/// The bytes a claim covers, for writing.
pub fn write(memory: &mut [u8], claim: Claim) -> Result<&mut [u8], Errno> {
    let range = claim.range(memory.len())?;
    Ok(&mut memory[range])
}

/// Lends the bytes of a claim in the caller's memory to `f`.
pub(crate) fn with_bytes<R>(caller: &Caller<'_>, claim: Claim, f: impl FnOnce(&[u8]) -> R) -> Result<R, Errno> {
    let memory = caller.memory().ok_or(Errno::BadPointer)?;
    Ok(f(read(memory, claim)?))
}

/// Copies the bytes of a claim out of the caller's memory; claims longer
/// than `max` are `InvalidArgument`.
pub(crate) fn copy_out(caller: &Caller<'_>, claim: Claim, max: usize) -> Result<Vec<u8>, Errno> {
    if usize::try_from(claim.len).is_ok_and(|l| l > max) {
        return Err(Errno::InvalidArgument);
    }
    with_bytes(caller, claim, <[u8]>::to_vec)
}

/// Writes `bytes` at `ptr` in the caller's memory.
pub(crate) fn write_bytes(caller: &mut Caller<'_>, ptr: i32, bytes: &[u8]) -> Result<(), Errno> {
    let len = i32::try_from(bytes.len()).map_err(|_| Errno::InvalidArgument)?;
    let (memory, _) = memory_and_state(caller)?;
    write(memory, Claim::new(ptr, len))?.copy_from_slice(bytes);
    Ok(())
}

/// The caller's memory and host state, borrowed together.
pub(crate) fn memory_and_state<'a>(caller: &'a mut Caller<'_>) -> Result<(&'a mut [u8], &'a mut HostState), Errno> {
    caller.memory_and_state().ok_or(Errno::BadPointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_inside_memory_resolve() {
        assert_eq!(Claim::new(0, 0).range(0), Ok(0..0));
        assert_eq!(Claim::new(0, 16).range(16), Ok(0..16));
        assert_eq!(Claim::new(15, 1).range(16), Ok(15..16));
        assert_eq!(Claim::new(16, 0).range(16), Ok(16..16));
    }

    #[test]
    fn claims_outside_memory_are_refused() {
        assert_eq!(Claim::new(16, 1).range(16), Err(Errno::BadPointer));
        assert_eq!(Claim::new(17, 0).range(16), Err(Errno::BadPointer));
        assert_eq!(Claim::new(0, 17).range(16), Err(Errno::BadPointer));
        assert_eq!(Claim::new(0, -1).range(16), Err(Errno::InvalidArgument));
        // Negative pointers are high wasm32 addresses, not small ones.
        assert_eq!(Claim::new(-1, 1).range(16), Err(Errno::BadPointer));
        assert_eq!(Claim::new(-1, 1).range(1 << 32), Ok(0xffff_ffff..(1 << 32)));
        assert_eq!(Claim::new(i32::MIN, i32::MAX).range(1 << 32), Ok(0x8000_0000..0xffff_ffff));
        // No overflow of start + len.
        assert_eq!(Claim::new(-1, i32::MAX).range(usize::MAX), Ok(0xffff_ffff..0xffff_ffff + i32::MAX as usize));
    }

    #[test]
    fn read_and_write_slice_exactly() {
        let mut mem = [0u8; 8];
        write(&mut mem, Claim::new(2, 3)).unwrap().copy_from_slice(b"abc");
        assert_eq!(read(&mem, Claim::new(1, 5)).unwrap(), b"\0abc\0");
        assert!(write(&mut mem, Claim::new(6, 3)).is_err());
    }
}
