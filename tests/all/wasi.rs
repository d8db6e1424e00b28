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
