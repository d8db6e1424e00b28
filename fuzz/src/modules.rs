//! The `compile` and `instantiate` targets.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Unstructured;
use cljit::{
    Config, Engine, Extern, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, Val,
    supported_features,
};

/// Largest memory a fuzzed guest may grow to.
const MEMORY_LIMIT: usize = 16 << 20;
/// Largest table a fuzzed guest may grow to.
const TABLE_LIMIT: usize = 10_000;

/// Modules `wasm-smith` made from inputs so far (in this process).
pub static GENERATED: AtomicUsize = AtomicUsize::new(0);
/// Modules that compiled in the `compile` target so far.
pub static COMPILED: AtomicUsize = AtomicUsize::new(0);
/// Exported functions called (in every engine) by the `instantiate`
/// target so far.
pub static CALLS: AtomicUsize = AtomicUsize::new(0);

/// The engines every input runs in, with every feature cljit supports.
fn engines() -> &'static [(&'static str, Engine)] {
    static ENGINES: OnceLock<Vec<(&'static str, Engine)>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let base = || {
            let mut config = Config::new();
            config.wasm_features(supported_features());
            config
        };
        let guarded = base();
        let mut explicit = base();
        explicit.memory_reservation(0).memory_guard_size(0);
        let mut lazy = base();
        // Every function compiled lazily by the fast tier and recompiled by
        // the optimising one at its second call or loop iteration.
        lazy.lazy_compilation(true)
            .lazy_tier_up_threshold(2)
            .lazy_tier_up_sync(true);
        [("guarded", guarded), ("explicit", explicit), ("lazy", lazy)]
            .into_iter()
            .map(|(name, config)| (name, Engine::new(&config).expect("a valid configuration")))
            .collect()
    })
}

/// A valid module `wasm-smith` builds from `data`, with features cljit
/// supports; with `imports`, it may import anything, and its loops and
/// calls run out of fuel (trapping) rather than forever.
fn generate(data: &[u8], imports: bool) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(data);
    let mut config: wasm_smith::Config = u.arbitrary().ok()?;
    config.gc_enabled = false;
    config.threads_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.custom_descriptors_enabled = false;
    config.compact_imports_enabled = false;
    config.acquire_release_atomics_enabled = false;
    config.multibyte_array_access_enabled = false;
    config.canonicalize_nans = true;
    config.allow_start_export = true;
    config.max_memory32_bytes = config.max_memory32_bytes.min(MEMORY_LIMIT as u64);
    config.max_memory64_bytes = config.max_memory64_bytes.min(MEMORY_LIMIT as u128);
    config.max_table_elements = config.max_table_elements.min(TABLE_LIMIT as u64);
    config.min_funcs = config.min_funcs.clamp(1, 50);
    config.max_funcs = config.max_funcs.clamp(config.min_funcs, 50);
    config.max_instructions = config.max_instructions.min(1_000);
    if !imports {
        config.max_imports = 0;
    }
    config.export_everything = true;
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(1_000).ok()?;
    GENERATED.fetch_add(1, Ordering::Relaxed);
    Some(module.to_bytes())
}

/// Imports and exports of `module`, comparable.
fn signature(module: &Module) -> String {
    let imports: Vec<String> = module
        .imports()
        .map(|(m, n, ty)| format!("{m}.{n}: {ty:?}"))
        .collect();
    let exports: Vec<String> = module
        .exports()
        .map(|(n, ty)| format!("{n}: {ty:?}"))
        .collect();
    format!("imports {imports:?} exports {exports:?}")
}

