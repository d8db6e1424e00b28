//! A fault that is not a wasm trap must stay a crash: the signal handler
//! forwards it to the previous handler. Checked in a child process (this
//! same test binary, re-run with an environment variable) that must die.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use cljit::{Func, Instance, Module, Store};

use crate::engine;

const HELPER: &str = "CLJIT_CRASH_HELPER";

fn fault() {
    // SAFETY: not safe at all: this dereferences null on purpose, to check
    // that a real crash is not turned into a trap.
    unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
}

/// Runs in the child: fault in host code called from wasm, or with no wasm
/// on the stack.
#[test]
#[ignore = "run in a child process by faults_outside_wasm_code_still_crash"]
fn crash_helper() {
    let mode = std::env::var(HELPER).expect("run by faults_outside_wasm_code_still_crash");
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    if mode == "outside" {
        fault();
    }
    let crash = Func::wrap(&mut store, fault);
    let module = Module::new(
        &engine,
        r#"(module (import "" "f" (func $f)) (func (export "run") (call $f)))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[crash.into()]).unwrap();
    let run = instance.get_typed_func::<(), ()>(&store, "run").unwrap();
    let _ = run.call(&mut store, ());
    unreachable!("the fault must kill the process");
}

#[test]
fn faults_outside_wasm_code_still_crash() {
    for mode in ["outside", "in-host-function"] {
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash::crash_helper",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HELPER, mode)
            .output()
            .unwrap()
            .status;
        assert_eq!(status.signal(), Some(libc::SIGSEGV), "{mode}: {status:?}");
    }
}
