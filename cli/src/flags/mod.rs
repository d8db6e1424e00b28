//! Flags shared by every command, in wasmtime's option groups: `-O`
//! (optimisation and memory), `-C` (code generation, cache), `-D` (debug),
//! `-W` (wasm proposals and limits) and `-S` (WASI). Each takes
//! comma-separated `KEY[=VALUE]` lists and may be repeated; `-W help` (and
//! so on) lists a group's keys.
//!
//! ```text
//!  -W fuel=1000,timeout=2s ─► parse (keys.rs: known? which kind? supported?)
//!                                  │          values.rs: y/n, integers, bytes, durations
//!                                  ▼
//!                              Options ─► Config (engine), StoreLimits (store), run settings
//! ```

mod cache_config;
pub mod keys;
pub mod values;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use cljit::{Config, OptLevel, StoreLimits, StoreLimitsBuilder};

pub use self::cache_config::CacheConfigFile;
use self::keys::{Group, Key, Kind, Support};

/// Options that shape the engine and the store, in wasmtime's groups.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CommonOptions {
    /// Optimisation and memory layout: `opt-level=0|1|2|s`,
    /// `memory-reservation=BYTES`, `memory-guard-size=BYTES`, ... (`-O
    /// help` lists all).
    #[arg(short = 'O', long = "optimize", value_name = "KEY[=VAL[,..]]")]
    pub optimize: Vec<String>,

    /// Code generation: `cache=y|n`, `cache-config=FILE`,
    /// `parallel-compilation=y|n`, ... (`-C help` lists all).
    #[arg(short = 'C', long = "codegen", value_name = "KEY[=VAL[,..]]")]
    pub codegen: Vec<String>,

    /// Debugging (`-D help` lists the keys; cljit implements none beyond
    /// its defaults yet).
    #[arg(short = 'D', long = "debug", value_name = "KEY[=VAL[,..]]")]
    pub debug: Vec<String>,

    /// WebAssembly semantics: proposals (`simd=n`, ...), `fuel=N`,
    /// `timeout=DURATION`, `max-memory-size=BYTES`,
    /// `max-table-elements=N`, `max-instances=N`, `trap-on-grow-failure`,
    /// `max-wasm-stack=BYTES`, ... (`-W help` lists all).
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]")]
    pub wasm: Vec<String>,

    /// WASI: `inherit-env`, `tcplisten=ADDR`, `cli=n`, ... (`-S help`
    /// lists all).
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VAL[,..]]")]
    pub wasi: Vec<String>,
}

/// What the implemented keys asked for, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-O opt-level`.
    pub opt_level: Option<OptLevel>,
    /// `-O memory-reservation` (and its deprecated name).
    pub memory_reservation: Option<u64>,
    /// `-O memory-guard-size` (and its deprecated names).
    pub memory_guard_size: Option<u64>,
    /// `-O memory-reservation-fallback` (cljit's own).
    pub memory_reservation_fallback: Option<bool>,
    /// `-C cranelift-debug-verifier`.
    pub debug_verifier: Option<bool>,
    /// `-C cache`.
    pub cache: Option<bool>,
    /// `-C cache-config`.
    pub cache_config: Option<PathBuf>,
    /// `-C parallel-compilation`.
    pub parallel_compilation: Option<bool>,
    /// `-O memory-init-cow`.
    pub memory_init_cow: Option<bool>,
    /// `-O lazy` (cljit's own).
    pub lazy: Option<bool>,
    /// `-O lazy-min-code-size` (cljit's own).
    pub lazy_min_code_size: Option<u64>,
    /// `-O lazy-tier-up` (cljit's own).
    pub lazy_tier_up: Option<u64>,
    /// `-W fuel`.
    pub fuel: Option<u64>,
    /// `-W epoch-interruption`.
    pub epoch_interruption: Option<bool>,
    /// `-W max-wasm-stack`.
    pub max_wasm_stack: Option<u64>,
    /// `-W unknown-imports-trap`.
    pub unknown_imports_trap: bool,
    /// `-W unknown-imports-default`.
    pub unknown_imports_default: bool,
    /// `-W max-memory-size`.
    pub max_memory_size: Option<u64>,
    /// `-W max-table-elements`.
    pub max_table_elements: Option<u64>,
    /// `-W max-instances`.
    pub max_instances: Option<u64>,
    /// `-W max-tables`.
    pub max_tables: Option<u64>,
    /// `-W max-memories`.
    pub max_memories: Option<u64>,
    /// `-W trap-on-grow-failure`.
    pub trap_on_grow_failure: bool,
    /// `-W timeout`.
    pub timeout: Option<Duration>,
    /// `-W all-proposals`.
    pub all_proposals: Option<bool>,
    /// Proposals toggled by name, in order.
    pub proposals: Vec<(&'static str, bool)>,
    /// `-W relaxed-simd-deterministic`.
    pub relaxed_simd_deterministic: Option<bool>,
    /// `-S cli` (or `common`): whether WASI is linked.
    pub wasi_cli: Option<bool>,
    /// `-S inherit-env`.
    pub inherit_env: bool,
    /// `-S tcplisten`.
    pub tcplisten: Vec<String>,
    /// `-S threads`: wasi-threads (`thread-spawn`).
    pub wasi_threads: bool,
    /// Groups whose `help` was asked for.
    pub help: Vec<Group>,
}

