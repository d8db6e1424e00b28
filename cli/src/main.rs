//! The `cljit` binary.
//!
//! Exit codes follow wasmtime: 0 on success; the program's own status when
//! it exits (WASI `proc_exit`); 134 (128 + SIGABRT) when wasm traps; 1 for
//! any other error, printed as `error: ...` with its cause chain.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cljit_cli::commands::{
    cache::CacheCommand, compile::CompileCommand, run::RunCommand, wast::WastCommand,
};

/// A WebAssembly runtime: Cranelift JIT, guard-page memories, WASI.
#[derive(Parser, Debug)]
#[command(name = "cljit", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WebAssembly module (`cljit FILE` is short for `cljit run FILE`).
    Run(RunCommand),
    /// Compile a module ahead of time into a `.cwasm` artifact.
    Compile(CompileCommand),
    /// Show or maintain the compile cache.
    Cache(CacheCommand),
    /// Run WebAssembly spec scripts.
    Wast(WastCommand),
}

/// Arguments that are not a file to run.
const NOT_A_RUN: &[&str] = &[
    "run",
    "compile",
    "cache",
    "wast",
    "help",
    "-h",
    "--help",
    "-V",
    "--version",
];

/// Inserts `run` when the first argument is not a subcommand (nor a request
/// for help or the version), so `cljit app.wasm` and `cljit --invoke f
/// app.wasm` work as in wasmtime.
fn with_implicit_run(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    if first.is_some_and(|first| !NOT_A_RUN.contains(&first.as_str())) {
        args.insert(1, "run".into());
    }
    args
}

fn main() -> ExitCode {
    let args = with_implicit_run(std::env::args_os().collect());
    let help = cljit_cli::flags::help_request(&args);
    if !help.is_empty() {
        use std::io::Write as _;
        let text = cljit_cli::flags::CommonOptions::help_text(&help);
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Run(cmd) => cmd.execute().map(|()| true),
        Command::Compile(cmd) => cmd.execute().map(|()| true),
        Command::Cache(cmd) => cmd.execute().map(|()| true),
        Command::Wast(cmd) => cmd.execute(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => ExitCode::from(cljit_cli::exit::status_for(&error)),
    }
}
