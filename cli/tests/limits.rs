//! The limit flags and option groups as users run them: real `cljit`
//! processes, their exit codes and messages, a watchdog so a limit that
//! fails to stop a guest fails the test instead of hanging it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A guest for every limit: runaway loops, growth loops, and functions
/// that finish.
const GUEST: &str = r#"
(module
  (import "host" "nothing" (func $nothing))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "spin") (loop $l (br $l)))
  (func (export "spin_calling_host") (loop $l (call $nothing) (br $l)))
  (func (export "grow_memory") (result i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size))
  (func (export "grow_table") (result i32)
    (loop $l (br_if $l (i32.ne (table.grow $t (ref.null func) (i32.const 10)) (i32.const -1))))
    (table.size $t))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
)
"#;

/// The guest without its host import, for runs that need no host.
const PURE: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "spin") (loop $l (br $l)))
  (func (export "_start") (loop $l (br $l)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "grow_memory") (result i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size))
)
"#;

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cljit-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `contents` to `name` in the test directory. Tests running at
/// once write the same files, so each writes a private copy and renames
/// it into place: a reader never sees a file half written (truncated to
/// nothing, as once failed `known_keys_cljit_already_follows_are_accepted`).
fn file(name: &str, contents: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let path = dir().join(name);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let private = dir().join(format!("{name}.{n}.tmp"));
    std::fs::write(&private, contents).unwrap();
    std::fs::rename(&private, &path).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs `cljit` with `args` (no compile cache), killing it after a minute.
fn cljit(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cljit"))
        .args(args)
        .env("CLJIT_CACHE_DIR", dir().join("cache"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cljit runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("cljit {args:?} ran for a minute: a limit did not stop it");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code and that stderr contains `needle` (and no panic).
fn assert_exit(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {err}",
        stdout(o)
    );
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn fuel_stops_runaway_code_and_lets_bounded_code_finish() {
    let pure = file("pure.wat", PURE);
    let o = cljit(&["run", "-W", "fuel=100000", &pure]);
    assert_exit(&o, 134, "wasm trap: all fuel consumed by WebAssembly");
    assert!(stderr(&o).contains("wasm backtrace:"), "{}", stderr(&o));
    let o = cljit(&["run", "-W", "fuel=1000000", "--invoke", "fib", &pure, "20"]);
    assert_eq!(stdout(&o), "6765\n", "{}", stderr(&o));
    let o = cljit(&["run", "-W", "fuel=1000", "--invoke", "fib", &pure, "20"]);
    assert_exit(&o, 134, "all fuel consumed");
    // With unknown-imports-trap, the host-calling loop links and still
    // runs out of fuel... until the unknown import traps first.
    let guest = file("guest.wat", GUEST);
    let o = cljit(&[
        "run",
        "-W",
        "fuel=100000,unknown-imports-default=y",
        "--invoke",
        "spin_calling_host",
        &guest,
    ]);
    assert_exit(&o, 134, "all fuel consumed");
    let o = cljit(&[
        "run",
        "-W",
        "unknown-imports-trap=y",
        "--invoke",
        "spin_calling_host",
        &guest,
    ]);
    assert_exit(
        &o,
        1,
        "unknown import: `host::nothing` has not been defined",
    );
}

#[test]
fn timeouts_interrupt_and_exit_134() {
    let pure = file("pure.wat", PURE);
    for timeout in ["200ms", "0.3s", "1"] {
        let start = Instant::now();
        let o = cljit(&["run", "-W", &format!("timeout={timeout}"), &pure]);
        assert_exit(&o, 134, "wasm trap: interrupt");
        assert!(start.elapsed() < Duration::from_secs(30));
    }
    let guest = file("guest.wat", GUEST);
    let o = cljit(&[
        "run",
        "-W",
        "timeout=200ms,unknown-imports-default=y",
        "--invoke",
        "spin_calling_host",
        &guest,
    ]);
    assert_exit(&o, 134, "wasm trap: interrupt");
    // A program that finishes in time is not disturbed.
    let o = cljit(&["run", "-W", "timeout=2m", "--invoke", "fib", &pure, "15"]);
    assert_eq!(stdout(&o), "610\n", "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));
    // Fuel and a timeout together: whichever comes first.
    let o = cljit(&["run", "-W", "timeout=10s,fuel=100000", &pure]);
    assert_exit(&o, 134, "all fuel consumed");
}

#[test]
fn memory_and_table_caps() {
    let guest = file("guest.wat", GUEST);
    let run = |w: &str, export: &str| {
        cljit(&[
            "run",
            "-W",
            &format!("unknown-imports-default=y,{w}"),
            "--invoke",
            export,
            &guest,
        ])
    };
    let o = run("max-memory-size=640K", "grow_memory");
    assert_eq!(stdout(&o), "10\n", "{}", stderr(&o));
    let o = run("max-table-elements=55", "grow_table");
    assert_eq!(stdout(&o), "51\n", "{}", stderr(&o));
    let o = run("max-memory-size=128K,trap-on-grow-failure=y", "grow_memory");
    assert_exit(&o, 1, "forcing trap when growing memory to 196608 bytes");
    let o = run("max-table-elements=5,trap-on-grow-failure", "grow_table");
    assert_exit(&o, 1, "forcing trap when growing table to 11 elements");
    // The initial memory must fit, and the counts are caps.
    let o = run("max-memory-size=1K", "fib");
    assert_exit(
        &o,
        1,
        "memory minimum size of 1 pages exceeds memory limits",
    );
    let o = run("max-memories=0", "fib");
    assert_exit(&o, 1, "resource limit exceeded: memory count too high at 1");
    let o = run("max-tables=0", "fib");
    assert_exit(&o, 1, "resource limit exceeded: table count too high at 1");
    let pure = file("pure.wat", PURE);
    let o = cljit(&[
        "run",
        "-W",
        "max-instances=1",
        "--preload",
        &format!("lib={pure}"),
        "--invoke",
        "fib",
        &pure,
        "5",
    ]);
    assert_exit(
        &o,
        1,
        "resource limit exceeded: instance count too high at 2",
    );
    let o = cljit(&[
        "run",
        "-W",
        "max-instances=2",
        "--preload",
        &format!("lib={pure}"),
        "--invoke",
        "fib",
        &pure,
        "5",
    ]);
    assert_eq!(stdout(&o), "5\n", "{}", stderr(&o));
}

#[test]
fn bad_values_say_what_each_key_expects() {
    let pure = file("pure.wat", PURE);
    for (flag, value, needle) in [
        (
            "-W",
            "fuel=lots",
            "invalid value `lots` for `-W fuel`: expected an integer",
        ),
        ("-W", "fuel", "`-W fuel` needs a value"),
        (
            "-W",
            "timeout=soon",
            "invalid value `soon` for `-W timeout`: expected a duration",
        ),
        ("-W", "max-memory-size=big", "expected a byte count"),
        ("-W", "max-instances=-1", "expected an integer"),
        ("-W", "trap-on-grow-failure=maybe", "expected y or n"),
        (
            "-W",
            "shared-everything-threads=y",
            "the shared-everything-threads proposal is not supported by cljit yet",
        ),
        (
            "-W",
            "stack-switching",
            "the stack-switching proposal is not supported by cljit yet",
        ),
        (
            "-W",
            "warp-drive",
            "unknown option `-W warp-drive`; the known `-W` options are:",
        ),
        (
            "-O",
            "pooling-allocator=y",
            "`-O pooling-allocator=y` is not supported by cljit yet",
        ),
        ("-O", "opt-level=fast", "expected 0, 1, 2 or s"),
        (
            "-C",
            "compiler=winch",
            "`-C compiler=winch` is not supported by cljit yet",
        ),
        (
            "-C",
            "cranelift-has-avx=false",
            "`-C cranelift-has-avx` is not supported by cljit yet",
        ),
        (
            "-D",
            "debug-info=y",
            "`-D debug-info=y` is not supported by cljit yet",
        ),
        (
            "-D",
            "coredump=core",
            "`-D coredump` is not supported by cljit yet",
        ),
        ("-S", "http", "`-S http=y` is not supported by cljit yet"),
        ("-S", "nonsense", "unknown option `-S nonsense`"),
    ] {
        let o = cljit(&["run", flag, value, &pure]);
        assert_exit(&o, 1, needle);
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    }
}

#[test]
fn known_keys_cljit_already_follows_are_accepted() {
    let pure = file("pure.wat", PURE);
    let o = cljit(&[
        "run",
        "-O",
        "opt-level=2,memory-may-move=y,signals-based-traps=y,pooling-allocator=n,memory-init-cow=n",
        "-C",
        "compiler=cranelift,parallel-compilation=n,cache=n,pcc=n",
        "-D",
        "address-map=y,debug-info=n",
        "-W",
        "threads=n,gc=n,exceptions=n,simd=y,unknown-exports-allow=y,epoch-interruption=y",
        "-S",
        "preview2=n,cli=y,inherit-env=n,http=n",
        "--invoke",
        "fib",
        &pure,
        "10",
    ]);
    assert_eq!(stdout(&o), "55\n", "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn each_group_has_help() {
    for group in ["-O", "-C", "-D", "-W", "-S"] {
        let o = cljit(&["run", group, "help"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with(&format!("{group} options")), "{out}");
    }
    let o = cljit(&["run", "-Whelp"]);
    let out = stdout(&o);
    for key in [
        "fuel=N",
        "timeout=DURATION",
        "max-memory-size=BYTES",
        "threads[=y|n]",
    ] {
        assert!(out.contains(key), "{key} in {out}");
    }
}

/// A WASI command that exits with the number of environment variables it
/// sees (at most 255).
const ENV_COUNT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (call $exit (select (i32.load (i32.const 0)) (i32.const 255)
                        (i32.lt_u (i32.load (i32.const 0)) (i32.const 255))))))
"#;

#[test]
fn wasi_group_keys_take_effect() {
    let env_count = file("env-count.wat", ENV_COUNT);
    let o = cljit(&["run", &env_count]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cljit(&["run", "-S", "inherit-env", &env_count]);
    assert!(o.status.code().unwrap_or(0) > 0, "{}", stderr(&o));
    let o = cljit(&["run", "-S", "inherit-env=n", "--env", "A=1", &env_count]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // -S tcplisten hands the guest a listening socket, as --tcplisten.
    let o = cljit(&["run", "-S", "tcplisten=127.0.0.1:0", "examples/hello.wat"]);
    assert_eq!(stdout(&o), "Hello, world!\n", "{}", stderr(&o));
    let o = cljit(&[
        "run",
        "-S",
        "tcplisten=not-an-address",
        "examples/hello.wat",
    ]);
    assert_exit(&o, 1, "failed to listen on `not-an-address`");
    // -S cli=n links no WASI, so a WASI program has unknown imports.
    let o = cljit(&["run", "-S", "cli=n", "examples/hello.wat"]);
    assert_exit(&o, 1, "wasi_snapshot_preview1::fd_write");
    let o = cljit(&["run", "-S", "cli", "examples/hello.wat"]);
    assert_eq!(stdout(&o), "Hello, world!\n", "{}", stderr(&o));
}

#[test]
fn limits_hold_through_artifacts_and_the_cache() {
    let pure = file("pure.wat", PURE);
    let artifact = dir().join("pure-fuel.cwasm");
    let artifact = artifact.to_str().unwrap();
    let o = cljit(&["compile", "-W", "fuel=1", &pure, "-o", artifact]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cljit(&["run", "-W", "fuel=100000", artifact]);
    assert_exit(&o, 134, "all fuel consumed");
    let o = cljit(&[
        "run",
        "-W",
        "fuel=1000000",
        "--invoke",
        "fib",
        artifact,
        "20",
    ]);
    assert_eq!(stdout(&o), "6765\n", "{}", stderr(&o));
    // Code with fuel checks is refused where none were asked for, and code
    // without them where fuel was.
    let o = cljit(&["run", "--invoke", "fib", artifact, "3"]);
    assert_exit(&o, 1, "consume-fuel true (artifact) vs false (engine)");
    let plain = dir().join("pure-plain.cwasm");
    let plain = plain.to_str().unwrap();
    let o = cljit(&["compile", &pure, "-o", plain]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = cljit(&["run", "-W", "timeout=1s", plain]);
    assert_exit(
        &o,
        1,
        "epoch-interruption false (artifact) vs true (engine)",
    );

    // Through the cache: each setting is its own entry, and each run is
    // still bounded.
    let cache = dir().join("limits-cache");
    let cache = cache.to_str().unwrap();
    for _ in 0..2 {
        let o = cljit(&["run", "--cache-dir", cache, "-W", "fuel=100000", &pure]);
        assert_exit(&o, 134, "all fuel consumed");
        let o = cljit(&["run", "--cache-dir", cache, "-W", "timeout=200ms", &pure]);
        assert_exit(&o, 134, "interrupt");
    }
    let o = cljit(&["cache", "--cache-dir", cache, "stats"]);
    let stats = stdout(&o);
    let field = |name: &str| {
        stats
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().next().unwrap_or_default().to_string())
    };
    assert_eq!(field("entries:").as_deref(), Some("2"), "{stats}");
    assert_eq!(field("misses:").as_deref(), Some("2"), "{stats}");
    assert_eq!(field("hits:").as_deref(), Some("2"), "{stats}");
}

#[test]
fn cache_flags_and_config_files() {
    let pure = file("pure.wat", PURE);
    let cache = dir().join("config-cache");
    let config = file(
        "cache.toml",
        &format!(
            "[cache]\ndirectory = \"{}\"\nfiles-total-size-soft-limit = \"1Gi\"\n",
            cache.display()
        ),
    );
    let o = cljit(&[
        "run",
        "-C",
        &format!("cache-config={config}"),
        "--invoke",
        "fib",
        &pure,
        "7",
    ]);
    assert_eq!(stdout(&o), "13\n", "{}", stderr(&o));
    assert!(cache.join("modules").read_dir().unwrap().count() == 1);
    // cache=n stores nothing.
    let other = dir().join("unused-cache");
    let o = cljit(&[
        "run",
        "-C",
        "cache=n",
        "--cache-dir",
        other.to_str().unwrap(),
        "--invoke",
        "fib",
        &pure,
        "7",
    ]);
    assert_eq!(stdout(&o), "13\n", "{}", stderr(&o));
    assert!(!other.exists());
    let bad = file("bad.toml", "[cache]\ncolour = \"red\"\n");
    let o = cljit(&["run", "-C", &format!("cache-config={bad}"), &pure]);
    assert_exit(&o, 1, "unknown setting `colour` in `[cache]`");
}
