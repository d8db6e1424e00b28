//! Artifacts and the compile cache through the public API: round trips keep
//! everything a module needs (code, traps, backtraces, host calls), and
//! refusals name their cause.

use cljit::{
    ArtifactError, Cache, CacheOutcome, Config, Engine, ErrorKind, Func, Instance, Module, Store,
    Trap, Val,
};
use cljit_compiler::artifact;

const WAT: &str = r#"
(module $m
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "artifact")
  (table 2 funcref)
  (elem (i32.const 0) $twice $fail)
  (global $g (mut i32) (i32.const 5))
  (type $t (func (param i32) (result i32)))
  (func $twice (param i32) (result i32) (call $add (local.get 0) (local.get 0)))
  (func $fail (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0)))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func (export "f32") (param f32) (result f32) (f32.nearest (local.get 0)))
  (func (export "sum") (result i32)
    (i32.add (global.get $g) (i32.load8_u (i32.const 8)))))
"#;

/// Instantiates `module` with `host.add` and checks its behaviour: host
/// call, indirect call, data, globals, libcall-using float code, and a trap
/// whose backtrace names the functions.
fn exercise(engine: &Engine, module: &Module) {
    let mut store = Store::new(engine, ());
    let add = Func::wrap(&mut store, |a: i32, b: i32| a + b);
    let instance = Instance::new(&mut store, module, &[add.into()]).unwrap();
    let call = |store: &mut Store<()>, name: &str, args: &[Val]| {
        let f = instance.get_func(&*store, name).unwrap();
        let mut out = [Val::I32(0)];
        if name == "f32" {
            out[0] = Val::from(0f32);
        }
        f.call(&mut *store, args, &mut out).map(|()| out[0])
    };
    assert_eq!(
        call(&mut store, "call", &[Val::I32(0), Val::I32(21)])
            .unwrap()
            .i32(),
        Some(42)
    );
    assert_eq!(
        call(&mut store, "sum", &[]).unwrap().i32(),
        Some(5 + i32::from(b'a'))
    );
    assert_eq!(
        call(&mut store, "f32", &[Val::from(2.5f32)]).unwrap().f32(),
        Some(2.0)
    );
    let e = call(&mut store, "call", &[Val::I32(1), Val::I32(3)]).unwrap_err();
    assert_eq!(e.as_trap(), Some(Trap::IntegerDivisionByZero));
    let frames: Vec<_> = e
        .backtrace()
        .unwrap()
        .frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(frames[0], "fail", "{frames:?}");
}

#[test]
fn an_artifact_round_trip_keeps_everything() {
    for explicit in [false, true] {
        let engine = crate::engine(explicit);
        let jit = Module::new(&engine, WAT).unwrap();
        exercise(&engine, &jit);
        let bytes = engine.precompile_module(WAT.as_bytes()).unwrap();
        assert_eq!(
            bytes,
            engine.precompile_module(WAT.as_bytes()).unwrap(),
            "artifacts are deterministic"
        );
        // SAFETY: written by this engine just now.
        let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
        assert_eq!(module.name(), Some("m"));
        assert_eq!(
            module.exports().map(|(n, _)| n).collect::<Vec<_>>(),
            jit.exports().map(|(n, _)| n).collect::<Vec<_>>()
        );
        exercise(&engine, &module);
        // Several instances from one loaded artifact.
        exercise(&engine, &module);
    }
}

