// SPDX-License-Identifier: GPL-2.0

//! `cvctl`: run WebAssembly apps inside the Linux kernel with Cervus.

mod device;

use std::path::PathBuf;
use std::process::ExitCode;

use cervus_hostcalls::device::ABI_VERSION;
use cervus_hostcalls::protocol::{
    DriverLoadRequest, DriverStatus, DriverSwapRequest, EngineKind, ErrorKind, ErrorReply, InstanceKind, MAX_ARGS,
    MAX_ENV, MAX_ENV_LEN, MAX_PREOPENS, Outcome, PciAddress, Preopen, Reply, Request, RunRequest,
};
use clap::{Parser, Subcommand, ValueEnum};

use device::Device;

/// Exit status when cvctl itself, the device or the kernel fails.
const EXIT_FAILURE: u8 = 125;
/// Exit status when the kernel refuses the module (invalid, unlinkable, no entry point).
const EXIT_REFUSED: u8 = 126;
/// Exit status when a signal stops the instance (as SIGINT would).
const EXIT_INTERRUPTED: u8 = 130;
/// Exit status when the instance traps (as a native program that aborts).
const EXIT_TRAPPED: u8 = 134;
/// Exit status when `cvctl kill` stops the instance (as SIGKILL would).
const EXIT_KILLED: u8 = 137;

#[derive(Parser)]
#[command(
    name = "cvctl",
    version,
    about = "Run WebAssembly apps and drivers inside the Linux kernel with Cervus",
    after_help = "Exit status of `run`: the app's own status (0-255), or\n  \
                  125  cvctl, /dev/cvctl or the kernel failed\n  \
                  126  the kernel refused the module (invalid, unlinkable, no entry point)\n  \
                  130  a signal stopped the app\n  \
                  134  the app trapped\n  \
                  137  `cvctl kill` stopped the app"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Engine {
    /// wasmi, the interpreter.
    Interp,
    /// Cranelift, compiled in the kernel.
    Jit,
}