/// A parsed value, of the key's kind.
#[derive(Debug, Clone)]
enum Value {
    Bool(bool),
    Integer(u64),
    Duration(Duration),
    Text(String),
}

/// Splits repeated, comma-separated `KEY[=VALUE]` lists.
fn pairs(values: &[String]) -> impl Iterator<Item = (&str, Option<&str>)> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (s, None),
        })
}

/// How a key is written in messages: `-W fuel`.
fn spelled(group: Group, name: &str) -> String {
    format!("-{} {name}", group.letter())
}

fn not_supported(group: Group, name: &str, value: Option<&str>) -> anyhow::Error {
    match value {
        Some(value) => anyhow!(
            "`{}={value}` is not supported by cljit yet",
            spelled(group, name)
        ),
        None => anyhow!("`{}` is not supported by cljit yet", spelled(group, name)),
    }
}

/// Parses one value of `key`'s kind.
fn parse_value(group: Group, key: &Key, value: Option<&str>) -> anyhow::Result<Value> {
    let wrong = |v: &str| {
        anyhow!(
            "invalid value `{v}` for `{}`: expected {}",
            spelled(group, key.name),
            key.kind.expected()
        )
    };
    if key.kind == Kind::Bool {
        return values::boolean(value)
            .map(Value::Bool)
            .ok_or_else(|| wrong(value.unwrap_or_default()));
    }
    let value = value.ok_or_else(|| {
        anyhow!(
            "`{}` needs a value: {}",
            spelled(group, key.name),
            key.kind.expected()
        )
    })?;
    match key.kind {
        Kind::Bool => unreachable!("handled above"),
        Kind::Integer => values::integer(value).map(Value::Integer),
        Kind::Bytes => values::bytes(value).map(Value::Integer),
        Kind::Duration => values::duration(value).map(Value::Duration),
        Kind::Text => Some(Value::Text(value.to_string())),
    }
    .ok_or_else(|| wrong(value))
}

/// Whether cljit can compile the proposal named `feature`.
fn proposal_supported(feature: &str) -> bool {
    cljit::FEATURE_NAMES
        .iter()
        .any(|(name, f)| *name == feature && cljit::supported_features().contains(*f))
}

impl CommonOptions {
    fn groups(&self) -> [(Group, &[String]); 5] {
        [
            (Group::Optimize, &self.optimize),
            (Group::Codegen, &self.codegen),
            (Group::Debug, &self.debug),
            (Group::Wasm, &self.wasm),
            (Group::Wasi, &self.wasi),
        ]
    }