/// An artifact file, small (read into the heap) or large (read into a
/// mapping whose text then runs where it lies), keeps its trap tables,
/// address maps and data segments where they lie in the bytes read: traps,
/// backtraces with wasm offsets, active and passive data all match the
/// module compiled in memory, in every instance.
#[test]
fn artifact_files_use_their_tables_and_data_where_they_lie() {
    for large in [false, true] {
        let filler = if large { 5 << 20 } else { 100 };
        let wat = format!(
            r#"(module
              (memory (export "memory") 100)
              (data (i32.const 16) "active")
              (data (i32.const 65536) "{}")
              (data $passive "passive")
              (func $deep (param i32) (result i32)
                (i32.div_s (i32.const 1) (local.get 0)))
              (func (export "trap") (param i32) (result i32)
                (i32.add (i32.const 1) (call $deep (local.get 0))))
              (func (export "init")
                (memory.init $passive (i32.const 32) (i32.const 0) (i32.const 7)))
              (func (export "byte") (param i32) (result i32)
                (i32.load8_u (local.get 0))))"#,
            "z".repeat(filler)
        );
        let engine = crate::engine(false);
        let dir = std::env::temp_dir().join(format!(
            "cljit-artifact-file-{}-{large}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.cwasm");
        std::fs::write(&path, engine.precompile_module(wat.as_bytes()).unwrap()).unwrap();
        let jit = Module::new(&engine, &wat).unwrap();
        // SAFETY: written by this engine just now.
        let loaded = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let mut outcomes = Vec::new();
        for module in [&jit, &loaded, &loaded] {
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, module, &[]).unwrap();
            let byte = instance.get_typed_func::<i32, i32>(&store, "byte").unwrap();
            let init = instance.get_typed_func::<(), ()>(&store, "init").unwrap();
            let trap = instance.get_typed_func::<i32, i32>(&store, "trap").unwrap();
            init.call(&mut store, ()).unwrap();
            let bytes: Vec<i32> = [16, 21, 32, 38, 65536, 65536 + filler as i32 - 1]
                .into_iter()
                .map(|at| byte.call(&mut store, at).unwrap())
                .collect();
            assert_eq!(trap.call(&mut store, 2).unwrap(), 1);
            let e = trap.call(&mut store, 0).unwrap_err();
            let frames: Vec<_> = e
                .backtrace()
                .unwrap()
                .frames()
                .iter()
                .map(|f| (f.func_index, f.wasm_offset))
                .collect();
            assert!(frames.iter().all(|(_, at)| at.is_some()), "{frames:?}");
            outcomes.push((e.as_trap(), frames, bytes));
        }
        let expected_bytes = [b'a', b'e', b'p', b'e', b'z', b'z'].map(i32::from);
        assert_eq!(outcomes[0].0, Some(Trap::IntegerDivisionByZero));
        assert_eq!(outcomes[0].2, expected_bytes);
        assert_eq!(outcomes[0].1.len(), 2, "{:?}", outcomes[0].1);
        assert_eq!(outcomes[1], outcomes[0], "large: {large}");
        assert_eq!(outcomes[2], outcomes[0], "large: {large}");
    }
}

fn artifact_error(result: cljit::Result<Module>) -> ArtifactError {
    match result.map(|_| ()).unwrap_err().kind() {
        ErrorKind::Artifact(e) => e.clone(),
        other => panic!("expected an artifact error, got {other:?}"),
    }
}

