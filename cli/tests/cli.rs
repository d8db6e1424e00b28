//! The `cljit` binary as users run it: real processes, exit codes, output.
//!
//! These live with the binary (not in the workspace's `tests/`) because
//! Cargo gives a binary's path (`CARGO_BIN_EXE_cljit`) only to the tests of
//! its own package.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cljit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cljit"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("cljit runs")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Writes `contents` to a fresh temporary file named `name`.
fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cljit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure: the given exit code, one `error:` report, no
/// panic.
fn assert_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_threads_example_counts_primes_on_four_threads() {
    let o = cljit(&[
        "run",
        "-W",
        "threads=y",
        "-S",
        "threads=y",
        "examples/threads.wat",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "17984\n");
}

#[test]
fn invoke_prints_results() {
    let o = cljit(&["run", "--invoke", "fib", "examples/fib.wat", "30"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "832040\n");

    let wat = temp_file(
        "multi.wat",
        br#"(module (func (export "pair") (param i64 f32) (result i64 f64 f32)
              (i64.mul (local.get 0) (i64.const -2)) (f64.const 2.5) (local.get 1)))"#,
    );
    let o = cljit(&[
        "run",
        "--invoke",
        "pair",
        wat.to_str().unwrap(),
        "21",
        "0.25",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "-42\n2.5\n0.25\n");
}

#[test]
fn file_alone_is_short_for_run() {
    let o = cljit(&["examples/fib.wat"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = cljit(&["--invoke", "fib", "examples/fib.wat", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "55\n");
}

#[test]
fn start_runs_and_binary_modules_work() {
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "_start") (i32.store (i32.const 0) (i32.const 1))))"#,
    )
    .unwrap();
    let path = temp_file("start.wasm", &wasm);
    let o = cljit(&["run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn traps_exit_134_with_message_and_backtrace() {
    let wat = temp_file(
        "trap.wat",
        br#"(module
              (func $divide (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
              (func (export "div") (param i32 i32) (result i32) (call $divide (local.get 0) (local.get 1)))
              (func (export "_start") unreachable))"#,
    );
    let o = cljit(&["run", "--invoke", "div", wat.to_str().unwrap(), "1", "0"]);
    assert_error(&o, 134, "failed to invoke `div`");
    let err = stderr(&o);
    assert!(err.contains("wasm trap: integer divide by zero"), "{err}");
    assert!(
        err.contains("wasm backtrace:") && err.contains("divide"),
        "{err}"
    );

    let o = cljit(&["run", wat.to_str().unwrap()]);
    assert_error(&o, 134, "wasm trap: unreachable executed");
}

#[test]
fn bad_input_is_one_clear_error() {
    let o = cljit(&["run", "does-not-exist.wasm"]);
    assert_error(&o, 1, "failed to read `does-not-exist.wasm`");
    assert!(stderr(&o).contains("No such file"), "{}", stderr(&o));

    let garbage = temp_file("garbage.wasm", b"\0asm\x01\0\0\0\x05\x03\x01");
    let o = cljit(&["run", garbage.to_str().unwrap()]);
    assert_error(&o, 1, "invalid wasm at offset 0x");

    let o = cljit(&["run", "--invoke", "nope", "examples/fib.wat"]);
    assert_error(&o, 1, "failed to find an exported function `nope`");

    let o = cljit(&["run", "--invoke", "fib", "examples/fib.wat"]);
    assert_error(
        &o,
        1,
        "takes 1 argument(s) of type (func (param i32) (result i32)), but 0 were given",
    );

    let o = cljit(&["run", "--invoke", "fib", "examples/fib.wat", "ten"]);
    assert_error(&o, 1, "`ten` is not a valid i32");

    let importer = temp_file(
        "importer.wat",
        br#"(module (import "env" "missing" (func)))"#,
    );
    let o = cljit(&["run", importer.to_str().unwrap()]);
    assert_error(
        &o,
        1,
        "unknown import: `env::missing` (function) has not been defined",
    );

    let o = cljit(&["run", "--preload", "nonsense", "examples/fib.wat"]);
    assert_eq!(o.status.code(), Some(2), "clap usage error: {}", stderr(&o));
}

#[test]
fn preload_makes_exports_importable() {
    let lib = temp_file(
        "lib.wat",
        br#"(module (func (export "seven") (result i32) (i32.const 7)))"#,
    );
    let app = temp_file(
        "app.wat",
        br#"(module (import "lib" "seven" (func $s (result i32)))
              (func (export "run") (result i32) (i32.mul (call $s) (i32.const 6))))"#,
    );
    let preload = format!("lib={}", lib.display());
    let o = cljit(&[
        "run",
        "--preload",
        &preload,
        "--invoke",
        "run",
        app.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "42\n");
}

#[test]
fn wasm_feature_and_memory_flags() {
    let o = cljit(&["run", "-W", "stack-switching=y", "examples/fib.wat"]);
    assert_error(
        &o,
        1,
        "the stack-switching proposal is not supported by cljit yet",
    );
    let o = cljit(&["run", "-W", "warp-drive=y", "examples/fib.wat"]);
    assert_error(&o, 1, "unknown option `-W warp-drive`");
    let o = cljit(&[
        "run",
        "-O",
        "memory-reservation=0,memory-guard-size=0",
        "--invoke",
        "fib",
        "examples/fib.wat",
        "12",
    ]);
    assert_eq!(stdout(&o), "144\n", "{}", stderr(&o));

    let bulk = temp_file(
        "bulk.wat",
        br#"(module (memory 1) (func (export "f") (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))))"#,
    );
    let o = cljit(&["run", "--invoke", "f", bulk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cljit(&[
        "run",
        "-W",
        "bulk-memory=n,reference-types=n",
        "--invoke",
        "f",
        bulk.to_str().unwrap(),
    ]);
    assert_error(&o, 1, "bulk memory");
    assert!(
        stderr(&o).contains("note: the module uses the `bulk-memory` proposal, which is disabled; `-W bulk-memory=y` enables it"),
        "{}",
        stderr(&o)
    );
    // A 3.0 proposal cljit implements: on by default, off on request.
    let extended = temp_file(
        "extended.wat",
        br#"(module (global $g i32 (i32.add (i32.const 40) (i32.mul (i32.const 1) (i32.const 2))))
            (func (export "g") (result i32) (global.get $g)))"#,
    );
    let o = cljit(&["run", "--invoke", "g", extended.to_str().unwrap()]);
    assert_eq!(stdout(&o), "42\n", "{}", stderr(&o));
    let o = cljit(&[
        "run",
        "-W",
        "extended-const=n",
        "--invoke",
        "g",
        extended.to_str().unwrap(),
    ]);
    assert_error(&o, 1, "constant expression required");
    assert!(
        stderr(&o).contains("`-W extended-const=y` enables it"),
        "{}",
        stderr(&o)
    );
    let wide = temp_file(
        "memory64.wat",
        br#"(module (memory i64 1) (func (export "size") (result i64) (memory.size)))"#,
    );
    let o = cljit(&["run", "--invoke", "size", wide.to_str().unwrap()]);
    assert_eq!(stdout(&o), "1\n", "{}", stderr(&o));
    let o = cljit(&["run", "-W", "memory64=n", wide.to_str().unwrap()]);
    assert_error(&o, 1, "memory64");
    assert!(
        stderr(&o).contains("`-W memory64=y` enables it"),
        "{}",
        stderr(&o)
    );
    let tail = temp_file(
        "tail.wat",
        br#"(module
            (func $count (export "count") (param i64) (result i64)
              (if (result i64) (i64.eqz (local.get 0))
                (then (i64.const 7))
                (else (return_call $count (i64.sub (local.get 0) (i64.const 1)))))))"#,
    );
    let o = cljit(&[
        "run",
        "--invoke",
        "count",
        tail.to_str().unwrap(),
        "10000000",
    ]);
    assert_eq!(stdout(&o), "7\n", "{}", stderr(&o));
    let o = cljit(&["run", "-W", "tail-call=n", tail.to_str().unwrap()]);
    assert_error(&o, 1, "tail calls support is not enabled");
    assert!(
        stderr(&o).contains("`-W tail-call=y` enables it"),
        "{}",
        stderr(&o)
    );
    let exceptions = temp_file(
        "exceptions.wat",
        br#"(module (tag $e) (func (export "f") (throw $e)))"#,
    );
    let o = cljit(&["run", "--invoke", "f", exceptions.to_str().unwrap()]);
    assert_error(&o, 1, "uncaught wasm exception");
    let o = cljit(&["run", "-W", "exceptions=n", exceptions.to_str().unwrap()]);
    assert_error(&o, 1, "exceptions proposal not enabled");
    assert!(
        stderr(&o).contains("`-W exceptions=y` enables it"),
        "{}",
        stderr(&o)
    );
    let threads = temp_file("threads.wat", br#"(module (memory 1 1 shared))"#);
    let o = cljit(&["run", threads.to_str().unwrap()]);
    assert_error(&o, 1, "threads");
    assert!(
        stderr(&o).contains(
            "note: the module uses the `threads` proposal, which is disabled; \
             `-W threads=y` enables it"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wast_counts_assertions_and_fails_on_failures() {
    let o = cljit(&[
        "wast",
        "tests/misc_testsuite/bounds.wast",
        "tests/misc_testsuite/stack.wast",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("tests/misc_testsuite/bounds.wast: 36 assertions\n"),
        "{out}"
    );
    assert!(
        out.contains("tests/misc_testsuite/stack.wast: 6 assertions\n"),
        "{out}"
    );
    assert!(out.ends_with("assertions: 42\n"), "{out}");

    let failing = temp_file(
        "failing.wast",
        br#"(module (func (export "one") (result i32) (i32.const 1)))
            (assert_return (invoke "one") (i32.const 1))
            (assert_return (invoke "one") (i32.const 2))
            (assert_trap (invoke "one") "unreachable")
            (invoke "one")"#,
    );
    let o = cljit(&["wast", failing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("failing.wast: 3 assertions\n"), "{out}");
    assert!(
        out.contains("failing.wast:3:14: result 0: expected"),
        "{out}"
    );
    assert!(out.contains("failing.wast: 2 failed\n"), "{out}");
    assert!(out.ends_with("assertions: 3\n"), "{out}");

    let legacy = temp_file(
        "legacy.wast",
        br#"(assert_uninstantiable (module (func $f unreachable) (start $f)) "unreachable")
            (assert_trap (module (memory 0) (data (i32.const 1) "x")) "out of bounds memory access")"#,
    );
    let o = cljit(&["wast", legacy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("assertions: 2\n"), "{}", stdout(&o));

    let broken = temp_file("broken.wast", b"(module (func");
    let o = cljit(&["wast", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("broken.wast: error:"), "{}", stdout(&o));
}

#[test]
fn errors_stay_clean_with_rust_backtrace_set_and_closed_pipes() {
    let wat = temp_file("recurse.wat", br#"(module (func $f (call $f)) (start $f))"#);
    let o = Command::new(env!("CARGO_BIN_EXE_cljit"))
        .arg(&wat)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_error(&o, 134, "wasm trap: call stack exhausted");
    let err = stderr(&o);
    assert!(!err.contains("Stack backtrace"), "{err}");
    assert!(err.contains("... the frame above repeats"), "{err}");
    assert!(err.lines().count() < 15, "{err}");

    // Closed stdout and stderr: no panic (exit 101), the real exit code.
    for (args, code) in [
        (vec!["--invoke", "fib", "examples/fib.wat", "10"], 0),
        (vec![wat.to_str().unwrap()], 134),
    ] {
        let (out_reader, out_writer) = std::io::pipe().unwrap();
        let (err_reader, err_writer) = std::io::pipe().unwrap();
        drop((out_reader, err_reader));
        let status = Command::new(env!("CARGO_BIN_EXE_cljit"))
            .args(&args)
            .current_dir(repo())
            .stdout(out_writer)
            .stderr(err_writer)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn invoke_passes_and_prints_v128() {
    let wat = temp_file(
        "v128.wat",
        br#"(module
              (func (export "swap") (param v128) (result v128)
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get 0) (local.get 0)))
              (func (export "sum") (param v128 v128) (result i32 v128)
                (i32x4.extract_lane 0 (i32x4.add (local.get 0) (local.get 1)))
                (f32x4.add (local.get 0) (local.get 1))))"#,
    );
    let path = wat.to_str().unwrap();
    // Decimal, as wasmtime prints a v128 result.
    let o = cljit(&["run", "--invoke", "swap", path, "1"]);
    assert_eq!(
        stdout(&o),
        "18446744073709551616
",
        "{}",
        stderr(&o)
    );
    // Hexadecimal, and the text format's lane syntax.
    let o = cljit(&["run", "--invoke", "swap", path, "0x0102"]);
    assert_eq!(
        stdout(&o),
        format!(
            "{}
",
            0x0102u128 << 64
        ),
        "{}",
        stderr(&o)
    );
    let o = cljit(&[
        "run",
        "--invoke",
        "sum",
        path,
        "i32x4 1 2 3 4",
        "f32x4 0.5 0 0 0",
    ]);
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{}", stderr(&o));
    assert_eq!(lines[0], (1 + 0x3f00_0000).to_string());
    let lanes: u128 = lines[1].parse().unwrap();
    let f = |i: u32| f32::from_bits((lanes >> (32 * i)) as u32);
    assert_eq!(
        (f(0), f(1), f(2), f(3)),
        (
            f32::from_bits(1) + 0.5,
            f32::from_bits(2),
            f32::from_bits(3),
            f32::from_bits(4)
        )
    );
    let o = cljit(&["run", "--invoke", "swap", path, "i32x4 1 2"]);
    assert_error(&o, 1, "not a valid v128");
    let o = cljit(&["run", "--invoke", "swap", path, &"f".repeat(33)]);
    assert_error(&o, 1, "not a valid v128");
}

#[test]
fn timings_are_reported_when_asked() {
    let timed = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cljit"))
            .args(args)
            .current_dir(repo())
            .env("CLJIT_TIMINGS", "1")
            .output()
            .expect("cljit runs")
    };
    let phases = |o: &Output| -> Vec<(String, u64)> {
        let err = stderr(o);
        let line = err
            .lines()
            .find_map(|l| l.strip_prefix("cljit-timings: "))
            .unwrap_or_else(|| panic!("no timings in: {err}"));
        let (times, load) = line.rsplit_once(' ').unwrap();
        assert!(
            ["load=hit", "load=miss", "load=off"].contains(&load),
            "{line}"
        );
        times
            .split(' ')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.parse().unwrap())
            })
            .collect()
    };
    let o = timed(&["run", "examples/hello.wat"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "Hello, world!\n");
    let names: Vec<String> = phases(&o).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["compile_us", "instantiate_us", "run_us"]);
    // A program that ends with proc_exit still reports.
    let exit = temp_file(
        "exit7.wat",
        br#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (func (export "_start") (call $exit (i32.const 7))))"#,
    );
    let o = timed(&["run", exit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(phases(&o).len(), 3);
    // Without the variable, nothing is printed.
    let o = cljit(&["run", "examples/hello.wat"]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn profile_perfmap_names_jit_functions() {
    let child = Command::new(env!("CARGO_BIN_EXE_cljit"))
        .args([
            "run",
            "--profile",
            "perfmap",
            "--invoke",
            "fib",
            "examples/fib.wat",
            "10",
        ])
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cljit runs");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "55\n", "{}", stderr(&o));
    let text = std::fs::read_to_string(&map).expect("the perf map was written");
    let _ = std::fs::remove_file(&map);
    let fib = text
        .lines()
        .find(|l| l.ends_with("::fib"))
        .unwrap_or_else(|| panic!("no fib in:\n{text}"));
    let fields: Vec<&str> = fib.split(' ').collect();
    assert_eq!(fields.len(), 3, "{fib}");
    assert!(u64::from_str_radix(fields[0], 16).unwrap() > 0, "{fib}");
    assert!(u64::from_str_radix(fields[1], 16).unwrap() > 0, "{fib}");
}
