//! Lazy compilation: functions compile on first call, from any thread, and
//! behave as eagerly compiled ones do (results, traps, backtraces).

use std::sync::{Arc, Barrier};

use cljit::{Config, Engine, Instance, Module, Store, Trap};

fn lazy_engine() -> Engine {
    let mut config = Config::new();
    config.lazy_compilation(true);
    Engine::new(&config).expect("valid configuration")
}

/// A chain of `n` functions, each calling the previous: `f{i}()` is `i + 1`
/// computed through every function below it.
fn chain(n: usize) -> Vec<u8> {
    let mut wat = String::from("(module\n");
    for i in 0..n {
        let body = if i == 0 {
            "(i32.const 1)".to_string()
        } else {
            format!("(i32.add (call $f{}) (i32.const 1))", i - 1)
        };
        wat.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (result i32) {body})\n"
        ));
    }
    wat.push(')');
    wat::parse_str(&wat).unwrap()
}

#[test]
fn functions_compile_when_first_called() {
    let engine = lazy_engine();
    let module = Module::new(&engine, chain(50)).unwrap();
    assert!(module.is_lazy());
    assert_eq!(module.lazily_compiled(), 0, "nothing runs at load");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    assert_eq!(module.lazily_compiled(), 0, "nor at instantiation");
    let f9 = instance.get_typed_func::<(), i32>(&store, "f9").unwrap();
    assert_eq!(f9.call(&mut store, ()).unwrap(), 10);
    assert_eq!(module.lazily_compiled(), 10, "f0 to f9, each once");
    assert_eq!(f9.call(&mut store, ()).unwrap(), 10);
    let f49 = instance.get_typed_func::<(), i32>(&store, "f49").unwrap();
    assert_eq!(f49.call(&mut store, ()).unwrap(), 50);
    assert_eq!(module.lazily_compiled(), 50);
    // A second instance shares the compiled code.
    let other = Instance::new(&mut store, &module, &[]).unwrap();
    let f49 = other.get_typed_func::<(), i32>(&store, "f49").unwrap();
    assert_eq!(f49.call(&mut store, ()).unwrap(), 50);
    assert_eq!(module.lazily_compiled(), 50);
}

#[test]
fn small_modules_stay_eager_below_the_threshold() {
    let mut config = Config::new();
    config.lazy_compilation(true).lazy_min_code_bytes(1 << 20);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, chain(3)).unwrap();
    assert!(!module.is_lazy());
    let engine = lazy_engine();
    assert!(Module::new(&engine, chain(3)).unwrap().is_lazy());
    assert!(
        !Module::new(&crate::engine(false), chain(3))
            .unwrap()
            .is_lazy()
    );
}

#[test]
fn invalid_bodies_are_refused_before_anything_runs() {
    let engine = lazy_engine();
    // The second function's body is invalid: eager validation finds it
    // although nothing would ever call it.
    let binary = wat::parse_str(
        r#"(module
             (func (export "ok") (result i32) (i32.const 1))
             (func (result i32) (i64.const 1)))"#,
    );
    let binary = match binary {
        Ok(b) => b,
        Err(e) => panic!("the text parses: {e}"),
    };
    let err = Module::new(&engine, binary).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
}

