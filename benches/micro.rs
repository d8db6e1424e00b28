//! Microbenchmarks (`cargo bench --bench micro`): compile throughput on a
//! large module, instantiation of a small compiled module, the host-to-wasm
//! call, the wasm-to-host round trip, a wasm-to-wasm call, and raising and
//! catching a trap. With `CLJIT_BENCH_PYTHON` naming CPython's wasm (as
//! `benches/run` downloads it), also instantiating CPython with and
//! without copy-on-write memory images (its imports defined as traps).
//!
//! The large module is generated here (deterministic, no download): many
//! functions of arithmetic, memory accesses, branches and calls, the mix a
//! compiled C program has.

use std::fmt::Write as _;

use cljit::{Config, Engine, Instance, Linker, Module, Store};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// A module of `funcs` functions, each a loop of loads, arithmetic, stores
/// and a call to its neighbour.
fn large_module(funcs: usize) -> Vec<u8> {
    let mut wat = String::from("(module (memory 16)\n");
    for i in 0..funcs {
        let callee = if i + 1 < funcs { i + 1 } else { 0 };
        write!(
            wat,
            r#"(func $f{i} (param $p i32) (param $n i32) (result i32)
                 (local $acc i32) (local $x i64) (local $y f64)
                 (block $done
                   (loop $top
                     (br_if $done (i32.eqz (local.get $n)))
                     (local.set $acc (i32.add (local.get $acc)
                       (i32.mul (i32.load offset={o1} (local.get $p)) (i32.const {k}))))
                     (local.set $x (i64.xor (local.get $x)
                       (i64.shl (i64.extend_i32_u (local.get $acc)) (i64.const 3))))
                     (local.set $y (f64.add (local.get $y)
                       (f64.mul (f64.convert_i64_s (local.get $x)) (f64.const 0.5))))
                     (i32.store offset={o2} (local.get $p) (local.get $acc))
                     (if (i32.gt_u (local.get $acc) (i32.const {k}))
                       (then (local.set $acc (i32.rem_u (local.get $acc) (i32.const 7919))))
                       (else (local.set $acc (i32.add (local.get $acc) (i32.const 1)))))
                     (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                     (br $top)))
                 (if (result i32) (i32.gt_s (local.get $acc) (i32.const 100000))
                   (then (call $f{callee} (local.get $p) (i32.const 0)))
                   (else (i32.add (local.get $acc)
                     (i32.trunc_sat_f64_s (local.get $y))))))
            "#,
            k = 31 + i % 97,
            o1 = (i % 64) * 4,
            o2 = (i % 32) * 8,
        )
        .unwrap();
    }
    wat.push(')');
    wat::parse_str(&wat).unwrap()
}

fn compile(c: &mut Criterion) {
    let engine = Engine::new(&Config::new()).unwrap();
    let wasm = large_module(3000);
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(wasm.len() as u64));
    group.bench_function("large_module", |b| {
        b.iter(|| Module::from_binary(&engine, &wasm).unwrap())
    });
    group.finish();
}

const SMALL: &str = r#"(module
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (memory 1) (table 4 funcref) (global $g (mut i32) (i32.const 0))
  (data (i32.const 0) "cljit")
  (elem (i32.const 0) $leaf $leaf)
  (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "nop"))
  (func (export "calls") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (call $leaf (local.get $acc)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))
  (func (export "host_calls") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (call $add (local.get $acc) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))
  (func (export "trap") (unreachable)))"#;

fn setup() -> (Engine, Module, Linker<()>) {
    let engine = Engine::new(&Config::new()).unwrap();
    let module = Module::new(&engine, SMALL).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "add", |a: i32, b: i32| a.wrapping_add(b))
        .unwrap();
    (engine, module, linker)
}

fn instantiate(c: &mut Criterion) {
    let (engine, module, linker) = setup();
    c.bench_function("instantiate/small_module", |b| {
        b.iter_batched(
            || Store::new(&engine, ()),
            // The store is returned, so dropping it (unmapping the memory)
            // is not timed.
            |mut store| {
                linker.instantiate(&mut store, &module).unwrap();
                store
            },
            // Bounded batches: each store reserves gigabytes of address
            // space, and a large batch of them can exhaust it.
            BatchSize::NumIterations(256),
        )
    });
    let no_imports = Module::new(&engine, "(module (memory 1) (func (export \"f\")))").unwrap();
    c.bench_function("instantiate/empty_module", |b| {
        b.iter_batched(
            || Store::new(&engine, ()),
            |mut store| {
                Instance::new(&mut store, &no_imports, &[]).unwrap();
                store
            },
            // Bounded batches: each store reserves gigabytes of address
            // space, and a large batch of them can exhaust it.
            BatchSize::NumIterations(256),
        )
    });
}

/// Instantiating CPython (26 MB, 7 MB of data in 24,171 segments), with
/// memory images and with every segment copied.
fn instantiate_python(c: &mut Criterion) {
    let Some(path) = std::env::var_os("CLJIT_BENCH_PYTHON") else {
        eprintln!("instantiate/python: set CLJIT_BENCH_PYTHON to CPython's wasm to run it");
        return;
    };
    let bytes = std::fs::read(&path).expect("CLJIT_BENCH_PYTHON names a readable file");
    for cow in [true, false] {
        let mut config = Config::new();
        config.memory_init_cow(cow);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &bytes).unwrap();
        let mut linker = Linker::new(&engine);
        linker.define_unknown_imports_as_traps(&module).unwrap();
        let name = if cow {
            "instantiate/python"
        } else {
            "instantiate/python_copying"
        };
        c.bench_function(name, |b| {
            b.iter_batched(
                || Store::new(&engine, ()),
                |mut store| {
                    linker.instantiate(&mut store, &module).unwrap();
                    store
                },
                BatchSize::NumIterations(64),
            )
        });
    }
}

fn calls(c: &mut Criterion) {
    let (engine, module, linker) = setup();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    const N: i32 = 1000;

    let nop = instance.get_typed_func::<(), ()>(&store, "nop").unwrap();
    c.bench_function("call/host_to_wasm", |b| {
        b.iter(|| nop.call(&mut store, ()).unwrap())
    });

    let mut group = c.benchmark_group("call");
    group.throughput(Throughput::Elements(N as u64));
    let calls = instance
        .get_typed_func::<i32, i32>(&store, "calls")
        .unwrap();
    group.bench_function("wasm_to_wasm", |b| {
        b.iter(|| assert_eq!(calls.call(&mut store, N).unwrap(), N))
    });
    let host_calls = instance
        .get_typed_func::<i32, i32>(&store, "host_calls")
        .unwrap();
    group.bench_function("wasm_to_host_round_trip", |b| {
        b.iter(|| assert_eq!(host_calls.call(&mut store, N).unwrap(), N))
    });
    group.finish();

    let trap = instance.get_typed_func::<(), ()>(&store, "trap").unwrap();
    c.bench_function("trap/raise_and_catch", |b| {
        b.iter(|| assert!(trap.call(&mut store, ()).is_err()))
    });
}

criterion_group!(benches, compile, instantiate, instantiate_python, calls);
criterion_main!(benches);
