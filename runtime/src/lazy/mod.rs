//! Lazy compilation: a module's functions are compiled the first time they
//! are called, by the fast tier (`Compiler::fast_tier`), instead of all
//! before the program starts.
//!
//! Each defined function has a stub, and calls, `funcref`s, tables and
//! exports all point at stubs. A stub jumps through its function's slot (a
//! word in the same region). The slot starts at the function's slow stub,
//! which enters `cljit_lazy_entry` (see `arch`) with the function's index;
//! that saves the call's argument registers, compiles the function, places
//! it in the region, publishes its trap table and address map, stores its
//! address in the slot (one atomic store, so every later call goes
//! straight there) and jumps to it as if it had been called directly.
//!
//! Tier-up: fast-tier code counts its calls in a prefix before the function
//! (a `sub` on its counter; at zero it enters `cljit_tier_entry`) and its
//! loop iterations at loop headers. A function found hot is recompiled by
//! the optimising compiler (by the background thread, or at once with
//! `Config::lazy_tier_up_sync`) and its slot switched to the new code, so
//! every later call, from any caller, runs it; calls already running finish
//! in the fast code, which is kept.
//!
//! The region, reserved once per module:
//!
//! ```text
//! slots (one word per function, then the state and two entry words),
//!   tier-up counters (one i32 per function)                     | RW
//! stubs | slow stubs | common tail                               | RX
//! compiled functions, packed, each on cache lines of its own     | RX
//! ```
//!
//! The stubs and code are mapped twice (see `region`): they run where the
//! layout shows, and are written through a second, writable view, so no
//! page's protection ever changes. Code is never written where it may be
//! running: each function goes to fresh cache lines past every published
//! one, and its address is published (a release store) only once it is
//! complete. Stubs and code lie within 2 GiB of each other, so calls reach
//! stubs with 32-bit displacements on x86-64; an AArch64 `bl` reaches
//! 128 MiB, and a call placed farther from its callee's stub goes through
//! a veneer written after the caller's body. On AArch64 the instruction
//! cache is made to see each function (and the stubs) before it is
//! published.
//!
//! Threads may call the same uncompiled function at once: one compiles it,
//! the others wait for its code. While the program runs, a background
//! thread (when the machine has a second core and parallel compilation is
//! on) compiles the functions that compiled ones call, breadth first, so a
//! call often finds its callee compiled already. A compilation that
//! fails (an implementation limit of the code generator) ends the call with
//! the error, as a trap would.

use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use cljit_compiler::abi::VmOffsets;
use cljit_compiler::indices::DefinedFuncIndex;
use cljit_compiler::{CompiledFunction, HotnessCounter, LazyBodies, ModuleInfo, RelocTarget};

use crate::arch;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::traps::registry::{self, CodeInfo, CodeKind, FunctionRange, LazyRanges};

mod background;
mod region;

use background::{Prefetch, background_thread};
use region::Region;

/// A module's lazily compiled functions: the region holding their stubs and
/// code, and what compiling them needs. Unregistered and unmapped on drop.
pub(crate) struct LazyCode {
    state: Arc<LazyState>,
    registration: Option<usize>,
}

impl std::fmt::Debug for LazyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyCode")
            .field("functions", &self.state.count)
            .field("compiled", &self.compiled())
            .finish_non_exhaustive()
    }
}

/// What the slow stubs hand to `cljit_lazy_compile`.
pub(crate) struct LazyState {
    engine: Engine,
    info: Arc<ModuleInfo>,
    offsets: VmOffsets,
    bodies: LazyBodies,
    region: Region,
    /// Number of defined functions.
    count: usize,
    /// Offsets in the region: stubs, slow stubs.
    stubs: usize,
    slow_stubs: usize,
    /// The first free code byte (offset in the region), under the lock
    /// that serialises placing code.
    next: Mutex<usize>,
    /// Signalled (under `next`'s lock) whenever a compilation ends, for
    /// threads waiting on another's.
    placed: Condvar,
    /// Each function's progress: [`PENDING`], [`COMPILING`] or [`DONE`].
    progress: Box<[AtomicU8]>,
    /// Functions likely to be called soon, for the background thread.
    prefetch: Arc<Prefetch>,
    /// Whether a background thread compiles `prefetch`'s functions.
    background: bool,
    /// Functions recompiled by the optimising compiler so far.
    tiered: AtomicUsize,
    /// Where the code's metadata is published for traps and backtraces.
    info_in_registry: Arc<CodeInfo>,
    /// Functions compiled so far.
    compiled: AtomicUsize,
    /// Nanoseconds spent compiling them (on all threads).
    compile_nanos: AtomicU64,
    perfmap: bool,
}