/// Compiles bytes as a module in one engine (see the crate's
/// documentation).
pub fn compile(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let generated = selector & 1 == 1;
    let wasm = if generated {
        match generate(rest, true) {
            Some(wasm) => wasm,
            None => return,
        }
    } else {
        rest.to_vec()
    };
    let (name, engine) = &engines()[usize::from(selector >> 1) % engines().len()];
    let valid = Module::validate(engine, &wasm);
    let module = Module::new(engine, &wasm);
    if let Err(e) = &valid {
        assert!(
            module.is_err(),
            "{name}: validation refuses the module ({e}) but compilation accepts it"
        );
    }
    if generated && let Err(e) = &module {
        panic!("{name}: a valid generated module does not compile: {e}");
    }
    let Ok(module) = module else {
        return;
    };
    COMPILED.fetch_add(1, Ordering::Relaxed);
    let artifact = engine
        .precompile_module(&wasm)
        .unwrap_or_else(|e| panic!("{name}: compiles but does not precompile: {e}"));
    // SAFETY: the artifact was made just now, by this engine, in this
    // process, from the module.
    let loaded = unsafe { Module::deserialize(engine, &artifact) }
        .unwrap_or_else(|e| panic!("{name}: its own artifact does not load: {e}"));
    assert_eq!(signature(&module), signature(&loaded), "{name}");
    // One bit of the artifact flipped, where the input says: loading may
    // succeed (a bit the loader ignores) or fail, but must not panic. The
    // module is not run: artifacts are trusted code.
    let mut damaged = artifact;
    let hash = data.iter().fold(0usize, |h, &b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let at = hash % damaged.len();
    damaged[at] ^= 1 << (hash % 8);
    // SAFETY: a damaged artifact is never run; this only checks that the
    // loader's own checks hold up against damage.
    let _ = unsafe { Module::deserialize(engine, &damaged) };
}

/// A value as compared across engines: references only as null or not.
#[derive(Debug, PartialEq)]
enum Value {
    Bits(u128),
    Ref { null: bool },
}

fn value(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::Bits(u128::from(*x as u32)),
        Val::I64(x) => Value::Bits(u128::from(*x as u64)),
        Val::F32(x) => Value::Bits(u128::from(*x)),
        Val::F64(x) => Value::Bits(u128::from(*x)),
        Val::V128(x) => Value::Bits(*x),
        Val::FuncRef(f) => Value::Ref { null: f.is_none() },
        Val::ExternRef(e) => Value::Ref { null: e.is_none() },
        Val::ExnRef(e) => Value::Ref { null: e.is_none() },
        Val::AnyRef(a) => Value::Ref { null: a.is_none() },
    }
}

/// What an error is, as compared across engines.
fn outcome_of(e: &cljit::Error) -> String {
    match e.as_trap() {
        Some(trap) => format!("trap {trap:?}"),
        None => format!("error {e}"),
    }
}

/// Everything observed of one module in one engine.
#[derive(Debug, PartialEq)]
struct Observed {
    instantiation: Result<(), String>,
    calls: Vec<(String, Result<Vec<Value>, String>)>,
    globals: Vec<(String, Value)>,
    memories: Vec<(String, u64)>,
}

impl Observed {
    /// Whether the native stack ran out somewhere: how deep wasm gets
    /// before that depends on frame sizes, which differ between tiers.
    fn overflowed(&self) -> bool {
        let overflow = |r: &String| r.contains(&format!("{:?}", Trap::StackOverflow));
        self.instantiation.as_ref().err().is_some_and(overflow)
            || self
                .calls
                .iter()
                .any(|(_, r)| r.as_ref().err().is_some_and(overflow))
    }
}

/// FNV-1a over a memory's bytes.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn observe(name: &str, engine: &Engine, wasm: &[u8]) -> Observed {
    let module = Module::new(engine, wasm)
        .unwrap_or_else(|e| panic!("{name}: a valid generated module does not compile: {e}"));
    let limits = StoreLimitsBuilder::new()
        .memory_size(MEMORY_LIMIT)
        .table_elements(TABLE_LIMIT)
        .build();
    let mut store: Store<StoreLimits> = Store::new(engine, limits);
    store.limiter(|limits| limits);
    let mut linker = Linker::new(engine);
    linker
        .define_unknown_imports_as_default_values(&module)
        .unwrap_or_else(|e| panic!("{name}: cannot provide the imports: {e}"));
    let mut observed = Observed {
        instantiation: Ok(()),
        calls: Vec::new(),
        globals: Vec::new(),
        memories: Vec::new(),
    };
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => {
            observed.instantiation = Err(outcome_of(&e));
            return observed;
        }
    };
    let mut exports = instance.exports(&store);
    exports.sort_by(|a, b| a.0.cmp(&b.0));
    for (export, ext) in &exports {
        let Extern::Func(f) = ext else {
            continue;
        };
        let ty = f.ty(&store);
        let args: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let call = f
            .call(&mut store, &args, &mut results)
            .map(|()| results.iter().map(value).collect())
            .map_err(|e| outcome_of(&e));
        observed.calls.push((export.clone(), call));
        CALLS.fetch_add(1, Ordering::Relaxed);
    }
    for (export, ext) in &exports {
        match ext {
            Extern::Global(g) => observed
                .globals
                .push((export.clone(), value(&g.get(&mut store)))),
            Extern::Memory(m) => observed
                .memories
                .push((export.clone(), hash(m.data(&store)))),
            _ => {}
        }
    }
    observed
}

/// Instantiates a generated module and calls its exports in every engine;
/// all must agree (see the crate's documentation).
pub fn instantiate(data: &[u8]) {
    let Some(wasm) = generate(data, true) else {
        return;
    };
    let mut runs = engines()
        .iter()
        .map(|(name, engine)| (*name, observe(name, engine, &wasm)));
    let (first_name, first) = runs.next().expect("engines");
    for (name, observed) in runs {
        if first.overflowed() || observed.overflowed() {
            continue;
        }
        assert_eq!(first, observed, "{first_name} and {name} disagree");
    }
}
