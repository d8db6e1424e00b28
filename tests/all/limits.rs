//! Execution limits on real code: fuel, epoch deadlines (with real
//! threads), and resource caps, each against every runaway shape, in both
//! memory modes, through the JIT and through artifacts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use cljit::{
    Caller, Config, Engine, Error, Func, Instance, Linker, Module, ResourceLimiter, Store,
    StoreLimits, StoreLimitsBuilder, Trap,
};

/// Every shape of runaway guest, each an export taking no arguments, plus
/// a few that finish. `host` is an imported host function (it does
/// nothing unless the test makes it).
const RUNAWAY: &str = r#"
(module
  (import "host" "tick" (func $tick))
  (memory (export "memory") 1 1000)
  (table $t 1 funcref)
  (func (export "tight_loop") (loop $l (br $l)))
  (func $recurse (export "recursion") (call $recurse))
  ;; Tail calls never exhaust the stack: only a limit ends these.
  (func $tail (export "tail_loop") (return_call $tail))
  (type $void (func))
  (elem (table $t) (i32.const 0) func $tail_ping)
  (func $tail_ping (return_call $tail_pong))
  (func $tail_pong (export "tail_indirect") (return_call_indirect $t (type $void) (i32.const 0)))
  (func $wide (param i32)
    ;; Deep recursion without any loop: a call tree 2,000 calls deep with
    ;; 2^2000 leaves, which never overflows the stack and never ends.
    (if (local.get 0)
      (then
        (call $wide (i32.sub (local.get 0) (i32.const 1)))
        (call $wide (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "call_tree") (call $wide (i32.const 2000)))
  (func (export "host_calls") (loop $l (call $tick) (br $l)))
  (func (export "memory_grow") (result i32)
    ;; Grows until refused, then returns the size in pages.
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size))
  (func (export "table_grow") (result i32)
    (loop $l (br_if $l (i32.ne (table.grow $t (ref.null func) (i32.const 100)) (i32.const -1))))
    (table.size $t))
  (func (export "memory_grow_forever") (loop $l (drop (memory.grow (i32.const 1))) (br $l)))
  (func (export "table_grow_forever")
    (loop $l (drop (table.grow $t (ref.null func) (i32.const 1))) (br $l)))
  (func (export "add1") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "count") (param i32) (result i32)
    ;; Calls the host once per iteration, `n` times.
    (local $i i32)
    (loop $l
      (call $tick)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $i))
)
"#;

/// How a test's module is obtained.
#[derive(Debug, Clone, Copy)]
enum Load {
    Jit,
    Artifact,
}

/// An engine with guard pages or explicit bounds checks, and the limits
/// code asked for.
fn engine(explicit_bounds_checks: bool, fuel: bool, epochs: bool) -> Engine {
    let mut config = Config::new();
    if explicit_bounds_checks {
        config.memory_reservation(0).memory_guard_size(0);
    }
    config.consume_fuel(fuel).epoch_interruption(epochs);
    Engine::new(&config).expect("valid configuration")
}

fn module(engine: &Engine, wat: &str, load: Load) -> Module {
    match load {
        Load::Jit => Module::new(engine, wat).expect("compiles"),
        Load::Artifact => {
            let artifact = engine.precompile_module(wat.as_bytes()).expect("compiles");
            // SAFETY: the artifact was just made by this engine.
            unsafe { Module::deserialize(engine, &artifact) }.expect("loads")
        }
    }
}

/// Every engine configuration a limit must hold in: both memory modes,
/// through the JIT and through artifacts.
fn each_setup(mut f: impl FnMut(bool, Load)) {
    for explicit in [false, true] {
        for load in [Load::Jit, Load::Artifact] {
            f(explicit, load);
        }
    }
}

/// Host data: what `host.tick` does, and optional limits.
#[derive(Default)]
struct Host {
    /// Fuel `tick` adds when the store is about to run dry (0: none).
    refuel_to: u64,
    ticks: u64,
    limits: StoreLimits,
}

fn instantiate(engine: &Engine, module: &Module, host: Host) -> (Store<Host>, Instance) {
    let mut store = Store::new(engine, host);
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "tick", |mut caller: Caller<'_, Host>| {
            caller.data_mut().ticks += 1;
            let refuel_to = caller.data().refuel_to;
            if refuel_to > 0 && caller.get_fuel()? < 1000 {
                caller.set_fuel(refuel_to)?;
            }
            Ok(())
        })
        .unwrap();
    let instance = linker
        .instantiate(&mut store, module)
        .expect("instantiates");
    (store, instance)
}

