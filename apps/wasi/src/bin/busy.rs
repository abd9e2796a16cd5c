// SPDX-License-Identifier: MIT OR Apache-2.0

//! Spins forever, to test signals, kills and preemption.

fn main() {
    println!("spinning");
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}