    /// Parses and checks every key.
    ///
    /// # Errors
    ///
    /// An unknown key (the message lists the known ones), a value of the
    /// wrong kind, or a key or value cljit does not support yet.
    pub fn parse(&self) -> anyhow::Result<Options> {
        let mut options = Options::default();
        for (group, raw) in self.groups() {
            for (name, value) in pairs(raw) {
                if name == "help" {
                    options.help.push(group);
                    continue;
                }
                let Some(key) = keys::find(group, name) else {
                    if group.prefix().is_some_and(|p| name.starts_with(p)) {
                        return Err(not_supported(group, name, None));
                    }
                    let known: Vec<&str> = group.keys().iter().map(|k| k.name).collect();
                    bail!(
                        "unknown option `{}`; the known `-{}` options are: {} (`-{} help` describes them)",
                        spelled(group, name),
                        group.letter(),
                        known.join(", "),
                        group.letter()
                    );
                };
                let parsed = parse_value(group, key, value)?;
                match (key.support, &parsed) {
                    (Support::Yes, _) => options.apply(group, key.name, parsed)?,
                    (Support::Only(ok), Value::Bool(b)) => {
                        if *b != ok {
                            return Err(not_supported(
                                group,
                                name,
                                Some(if *b { "y" } else { "n" }),
                            ));
                        }
                    }
                    (Support::Proposal(feature), Value::Bool(on)) => {
                        if *on && !proposal_supported(feature) {
                            bail!(
                                "`{}=y`: the {feature} proposal is not supported by cljit yet",
                                spelled(group, name)
                            );
                        }
                        options.proposals.push((feature, *on));
                    }
                    (Support::OtherProposal, Value::Bool(on)) => {
                        if *on {
                            bail!(
                                "`{}=y`: the {name} proposal is not supported by cljit yet",
                                spelled(group, name)
                            );
                        }
                    }
                    _ => return Err(not_supported(group, name, None)),
                }
            }
        }
        Ok(options)
    }

    /// The text of `-X help` for each group asked for.
    pub fn help_text(groups: &[Group]) -> String {
        let mut out = String::new();
        for &group in groups {
            out.push_str(&format!(
                "-{} options (KEY[=VALUE], comma-separated or repeated):\n",
                group.letter()
            ));
            for key in group.keys() {
                let form = match key.kind {
                    Kind::Bool => format!("{}[=y|n]", key.name),
                    Kind::Integer => format!("{}=N", key.name),
                    Kind::Bytes => format!("{}=BYTES", key.name),
                    Kind::Duration => format!("{}=DURATION", key.name),
                    Kind::Text => format!("{}=VALUE", key.name),
                };
                let note = match key.support {
                    Support::Yes => String::new(),
                    Support::Only(v) => format!(" [cljit: {} only]", if v { "y" } else { "n" }),
                    Support::No => " [not supported yet]".to_string(),
                    Support::Proposal(f) if proposal_supported(f) => String::new(),
                    Support::Proposal(_) | Support::OtherProposal => {
                        " [not supported yet: n only]".to_string()
                    }
                };
                out.push_str(&format!("  {form:<42} {}{note}\n", key.doc));
            }
            if let Some(prefix) = group.prefix() {
                out.push_str(&format!(
                    "  {:<42} a Cranelift setting [not supported yet]\n",
                    format!("{prefix}NAME=VALUE")
                ));
            }
        }
        out
    }

    /// The engine configuration these options describe.
    ///
    /// # Errors
    ///
    /// As [`CommonOptions::parse`].
    pub fn config(&self) -> anyhow::Result<Config> {
        self.parse()?.config()
    }
}

