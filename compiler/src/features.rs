//! WebAssembly proposals: their names (as `-W NAME=y|n` spells them),
//! which cljit enables by default and which it can compile, and working out
//! which disabled proposal an invalid module needed.

use wasmparser::{Validator, WasmFeatures};

use crate::error::CompileError;

/// The wasm proposals that can be toggled by name, with wasmtime's names.
pub const FEATURE_NAMES: &[(&str, WasmFeatures)] = &[
    ("mutable-global", WasmFeatures::MUTABLE_GLOBAL),
    (
        "saturating-float-to-int",
        WasmFeatures::SATURATING_FLOAT_TO_INT,
    ),
    ("sign-extension", WasmFeatures::SIGN_EXTENSION),
    ("multi-value", WasmFeatures::MULTI_VALUE),
    ("bulk-memory", WasmFeatures::BULK_MEMORY),
    ("reference-types", WasmFeatures::REFERENCE_TYPES),
    ("simd", WasmFeatures::SIMD),
    ("relaxed-simd", WasmFeatures::RELAXED_SIMD),
    ("threads", WasmFeatures::THREADS),
    ("tail-call", WasmFeatures::TAIL_CALL),
    ("multi-memory", WasmFeatures::MULTI_MEMORY),
    ("memory64", WasmFeatures::MEMORY64),
    ("extended-const", WasmFeatures::EXTENDED_CONST),
    ("function-references", WasmFeatures::FUNCTION_REFERENCES),
    ("gc", WasmFeatures::GC),
    ("exceptions", WasmFeatures::EXCEPTIONS),
    ("legacy-exceptions", WasmFeatures::LEGACY_EXCEPTIONS),
    ("wide-arithmetic", WasmFeatures::WIDE_ARITHMETIC),
    ("custom-page-sizes", WasmFeatures::CUSTOM_PAGE_SIZES),
    ("stack-switching", WasmFeatures::STACK_SWITCHING),
    (
        "shared-everything-threads",
        WasmFeatures::SHARED_EVERYTHING_THREADS,
    ),
    ("component-model", WasmFeatures::COMPONENT_MODEL),
];

/// The name of a single proposal flag, if it has one.
pub fn feature_name(feature: WasmFeatures) -> Option<&'static str> {
    FEATURE_NAMES
        .iter()
        .find(|(_, f)| *f == feature)
        .map(|(n, _)| *n)
}

/// The default feature set: WebAssembly 2.0 (SIMD included), relaxed SIMD
/// and the proposals beyond 2.0 cljit implements (extended constant
/// expressions, wide arithmetic, multi-memory, 64-bit memories and tables,
/// custom page sizes, tail calls, typed function references, exception
/// handling, GC), as
/// wasmtime enables them.
pub fn default_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::CALL_INDIRECT_OVERLONG
        | WasmFeatures::BULK_MEMORY_OPT
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::CUSTOM_PAGE_SIZES
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::GC
}

/// The features cljit can compile; enabling anything else is refused.
/// Beyond the defaults: the legacy exception instructions, off by default
/// as in V8 (wasmtime has none), and threads (shared memories and atomics),
/// off by default as in wasmtime's C API and CLI (`-W threads=y`).
pub fn supported_features() -> WasmFeatures {
    default_features() | WasmFeatures::LEGACY_EXCEPTIONS | WasmFeatures::THREADS
}

/// The proposals a feature needs enabled alongside it to validate anything.
fn with_prerequisites(feature: WasmFeatures) -> WasmFeatures {
    if feature == WasmFeatures::RELAXED_SIMD {
        feature | WasmFeatures::SIMD
    } else {
        feature
    }
}

/// Turns an "invalid module" error into [`CompileError::DisabledFeature`]
/// when the module is valid with one more proposal enabled: validation with
/// that proposal gets past the offset where it failed. Other errors come
/// back unchanged.
///
/// This runs only on the error path, and validates the module again for
/// each proposal tried (those named in [`FEATURE_NAMES`] that `features`
/// lacks, in that order).
pub(crate) fn explain_invalid(
    wasm: &[u8],
    features: WasmFeatures,
    error: CompileError,
) -> CompileError {
    let CompileError::Invalid { offset, message } = error else {
        return error;
    };
    let passes =
        |features: WasmFeatures| match Validator::new_with_features(features).validate_all(wasm) {
            Ok(_) => true,
            Err(e) => e.offset() > offset,
        };
    // Nothing a proposal could change: don't try them one by one.
    if !passes(features | WasmFeatures::all()) {
        return CompileError::Invalid { offset, message };
    }
    let needed = FEATURE_NAMES
        .iter()
        .filter(|(_, f)| !features.contains(*f))
        .find(|(_, f)| passes(features | with_prerequisites(*f)));
    match needed {
        Some((name, _)) => CompileError::DisabledFeature {
            offset,
            feature: name,
            message,
        },
        None => CompileError::Invalid { offset, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simd_module() -> Vec<u8> {
        wat::parse_str(
            r#"(module (func (result i32)
                v128.const i32x4 1 2 3 4
                i32x4.extract_lane 0))"#,
        )
        .unwrap()
    }

    fn invalid(wasm: &[u8], features: WasmFeatures) -> CompileError {
        match Validator::new_with_features(features).validate_all(wasm) {
            Ok(_) => panic!("the module validates"),
            Err(e) => CompileError::from(e),
        }
    }

    #[test]
    fn a_disabled_proposal_is_named() {
        let wasm = simd_module();
        let features = default_features() - WasmFeatures::SIMD - WasmFeatures::RELAXED_SIMD;
        let error = explain_invalid(&wasm, features, invalid(&wasm, features));
        match error {
            CompileError::DisabledFeature { feature, .. } => assert_eq!(feature, "simd"),
            other => panic!("expected a disabled feature, got {other:?}"),
        }
    }

    #[test]
    fn an_invalid_module_stays_invalid() {
        let wasm = wat::parse_str("(module (func (result i32) i64.const 0))").unwrap();
        let error = explain_invalid(
            &wasm,
            default_features(),
            invalid(&wasm, default_features()),
        );
        assert!(matches!(error, CompileError::Invalid { .. }), "{error:?}");
    }

    #[test]
    fn names_and_flags_are_one_to_one() {
        for (name, feature) in FEATURE_NAMES {
            assert!(!feature.is_empty(), "{name}");
            assert_eq!(feature_name(*feature), Some(*name));
        }
    }
}
