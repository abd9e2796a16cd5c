// SPDX-License-Identifier: GPL-2.0

//! Talking to `/dev/cvctl`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;

use cervus_hostcalls::device::{
    ABI_VERSION, CVCTL_ABI_VERSION, CVCTL_CALL, CallHeader, DEVICE_PATH, MAX_REPLY_LEN, MAX_REQUEST_LEN,
};
use cervus_hostcalls::protocol::{Reply, Request, decode_reply, encode_request, request_size_bound};

/// Why a call failed before a reply came back.
#[derive(Debug)]
pub enum DeviceError {
    /// `/dev/cvctl` could not be opened.
    Open(io::Error),
    /// The kernel module speaks another ABI version.
    Version { kernel: u32 },
    /// The request is larger than the ABI allows.
    TooLarge(usize),
    /// The ioctl failed.
    Ioctl(io::Error),
    /// The reply did not decode.
    Reply,
}

impl std::fmt::Display for DeviceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceError::Open(e) if e.kind() == io::ErrorKind::NotFound => {
                write!(f, "{DEVICE_PATH} does not exist: is cervus.ko loaded?")
            }
            DeviceError::Open(e) => write!(f, "cannot open {DEVICE_PATH}: {e}"),
            DeviceError::Version { kernel } => {
                write!(f, "the kernel module speaks ABI version {kernel}, this cvctl speaks {ABI_VERSION}")
            }
            DeviceError::TooLarge(n) => write!(f, "request of {n} bytes exceeds the {MAX_REQUEST_LEN}-byte limit"),
            DeviceError::Ioctl(e) => write!(f, "{DEVICE_PATH}: {e}"),
            DeviceError::Reply => write!(f, "{DEVICE_PATH}: malformed reply"),
        }
    }
}

/// An open control device.
pub struct Device {
    file: File,
}

impl Device {
    /// Opens `/dev/cvctl` and checks the kernel's ABI version.
    pub fn open() -> Result<Self, DeviceError> {
        let file = OpenOptions::new().read(true).write(true).open(DEVICE_PATH).map_err(DeviceError::Open)?;
        let device = Device { file };
        let kernel = device.abi_version()?;
        if kernel != ABI_VERSION {
            return Err(DeviceError::Version { kernel });
        }
        Ok(device)
    }

    /// The kernel module's ABI version.
    pub fn abi_version(&self) -> Result<u32, DeviceError> {
        let mut version = 0u32;
        // SAFETY: CVCTL_ABI_VERSION writes one u32 to the pointer.
        let ret = unsafe { libc::ioctl(self.file.as_raw_fd(), CVCTL_ABI_VERSION as _, &mut version as *mut u32) };
        if ret < 0 {
            return Err(DeviceError::Ioctl(io::Error::last_os_error()));
        }
        Ok(version)
    }

    /// Sends one request and waits for its reply.
    pub fn call(&self, request: &Request<'_>) -> Result<Reply, DeviceError> {
        let bound = request_size_bound(request);
        let mut buf = vec![0u8; bound];
        let encoded = encode_request(request, &mut buf).map_err(|_| DeviceError::TooLarge(bound))?;
        let request_len = u32::try_from(encoded.len())
            .ok()
            .filter(|&n| n <= MAX_REQUEST_LEN)
            .ok_or(DeviceError::TooLarge(encoded.len()))?;
        let mut reply = vec![0u8; MAX_REPLY_LEN as usize];
        let mut header = CallHeader {
            abi_version: ABI_VERSION,
            request_ptr: encoded.as_ptr() as u64,
            request_len,
            reply_ptr: reply.as_mut_ptr() as u64,
            reply_cap: MAX_REPLY_LEN,
            ..CallHeader::default()
        };
        loop {
            // SAFETY: the header points at live buffers of the stated sizes;
            // the kernel writes at most `reply_cap` bytes of reply and the
            // header's `reply_len`.
            let ret = unsafe { libc::ioctl(self.file.as_raw_fd(), CVCTL_CALL as _, &mut header as *mut CallHeader) };
            if ret >= 0 {
                break;
            }
            let err = io::Error::last_os_error();
            // A signal for which cvctl has a handler interrupted the call
            // before it started: start it again.
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(DeviceError::Ioctl(err));
            }
        }
        let len = (header.reply_len as usize).min(reply.len());
        decode_reply(&reply[..len]).map_err(|_| DeviceError::Reply)
    }
}
