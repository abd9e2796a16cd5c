// SPDX-License-Identifier: GPL-2.0

//! Helpers for host-side tests of the core, on `cervus_core::std_platform`.

#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use cervus_core::std_platform::StdPlatform;
use cervus_core::{Caller, Config, Runtime};
use cervus_hostcalls::device::MAX_REPLY_LEN;
use cervus_hostcalls::protocol::{Limits, Reply, Request, RunRequest, encode_request, request_size_bound};

pub const LIMITS: Limits = Limits { max_instances: 4, memory_limit: 1 << 20, exec_slice: 10_000 };

pub fn runtime_with(limits: Limits, test_hooks: bool) -> (&'static StdPlatform, Runtime) {
    let platform: &'static StdPlatform = Box::leak(Box::default());
    let config = Config {
        limits,
        max_files: 16,
        test_hooks,
        driver_budget: 10_000_000,
        dma_quota: 1 << 20,
        swap_ready_ms: 500,
        module_version: cervus_core::runtime::short("test"),
    };
    (platform, Runtime::new(platform, config).unwrap())
}

pub fn runtime() -> (&'static StdPlatform, Runtime) {
    runtime_with(LIMITS, false)
}

pub const CALLER: Caller = Caller { uid: 1000, pid: 42 };

/// Sends a request through the full encode/handle/decode path.
pub fn call(rt: &Runtime, request: &Request<'_>) -> Reply {
    let mut req = vec![0u8; request_size_bound(request)];
    let req = encode_request(request, &mut req).unwrap().to_vec();
    let mut reply = vec![0u8; MAX_REPLY_LEN as usize];
    let n = rt.handle(&CALLER, &req, &mut reply).unwrap();
    cervus_hostcalls::protocol::decode_reply(&reply[..n]).unwrap()
}

/// Runs `run` on the test crate's engine (`crate::ENGINE`).
pub fn run_request(rt: &Runtime, mut run: RunRequest<'_>) -> Reply {
    run.engine = crate::ENGINE;
    call(rt, &Request::Run(run))
}

pub fn run_wasm(rt: &Runtime, wasm: &[u8]) -> Reply {
    run_request(rt, RunRequest::new("test", wasm))
}

pub fn run_wat(rt: &Runtime, wat: &str) -> Reply {
    run_wasm(rt, &wat::parse_str(wat).unwrap())
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cervus-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