impl Options {
    /// Records an implemented key's value.
    fn apply(&mut self, group: Group, name: &str, value: Value) -> anyhow::Result<()> {
        let int = |v: &Value| match v {
            Value::Integer(n) => *n,
            _ => unreachable!("the key's kind is an integer"),
        };
        let boolean = |v: &Value| matches!(v, Value::Bool(true));
        match (group, name) {
            (Group::Optimize, "opt-level") => {
                let Value::Text(level) = &value else {
                    unreachable!("text")
                };
                self.opt_level = Some(match level.as_str() {
                    "0" => OptLevel::None,
                    "1" | "2" => OptLevel::Speed,
                    "s" => OptLevel::SpeedAndSize,
                    other => {
                        bail!("invalid value `{other}` for `-O opt-level`: expected 0, 1, 2 or s")
                    }
                });
            }
            (Group::Optimize, "regalloc-algorithm") => {
                let Value::Text(algorithm) = &value else {
                    unreachable!("text")
                };
                match algorithm.as_str() {
                    "backtracking" => {}
                    "single-pass" => return Err(not_supported(group, name, Some(algorithm))),
                    other => bail!(
                        "invalid value `{other}` for `-O regalloc-algorithm`: expected backtracking or single-pass"
                    ),
                }
            }
            (Group::Optimize, "memory-reservation" | "static-memory-maximum-size") => {
                self.memory_reservation = Some(int(&value));
            }
            (
                Group::Optimize,
                "memory-guard-size" | "dynamic-memory-guard-size" | "static-memory-guard-size",
            ) => self.memory_guard_size = Some(int(&value)),
            (Group::Codegen, "compiler") => {
                let Value::Text(compiler) = &value else {
                    unreachable!("text")
                };
                match compiler.as_str() {
                    "cranelift" => {}
                    "winch" => return Err(not_supported(group, name, Some(compiler))),
                    other => bail!(
                        "invalid value `{other}` for `-C compiler`: expected cranelift or winch"
                    ),
                }
            }
            (Group::Codegen, "cranelift-debug-verifier") => {
                self.debug_verifier = Some(boolean(&value));
            }
            (Group::Codegen, "cache") => self.cache = Some(boolean(&value)),
            (Group::Codegen, "cache-config") => {
                let Value::Text(path) = value else {
                    unreachable!("text")
                };
                self.cache_config = Some(PathBuf::from(path));
            }
            (Group::Optimize, "memory-init-cow") => {
                self.memory_init_cow = Some(boolean(&value));
            }
            (Group::Optimize, "memory-reservation-fallback") => {
                self.memory_reservation_fallback = Some(boolean(&value));
            }
            (Group::Optimize, "lazy") => self.lazy = Some(boolean(&value)),
            (Group::Optimize, "lazy-min-code-size") => {
                self.lazy_min_code_size = Some(int(&value));
            }
            (Group::Optimize, "lazy-tier-up") => self.lazy_tier_up = Some(int(&value)),
            (Group::Codegen, "parallel-compilation") => {
                self.parallel_compilation = Some(boolean(&value));
            }
            (Group::Wasm, "fuel") => self.fuel = Some(int(&value)),
            (Group::Wasm, "epoch-interruption") => {
                self.epoch_interruption = Some(boolean(&value));
            }
            (Group::Wasm, "max-wasm-stack") => self.max_wasm_stack = Some(int(&value)),
            (Group::Wasm, "unknown-exports-allow") => {}
            (Group::Wasm, "unknown-imports-trap") => self.unknown_imports_trap = boolean(&value),
            (Group::Wasm, "unknown-imports-default") => {
                self.unknown_imports_default = boolean(&value);
            }
            (Group::Wasm, "max-memory-size") => self.max_memory_size = Some(int(&value)),
            (Group::Wasm, "max-table-elements") => self.max_table_elements = Some(int(&value)),
            (Group::Wasm, "max-instances") => self.max_instances = Some(int(&value)),
            (Group::Wasm, "max-tables") => self.max_tables = Some(int(&value)),
            (Group::Wasm, "max-memories") => self.max_memories = Some(int(&value)),
            (Group::Wasm, "trap-on-grow-failure") => self.trap_on_grow_failure = boolean(&value),
            (Group::Wasm, "timeout") => {
                let Value::Duration(d) = value else {
                    unreachable!("duration")
                };
                self.timeout = Some(d);
            }
            (Group::Wasm, "all-proposals") => {
                if boolean(&value) {
                    let missing: Vec<&str> = cljit::FEATURE_NAMES
                        .iter()
                        .map(|(n, _)| *n)
                        .filter(|n| !proposal_supported(n))
                        .collect();
                    bail!(
                        "`-W all-proposals=y`: cljit does not support these proposals yet: {}",
                        missing.join(", ")
                    );
                }
                self.all_proposals = Some(false);
            }
            (Group::Wasm, "relaxed-simd-deterministic") => {
                self.relaxed_simd_deterministic = Some(boolean(&value));
            }
            (Group::Wasi, "cli" | "common") => self.wasi_cli = Some(boolean(&value)),
            (Group::Wasi, "preview2") => {}
            (Group::Wasi, "inherit-env") => self.inherit_env = boolean(&value),
            (Group::Wasi, "threads") => self.wasi_threads = boolean(&value),
            (Group::Wasi, "tcplisten") => {
                let Value::Text(addr) = value else {
                    unreachable!("text")
                };
                self.tcplisten.push(addr);
            }
            _ => unreachable!(
                "every implemented key is applied: -{} {name}",
                group.letter()
            ),
        }
        Ok(())
    }

