// SPDX-License-Identifier: MIT OR Apache-2.0

//! `ls DIR`: lists a directory, sorted: type (d, f, l), size of files, name.

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let mut entries: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .map(|e| {
                let e = e.expect("entry");
                let t = e.file_type().expect("type");
                let kind = if t.is_dir() {
                    'd'
                } else if t.is_symlink() {
                    'l'
                } else {
                    'f'
                };
                let size = if t.is_file() { e.metadata().map(|m| m.len()).unwrap_or(0) } else { 0 };
                format!("{kind} {size:>8} {}", e.file_name().to_string_lossy())
            })
            .collect(),
        Err(e) => {
            eprintln!("ls: {dir}: {e}");
            std::process::exit(1);
        }
    };
    entries.sort_by(|a, b| a[11..].cmp(&b[11..]));
    for e in entries {
        println!("{e}");
    }
}
