// SPDX-License-Identifier: GPL-2.0

//! Sends malformed calls to `/dev/cvctl` and checks that each is refused
//! with the documented errno, then that a well-formed call still works.
//! Prints one line per check; exits 1 if any check failed.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;

use cervus_hostcalls::device::{
    ABI_VERSION, CVCTL_CALL, CallHeader, DEVICE_PATH, IOCTL_TYPE, MAX_REPLY_LEN, MAX_REQUEST_LEN,
};
use cervus_hostcalls::protocol::{Reply, Request, decode_reply, encode_request};

fn errno_name(e: i32) -> &'static str {
    match e {
        0 => "success",
        libc::EINVAL => "EINVAL",
        libc::EPROTO => "EPROTO",
        libc::EFAULT => "EFAULT",
        libc::ENOSPC => "ENOSPC",
        libc::ENOTTY => "ENOTTY",
        libc::ENOMEM => "ENOMEM",
        _ => "other",
    }
}

struct Checker {
    fd: i32,
    failed: bool,
}

impl Checker {
    fn call(&self, cmd: u32, arg: *mut libc::c_void) -> i32 {
        // SAFETY: the pointers passed below are valid for what the kernel
        // reads and writes, except where a test deliberately passes a bad
        // address, which the kernel must reject without touching it.
        let ret = unsafe { libc::ioctl(self.fd, cmd as _, arg) };
        if ret < 0 { std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { 0 }
    }

    fn expect(&mut self, what: &str, got: i32, want: i32) {
        if got == want {
            println!("ok - {what}: {}", errno_name(got));
        } else {
            println!("FAIL - {what}: got {} ({got}), wanted {}", errno_name(got), errno_name(want));
            self.failed = true;
        }
    }

    fn header_call(&self, header: &mut CallHeader) -> i32 {
        self.call(CVCTL_CALL, header as *mut CallHeader as *mut libc::c_void)
    }
}

fn header(request: &[u8], reply: &mut [u8]) -> CallHeader {
    CallHeader {
        abi_version: ABI_VERSION,
        request_ptr: request.as_ptr() as u64,
        request_len: request.len() as u32,
        reply_ptr: reply.as_mut_ptr() as u64,
        reply_cap: reply.len() as u32,
        ..CallHeader::default()
    }
}

fn main() {
    let file = OpenOptions::new().read(true).write(true).open(DEVICE_PATH).expect("open /dev/cvctl");
    let mut c = Checker { fd: file.as_raw_fd(), failed: false };
    let mut info = [0u8; 64];
    let info = encode_request(&Request::Info, &mut info).unwrap().to_vec();
    let mut reply = vec![0u8; MAX_REPLY_LEN as usize];

    let mut h = header(&info, &mut reply);
    h.abi_version = ABI_VERSION + 1;
    let e = c.header_call(&mut h);
    c.expect("unknown ABI version", e, libc::EPROTO);

    let mut h = header(&info, &mut reply);
    h.flags = 1;
    let e = c.header_call(&mut h);
    c.expect("non-zero flags", e, libc::EINVAL);

    let mut h = header(&info, &mut reply);
    h.reserved = 7;
    let e = c.header_call(&mut h);
    c.expect("non-zero reserved field", e, libc::EINVAL);

    let mut h = header(&info, &mut reply);
    h.request_len = 0;
    let e = c.header_call(&mut h);
    c.expect("empty request", e, libc::EINVAL);

    let mut h = header(&info, &mut reply);
    h.request_len = MAX_REQUEST_LEN + 1;
    let e = c.header_call(&mut h);
    c.expect("oversized request", e, libc::EINVAL);

    let mut h = header(&info, &mut reply);
    h.reply_cap = MAX_REPLY_LEN + 1;
    let e = c.header_call(&mut h);
    c.expect("oversized reply buffer", e, libc::EINVAL);

    let mut h = header(&info, &mut reply);
    h.request_ptr = 16;
    let e = c.header_call(&mut h);
    c.expect("request at an unmapped address", e, libc::EFAULT);

    let mut h = header(&info, &mut reply);
    h.request_ptr = 0xffff_8000_0000_0000;
    let e = c.header_call(&mut h);
    c.expect("request at a kernel address", e, libc::EFAULT);

    let e = c.call(CVCTL_CALL, std::ptr::null_mut());
    c.expect("null header", e, libc::EFAULT);

    let mut h = header(&info, &mut reply);
    h.reply_ptr = 8;
    let e = c.header_call(&mut h);
    c.expect("reply to an unmapped address", e, libc::EFAULT);

    let mut h = header(&info, &mut reply[..2]);
    let e = c.header_call(&mut h);
    c.expect("reply buffer too small", e, libc::ENOSPC);
    if h.reply_len as usize <= 2 || h.reply_len > MAX_REPLY_LEN {
        println!("FAIL - too-small reply: reply_len {} does not give the needed size", h.reply_len);
        c.failed = true;
    } else {
        println!("ok - too-small reply reports the needed size ({} bytes)", h.reply_len);
    }

    for (what, bytes) in [
        ("unknown request variant", vec![200u8]),
        ("truncated run request", vec![1u8, 5, b'a']),
        ("trailing bytes", [info.clone(), vec![0]].concat()),
        ("huge length prefix", vec![1u8, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    ] {
        let mut h = header(&bytes, &mut reply);
        let e = c.header_call(&mut h);
        c.expect(what, e, libc::EINVAL);
    }

    // Random payloads: each is refused or answered; the kernel survives.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut refused = 0;
    for round in 0..2000 {
        let len = 1 + (round % 97);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly small values, to reach deeper into the decoder.
                (x % if round % 2 == 0 { 256 } else { 4 }) as u8
            })
            .collect();
        let mut h = header(&bytes, &mut reply);
        match c.header_call(&mut h) {
            0 if decode_reply(&reply[..h.reply_len as usize]).is_ok() => {}
            libc::EINVAL => refused += 1,
            e => {
                println!("FAIL - random payload {round}: {} ({e})", errno_name(e));
                c.failed = true;
            }
        }
    }
    println!("ok - 2000 random payloads: {refused} refused with EINVAL, the rest answered");

    let e = c.call((IOCTL_TYPE << 8) | 0x7f, std::ptr::null_mut());
    c.expect("unknown ioctl", e, libc::ENOTTY);

    let mut h = header(&info, &mut reply);
    let e = c.header_call(&mut h);
    c.expect("a well-formed call still works", e, 0);
    match decode_reply(&reply[..h.reply_len as usize]) {
        Ok(Reply::Info(_)) => println!("ok - and is answered"),
        other => {
            println!("FAIL - well-formed call answered with {other:?}");
            c.failed = true;
        }
    }
    std::process::exit(i32::from(c.failed));
}
