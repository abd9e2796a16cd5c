// SPDX-License-Identifier: GPL-2.0

//! A fake platform for host-side tests of the core.

#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use cervus_core::{Caller, Config, HeapStats, InstanceId, Level, Platform, Runtime, Stdio};
use cervus_hostcalls::Errno;
use cervus_hostcalls::device::MAX_REPLY_LEN;
use cervus_hostcalls::protocol::{Limits, Reply, Request, RunRequest, encode_request, request_size_bound};

/// Records output and log lines; reports a pending signal after a number of yields.
#[derive(Default)]
pub struct FakePlatform {
    pub stdout: Mutex<Vec<u8>>,
    pub stderr: Mutex<Vec<u8>>,
    pub log: Mutex<Vec<String>>,
    pub yields: AtomicU64,
    /// Report a signal once this many yields have happened (0 = never).
    pub signal_after_yields: AtomicU64,
    pub running: Mutex<Vec<Option<InstanceId>>>,
}

impl Platform for FakePlatform {
    fn stdio_write(&self, stream: Stdio, bytes: &[u8]) -> Result<usize, Errno> {
        let sink = match stream {
            Stdio::Stdout => &self.stdout,
            Stdio::Stderr => &self.stderr,
            Stdio::Stdin => return Err(Errno::InvalidArgument),
        };
        sink.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn interrupted(&self) -> bool {
        let after = self.signal_after_yields.load(Ordering::Relaxed);
        after != 0 && self.yields.load(Ordering::Relaxed) >= after
    }

    fn yield_now(&self) {
        self.yields.fetch_add(1, Ordering::Relaxed);
    }

    fn log(&self, _level: Level, args: std::fmt::Arguments<'_>) {
        self.log.lock().unwrap().push(args.to_string());
    }

    fn heap_stats(&self) -> HeapStats {
        HeapStats::default()
    }

    fn set_running(&self, instance: Option<InstanceId>) {
        self.running.lock().unwrap().push(instance);
    }
}

pub const LIMITS: Limits = Limits { max_instances: 4, memory_limit: 1 << 20, exec_slice: 10_000 };

pub fn runtime_with(limits: Limits, test_hooks: bool) -> (&'static FakePlatform, Runtime) {
    let platform: &'static FakePlatform = Box::leak(Box::default());
    let config = Config { limits, test_hooks, module_version: cervus_core::runtime::short("test") };
    (platform, Runtime::new(platform, config).unwrap())
}

pub fn runtime() -> (&'static FakePlatform, Runtime) {
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

pub fn run_wasm(rt: &Runtime, wasm: &[u8]) -> Reply {
    call(rt, &Request::Run(RunRequest { name: "test", wasm, args: Default::default() }))
}

pub fn run_wat(rt: &Runtime, wat: &str) -> Reply {
    run_wasm(rt, &wat::parse_str(wat).unwrap())
}
