//! Every trap kind: the spec's message, a backtrace with names from the name
//! section, and a store that keeps working afterwards.

use cljit::{Error, Trap, Val};

use crate::{engine, instantiate};

const TRAPS: &str = r#"
(module $traps
  (memory 1)
  (table $t 2 funcref)
  (type $i (func (result i32)))
  (func $unreachable (export "unreachable") unreachable)
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32) (i64.store (local.get 0) (i64.const 1)))
  (func (export "table_get") (param i32) (result funcref) (table.get $t (local.get 0)))
  (func (export "call_indirect") (param i32) (result i32) (call_indirect (type $i) (local.get 0)))
  (func $inner (param i32) (result i32) (call $div (local.get 0) (i32.const 0)))
  (func $outer (export "nested") (param i32) (result i32) (call $inner (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (call $recurse (i32.add (local.get 0) (i32.const 1))))
  (func $returns_i64 (result i64) (i64.const 1))
  (func $returns_i32 (result i32) (i32.const 42))
  (elem (i32.const 0) $returns_i64 $returns_i32)
)
"#;

fn call(
    store: &mut cljit::Store<()>,
    instance: cljit::Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, Error> {
    let func = instance.get_func(&*store, name).expect("export exists");
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
    func.call(&mut *store, args, &mut results)?;
    Ok(results)
}

fn expect_trap(result: Result<Vec<Val>, Error>, trap: Trap) -> Error {
    let error = result.expect_err("expected a trap");
    assert_eq!(error.as_trap(), Some(trap), "wrong trap: {error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("wasm trap: {}", trap.message())),
        "{error}"
    );
    error
}

fn frame_names(error: &Error) -> Vec<String> {
    error
        .backtrace()
        .expect("traps carry a backtrace")
        .frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn every_trap_kind_has_its_spec_message_in_both_memory_modes() {
    for explicit in [false, true] {
        let engine = engine(explicit);
        let (mut store, instance) = instantiate(&engine, TRAPS);
        let s = &mut store;
        expect_trap(
            call(s, instance, "unreachable", &[]),
            Trap::UnreachableCodeReached,
        );
        expect_trap(
            call(s, instance, "div", &[Val::I32(1), Val::I32(0)]),
            Trap::IntegerDivisionByZero,
        );
        expect_trap(
            call(s, instance, "div", &[Val::I32(i32::MIN), Val::I32(-1)]),
            Trap::IntegerOverflow,
        );
        expect_trap(
            call(s, instance, "rem64", &[Val::I64(1), Val::I64(0)]),
            Trap::IntegerDivisionByZero,
        );
        expect_trap(
            call(s, instance, "trunc", &[Val::from(f64::NAN)]),
            Trap::BadConversionToInteger,
        );
        expect_trap(
            call(s, instance, "trunc", &[Val::from(3e10)]),
            Trap::IntegerOverflow,
        );
        expect_trap(
            call(s, instance, "load", &[Val::I32(65533)]),
            Trap::MemoryOutOfBounds,
        );
        expect_trap(
            call(s, instance, "load", &[Val::I32(-1)]),
            Trap::MemoryOutOfBounds,
        );
        expect_trap(
            call(s, instance, "store", &[Val::I32(65529)]),
            Trap::MemoryOutOfBounds,
        );
        expect_trap(
            call(s, instance, "table_get", &[Val::I32(2)]),
            Trap::TableOutOfBounds,
        );
        expect_trap(
            call(s, instance, "call_indirect", &[Val::I32(0)]),
            Trap::BadSignature,
        );
        expect_trap(
            call(s, instance, "call_indirect", &[Val::I32(2)]),
            Trap::IndirectCallOutOfBounds,
        );
        expect_trap(
            call(s, instance, "recurse", &[Val::I32(0)]),
            Trap::StackOverflow,
        );

        // The store and instance still work after all of that.
        let ok = call(s, instance, "call_indirect", &[Val::I32(1)]).expect("no trap");
        assert_eq!(ok[0].i32(), Some(42));
        let ok = call(s, instance, "div", &[Val::I32(9), Val::I32(3)]).expect("no trap");
        assert_eq!(ok[0].i32(), Some(3));
    }
}

#[test]
fn null_table_entry_is_an_uninitialized_element() {
    let (mut store, instance) = instantiate(
        &engine(false),
        r#"(module (table 1 funcref) (type $v (func))
             (func (export "f") (call_indirect (type $v) (i32.const 0))))"#,
    );
    expect_trap(
        call(&mut store, instance, "f", &[]),
        Trap::IndirectCallToNull,
    );
}

#[test]
fn backtraces_name_frames_innermost_first_with_offsets() {
    let (mut store, instance) = instantiate(&engine(false), TRAPS);
    let error = expect_trap(
        call(&mut store, instance, "nested", &[Val::I32(5)]),
        Trap::IntegerDivisionByZero,
    );
    assert_eq!(frame_names(&error), ["div", "inner", "outer"]);
    let frames = error.backtrace().unwrap().frames();
    assert!(frames.iter().all(|f| f.wasm_offset.is_some()));
    assert_eq!(frames[0].module_name.as_deref(), Some("traps"));
    let text = error.to_string();
    assert!(text.contains("wasm backtrace:"), "{text}");
    assert!(
        text.contains("traps!div") && text.contains("traps!outer"),
        "{text}"
    );
}

#[test]
fn deep_recursion_traps_with_a_truncated_backtrace() {
    let (mut store, instance) = instantiate(&engine(false), TRAPS);
    let error = expect_trap(
        call(&mut store, instance, "recurse", &[Val::I32(0)]),
        Trap::StackOverflow,
    );
    let backtrace = error.backtrace().unwrap();
    assert!(backtrace.is_truncated());
    assert!(
        backtrace
            .frames()
            .iter()
            .all(|f| f.func_name.as_deref() == Some("recurse"))
    );
    assert!(backtrace.frames().len() > 100);
}

#[test]
fn stack_budget_is_configurable() {
    let wat = r#"(module (func $f (export "depth") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1))))))))"#;
    let mut config = cljit::Config::new();
    config.max_wasm_stack(64 * 1024);
    let small = cljit::Engine::new(&config).unwrap();
    let (mut store, instance) = instantiate(&small, wat);
    expect_trap(
        call(&mut store, instance, "depth", &[Val::I32(100_000)]),
        Trap::StackOverflow,
    );
    let (mut store, instance) = instantiate(&engine(false), wat);
    let r = call(&mut store, instance, "depth", &[Val::I32(5_000)]).expect("fits in 512 KiB");
    assert_eq!(r[0].i32(), Some(5_000));
}

/// 16 threads trap at once, each in a loop and each with its own kind of
/// trap (a division, a memory fault through the signal handler, a stack
/// overflow), in both memory modes; every trap has the right kind and the
/// backtrace of its own thread's call chain.
#[test]
fn traps_are_caught_on_many_threads_at_once() {
    for explicit in [false, true] {
        let engine = engine(explicit);
        let module = cljit::Module::new(&engine, TRAPS).unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|thread| {
                let module = module.clone();
                let engine = engine.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let mut store = cljit::Store::new(&engine, ());
                    let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
                    barrier.wait();
                    for i in 0..100 {
                        let names = |e: &Error| -> Vec<String> {
                            e.backtrace()
                                .expect("a backtrace")
                                .frames()
                                .iter()
                                .map(|f| f.func_name.clone().unwrap_or_default())
                                .collect()
                        };
                        match thread % 3 {
                            0 => {
                                let e = call(&mut store, instance, "nested", &[Val::I32(i)])
                                    .unwrap_err();
                                assert_eq!(e.as_trap(), Some(Trap::IntegerDivisionByZero));
                                assert_eq!(names(&e), ["div", "inner", "outer"], "{thread}");
                                let r =
                                    call(&mut store, instance, "div", &[Val::I32(i), Val::I32(1)]);
                                assert_eq!(r.unwrap()[0].i32(), Some(i));
                            }
                            1 => {
                                let e = call(&mut store, instance, "load", &[Val::I32(65534 + i)])
                                    .unwrap_err();
                                assert_eq!(e.as_trap(), Some(Trap::MemoryOutOfBounds));
                                // `load` has no name: the frame gives its index.
                                let frames = e.backtrace().expect("a backtrace").frames();
                                let indices: Vec<u32> =
                                    frames.iter().map(|f| f.func_index).collect();
                                assert_eq!(indices, [4], "{thread}");
                            }
                            _ => {
                                if i % 10 != 0 {
                                    continue;
                                }
                                let e = call(&mut store, instance, "recurse", &[Val::I32(0)])
                                    .unwrap_err();
                                assert_eq!(e.as_trap(), Some(Trap::StackOverflow));
                                let names = names(&e);
                                assert!(names.len() > 100, "{thread}: {}", names.len());
                                assert!(names.iter().all(|n| n == "recurse"), "{thread}");
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread ok");
        }
    }
}

#[test]
fn frames_give_offsets_in_the_module_and_in_the_function() {
    let (mut store, instance) = instantiate(
        &engine(false),
        r#"(module
             (func $first (param i32) (result i32) (local.get 0))
             (func (export "boom") (nop) (nop) unreachable))"#,
    );
    let error = call(&mut store, instance, "boom", &[]).unwrap_err();
    let frame = &error.backtrace().unwrap().frames()[0];
    // The body is `00` (no locals), `01 01` (two nops), `00` (unreachable):
    // the trap is three bytes into it.
    assert_eq!(frame.func_offset, Some(3));
    let module_offset = frame.wasm_offset.unwrap();
    assert!(module_offset > 3, "{module_offset}");
}
