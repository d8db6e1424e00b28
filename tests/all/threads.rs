//! Shared memories through the embedding API: `SharedMemory` made by the
//! host or exported by an instance, used from stores on several threads,
//! waits and notifies between host and wasm, growth, and limits that stay
//! per store (so per thread).

use std::thread;
use std::time::{Duration, Instant};

use cljit::{
    Config, Engine, Extern, Instance, MemoryType, Module, SharedMemory, Store, Trap, WaitResult,
};

/// A configuration with the threads proposal on.
fn threads_config() -> Config {
    let mut config = Config::new();
    config.wasm_feature("threads", true).unwrap();
    config
}

fn threads_engine(explicit_bounds_checks: bool) -> Engine {
    let mut config = threads_config();
    if explicit_bounds_checks {
        config.memory_reservation(0).memory_guard_size(0);
    }
    Engine::new(&config).unwrap()
}

fn shared(min: u64, max: u64) -> MemoryType {
    MemoryType {
        shared: true,
        ..MemoryType::new(min, Some(max))
    }
}

const WORKER: &str = r#"(module
  (import "env" "memory" (memory 1 4 shared))
  (func (export "add") (param $n i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))
  (func (export "wait") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// An instance of `WORKER` in a new store, importing `memory`.
fn worker(engine: &Engine, module: &Module, memory: &SharedMemory) -> (Store<()>, Instance) {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[memory.clone().into()]).unwrap();
    (store, instance)
}