#[test]
fn indirect_calls_tables_and_arguments_reach_lazy_code() {
    let engine = lazy_engine();
    // Many arguments of every class (some on the stack), through a table,
    // `call_ref` and a return_call: the stub must hand all of them on.
    let wat = r#"(module
      (type $t (func (param i32 i64 f32 f64 v128 i32 i64 f32 f64 i32 i64 f64 f64 f64 f64 f64 f64 f64) (result f64)))
      (table funcref (elem $sum $via))
      (func $sum (type $t)
        (f64.add
          (f64.add
            (f64.add (f64.convert_i32_s (local.get 0)) (f64.convert_i64_s (local.get 1)))
            (f64.add (f64.promote_f32 (local.get 2)) (local.get 3)))
          (f64.add
            (f64.add
              (f64.add (f64.convert_i32_s (i32x4.extract_lane 3 (local.get 4)))
                       (f64.convert_i32_s (local.get 5)))
              (f64.add (f64.convert_i64_s (local.get 6)) (f64.promote_f32 (local.get 7))))
            (f64.add
              (f64.add (local.get 8) (f64.convert_i32_s (local.get 9)))
              (f64.add (f64.convert_i64_s (local.get 10))
                (f64.add (local.get 11)
                  (f64.add (local.get 12)
                    (f64.add (local.get 13)
                      (f64.add (local.get 14)
                        (f64.add (local.get 15) (f64.add (local.get 16) (local.get 17))))))))))))
      (func $via (type $t)
        (return_call $sum (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
          (local.get 5) (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 10)
          (local.get 11) (local.get 12) (local.get 13) (local.get 14) (local.get 15) (local.get 16)
          (local.get 17)))
      (func (export "go") (param i32) (result f64)
        (call_indirect (type $t)
          (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4) (v128.const i32x4 0 0 0 5)
          (i32.const 6) (i64.const 7) (f32.const 8) (f64.const 9) (i32.const 10) (i64.const 11)
          (f64.const 12) (f64.const 13) (f64.const 14) (f64.const 15) (f64.const 16) (f64.const 17)
          (f64.const 18)
          (local.get 0)))
      (func (export "by_ref") (result f64)
        (call_ref $t
          (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4) (v128.const i32x4 0 0 0 5)
          (i32.const 6) (i64.const 7) (f32.const 8) (f64.const 9) (i32.const 10) (i64.const 11)
          (f64.const 12) (f64.const 13) (f64.const 14) (f64.const 15) (f64.const 16) (f64.const 17)
          (f64.const 18)
          (ref.func $via)))
      (elem declare func $via))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let go = instance.get_typed_func::<i32, f64>(&store, "go").unwrap();
    assert_eq!(go.call(&mut store, 1).unwrap(), 171.0, "through $via");
    assert_eq!(go.call(&mut store, 0).unwrap(), 171.0, "straight to $sum");
    let by_ref = instance
        .get_typed_func::<(), f64>(&store, "by_ref")
        .unwrap();
    assert_eq!(by_ref.call(&mut store, ()).unwrap(), 171.0);
}

#[test]
fn traps_in_lazy_code_have_backtraces() {
    let engine = lazy_engine();
    let wat = r#"(module
      (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
      (func $middle (param i32) (result i32) (call $inner (local.get 0)))
      (func (export "outer") (param i32) (result i32) (call $middle (local.get 0))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .unwrap();
    assert_eq!(outer.call(&mut store, 1).unwrap(), 1);
    let err = outer.call(&mut store, 0).unwrap_err();
    assert_eq!(err.as_trap(), Some(Trap::IntegerDivisionByZero), "{err}");
    let frames = err.backtrace().expect("a trap has a backtrace").frames();
    let indices: Vec<u32> = frames.iter().map(|f| f.func_index).collect();
    assert_eq!(indices, [0, 1, 2], "{err}");
    assert!(frames.iter().all(|f| f.wasm_offset.is_some()), "{err}");
}

#[test]
fn many_threads_call_the_same_uncompiled_function() {
    let engine = lazy_engine();
    let module = Module::new(&engine, chain(200)).unwrap();
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, module, barrier) = (engine.clone(), module.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let name = if t % 2 == 0 { "f199" } else { "f150" };
                let f = instance.get_typed_func::<(), i32>(&store, name).unwrap();
                barrier.wait();
                f.call(&mut store, ()).unwrap()
            })
        })
        .collect();
    for (t, handle) in handles.into_iter().enumerate() {
        let expected = if t % 2 == 0 { 200 } else { 151 };
        assert_eq!(handle.join().unwrap(), expected);
    }
    assert_eq!(module.lazily_compiled(), 200, "each function placed once");
}

