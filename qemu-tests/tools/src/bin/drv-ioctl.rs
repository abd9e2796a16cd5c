// SPDX-License-Identifier: GPL-2.0

//! Exercises wasm drivers' character devices from the guest:
//!
//! - `drv-ioctl edu-dma DEV`: a 4 KiB DMA round trip through the edu device
//!   with a pseudo-random pattern; checks that it comes back intact.
//! - `drv-ioctl edu-stats DEV`: prints the edu driver's counters, one
//!   `name value` per line.
//! - `drv-ioctl edu-raise DEV BITS`: raises an edu interrupt.
//! - `drv-ioctl edu-liveness DEV VALUE`: prints what the liveness register
//!   returns for VALUE (its inverse), in hex.
//! - `drv-ioctl poll DEV in|out MILLIS`: prints `ready` or `timeout`.
//! - `drv-ioctl abuse DEV OP ARG`: runs operation OP of the drv-abuse test
//!   driver with ARG; prints the hostcall's result.
//! - `drv-ioctl nonblock-read DEV`: a non-blocking read; prints the bytes
//!   or the errno name.
//! - `drv-ioctl ethtool IFACE`: prints the interface's `ethtool -i` driver,
//!   version and bus address.
//!
//! Exits 1 with a message on failure.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

const fn ioc(dir: u64, ty: u8, nr: u64, size: u64) -> u64 {
    (dir << 30) | (size << 16) | ((ty as u64) << 8) | nr
}

const EDU_DMA: u64 = ioc(3, b'E', 1, 4096);
const EDU_STATS: u64 = ioc(2, b'E', 2, 48);
const EDU_RAISE: u64 = ioc(1, b'E', 3, 4);
const EDU_LIVENESS: u64 = ioc(3, b'E', 4, 4);
const STAT_NAMES: [&str; 6] = ["irqs", "irq_events", "factorials", "dma_round_trips", "raised", "missed"];

fn die(message: String) -> ! {
    eprintln!("drv-ioctl: {message}");
    std::process::exit(1)
}

fn open(path: &str, flags: i32) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(flags)
        .open(path)
        .unwrap_or_else(|e| die(format!("{path}: {e}")))
}

/// `ioctl(fd, cmd, buf)`; the errno on failure.
fn ioctl(file: &File, cmd: u64, buf: &mut [u8]) -> Result<i32, std::io::Error> {
    // SAFETY: `buf` is valid for the size encoded in `cmd` (each caller
    // passes a buffer of exactly that size).
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), cmd as _, buf.as_mut_ptr()) };
    if ret < 0 { Err(std::io::Error::last_os_error()) } else { Ok(ret) }
}

fn arg(args: &[String], i: usize) -> &str {
    args.get(i).map_or_else(|| die("missing argument (see the source's documentation)".into()), String::as_str)
}

fn number(text: &str) -> i64 {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| die(format!("`{text}` is not a number")))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, path) = (arg(&args, 0), arg(&args, 1));
    match command {
        "edu-dma" => {
            let file = open(path, 0);
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let pattern: Vec<u8> = (0..4096)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let mut buf = pattern.clone();
            let n = ioctl(&file, EDU_DMA, &mut buf).unwrap_or_else(|e| die(format!("DMA round trip: {e}")));
            if n != 4096 || buf != pattern {
                let first = buf.iter().zip(&pattern).position(|(a, b)| a != b);
                die(format!("DMA round trip returned {n}, first difference at {first:?}"));
            }
            println!("dma round trip: 4096 bytes intact");
        }
        "edu-stats" => {
            let file = open(path, 0);
            let mut buf = [0u8; 48];
            ioctl(&file, EDU_STATS, &mut buf).unwrap_or_else(|e| die(format!("stats: {e}")));
            for (name, chunk) in STAT_NAMES.iter().zip(buf.chunks(8)) {
                println!("{name} {}", u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
            }
        }
        "edu-raise" => {
            let file = open(path, 0);
            let mut buf = (number(arg(&args, 2)) as u32).to_le_bytes();
            ioctl(&file, EDU_RAISE, &mut buf).unwrap_or_else(|e| die(format!("raise: {e}")));
        }
        "edu-liveness" => {
            let file = open(path, 0);
            let mut buf = (number(arg(&args, 2)) as u32).to_le_bytes();
            ioctl(&file, EDU_LIVENESS, &mut buf).unwrap_or_else(|e| die(format!("liveness: {e}")));
            println!("{:#010x}", u32::from_le_bytes(buf));
        }
        "poll" => {
            let file = open(path, 0);
            let events = match arg(&args, 2) {
                "in" => libc::POLLIN,
                "out" => libc::POLLOUT,
                other => die(format!("poll for `{other}`?")),
            };
            let mut fd = libc::pollfd { fd: file.as_raw_fd(), events, revents: 0 };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut fd, 1, number(arg(&args, 3)) as i32) };
            match n {
                0 => println!("timeout"),
                n if n > 0 && fd.revents & events != 0 => println!("ready"),
                n if n > 0 => println!("revents {:#x}", fd.revents),
                _ => die(format!("poll: {}", std::io::Error::last_os_error())),
            }
        }
        "abuse" => {
            let file = open(path, 0);
            let op = number(arg(&args, 2)) as u64;
            let mut buf = [0u8; 8];
            buf[..4].copy_from_slice(&(number(arg(&args, 3)) as i32).to_le_bytes());
            match ioctl(&file, ioc(3, b'T', op, 8), &mut buf) {
                Ok(_) => println!("{}", i32::from_le_bytes(buf[4..8].try_into().unwrap_or_default())),
                Err(e) => println!("ioctl failed: {e}"),
            }
        }
        "nonblock-read" => {
            let mut file = open(path, libc::O_NONBLOCK);
            let mut buf = [0u8; 64];
            match file.read(&mut buf) {
                Ok(n) => println!("{}", String::from_utf8_lossy(&buf[..n]).trim_end()),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => println!("EAGAIN"),
                Err(e) => println!("error: {e}"),
            }
        }
        "ethtool" => ethtool(path),
        other => die(format!("unknown command `{other}`")),
    }
}

/// `ETHTOOL_GDRVINFO` through `SIOCETHTOOL`.
fn ethtool(iface: &str) {
    const SIOCETHTOOL: u64 = 0x8946;
    const ETHTOOL_GDRVINFO: u32 = 3;
    let mut info = [0u8; 196];
    info[..4].copy_from_slice(&ETHTOOL_GDRVINFO.to_le_bytes());
    #[repr(C)]
    struct IfReq {
        name: [u8; 16],
        data: *mut u8,
        _pad: [u8; 16],
    }
    let mut req = IfReq { name: [0; 16], data: info.as_mut_ptr(), _pad: [0; 16] };
    let n = iface.len().min(15);
    req.name[..n].copy_from_slice(&iface.as_bytes()[..n]);
    // SAFETY: plain system calls; `req` and `info` outlive the ioctl, which
    // writes at most `info.len()` bytes through `req.data`.
    let ret = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        let ret = libc::ioctl(fd, SIOCETHTOOL as _, &mut req);
        libc::close(fd);
        ret
    };
    if ret < 0 {
        die(format!("SIOCETHTOOL {iface}: {}", std::io::Error::last_os_error()));
    }
    let text = |at: usize| {
        let field = &info[at..at + 32];
        String::from_utf8_lossy(&field[..field.iter().position(|b| *b == 0).unwrap_or(32)]).into_owned()
    };
    println!("driver: {}", text(4));
    println!("version: {}", text(36));
    println!("bus-info: {}", text(100));
}