#[test]
fn making_a_shared_memory_checks_its_type_and_the_engine() {
    let engine = threads_engine(false);
    let e = SharedMemory::new(&engine, MemoryType::new(1, Some(2))).unwrap_err();
    assert!(e.to_string().contains("shared memory type"), "{e}");
    let e = SharedMemory::new(
        &engine,
        MemoryType {
            shared: true,
            ..MemoryType::new(1, None)
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("must have maximum"), "{e}");
    let e = SharedMemory::new(&Engine::default(), shared(1, 2)).unwrap_err();
    assert!(e.to_string().contains("threads proposal"), "{e}");
    let memory = SharedMemory::new(&engine, shared(1, 2)).unwrap();
    assert_eq!((memory.size(), memory.data_size()), (1, 65536));
    assert_eq!(memory.ty().max_pages, Some(2));
    assert!(memory.ty().shared);
}

#[test]
fn stores_on_many_threads_share_one_memory() {
    for explicit in [false, true] {
        let engine = threads_engine(explicit);
        let module = Module::new(&engine, WORKER).unwrap();
        let memory = SharedMemory::new(&engine, shared(1, 4)).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
                thread::spawn(move || {
                    let (mut store, instance) = worker(&engine, &module, &memory);
                    let add = instance.get_typed_func::<i32, ()>(&store, "add").unwrap();
                    add.call(&mut store, 25_000).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (mut store, instance) = worker(&engine, &module, &memory);
        let load = instance.get_typed_func::<i32, i32>(&store, "load").unwrap();
        assert_eq!(load.call(&mut store, 0).unwrap(), 100_000);
    }
}

#[test]
fn wasm_and_the_host_wait_for_and_notify_each_other() {
    let engine = threads_engine(false);
    let module = Module::new(&engine, WORKER).unwrap();
    let memory = SharedMemory::new(&engine, shared(1, 4)).unwrap();
    // wasm waits; the host notifies.
    let waiter = {
        let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
        thread::spawn(move || {
            let (mut store, instance) = worker(&engine, &module, &memory);
            let wait = instance
                .get_typed_func::<(i32, i32, i64), i32>(&store, "wait")
                .unwrap();
            wait.call(&mut store, (64, 0, -1)).unwrap()
        })
    };
    let mut woke = 0;
    while woke == 0 {
        woke = memory.atomic_notify(64, 1).unwrap();
        thread::yield_now();
    }
    assert_eq!((woke, waiter.join().unwrap()), (1, 0));
    // The host waits; wasm in another store notifies.
    let host = {
        let memory = memory.clone();
        thread::spawn(move || memory.atomic_wait32(128, 0, None).unwrap())
    };
    let (mut store, instance) = worker(&engine, &module, &memory);
    let notify = instance
        .get_typed_func::<(i32, i32), i32>(&store, "notify")
        .unwrap();
    let mut woke = 0;
    while woke == 0 {
        woke = notify.call(&mut store, (128, 1)).unwrap();
        thread::yield_now();
    }
    assert_eq!(host.join().unwrap(), WaitResult::Ok);
    // Mismatches, timeouts and misuse from the host.
    let store_fn = instance
        .get_typed_func::<(i32, i32), ()>(&store, "store")
        .unwrap();
    store_fn.call(&mut store, (256, 9)).unwrap();
    assert_eq!(
        memory.atomic_wait32(256, 8, None).unwrap(),
        WaitResult::Mismatch
    );
    let start = Instant::now();
    let timeout = Some(Duration::from_millis(30));
    assert_eq!(
        memory.atomic_wait32(256, 9, timeout).unwrap(),
        WaitResult::TimedOut
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        memory.atomic_wait64(256, 9, Some(Duration::ZERO)).unwrap(),
        WaitResult::TimedOut
    );
    let trap = |e: cljit::Error| e.as_trap();
    assert_eq!(
        trap(memory.atomic_notify(2, 1).unwrap_err()),
        Some(Trap::HeapMisaligned)
    );
    assert_eq!(
        trap(memory.atomic_wait64(65536, 0, None).unwrap_err()),
        Some(Trap::MemoryOutOfBounds)
    );
}

#[test]
fn a_wait_with_a_timeout_times_out_in_wasm() {
    let engine = threads_engine(true);
    let module = Module::new(&engine, WORKER).unwrap();
    let memory = SharedMemory::new(&engine, shared(1, 4)).unwrap();
    let (mut store, instance) = worker(&engine, &module, &memory);
    let wait = instance
        .get_typed_func::<(i32, i32, i64), i32>(&store, "wait")
        .unwrap();
    let start = Instant::now();
    assert_eq!(wait.call(&mut store, (0, 0, 20_000_000)).unwrap(), 2);
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(wait.call(&mut store, (0, 1, -1)).unwrap(), 1);
}

#[test]
fn growth_is_seen_by_every_store_and_never_moves_the_memory() {
    for explicit in [false, true] {
        let engine = threads_engine(explicit);
        let module = Module::new(&engine, WORKER).unwrap();
        let memory = SharedMemory::new(&engine, shared(1, 4)).unwrap();
        let base = memory.data().as_ptr();
        let (mut a, ia) = worker(&engine, &module, &memory);
        let (mut b, ib) = worker(&engine, &module, &memory);
        let size = |store: &mut Store<()>, i: &Instance| {
            i.get_typed_func::<(), i32>(&*store, "size")
                .unwrap()
                .call(store, ())
                .unwrap()
        };
        assert_eq!(memory.grow(1).unwrap(), 1);
        assert_eq!((size(&mut a, &ia), size(&mut b, &ib)), (2, 2));
        let grow = ib.get_typed_func::<i32, i32>(&b, "grow").unwrap();
        assert_eq!(grow.call(&mut b, 2).unwrap(), 2);
        assert_eq!(grow.call(&mut b, 1).unwrap(), -1);
        assert_eq!((size(&mut a, &ia), memory.size()), (4, 4));
        // Store A writes to the last page B grew.
        let store_fn = ia.get_typed_func::<(i32, i32), ()>(&a, "store").unwrap();
        store_fn.call(&mut a, (4 * 65536 - 4, 77)).unwrap();
        let load = ib.get_typed_func::<i32, i32>(&b, "load").unwrap();
        assert_eq!(load.call(&mut b, 4 * 65536 - 4).unwrap(), 77);
        assert!(memory.grow(1).is_err());
        assert_eq!(memory.data().as_ptr(), base);
        assert_eq!(memory.data().len(), 4 * 65536);
    }
}

#[test]
fn an_instance_exports_its_own_shared_memory_to_other_threads() {
    let engine = threads_engine(false);
    let owner = Module::new(
        &engine,
        r#"(module (memory (export "memory") 1 4 shared)
             (data (i32.const 16) "\2a"))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &owner, &[]).unwrap();
    assert!(instance.get_memory(&store, "memory").is_none());
    let memory = instance.get_shared_memory(&store, "memory").unwrap();
    assert!(matches!(
        instance.get_export(&store, "memory"),
        Some(Extern::SharedMemory(_))
    ));
    let module = Module::new(&engine, WORKER).unwrap();
    let handle = {
        let (engine, memory) = (engine.clone(), memory.clone());
        thread::spawn(move || {
            let (mut store, instance) = worker(&engine, &module, &memory);
            let load = instance.get_typed_func::<i32, i32>(&store, "load").unwrap();
            load.call(&mut store, 16).unwrap()
        })
    };
    assert_eq!(handle.join().unwrap(), 42);
    // A store-bound view of it reads the same bytes.
    let view = cljit::Memory::from_shared(&mut store, &memory).unwrap();
    assert_eq!(view.data(&store)[16], 42);
    assert!(matches!(
        cljit::Memory::new(&mut store, shared(1, 2)),
        Err(e) if e.to_string().contains("SharedMemory::new")
    ));
}

#[test]
fn a_shared_memory_of_another_layout_is_refused() {
    let guarded = threads_engine(false);
    let explicit = threads_engine(true);
    let module = Module::new(&guarded, WORKER).unwrap();
    let memory = SharedMemory::new(&explicit, shared(1, 4)).unwrap();
    let mut store = Store::new(&guarded, ());
    let e = Instance::new(&mut store, &module, &[memory.clone().into()]).unwrap_err();
    assert!(e.to_string().contains("another memory layout"), "{e}");
    // Nor can a store-bound view of it be made.
    let e = cljit::Memory::from_shared(&mut store, &memory).unwrap_err();
    assert!(e.to_string().contains("another memory layout"), "{e}");
    // An unshared import type does not match a shared memory.
    let unshared =
        Module::new(&guarded, r#"(module (import "env" "memory" (memory 1 4)))"#).unwrap();
    let memory = SharedMemory::new(&guarded, shared(1, 4)).unwrap();
    assert!(Instance::new(&mut store, &unshared, &[memory.into()]).is_err());
}

#[test]
fn fuel_is_per_store_so_per_thread() {
    let mut config = threads_config();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WORKER).unwrap();
    let memory = SharedMemory::new(&engine, shared(1, 4)).unwrap();
    let run = |fuel: u64| {
        let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
        thread::spawn(move || {
            let (mut store, instance) = worker(&engine, &module, &memory);
            store.set_fuel(fuel).unwrap();
            let add = instance.get_typed_func::<i32, ()>(&store, "add").unwrap();
            add.call(&mut store, 10_000).map_err(|e| e.as_trap())
        })
    };
    let (starved, fed) = (run(1_000), run(u64::MAX));
    assert_eq!(starved.join().unwrap(), Err(Some(Trap::OutOfFuel)));
    assert_eq!(fed.join().unwrap(), Ok(()));
    // The starved thread added a little before it ran out.
    let (mut store, instance) = worker(&engine, &module, &memory);
    store.set_fuel(u64::MAX).unwrap();
    let load = instance.get_typed_func::<i32, i32>(&store, "load").unwrap();
    let value = load.call(&mut store, 0).unwrap();
    assert!((10_000..11_000).contains(&value), "{value}");
}

#[test]
fn an_epoch_deadline_ends_a_wait_that_nothing_would_end() {
    let mut config = threads_config();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WORKER).unwrap();
    let memory = SharedMemory::new(&engine, shared(1, 4)).unwrap();
    let (mut store, instance) = worker(&engine, &module, &memory);
    store.set_epoch_deadline(1).unwrap();
    let wait = instance
        .get_typed_func::<(i32, i32, i64), i32>(&store, "wait")
        .unwrap();
    let ticker = {
        let engine = engine.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            engine.increment_epoch();
        })
    };
    // No timeout, and no thread will notify: only the deadline ends it.
    let e = wait.call(&mut store, (0, 0, -1)).unwrap_err();
    assert_eq!(e.as_trap(), Some(Trap::Interrupt), "{e}");
    ticker.join().unwrap();
    // A fresh deadline lets the store wait again, and time out.
    store.set_epoch_deadline(10).unwrap();
    assert_eq!(wait.call(&mut store, (0, 0, 1_000_000)).unwrap(), 2);
}