impl Engine {
    fn kind(self) -> EngineKind {
        match self {
            Engine::Interp => EngineKind::Interp,
            Engine::Jit => EngineKind::Jit,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the versions of cvctl, the ABI and the kernel module.
    Version,
    /// Print the kernel module's counters and limits.
    Info,
    /// Run a wasm module (CommonWA, WASI preview 1 or Cervus) in the kernel,
    /// in this process's context: its standard streams, arguments and
    /// environment. Ctrl-C stops it.
    Run {
        /// The .wasm file.
        file: PathBuf,
        /// Instance name for logs and `cvctl ps` (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// Make directory HOST visible to a WASI app as GUEST (default:
        /// HOST); the app cannot reach outside it. Repeatable.
        #[arg(long, value_name = "HOST[::GUEST]")]
        dir: Vec<String>,
        /// Set an environment variable. Repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Do not pass cvctl's own environment.
        #[arg(long)]
        clear_env: bool,
        /// Cap on the app's linear memory (e.g. 16M, 1G); above the module's
        /// default needs CAP_SYS_ADMIN.
        #[arg(long, value_parser = parse_size)]
        memory: Option<u64>,
        /// The engine to run on: the interpreter unless CERVUS_ENGINE says
        /// otherwise.
        #[arg(long, value_enum, env = "CERVUS_ENGINE", default_value = "interp")]
        engine: Engine,
        /// Arguments passed to the module (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// List the live instances.
    Ps,
    /// Stop an instance (its owner or CAP_SYS_ADMIN only).
    Kill {
        /// The instance id, as `cvctl ps` shows it.
        id: u32,
    },
    /// Load, swap, unload and list wasm device drivers (CAP_SYS_ADMIN).
    #[command(subcommand)]
    Driver(DriverCommand),
}

#[derive(Subcommand)]
enum DriverCommand {
    /// Bind a PCI device to a wasm driver and run its probe. The device is
    /// the one at --slot, else the first free one with the --pci ids, else
    /// the first free one matching the module's own match table.
    Load {
        /// The driver's name (for `unload` and the logs).
        name: String,
        /// The driver's .wasm file.
        file: PathBuf,
        /// Bind a device with these ids.
        #[arg(long, value_name = "VENDOR:DEVICE", value_parser = parse_pci_id)]
        pci: Option<(u16, u16)>,
        /// Bind the device at this address.
        #[arg(long, value_name = "[DOMAIN:]BUS:DEV.FN", value_parser = parse_slot)]
        slot: Option<PciAddress>,
        /// Take the device from the kernel driver it is bound to; it gets the
        /// device back when the wasm driver is unloaded.
        #[arg(long)]
        rebind: bool,
        /// The engine to run on: the JIT unless CERVUS_ENGINE says otherwise.
        #[arg(long, value_enum, env = "CERVUS_ENGINE", default_value = "jit")]
        engine: Engine,
    },
    /// Replace a running driver's module without unbinding its device: its
    /// network interface and character device stay. The new version is
    /// compiled first; if it fails to start (or, for a network driver, its
    /// link does not come up), the old version runs again and swap fails.
    Swap {
        /// The driver's name.
        name: String,
        /// The new .wasm file.
        file: PathBuf,
        /// The engine to run it on: the JIT unless CERVUS_ENGINE says
        /// otherwise.
        #[arg(long, value_enum, env = "CERVUS_ENGINE", default_value = "jit")]
        engine: Engine,
    },
    /// Stop a driver and give its device back.
    Unload {
        /// The driver's name.
        name: String,
    },
    /// List the loaded drivers and their counters.
    List,
}

/// Parses `VENDOR:DEVICE` in hexadecimal, e.g. `1234:11e8`.
fn parse_pci_id(text: &str) -> Result<(u16, u16), String> {
    let hex = |s: &str| u16::from_str_radix(s, 16).ok().filter(|_| !s.is_empty() && s.len() <= 4);
    text.split_once(':')
        .and_then(|(v, d)| Some((hex(v)?, hex(d)?)))
        .ok_or_else(|| format!("`{text}` is not VENDOR:DEVICE in hexadecimal (e.g. 1234:11e8)"))
}

/// Parses `[DOMAIN:]BUS:DEV.FN` in hexadecimal, e.g. `0000:00:04.0`.
fn parse_slot(text: &str) -> Result<PciAddress, String> {
    let bad = || format!("`{text}` is not a PCI address [DOMAIN:]BUS:DEV.FN (e.g. 0000:00:04.0)");
    let (rest, function) = text.rsplit_once('.').ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split(':').collect();
    let (domain, bus, device) = match parts.as_slice() {
        [bus, device] => ("0", *bus, *device),
        [domain, bus, device] => (*domain, *bus, *device),
        _ => return Err(bad()),
    };
    let hex = |s: &str, max: u32| u32::from_str_radix(s, 16).ok().filter(|v| !s.is_empty() && *v <= max);
    Ok(PciAddress {
        domain: hex(domain, 0xffff).ok_or_else(bad)? as u16,
        bus: hex(bus, 0xff).ok_or_else(bad)? as u8,
        device: hex(device, 0x1f).ok_or_else(bad)? as u8,
        function: hex(function, 7).ok_or_else(bad)? as u8,
    })
}

fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a size (e.g. 65536, 64K, 16M, 1G)"))?;
    n.checked_shl(shift).filter(|v| v >> shift == n).ok_or_else(|| format!("`{text}` is too large"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Version => version(),
        Command::Info => info(),
        Command::Run { file, name, dir, env, clear_env, memory, engine, args } => {
            run(RunOptions { file, name, dirs: dir, env, clear_env, memory, engine, args })
        }
        Command::Ps => ps(),
        Command::Kill { id } => kill(id),
        Command::Driver(DriverCommand::Load { name, file, pci, slot, rebind, engine }) => {
            driver_load(&name, &file, pci, slot, rebind, engine)
        }
        Command::Driver(DriverCommand::Unload { name }) => driver_unload(&name),
        Command::Driver(DriverCommand::Swap { name, file, engine }) => driver_swap(&name, &file, engine),
        Command::Driver(DriverCommand::List) => driver_list(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err((code, message)) => {
            eprintln!("cvctl: {message}");
            ExitCode::from(code)
        }
    }
}

type CliResult = Result<u8, (u8, String)>;

fn failure(e: impl std::fmt::Display) -> (u8, String) {
    (EXIT_FAILURE, e.to_string())
}

fn error_reply(what: &str, ErrorReply { kind, message }: ErrorReply) -> (u8, String) {
    let code = match kind {
        ErrorKind::InvalidModule | ErrorKind::Link | ErrorKind::NoEntryPoint => EXIT_REFUSED,
        _ => EXIT_FAILURE,
    };
    (code, format!("{what}: {}: {message}", kind.describe()))
}

fn fetch_info(device: &Device) -> Result<cervus_hostcalls::protocol::Info, (u8, String)> {
    match device.call(&Request::Info).map_err(failure)? {
        Reply::Info(info) => Ok(info),
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}

fn version() -> CliResult {
    println!("cvctl {} (ABI {ABI_VERSION})", env!("CARGO_PKG_VERSION"));
    let device = Device::open().map_err(failure)?;
    let info = fetch_info(&device)?;
    println!("cervus.ko {} (ABI {}), engines: {}", info.module_version, info.abi_version, info.engines);
    Ok(0)
}

fn info() -> CliResult {
    let device = Device::open().map_err(failure)?;
    let info = fetch_info(&device)?;
    println!("module_version: {}", info.module_version);
    println!("abi_version: {}", info.abi_version);
    println!("engines: {}", info.engines);
    println!("live_instances: {}", info.live_instances);
    println!("started_instances: {}", info.started_instances);
    println!("heap_bytes: {}", info.heap_bytes);
    println!("heap_allocations: {}", info.heap_allocations);
    println!("engine_panics: {}", info.engine_panics);
    println!("jit_modules: {}", info.jit.modules);
    println!("jit_wasm_bytes: {}", info.jit.wasm_bytes);
    println!("jit_compile_ns: {}", info.jit.compile_ns);
    println!("jit_code_bytes: {}", info.jit.code_bytes);
    println!("max_instances: {}", info.limits.max_instances);
    println!("memory_limit: {}", info.limits.memory_limit);
    println!("exec_slice: {}", info.limits.exec_slice);
    Ok(0)
}

struct RunOptions {
    file: PathBuf,
    name: Option<String>,
    dirs: Vec<String>,
    env: Vec<String>,
    clear_env: bool,
    memory: Option<u64>,
    engine: Engine,
    args: Vec<String>,
}

/// The environment passed to the app: cvctl's own unless cleared, then the
/// `--env` settings (which replace inherited values of the same key).
fn environment(opts: &RunOptions) -> Result<Vec<String>, (u8, String)> {
    let mut env: Vec<String> = Vec::new();
    if !opts.clear_env {
        for (k, v) in std::env::vars_os() {
            let (Some(k), Some(v)) = (k.to_str(), v.to_str()) else { continue };
            let entry = format!("{k}={v}");
            if entry.len() <= MAX_ENV_LEN && !entry.contains('\0') {
                env.push(entry);
            }
        }
    }
    for setting in &opts.env {
        let Some((key, _)) = setting.split_once('=') else {
            return Err(failure(format!("--env {setting}: expected KEY=VALUE")));
        };
        env.retain(|e| e.split_once('=').map(|(k, _)| k) != Some(key));
        env.push(setting.clone());
    }
    if env.len() > MAX_ENV {
        return Err(failure(format!("too many environment variables ({}, at most {MAX_ENV})", env.len())));
    }
    Ok(env)
}

fn run(opts: RunOptions) -> CliResult {
    let wasm = std::fs::read(&opts.file).map_err(|e| failure(format!("{}: {e}", opts.file.display())))?;
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| opts.file.file_name().map_or_else(|| "app".into(), |n| n.to_string_lossy().into_owned()));
    let program = opts.file.to_string_lossy();
    let argv: Vec<&str> = std::iter::once(program.as_ref()).chain(opts.args.iter().map(String::as_str)).collect();
    let env = environment(&opts)?;
    let mut request = RunRequest::new(&name, &wasm);
    request.args = heapless::Vec::from_slice(&argv)
        .map_err(|_| failure(format!("too many arguments (at most {})", MAX_ARGS - 1)))?;
    request.env = env.iter().map(String::as_str).collect();
    for dir in &opts.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        request
            .preopens
            .push(Preopen { host, guest })
            .map_err(|_| failure(format!("too many --dir (at most {MAX_PREOPENS})")))?;
    }
    request.memory_limit = opts.memory;
    request.engine = opts.engine.kind();
    let device = Device::open().map_err(failure)?;
    match device.call(&Request::Run(request)).map_err(failure)? {
        Reply::Run(report) => match report.outcome {
            Outcome::Exited(code) => Ok(code as u8),
            Outcome::Trapped(trap) => {
                Err((EXIT_TRAPPED, format!("{name}: trapped: {}: {}", trap.code.describe(), trap.message)))
            }
            Outcome::Interrupted => Err((EXIT_INTERRUPTED, format!("{name}: interrupted by a signal"))),
            Outcome::Killed { by_uid } => Err((EXIT_KILLED, format!("{name}: killed by uid {by_uid}"))),
        },
        Reply::Error(e) => Err(error_reply(&name, e)),
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1}G", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1}M", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1}K", n as f64 / 1024.0),
        n => n.to_string(),
    }
}

fn ps() -> CliResult {
    let device = Device::open().map_err(failure)?;
    let list = match device.call(&Request::List).map_err(failure)? {
        Reply::List(list) => list,
        other => return Err(failure(format!("unexpected reply {other:?}"))),
    };
    println!(
        "{:>6} {:<20} {:<6} {:<6} {:<8} {:>6} {:>7} {:>8} {:>12} {:>9}",
        "ID", "NAME", "KIND", "ENGINE", "STATE", "UID", "PID", "MEMORY", "FUEL", "CPU"
    );
    for i in list {
        let kind = match i.kind {
            InstanceKind::App => "app",
            InstanceKind::Driver => "driver",
        };
        println!(
            "{:>6} {:<20} {:<6} {:<6} {:<8} {:>6} {:>7} {:>8} {:>12} {:>8.2}s",
            i.id,
            i.name.as_str(),
            kind,
            i.engine.name(),
            i.state.name(),
            i.owner_uid,
            i.pid,
            human_bytes(i.memory_bytes),
            i.fuel_used,
            i.cpu_ns as f64 / 1e9
        );
    }
    Ok(0)
}

fn kill(id: u32) -> CliResult {
    let device = Device::open().map_err(failure)?;
    match device.call(&Request::Kill { instance: id }).map_err(failure)? {
        Reply::Done => Ok(0),
        Reply::Error(e) => Err((EXIT_FAILURE, format!("kill {id}: {}: {}", e.kind.describe(), e.message))),
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}

fn driver_load(
    name: &str,
    file: &std::path::Path,
    pci_id: Option<(u16, u16)>,
    slot: Option<PciAddress>,
    rebind: bool,
    engine: Engine,
) -> CliResult {
    let wasm = std::fs::read(file).map_err(|e| failure(format!("{}: {e}", file.display())))?;
    let request = DriverLoadRequest { name, wasm: &wasm, engine: engine.kind(), pci_id, slot, rebind };
    let device = Device::open().map_err(failure)?;
    match device.call(&Request::DriverLoad(request)).map_err(failure)? {
        Reply::Done => Ok(0),
        Reply::Error(e) => Err(error_reply(&format!("driver load {name}"), e)),
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}

fn driver_swap(name: &str, file: &std::path::Path, engine: Engine) -> CliResult {
    let wasm = std::fs::read(file).map_err(|e| failure(format!("{}: {e}", file.display())))?;
    let request = DriverSwapRequest { name, wasm: &wasm, engine: engine.kind() };
    let device = Device::open().map_err(failure)?;
    match device.call(&Request::DriverSwap(request)).map_err(failure)? {
        Reply::Swapped(r) => {
            println!(
                "{name}: {} -> {}, blackout {:.3} ms, {:.1} ms in all{}",
                r.previous_hash.as_str(),
                r.module_hash.as_str(),
                r.blackout_us as f64 / 1000.0,
                r.total_us as f64 / 1000.0,
                match (r.state_handed_over, r.device_kept) {
                    (_, true) => ", state and running device handed over",
                    (true, false) => ", state handed over",
                    (false, false) => "",
                }
            );
            Ok(0)
        }
        Reply::Error(e) => Err(error_reply(&format!("driver swap {name}"), e)),
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}

fn driver_unload(name: &str) -> CliResult {
    let device = Device::open().map_err(failure)?;
    match device.call(&Request::DriverUnload { name }).map_err(failure)? {
        Reply::Done => Ok(0),
        Reply::Error(e) => Err(error_reply(&format!("driver unload {name}"), e)),
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}

fn driver_list() -> CliResult {
    let device = Device::open().map_err(failure)?;
    let drivers = match device.call(&Request::DriverList).map_err(failure)? {
        Reply::Drivers(d) => d,
        Reply::Error(e) => return Err(error_reply("driver list", e)),
        other => return Err(failure(format!("unexpected reply {other:?}"))),
    };
    println!(
        "{:>6} {:<16} {:<6} {:<13} {:<9} {:<7} {:>8} {:>8} {:>7} {:>8} {:>9} {:>9} {:>9} {:>7} {:>12} {:<8} {:<16} {:>5}",
        "ID",
        "NAME",
        "ENGINE",
        "DEVICE",
        "PCI-ID",
        "STATUS",
        "IRQS",
        "IRQ-EVT",
        "TIMERS",
        "CHR",
        "MMIO",
        "RX",
        "TX",
        "DMA",
        "FUEL",
        "IFACE",
        "MODULE",
        "SWAPS"
    );
    for d in &drivers {
        let status = match d.status {
            DriverStatus::Running => "running",
            DriverStatus::Dead => "dead",
        };
        let iface = if d.netdev.is_empty() { "-" } else { d.netdev.as_str() };
        println!(
            "{:>6} {:<16} {:<6} {:<13} {:04x}:{:04x} {:<7} {:>8} {:>8} {:>7} {:>8} {:>9} {:>9} {:>9} {:>7} {:>12} {:<8} {:<16} {:>5}",
            d.id,
            d.name.as_str(),
            d.engine.name(),
            d.device.as_str(),
            d.vendor,
            d.device_id,
            status,
            d.irqs,
            d.irq_events,
            d.timer_events,
            d.chr_calls,
            d.mmio_ops,
            d.rx_frames,
            d.tx_frames,
            human_bytes(d.dma_bytes),
            d.fuel_used,
            iface,
            d.module_hash.as_str(),
            d.swaps
        );
    }
    for d in drivers.iter().filter(|d| d.status == DriverStatus::Dead) {
        println!("{}: {}", d.name.as_str(), d.reason.as_str());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        assert!(parse_size("17179869184G").is_err(), "overflow is refused");
    }

    #[test]
    fn pci_ids_and_slots_parse() {
        assert_eq!(parse_pci_id("1234:11e8"), Ok((0x1234, 0x11e8)));
        assert_eq!(parse_pci_id("1af4:1041"), Ok((0x1af4, 0x1041)));
        assert!(parse_pci_id("1234").is_err());
        assert!(parse_pci_id("12345:1").is_err());
        assert!(parse_pci_id(":1").is_err());
        let slot = parse_slot("0000:00:04.0").unwrap();
        assert_eq!((slot.domain, slot.bus, slot.device, slot.function), (0, 0, 4, 0));
        let slot = parse_slot("1:1f.7").unwrap();
        assert_eq!((slot.domain, slot.bus, slot.device, slot.function), (0, 1, 0x1f, 7));
        assert!(parse_slot("00:20.0").is_err(), "device 0x20");
        assert!(parse_slot("00:04.8").is_err(), "function 8");
        assert!(parse_slot("00:04").is_err());
        assert!(parse_slot("0:0:0:0.0").is_err());
    }
}
