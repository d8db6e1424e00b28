//! `.wat` programs for ABI edges, the older `wasi_unstable` module,
//! reactors and preloads, and link errors.

use crate::support::*;

#[test]
fn bad_guest_pointers_get_efault() {
    let dir = TempDir::new("efault");
    let o = run(&[
        "run",
        "--dir",
        &dir.as_dir("."),
        wat("efault").to_str().unwrap(),
    ]);
    // The exit status names the first check that failed.
    assert_eq!(
        o.status.code(),
        Some(0),
        "check {:?} failed",
        o.status.code()
    );
    assert_eq!(stdout(&o), "ok\n");
    assert_eq!(stderr(&o), "");
}

#[test]
fn wasi_unstable_abi() {
    let dir = TempDir::new("unstable");
    std::fs::write(dir.path().join("ten.txt"), "0123456789").unwrap();
    let o = run(&[
        "run",
        "--dir",
        &dir.as_dir("."),
        wat("unstable").to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "check {:?} failed",
        o.status.code()
    );
    assert_eq!(stdout(&o), "ok\n");
}

#[test]
fn reactors_run_initialize_then_the_invoked_export() {
    let o = run(&["run", "--invoke", "get", wat("reactor").to_str().unwrap()]);
    assert_eq!(stdout(&o), "42\n", "{}", stderr(&o));
    let o = run(&["run", "--invoke", "greet", wat("reactor").to_str().unwrap()]);
    assert_eq!(stdout(&o), "hello again\n0\n", "{}", stderr(&o));
}

#[test]
fn preloaded_reactors_are_initialized_and_linked() {
    let preload = format!("lib={}", wat("reactor").display());
    let o = run(&[
        "run",
        "--preload",
        &preload,
        wat("uses_reactor").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(42), "{}", stderr(&o));
}

#[test]
fn link_errors_list_every_missing_import() {
    let dir = TempDir::new("link");
    let path = dir.path().join("missing.wat");
    std::fs::write(
        &path,
        r#"(module
             (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
             (import "wasi_snapshot_preview1" "no_such_call" (func))
             (import "env" "f" (func (param i32)))
             (import "env" "mem" (memory 1))
             (func (export "_start")))"#,
    )
    .unwrap();
    let o = run(&["run", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: failed to instantiate"), "{err}");
    assert!(
        err.contains("unknown imports: 3 have not been defined"),
        "{err}"
    );
    for needle in [
        "`wasi_snapshot_preview1::no_such_call` (function)",
        "`env::f` (function)",
        "`env::mem` (memory)",
    ] {
        assert!(err.contains(needle), "missing {needle} in {err}");
    }
    assert!(!err.contains("fd_write"), "{err}");
}

#[test]
fn wrong_wasi_signature_is_a_link_error() {
    let dir = TempDir::new("sig");
    let path = dir.path().join("sig.wat");
    std::fs::write(
        &path,
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32)))
                   (memory (export "memory") 1) (func (export "_start")))"#,
    )
    .unwrap();
    let o = run(&["run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("incompatible import type"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_wasi_call_without_an_exported_memory_is_an_error_not_a_crash() {
    let dir = TempDir::new("nomem");
    let path = dir.path().join("nomem.wat");
    std::fs::write(
        &path,
        r#"(module (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
                   (func (export "_start") (drop (call $r (i32.const 0) (i32.const 0)))))"#,
    )
    .unwrap();
    let o = run(&["run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("export its memory"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn the_readme_hello_example_runs() {
    let o = run(&["run", "examples/hello.wat"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, world!\n");
}