fn page() -> usize {
    ::region::page::size()
}

fn round_up(bytes: usize, to: usize) -> usize {
    bytes.next_multiple_of(to)
}

fn io(what: &str, e: impl std::fmt::Display) -> Error {
    Error::msg(format!("lazy compilation: {what}: {e}"))
}

/// A region reserved for a module's lazily compiled code, before anything
/// is written into it: what [`LazyCode::new`] fills.
pub(crate) struct LazyReservation {
    region: Region,
    /// Offsets in the region: stubs, slow stubs, the common tail, the
    /// first code page.
    stubs: usize,
    slow_stubs: usize,
    common: usize,
    code: usize,
}

impl LazyReservation {
    /// Reserves (inaccessible) the region for `bodies`' functions.
    ///
    /// # Errors
    ///
    /// When the address space cannot be had (a low `RLIMIT_AS`, say); the
    /// module can still be compiled eagerly.
    /// `code_offset` bytes of address space are left between the stubs and
    /// the code (see `Config::lazy_code_offset`).
    pub(crate) fn new(bodies: &LazyBodies, code_offset: usize) -> Result<LazyReservation> {
        let count = bodies.len();
        let word = size_of::<usize>();
        // Slots, the state, the two entries, then the tier-up counters.
        let slots_bytes = round_up((count + 3) * word + count * size_of::<i32>(), page());
        let stubs = slots_bytes;
        let slow_stubs = stubs + count * arch::LAZY_STUB_BYTES;
        let common = slow_stubs + count * arch::LAZY_SLOW_STUB_BYTES;
        let code = round_up(common + arch::LAZY_COMMON_BYTES, page())
            .checked_add(round_up(code_offset, page()))
            .ok_or_else(|| Error::msg("lazy compilation: the code offset is too large"))?;
        // Room for every function at a generous size: unoptimised code runs
        // several times larger than its wasm, and each function starts on
        // a cache line with a counting prefix, compiled twice at most.
        // Only what is written is ever committed.
        let code_room = bodies
            .code_bytes()
            .saturating_mul(16)
            .saturating_add(count.saturating_mul(4 * (CODE_ALIGN + arch::LAZY_TIER_PREFIX_BYTES)))
            .saturating_add(64 << 20)
            .min(1536 << 20);
        let size = code + round_up(code_room, page());
        if size > arch::LAZY_REGION_MAX {
            return Err(Error::msg("lazy compilation: the region is too large"));
        }
        let region = Region::new(size, stubs).map_err(|e| io("reserving address space", e))?;
        Ok(LazyReservation {
            region,
            stubs,
            slow_stubs,
            common,
            code,
        })
    }
}

impl LazyCode {
    /// Writes the stubs of `bodies`' functions into `reservation` (made for
    /// them by [`LazyReservation::new`]).
    pub(crate) fn new(
        engine: &Engine,
        info: Arc<ModuleInfo>,
        offsets: VmOffsets,
        bodies: LazyBodies,
        reservation: LazyReservation,
    ) -> Result<LazyCode> {
        let count = bodies.len();
        let LazyReservation {
            region,
            stubs,
            slow_stubs,
            common,
            code,
        } = reservation;
        let base = region.base();
        let size = region.len();
        let ranges = LazyRanges::new(base + code, base + size, count.saturating_mul(2) + 1);
        let info_in_registry = Arc::new(CodeInfo {
            module: Some(Arc::clone(&info)),
            functions: Vec::new(),
            lazy: Some(ranges),
        });
        let background = engine.config().parallel_compilation
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let state = Arc::new(LazyState {
            engine: engine.clone(),
            info,
            offsets,
            bodies,
            region,
            count,
            stubs,
            slow_stubs,
            next: Mutex::new(code),
            placed: Condvar::new(),
            progress: (0..count).map(|_| AtomicU8::new(PENDING)).collect(),
            prefetch: Arc::new(Prefetch::default()),
            background,
            tiered: AtomicUsize::new(0),
            info_in_registry: Arc::clone(&info_in_registry),
            compiled: AtomicUsize::new(0),
            compile_nanos: AtomicU64::new(0),
            perfmap: crate::perfmap::enabled(engine.config().perfmap),
        });
        state.write_stubs(common)?;
        let registration = registry::register(info_in_registry);
        Ok(LazyCode {
            state,
            registration,
        })
    }

