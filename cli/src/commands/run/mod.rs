//! `cljit run`: instantiate a module with WASI and run it, or invoke one
//! export with arguments parsed by its signature.

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use cljit::wasi::{DirAccess, WasiCtx, WasiCtxBuilder};
use cljit::{Engine, Instance, Linker, Module, Store, StoreLimits};

use crate::flags::{CacheConfigFile, CacheLocation, CommonOptions, Options};

mod cache_fill;
mod threads;
mod values;

use self::cache_fill::{CACHE_FILL_ENV, fill_lock, spawn_cache_fill};
use self::threads::{define_shared_memories, thread_support};
use self::values::{format_value, invoke};

/// Runs a WebAssembly module.
#[derive(clap::Args, Debug)]
pub struct RunCommand {
    #[command(flatten)]
    common: CommonOptions,

    #[command(flatten)]
    cache: CacheLocation,

    /// Compile without the cache: neither look modules up nor store them
    /// (as `-C cache=n`).
    #[arg(long)]
    no_cache: bool,

    /// Call this export instead of `_start`, with ARGS as its arguments,
    /// and print each result on its own line.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// Instantiate another module first and make its exports importable
    /// under NAME (a reactor has its `_initialize` run first).
    #[arg(long, value_name = "NAME=PATH", value_parser = parse_preload)]
    preload: Vec<(String, PathBuf)>,

    /// Grant the guest access to the host directory HOST, under the name
    /// GUEST (HOST itself when no GUEST is given).
    #[arg(long = "dir", value_name = "HOST[::GUEST]", value_parser = parse_dir)]
    dirs: Vec<(PathBuf, String)>,

    /// Like --dir, but read-only: nothing beneath it can be created,
    /// changed or removed.
    #[arg(long = "ro-dir", value_name = "HOST[::GUEST]", value_parser = parse_dir)]
    ro_dirs: Vec<(PathBuf, String)>,

    /// Set an environment variable for the guest (`K=V`), or pass one of
    /// the host's through (`K`).
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    envs: Vec<String>,

    /// Pass the host's whole environment to the guest (as `-S
    /// inherit-env`).
    #[arg(long)]
    inherit_env: bool,

    /// The program name the guest sees as argv[0] (default: the module's
    /// file name).
    #[arg(long, value_name = "NAME")]
    argv0: Option<OsString>,

    /// Open a listening TCP socket at ADDR and hand it to the guest as a
    /// preopened descriptor, for `sock_accept` (as `-S tcplisten=ADDR`).
    #[arg(long, value_name = "ADDR")]
    tcplisten: Vec<String>,

    /// Profiling support: `perfmap` writes `/tmp/perf-<pid>.map` so that
    /// `perf record` + `perf report` name the JIT-compiled functions.
    #[arg(long, value_name = "STRATEGY", value_parser = ["perfmap"])]
    profile: Option<String>,

    /// The module to run (binary `.wasm`, text `.wat`, or an artifact of
    /// `cljit compile`), then the
    /// arguments: of the program, or of the invoked function.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "WASM [ARGS]..."
    )]
    module_and_args: Vec<OsString>,
}

fn parse_preload(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("expected NAME=PATH, got `{s}`")),
    }
}

fn parse_dir(s: &str) -> Result<(PathBuf, String), String> {
    let (host, guest) = s.split_once("::").unwrap_or((s, s));
    if host.is_empty() || guest.is_empty() {
        return Err(format!("expected HOST[::GUEST], got `{s}`"));
    }
    Ok((PathBuf::from(host), guest.to_string()))
}

/// What a `cljit run` store holds: the guest's WASI context (its own, or
/// with `-S threads` the one all the program's threads share) and the
/// limits `-W max-*` set.
pub struct Host {
    wasi: Option<WasiCtx>,
    shared_wasi: Option<Arc<Mutex<WasiCtx>>>,
    limits: StoreLimits,
}

impl Host {
    fn wasi(&mut self) -> &mut WasiCtx {
        self.wasi
            .as_mut()
            .expect("a store without threads has its own WASI context")
    }

    fn shared_wasi(&mut self) -> &Mutex<WasiCtx> {
        self.shared_wasi
            .as_deref()
            .expect("a store of a threaded program shares the WASI context")
    }
}

