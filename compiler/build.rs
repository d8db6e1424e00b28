//! Computes `CLJIT_BUILD_ID`: a fingerprint of everything that decides what
//! code this compiler emits (its sources, manifest, and the lock file that
//! pins Cranelift and wasmparser). Artifacts and cache entries record it, so
//! a rebuilt compiler never reuses old code even when the version number
//! did not change.
//!
//! The machine the compiler is built for and the rustc that builds it are
//! left out on purpose: the code emitted for a target depends only on the
//! sources, so an artifact cross-compiled by an x86-64 build loads in an
//! AArch64 build of the same sources (the artifact's own target and CPU
//! feature fields say where it can run, and are checked separately).

use std::hash::Hasher as _;
use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: stable across Rust releases, unlike `DefaultHasher`.
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut inputs = Vec::new();
    files(&manifest.join("src"), &mut inputs);
    inputs.sort();
    inputs.push(manifest.join("Cargo.toml"));
    inputs.push(manifest.join("build.rs"));
    let lock = manifest.join("..").join("Cargo.lock");
    inputs.push(lock.clone());

    // Two lanes with different seeds give 128 bits.
    let mut lanes = [Fnv(0xcbf2_9ce4_8422_2325), Fnv(0x6c62_272e_07bb_0142)];
    for lane in &mut lanes {
        for path in &inputs {
            let relative = path.strip_prefix(&manifest).unwrap_or(path);
            lane.write(relative.to_string_lossy().as_bytes());
            lane.write(&std::fs::read(path).unwrap_or_default());
            lane.write(&[0]);
        }
    }
    println!(
        "cargo:rustc-env=CLJIT_BUILD_ID={:016x}{:016x}",
        lanes[0].finish(),
        lanes[1].finish()
    );
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", lock.display());
}