    /// The address calls to defined function `def` go to.
    pub(crate) fn stub(&self, def: DefinedFuncIndex) -> usize {
        self.state.stub(def.as_u32() as usize)
    }

    /// How many functions have been compiled so far.
    pub(crate) fn compiled(&self) -> usize {
        self.state.compiled.load(Ordering::Acquire)
    }

    /// How many functions have been recompiled by the optimising compiler.
    pub(crate) fn tiered_up(&self) -> usize {
        self.state.tiered.load(Ordering::Acquire)
    }

    /// Time spent compiling them, summed over threads.
    pub(crate) fn compile_time(&self) -> Duration {
        Duration::from_nanos(self.state.compile_nanos.load(Ordering::Relaxed))
    }
}

impl Drop for LazyCode {
    fn drop(&mut self) {
        self.state.prefetch.stop();
        if let Some(key) = self.registration.take() {
            registry::unregister(key);
        }
        // The region is unmapped when the state drops: the module owning
        // this is being dropped, so no store runs its code any more.
    }
}

impl LazyState {
    fn base(&self) -> usize {
        self.region.base()
    }

    fn stub(&self, index: usize) -> usize {
        self.base() + self.stubs + index * arch::LAZY_STUB_BYTES
    }

    fn slow_stub(&self, index: usize) -> usize {
        self.base() + self.slow_stubs + index * arch::LAZY_SLOW_STUB_BYTES
    }

    /// Function `index`'s tier-up counter, counted down by its prefix (on
    /// calls) and its code (at loop headers).
    fn counter(&self, index: usize) -> &AtomicI32 {
        assert!(index < self.count, "a counter of the module");
        let first = self.base() + (self.count + 3) * size_of::<usize>();
        // SAFETY: the counters follow the slots in the region's first
        // pages, readable and writable for its whole life (made so by
        // `Region::new`), 4-aligned (after whole words);
        // an `AtomicI32` has the layout of an `i32`.
        unsafe { &*(first as *const AtomicI32).add(index) }
    }

    fn slot(&self, index: usize) -> &AtomicUsize {
        assert!(index < self.count + 3, "a slot of the module");
        // SAFETY: slots are the region's first words, readable and
        // writable for its whole life (made so by `Region::new`), and
        // word-aligned (the region is page-aligned); an
        // `AtomicUsize` has the layout of a word.
        unsafe { &*(self.base() as *const AtomicUsize).add(index) }
    }

    /// Fills the slots and writes the stubs.
    fn write_stubs(&self, common: usize) -> Result<()> {
        for i in 0..self.count {
            self.slot(i).store(self.slow_stub(i), Ordering::Relaxed);
        }
        // The state is in an `Arc`; `cljit_lazy_compile` rebuilds a counted
        // handle from this address.
        self.slot(self.count)
            .store(self as *const LazyState as usize, Ordering::Relaxed);
        self.slot(self.count + 1)
            .store(arch::lazy_entry(), Ordering::Relaxed);
        self.slot(self.count + 2)
            .store(arch::tier_entry(), Ordering::Relaxed);
        let initial = threshold_count(self.engine.config().lazy_tier_up_threshold);
        for i in 0..self.count {
            self.counter(i).store(initial, Ordering::Relaxed);
        }
        let write = |at: usize, bytes: &[u8]| {
            // SAFETY: `at` and the bytes after it lie in the stub pages, in
            // the region's shared part; nothing runs them before the
            // module is built, after this.
            unsafe { self.region.write(at, bytes) }
        };
        let common = self.base() + common;
        for i in 0..self.count {
            let slot = self.slot(i) as *const AtomicUsize as usize;
            write(self.stub(i), &arch::lazy_stub(self.stub(i), slot));
            let index = u32::try_from(i).expect("function indices are u32");
            let at = self.slow_stub(i);
            write(at, &arch::lazy_slow_stub(at, index, common));
        }
        let state_slot = self.slot(self.count) as *const AtomicUsize as usize;
        let entry_slot = self.slot(self.count + 1) as *const AtomicUsize as usize;
        write(common, &arch::lazy_common(common, state_slot, entry_slot));
        let stubs = self.stub(0);
        // SAFETY: the stubs, slow stubs and common tail, just written, are
        // mapped.
        unsafe { arch::flush_icache(stubs, common + arch::LAZY_COMMON_BYTES - stubs) };
        Ok(())
    }

