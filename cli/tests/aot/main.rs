//! Ahead-of-time artifacts and the compile cache, as users meet them: real
//! `cljit compile`, `cljit run` and `cljit cache` processes on real files.

#[path = "../wasi/support.rs"]
#[allow(
    dead_code,
    reason = "shared with the WASI tests; not every helper is used here"
)]
mod support;

mod artifacts;
mod cache;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::*;

/// The `load=` word of a `CLJIT_TIMINGS` line: how the module was obtained.
pub fn load_kind(o: &Output) -> String {
    let err = stderr(o);
    err.lines()
        .find_map(|l| l.strip_prefix("cljit-timings: "))
        .and_then(|l| l.split(' ').find_map(|w| w.strip_prefix("load=")))
        .unwrap_or_else(|| panic!("no timings line in: {err}"))
        .to_string()
}

/// Runs `cljit run` with the cache in `cache` (and timings on), returning
/// the output.
pub fn run_cached(cache: &Path, args: &[&str]) -> Output {
    cljit()
        .env("CLJIT_TIMINGS", "1")
        .env("CLJIT_CACHE_DIR", cache)
        .arg("run")
        .args(args)
        .output()
        .expect("cljit runs")
}

/// The cache's entry files.
pub fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(cache.join("modules"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == "cwasm"));
    out.sort();
    out
}

/// `cljit cache ACTION --cache-dir DIR` and its stdout, asserting success.
pub fn cache_command(cache: &Path, args: &[&str]) -> String {
    let o = cljit()
        .arg("cache")
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

/// A small module whose `main` prints `n` with WASI, different for each `n`
/// (so each is its own cache entry).
pub fn numbered_module(dir: &Path, n: u32) -> PathBuf {
    let text = format!("{n}\n");
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{text}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const {len}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
        text = text.escape_default(),
        len = text.len()
    );
    let path = dir.join(format!("m{n}.wat"));
    std::fs::write(&path, wat).unwrap();
    path
}
