// SPDX-License-Identifier: MIT OR Apache-2.0

//! Copies standard input to standard output.

fn main() {
    let copied = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::stdout().lock());
    if let Err(e) = copied {
        eprintln!("cat: {e}");
        std::process::exit(1);
    }
}