    /// The code of defined function `index`, compiling it first if no
    /// thread has, or waiting for the thread compiling it. `depth` is how
    /// far the function is from one that was called (0: called now), for
    /// prefetching.
    fn code_of(self: &Arc<Self>, index: usize, depth: u8) -> Result<usize> {
        let pending = self.slow_stub(index);
        loop {
            let current = self.slot(index).load(Ordering::Acquire);
            if current != pending {
                return Ok(current);
            }
            let progress = &self.progress[index];
            match progress.compare_exchange(PENDING, COMPILING, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    let outcome = self.compile(index, depth);
                    if outcome.is_err() {
                        progress.store(PENDING, Ordering::Release);
                    }
                    let _next = self.next.lock().unwrap_or_else(|e| e.into_inner());
                    self.placed.notify_all();
                    return outcome;
                }
                Err(COMPILING) => {
                    let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
                    while progress.load(Ordering::Acquire) == COMPILING {
                        next = self.placed.wait(next).unwrap_or_else(|e| e.into_inner());
                    }
                }
                Err(_) => {}
            }
        }
    }

    /// Compiles defined function `index` (this thread marked it
    /// [`COMPILING`]), places it and publishes it.
    fn compile(self: &Arc<Self>, index: usize, depth: u8) -> Result<usize> {
        let def = DefinedFuncIndex::from_u32(u32::try_from(index).expect("a u32 index"));
        let started = Instant::now();
        let hotness = (self.engine.config().lazy_tier_up_threshold > 0).then(|| HotnessCounter {
            counter: self.counter(index) as *const AtomicI32 as u64,
            hook: cljit_tier_up as *const () as u64,
            context: Arc::as_ptr(self) as u64,
            index: index as u32,
        });
        let fast = self.engine.fast_compiler()?.compile_lazy_function(
            &self.info,
            &self.offsets,
            &self.bodies,
            def,
            hotness,
        )?;
        // The fast tier gives every value that crosses a block its own
        // stack slot: in a huge function, a frame the optimising tier
        // would make a small fraction of. Such a function is optimised at
        // once, so recursion through it fits the stack it fits eagerly.
        let (compiled, optimised) =
            if fast.frame_size > fast_frame_limit(self.engine.config().max_wasm_stack) {
                (self.optimise(def)?, true)
            } else {
                (fast, false)
            };
        let counting = hotness.is_some() && !optimised;
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let address = self.place(&mut next, def, &compiled, counting)?;
        // Counted before it is published: whoever runs the code sees it
        // counted.
        self.compiled.fetch_add(1, Ordering::Release);
        if optimised {
            self.tiered.fetch_add(1, Ordering::Release);
        }
        self.slot(index).store(address, Ordering::Release);
        let progress = if optimised { TIERED } else { DONE };
        self.progress[index].store(progress, Ordering::Release);
        drop(next);
        self.add_compile_time(started);
        if self.background && depth < PREFETCH_DEPTH {
            self.queue_callees(&compiled, depth + 1);
        }
        Ok(address)
    }

    /// Compiles `def` with the optimising compiler (no counting).
    fn optimise(&self, def: DefinedFuncIndex) -> Result<CompiledFunction> {
        Ok(self.engine.compiler().compile_lazy_function(
            &self.info,
            &self.offsets,
            &self.bodies,
            def,
            None,
        )?)
    }

    /// Adds the time since `started` to the module's compile time.
    fn add_compile_time(&self, started: Instant) {
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.compile_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Hands the not-yet-compiled functions `f` calls directly to the
    /// background thread, starting it the first time.
    fn queue_callees(self: &Arc<Self>, f: &CompiledFunction, depth: u8) {
        let callees = f.relocations.iter().filter_map(|r| match r.target {
            RelocTarget::Function(callee) => {
                let def = self.info.defined_func_index(callee)?.as_u32();
                (self.progress[def as usize].load(Ordering::Relaxed) == PENDING).then_some(def)
            }
            RelocTarget::LibCall(_) => None,
        });
        self.prefetch.push(callees, depth);
        self.start_background();
    }

    /// Starts the background thread, the first time only.
    fn start_background(self: &Arc<Self>) {
        if !self.prefetch.claim_start() {
            return;
        }
        let state = Arc::downgrade(self);
        let prefetch = Arc::clone(&self.prefetch);
        let spawned = std::thread::Builder::new()
            .name("cljit-background".into())
            .stack_size(8 << 20)
            .spawn(move || background_thread(&state, &prefetch));
        if spawned.is_err() {
            self.prefetch.stop();
        }
    }

    /// Recompiles defined function `index`, found hot in the fast tier,
    /// with the optimising compiler, and switches its slot to the new code
    /// (one atomic store: calls already running stay in the old code,
    /// which is kept).
    fn tier_up(self: &Arc<Self>, index: usize) -> Result<()> {
        let progress = &self.progress[index];
        if progress
            .compare_exchange(DONE, TIERING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Ok(());
        }
        let def = DefinedFuncIndex::from_u32(u32::try_from(index).expect("a u32 index"));
        let started = Instant::now();
        let outcome = self.optimise(def).and_then(|compiled| {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            self.place(&mut next, def, &compiled, false)
        });
        match outcome {
            Ok(address) => {
                self.tiered.fetch_add(1, Ordering::Release);
                self.slot(index).store(address, Ordering::Release);
                progress.store(TIERED, Ordering::Release);
                self.add_compile_time(started);
                Ok(())
            }
            Err(error) => {
                progress.store(DONE, Ordering::Release);
                Err(error)
            }
        }
    }

    /// Writes `f` on fresh cache lines at `*next` (after a counting prefix
    /// with `counting`), through the region's writable view, and patches
    /// its relocations. Returns the address calls go to: the prefix's, or
    /// the function's; the caller publishes it once this returns.
    fn place(
        &self,
        next: &mut usize,
        def: DefinedFuncIndex,
        f: &CompiledFunction,
        counting: bool,
    ) -> Result<usize> {
        let prefix = if counting {
            arch::LAZY_TIER_PREFIX_BYTES
        } else {
            0
        };
        // The prefix is a multiple of every function alignment, so the
        // function after it stays aligned.
        let offset = round_up(*next, CODE_ALIGN.max(f.alignment as usize));
        let entry = self.base() + offset;
        let start = entry + prefix;
        // Where each relocation leads, and the calls that do not reach
        // their target from here (an AArch64 `bl` reaches 128 MiB), which
        // go through veneers after the body.
        let mut targets = f
            .relocations
            .iter()
            .map(|r| match r.target {
                RelocTarget::Function(callee) => {
                    let callee = self.info.defined_func_index(callee).ok_or_else(|| {
                        Error::msg("lazy compilation: a direct call to an import")
                    })?;
                    Ok(self.stub(callee.as_u32() as usize))
                }
                RelocTarget::LibCall(lc) => crate::code_memory::libcall_address(lc),
            })
            .collect::<Result<Vec<usize>>>()?;
        let body_end = round_up(start + f.body.len().max(1), 8);
        let far: Vec<usize> = f
            .relocations
            .iter()
            .zip(&targets)
            .enumerate()
            .filter(|(_, (r, target))| !arch::reaches(r.kind, start + r.offset as usize, **target))
            .map(|(i, _)| i)
            .collect();
        let len = body_end + far.len() * arch::VENEER_BYTES - entry;
        if offset.saturating_add(len) > self.region.len() {
            return Err(Error::msg(
                "lazy compilation: the module's code region is full",
            ));
        }
        if counting {
            let index = def.as_u32();
            let code = arch::lazy_tier_prefix(
                entry,
                self.counter(index as usize) as *const AtomicI32 as usize,
                index,
                self.slot(self.count) as *const AtomicUsize as usize,
                self.slot(self.count + 2) as *const AtomicUsize as usize,
            );
            // SAFETY: [entry, entry + len) lies in the code area past every
            // byte placed so far (`next` only grows, under its lock), on
            // cache lines of its own, so no thread runs or reads it.
            unsafe { self.region.write(entry, &code) };
        }
        // SAFETY: as for the prefix: `start + body` ends within the range.
        unsafe { self.region.write(start, &f.body) };
        for (n, &i) in far.iter().enumerate() {
            let at = body_end + n * arch::VENEER_BYTES;
            // SAFETY: as for the body: the veneers end at `entry + len`.
            unsafe { self.region.write(at, &arch::veneer(targets[i])) };
            targets[i] = at;
        }
        for (r, &target) in f.relocations.iter().zip(&targets) {
            let at = start + r.offset as usize;
            let bytes = arch::relocation_bytes(r.kind);
            if at + bytes > entry + len {
                return Err(Error::msg("lazy compilation: a relocation past the code"));
            }
            let writable = self.region.writable(at, bytes);
            // SAFETY: `writable` is the view of `at`, inside the function
            // being placed (unpublished) with the relocation's bytes after
            // it (checked above); the relocation runs at `at`.
            if !unsafe { arch::patch_relocation(r.kind, writable, at, target, r.addend) } {
                return Err(Error::msg(format!(
                    "lazy compilation: cannot apply a {:?} relocation",
                    r.kind
                )));
            }
        }
        // SAFETY: [entry, entry + len) is this function's code, mapped.
        unsafe { arch::flush_icache(entry, len) };
        // Other threads may jump to it as soon as the caller publishes it.
        arch::sync_cores();
        *next = offset + len;
        let index = self.info.func_index(def);
        let lazy = self
            .info_in_registry
            .lazy
            .as_ref()
            .expect("a lazy module's registry entry has lazy ranges");
        lazy.push(FunctionRange {
            start,
            end: start + f.body.len().max(1),
            kind: CodeKind::Wasm(index),
            traps: f.traps.clone(),
            address_map: f.address_map.clone(),
            handlers: f.handlers.clone(),
        })
        .map_err(|e| Error::msg(format!("lazy compilation: {e}")))?;
        if self.perfmap {
            let len = u32::try_from(f.body.len()).unwrap_or(u32::MAX);
            crate::perfmap::record(&self.info, start, &[(CodeKind::Wasm(index), 0, len)]);
        }
        Ok(entry)
    }
}

