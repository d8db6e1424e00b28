//! WASI through the library, as an embedder uses it: a context built in
//! code, stdio redirected to a pipe, exit statuses as errors.

use std::io::Read;
use std::os::fd::OwnedFd;

use cljit::wasi::{DirAccess, WasiCtx};
use cljit::{Engine, Linker, Module, Store};

fn pipe() -> (std::fs::File, OwnedFd) {
    let (r, w) = std::io::pipe().unwrap();
    (std::fs::File::from(OwnedFd::from(r)), OwnedFd::from(w))
}

#[test]
fn hello_writes_to_a_redirected_stdout() {
    let engine = Engine::default();
    let module = Module::from_file(&engine, "examples/hello.wat").unwrap();
    let (mut read, write) = pipe();
    let mut wasi = WasiCtx::builder();
    wasi.arg("hello").stdio(1, write);
    wasi.preopened_dir(".", ".", DirAccess::ReadOnly).unwrap();
    let mut store = Store::new(&engine, wasi.build().unwrap());
    let mut linker = Linker::new(&engine);
    cljit::wasi::add_to_linker(&mut linker, |cx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    start.call(&mut store, ()).unwrap();
    drop(store); // closes the guest's end of the pipe
    let mut out = String::new();
    read.read_to_string(&mut out).unwrap();
    assert_eq!(out, "Hello, world!\n");
}

#[test]
fn proc_exit_comes_back_as_an_exit_status() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (memory (export "memory") 1)
             (func (export "_start") (call $exit (i32.const 7)) unreachable))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, WasiCtx::builder().build().unwrap());
    let mut linker = Linker::new(&engine);
    cljit::wasi::add_to_linker(&mut linker, |cx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_func(&store, "_start").unwrap();
    let err = start.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(err.exit_status(), Some(7));
    assert!(err.as_trap().is_none());
}

#[test]
fn a_context_can_live_inside_the_embedders_own_state() {
    struct Host {
        calls: u32,
        wasi: WasiCtx,
    }
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
             (import "host" "count" (func $count))
             (memory (export "memory") 1)
             (func (export "run") (result i32)
               (call $count)
               (drop (call $sizes (i32.const 0) (i32.const 4)))
               (i32.load (i32.const 0))))"#,
    )
    .unwrap();
    let mut wasi = WasiCtx::builder();
    wasi.args(["a", "b", "c"]);
    let host = Host {
        calls: 0,
        wasi: wasi.build().unwrap(),
    };
    let mut store = Store::new(&engine, host);
    let mut linker = Linker::new(&engine);
    cljit::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    linker
        .func_wrap("host", "count", |mut caller: cljit::Caller<'_, Host>| {
            caller.data_mut().calls += 1;
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 3);
    assert_eq!(store.data().calls, 1);
}

