// SPDX-License-Identifier: GPL-2.0

//! Cervus: WebAssembly drivers and apps inside the Linux kernel.
//!
//! This crate is the Rust-for-Linux glue of `cervus.ko`. The engine itself
//! (`framework/engine`, built on `cervus-core` and wasmi) is a separate
//! staticlib, prelinked into `engine.o` and linked next to this crate by the
//! top-level `Kbuild`; the two talk through the C ABI in `call.rs`.
//!
//! - [`control`]: the `/dev/cvctl` misc device.
//! - [`devices`]: PCI devices bound to wasm drivers, and the services the
//!   engine uses to drive them.
//! - [`engine`]: entering the engine on a private stack, and recovering from
//!   an engine panic.
//! - [`stack`]: the private stacks.
//! - [`host`]: services the engine calls back (allocation, logging).
//! - `trampoline.S`: the stack switch; `helpers.c`: C-only kernel facilities.

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

mod control;
mod devices;
mod engine;
mod host;
mod stack;

/// The `/dev/cvctl` ABI, shared with user space (`hostcalls/src/device.rs`).
#[path = "../../hostcalls/src/device.rs"]
#[allow(dead_code, unreachable_pub)]
mod device;

/// The C ABI shared with the engine staticlib (`framework/engine/src/call.rs`).
#[path = "../engine/src/call.rs"]
#[allow(dead_code, unreachable_pub)]
mod call;

module! {
    type: Cervus,
    name: "cervus",
    authors: ["Cervus Developers"],
    description: "WebAssembly drivers and apps, sandboxed, in the kernel",
    license: "GPL",
    params: {
        max_instances: u32 {
            default: 64,
            description: "Most wasm instances alive at once",
        },
        memory_limit_mib: u32 {
            default: 64,
            description: "Default cap on an instance's linear memory, in MiB",
        },
        max_files: u32 {
            default: 1024,
            description: "Most open resources and file descriptors per instance",
        },
        exec_slice: u64 {
            default: 1000000,
            description: "Fuel per execution slice; the CPU is yielded and signals checked between slices",
        },
        test_hooks: bool {
            default: false,
            description: "Link the cervus_test fault-injection hostcalls (for the test suite only)",
        },
        driver_budget: u64 {
            default: 50000000,
            description: "Fuel per call into a driver (probe, interrupt, timer, file operation); a driver exceeding it is stopped",
        },
        dma_quota_kib: u32 {
            default: 4096,
            description: "DMA memory per driver, in KiB",
        },
        swap_ready_ms: u64 {
            default: 2000,
            description: "How long a network driver swapped in has to bring its link up before the swap is rolled back, in ms",
        },
    },
}

/// Upper bound of the `max_instances` parameter (what `cvctl ps` can list).
const MAX_INSTANCES: u32 = 256;

/// The module: the engine, device support and our PCI driver, then the
/// control device that feeds them.
#[pin_data(PinnedDrop)]
struct Cervus {
    // Drop order is field order: the control device goes first, so no
    // request can reach the engine after it is shut down; the drivers are
    // unloaded (in `drop`) before our PCI driver is unregistered.
    #[pin]
    _control: MiscDeviceRegistration<control::Control>,
    #[pin]
    _pci: kernel::driver::Registration<kernel::pci::Adapter<devices::WasmPci>>,
    _devices: devices::DeviceSupport,
    _engine: engine::Engine,
}

impl kernel::InPlaceModule for Cervus {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _engine: engine::Engine::start(settings()?)?,
            _devices: devices::DeviceSupport::new()?,
            _pci <- devices::register_pci(module),
            _control <- MiscDeviceRegistration::register(MiscDeviceOptions { name: c"cvctl" }),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for Cervus {
    fn drop(self: Pin<&mut Self>) {
        // Give every device back while the engine, our PCI driver and the
        // character-device region are still there. `/dev/cvctl` is still
        // registered, but the module is going: nobody holds it open.
        engine::unload_drivers();
    }
}

/// The engine's settings, from the module parameters.
fn settings() -> Result<engine::Settings> {
    let max_instances = module_parameters::max_instances.value();
    if max_instances == 0 || max_instances > MAX_INSTANCES {
        pr_err!("max_instances must be between 1 and {}, not {}\n", MAX_INSTANCES, max_instances);
        return Err(EINVAL);
    }
    Ok(engine::Settings {
        max_instances,
        memory_limit: u64::from(module_parameters::memory_limit_mib.value()) << 20,
        exec_slice: module_parameters::exec_slice.value(),
        max_files: module_parameters::max_files.value(),
        test_hooks: module_parameters::test_hooks.value(),
        driver_budget: module_parameters::driver_budget.value().max(1),
        dma_quota: u64::from(module_parameters::dma_quota_kib.value()) << 10,
        swap_ready_ms: module_parameters::swap_ready_ms.value(),
    })
}