/// Where placed code starts: a cache line, so that a function being
/// written never shares one with code that may be running (or be fetched).
const CODE_ALIGN: usize = 64;

/// A function no thread has started compiling.
const PENDING: u8 = 0;
/// A function a thread is compiling.
const COMPILING: u8 = 1;
/// A compiled function: its slot holds its code.
const DONE: u8 = 2;
/// A compiled function being recompiled by the optimising compiler.
const TIERING: u8 = 3;
/// A function whose slot holds optimised code.
const TIERED: u8 = 4;

/// The largest fast-tier frame kept for a wasm stack of `max_wasm_stack`
/// bytes: a 32nd of it, and at least 16 KiB. CPython's interpreter loop
/// (10.5 KiB in the fast tier) stays fast; Yosys's largest functions (up
/// to 94 KiB, which overflowed the 512 KiB stack seven calls deep) are
/// optimised at once.
fn fast_frame_limit(max_wasm_stack: usize) -> u32 {
    u32::try_from(max_wasm_stack / 32)
        .unwrap_or(u32::MAX)
        .max(16 << 10)
}

/// The initial value of a tier-up counter: the `threshold`th count brings
/// it to zero and calls the hook.
fn threshold_count(threshold: u32) -> i32 {
    i32::try_from(threshold).unwrap_or(i32::MAX)
}

