//! Translator snapshots: each `tests/disas/*.wat` keeps, below a marker
//! line, the optimised Cranelift IR its functions compile to. A change in
//! the translator that changes the IR fails here until the snapshot is
//! regenerated with `CLJIT_TEST_BLESS=1` and the difference reviewed.
//!
//! Options for the compiler go at the top of the file as
//! `;;! memory-reservation = N`, `;;! memory-guard-size = N`,
//! `;;! consume-fuel = 1`, `;;! epoch-interruption = 1` and
//! `;;! spectre-guard = 0`.

use std::path::Path;

use cljit_compiler::abi::Tunables;
use cljit_compiler::{Compiler, Target, default_features};

const MARKER: &str = ";; ==== CLIF (regenerate with CLJIT_TEST_BLESS=1) ====";

fn tunables(source: &str) -> Tunables {
    let mut t = Tunables::default();
    for line in source.lines() {
        let Some(option) = line.strip_prefix(";;!") else {
            continue;
        };
        let (key, value) = option.split_once('=').expect("`;;! key = value`");
        let value: u64 = value.trim().parse().expect("a number");
        match key.trim() {
            "memory-reservation" => t.memory_reservation = value,
            "memory-guard-size" => t.memory_guard_size = value,
            "consume-fuel" => t.consume_fuel = value != 0,
            "epoch-interruption" => t.epoch_interruption = value != 0,
            "spectre-guard" => t.spectre_guard = value != 0,
            other => panic!("unknown option `{other}`"),
        }
    }
    t
}

#[test]
fn translator_snapshots() {
    let bless = std::env::var_os("CLJIT_TEST_BLESS").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disas");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 6, "snapshots missing from {}", dir.display());
    let mut mismatches = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let (source, expected) = match text.split_once(MARKER) {
            Some((s, e)) => (s.trim_end().to_string(), e.to_string()),
            None => (text.trim_end().to_string(), String::new()),
        };
        let compiler = Compiler::new(&Target::Host, tunables(&source), default_features()).unwrap();
        let wasm = wat::parse_str(&source).unwrap();
        let clif = compiler.compile_to_clif(&wasm).unwrap().join("\n");
        let actual: String = clif
            .lines()
            .map(|l| {
                if l.is_empty() {
                    ";;\n".to_string()
                } else {
                    format!(";; {l}\n")
                }
            })
            .collect();
        if bless {
            std::fs::write(&path, format!("{source}\n\n{MARKER}\n{actual}")).unwrap();
        } else if expected.trim() != actual.trim() {
            mismatches.push(format!("{}:\n{actual}", path.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "IR changed (CLJIT_TEST_BLESS=1 to accept):\n{}",
        mismatches.join("\n")
    );
}
