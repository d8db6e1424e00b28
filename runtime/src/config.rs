//! [`Config`]: the settings users choose when creating an [`Engine`](crate::Engine).

use cljit_compiler::abi::{OptLevel, Tunables};
use cljit_compiler::{FEATURE_NAMES, Target, WasmFeatures, default_features};

/// Calls plus loop iterations that make a lazily compiled function hot.
const DEFAULT_TIER_UP_THRESHOLD: u32 = 10_000;

/// Engine settings: wasm features, memory layout, stack budget, code
/// generation.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) tunables: Tunables,
    pub(crate) features: WasmFeatures,
    pub(crate) max_wasm_stack: usize,
    pub(crate) target: Target,
    pub(crate) perfmap: bool,
    pub(crate) parallel_compilation: bool,
    pub(crate) memory_reuse: usize,
    pub(crate) memory_fallback: bool,
    pub(crate) memory_keep_resident: usize,
    pub(crate) memory_init_cow: bool,
    pub(crate) memory_image_threshold: usize,
    pub(crate) memory_image_min_bytes: usize,
    pub(crate) lazy_compilation: bool,
    pub(crate) lazy_min_code_bytes: usize,
    pub(crate) lazy_tier_up_threshold: u32,
    pub(crate) lazy_tier_up_sync: bool,
    pub(crate) lazy_code_offset: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tunables: Tunables::default(),
            features: default_features(),
            max_wasm_stack: 512 * 1024,
            target: Target::Host,
            perfmap: false,
            parallel_compilation: true,
            memory_reuse: 16,
            memory_fallback: true,
            memory_keep_resident: 128 << 10,
            memory_init_cow: true,
            memory_image_threshold: 1,
            memory_image_min_bytes: 1 << 20,
            lazy_compilation: false,
            lazy_min_code_bytes: 0,
            lazy_tier_up_threshold: DEFAULT_TIER_UP_THRESHOLD,
            lazy_tier_up_sync: false,
            lazy_code_offset: 0,
        }
    }
}

impl Config {
    /// The default configuration: WebAssembly 2.0 with SIMD, relaxed
    /// SIMD, extended constant expressions, wide arithmetic, multi-memory
    /// and custom page sizes, 4 GiB
    /// reservation plus 2 GiB guard per memory, 512 KiB of wasm stack.
    pub fn new() -> Config {
        Config::default()
    }

