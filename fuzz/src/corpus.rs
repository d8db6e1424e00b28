//! Running the targets without libFuzzer: over files, over built-in seeds,
//! and over deterministic mutations of both (what `./scripts/test` runs).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A fuzz target.
pub type Target = fn(&[u8]);

/// The targets by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("compile", crate::compile),
    ("instantiate", crate::instantiate),
    ("wasi_paths", crate::wasi_paths),
];

/// Small modules of ours, as text, whose binaries seed the raw half of the
/// `compile` target: one per kind of section and a few instructions of
/// each family, for mutations to start from.
const MODULES: &[&str] = &[
    "(module)",
    r#"(module
      (type (func (param i32 i64) (result f64)))
      (import "env" "f" (func (type 0)))
      (import "env" "m" (memory 1 2))
      (import "env" "g" (global (mut i32)))
      (func (export "run") (param i32) (result i32)
        (local i64 f32)
        (block (loop
          (br_if 1 (i32.eqz (local.get 0)))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (drop (call 0 (i32.load offset=8 (local.get 0)) (i64.const 7)))
          (br 0)))
        (global.get 0))
      (data (i32.const 16) "hello"))"#,
    r#"(module
      (memory 1)
      (table 4 funcref)
      (global $g (mut i64) (i64.const -1))
      (elem (i32.const 0) $a $b)
      (func $a (result i32) (i32.const 1))
      (func $b (result i32) (i32.const 2))
      (func (export "dispatch") (param i32) (result i32)
        (call_indirect (result i32) (local.get 0)))
      (func (export "bulk") (param i32 i32 i32)
        (memory.fill (local.get 0) (local.get 1) (local.get 2))
        (memory.copy (local.get 1) (local.get 0) (local.get 2)))
      (func (export "simd") (param v128) (result v128)
        (i32x4.add (local.get 0) (v128.const i64x2 1 2)))
      (start $a2)
      (func $a2 (global.set $g (i64.const 3))))"#,
    r#"(module
      (tag $e (param i32))
      (func $thrower (param i32) (throw $e (local.get 0)))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (call $thrower (local.get 0)))
          (i32.const -1)))
      (func $tail (export "tail") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (return_call $tail (i32.sub (local.get 0) (i32.const 1)))))))"#,
    r#"(module
      (memory i64 1)
      (func (export "load64") (param i64) (result i64) (i64.load (local.get 0)))
      (func (export "convert") (param f64) (result i32) (i32.trunc_sat_f64_s (local.get 0))))"#,
];

/// Paths that seed the `wasi_paths` target (raw mode), each tried with and
/// without following a final symlink.
const PATHS: &[&str] = &[
    "file",
    "a/b/file",
    "a/rel",
    "a/up",
    "a/b/up2/file",
    "a/b/up3/outside/secret",
    "../outside/secret",
    "/etc/passwd",
    "abs",
    "absdir/",
    "loop1",
    "self/self/a/./b/../b/file",
    "dirlink/up2/dirlink/file",
    "out/secret",
    "chain/secret",
    "emptydir/../a//b/",
    "a/b/../../..",
];

/// xorshift64*: the deterministic randomness of seeds and mutations.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (which must not be 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// The built-in seeds of `target`.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(target.len() as u64);
    let mut seeds = Vec::new();
    match target {
        "compile" => {
            for text in MODULES {
                let wasm = wat::parse_str(text).expect("our seed modules parse");
                // Even selectors take the bytes as they are, one per engine.
                for engine in 0..3u8 {
                    seeds.push([vec![engine << 1], wasm.clone()].concat());
                }
            }
            // Odd selectors generate a module from the bytes.
            for i in 0..64u8 {
                seeds.push([vec![(i << 1) | 1], rng.bytes(4096)].concat());
            }
        }
        "instantiate" => {
            for _ in 0..64 {
                seeds.push(rng.bytes(4096));
            }
        }
        "wasi_paths" => {
            for path in PATHS {
                for follow in [0u8, 1] {
                    seeds.push([vec![follow], path.as_bytes().to_vec()].concat());
                }
            }
            for _ in 0..160 {
                let len = 1 + rng.below(4);
                seeds.push([vec![2 | (rng.next_u64() as u8 & 1)], rng.bytes(len)].concat());
            }
        }
        _ => panic!("no target {target}"),
    }
    seeds
}

/// A mutation of `input`: bits flipped, bytes set, a run inserted,
/// removed or duplicated, or the input cut short, as libFuzzer's simplest
/// mutators do.
pub fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        if out.is_empty() {
            out.push(rng.next_u64() as u8);
            continue;
        }
        let at = rng.below(out.len());
        match rng.below(6) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = [0, 0x7f, 0x80, 0xff, rng.next_u64() as u8][rng.below(5)],
            2 => {
                let len = 1 + rng.below(8);
                let run = rng.bytes(len);
                out.splice(at..at, run);
            }
            3 => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                out.drain(at..end);
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                let run = out[at..end].to_vec();
                out.splice(at..at, run);
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// The files of `fuzz/corpus/<target>/` (kept inputs: regressions and
/// what fuzzing found interesting), sorted.
pub fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// The plain binary's `main`: runs `target` over every file named on the
/// command line (directories: every file in them), or, with no arguments,
/// over its seeds and its corpus directory. A failing input panics with
/// its name printed first.
///
/// `--write-seeds DIR` writes the seeds into `DIR` instead (one file each,
/// named by number), to start a libFuzzer corpus from.
pub fn main(name: &str, target: Target) -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if args.first().is_some_and(|a| a == "--write-seeds") {
        let Some(dir) = args.get(1) else {
            eprintln!("error: --write-seeds needs a directory");
            return ExitCode::FAILURE;
        };
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            seeds(name)
                .iter()
                .enumerate()
                .try_for_each(|(i, seed)| std::fs::write(dir.join(format!("seed-{i:04}")), seed))
        });
        if let Err(e) = written {
            eprintln!("error: writing seeds to {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    let mut files = Vec::new();
    for arg in &args {
        if arg.is_dir() {
            match std::fs::read_dir(arg) {
                Ok(entries) => files.extend(entries.flatten().map(|e| e.path())),
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", arg.display());
                    return ExitCode::FAILURE;
                }
            }
        } else {
            files.push(arg.clone());
        }
    }
    let mut count = 0usize;
    if args.is_empty() {
        for seed in seeds(name) {
            target(&seed);
            count += 1;
        }
        files = corpus_files(name);
    }
    files.sort();
    for file in &files {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", file.display());
                return ExitCode::FAILURE;
            }
        };
        eprintln!("{name}: {}", file.display());
        target(&data);
        count += 1;
    }
    eprintln!("{name}: {count} inputs, no failure");
    ExitCode::SUCCESS
}