impl RunCommand {
    fn wasi(&self, options: &Options, module: &Path, args: &[OsString]) -> anyhow::Result<WasiCtx> {
        let mut b = WasiCtxBuilder::default();
        let argv0 = match &self.argv0 {
            Some(a) => a.clone(),
            None => module
                .file_name()
                .map_or_else(|| module.as_os_str().to_owned(), |n| n.to_owned()),
        };
        b.arg(argv0.as_bytes());
        b.args(args.iter().map(|a| a.as_bytes()));
        if self.inherit_env || options.inherit_env {
            b.inherit_env();
        }
        for e in &self.envs {
            match e.split_once('=') {
                Some((k, v)) => {
                    b.env(k, v);
                }
                None => {
                    if let Some(v) = std::env::var_os(e) {
                        b.env(e, v.as_bytes());
                    }
                }
            }
        }
        b.inherit_stdio();
        for (dirs, access) in [
            (&self.dirs, DirAccess::ReadWrite),
            (&self.ro_dirs, DirAccess::ReadOnly),
        ] {
            for (host, guest) in dirs {
                b.preopened_dir(host, guest, access)
                    .with_context(|| format!("failed to open directory `{}`", host.display()))?;
            }
        }
        for addr in self.tcplisten.iter().chain(&options.tcplisten) {
            let listener = std::net::TcpListener::bind(addr)
                .with_context(|| format!("failed to listen on `{addr}`"))?;
            b.preopened_socket(listener.into());
        }
        Ok(b.build()?)
    }

