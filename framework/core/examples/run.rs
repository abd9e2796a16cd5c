// SPDX-License-Identifier: GPL-2.0

//! Runs a wasm file with the portable core on the host, for development:
//! `cargo run -p cervus-core --example run -- FILE.wasm [ARGS...]`.
//! Output goes to this process's stdout/stderr, as in the kernel.

use std::io::Write;

use cervus_core::{Caller, Config, HeapStats, InstanceId, Level, Platform, Runtime, Stdio};
use cervus_hostcalls::Errno;
use cervus_hostcalls::device::MAX_REPLY_LEN;
use cervus_hostcalls::protocol::{
    Limits, Reply, Request, RunRequest, decode_reply, encode_request, request_size_bound,
};

struct Host;

impl Platform for Host {
    fn stdio_write(&self, stream: Stdio, bytes: &[u8]) -> Result<usize, Errno> {
        let result = match stream {
            Stdio::Stdout => std::io::stdout().write(bytes),
            Stdio::Stderr => std::io::stderr().write(bytes),
            Stdio::Stdin => return Err(Errno::InvalidArgument),
        };
        result.map_err(|_| Errno::Io)
    }
    fn interrupted(&self) -> bool {
        false
    }
    fn yield_now(&self) {}
    fn log(&self, _level: Level, args: std::fmt::Arguments<'_>) {
        eprintln!("cervus: {args}");
    }
    fn heap_stats(&self) -> HeapStats {
        HeapStats::default()
    }
    fn set_running(&self, _instance: Option<InstanceId>) {}
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: run FILE.wasm [ARGS...]");
        std::process::exit(2);
    };
    let wasm = std::fs::read(path).expect("cannot read the wasm file");
    let limits = Limits { max_instances: 1, memory_limit: 64 << 20, exec_slice: 1_000_000 };
    let config = Config { limits, test_hooks: false, module_version: cervus_core::runtime::short("host") };
    let runtime = Runtime::new(&Host, config).expect("runtime");
    let argv = heapless::Vec::from_iter(args.iter().map(String::as_str).take(cervus_hostcalls::protocol::MAX_ARGS));
    let request = Request::Run(RunRequest { name: "host", wasm: &wasm, args: argv });
    let mut buf = vec![0; request_size_bound(&request)];
    let encoded = encode_request(&request, &mut buf).expect("encode").to_vec();
    let mut reply = vec![0; MAX_REPLY_LEN as usize];
    let caller = Caller { uid: 0, pid: std::process::id() as i32 };
    let n = runtime.handle(&caller, &encoded, &mut reply).expect("request");
    match decode_reply(&reply[..n]).expect("reply") {
        Reply::Run(report) => {
            eprintln!("{:?} ({} fuel, {} slices)", report.outcome, report.fuel_used, report.slices);
        }
        other => {
            eprintln!("{other:?}");
            std::process::exit(1);
        }
    }
}
