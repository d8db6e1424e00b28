//! The FaaS worker example end to end, in C (`examples/faas-worker/worker.c`
//! on the C API) and in Rust (its twin, `worker.rs`): the same jobs give
//! the same replies, and no job (a trap, a bad module, a loop, megabytes
//! of output) crashes or stalls either.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TempDir, build, crate_dir};

fn example_dir() -> PathBuf {
    crate_dir().join("../examples/faas-worker")
}

/// Builds every function of the example for wasm32-wasi into `dir`, plus
/// a function whose module is not wasm at all.
fn functions(dir: &Path) {
    let sources = example_dir().join("functions");
    let cc = std::env::var("CLJIT_WASI_CC").unwrap_or_else(|_| "clang".to_string());
    for entry in std::fs::read_dir(&sources).unwrap() {
        let name = entry.unwrap().file_name();
        let out = dir.join(&name);
        std::fs::create_dir_all(&out).unwrap();
        let result = Command::new(&cc)
            .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
            .arg(sources.join(&name).join("code.c"))
            .arg("-o")
            .arg(out.join("code.wasm"))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{cc}` ({e}): install clang, lld, wasi-libc and \
                     libclang-rt-dev-wasm32 (scripts/test does)"
                )
            });
        assert!(
            result.status.success(),
            "building function {name:?} failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    std::fs::create_dir_all(dir.join("bad")).unwrap();
    std::fs::write(dir.join("bad/code.wasm"), b"\0asm\x01\0\0\0\x01\x05garbage").unwrap();
}

/// The Rust twin, built (once) for this test's profile.
fn rust_worker() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_rust_worker).clone()
}

fn build_rust_worker() -> PathBuf {
    support::cargo_build(&["-p", "cljit", "--example", "faas-worker"]).join("examples/faas-worker")
}

fn c_worker() -> PathBuf {
    build("faas-worker", &[example_dir().join("worker.c")], &[])
}

/// The C worker built with AddressSanitizer and its leak checker.
fn c_worker_sanitized() -> PathBuf {
    build(
        "faas-worker-asan",
        &[example_dir().join("worker.c")],
        &["-fsanitize=address", "-fno-omit-frame-pointer"],
    )
}

/// Runs `worker` on `jobs` (one per line) and returns its replies, parsed.
/// A worker that takes longer than a minute fails the test.
fn run_worker(worker: &Path, functions: &Path, args: &[&str], jobs: &str) -> Vec<Value> {
    let mut child = Command::new(worker)
        .arg("--functions")
        .arg(functions)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts");
    let mut stdin = child.stdin.take().unwrap();
    let jobs = jobs.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(jobs.as_bytes()));
    // Replies are read while the worker runs (megabytes would fill the
    // pipe); a worker that takes over a minute is killed and fails.
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let out = match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{} stalled", worker.display());
        }
    };
    writer.join().unwrap().unwrap();
    let errors = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} failed: {errors}",
        worker.display()
    );
    assert!(
        !errors.contains("Sanitizer"),
        "{}: {errors}",
        worker.display()
    );
    String::from_utf8(out.stdout)
        .expect("replies are UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad reply {l:?}: {e}")))
        .collect()
}

fn ok(output: &str) -> Value {
    json!({"ok": true, "output": output})
}

fn failed(error: &str, output: &str) -> Value {
    json!({"ok": false, "error": error, "output": output})
}

/// The reply's error, which must start with `prefix`.
fn error_starting(reply: &Value, prefix: &str) {
    assert_eq!(reply["ok"], json!(false), "{reply}");
    let error = reply["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {reply}"));
    assert!(
        error.starts_with(prefix),
        "{error:?} does not start with {prefix:?}"
    );
}

#[test]
fn both_workers_answer_every_kind_of_job() {
    let dir = TempDir::new("functions");
    functions(dir.path());
    let jobs = [
        r#"{"fn":"hello","payload":"world"}"#,
        r#"{"fn":"hello","payload":"\"quoted\" \u00e9\u4e2d \ud83d\ude00"}"#,
        r#"{"fn":"upper","payload":"line one\nline two\n","extra":[1,2]}"#,
        r#"{"fn":"divide","payload":"8"}"#,
        r#"{"fn":"divide","payload":"0"}"#,
        r#"{"fn":"spin"}"#,
        r#"{"fn":"flood","payload":"3"}"#,
        r#"{"fn":"flood","payload":"0"}"#,
        r#"{"fn":"exit","payload":"3"}"#,
        r#"{"fn":"exit","payload":"0"}"#,
        r#"{"fn":"bad"}"#,
        r#"{"fn":"nope"}"#,
        r#"{"fn":"../../etc"}"#,
        r#"not json"#,
        r#"{"payload":"no fn"}"#,
        r#"{"fn":"hello","payload":"still here"}"#,
    ];
    let input = jobs.join("\n") + "\n";
    for worker in [c_worker(), c_worker_sanitized(), rust_worker()] {
        let replies = run_worker(&worker, dir.path(), &["--fuel", "50000000"], &input);
        let name = worker.display();
        assert_eq!(replies.len(), jobs.len(), "{name}: {replies:?}");
        assert_eq!(replies[0], ok("Hello, world!\n"), "{name}");
        assert_eq!(replies[1], ok("Hello, \"quoted\" é中 😀!\n"), "{name}");
        assert_eq!(replies[2], ok("LINE ONE\nLINE TWO\n"), "{name}");
        assert_eq!(replies[3], ok("125\n"), "{name}");
        assert_eq!(
            replies[4],
            failed("wasm trap: integer divide by zero", ""),
            "{name}"
        );
        assert_eq!(
            replies[5],
            failed("wasm trap: all fuel consumed by WebAssembly", ""),
            "{name}"
        );
        assert_eq!(
            replies[6],
            failed("the output exceeds 1048576 bytes", ""),
            "{name}"
        );
        assert_eq!(replies[7], ok("end\n"), "{name}");
        assert_eq!(replies[8], failed("exit status 3", "leaving\n"), "{name}");
        assert_eq!(replies[9], ok("leaving\n"), "{name}");
        error_starting(&replies[10], "cannot compile `bad`: ");
        error_starting(&replies[11], "no function `nope` (");
        error_starting(&replies[12], "a function name is 1 to 64");
        error_starting(&replies[13], "bad job: ");
        error_starting(&replies[14], "bad job: ");
        assert_eq!(replies[15], ok("Hello, still here!\n"), "{name}");
    }
}

#[test]
fn the_time_limit_stops_a_loop_that_fuel_would_not() {
    let dir = TempDir::new("functions");
    functions(dir.path());
    let input = "{\"fn\":\"spin\"}\n{\"fn\":\"hello\",\"payload\":\"after\"}\n";
    for worker in [c_worker(), rust_worker()] {
        let started = Instant::now();
        let replies = run_worker(
            &worker,
            dir.path(),
            &["--fuel", "100000000000000", "--timeout-ms", "200"],
            input,
        );
        assert_eq!(
            replies[0],
            failed("wasm trap: interrupt", ""),
            "{}",
            worker.display()
        );
        assert_eq!(replies[1], ok("Hello, after!\n"));
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

#[test]
fn limits_are_the_worker_s_to_choose() {
    let dir = TempDir::new("functions");
    functions(dir.path());
    // 5 MiB of output allowed; memory capped below what the flood needs is
    // not an issue (it streams), but a small output cap is.
    let input = "{\"fn\":\"flood\",\"payload\":\"4\"}\n{\"fn\":\"hello\",\"payload\":\"x\"}\n";
    for worker in [c_worker(), rust_worker()] {
        let replies = run_worker(&worker, dir.path(), &["--max-output", "5000000"], input);
        assert_eq!(replies[0]["ok"], json!(true), "{}", worker.display());
        let output = replies[0]["output"].as_str().unwrap();
        assert_eq!(output.len(), 4 * 1024 * 1024 + 4);
        assert!(output.ends_with("xxend\n"));
        let replies = run_worker(&worker, dir.path(), &["--max-output", "10"], input);
        assert_eq!(replies[0], failed("the output exceeds 10 bytes", ""));
        assert_eq!(replies[1], ok("Hello, x!\n"));
    }
}