/// [`instantiate`] with `limits` installed as the store's limiter.
fn instantiate_limited(
    engine: &Engine,
    module: &Module,
    limits: StoreLimits,
) -> (Store<Host>, Instance) {
    let (mut store, instance) = instantiate(
        engine,
        module,
        Host {
            limits,
            ..Host::default()
        },
    );
    store.limiter(|host| &mut host.limits);
    (store, instance)
}

fn call0(store: &mut Store<Host>, instance: Instance, name: &str) -> Result<(), Error> {
    instance
        .get_typed_func::<(), ()>(&*store, name)
        .unwrap()
        .call(&mut *store, ())
}

fn assert_trap<T: std::fmt::Debug>(result: Result<T, Error>, trap: Trap, what: &str) {
    let error = result.expect_err(what);
    assert_eq!(error.as_trap(), Some(trap), "{what}: {error}");
}

#[test]
fn fuel_stops_every_runaway_shape() {
    each_setup(|explicit, load| {
        let engine = engine(explicit, true, false);
        let module = module(&engine, RUNAWAY, load);
        for (name, fuel) in [
            ("tight_loop", 200_000),
            ("tail_loop", 200_000),
            ("tail_indirect", 200_000),
            ("call_tree", 200_000),
            ("host_calls", 200_000),
            ("memory_grow_forever", 20_000),
            ("table_grow_forever", 20_000),
        ] {
            let (mut store, instance) = instantiate(&engine, &module, Host::default());
            store.set_fuel(fuel).unwrap();
            assert_trap(call0(&mut store, instance, name), Trap::OutOfFuel, name);
            assert_eq!(store.get_fuel().unwrap(), 0, "{name}");
        }
        // Deep recursion runs out of fuel before stack when fuel is short.
        let (mut store, instance) = instantiate(&engine, &module, Host::default());
        store.set_fuel(1_000).unwrap();
        assert_trap(
            call0(&mut store, instance, "recursion"),
            Trap::OutOfFuel,
            "recursion",
        );
        // A table grown by 100 at a time until refused: fuel ends it first
        // (the table has no maximum).
        let (mut store, instance) = instantiate(&engine, &module, Host::default());
        store.set_fuel(5_000).unwrap();
        let grow = instance
            .get_typed_func::<(), i32>(&store, "table_grow")
            .unwrap();
        assert_trap(grow.call(&mut store, ()), Trap::OutOfFuel, "table_grow");
        // The message is wasmtime's.
        let error = call0(&mut store, instance, "tight_loop").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("wasm trap: all fuel consumed by WebAssembly"),
            "{error}"
        );
    });
}

#[test]
fn fuel_counts_operators_as_wasmtime_does() {
    each_setup(|explicit, load| {
        let engine = engine(explicit, true, false);
        let module = module(&engine, RUNAWAY, load);
        let (mut store, instance) = instantiate(&engine, &module, Host::default());
        store.set_fuel(1_000_000).unwrap();
        // local.get, i32.const, i32.add: three; `end` is free.
        let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
        assert_eq!(add1.call(&mut store, 41).unwrap(), 42);
        assert_eq!(store.get_fuel().unwrap(), 1_000_000 - 3);
        // A program that fits its budget finishes with the right answer,
        // and what it cost is the difference.
        let fib = instance.get_typed_func::<i32, i32>(&store, "fib").unwrap();
        let before = store.get_fuel().unwrap();
        assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
        let cost = before - store.get_fuel().unwrap();
        // fib(n) makes fib_calls(n) calls, half of them (rounded up) leaves.
        let calls = fib_calls(20);
        let leaves = calls.div_ceil(2);
        let inner = calls - leaves;
        // leaf: local.get i32.const i32.lt_u if local.get = 5
        // inner: local.get i32.const i32.lt_u if local.get i32.const i32.sub
        //        call local.get i32.const i32.sub call i32.add = 13
        assert_eq!(cost, leaves * 5 + inner * 13);
        // Exactly enough fuel finishes, and leaves none.
        store.set_fuel(cost).unwrap();
        assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
        assert_eq!(store.get_fuel().unwrap(), 0);
    });
}