#[test]
fn artifacts_are_refused_by_engines_that_cannot_run_them() {
    let engine = crate::engine(false);
    let bytes = engine.precompile_module(WAT.as_bytes()).unwrap();
    let load = |engine: &Engine, bytes: &[u8]| {
        // SAFETY: artifacts written by these engines, or damaged copies the
        // checks refuse before using anything.
        unsafe { Module::deserialize(engine, bytes) }
    };

    // Other settings.
    let explicit = crate::engine(true);
    let e = artifact_error(load(&explicit, &bytes));
    assert!(
        matches!(&e, ArtifactError::Settings(s) if s.contains("memory-reservation")),
        "{e}"
    );
    let mut config = Config::new();
    config.wasm_feature("simd", false).unwrap();
    let e = artifact_error(load(&Engine::new(&config).unwrap(), &bytes));
    assert!(
        matches!(&e, ArtifactError::Settings(s) if s.contains("wasm features")),
        "{e}"
    );

    // Another target: the artifact is whole, but not for this machine.
    let other = if cfg!(target_arch = "x86_64") {
        "aarch64-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    };
    let mut config = Config::new();
    config.target(other);
    let foreign = Engine::new(&config).unwrap();
    let foreign_bytes = foreign.precompile_module(WAT.as_bytes()).unwrap();
    let header = artifact::check_integrity(&foreign_bytes).unwrap();
    assert_eq!(header.target.triple, other);
    assert_eq!(
        header.source_hash,
        artifact::source_hash(&wat::parse_str(WAT).unwrap())
    );
    let e = artifact_error(load(&engine, &foreign_bytes));
    assert!(
        matches!(&e, ArtifactError::Mismatch { field: "target", found, .. } if found == other),
        "{e}"
    );
    // And the foreign engine cannot run its own artifact here.
    assert!(load(&foreign, &foreign_bytes).is_err());

    // Damage anywhere is caught before use.
    for at in [0, 8, 12, 60, bytes.len() / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        assert!(
            load(&engine, &damaged).is_err(),
            "flip at {at} was accepted"
        );
    }
    // A header length one longer (into the zero padding, where the header
    // would still decode) and a padding byte set are both damage.
    let mut longer = bytes.clone();
    longer[12] = longer[12].wrapping_add(1);
    assert!(
        load(&engine, &longer).is_err(),
        "a longer header was accepted"
    );
    let header_end = 48 + u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut padded = bytes.clone();
    padded[header_end] = 1;
    assert!(load(&engine, &padded).is_err(), "set padding was accepted");
    for len in [0, 7, 47, 49, bytes.len() - 1] {
        assert!(
            load(&engine, &bytes[..len]).is_err(),
            "cut at {len} was accepted"
        );
    }
    // Wasm is not an artifact.
    let wasm = wat::parse_str(WAT).unwrap();
    assert_eq!(
        artifact_error(load(&engine, &wasm)),
        ArtifactError::NotAnArtifact
    );
    exercise(&engine, &load(&engine, &bytes).unwrap());
}

#[test]
fn the_cache_compiles_once_and_verifies_what_it_loads() {
    let dir = std::env::temp_dir().join(format!("cljit-cache-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = crate::engine(false);
    let cache = Cache::new(&dir);

    let (module, outcome) = cache.load(&engine, WAT.as_bytes()).unwrap();
    assert_eq!(
        outcome,
        CacheOutcome::Miss {
            reason: "no entry".into(),
            stored: true
        }
    );
    exercise(&engine, &module);
    let (module, outcome) = cache.load(&engine, WAT.as_bytes()).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    exercise(&engine, &module);
    // The binary form of the same module is the same entry.
    let binary = wat::parse_str(WAT).unwrap();
    assert_eq!(cache.load(&engine, &binary).unwrap().1, CacheOutcome::Hit);

    // Another engine configuration is another entry.
    let explicit = crate::engine(true);
    assert!(matches!(
        cache.load(&explicit, WAT.as_bytes()).unwrap().1,
        CacheOutcome::Miss { .. }
    ));
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.hits, stats.misses), (2, 2, 2));

    // A damaged entry is a miss that says why, and is rewritten.
    let key = engine_key(&engine, &binary);
    let entry = cache.entry_path(&key);
    let good = std::fs::read(&entry).unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    std::fs::write(&entry, &bad).unwrap();
    match cache.load(&engine, &binary).unwrap().1 {
        CacheOutcome::Miss { reason, stored } => {
            assert!(reason.contains("checksum"), "{reason}");
            assert!(stored);
        }
        CacheOutcome::Hit => panic!("a damaged entry was used"),
    }
    assert_eq!(std::fs::read(&entry).unwrap(), good);

    // An unsigned artifact (a `cljit compile` output) put in the cache is
    // not trusted.
    std::fs::write(&entry, engine.precompile_module(&binary).unwrap()).unwrap();
    match cache.load(&engine, &binary).unwrap().1 {
        CacheOutcome::Miss { reason, .. } => assert!(reason.contains("signature"), "{reason}"),
        CacheOutcome::Hit => panic!("an unsigned entry was used"),
    }

    // An entry owned by another user is not even read (it could be
    // truncated under the mapping). Only root can make one here.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&entry, Some(65534), None).unwrap();
        match cache.load(&engine, &binary).unwrap().1 {
            CacheOutcome::Miss { reason, stored } => {
                assert_eq!(reason, "the entry is not a file of this user");
                assert!(stored);
            }
            CacheOutcome::Hit => panic!("another user's entry was used"),
        }
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(
            std::fs::metadata(&entry).unwrap().uid(),
            0,
            "replaced by ours"
        );
    }

    // Invalid wasm is still an error, and not cached.
    let e = cache.load(&engine, b"\0asm\x01\0\0\0\x05").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Compile(_)), "{e}");
    assert_eq!(cache.stats().entries, 2);

    let report = cache.verify().unwrap();
    assert_eq!((report.valid, report.removed.len()), (2, 0));
    assert_eq!(cache.clear().unwrap(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The cache key `engine` gives `wasm`, worked out from an artifact's
/// header the way `cljit cache verify` does.
fn engine_key(engine: &Engine, wasm: &[u8]) -> artifact::Digest {
    let bytes = engine.precompile_module(wasm).unwrap();
    artifact::cache_key_of(&artifact::read_header(&bytes).unwrap())
}