/// How many calls away from a called function prefetching reaches. Deeper
/// helps: CPython's `-c pass` starts in 1.62 s at depth 1 (callees only),
/// 1.36 s at 4, 1.28 s at 8 and 1.24 s unbounded (the whole module
/// compiling in the background); 8 keeps most of the gain without
/// compiling all of a large module nobody calls.
const PREFETCH_DEPTH: u8 = 8;

/// Native stack a compilation may need; with less left, it runs on a
/// thread of its own.
const COMPILE_STACK: usize = 1 << 20;

/// Called by `cljit_lazy_entry` with a module's state and a defined
/// function's index: the function's code, or 0 with the error recorded for
/// the enclosing wasm call.
///
/// # Safety
///
/// `state` must be the state a live `LazyCode`'s stubs hold, called on the
/// thread running the wasm call that reached the stub.
pub(crate) unsafe extern "C" fn cljit_lazy_compile(state: *const LazyState, index: u32) -> usize {
    // SAFETY: the stubs hold the address of the shared state of the module
    // whose code is running, which the module keeps alive as long as that
    // code; the count taken here keeps it for this call too.
    let state = unsafe { counted(state) };
    match with_compile_stack(|| state.code_of(index as usize, 0)) {
        Ok(Ok(address)) => address,
        Ok(Err(error)) => {
            crate::traps::record_host_error(error);
            0
        }
        Err(payload) => {
            crate::traps::record_host_panic(payload);
            0
        }
    }
}

