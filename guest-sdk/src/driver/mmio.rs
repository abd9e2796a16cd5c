// SPDX-License-Identifier: MIT OR Apache-2.0

//! Memory-mapped registers, checked by the host.
//!
//! Registers are typed: [`Reg<T>`] carries its offset and width, so the
//! access width always matches the register. Declare them with
//! [`register!`](crate::register!):
//!
//! ```text
//! cervus_guest::register! {
//!     /// Identification.
//!     pub IDENT: u32 = 0x00;
//!     /// Factorial: write n, read n!.
//!     pub FACTORIAL: u32 = 0x08;
//! }
//! ```

use core::marker::PhantomData;

use crate::{Errno, check, raw};

pub use cervus_hostcalls::driver::MmioOp;

/// A register width: `u8`, `u16`, `u32` or `u64`.
pub trait Width: Copy {
    /// Bytes.
    const BYTES: i32;
    /// From the low bits of a `u64`.
    fn from_u64(v: u64) -> Self;
    /// To a `u64`.
    fn to_u64(self) -> u64;
}

macro_rules! width {
    ($($t:ty = $n:expr),*) => {$(
        impl Width for $t {
            const BYTES: i32 = $n;
            fn from_u64(v: u64) -> Self {
                v as $t
            }
            fn to_u64(self) -> u64 {
                self as u64
            }
        }
    )*};
}
width!(u8 = 1, u16 = 2, u32 = 4, u64 = 8);

/// A register of width `T` at a fixed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg<T> {
    /// Its offset in the BAR.
    pub offset: u32,
    _width: PhantomData<T>,
}

impl<T: Width> Reg<T> {
    /// The register at `offset`.
    pub const fn at(offset: u32) -> Self {
        Reg { offset, _width: PhantomData }
    }

    /// The register `n` registers of this width further on (for arrays).
    pub const fn nth(self, n: u32) -> Self {
        Reg::at(self.offset + n * T::BYTES as u32)
    }
}

/// Declares typed registers: `pub NAME: u32 = 0x08;`.
#[macro_export]
macro_rules! register {
    ($( $(#[$meta:meta])* $vis:vis $name:ident : $ty:ty = $offset:expr ; )*) => {
        $(
            $(#[$meta])*
            $vis const $name: $crate::driver::Reg<$ty> = $crate::driver::Reg::at($offset);
        )*
    };
}

/// A mapped memory BAR.
#[derive(Debug)]
pub struct Mmio {
    handle: i32,
    size: u64,
}

impl Mmio {
    /// Maps memory BAR `bar`.
    pub fn map(bar: u8) -> Result<Self, Errno> {
        // SAFETY: plain values; the host checks them.
        let handle = check(unsafe { raw::mmio_map(i32::from(bar)) })? as i32;
        // SAFETY: as above.
        let size = unsafe { raw::mmio_size(handle) };
        if size < 0 {
            return Err(Errno::from_code(size as i32).unwrap_or(Errno::Unknown));
        }
        Ok(Mmio { handle, size: size as u64 })
    }

    /// The capability handle (for `Irqs::intx_config`).
    pub fn handle(&self) -> i32 {
        self.handle
    }

    /// The BAR's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads a register.
    pub fn read<T: Width>(&self, reg: Reg<T>) -> Result<T, Errno> {
        self.read_at(u64::from(reg.offset))
    }

    /// Writes a register.
    pub fn write<T: Width>(&self, reg: Reg<T>, value: T) -> Result<(), Errno> {
        self.write_at(u64::from(reg.offset), value)
    }

    /// Reads `T` at a computed offset.
    pub fn read_at<T: Width>(&self, offset: u64) -> Result<T, Errno> {
        let mut value = [0u8; 8];
        // SAFETY: the host writes 8 bytes at the pointer, inside `value`.
        check(unsafe { raw::mmio_read(self.handle, offset as i64, T::BYTES, value.as_mut_ptr() as i32) })?;
        Ok(T::from_u64(u64::from_le_bytes(value)))
    }

    /// Writes `T` at a computed offset.
    pub fn write_at<T: Width>(&self, offset: u64, value: T) -> Result<(), Errno> {
        // SAFETY: plain values; the host checks them.
        check(unsafe { raw::mmio_write(self.handle, offset as i64, T::BYTES, value.to_u64() as i64) }).map(drop)
    }

    /// Runs a sequence of accesses in one hostcall; reads fill in `value`.
    /// Nothing runs unless every operation is valid.
    pub fn batch(&self, ops: &mut [MmioOp]) -> Result<(), Errno> {
        let mut raw_ops = [[0u8; MmioOp::SIZE]; 64];
        for chunk in ops.chunks_mut(raw_ops.len()) {
            for (r, op) in raw_ops.iter_mut().zip(chunk.iter()) {
                *r = op.encode();
            }
            // SAFETY: the host reads and writes `len` ops inside `raw_ops`.
            check(unsafe { raw::mmio_batch(self.handle, raw_ops.as_mut_ptr() as i32, chunk.len() as i32) })?;
            for (r, op) in raw_ops.iter().zip(chunk.iter_mut()) {
                *op = MmioOp::decode(r).ok_or(Errno::Io)?;
            }
        }
        Ok(())
    }
}
