//! Shared pieces of the WASI tests: building the C programs with clang,
//! scratch directories, and running the real `cljit` binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where the test programs' sources live.
pub fn sources() -> PathBuf {
    repo().join("tests/wasi")
}

/// A `.wat` test program.
pub fn wat(name: &str) -> PathBuf {
    sources().join("wat").join(format!("{name}.wat"))
}

/// Builds `tests/wasi/c/NAME.c` for wasm32-wasi with clang (once per test
/// run) and returns the module's path. Panics with the compiler's output if
/// the toolchain is missing or the build fails; `scripts/test` installs the
/// toolchain from Debian's packages.
pub fn program(name: &str) -> PathBuf {
    build_wasm(&sources().join("c").join(format!("{name}.c")), &[])
}

/// Builds the C source `src` for wasm32-wasi with clang and `flags` (once
/// per test run and source), with the source's directory on the include
/// path, and returns the module's path.
pub fn build_wasm(src: &Path, flags: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(src) {
        return path.clone();
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi-programs");
    std::fs::create_dir_all(&out_dir).unwrap();
    let stem = src.file_stem().unwrap().to_string_lossy();
    let out = out_dir.join(format!("{stem}.wasm"));
    assert!(src.exists(), "no test program {}", src.display());
    let cc = std::env::var("CLJIT_WASI_CC").unwrap_or_else(|_| "clang".to_string());
    let result = Command::new(&cc)
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
        .args(flags)
        .arg("-I")
        .arg(src.parent().unwrap())
        .arg(src)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{cc}` to build the WASI test programs ({e}); \
                 install clang, lld, wasi-libc and libclang-rt-dev-wasm32 \
                 (scripts/test does this)"
            )
        });
    assert!(
        result.status.success(),
        "building {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    built.insert(src.to_path_buf(), out.clone());
    out
}

/// A fresh scratch directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("wasi-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `HOST::GUEST` for `--dir`.
    pub fn as_dir(&self, guest: &str) -> String {
        format!("{}::{guest}", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `cljit` with a clean environment (so `--inherit-env` tests see only
/// what they set).
pub fn cljit() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cljit"));
    cmd.current_dir(repo());
    cmd
}

pub fn run(args: &[&str]) -> Output {
    cljit().args(args).output().expect("cljit runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean exit and that every named section reported `ok`, in
/// order, so a program that stopped early cannot pass.
pub fn assert_sections(o: &Output, sections: &[&str]) {
    let out = stdout(o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{out}\nstderr:\n{}",
        stderr(o)
    );
    let oks: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("ok: ")).collect();
    assert_eq!(oks, sections, "stdout:\n{out}");
}

/// Sets the address-space limit (`RLIMIT_AS`, what `ulimit -v` sets) of
/// the process `cmd` starts to `bytes`.
pub fn limit_address_space(cmd: &mut Command, bytes: u64) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and only
    // calls `setrlimit`, which is async-signal-safe, on a local value.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
    }
}
