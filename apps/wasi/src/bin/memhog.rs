// SPDX-License-Identifier: MIT OR Apache-2.0

//! `memhog try`: reserves 1 MiB chunks until the allocator refuses, prints
//! the total, exits 0. `memhog`: allocates until out of memory (Rust then
//! aborts, which traps).

fn main() {
    let gentle = std::env::args().nth(1).as_deref() == Some("try");
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::new();
        if gentle {
            if chunk.try_reserve_exact(1 << 20).is_err() {
                break;
            }
        } else {
            chunk.reserve_exact(1 << 20);
        }
        chunk.resize(1 << 20, 1);
        chunks.push(chunk);
    }
    println!("allocated {} MiB before the limit", chunks.len());
}
