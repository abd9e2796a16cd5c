// SPDX-License-Identifier: GPL-2.0

//! `run-as UID COMMAND [ARG...]`: runs COMMAND with uid and gid UID and no
//! supplementary groups (the guest's busybox `setpriv` cannot).

use std::ffi::CString;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(id), true) = (args.first().and_then(|a| a.parse::<u32>().ok()), args.len() > 1) else {
        eprintln!("usage: run-as UID COMMAND [ARG...]");
        std::process::exit(2);
    };
    let argv: Vec<CString> = args[1..].iter().map(|a| CString::new(a.as_str()).expect("argument")).collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: plain system calls with valid arguments; `ptrs` is a
    // NULL-terminated array of NUL-terminated strings that outlive execvp.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(id) != 0 || libc::setuid(id) != 0 {
            eprintln!("run-as: {}", std::io::Error::last_os_error());
            std::process::exit(126);
        }
        libc::execvp(ptrs[0], ptrs.as_ptr());
    }
    eprintln!("run-as: {}: {}", args[1], std::io::Error::last_os_error());
    std::process::exit(127);
}
