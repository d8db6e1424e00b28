//! wasi-threads end to end: C programs of our own (`tests/wasi/c/threads`,
//! freestanding over the small pthread-like layer `wthreads.h`, since
//! Debian's wasi-libc has no threads build) run by the real `cljit` with
//! `-W threads=y -S threads=y`: a pool with mutexes and condition
//! variables, atomics under contention, exit and trap from a worker, and
//! stress for waits with timeouts and for growth under readers.

use std::path::PathBuf;
use std::process::Output;

use crate::support::{build_wasm, run, sources, stderr, stdout};

/// Builds `tests/wasi/c/threads/NAME.c` as a wasi-threads program: shared
/// imported memory (64 MiB at most), `wasi_thread_start` from
/// `wthreads_start.s`, and the memory exported as WASI needs (wasm-ld 14
/// has no `--export-memory` with an imported memory, so it is added to the
/// export section after linking).
pub fn thread_program(name: &str) -> PathBuf {
    let dir = sources().join("c/threads");
    let start = dir.join("wthreads_start.s");
    let path = build_wasm(
        &dir.join(format!("{name}.c")),
        &[
            "-nostdlib",
            "-matomics",
            "-mbulk-memory",
            "-Wl,--import-memory,--shared-memory,--max-memory=67108864,--no-entry,--export=_start",
            start.to_str().unwrap(),
        ],
    );
    let wasm = std::fs::read(&path).unwrap();
    if let Some(patched) = with_memory_export(&wasm) {
        std::fs::write(&path, patched).unwrap();
    }
    path
}

fn read_leb(bytes: &[u8], at: &mut usize) -> u32 {
    let (mut value, mut shift) = (0u32, 0);
    loop {
        let b = bytes[*at];
        *at += 1;
        value |= u32::from(b & 0x7f) << shift;
        shift += 7;
        if b < 0x80 {
            return value;
        }
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let b = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// `wasm` with `(export "memory" (memory 0))` added to its export
/// section, or `None` if it already exports a memory called `memory`.
fn with_memory_export(wasm: &[u8]) -> Option<Vec<u8>> {
    const ENTRY: &[u8] = b"\x06memory\x02\x00";
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = read_leb(wasm, &mut at) as usize;
        let body = &wasm[at..at + size];
        at += size;
        let body = if id == 7 {
            if body.windows(ENTRY.len()).any(|w| w == ENTRY) {
                return None;
            }
            let mut pos = 0;
            let count = read_leb(body, &mut pos);
            let mut new = Vec::new();
            write_leb(&mut new, count + 1);
            new.extend_from_slice(&body[pos..]);
            new.extend_from_slice(ENTRY);
            new
        } else {
            body.to_vec()
        };
        out.push(id);
        write_leb(&mut out, body.len() as u32);
        out.extend_from_slice(&body);
    }
    Some(out)
}

fn run_threads(name: &str, extra: &[&str]) -> Output {
    let wasm = thread_program(name);
    let mut args = vec!["run", "--no-cache", "-W", "threads=y", "-S", "threads=y"];
    args.extend_from_slice(extra);
    args.push(wasm.to_str().unwrap());
    run(&args)
}

fn assert_ok(o: &Output, expected_stdout: &str) {
    assert_eq!(
        (o.status.code(), stdout(o).as_str()),
        (Some(0), expected_stdout),
        "stderr:\n{}",
        stderr(o)
    );
}

#[test]
fn a_pthread_style_pool_sums_in_parallel_with_mutexes_and_condvars() {
    assert_ok(&run_threads("pool", &[]), "sum 499999500000\nchunks 100\n");
}

#[test]
fn atomics_under_contention_lose_no_update() {
    assert_ok(
        &run_threads("contention", &[]),
        "add32 160000\nadd64 480000\ncas32 320000\nguarded 160000\n",
    );
}

#[test]
fn proc_exit_in_a_worker_ends_the_program_with_its_status() {
    let o = run_threads("exit_worker", &[]);
    assert_eq!(o.status.code(), Some(7), "stderr:\n{}", stderr(&o));
    assert_eq!(stdout(&o), "worker exiting\n");
}

#[test]
fn a_trap_in_a_worker_ends_the_program_with_that_trap() {
    let o = run_threads("trap_worker", &[]);
    assert_eq!(o.status.code(), Some(134), "stderr:\n{}", stderr(&o));
    assert_eq!(stdout(&o), "worker trapping\n");
    let err = stderr(&o);
    assert!(err.contains("wasm trap: unaligned atomic"), "{err}");
    assert!(err.contains("wasi_thread_start"), "{err}");
}

#[test]
fn many_threads_wait_and_notify_with_timeouts() {
    assert_ok(&run_threads("waits", &[]), "waits 3200\nnotified 16\n");
}

#[test]
fn a_shared_memory_grows_while_other_threads_read_it() {
    assert_ok(&run_threads("grow", &[]), "pages 768\n");
    // Explicit bounds checks: the shared memory still never moves.
    let o = run_threads("grow", &["-O", "memory-reservation=0,memory-guard-size=0"]);
    assert_ok(&o, "pages 768\n");
}

#[test]
fn threaded_programs_run_from_the_cache() {
    let wasm = thread_program("pool");
    let cache = crate::support::TempDir::new("threads-cache");
    let cache_arg = format!("--cache-dir={}", cache.path().display());
    for _ in 0..2 {
        let args = ["run", &cache_arg, "-W", "threads=y", "-S", "threads=y"];
        let o = run(&[&args[..], &[wasm.to_str().unwrap()]].concat());
        assert_ok(&o, "sum 499999500000\nchunks 100\n");
    }
}

#[test]
fn threads_compile_lazily_and_tier_up_while_others_run() {
    // Every function compiled at its first call, by whichever thread
    // calls it first, then recompiled optimised after one call or never.
    for flags in [
        "lazy-min-code-size=0",
        "lazy-min-code-size=0,lazy-tier-up=1",
        "lazy-min-code-size=0,lazy-tier-up=0",
    ] {
        let o = run_threads("contention", &["-O", flags]);
        assert_ok(
            &o,
            "add32 160000\nadd64 480000\ncas32 320000\nguarded 160000\n",
        );
        assert_ok(
            &run_threads("pool", &["-O", flags]),
            "sum 499999500000\nchunks 100\n",
        );
    }
}

#[test]
fn fuel_and_deadlines_apply_in_every_thread() {
    let spin = crate::support::wat("spin_thread");
    let spin = spin.to_str().unwrap();
    let threads = ["run", "--no-cache", "-W", "threads=y", "-S", "threads=y"];
    // Fuel runs out in the spinning thread (the main one waits).
    let o = run(&[&threads[..], &["-W", "fuel=1000000", spin]].concat());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(134), "{err}");
    assert!(err.contains("failed to run a wasi thread"), "{err}");
    assert!(err.contains("all fuel consumed"), "{err}");
    // The deadline passes for every store at once: the spinning thread
    // and the waiting main thread both trap, whichever reports first.
    let o = run(&[&threads[..], &["-W", "timeout=200ms", spin]].concat());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(134), "{err}");
    assert!(err.contains("wasm trap: interrupt"), "{err}");
    // A wait that nothing would end ends at the deadline too.
    let forever = crate::support::wat("wait_forever");
    let args = ["run", "--no-cache", "-W", "threads=y,timeout=200ms"];
    let o = run(&[&args[..], &[forever.to_str().unwrap()]].concat());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(134), "{err}");
    assert!(err.contains("wasm trap: interrupt"), "{err}");
}

