//! The FaaS worker of `worker.c`, on cljit's Rust API: the same protocol,
//! limits and replies.
//!
//! It reads one JSON job per line on stdin (`{"fn":"NAME","payload":"..."}`),
//! runs `FUNCTIONS/NAME/code.wasm` (compiled once, instantiated fresh per
//! job) with the payload on stdin and stdout captured, under a time, fuel
//! and memory limit, and writes one JSON reply per job.
//!
//! ```text
//! cargo run --release --example faas-worker -- --functions examples/faas-worker/functions
//! ```

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cljit::wasi::{MemoryOutput, WasiCtx, WasiCtxBuilder};
use cljit::{Config, Engine, Error, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use serde::Deserialize;

/// The epoch advances every `TICK`.
const TICK: Duration = Duration::from_millis(10);

/// What the worker was asked to do (`--flags`).
struct Options {
    functions: PathBuf,
    timeout: Duration,
    fuel: u64,
    max_output: usize,
    max_memory: usize,
    stats: bool,
}

/// One job.
#[derive(Deserialize)]
struct Job {
    #[serde(rename = "fn")]
    name: String,
    #[serde(default)]
    payload: String,
}

/// What a guest's store holds.
struct Guest {
    wasi: WasiCtx,
    limits: StoreLimits,
}

struct Worker {
    options: Options,
    engine: Engine,
    linker: Linker<Guest>,
    modules: HashMap<String, Module>,
}

impl Worker {
    fn new(options: Options) -> Result<Worker, Error> {
        let mut config = Config::new();
        config.consume_fuel(true).epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        cljit::wasi::add_to_linker(&mut linker, |g: &mut Guest| &mut g.wasi)?;
        let ticker = engine.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(TICK);
                ticker.increment_epoch();
            }
        });
        Ok(Worker {
            options,
            engine,
            linker,
            modules: HashMap::new(),
        })
    }

    /// The module of function `name`, compiled the first time.
    fn function(&mut self, name: &str) -> Result<Module, String> {
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        if !valid {
            return Err("a function name is 1 to 64 letters, digits, '-' or '_'".into());
        }
        if let Some(module) = self.modules.get(name) {
            return Ok(module.clone());
        }
        let path = self.options.functions.join(name).join("code.wasm");
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("no function `{name}` ({}: {e})", path.display()))?;
        let module = Module::new(&self.engine, &bytes)
            .map_err(|e| format!("cannot compile `{name}`: {e}"))?;
        self.modules.insert(name.to_string(), module.clone());
        Ok(module)
    }

    /// Runs one job: the reply's error (if any), stdout and stderr.
    fn run(
        &self,
        name: &str,
        module: &Module,
        payload: &str,
    ) -> (Option<String>, Vec<u8>, Vec<u8>) {
        let limit = self.options.max_output + 1;
        let (stdout, stderr) = (MemoryOutput::new(limit), MemoryOutput::new(limit));
        let outcome = self.start(name, module, payload, &stdout, &stderr);
        let mut error = match outcome {
            Ok(0) => None,
            Ok(status) => Some(format!("exit status {status}")),
            Err(e) => Some(match e.as_trap() {
                Some(trap) => format!("wasm trap: {trap}"),
                None => e.to_string(),
            }),
        };
        let mut output = stdout.take();
        if output.len() > self.options.max_output {
            error = Some(format!(
                "the output exceeds {} bytes",
                self.options.max_output
            ));
            output.clear();
        }
        let mut log = stderr.take();
        log.truncate(self.options.max_output);
        (error, output, log)
    }

    fn start(
        &self,
        name: &str,
        module: &Module,
        payload: &str,
        stdout: &MemoryOutput,
        stderr: &MemoryOutput,
    ) -> Result<i32, Error> {
        let wasi = WasiCtxBuilder::default()
            .arg(name)
            .stdin_bytes(payload.as_bytes())
            .stdout_capture(stdout)
            .stderr_capture(stderr)
            .build()?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.options.max_memory)
            .instances(4)
            .tables(4)
            .memories(4)
            .table_elements(100_000)
            .build();
        let mut store = Store::new(&self.engine, Guest { wasi, limits });
        store.limiter(|g| &mut g.limits);
        store.set_fuel(self.options.fuel)?;
        let ticks = self.options.timeout.as_millis() / TICK.as_millis() + 1;
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX))?;
        let instance = self.linker.instantiate(&mut store, module)?;
        cljit::wasi::start(&mut store, instance, |g| &mut g.wasi)
    }

    /// The reply to one line.
    fn handle(&mut self, line: &str) -> serde_json::Value {
        let job: Job = match serde_json::from_str(line) {
            Ok(job) => job,
            Err(e) => return serde_json::json!({"ok": false, "error": format!("bad job: {e}")}),
        };
        let module = match self.function(&job.name) {
            Ok(module) => module,
            Err(error) => return serde_json::json!({"ok": false, "error": error}),
        };
        let (error, output, log) = self.run(&job.name, &module, &job.payload);
        let mut reply = serde_json::Map::new();
        reply.insert("ok".into(), error.is_none().into());
        if let Some(error) = error {
            reply.insert("error".into(), error.into());
        }
        reply.insert("output".into(), String::from_utf8_lossy(&output).into());
        if !log.is_empty() {
            reply.insert("stderr".into(), String::from_utf8_lossy(&log).into());
        }
        reply.into()
    }
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        functions: PathBuf::from("functions"),
        timeout: Duration::from_millis(1000),
        fuel: 200_000_000,
        max_output: 1 << 20,
        max_memory: 64 << 20,
        stats: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--stats" {
            options.stats = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{arg} {value}: {e}"))
        };
        match arg.as_str() {
            "--functions" => options.functions = PathBuf::from(&value),
            "--timeout-ms" => options.timeout = Duration::from_millis(number()?),
            "--fuel" => options.fuel = number()?,
            "--max-output" => options.max_output = number()? as usize,
            "--max-memory" => options.max_memory = number()? as usize,
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    Ok(options)
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!(
                "worker: {e}\nusage: faas-worker [--functions DIR] [--timeout-ms N] [--fuel N] \
                 [--max-output BYTES] [--max-memory BYTES] [--stats]"
            );
            std::process::exit(2);
        }
    };
    let stats = options.stats;
    let mut worker = match Worker::new(options) {
        Ok(worker) => worker,
        Err(e) => {
            eprintln!("worker: {e}");
            std::process::exit(2);
        }
    };
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let started = Instant::now();
    let mut jobs = 0u64;
    for line in stdin.split(b'\n') {
        let Ok(line) = line else { break };
        let reply = match std::str::from_utf8(&line) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => worker.handle(line),
            Err(_) => serde_json::json!({"ok": false, "error": "bad job: the line is not UTF-8"}),
        };
        if writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
        jobs += 1;
    }
    if stats {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "jobs: {jobs}, seconds: {seconds:.3}, jobs per second: {:.0}",
            jobs as f64 / seconds
        );
    }
}