/// Copies stdin to stdout, then writes `n` more bytes of `x` per call of
/// its `spew` export (for capture limits).
const ECHO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; iovec at 0: buffer at 64, 4000 bytes; result count at 16.
  (data (i32.const 0) "\40\00\00\00\a0\0f\00\00")
  (func (export "_start")
    (loop $l
      (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
      (if (i32.load (i32.const 16))
        (then
          ;; write back exactly what was read
          (i32.store (i32.const 4) (i32.load (i32.const 16)))
          (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
          (i32.store (i32.const 4) (i32.const 4000))
          (br $l)))))
)"#;

/// Writes 64 KiB of `x` to stdout and stderr `n` times, returning the last
/// errno of each (0, or 51 = nospc once a capture is full).
const SPEW: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "\00\00\01\00\00\00\01\00")
  (func (export "_initialize") (memory.fill (i32.const 65536) (i32.const 120) (i32.const 65536)))
  (func (export "spew") (param i32) (result i32)
    (local $errno i32)
    (loop $l
      (local.set $errno (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get $errno))
)"#;

fn wasi_instance(wasm: &str, wasi: WasiCtx) -> (Store<WasiCtx>, cljit::Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wasm).unwrap();
    let mut store = Store::new(&engine, wasi);
    let mut linker = Linker::new(&engine);
    cljit::wasi::add_to_linker(&mut linker, |cx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn stdin_from_bytes_and_stdout_captured_in_memory() {
    let out = cljit::wasi::MemoryOutput::default();
    let input: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let mut wasi = WasiCtx::builder();
    wasi.stdin_bytes(input.clone()).stdout_capture(&out);
    let (mut store, instance) = wasi_instance(ECHO, wasi.build().unwrap());
    assert_eq!(
        cljit::wasi::start(&mut store, instance, |cx| cx).unwrap(),
        0
    );
    assert_eq!(out.take(), input);
    assert!(!out.truncated());
}

#[test]
fn a_capture_keeps_its_limit_and_never_blocks() {
    let (out, err) = (
        cljit::wasi::MemoryOutput::new(100_000),
        cljit::wasi::MemoryOutput::new(1 << 20),
    );
    let mut wasi = WasiCtx::builder();
    wasi.stdout_capture(&out).stderr_capture(&err);
    let (mut store, instance) = wasi_instance(SPEW, wasi.build().unwrap());
    cljit::wasi::initialize(&mut store, instance, |cx| cx).unwrap();
    let spew = instance.get_typed_func::<i32, i32>(&store, "spew").unwrap();
    // 160 writes of 64 KiB (10 MiB) to each: stdout keeps 100,000 bytes and
    // then says `nospc` (51); stderr keeps its mebibyte.
    assert_eq!(spew.call(&mut store, 160).unwrap(), 51);
    assert_eq!(out.len(), 100_000);
    assert!(out.truncated());
    assert_eq!(err.len(), 1 << 20);
    let mut buf = vec![0; 10];
    assert_eq!(err.read(&mut buf), 10);
    assert_eq!(buf, b"xxxxxxxxxx");
    assert_eq!(err.len(), (1 << 20) - 10);
}

#[test]
fn start_and_initialize_refuse_what_node_refuses() {
    let exit7 = r#"(module
         (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
         (memory (export "memory") 1)
         (func (export "_start") (call $exit (i32.const 7)) unreachable))"#;
    // A command: start returns the exit status, and only once.
    let (mut store, instance) = wasi_instance(exit7, WasiCtx::builder().build().unwrap());
    let error = cljit::wasi::initialize(&mut store, instance, |cx| cx).unwrap_err();
    assert!(error.to_string().contains("exports `_start`"), "{error}");
    assert_eq!(
        cljit::wasi::start(&mut store, instance, |cx| cx).unwrap(),
        7
    );
    assert_eq!(store.data().exit_code(), Some(7));
    let error = cljit::wasi::start(&mut store, instance, |cx| cx).unwrap_err();
    assert!(error.to_string().contains("already started"), "{error}");
    // A reactor: initialize, not start.
    let (mut store, instance) = wasi_instance(SPEW, WasiCtx::builder().build().unwrap());
    let error = cljit::wasi::start(&mut store, instance, |cx| cx).unwrap_err();
    assert!(
        error.to_string().contains("exports `_initialize`"),
        "{error}"
    );
    cljit::wasi::initialize(&mut store, instance, |cx| cx).unwrap();
    let error = cljit::wasi::initialize(&mut store, instance, |cx| cx).unwrap_err();
    assert!(error.to_string().contains("already started"), "{error}");
    // Neither: no `_start`, or no memory.
    let (mut store, instance) = wasi_instance(
        r#"(module (memory (export "memory") 1))"#,
        WasiCtx::builder().build().unwrap(),
    );
    let error = cljit::wasi::start(&mut store, instance, |cx| cx).unwrap_err();
    assert!(error.to_string().contains("no `_start`"), "{error}");
    let (mut store, instance) = wasi_instance(
        r#"(module (func (export "_start")))"#,
        WasiCtx::builder().build().unwrap(),
    );
    let error = cljit::wasi::start(&mut store, instance, |cx| cx).unwrap_err();
    assert!(error.to_string().contains("no `memory`"), "{error}");
    // A trap is an error, not a status.
    let (mut store, instance) = wasi_instance(
        r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#,
        WasiCtx::builder().build().unwrap(),
    );
    let error = cljit::wasi::start(&mut store, instance, |cx| cx).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::UnreachableCodeReached));
    assert_eq!(store.data().exit_code(), None);
}
