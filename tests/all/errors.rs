//! Clear errors for bad modules, bad links and bad calls.

use cljit::{Config, Engine, ErrorKind, Instance, Linker, Module, Store, Val, WasmFeatures};

use crate::{engine, instantiate};

#[test]
fn invalid_and_malformed_modules_report_offsets() {
    let engine = engine(false);
    let error = Module::new(&engine, r#"(module (func (result i32) (i64.const 1)))"#).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Compile(_)));
    assert!(
        error.to_string().starts_with("invalid wasm at offset 0x"),
        "{error}"
    );
    assert!(error.to_string().contains("type mismatch"), "{error}");

    let error = Module::new(&engine, b"\0asm\x01\0\0\0\x01\xff").unwrap_err();
    assert!(
        error.to_string().starts_with("invalid wasm at offset 0x"),
        "{error}"
    );

    let error = Module::new(&engine, "(module (func (").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("failed to parse WebAssembly text"),
        "{error}"
    );
}

/// The proposal a compile error says the module needs, if it says one.
fn disabled_feature(error: &cljit::Error) -> Option<&'static str> {
    match error.kind() {
        cljit::ErrorKind::Compile(cljit::CompileError::DisabledFeature { feature, .. }) => {
            Some(*feature)
        }
        _ => None,
    }
}

#[test]
fn unsupported_features_are_refused_clearly() {
    let mut config = Config::new();
    config.wasm_feature("stack-switching", true).unwrap();
    let error = Engine::new(&config).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not supported by cljit yet: stack-switching"),
        "{error}"
    );
    assert!(Config::new().wasm_feature("teleportation", true).is_err());

    // SIMD is on by default; turned off, a v128 module does not validate,
    // and relaxed SIMD goes with it.
    let mut config = Config::new();
    config.wasm_feature("simd", false).unwrap();
    assert!(!config.features().contains(WasmFeatures::RELAXED_SIMD));
    let no_simd = Engine::new(&config).unwrap();
    let error = Module::new(&no_simd, "(module (func (param v128)))").unwrap_err();
    assert!(error.to_string().contains("invalid wasm"), "{error}");
    let error = Module::new(
        &no_simd,
        "(module (func (result i32) (i32x4.extract_lane 0 (v128.const i64x2 1 2))))",
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("SIMD support is not enabled"),
        "{error}"
    );
    assert_eq!(disabled_feature(&error), Some("simd"));
    // Relaxed SIMD without SIMD is a contradiction, refused up front.
    config.wasm_feature("relaxed-simd", true).unwrap();
    let error = Engine::new(&config).unwrap_err();
    assert!(error.to_string().contains("relaxed-simd"), "{error}");
    // Relaxed SIMD alone can be turned off.
    let mut config = Config::new();
    config.wasm_feature("relaxed-simd", false).unwrap();
    let no_relaxed = Engine::new(&config).unwrap();
    let relaxed = "(module (func (param v128 v128) (result v128) \
                   (f32x4.relaxed_min (local.get 0) (local.get 1))))";
    let error = Module::new(&no_relaxed, relaxed).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("relaxed SIMD support is not enabled"),
        "{error}"
    );
    assert_eq!(disabled_feature(&error), Some("relaxed-simd"));
    Module::new(&engine(false), relaxed).unwrap();

    // Features can be turned off: bulk memory then no longer validates.
    let mut config = Config::new();
    config
        .wasm_feature("bulk-memory", false)
        .unwrap()
        .wasm_feature("reference-types", false)
        .unwrap();
    let engine = Engine::new(&config).unwrap();
    let error = Module::new(
        &engine,
        "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
    )
    .unwrap_err();
    assert!(error.to_string().contains("bulk memory"), "{error}");
    assert_eq!(disabled_feature(&error), Some("bulk-memory"));

    // A proposal cljit cannot compile yet is named the same way, and a
    // module that is invalid whatever is enabled names none.
    let error = Module::new(&Engine::default(), "(module (memory 1 1 shared))").unwrap_err();
    assert_eq!(disabled_feature(&error), Some("threads"));
    let error = Module::new(
        &Engine::default(),
        "(module (func (result i32) i64.const 0))",
    )
    .unwrap_err();
    assert_eq!(disabled_feature(&error), None);
}