    /// Enables or disables a wasm proposal by its name (see
    /// [`FEATURE_NAMES`](crate::FEATURE_NAMES)). Proposals cljit cannot compile are refused when
    /// the engine is created. Disabling `simd` also disables `relaxed-simd`,
    /// which builds on it.
    ///
    /// # Errors
    ///
    /// If the name is unknown.
    pub fn wasm_feature(&mut self, name: &str, enable: bool) -> Result<&mut Config, String> {
        let (_, feature) = FEATURE_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("unknown wasm feature `{name}`"))?;
        self.features.set(*feature, enable);
        if *feature == WasmFeatures::SIMD && !enable {
            self.features.remove(WasmFeatures::RELAXED_SIMD);
        }
        Ok(self)
    }

    /// How many freed linear memories' address-space reservations (and
    /// gone stores' interrupt regions) the engine keeps, zeroed, for the
    /// next memories of the same layout and the next stores (default 16;
    /// 0 unmaps each at once). Reuse saves the `mmap`, `mprotect` and
    /// `munmap` per instance and per store, which dominate the cost of
    /// short-lived instances; idle reservations hold address space and at
    /// most [`memory_keep_resident`](Config::memory_keep_resident) bytes of
    /// memory each. Only Linux guarantees that pages given back read as
    /// zeros, so elsewhere a memory larger than that is not kept.
    pub fn memory_reuse(&mut self, count: usize) -> &mut Config {
        self.memory_reuse = count;
        self
    }

    /// How many bytes at the start of a freed linear memory kept for reuse
    /// are zeroed with stores (its pages stay resident) rather than given
    /// back to the kernel with `madvise` (default 128 KiB: two wasm pages,
    /// the whole memory of a small C program). Stores cost time in
    /// proportion to the bytes; giving pages back costs a TLB shootdown on
    /// every CPU the process runs on and a page fault for each page the
    /// next instance touches. For the FaaS worker's hello request this
    /// default doubles the requests per second over 0 (see the README).
    pub fn memory_keep_resident(&mut self, bytes: usize) -> &mut Config {
        self.memory_keep_resident = bytes;
        self
    }

    /// Whether a module's memories start from a copy-on-write image of its
    /// data segments (default on): the image is built once per module in
    /// a sealed `memfd`, and each instance maps it instead of copying every
    /// segment, so instantiating costs the same whatever the data. Off, each
    /// instance copies its segments, as wasmtime's `-O memory-init-cow=n`.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Config {
        self.memory_init_cow = enable;
        self
    }

    /// How many instances of a module copy their data segments before the
    /// module builds its memory images (default 1). Building an image
    /// writes the data once more, which a program instantiated once (a
    /// `cljit run`) would only pay for; from the second instance on every
    /// instantiation saves the copy. 0 builds them for the first instance.
    pub fn memory_image_threshold(&mut self, instances: usize) -> &mut Config {
        self.memory_image_threshold = instances;
        self
    }

    /// The fewest bytes of data segments for which a memory gets an image
    /// (default 1 MiB). Below it each instance copies its segments: a
    /// reused memory keeps its first pages resident (see
    /// [`memory_keep_resident`](Config::memory_keep_resident)) and a small
    /// copy into them costs less than the page faults an image takes after
    /// every reset (a hello-world FaaS request ran at half the rate with
    /// images).
    pub fn memory_image_min_bytes(&mut self, bytes: usize) -> &mut Config {
        self.memory_image_min_bytes = bytes;
        self
    }

    /// Whether explicit bounds checks also guard against speculation
    /// (default on): an out-of-bounds address becomes null by a conditional
    /// move, so a CPU predicting past the check cannot reach outside the
    /// memory (Spectre v1). Accesses that guard pages cover have no check
    /// and need none.
    pub fn spectre_guard(&mut self, enable: bool) -> &mut Config {
        self.tunables.spectre_guard = enable;
        self
    }

    /// Lowers relaxed SIMD operators to deterministic forms that give the
    /// same results on every machine, instead of the fastest instruction of
    /// the host (see the table in the compiler's `translate/simd/relaxed.rs`).
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Config {
        self.tunables.relaxed_simd_deterministic = enable;
        self
    }

    /// Replaces the whole feature set.
    pub fn wasm_features(&mut self, features: WasmFeatures) -> &mut Config {
        self.features = features;
        self
    }

    /// The enabled features.
    pub fn features(&self) -> WasmFeatures {
        self.features
    }

    /// Bytes of address space reserved per linear memory. At 4 GiB or more,
    /// compiled code needs no bounds checks for 32-bit memories (with a large
    /// enough guard); below, accesses are checked explicitly and memories
    /// may move when they grow.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Config {
        self.tunables.memory_reservation = bytes;
        self
    }

    /// Whether the engine gives up the configured reservation for explicit
    /// bounds checks when this process cannot afford it (default on): when
    /// the room `RLIMIT_AS` leaves holds fewer than 8 reservations plus
    /// guards, or when one cannot be reserved at all. The engine then reserves only each
    /// memory's own size, checks every access, and says why in
    /// [`Engine::memory_fallback`](crate::Engine::memory_fallback). Off, it
    /// keeps the layout and instantiation fails where it does not fit.
    pub fn memory_reservation_fallback(&mut self, enable: bool) -> &mut Config {
        self.memory_fallback = enable;
        self
    }

    /// Bytes of inaccessible guard region after each memory's reservation.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Config {
        self.tunables.memory_guard_size = bytes;
        self
    }

    /// Most bytes of native stack wasm may use before a call-stack-exhausted
    /// trap.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.max_wasm_stack = bytes;
        self
    }

    /// The stack budget [`Config::max_wasm_stack`] set: what a thread
    /// that runs wasm needs at least, with room for host frames on top.
    pub fn wasm_stack_budget(&self) -> usize {
        self.max_wasm_stack
    }

    /// Cranelift's optimisation level.
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Config {
        self.tunables.opt_level = level;
        self
    }

    /// Makes compiled code consume fuel as it runs (one unit per operator,
    /// as wasmtime counts), so a store can bound how much a guest does with
    /// [`Store::set_fuel`](crate::Store::set_fuel). Off by default; costs
    /// some speed when on.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Config {
        self.tunables.consume_fuel = enable;
        self
    }

    /// Makes compiled code check for an interrupt at every function entry
    /// and loop header, so a store's epoch deadline
    /// ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline),
    /// [`Engine::increment_epoch`](crate::Engine::increment_epoch)) stops a
    /// guest that runs too long. Off by default; a check is one load.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Config {
        self.tunables.epoch_interruption = enable;
        self
    }

    /// Whether a module's functions compile on all cores (the default) or
    /// on the calling thread only. The code is the same either way.
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Config {
        self.parallel_compilation = enable;
        self
    }

    /// Runs Cranelift's IR verifier on every function (slow).
    pub fn cranelift_debug_verifier(&mut self, enable: bool) -> &mut Config {
        self.tunables.debug_verifier = enable;
        self
    }

    /// Writes the address, size and name of every compiled function to
    /// `/tmp/perf-<pid>.map` as modules load, so `perf report` can name JIT
    /// code (wasmtime's `--profile perfmap`).
    pub fn profile_perfmap(&mut self, enable: bool) -> &mut Config {
        self.perfmap = enable;
        self
    }

    /// Compiles for another machine, named by its target triple (such as
    /// `aarch64-unknown-linux-gnu`), with that machine's baseline CPU
    /// features. Such an engine can precompile modules
    /// ([`Engine::precompile_module`](crate::Engine::precompile_module)) but
    /// not run them.
    pub fn target(&mut self, triple: &str) -> &mut Config {
        self.target = cljit_compiler::Target::Triple(triple.to_string());
        self
    }

    /// Compiles each function of a module the first time it is called,
    /// with a fast unoptimised tier, instead of all of them with full
    /// optimisation before anything runs (off by default; `cljit run`
    /// turns it on). The module is still validated whole first. Modules
    /// loaded from artifacts or the cache are compiled already.
    pub fn lazy_compilation(&mut self, enable: bool) -> &mut Config {
        self.lazy_compilation = enable;
        self
    }

    /// With lazy compilation on, modules whose function bodies add up to
    /// fewer bytes compile eagerly: compiling them whole costs little
    /// (default 0: every module is lazy).
    pub fn lazy_min_code_bytes(&mut self, bytes: usize) -> &mut Config {
        self.lazy_min_code_bytes = bytes;
        self
    }

    /// Under lazy compilation, how many calls plus loop iterations make a
    /// function hot: it is then recompiled with full optimisation (in the
    /// background) and its callers switch to the new code. 0 turns tier-up
    /// off. Default 10,000.
    pub fn lazy_tier_up_threshold(&mut self, count: u32) -> &mut Config {
        self.lazy_tier_up_threshold = count;
        self
    }

    /// Recompiles a hot function on the thread that found it hot, before it
    /// goes on, instead of in the background (off by default; for tests, so
    /// that the optimised code is in place at a known point).
    pub fn lazy_tier_up_sync(&mut self, sync: bool) -> &mut Config {
        self.lazy_tier_up_sync = sync;
        self
    }

    /// Leaves `bytes` of address space (reserved, never committed) between
    /// a lazy module's stubs and its first compiled function (0 by
    /// default; for tests: at 128 MiB or more, every AArch64 call from a
    /// compiled function to a stub goes through a veneer). On x86-64 the
    /// stubs, counters and code must stay within 2 GiB, so a lazy module
    /// whose region would not is compiled whole.
    pub fn lazy_code_offset(&mut self, bytes: usize) -> &mut Config {
        self.lazy_code_offset = bytes;
        self
    }

    /// The compile knobs this configuration implies.
    pub fn tunables(&self) -> &Tunables {
        &self.tunables
    }
}