    /// Runs the command.
    ///
    /// # Errors
    ///
    /// Everything that can go wrong, with context; a trap or exit request
    /// stays inspectable through `downcast_ref::<cljit::Error>()`.
    pub fn execute(self) -> anyhow::Result<()> {
        let (module_path, args) = self
            .module_and_args
            .split_first()
            .ok_or_else(|| anyhow!("no module to run"))?;
        let module_path = PathBuf::from(module_path);
        let mut timings = Timings::from_env();
        let options = self.common.parse()?;
        if !options.help.is_empty() {
            print!("{}", CommonOptions::help_text(&options.help));
            return Ok(());
        }
        let mut config = options.config()?;
        config.profile_perfmap(self.profile.as_deref() == Some("perfmap"));
        let filling = std::env::var_os(CACHE_FILL_ENV).is_some();
        match options.lazy {
            _ if filling => {
                config.lazy_compilation(false);
            }
            None => {
                config.lazy_compilation(true);
                if options.lazy_min_code_size.is_none() {
                    config.lazy_min_code_bytes(DEFAULT_LAZY_MIN_CODE_BYTES);
                }
            }
            Some(_) => {}
        }
        let engine = Engine::new(&config)?;
        timings.memory_fallback = engine.memory_fallback().map(str::to_owned);
        let cache = self.cache(&options)?;
        // One background compile per module at a time: a filler that finds
        // another at work leaves it to finish.
        let _fill_lock = match (filling, &cache) {
            (true, Some(cache)) => match fill_lock(cache.dir(), &module_path) {
                Some(lock) => Some(lock),
                None => return Ok(()),
            },
            _ => None,
        };
        let (module, how) = load_module(&engine, &module_path, cache.as_ref())?;
        timings.mark("compile");
        timings.load = how;
        if module.is_lazy() {
            timings.lazy = Some(module.clone());
        }
        if filling {
            // The entries are written; this process only compiled them.
            for (_, path) in &self.preload {
                load_module(&engine, path, cache.as_ref())?;
            }
            return Ok(());
        }
        let mut fill_cache = how == "miss" && module.is_lazy();
        let wasi = self.wasi(&options, &module_path, args)?;
        let threads = options.wasi_threads;
        let (wasi, shared_wasi) = if threads {
            (None, Some(Arc::new(Mutex::new(wasi))))
        } else {
            (Some(wasi), None)
        };
        let host = Host {
            wasi,
            shared_wasi: shared_wasi.clone(),
            limits: options.store_limits()?.unwrap_or_default(),
        };
        let mut store = Store::new(&engine, host);
        apply_limits(&mut store, &options)?;
        start_timeout(&engine, &options)?;
        let mut linker = Linker::new(&engine);
        if options.wasi_cli != Some(false) {
            if threads {
                cljit::wasi::add_to_linker_shared(&mut linker, Host::shared_wasi)?;
            } else {
                cljit::wasi::add_to_linker(&mut linker, Host::wasi)?;
            }
        }
        define_shared_memories(&mut linker, &engine, &module)?;
        if !threads
            && module
                .imports()
                .any(|(m, n, _)| m == "wasi" && n == "thread-spawn")
        {
            bail!(
                "`{}` uses wasi-threads (it imports `wasi::thread-spawn`): run it with \
                 `-S threads=y` (and `-W threads=y`)",
                module_path.display()
            );
        }
        if threads && !self.preload.is_empty() {
            // A preloaded instance lives in the main thread's store; a
            // thread's store could not import from it.
            bail!("`--preload` cannot be combined with `-S threads` (wasi-threads)");
        }
        let wasi_threads = match shared_wasi {
            Some(shared_wasi) => {
                let threads = thread_support(&engine, &module, &options, shared_wasi)?;
                cljit::wasi::threads::add_to_linker(&mut linker, &threads)?;
                Some(threads)
            }
            None => None,
        };
        for (name, path) in &self.preload {
            let (module, how) = load_module(&engine, path, cache.as_ref())?;
            fill_cache |= how == "miss" && module.is_lazy();
            let instance = linker
                .instantiate(&mut store, &module)
                .with_context(|| format!("failed to instantiate `{}`", path.display()))?;
            initialize(&mut store, instance)
                .with_context(|| format!("failed to initialize `{}`", path.display()))?;
            linker.instance(&mut store, name, instance)?;
        }
        if options.unknown_imports_trap {
            linker.define_unknown_imports_as_traps(&module)?;
        }
        if options.unknown_imports_default {
            linker.define_unknown_imports_as_default_values(&module)?;
        }
        if let Some(threads) = &wasi_threads {
            threads.set_linker(linker.clone())?;
        }
        if let (true, Some(cache)) = (fill_cache, &cache) {
            // Only if no filler holds the lock: taken and dropped here,
            // it is the child's to take.
            if fill_lock(cache.dir(), &module_path).is_some() {
                spawn_cache_fill();
            }
        }
        let instance = linker
            .instantiate(&mut store, &module)
            .with_context(|| format!("failed to instantiate `{}`", module_path.display()))?;
        timings.mark("instantiate");

        let outcome = (|| -> anyhow::Result<()> {
            match &self.invoke {
                Some(name) => {
                    if instance.get_func(&store, "_start").is_none() {
                        initialize(&mut store, instance).context("failed to run `_initialize`")?;
                    }
                    let func = instance
                        .get_func(&store, name)
                        .ok_or_else(|| anyhow!("failed to find an exported function `{name}`"))?;
                    let args = args
                        .iter()
                        .map(|a| {
                            a.to_str()
                                .map(str::to_string)
                                .ok_or_else(|| anyhow!("argument `{}` is not UTF-8", a.display()))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    let results = invoke(&mut store, func, &args)
                        .with_context(|| format!("failed to invoke `{name}`"))?;
                    let mut out = std::io::stdout().lock();
                    for value in results {
                        // A closed stdout is not worth a panic; the run happened.
                        let _ = writeln!(out, "{}", format_value(&value));
                    }
                }
                None => {
                    if let Some(start) = instance.get_func(&store, "_start") {
                        start
                            .call(&mut store, &[], &mut [])
                            .context("failed to run `_start`")?;
                    } else if instance.get_func(&store, "_initialize").is_some() {
                        initialize(&mut store, instance).context("failed to run `_initialize`")?;
                    } else if !args.is_empty() {
                        bail!(
                            "the module exports no `_start` function to pass arguments to (use --invoke)"
                        );
                    }
                }
            }
            Ok(())
        })();
        // The process ends next, and the kernel reclaims the store's and the
        // module's memory faster than their destructors would (tens of
        // megabytes of metadata and mappings for a large module).
        std::mem::forget((store, linker, module, engine));
        outcome
    }
}

impl RunCommand {
    /// The compile cache to use, if any: none with `--no-cache`, `-C
    /// cache=n` or a cache configuration saying `enabled = false`, nor when
    /// no directory can be named.
    fn cache(&self, options: &Options) -> anyhow::Result<Option<cljit::Cache>> {
        let file = options
            .cache_config
            .as_deref()
            .map(CacheConfigFile::read)
            .transpose()?;
        if self.no_cache
            || options.cache == Some(false)
            || file.as_ref().is_some_and(|f| !f.enabled)
        {
            return Ok(None);
        }
        Ok(self.cache.cache_with(file.as_ref()).ok())
    }
}

/// Applies the store-side limits, to the main store and to each thread's:
/// the limiter for `-W max-*`, fuel, and the deadline (see
/// [`start_timeout`]).
fn apply_limits(store: &mut Store<Host>, options: &Options) -> anyhow::Result<()> {
    if options.store_limits()?.is_some() {
        store.limiter(|host| &mut host.limits);
    }
    if let Some(fuel) = options.fuel {
        store.set_fuel(fuel)?;
    }
    if options.timeout.is_some() {
        store.set_epoch_deadline(1)?;
    } else if options.epoch_interruption == Some(true) {
        // Code checks for interrupts, but nothing asked for a deadline.
        store.set_epoch_deadline(u64::MAX)?;
    }
    Ok(())
}

/// Starts the timer thread of `-W timeout`, which advances the engine's
/// epoch once, making code running in every store (every thread's) trap
/// with `interrupt`.
fn start_timeout(engine: &Engine, options: &Options) -> anyhow::Result<()> {
    if let Some(timeout) = options.timeout {
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("cljit-timeout".into())
            .spawn(move || {
                std::thread::sleep(timeout);
                engine.increment_epoch();
            })
            .context("failed to start the timeout thread")?;
    }
    Ok(())
}

/// Modules whose code section is smaller compile eagerly under `run`'s
/// default lazy compilation: whole, they compile in a few tens of
/// milliseconds on two cores, and then go to the cache.
const DEFAULT_LAZY_MIN_CODE_BYTES: usize = 256 * 1024;

/// Loads the module at `path`: an artifact (recognised by its magic) as
/// it is, a wasm module from the cache when there is one, else compiled.
/// Returns how: `artifact`, `hit`, `miss` or `off`.
fn load_module(
    engine: &Engine,
    path: &Path,
    cache: Option<&cljit::Cache>,
) -> anyhow::Result<(Module, &'static str)> {
    let read = || {
        cljit::FileBytes::read(path).with_context(|| format!("failed to read `{}`", path.display()))
    };
    let mut magic = [0u8; 8];
    let start = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if magic[..start] == cljit::ARTIFACT_MAGIC {
        // SAFETY: the user asked to run this artifact, as they would run a
        // native executable; its header and checksum are checked.
        #[allow(unsafe_code, reason = "running an artifact trusts its code")]
        let module = unsafe { Module::deserialize_file(engine, path) }
            .with_context(|| format!("failed to load `{}`", path.display()))?;
        return Ok((module, "artifact"));
    }
    let compiled = match cache {
        Some(cache) => cache.load_file(engine, path).map(|(m, outcome)| {
            let how = if outcome == cljit::CacheOutcome::Hit {
                "hit"
            } else {
                "miss"
            };
            (m, how)
        }),
        None => Module::from_file_bytes(engine, read()?).map(|m| (m, "off")),
    };
    compiled.with_context(|| format!("failed to compile `{}`", path.display()))
}

/// Phase times of one run, printed to stderr as `cljit-timings:
/// compile_us=N instantiate_us=N run_us=N` when the environment variable
/// `CLJIT_TIMINGS` is set (the benchmark harness reads them), followed by
/// `load=artifact|hit|miss|off` (how the module was obtained); when the
/// engine gave up guard pages for explicit bounds checks (see
/// `Engine::memory_fallback`), a second line `cljit-memory: explicit
/// bounds checks: <why>`. Printed on drop, so a run that ends in
/// `proc_exit` or a trap still reports.
struct Timings {
    enabled: bool,
    last: Instant,
    phases: Vec<(&'static str, u128)>,
    load: &'static str,
    /// The module, when it compiles lazily: its count and time are shown.
    lazy: Option<Module>,
    /// Why the engine checks memory accesses explicitly, if it does.
    memory_fallback: Option<String>,
}

impl Timings {
    fn from_env() -> Timings {
        Timings {
            enabled: std::env::var_os("CLJIT_TIMINGS").is_some(),
            last: Instant::now(),
            phases: Vec::new(),
            load: "off",
            lazy: None,
            memory_fallback: None,
        }
    }

    /// Ends the phase `name` now.
    fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases
            .push((name, now.duration_since(self.last).as_micros()));
        self.last = now;
    }
}

impl Drop for Timings {
    fn drop(&mut self) {
        if !self.enabled {
            return;
        }
        self.mark("run");
        let line: Vec<String> = self
            .phases
            .iter()
            .map(|(name, us)| format!("{name}_us={us}"))
            .collect();
        let lazy = self.lazy.as_ref().map_or_else(String::new, |m| {
            format!(
                " lazy_functions={} tiered_up={} lazy_compile_us={}",
                m.lazily_compiled(),
                m.tiered_up(),
                m.lazy_compile_time().as_micros()
            )
        });
        let _ = writeln!(
            std::io::stderr(),
            "cljit-timings: {} load={}{lazy}",
            line.join(" "),
            self.load
        );
        if let Some(why) = &self.memory_fallback {
            let _ = writeln!(
                std::io::stderr(),
                "cljit-memory: explicit bounds checks: {why}"
            );
        }
    }
}

/// Runs a reactor's `_initialize`, if it exports one.
fn initialize(store: &mut Store<Host>, instance: Instance) -> anyhow::Result<()> {
    if let Some(init) = instance.get_func(&*store, "_initialize") {
        init.call(&mut *store, &[], &mut [])?;
    }
    Ok(())
}