#[test]
fn a_threaded_program_needs_both_flags() {
    let wasm = thread_program("pool");
    let wasm = wasm.to_str().unwrap();
    let o = run(&["run", "--no-cache", wasm]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("-W threads=y"), "{}", stderr(&o));
    let o = run(&["run", "--no-cache", "-W", "threads=y", wasm]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("uses wasi-threads"), "{err}");
    assert!(err.contains("-S threads=y"), "{err}");
    let o = run(&["run", "--no-cache", "-S", "threads=y", wasm]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("-W threads=y"), "{}", stderr(&o));
    let lib = crate::support::wat("spin_thread");
    let preload = format!("lib={}", lib.display());
    let both = ["run", "--no-cache", "-W", "threads=y", "-S", "threads=y"];
    let o = run(&[&both[..], &["--preload", &preload, wasm]].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("`--preload` cannot be combined"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_thread_sleeping_in_a_wasi_call_does_not_hold_up_the_others() {
    // Were the shared WASI context locked across the worker's hour-long
    // poll_oneoff, the main thread's calls would wait for it: the run
    // would never end, and the watchdog below would fail the test.
    let wasm = thread_program("sleeper");
    let mut child = crate::support::cljit()
        .args(["run", "--no-cache", "-W", "threads=y", "-S", "threads=y"])
        .arg(&wasm)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the main thread was held up by the sleeping worker");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_ok(&o, "tick\ntick\ntick\ntick\ntick\n");
}

#[test]
fn a_thread_gets_the_stack_the_wasm_stack_budget_asks_for() {
    let deep = crate::support::wat("deep_thread");
    let deep = deep.to_str().unwrap();
    let threads = ["run", "--no-cache", "-W", "threads=y", "-S", "threads=y"];
    let o = run(&[&threads[..], &["-W", "max-wasm-stack=268435456", deep]].concat());
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(&o));
    // With the default budget the recursion is a trap, in the thread.
    let o = run(&[&threads[..], &[deep]].concat());
    assert_eq!(o.status.code(), Some(134), "stderr:\n{}", stderr(&o));
    assert!(
        stderr(&o).contains("call stack exhausted"),
        "{}",
        stderr(&o)
    );
}
