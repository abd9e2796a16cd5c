// SPDX-License-Identifier: GPL-2.0

//! Runs a wasm file with the portable core on the host, for development:
//! `cargo run -p cervus-core --features std --example run -- [--engine interp|jit] [--dir HOST::GUEST]... FILE.wasm [ARGS...]`.
//! Output goes to this process's stdout/stderr, as in the kernel.

use cervus_core::std_platform::StdPlatform;
use cervus_core::{Caller, Config, Runtime};
use cervus_hostcalls::device::MAX_REPLY_LEN;
use cervus_hostcalls::protocol::{
    EngineKind, Limits, MAX_ARGS, Preopen, Reply, Request, RunRequest, decode_reply, encode_request, request_size_bound,
};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut dirs = Vec::new();
    let mut engine = EngineKind::Interp;
    while args.first().is_some_and(|a| a == "--dir" || a == "--engine") && args.len() > 1 {
        let value = args.remove(1);
        if args.remove(0) == "--dir" {
            dirs.push(value);
        } else {
            engine = if value == "jit" { EngineKind::Jit } else { EngineKind::Interp };
        }
    }
    let Some(path) = args.first() else {
        eprintln!("usage: run [--engine interp|jit] [--dir HOST[::GUEST]]... FILE.wasm [ARGS...]");
        std::process::exit(2);
    };
    let wasm = std::fs::read(path).expect("cannot read the wasm file");
    let platform: &'static StdPlatform = Box::leak(Box::new(StdPlatform::inheriting_stdio()));
    let limits = Limits { max_instances: 1, memory_limit: 64 << 20, exec_slice: 1_000_000 };
    let config = Config {
        limits,
        max_files: 1024,
        test_hooks: false,
        driver_budget: 10_000_000,
        dma_quota: 1 << 20,
        swap_ready_ms: 500,
        module_version: cervus_core::runtime::short("host"),
    };
    let runtime = Runtime::new(platform, config).expect("runtime");
    let env: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    let mut run = RunRequest::new("host", &wasm);
    run.engine = engine;
    run.args = heapless::Vec::from_iter(args.iter().map(String::as_str).take(MAX_ARGS));
    run.env = heapless::Vec::from_iter(env.iter().map(String::as_str).take(64));
    for d in &dirs {
        let (host, guest) = d.split_once("::").unwrap_or((d, d));
        let _ = run.preopens.push(Preopen { host, guest });
    }
    let request = Request::Run(run);
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
