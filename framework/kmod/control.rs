// SPDX-License-Identifier: GPL-2.0

//! The `/dev/cvctl` misc device.
//!
//! Two ioctls (see `hostcalls/src/device.rs`): `CVCTL_ABI_VERSION` reads the
//! ABI version, `CVCTL_CALL` carries one postcard-encoded request to the
//! engine and its reply back. The request runs in the calling process's
//! context, so the ioctl blocks until it is done. The device node is created
//! root-only (0600); its mode decides who may run apps.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
    task::Kuid,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    device::{
        CallHeader,
        HeaderError,
        ABI_VERSION,
        CVCTL_ABI_VERSION,
        CVCTL_CALL,
        MAX_REPLY_LEN, //
    },
    engine,
};

// SAFETY: `CallHeader` is `repr(C)`, made of integers only, with no padding
// (4 + 4 + 8 + 4 + 4 + 8 + 4 + 4 bytes, every field naturally aligned), so
// every bit pattern is a valid value and all its bytes are initialised.
unsafe impl FromBytes for CallHeader {}
// SAFETY: see above.
unsafe impl AsBytes for CallHeader {}

/// An open `/dev/cvctl`. Holds no state: every call is self-contained.
pub(crate) struct Control;

#[vtable]
impl MiscDevice for Control {
    type Ptr = ();

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<()> {
        Ok(())
    }

    fn ioctl(_me: (), _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            CVCTL_ABI_VERSION => {
                UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<u32>())
                    .writer()
                    .write(&ABI_VERSION)?;
                Ok(0)
            }
            CVCTL_CALL => call(UserPtr::from_addr(arg)).map(|()| 0),
            _ => Err(ENOTTY),
        }
    }
}

/// Handles `CVCTL_CALL`: copy the request in, run it, copy the reply out.
fn call(arg: UserPtr) -> Result {
    let (mut reader, mut writer) = UserSlice::new(arg, core::mem::size_of::<CallHeader>()).reader_writer();
    let mut header: CallHeader = reader.read()?;
    header.check().map_err(|e| match e {
        HeaderError::Version => EPROTO,
        HeaderError::Invalid => EINVAL,
    })?;

    let mut request = KVVec::with_capacity(header.request_len as usize, GFP_KERNEL)?;
    user_slice(header.request_ptr, header.request_len)?.read_all(&mut request, GFP_KERNEL)?;
    let mut reply = KVVec::from_elem(0u8, MAX_REPLY_LEN as usize, GFP_KERNEL)?;

    let caller = engine::Caller {
        uid: Kuid::current_euid().into_uid_in_current_ns(),
        pid: current!().tgid(),
    };
    let len = engine::request(&request, &mut reply, caller)?;

    // Cannot truncate: `len` is at most MAX_REPLY_LEN.
    header.reply_len = len as u32;
    if header.reply_len > header.reply_cap {
        writer.write(&header)?;
        return Err(ENOSPC);
    }
    user_slice(header.reply_ptr, header.reply_len)?.writer().write_slice(&reply[..len])?;
    writer.write(&header)
}

fn user_slice(ptr: u64, len: u32) -> Result<UserSlice> {
    let addr = usize::try_from(ptr).map_err(|_| EFAULT)?;
    Ok(UserSlice::new(UserPtr::from_addr(addr), len as usize))
}