/// How many calls `fib(n)` makes, itself included.
fn fib_calls(n: u64) -> u64 {
    if n < 2 {
        1
    } else {
        1 + fib_calls(n - 1) + fib_calls(n - 2)
    }
}

#[test]
fn refuelling_resumes_work() {
    each_setup(|explicit, load| {
        let engine = engine(explicit, true, false);
        let module = module(&engine, RUNAWAY, load);
        // A host function refuels as the guest runs: 1,000 iterations on
        // a budget that covers about a hundred.
        let host = Host {
            refuel_to: 2_000,
            ..Host::default()
        };
        let (mut store, instance) = instantiate(&engine, &module, host);
        store.set_fuel(2_000).unwrap();
        let count = instance
            .get_typed_func::<i32, i32>(&store, "count")
            .unwrap();
        assert_eq!(count.call(&mut store, 1_000).unwrap(), 1_000);
        assert_eq!(store.data().ticks, 1_000);

        // Without refuelling it runs dry; the store stays usable and more
        // fuel lets the same call finish.
        store.data_mut().refuel_to = 0;
        store.set_fuel(500).unwrap();
        assert_trap(count.call(&mut store, 1_000), Trap::OutOfFuel, "count");
        store.set_fuel(100_000).unwrap();
        assert_eq!(count.call(&mut store, 1_000).unwrap(), 1_000);
    });
}

#[test]
fn fuel_beyond_i64_is_kept_in_reserve() {
    let engine = engine(false, true, false);
    let module = module(&engine, RUNAWAY, Load::Jit);
    let (mut store, instance) = instantiate(&engine, &module, Host::default());
    store.set_fuel(u64::MAX).unwrap();
    assert_eq!(store.get_fuel().unwrap(), u64::MAX);
    let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
    add1.call(&mut store, 1).unwrap();
    assert_eq!(store.get_fuel().unwrap(), u64::MAX - 3);
}

#[test]
fn fuel_and_deadlines_must_be_configured() {
    let engine = engine(false, false, false);
    let mut store = Store::new(&engine, ());
    let error = store.set_fuel(10).unwrap_err();
    assert!(error.to_string().contains("consume_fuel"), "{error}");
    assert!(store.get_fuel().is_err());
    let error = store.set_epoch_deadline(1).unwrap_err();
    assert!(error.to_string().contains("epoch_interruption"), "{error}");
    // A fuel engine's new store has no fuel: its code traps at once.
    let engine = self::engine(false, true, false);
    let module = module(&engine, RUNAWAY, Load::Jit);
    let (mut store, instance) = instantiate(&engine, &module, Host::default());
    assert_eq!(store.get_fuel().unwrap(), 0);
    let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
    assert_trap(add1.call(&mut store, 1), Trap::OutOfFuel, "no fuel");
}

/// Advances `engine`'s epoch once, from another thread, 20 ms from now
/// (the guest is running by then).
fn tick_soon(engine: &Engine) -> std::thread::JoinHandle<()> {
    let engine = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        engine.increment_epoch();
    })
}

/// Runs `name` on a fresh store with a deadline of one tick, and
/// increments the epoch from another thread once the guest is running.
fn interrupted_from_another_thread(engine: &Engine, module: &Module, name: &str) {
    let (mut store, instance) = instantiate(engine, module, Host::default());
    store.set_epoch_deadline(1).unwrap();
    let ticker = tick_soon(engine);
    assert_trap(call0(&mut store, instance, name), Trap::Interrupt, name);
    ticker.join().unwrap();
    // The store stays usable: a new deadline, and short calls run.
    store.set_epoch_deadline(1).unwrap();
    let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
    assert_eq!(add1.call(&mut store, 1).unwrap(), 2);
}