#[test]
fn link_errors_name_the_import() {
    let engine = engine(false);
    let module = Module::new(&engine, r#"(module (import "env" "f" (func (param i32))))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let error = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown import: `env::f` (function) has not been defined"
    );

    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |_: i64| {}).unwrap();
    let error = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        error.to_string(),
        "incompatible import type for `env::f`: expected (func (param i32)), found (func (param i64))"
    );
    assert!(
        linker.func_wrap("env", "f", || {}).is_err(),
        "redefinition is refused"
    );
    let error = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(
        error.to_string().contains("expected 1 imports, got 0"),
        "{error}"
    );
}

#[test]
fn calls_check_argument_counts_and_types() {
    let (mut store, instance) = instantiate(
        &engine(false),
        r#"(module (func (export "f") (param i32) (result i32) (local.get 0)))"#,
    );
    let f = instance.get_func(&store, "f").unwrap();
    let mut out = [Val::I32(0)];
    let error = f.call(&mut store, &[], &mut out).unwrap_err();
    assert_eq!(error.to_string(), "expected 1 arguments, got 0");
    let error = f.call(&mut store, &[Val::I64(1)], &mut out).unwrap_err();
    assert_eq!(error.to_string(), "argument 0 has type i64, expected i32");
    let error = instance
        .get_typed_func::<i64, i32>(&store, "f")
        .unwrap_err();
    assert!(
        error.to_string().contains("function type mismatch"),
        "{error}"
    );
    assert!(instance.get_func(&store, "missing").is_none());
    f.call(&mut store, &[Val::I32(4)], &mut out).unwrap();
    assert_eq!(out[0].i32(), Some(4));
}

#[test]
fn instantiation_traps_keep_earlier_segments() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let exporter = Module::new(&engine, r#"(module (memory (export "m") 1))"#).unwrap();
    let exporter = Instance::new(&mut store, &exporter, &[]).unwrap();
    let memory = exporter.get_memory(&store, "m").unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "" "m" (memory 1))
             (data (i32.const 0) "ok")
             (data (i32.const 65535) "too long"))"#,
    )
    .unwrap();
    let error = Instance::new(&mut store, &module, &[memory.into()]).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::MemoryOutOfBounds));
    assert_eq!(&memory.data(&store)[..2], b"ok");
}

#[test]
fn definitions_from_another_store_are_refused_not_panics() {
    let engine = engine(false);
    let mut first = Store::new(&engine, ());
    let mut second = Store::new(&engine, ());
    let f = cljit::Func::wrap(&mut first, || {});
    let module = Module::new(&engine, r#"(module (import "" "f" (func)))"#).unwrap();
    let error = Instance::new(&mut second, &module, &[f.into()]).unwrap_err();
    assert!(
        error.to_string().contains("belongs to another store"),
        "{error}"
    );
    let mut out = [];
    assert!(f.call(&mut second, &[], &mut out).is_err());
}

#[test]
fn declared_subtypes_link_and_pass_as_values() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let provider = Module::new(
        &engine,
        r#"(module
            (type $base (sub (func (result i32))))
            (type $mid (sub $base (func (result i32))))
            (type $plain (func (result i32)))
            (func (export "m") (type $mid) (i32.const 2))
            (func (export "p") (type $plain) (i32.const 4))
            (func (export "call") (param (ref null $base)) (result i32)
                (call_ref $base (local.get 0))))"#,
    )
    .unwrap();
    let provider = Instance::new(&mut store, &provider, &[]).unwrap();
    let m = provider.get_func(&store, "m").unwrap();
    let p = provider.get_func(&store, "p").unwrap();
    let call = provider.get_func(&store, "call").unwrap();

    // A function of a subtype is a value of its supertype's reference type.
    let mut out = [Val::I32(0)];
    call.call(&mut store, &[Val::FuncRef(Some(m))], &mut out)
        .unwrap();
    assert_eq!(out[0].i32(), Some(2));
    let error = call
        .call(&mut store, &[Val::FuncRef(Some(p))], &mut out)
        .unwrap_err();
    assert!(
        error.to_string().starts_with("argument 0 has type"),
        "{error}"
    );

    // And satisfies an import of it; a type that only reads the same does
    // not, and the error says why.
    let user = Module::new(
        &engine,
        r#"(module (type $base (sub (func (result i32)))) (import "p" "f" (func (type $base))))"#,
    )
    .unwrap();
    Instance::new(&mut store, &user, &[m.into()]).unwrap();
    let error = Instance::new(&mut store, &user, &[p.into()]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "incompatible import type for `p::f`: expected (func (result i32)), found (func \
         (result i32)) (the same signature, but another type: their recursion groups or \
         declared supertypes differ)"
    );
}