#[test]
fn a_module_file_compiles_lazily_from_the_bytes_read() {
    let engine = lazy_engine();
    let dir = std::env::temp_dir().join(format!("cljit-lazy-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("chain.wasm");
    std::fs::write(&path, chain(300)).unwrap();
    let module = Module::from_file(&engine, &path).unwrap();
    // The file may go: the module keeps the bytes it read.
    std::fs::remove_file(&path).unwrap();
    assert!(module.is_lazy());
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f299").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 300);
    // An invalid body in a file is refused whole, with its offset.
    let invalid = wat::parse_str(
        r#"(module
             (func (export "ok") (result i32) (i32.const 1))
             (func (result i32) (i64.const 1)))"#,
    )
    .unwrap();
    std::fs::write(&path, &invalid).unwrap();
    let err = Module::from_file(&engine, &path).unwrap_err().to_string();
    assert!(err.contains("type mismatch"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lazy_code_is_written_through_a_view_that_never_runs() {
    let engine = lazy_engine();
    let module = Module::new(&engine, chain(300)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f299").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 300);
    assert_eq!(module.lazily_compiled(), 300);
    // The code's memory is mapped twice: where it runs (read, execute) and
    // where it is written (read, write); no page of the process is ever
    // writable and executable at once.
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let perms = |line: &str| line.split_whitespace().nth(1).unwrap_or("").to_string();
    let views: Vec<String> = maps
        .lines()
        .filter(|l| l.contains("cljit-lazy-code"))
        .map(perms)
        .collect();
    assert!(views.iter().any(|p| p == "r-xs"), "{views:?}");
    assert!(views.iter().any(|p| p == "rw-s"), "{views:?}");
    for line in maps.lines() {
        let p = perms(line);
        assert!(
            !(p.contains('w') && p.contains('x')),
            "a writable and executable mapping: {line}"
        );
    }
}

#[test]
fn lazy_compilation_on_a_small_thread_stack() {
    // A thread with little stack left still compiles: the compile moves to
    // a thread of its own.
    let engine = lazy_engine();
    let module = Module::new(&engine, chain(20)).unwrap();
    let result = std::thread::Builder::new()
        .stack_size(600 * 1024)
        .spawn(move || {
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let f = instance.get_typed_func::<(), i32>(&store, "f19").unwrap();
            f.call(&mut store, ()).unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, 20);
}

fn tier_up_engine(threshold: u32) -> Engine {
    let mut config = Config::new();
    config
        .lazy_compilation(true)
        .lazy_tier_up_threshold(threshold)
        .lazy_tier_up_sync(true);
    Engine::new(&config).expect("valid configuration")
}

#[test]
fn hot_functions_tier_up_and_trap_the_same_in_both_tiers() {
    let engine = tier_up_engine(100);
    // $work loops `n` times and divides by zero at iteration `at`: found
    // hot mid-loop (at the 100th count), so the first call traps in the
    // fast code still running, the second in the optimised code.
    let wat = r#"(module
      (func $work (param $n i32) (param $at i32) (result i32)
        (local $i i32) (local $sum i32)
        (loop $l
          (local.set $sum
            (i32.add (local.get $sum)
              (i32.div_s (i32.const 1000) (i32.sub (local.get $i) (local.get $at)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $sum))
      (func $cold (result i32) (i32.const 7))
      (func (export "outer") (param i32 i32) (result i32)
        (i32.add (call $cold) (call $work (local.get 0) (local.get 1)))))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let outer = instance
        .get_typed_func::<(i32, i32), i32>(&store, "outer")
        .unwrap();
    for _ in 0..2 {
        let err = outer.call(&mut store, (1000, 500)).unwrap_err();
        assert_eq!(err.as_trap(), Some(Trap::IntegerDivisionByZero), "{err}");
        let frames = err.backtrace().expect("a backtrace").frames();
        let indices: Vec<u32> = frames.iter().map(|f| f.func_index).collect();
        assert_eq!(indices, [0, 2], "{err}");
        assert!(frames.iter().all(|f| f.wasm_offset.is_some()), "{err}");
        assert_eq!(module.tiered_up(), 1, "only $work is hot");
    }
    // The optimised code computes what the fast code did: the same sums
    // (i - at is never zero when at >= n).
    let expected: i32 = (0..300).map(|i: i32| 1000 / (i - 400)).sum();
    assert_ne!(expected, 0);
    assert_eq!(outer.call(&mut store, (300, 400)).unwrap(), 7 + expected);
    let fresh = Module::new(&crate::engine(false), wat).unwrap();
    let mut store = Store::new(fresh.engine(), ());
    let eager = Instance::new(&mut store, &fresh, &[]).unwrap();
    let eager = eager
        .get_typed_func::<(i32, i32), i32>(&store, "outer")
        .unwrap();
    assert_eq!(eager.call(&mut store, (300, 400)).unwrap(), 7 + expected);
}

#[test]
fn tier_up_in_the_background_switches_callers() {
    let mut config = Config::new();
    config.lazy_compilation(true).lazy_tier_up_threshold(50);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, chain(5)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f4 = instance.get_typed_func::<(), i32>(&store, "f4").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // Keep calling while the background thread recompiles: every result
    // is right whichever tier answers.
    while module.tiered_up() < 5 {
        assert_eq!(f4.call(&mut store, ()).unwrap(), 5);
        assert!(
            std::time::Instant::now() < deadline,
            "tier-up never happened"
        );
    }
    assert_eq!(f4.call(&mut store, ()).unwrap(), 5);
}

#[test]
fn functions_with_huge_fast_frames_are_optimised_at_once() {
    // 3,000 values live across blocks: the fast tier gives each a stack
    // slot (a frame far beyond 16 KiB), so the function is optimised on
    // its first call (tier-up being off, nothing else could), and
    // recursion through it runs in the optimised code.
    let n = 3000;
    let mut wat = String::from("(module (func $big (export \"big\") (param $d i32) (result i64)\n");
    for i in 0..n {
        wat.push_str(&format!("(local $l{i} i64)"));
    }
    for i in 0..n {
        wat.push_str(&format!(
            "(local.set $l{i} (i64.extend_i32_u (i32.add (local.get $d) (i32.const {i}))))"
        ));
    }
    wat.push_str("(if (local.get $d) (then (local.set $l0 (i64.add (local.get $l0) (call $big (i32.sub (local.get $d) (i32.const 1)))))))");
    wat.push_str("(loop $again (br_if $again (i32.eqz (i32.const 1))))");
    let mut sum = String::from("(local.get $l0)");
    for i in 1..n {
        sum = format!("(i64.add {sum} (local.get $l{i}))");
    }
    wat.push_str(&sum);
    wat.push_str("))");
    let mut config = Config::new();
    config.lazy_compilation(true).lazy_tier_up_threshold(0);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let big = instance.get_typed_func::<i32, i64>(&store, "big").unwrap();
    let expected = |d: i64| -> i64 { (0..3000).map(|i| d + i).sum() };
    assert_eq!(big.call(&mut store, 0).unwrap(), expected(0));
    assert_eq!(module.lazily_compiled(), 1);
    assert_eq!(
        module.tiered_up(),
        1,
        "optimised at once, tier-up being off"
    );
    let total: i64 = (0..=40).map(expected).sum();
    assert_eq!(big.call(&mut store, 40).unwrap(), total);
}

#[test]
fn code_far_from_its_stubs_calls_them_through_veneers() {
    // 256 MiB between the stubs and the code: beyond an AArch64 `bl`, so
    // every call from compiled code to a stub goes through a veneer there
    // (x86-64's 32-bit calls reach it directly). Direct calls, recursion,
    // an indirect call, and the optimised tier (hot after one call) too.
    let wat = r#"(module
      (type $t (func (param i32) (result i32)))
      (table 1 funcref)
      (elem (i32.const 0) $double)
      (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
      (func $sum (export "sum") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (i32.add
            (call_indirect (type $t) (local.get 0) (i32.const 0))
            (call $sum (i32.sub (local.get 0) (i32.const 1))))))))"#;
    for tier_up in [0, 1] {
        let mut config = Config::new();
        config
            .lazy_compilation(true)
            .lazy_code_offset(256 << 20)
            .lazy_tier_up_threshold(tier_up)
            .lazy_tier_up_sync(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wat).unwrap();
        assert!(module.is_lazy(), "the region fits");
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let sum = instance.get_typed_func::<i32, i32>(&store, "sum").unwrap();
        for _ in 0..3 {
            assert_eq!(sum.call(&mut store, 100).unwrap(), 100 * 101);
        }
        assert_eq!(module.lazily_compiled(), 2);
        assert_eq!(module.tiered_up(), if tier_up == 1 { 2 } else { 0 });
    }
    // A region too large for the architecture's reach is refused, and
    // the module compiles whole.
    let mut config = Config::new();
    config.lazy_compilation(true).lazy_code_offset(8 << 30);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    assert!(!module.is_lazy());
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let sum = instance.get_typed_func::<i32, i32>(&store, "sum").unwrap();
    assert_eq!(sum.call(&mut store, 10).unwrap(), 110);
}

#[test]
fn invalid_bodies_are_refused_at_load_as_eagerly_and_gc_compiles_lazily() {
    // Lazily, an invalid body must be refused when the module loads, not
    // when the function is first called (if ever), with the eager error.
    let wat = r#"(module
        (func (export "unused") (param i32) (result i32)
            (i32.add (i32.const 1) (i64.const 2)))
        (func (export "f") (result i32) (i32.const 1)))"#;
    let lazy = Module::new(&lazy_engine(), wat).unwrap_err().to_string();
    let eager = Module::new(&Engine::default(), wat)
        .unwrap_err()
        .to_string();
    assert_eq!(lazy, eager);
    assert!(lazy.contains("type mismatch"), "{lazy}");

    let gc = r#"(module
        (type $a (array (mut i32)))
        (func (export "len") (param i32) (result i32)
            (array.len (array.new_default $a (local.get 0)))))"#;
    let module = Module::new(&lazy_engine(), gc).unwrap();
    let mut store = Store::new(module.engine(), ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let len = instance.get_typed_func::<i32, i32>(&store, "len").unwrap();
    assert_eq!(len.call(&mut store, 9).unwrap(), 9);
}