#[test]
fn another_thread_interrupts_every_runaway_shape() {
    each_setup(|explicit, load| {
        let engine = engine(explicit, false, true);
        let module = module(&engine, RUNAWAY, load);
        // (Unbounded recursion overflows the stack within microseconds; the
        // call tree is the deep recursion a deadline must stop.)
        for name in [
            "tight_loop",
            "tail_loop",
            "tail_indirect",
            "call_tree",
            "host_calls",
            "memory_grow_forever",
            "table_grow_forever",
        ] {
            interrupted_from_another_thread(&engine, &module, name);
        }
    });
}

#[test]
fn a_new_store_traps_until_given_a_deadline() {
    let engine = engine(false, false, true);
    let module = module(&engine, RUNAWAY, Load::Jit);
    let (mut store, instance) = instantiate(&engine, &module, Host::default());
    let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
    let error = add1.call(&mut store, 1).unwrap_err();
    assert_eq!(error.as_trap(), Some(Trap::Interrupt));
    assert!(
        error.to_string().starts_with("wasm trap: interrupt"),
        "{error}"
    );
    store.set_epoch_deadline(5).unwrap();
    assert_eq!(add1.call(&mut store, 1).unwrap(), 2);
    // Five ticks later the deadline has passed; a deadline of zero has
    // passed at once.
    for _ in 0..5 {
        assert_eq!(add1.call(&mut store, 1).unwrap(), 2);
        engine.increment_epoch();
    }
    assert_trap(add1.call(&mut store, 1), Trap::Interrupt, "deadline passed");
    store.set_epoch_deadline(0).unwrap();
    assert_trap(add1.call(&mut store, 1), Trap::Interrupt, "zero ticks");
}

#[test]
fn a_store_reusing_an_interrupt_region_still_starts_interrupted() {
    // The engine keeps the regions of gone stores; one left readable (its
    // deadline ahead) must not let the next store run without a deadline.
    let engine = engine(false, false, true);
    let module = module(&engine, RUNAWAY, Load::Jit);
    for round in 0..4 {
        let (mut store, instance) = instantiate(&engine, &module, Host::default());
        let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
        assert_trap(add1.call(&mut store, 1), Trap::Interrupt, "no deadline yet");
        store.set_epoch_deadline(1000).unwrap();
        assert_eq!(add1.call(&mut store, round).unwrap(), round + 1);
        if round % 2 == 1 {
            // Leave this one interrupted instead.
            store.set_epoch_deadline(0).unwrap();
        }
    }
    // And the reused region still stops a runaway loop.
    let (mut store, instance) = instantiate(&engine, &module, Host::default());
    store.set_epoch_deadline(1).unwrap();
    let ticker = tick_soon(&engine);
    assert_trap(
        call0(&mut store, instance, "tight_loop"),
        Trap::Interrupt,
        "runaway",
    );
    ticker.join().unwrap();
}

#[test]
fn many_stores_on_many_threads_each_hit_their_own_deadline() {
    // Store i gets a deadline of i ticks; the epoch advances TICKS times
    // while all of them run, then stops. Stores whose deadline came trap;
    // the others see the ticker finish and return normally. Seeing it
    // finish, a guest enters one more function (which loops, so it checks:
    // one that neither loops nor calls has no check), whose entry check
    // faults if its deadline came (the interrupt happened before `done`
    // was set).
    const STORES: u64 = 8;
    const TICKS: u64 = 4;
    let engine = engine(false, false, true);
    let wat = r#"(module
        (import "host" "done" (func $done (result i32)))
        (func $after (loop))
        (func (export "run") (loop $l (br_if $l (i32.eqz (call $done)))) (call $after)))"#;
    let module = Module::new(&engine, wat).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let started = Arc::new(Barrier::new(STORES as usize + 1));
    let workers: Vec<_> = (1..=STORES)
        .map(|deadline| {
            let (engine, module) = (engine.clone(), module.clone());
            let (done, started) = (Arc::clone(&done), Arc::clone(&started));
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let done_fn =
                    Func::wrap(&mut store, move || i32::from(done.load(Ordering::SeqCst)));
                let instance = Instance::new(&mut store, &module, &[done_fn.into()]).unwrap();
                let run = instance.get_typed_func::<(), ()>(&store, "run").unwrap();
                store.set_epoch_deadline(deadline).unwrap();
                started.wait();
                (deadline, run.call(&mut store, ()))
            })
        })
        .collect();
    started.wait();
    for _ in 0..TICKS {
        std::thread::sleep(std::time::Duration::from_millis(10));
        engine.increment_epoch();
    }
    done.store(true, Ordering::SeqCst);
    for worker in workers {
        let (deadline, result) = worker.join().unwrap();
        if deadline <= TICKS {
            assert_trap(result, Trap::Interrupt, &format!("deadline {deadline}"));
        } else {
            result.unwrap_or_else(|e| panic!("deadline {deadline} should not pass: {e}"));
        }
    }
}