    /// The engine configuration these options describe.
    ///
    /// # Errors
    ///
    /// A value out of range, or proposals that contradict each other.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut config = Config::new();
        if self.all_proposals == Some(false) {
            // As wasmtime: every proposal off, except those named below.
            for (name, _) in cljit::FEATURE_NAMES {
                if !matches!(
                    *name,
                    "mutable-global" | "sign-extension" | "saturating-float-to-int"
                ) {
                    config.wasm_feature(name, false).map_err(|e| anyhow!(e))?;
                }
            }
        }
        for (name, on) in &self.proposals {
            config
                .wasm_feature(name, *on)
                .map_err(|e| anyhow!("{e} (in -W {name})"))?;
        }
        if let Some(bytes) = self.max_wasm_stack {
            config.max_wasm_stack(usize::try_from(bytes).context("stack size too large")?);
        }
        if let Some(enable) = self.relaxed_simd_deterministic {
            config.relaxed_simd_deterministic(enable);
        }
        if let Some(level) = self.opt_level {
            config.cranelift_opt_level(level);
        }
        if let Some(bytes) = self.memory_reservation {
            config.memory_reservation(bytes);
        }
        if let Some(bytes) = self.memory_guard_size {
            config.memory_guard_size(bytes);
        }
        if let Some(enable) = self.memory_reservation_fallback {
            config.memory_reservation_fallback(enable);
        }
        if let Some(enable) = self.debug_verifier {
            config.cranelift_debug_verifier(enable);
        }
        if let Some(enable) = self.memory_init_cow {
            config.memory_init_cow(enable);
        }
        if let Some(enable) = self.lazy {
            config.lazy_compilation(enable);
        }
        if let Some(bytes) = self.lazy_min_code_size {
            config.lazy_min_code_bytes(usize::try_from(bytes).unwrap_or(usize::MAX));
        }
        if let Some(count) = self.lazy_tier_up {
            config.lazy_tier_up_threshold(u32::try_from(count).unwrap_or(u32::MAX));
        }
        if let Some(enable) = self.parallel_compilation {
            config.parallel_compilation(enable);
        }
        config.consume_fuel(self.fuel.is_some());
        config.epoch_interruption(self.timeout.is_some() || self.epoch_interruption == Some(true));
        Ok(config)
    }

    /// The store's resource limits, when any `-W max-*` or
    /// `trap-on-grow-failure` key was given.
    ///
    /// # Errors
    ///
    /// A count too large for this machine.
    pub fn store_limits(&self) -> anyhow::Result<Option<StoreLimits>> {
        let size = |v: u64, what: &str| {
            usize::try_from(v).with_context(|| format!("`-W {what}` is too large"))
        };
        let mut builder = StoreLimitsBuilder::new();
        let mut any = self.trap_on_grow_failure;
        if let Some(v) = self.max_memory_size {
            builder = builder.memory_size(size(v, "max-memory-size")?);
            any = true;
        }
        if let Some(v) = self.max_table_elements {
            builder = builder.table_elements(size(v, "max-table-elements")?);
            any = true;
        }
        if let Some(v) = self.max_instances {
            builder = builder.instances(size(v, "max-instances")?);
            any = true;
        }
        if let Some(v) = self.max_tables {
            builder = builder.tables(size(v, "max-tables")?);
            any = true;
        }
        if let Some(v) = self.max_memories {
            builder = builder.memories(size(v, "max-memories")?);
            any = true;
        }
        let limits = builder
            .trap_on_grow_failure(self.trap_on_grow_failure)
            .build();
        Ok(any.then_some(limits))
    }
}

/// Long options of the commands that take a separate value, so a scan of
/// the command line can step over their values.
const TAKES_VALUE: &[&str] = &[
    "--dir",
    "--ro-dir",
    "--env",
    "--invoke",
    "--preload",
    "--argv0",
    "--tcplisten",
    "--profile",
    "--cache-dir",
    "--cache-limit",
    "--target",
    "--output",
    "-o",
];

