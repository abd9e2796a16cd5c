// SPDX-License-Identifier: GPL-2.0

//! TCP transfers with a checksum at both ends, for the network tests and
//! the benchmark:
//!
//! - `netbench recv PORT [--no-hash]`: accepts one connection, reads it to
//!   the end and prints `received BYTES sha256 HEX ms MILLIS`.
//! - `netbench send ADDR PORT MIB [--no-hash]`: connects, sends MIB MiB of
//!   pseudo-random data, closes, and prints `sent BYTES sha256 HEX ms
//!   MILLIS mibps RATE`.
//!
//! With `--no-hash`, neither end hashes (HEX is `-`) and the sender sends
//! the same 64 KiB of pseudo-random data over and over: user space then
//! costs next to nothing, and a throughput benchmark measures the network
//! path (hashing at both ends takes most of the CPU time otherwise).
//!
//! Exits 1 with a message on failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use cervus_hostcalls::sha256::Sha256;

fn die(message: String) -> ! {
    eprintln!("netbench: {message}");
    std::process::exit(1)
}

fn hex(digest: [u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of what went through, if hashed.
fn digest(hash: Option<Sha256>) -> String {
    hash.map_or_else(|| "-".into(), |h| hex(h.finish()))
}

/// Fills `buf` with the next pseudo-random bytes from `seed`.
fn fill(buf: &mut [u8], seed: &mut u64) {
    for chunk in buf.chunks_exact_mut(8) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i).map_or_else(
            || die("usage: netbench recv PORT [--no-hash] | send ADDR PORT MIB [--no-hash]".into()),
            String::clone,
        )
    };
    let hashing = args.last().map(String::as_str) != Some("--no-hash");
    match arg(0).as_str() {
        "recv" => {
            let listener =
                TcpListener::bind(("0.0.0.0", arg(1).parse::<u16>().unwrap_or_else(|_| die("bad port".into()))))
                    .unwrap_or_else(|e| die(format!("listen: {e}")));
            let (mut stream, _) = listener.accept().unwrap_or_else(|e| die(format!("accept: {e}")));
            let start = Instant::now();
            let (mut hash, mut total, mut buf) = (hashing.then(Sha256::new), 0u64, vec![0u8; 1 << 16]);
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Some(hash) = &mut hash {
                            hash.update(&buf[..n]);
                        }
                        total += n as u64;
                    }
                    Err(e) => die(format!("read after {total} bytes: {e}")),
                }
            }
            let ms = start.elapsed().as_millis();
            println!("received {total} sha256 {} ms {ms}", digest(hash));
        }
        "send" => {
            let port: u16 = arg(2).parse().unwrap_or_else(|_| die("bad port".into()));
            let mib: u64 = arg(3).parse().unwrap_or_else(|_| die("bad size".into()));
            let mut stream =
                TcpStream::connect((arg(1).as_str(), port)).unwrap_or_else(|e| die(format!("connect: {e}")));
            let start = Instant::now();
            let (mut hash, mut seed, mut buf) =
                (hashing.then(Sha256::new), 0x9e37_79b9_7f4a_7c15u64, vec![0u8; 1 << 16]);
            fill(&mut buf, &mut seed);
            for _ in 0..mib * 16 {
                if let Some(hash) = &mut hash {
                    hash.update(&buf);
                }
                stream.write_all(&buf).unwrap_or_else(|e| die(format!("write: {e}")));
                if hashing {
                    fill(&mut buf, &mut seed);
                }
            }
            stream.shutdown(std::net::Shutdown::Write).unwrap_or_else(|e| die(format!("shutdown: {e}")));
            // Wait for the receiver to close: everything arrived.
            let _ = stream.read(&mut buf);
            let ms = start.elapsed().as_millis().max(1);
            let rate = (mib as f64) / (ms as f64 / 1000.0);
            println!("sent {} sha256 {} ms {ms} mibps {rate:.2}", mib << 20, digest(hash));
        }
        other => die(format!("unknown command `{other}`")),
    }
}
