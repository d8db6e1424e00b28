//! Building and running the C test programs.

#![allow(dead_code, reason = "each test file uses part of the support")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

/// The `c-api` directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `libcljit.so` and `libcljit.a`, built (once per
/// test run) for the profile of this test binary. `cargo test` does not
/// build a package's C libraries for its own integration tests, so this
/// runs `cargo build -p cljit-c-api` itself: the programs never link a
/// stale library.
pub fn lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = cargo_build(&["-p", "cljit-c-api"]);
            assert!(
                dir.join("libcljit.so").exists(),
                "no libcljit.so in {}",
                dir.display()
            );
            dir
        })
        .clone()
}

/// Runs `cargo build` with `args` for the profile of this test binary and
/// returns that profile's output directory.
pub fn cargo_build(args: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in <profile>/deps")
        .to_path_buf();
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("no profile directory above {}", exe.display()),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "--locked", "--quiet", "--profile", profile])
        .args(args)
        .current_dir(crate_dir())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build {args:?} failed");
    dir
}

/// Where built programs go.
pub fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-api");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles C `sources` into the executable `name`, linked against
/// `libcljit.so` (found at run time through an rpath). Panics with the
/// compiler's output on failure.
pub fn build(name: &str, sources: &[PathBuf], extra: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let lib = lib_dir();
    let exe = out_dir().join(name);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let result = Command::new(&cc)
        .args([
            "-std=c11",
            "-D_POSIX_C_SOURCE=200809L",
            "-O1",
            "-g",
            "-Wall",
            "-Wextra",
            "-Werror",
        ])
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-I")
        .arg(crate_dir().join("tests/c"))
        .args(sources)
        .args(extra)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lcljit", "-lpthread", "-lm"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cc}` ({e}): a C compiler is needed"));
    assert!(
        result.status.success(),
        "building {name} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    built.insert(name.to_string(), exe.clone());
    exe
}

/// Builds `tests/c/NAME.c`.
pub fn program(name: &str) -> PathBuf {
    build(name, &[crate_dir().join(format!("tests/c/{name}.c"))], &[])
}

/// Runs a program with `args`, in the crate directory.
pub fn run(exe: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .current_dir(crate_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean exit and that every named section reported `ok`, in
/// order.
pub fn assert_sections(o: &Output, sections: &[&str]) {
    let out = stdout(o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{out}\nstderr:\n{}",
        stderr(o)
    );
    let oks: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("ok: ")).collect();
    assert_eq!(oks, sections, "stdout:\n{out}\nstderr:\n{}", stderr(o));
}

/// A fresh scratch directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = out_dir().join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
