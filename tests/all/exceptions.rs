//! Wasm exceptions at the host boundary: an uncaught exception reaches the
//! host as an error carrying its tag and payload; a host function throws
//! into wasm, which catches it; an exception crosses wasm → host → wasm
//! when the host passes it on; and exceptions on many threads at once each
//! land in their own handlers.

use std::sync::Arc;

use cljit::{
    Caller, Error, ExnRef, Func, FuncType, Instance, Linker, Module, Store, Tag, Val, ValType,
};

use crate::engine;

const GUEST: &str = r#"
(module
  (import "host" "tag" (tag $host_tag (param i64)))
  (import "host" "call_back" (func $call_back (param i32) (result i32)))
  (import "host" "throws" (func $throws (param i64)))
  (tag $e (export "e") (param i32 f64))
  (func (export "throw_e") (param i32)
    (throw $e (local.get 0) (f64.const 2.5)))
  ;; Catches the host's tag thrown by the host function.
  (func (export "catch_host") (param i64) (result i64)
    (block $h (result i64)
      (try_table (catch $host_tag $h)
        (call $throws (local.get 0)))
      (i64.const -1)))
  ;; Calls the host, which calls `throw_e` back and passes its exception
  ;; on: caught here, across the host frames.
  (func (export "through_host") (param i32) (result i32)
    (block $h (result i32 f64)
      (try_table (catch $e $h)
        (drop (call $call_back (local.get 0))))
      (return (i32.const -1)))
    (drop))
  ;; Throws, with many frames in between, the payload passing through.
  (func $down (param i32) (param i32)
    (if (i32.eqz (local.get 0))
      (then (throw $e (local.get 1) (f64.const 0)))
      (else (call $down (i32.sub (local.get 0) (i32.const 1)) (local.get 1)))))
  (func (export "loop_throws") (param i32) (result i32)
    (local $i i32) (local $sum i32)
    (loop $l
      (block $h (result i32 f64)
        (try_table (catch $e $h)
          (call $down (i32.const 20) (local.get $i)))
        (unreachable))
      (drop)
      (local.set $sum (i32.add (local.get $sum)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $sum))
)
"#;

/// A linker with the host's tag and functions; `call_back` calls the
/// guest's `throw_e` through the caller's exports.
fn linker(store: &mut Store<()>, host_tag: Tag) -> Linker<()> {
    let mut linker = Linker::new(store.engine());
    linker.define("host", "tag", host_tag).unwrap();
    let throws = Func::wrap(
        &mut *store,
        move |mut caller: Caller<'_, ()>, v: i64| -> cljit::Result<()> {
            let exn = ExnRef::new(&mut caller, &host_tag, &[Val::I64(v * 2)])?;
            Err(Error::exception(exn))
        },
    );
    linker.define("host", "throws", throws).unwrap();
    linker
        .func_wrap(
            "host",
            "call_back",
            |mut caller: Caller<'_, ()>, v: i32| -> cljit::Result<i32> {
                let throw_e = caller
                    .get_export("throw_e")
                    .and_then(|e| e.into_func())
                    .ok_or_else(|| Error::msg("no throw_e"))?;
                throw_e.call(&mut caller, &[Val::I32(v)], &mut [])?;
                Ok(0)
            },
        )
        .unwrap();
    linker
}

fn setup(explicit: bool) -> (Store<()>, Instance) {
    let engine = engine(explicit);
    let module = Module::new(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, ());
    let host_tag = Tag::new(&mut store, &FuncType::new([ValType::I64], [])).unwrap();
    let linker = linker(&mut store, host_tag);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn uncaught_exceptions_reach_the_host_with_tag_and_payload() {
    for explicit in [false, true] {
        let (mut store, instance) = setup(explicit);
        let throw_e = instance.get_func(&store, "throw_e").unwrap();
        let error = throw_e
            .call(&mut store, &[Val::I32(17)], &mut [])
            .unwrap_err();
        let exn = error.as_exception().expect("an exception");
        let tag = instance
            .get_export(&store, "e")
            .and_then(|e| e.into_tag())
            .unwrap();
        assert_eq!(exn.tag(&store), tag);
        let values = exn.values(&store);
        assert_eq!(values[0].i32(), Some(17));
        assert_eq!(values[1].f64(), Some(2.5));
        assert!(
            error.to_string().starts_with("uncaught wasm exception\n"),
            "{error}"
        );
        // Where it was thrown: `throw_e`, function 2 (after two imports).
        let frames = error.backtrace().expect("a backtrace").frames();
        assert_eq!(frames.len(), 1, "{error}");
        assert_eq!(frames[0].func_index, 2);
        assert!(frames[0].wasm_offset.is_some());
        // The store is usable afterwards.
        let catch_host = instance.get_func(&store, "catch_host").unwrap();
        let mut out = [Val::I64(0)];
        catch_host
            .call(&mut store, &[Val::I64(21)], &mut out)
            .unwrap();
        assert_eq!(out[0].i64(), Some(42), "caught the host's exception");
    }
}

#[test]
fn exceptions_cross_host_frames_when_the_host_passes_them_on() {
    let (mut store, instance) = setup(false);
    let through = instance.get_func(&store, "through_host").unwrap();
    let mut out = [Val::I32(0)];
    through.call(&mut store, &[Val::I32(5)], &mut out).unwrap();
    assert_eq!(out[0].i32(), Some(5));
}

#[test]
fn host_made_exceptions_check_their_payload() {
    let (mut store, _) = setup(false);
    let tag = Tag::new(&mut store, &FuncType::new([ValType::I32], [])).unwrap();
    assert!(ExnRef::new(&mut store, &tag, &[]).is_err());
    assert!(ExnRef::new(&mut store, &tag, &[Val::I64(1)]).is_err());
    let exn = ExnRef::new(&mut store, &tag, &[Val::I32(3)]).unwrap();
    assert_eq!(exn.tag(&store), tag);
    assert_eq!(exn.values(&store)[0].i32(), Some(3));
    assert!(Tag::new(&mut store, &FuncType::new([], [ValType::I32])).is_err());
}

#[test]
fn threads_throw_and_catch_independently() {
    let engine = engine(false);
    let module = Arc::new(Module::new(&engine, GUEST).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (engine, module) = (engine.clone(), Arc::clone(&module));
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let host_tag = Tag::new(&mut store, &FuncType::new([ValType::I64], [])).unwrap();
                let linker = linker(&mut store, host_tag);
                let instance = linker.instantiate(&mut store, &module).unwrap();
                let f = instance
                    .get_typed_func::<i32, i32>(&store, "loop_throws")
                    .unwrap();
                let n = 2_000 + t;
                let sum = f.call(&mut store, n).unwrap();
                assert_eq!(sum, (0..n).sum::<i32>(), "thread {t}");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