#[test]
fn memory_and_table_caps_stop_growth_in_loops() {
    each_setup(|explicit, load| {
        let engine = engine(explicit, false, false);
        let module = module(&engine, RUNAWAY, load);
        let limits = StoreLimitsBuilder::new()
            .memory_size(10 << 16)
            .table_elements(1_000)
            .build();
        let (mut store, instance) = instantiate_limited(&engine, &module, limits);
        let grow = instance
            .get_typed_func::<(), i32>(&store, "memory_grow")
            .unwrap();
        assert_eq!(grow.call(&mut store, ()).unwrap(), 10);
        let grow = instance
            .get_typed_func::<(), i32>(&store, "table_grow")
            .unwrap();
        assert_eq!(grow.call(&mut store, ()).unwrap(), 901);
        // The host's own growth asks the same limiter.
        let memory = instance.get_memory(&store, "memory").unwrap();
        assert!(memory.grow(&mut store, 1).is_err());
        assert_eq!(memory.size(&store), 10);
    });
}

#[test]
fn trap_on_grow_failure_makes_refusals_traps() {
    let engine = engine(false, false, false);
    let module = module(&engine, RUNAWAY, Load::Jit);
    let limits = StoreLimitsBuilder::new()
        .memory_size(3 << 16)
        .trap_on_grow_failure(true)
        .build();
    let (mut store, instance) = instantiate_limited(&engine, &module, limits);
    let grow = instance
        .get_typed_func::<(), i32>(&store, "memory_grow")
        .unwrap();
    let error = grow.call(&mut store, ()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("forcing trap when growing memory to 262144 bytes"),
        "{error}"
    );
    // The growth before the refusal happened; the store goes on.
    let memory = instance.get_memory(&store, "memory").unwrap();
    assert_eq!(memory.size(&store), 3);
    let add1 = instance.get_typed_func::<i32, i32>(&store, "add1").unwrap();
    assert_eq!(add1.call(&mut store, 1).unwrap(), 2);
}

#[test]
fn counts_and_initial_sizes_are_checked_before_anything_is_created() {
    let engine = engine(false, false, false);
    let small = Module::new(&engine, "(module (memory 1) (table 1 funcref))").unwrap();
    let mut store = Store::new(
        &engine,
        StoreLimitsBuilder::new()
            .instances(2)
            .memories(3)
            .tables(10)
            .build(),
    );
    store.limiter(|limits| limits);
    Instance::new(&mut store, &small, &[]).unwrap();
    Instance::new(&mut store, &small, &[]).unwrap();
    let error = Instance::new(&mut store, &small, &[]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("resource limit exceeded: instance count too high at 3"),
        "{error}"
    );
    // The host's memories count too: a third fits, a fourth does not.
    cljit::Memory::new(&mut store, one_page()).unwrap();
    let error = cljit::Memory::new(&mut store, one_page()).unwrap_err();
    assert!(
        error.to_string().contains("memory count too high at 4"),
        "{error}"
    );

    let mut store = Store::new(
        &engine,
        StoreLimitsBuilder::new().memory_size(1 << 16).build(),
    );
    store.limiter(|limits| limits);
    let big = Module::new(&engine, "(module (memory 2))").unwrap();
    let error = Instance::new(&mut store, &big, &[]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("memory minimum size of 2 pages exceeds memory limits"),
        "{error}"
    );
    let mut store = Store::new(&engine, StoreLimitsBuilder::new().table_elements(5).build());
    store.limiter(|limits| limits);
    let wide = Module::new(&engine, "(module (table 6 funcref))").unwrap();
    let error = Instance::new(&mut store, &wide, &[]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("table minimum size of 6 elements exceeds table limits"),
        "{error}"
    );
}