#[test]
fn wasi_threads_caps_the_threads_running_at_once() {
    use cljit::Linker;
    use cljit::wasi::threads::{self, WasiThreads};

    let engine = threads_engine(false);
    let module = Module::new(
        &engine,
        r#"(module
          (import "env" "memory" (memory 1 1 shared))
          (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
          (func (export "wasi_thread_start") (param i32 i32)
            ;; Count in, then block until released.
            (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
            (block $go
              (loop $wait
                (br_if $go (i32.atomic.load (i32.const 0)))
                (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
                (br $wait))))
          (func (export "spawn") (result i32) (call $spawn (i32.const 0)))
          (func (export "count") (result i32) (i32.atomic.load (i32.const 4)))
          (func (export "release")
            (i32.atomic.store (i32.const 0) (i32.const 1))
            (drop (memory.atomic.notify (i32.const 0) (i32.const -1)))))"#,
    )
    .unwrap();
    let memory = SharedMemory::new(&engine, shared(1, 1)).unwrap();
    let store_engine = engine.clone();
    let threads = WasiThreads::new(
        module.clone(),
        move || Ok(Store::new(&store_engine, ())),
        |error| panic!("a thread failed: {error}"),
    );
    threads.max_threads(2);
    let mut linker = Linker::new(&engine);
    linker.define("env", "memory", memory.clone()).unwrap();
    threads::add_to_linker(&mut linker, &threads).unwrap();
    threads.set_linker(linker.clone()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let spawn = instance.get_typed_func::<(), i32>(&store, "spawn").unwrap();
    let (first, second) = (
        spawn.call(&mut store, ()).unwrap(),
        spawn.call(&mut store, ()).unwrap(),
    );
    assert!(first > 0 && second > first, "{first} {second}");
    // Two are running (or about to): a third is refused.
    assert!(spawn.call(&mut store, ()).unwrap() < 0);
    let count = instance.get_typed_func::<(), i32>(&store, "count").unwrap();
    let start = Instant::now();
    while count.call(&mut store, ()).unwrap() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the threads never started"
        );
        thread::sleep(Duration::from_millis(1));
    }
    instance
        .get_typed_func::<(), ()>(&store, "release")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    // Once they have ended, there is room again.
    let start = Instant::now();
    loop {
        let tid = spawn.call(&mut store, ()).unwrap();
        if tid > 0 {
            assert!(tid > second);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the threads never ended"
        );
        thread::sleep(Duration::from_millis(1));
    }
}
