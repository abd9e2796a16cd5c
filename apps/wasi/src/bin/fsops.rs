// SPDX-License-Identifier: MIT OR Apache-2.0

//! `fsops DIR`: creates, writes, reads, renames, links, stats and removes
//! things in DIR, printing each step. Exits non-zero at the first failure.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize) -> u16;
}

/// `path_symlink` beneath the first preopened directory (descriptor 3):
/// std's symlink for WASI is not stable yet.
fn symlink(target: &str, link: &str) -> Result<(), String> {
    // SAFETY: both strings are valid for their lengths.
    match unsafe { path_symlink(target.as_ptr(), target.len(), 3, link.as_ptr(), link.len()) } {
        0 => Ok(()),
        errno => Err(format!("errno {errno}")),
    }
}

fn step<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> T {
    match r {
        Ok(v) => {
            println!("ok {what}");
            v
        }
        Err(e) => {
            println!("FAILED {what}: {e}");
            std::process::exit(1);
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: fsops DIR");
    let d = |p: &str| format!("{dir}/{p}");
    step("mkdir sub", fs::create_dir(d("sub")));
    let mut f = step("create sub/a.txt", fs::File::create(d("sub/a.txt")));
    step("write", f.write_all(b"hello, file system\n"));
    step("seek", f.seek(SeekFrom::Start(7)));
    step("overwrite", f.write_all(b"FILE"));
    drop(f);
    let text = step("read back", fs::read_to_string(d("sub/a.txt")));
    println!("content: {}", text.trim());
    let meta = step("metadata", fs::metadata(d("sub/a.txt")));
    println!("size: {}, is_file: {}", meta.len(), meta.is_file());
    let mut f = step("append", fs::OpenOptions::new().append(true).open(d("sub/a.txt")));
    step("write appended", f.write_all(b"more\n"));
    drop(f);
    step("set_len", fs::OpenOptions::new().write(true).open(d("sub/a.txt")).and_then(|f| f.set_len(5)));
    let mut short = String::new();
    step("read truncated", fs::File::open(d("sub/a.txt")).and_then(|mut f| f.read_to_string(&mut short)));
    println!("truncated: {short}");
    step("rename", fs::rename(d("sub/a.txt"), d("sub/b.txt")));
    println!("a.txt exists: {}", fs::metadata(d("sub/a.txt")).is_ok());
    step("symlink", symlink("b.txt", "sub/link"));
    let target = step("readlink", fs::read_link(d("sub/link")));
    println!("link -> {}", target.display());
    let via = step("read through link", fs::read_to_string(d("sub/link")));
    println!("via link: {via}");
    println!("link is_symlink: {}", step("symlink_metadata", fs::symlink_metadata(d("sub/link"))).is_symlink());
    println!("rmdir non-empty fails: {}", fs::remove_dir(d("sub")).is_err());
    step("unlink link", fs::remove_file(d("sub/link")));
    step("unlink b.txt", fs::remove_file(d("sub/b.txt")));
    step("rmdir sub", fs::remove_dir(d("sub")));
    println!("sub exists: {}", fs::metadata(d("sub")).is_ok());
}