fn one_page() -> cljit::MemoryType {
    cljit::MemoryType::new(1, None)
}

/// A limiter of our own: records what it was asked and refuses growth past
/// a size with an error of its own.
#[derive(Default)]
struct Recorder {
    asked: Vec<(usize, usize, Option<usize>)>,
}

impl ResourceLimiter for Recorder {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> cljit::Result<bool> {
        self.asked.push((current, desired, max));
        if desired > 4 << 16 {
            return Err(Error::msg("this guest is greedy"));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> cljit::Result<bool> {
        Ok(true)
    }
}

#[test]
fn a_custom_limiter_sees_every_request_and_its_errors_trap() {
    let engine = engine(false, false, false);
    let module = Module::new(
        &engine,
        r#"(module (memory 1 100)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Recorder::default());
    store.limiter(|r| r);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    let error = grow.call(&mut store, 5).unwrap_err();
    assert!(
        error.to_string().contains("this guest is greedy"),
        "{error}"
    );
    let max = Some(100 << 16);
    assert_eq!(
        store.data().asked,
        vec![
            (0, 1 << 16, max),
            (1 << 16, 3 << 16, max),
            (3 << 16, 8 << 16, max)
        ]
    );
}

#[test]
fn fuel_a_deadline_and_caps_compose_on_one_store() {
    each_setup(|explicit, load| {
        let engine = engine(explicit, true, true);
        let module = module(&engine, RUNAWAY, load);
        let limits = StoreLimitsBuilder::new().memory_size(4 << 16).build();
        let (mut store, instance) = instantiate_limited(&engine, &module, limits);
        store.set_epoch_deadline(1_000).unwrap();
        store.set_fuel(1_000_000).unwrap();
        // Caps: growth stops at 4 pages, within fuel and deadline.
        let grow = instance
            .get_typed_func::<(), i32>(&store, "memory_grow")
            .unwrap();
        assert_eq!(grow.call(&mut store, ()).unwrap(), 4);
        // Fuel ends a tight loop first...
        assert_trap(
            call0(&mut store, instance, "tight_loop"),
            Trap::OutOfFuel,
            "fuel",
        );
        // ...then, with plenty of fuel, the deadline does.
        store.set_fuel(u64::MAX).unwrap();
        store.set_epoch_deadline(1).unwrap();
        let ticker = tick_soon(&engine);
        assert_trap(
            call0(&mut store, instance, "tight_loop"),
            Trap::Interrupt,
            "deadline",
        );
        ticker.join().unwrap();
        // And the store still runs code.
        store.set_epoch_deadline(1).unwrap();
        let fib = instance.get_typed_func::<i32, i32>(&store, "fib").unwrap();
        assert_eq!(fib.call(&mut store, 10).unwrap(), 55);
    });
}

#[test]
fn artifacts_record_whether_code_checks_limits() {
    let plain = engine(false, false, false);
    let artifact = plain.precompile_module(RUNAWAY.as_bytes()).unwrap();
    for (fuel, epochs, setting) in [
        (true, false, "consume-fuel"),
        (false, true, "epoch-interruption"),
    ] {
        let limited = engine(false, fuel, epochs);
        // SAFETY: the artifact was made by this build; it is refused.
        let error = unsafe { Module::deserialize(&limited, &artifact) }.unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("{setting} false (artifact) vs true (engine)")),
            "{error}"
        );
        // And the other way round.
        let artifact = limited.precompile_module(RUNAWAY.as_bytes()).unwrap();
        // SAFETY: the artifact was made by this build; it is refused.
        let error = unsafe { Module::deserialize(&plain, &artifact) }.unwrap_err();
        assert!(error.to_string().contains(setting), "{error}");
    }
}