/// The tier-up hook, entered through `cljit_tier_entry` from a fast-tier
/// function's prefix whose call count reached zero (and called by its loop
/// headers' counting): queues the function for the optimising compiler, or
/// compiles it now with synchronous tier-up or no second core. Returns
/// where the call goes on: the optimised code if it is ready, else the
/// fast code's prefix (which counts on below zero, never calling again).
/// A failure leaves the fast code in place: tier-up only makes code faster.
///
/// # Safety
///
/// `state` must be the state of the live module whose fast-tier code calls
/// this (the address the code embeds).
pub(crate) unsafe extern "C" fn cljit_tier_up(state: *const LazyState, index: u32) -> usize {
    // SAFETY: the code calling this belongs to the module owning `state`,
    // which keeps the state alive while its code can run; the count taken
    // here keeps it for this call too.
    let state = unsafe { counted(state) };
    if state.engine.config().lazy_tier_up_sync || !state.background {
        let _ = with_compile_stack(|| state.tier_up(index as usize));
    } else {
        state.prefetch.push_hot(index);
        state.start_background();
    }
    state.slot(index as usize).load(Ordering::Acquire)
}

/// A counted handle to the state at `state`.
///
/// # Safety
///
/// `state` must come from `Arc::as_ptr` of a `LazyState` still alive.
unsafe fn counted(state: *const LazyState) -> Arc<LazyState> {
    // SAFETY: per this function's contract the allocation is alive, so
    // adding a count and taking it back as an `Arc` is sound.
    unsafe {
        Arc::increment_strong_count(state);
        Arc::from_raw(state)
    }
}

/// Runs a compilation, on this thread if it has [`COMPILE_STACK`] bytes of
/// native stack left, else on a thread of its own; a panic is returned,
/// not unwound (this runs under `extern "C"` frames).
fn with_compile_stack<R: Send>(compile: impl FnOnce() -> R + Send) -> std::thread::Result<R> {
    let compile = || std::panic::catch_unwind(std::panic::AssertUnwindSafe(compile));
    let low = crate::sys::signals::thread_stack_low();
    let short = low.is_some_and(|low| stack_pointer().saturating_sub(low) < COMPILE_STACK);
    if !short {
        return compile();
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("cljit-lazy".into())
            .stack_size(8 << 20)
            .spawn_scoped(s, compile)
            .map_err(|e| Box::new(e.to_string()) as Box<dyn std::any::Any + Send>)
            .and_then(|h| h.join())
            .and_then(|r| r)
    })
}

/// Called by `cljit_lazy_entry` after a failed compilation: the jump buffer
/// of the wasm call to unwind.
pub(crate) extern "C" fn cljit_lazy_failed() -> *const arch::JmpBuf {
    match crate::traps::current_state() {
        Some(state) => state.jmp_buf(),
        // Wasm runs only inside `catch_traps`, so there is always a call
        // to unwind; without one there is nothing safe to return to.
        None => std::process::abort(),
    }
}

/// The current stack pointer, approximately (the address of a local).
#[inline(never)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}
