// SPDX-License-Identifier: GPL-2.0

//! `cvctl`: run WebAssembly apps inside the Linux kernel with Cervus.

mod device;

use std::path::PathBuf;
use std::process::ExitCode;

use cervus_hostcalls::device::ABI_VERSION;
use cervus_hostcalls::protocol::{ErrorKind, ErrorReply, MAX_ARGS, Outcome, Reply, Request, RunRequest};
use clap::{Parser, Subcommand};

use device::Device;

/// Exit status when cvctl itself, the device or the kernel fails.
const EXIT_FAILURE: u8 = 125;
/// Exit status when the kernel refuses the module (invalid, unlinkable, no entry point).
const EXIT_REFUSED: u8 = 126;
/// Exit status when the instance traps (as a native program that aborts).
const EXIT_TRAPPED: u8 = 134;
/// Exit status when a signal stops the instance (as SIGINT would).
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser)]
#[command(
    name = "cvctl",
    version,
    about = "Run WebAssembly apps inside the Linux kernel with Cervus",
    after_help = "Exit status of `run`: the app's own status (0-255), or\n  \
                  125  cvctl, /dev/cvctl or the kernel failed\n  \
                  126  the kernel refused the module (invalid, unlinkable, no entry point)\n  \
                  130  a signal stopped the app\n  \
                  134  the app trapped"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the versions of cvctl, the ABI and the kernel module.
    Version,
    /// Print the kernel module's counters and limits.
    Info,
    /// Run a wasm module in the kernel, in this process's context, with
    /// this process's standard output and error.
    Run {
        /// The .wasm file.
        file: PathBuf,
        /// Instance name for logs (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// Arguments passed to the module (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Version => version(),
        Command::Info => info(),
        Command::Run { file, name, args } => run(&file, name, &args),
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
    println!("max_instances: {}", info.limits.max_instances);
    println!("memory_limit: {}", info.limits.memory_limit);
    println!("exec_slice: {}", info.limits.exec_slice);
    Ok(0)
}

fn run(file: &std::path::Path, name: Option<String>, args: &[String]) -> CliResult {
    let wasm = std::fs::read(file).map_err(|e| failure(format!("{}: {e}", file.display())))?;
    let name =
        name.unwrap_or_else(|| file.file_name().map_or_else(|| "app".into(), |n| n.to_string_lossy().into_owned()));
    let program = file.to_string_lossy();
    let argv: Vec<&str> = std::iter::once(program.as_ref()).chain(args.iter().map(String::as_str)).collect();
    let argv = heapless::Vec::from_slice(&argv)
        .map_err(|_| failure(format!("too many arguments (at most {})", MAX_ARGS - 1)))?;
    let device = Device::open().map_err(failure)?;
    let reply = device.call(&Request::Run(RunRequest { name: &name, wasm: &wasm, args: argv })).map_err(failure)?;
    match reply {
        Reply::Run(report) => match report.outcome {
            Outcome::Exited(code) => Ok(code as u8),
            Outcome::Trapped(trap) => {
                Err((EXIT_TRAPPED, format!("{name}: trapped: {}: {}", trap.code.describe(), trap.message)))
            }
            Outcome::Interrupted => Err((EXIT_INTERRUPTED, format!("{name}: interrupted by a signal"))),
        },
        Reply::Error(ErrorReply { kind, message }) => {
            let code = match kind {
                ErrorKind::InvalidModule | ErrorKind::Link | ErrorKind::NoEntryPoint => EXIT_REFUSED,
                _ => EXIT_FAILURE,
            };
            Err((code, format!("{name}: {}: {message}", kind.describe())))
        }
        other => Err(failure(format!("unexpected reply {other:?}"))),
    }
}