/// The groups whose `help` the command line asks for (`-W help`,
/// `-Whelp`, `--wasm=help`, or `help` in a comma list), looking only at the
/// options before the module (what follows belongs to the program). This
/// runs before the command line is parsed, so `cljit run -W help` needs no
/// module.
pub fn help_request(args: &[std::ffi::OsString]) -> Vec<Group> {
    let groups = [
        (Group::Optimize, "-O", "--optimize"),
        (Group::Codegen, "-C", "--codegen"),
        (Group::Debug, "-D", "--debug"),
        (Group::Wasm, "-W", "--wasm"),
        (Group::Wasi, "-S", "--wasi"),
    ];
    let asks_help = |value: &str| value.split(',').any(|v| v.trim() == "help");
    let mut found = Vec::new();
    // Skip the program name and the subcommand (or the implicit run).
    let mut args = args.iter().skip(1).map(|a| a.to_string_lossy());
    let mut seen_subcommand = false;
    while let Some(arg) = args.next() {
        let arg = arg.as_ref();
        let group = groups.iter().find_map(|&(group, short, long)| {
            if arg == short || arg == long {
                Some((group, None))
            } else if let Some(value) = arg.strip_prefix(&format!("{long}=")) {
                Some((group, Some(value.to_string())))
            } else {
                arg.strip_prefix(short)
                    .filter(|v| !v.is_empty() && !arg.starts_with("--"))
                    .map(|v| (group, Some(v.trim_start_matches('=').to_string())))
            }
        });
        match group {
            Some((group, Some(value))) => {
                if asks_help(&value) {
                    found.push(group);
                }
            }
            Some((group, None)) => {
                if args.next().is_some_and(|value| asks_help(&value)) {
                    found.push(group);
                }
            }
            None if TAKES_VALUE.contains(&arg) => {
                args.next();
            }
            None if arg.starts_with('-') => {}
            None if !seen_subcommand => seen_subcommand = true,
            // The module (or a script): the rest is not ours.
            None => break,
        }
    }
    found
}

/// Where the compile cache lives and how big it may grow.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CacheLocation {
    /// The cache directory (default: `$CLJIT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/cljit`, else `~/.cache/cljit`).
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<std::path::PathBuf>,

    /// The cache's size limit, least recently used entries going first
    /// (default: `$CLJIT_CACHE_LIMIT`, else 1G; K, M and G suffixes).
    #[arg(long, value_name = "BYTES", global = true)]
    pub cache_limit: Option<String>,
}

impl CacheLocation {
    /// The cache these options name.
    ///
    /// # Errors
    ///
    /// No directory is given and no default can be named (no `HOME`), or
    /// the limit is malformed.
    pub fn cache(&self) -> anyhow::Result<cljit::Cache> {
        self.cache_with(None)
    }

    /// The cache these options name, with a `-C cache-config` file's
    /// settings where no flag gives them (flags, then the file, then the
    /// environment and defaults).
    ///
    /// # Errors
    ///
    /// As [`CacheLocation::cache`].
    pub fn cache_with(&self, file: Option<&CacheConfigFile>) -> anyhow::Result<cljit::Cache> {
        let from_file = file.and_then(|f| f.directory.clone());
        let dir = match self.cache_dir.clone().or(from_file) {
            Some(dir) => dir,
            None => cljit::Cache::default_dir().ok_or_else(|| {
                anyhow!("no cache directory: set --cache-dir, CLJIT_CACHE_DIR or HOME")
            })?,
        };
        let env_limit = std::env::var("CLJIT_CACHE_LIMIT").ok();
        let limit = match (self.cache_limit.as_deref(), file.and_then(|f| f.size_limit)) {
            (Some(limit), _) => parse_bytes("cache limit", Some(limit))?,
            (None, Some(limit)) => limit,
            (None, None) => match env_limit.as_deref() {
                Some(limit) => parse_bytes("cache limit", Some(limit))?,
                None => cljit::DEFAULT_CACHE_LIMIT,
            },
        };
        Ok(cljit::Cache::new(dir).with_limit(limit))
    }
}

/// Parses a byte count: decimal or `0x` hex, with an optional K, M or G
/// suffix (powers of 1024).
///
/// # Errors
///
/// A missing or malformed value, naming `key`.
pub fn parse_bytes(key: &str, value: Option<&str>) -> anyhow::Result<u64> {
    let value = value.ok_or_else(|| anyhow!("`{key}` needs a value"))?;
    values::bytes(value).ok_or_else(|| anyhow!("invalid byte count `{value}` for `{key}`"))
}

/// A note for an error that says a module uses a proposal that was turned
/// off: the `-W` option that turns it back on, or that cljit does not
/// support it yet.
pub fn disabled_feature_hint(error: &anyhow::Error) -> Option<String> {
    let feature =
        error
            .chain()
            .find_map(|cause| match cause.downcast_ref::<cljit::Error>()?.kind() {
                cljit::ErrorKind::Compile(cljit::CompileError::DisabledFeature {
                    feature, ..
                }) => Some(*feature),
                _ => None,
            })?;
    Some(if proposal_supported(feature) {
        format!(
            "the module uses the `{feature}` proposal, which is disabled; `-W {feature}=y` enables it"
        )
    } else {
        format!("the module uses the `{feature}` proposal, which cljit does not support yet")
    })
}

#[cfg(test)]
mod tests;
