// SPDX-License-Identifier: MIT OR Apache-2.0

//! The `/dev/cvctl` device ABI: ioctl numbers, the call header and size bounds.
//!
//! This file has no dependencies on purpose: the kernel module includes it with
//! `#[path]`, and `cervus-hostcalls` exposes it as [`crate::device`], so both
//! sides of the ioctl use the same definitions.
//!
//! A call is one ioctl, [`CVCTL_CALL`], whose argument points at a
//! [`CallHeader`]. The header points at a request encoded with `postcard`
//! (see `cervus_hostcalls::protocol`) and at a buffer for the reply. The
//! kernel rejects a header whose `abi_version` is not [`ABI_VERSION`] with
//! `EPROTO`, and any size outside the bounds below with `EINVAL`.
//! [`CVCTL_ABI_VERSION`] reads the kernel's ABI version and never changes, so
//! a tool can always tell which version it talks to.

/// The device node.
pub const DEVICE_PATH: &str = "/dev/cvctl";

/// Version of the request/reply encoding. Bumped on any incompatible change.
pub const ABI_VERSION: u32 = 5;

/// The ioctl "type" byte of every Cervus ioctl.
pub const IOCTL_TYPE: u32 = 0xCE;

/// Largest request accepted, wasm binary included.
pub const MAX_REQUEST_LEN: u32 = 32 << 20;

/// Largest reply buffer the kernel fills; every reply fits in it.
pub const MAX_REPLY_LEN: u32 = 64 << 10;

const IOC_NRBITS: u32 = 8;
const IOC_TYPEBITS: u32 = 8;
const IOC_SIZEBITS: u32 = 14;
const IOC_NRSHIFT: u32 = 0;
const IOC_TYPESHIFT: u32 = IOC_NRSHIFT + IOC_NRBITS;
const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// Encodes an ioctl number like the kernel's `_IOC` macro.
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << IOC_DIRSHIFT) | (IOCTL_TYPE << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | ((size as u32) << IOC_SIZESHIFT)
}

/// `_IOR(0xCE, 0, u32)`: reads the kernel's [`ABI_VERSION`].
pub const CVCTL_ABI_VERSION: u32 = ioc(IOC_READ, 0, core::mem::size_of::<u32>());

/// `_IOWR(0xCE, 1, CallHeader)`: one request, one reply.
pub const CVCTL_CALL: u32 = ioc(IOC_READ | IOC_WRITE, 1, core::mem::size_of::<CallHeader>());

/// The argument of [`CVCTL_CALL`].
///
/// All pointers are user-space addresses. The kernel writes back only
/// `reply_len`: the length of the reply it wrote, or, when the call fails with
/// `ENOSPC`, the length the reply needs.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallHeader {
    /// Must equal [`ABI_VERSION`].
    pub abi_version: u32,
    /// Must be zero.
    pub flags: u32,
    /// Address of the encoded request.
    pub request_ptr: u64,
    /// Length of the encoded request, at most [`MAX_REQUEST_LEN`].
    pub request_len: u32,
    /// Capacity of the reply buffer, at most [`MAX_REPLY_LEN`].
    pub reply_cap: u32,
    /// Address of the reply buffer.
    pub reply_ptr: u64,
    /// Set by the kernel: length of the reply.
    pub reply_len: u32,
    /// Must be zero.
    pub reserved: u32,
}

impl CallHeader {
    /// Checks the fields a caller controls, as the kernel does.
    ///
    /// Returns the errno the kernel answers a bad header with.
    pub const fn check(&self) -> Result<(), HeaderError> {
        if self.abi_version != ABI_VERSION {
            return Err(HeaderError::Version);
        }
        if self.flags != 0
            || self.reserved != 0
            || self.request_len == 0
            || self.request_len > MAX_REQUEST_LEN
            || self.reply_cap > MAX_REPLY_LEN
        {
            return Err(HeaderError::Invalid);
        }
        Ok(())
    }
}

/// Why a [`CallHeader`] was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Unknown ABI version: the kernel answers `EPROTO`.
    Version,
    /// A reserved field is set or a size is out of bounds: `EINVAL`.
    Invalid,
}
