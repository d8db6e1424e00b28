//! GC references through the embedding API: `i31`s made by the host and
//! by wasm, host values seen as `anyref` and back, and `anyref` tables and
//! globals, each checked against the types they are given to.

use cljit::{
    AnyRef, ExternRef, Func, Global, GlobalType, HeapType, I31, Ref, RefType, Table, TableType,
    Val, ValType,
};

use crate::{engine, instantiate};

const MODULE: &str = r#"(module
    (func (export "get_s") (param i31ref) (result i32) (i31.get_s (local.get 0)))
    (func (export "make") (param i32) (result (ref i31)) (ref.i31 (local.get 0)))
    (func (export "is_i31") (param anyref) (result i32) (ref.test (ref i31) (local.get 0)))
    (func (export "to_extern") (param anyref) (result externref)
        (extern.convert_any (local.get 0)))
    (func (export "to_any") (param externref) (result anyref)
        (any.convert_extern (local.get 0))))"#;

fn call(mut store: impl cljit::AsContextMut, f: Func, args: &[Val]) -> cljit::Result<Val> {
    let mut results = [Val::I32(0)];
    let ty = f.ty(&store);
    results[0] = Val::default_for(ty.results()[0]);
    f.call(&mut store, args, &mut results)?;
    Ok(results[0])
}

#[test]
fn i31_values_cross_in_both_directions() {
    let (mut store, instance) = instantiate(&engine(false), MODULE);
    let get_s = instance.get_func(&store, "get_s").unwrap();
    let make = instance.get_func(&store, "make").unwrap();

    let minus_two = AnyRef::from_i31(&mut store, I31::new_i32(-2).unwrap());
    let v = call(&mut store, get_s, &[Val::AnyRef(Some(minus_two))]).unwrap();
    assert_eq!(v.i32(), Some(-2));
    let error = call(&mut store, get_s, &[Val::AnyRef(None)]).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::NullI31Reference));

    let Val::AnyRef(Some(made)) = call(&mut store, make, &[Val::I32(-1)]).unwrap() else {
        panic!("make returns a non-null anyref");
    };
    assert_eq!(made.as_i31().map(I31::get_u32), Some(0x7fff_ffff));
    assert_eq!(made.as_i31().map(I31::get_i32), Some(-1));
    assert!(made.is_eq());
}

#[test]
fn host_values_seen_as_any_keep_their_identity_and_type() {
    let (mut store, instance) = instantiate(&engine(false), MODULE);
    let is_i31 = instance.get_func(&store, "is_i31").unwrap();
    let to_extern = instance.get_func(&store, "to_extern").unwrap();
    let to_any = instance.get_func(&store, "to_any").unwrap();
    let get_s = instance.get_func(&store, "get_s").unwrap();

    let host = ExternRef::new(&mut store, "hello");
    let Val::AnyRef(Some(any)) = call(&mut store, to_any, &[Val::ExternRef(Some(host))]).unwrap()
    else {
        panic!("a non-null externref converts to a non-null anyref");
    };
    assert_eq!(any, host.to_any());
    assert!(!any.is_i31() && !any.is_eq());
    let v = call(&mut store, is_i31, &[Val::AnyRef(Some(any))]).unwrap();
    assert_eq!(v.i32(), Some(0));
    // A host value as `any` is not an `i31ref`: the call is refused.
    assert!(call(&mut store, get_s, &[Val::AnyRef(Some(any))]).is_err());

    let Val::ExternRef(Some(back)) =
        call(&mut store, to_extern, &[Val::AnyRef(Some(any))]).unwrap()
    else {
        panic!("a non-null anyref converts to a non-null externref");
    };
    assert_eq!(back, host);
    let data = back.data(&store).unwrap();
    assert_eq!(data.downcast_ref::<&str>(), Some(&"hello"));

    // An i31 as an externref has no host data, and converts back.
    let seven = AnyRef::from_i31(&mut store, I31::wrapping_u32(7));
    let Val::ExternRef(Some(e)) = call(&mut store, to_extern, &[Val::AnyRef(Some(seven))]).unwrap()
    else {
        panic!("an i31 converts to a non-null externref");
    };
    assert!(e.data(&store).is_err());
    assert_eq!(e.to_any().as_i31().map(I31::get_u32), Some(7));
}

#[test]
fn anyref_tables_and_globals_hold_i31s_and_check_their_types() {
    let engine = engine(false);
    let (mut store, _) = instantiate(&engine, "(module)");
    let five = AnyRef::from_i31(&mut store, I31::wrapping_u32(5));

    let ty = TableType::new(RefType::ANYREF, 2, None);
    let table = Table::new(&mut store, ty, Ref::Any(Some(five))).unwrap();
    let Some(Ref::Any(Some(got))) = table.get(&store, 1) else {
        panic!("the table's elements are the initial anyref");
    };
    assert_eq!(got.as_i31().map(I31::get_u32), Some(5));

    let i31_only = GlobalType {
        content: ValType::Ref(RefType::new(false, HeapType::I31)),
        mutable: false,
    };
    let g = Global::new(&mut store, i31_only, Val::AnyRef(Some(five))).unwrap();
    let Val::AnyRef(Some(v)) = g.get(&store) else {
        panic!("the global holds an i31");
    };
    assert_eq!(v, five);
    // Null is not a `(ref i31)`, nor a host value an `i31`.
    assert!(Global::new(&mut store, i31_only, Val::AnyRef(None)).is_err());
    let host = ExternRef::new(&mut store, 1u32).to_any();
    assert!(Global::new(&mut store, i31_only, Val::AnyRef(Some(host))).is_err());
}

/// A store whose GC heap may take `bytes`.
fn small_heap_store(engine: &cljit::Engine, bytes: usize) -> cljit::Store<cljit::StoreLimits> {
    let mut store = cljit::Store::new(
        engine,
        cljit::StoreLimitsBuilder::new().gc_heap_size(bytes).build(),
    );
    store.limiter(|limits| limits);
    store
}

const PROGRAMS: &str = include_str!("../gc/programs.wat");

#[test]
fn a_gc_program_runs_in_a_small_heap_collecting_thousands_of_times() {
    let engine = engine(false);
    let module = cljit::Module::new(&engine, PROGRAMS).unwrap();
    let mut store = small_heap_store(&engine, 256 * 1024);
    let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
    let list = instance.get_typed_func::<i32, i32>(&store, "list").unwrap();
    let trees = instance
        .get_typed_func::<(i32, i32), i32>(&store, "trees")
        .unwrap();
    let hashmap = instance
        .get_typed_func::<(i32, i32), i32>(&store, "hashmap")
        .unwrap();
    let arrays = instance
        .get_typed_func::<(i32, i32), i32>(&store, "arrays")
        .unwrap();

    // 4,000 nodes (128 KB, half the heap) a list; each call's garbage is
    // collected by the next ones. Frames are read through stack maps, so
    // no dead reference left in a frame keeps an old list alive.
    for _ in 0..200 {
        assert_eq!(list.call(&mut store, 4000).unwrap(), 4000 * 3999 / 2);
    }
    // Depth 10: 2,047 nodes a tree, one long-lived and 400 short-lived.
    assert_eq!(trees.call(&mut store, (10, 400)).unwrap(), 401 * 2047);
    // Each round adds 0..2000 over 1,000 keys and looks all of them up.
    assert_eq!(
        hashmap.call(&mut store, (2000, 300)).unwrap(),
        300 * (2000 * 1999 / 2)
    );
    // Arrays of 100 KiB: large objects, freed one by one (two fit).
    assert_eq!(arrays.call(&mut store, (2000, 12_800)).unwrap(), 12_800);

    let (footprint, collections) = store.gc_heap_stats();
    assert!(
        footprint <= 256 * 1024,
        "the heap kept to its limit: {footprint}"
    );
    assert!(collections >= 1000, "only {collections} collections");
}

#[test]
fn a_full_heap_traps_and_the_store_recovers() {
    let engine = engine(false);
    let module = cljit::Module::new(&engine, PROGRAMS).unwrap();
    let mut store = small_heap_store(&engine, 256 * 1024);
    let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
    let hoard = instance
        .get_typed_func::<i32, i32>(&store, "hoard")
        .unwrap();
    let error = hoard.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::GcHeapOutOfMemory));
    // What the trapped call held is garbage now.
    assert!(store.gc() > 0);
    assert_eq!(hoard.call(&mut store, 1000).unwrap(), 1000);
    let arrays = instance
        .get_typed_func::<(i32, i32), i32>(&store, "arrays")
        .unwrap();
    // An array larger than the whole heap, and one whose size overflows.
    let error = arrays.call(&mut store, (1, 1 << 20)).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::GcHeapOutOfMemory));
    let error = arrays.call(&mut store, (1, i32::MAX)).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::GcHeapOutOfMemory));
}

#[test]
fn cycles_and_deep_lists_survive_collections_while_reachable() {
    let engine = engine(false);
    let module = cljit::Module::new(&engine, PROGRAMS).unwrap();
    let mut store = small_heap_store(&engine, 4 << 20);
    let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
    let cycle = instance.get_func(&store, "cycle").unwrap();
    let sum_n = instance.get_func(&store, "sum_n").unwrap();
    let list = instance.get_typed_func::<i32, i32>(&store, "list").unwrap();

    // 50,000 nodes in a cycle, held by a host handle only.
    let head = call(&mut store, cycle, &[Val::I32(50_000)]).unwrap();
    let before = store.gc_heap_stats();
    for _ in 0..100 {
        list.call(&mut store, 10_000).unwrap();
    }
    assert!(store.gc_heap_stats().1 > before.1, "collections ran");
    let expect: i64 = (0..50_000i64).sum::<i64>() * 2;
    let sum = call(&mut store, sum_n, &[head, Val::I32(100_000)]).unwrap();
    assert_eq!(sum.i32(), Some(expect as i32), "twice round the cycle");
}

#[test]
fn objects_in_wasm_frames_survive_collections_in_host_calls_and_traps() {
    let engine = engine(false);
    let module = cljit::Module::new(
        &engine,
        r#"(module
            (type $box (struct (field (mut i32))))
            (import "host" "churn" (func $churn))
            (global $kept (mut (ref null $box)) (ref.null $box))
            (func (export "garbage") (param $n i32)
                (loop $l
                    (drop (struct.new $box (local.get $n)))
                    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
            (func (export "hold") (param i32) (result i32)
                (local $b (ref $box))
                (local.set $b (struct.new $box (local.get 0)))
                (call $churn)
                (struct.get $box 0 (local.get $b)))
            (func (export "keep_and_trap") (param i32)
                (global.set $kept (struct.new $box (local.get 0)))
                (drop (struct.new $box (i32.const 0)))
                (unreachable))
            (func (export "kept") (result i32)
                (struct.get $box 0 (global.get $kept))))"#,
    )
    .unwrap();
    let mut store = small_heap_store(&engine, 1 << 20);
    let mut linker = cljit::Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "churn",
            |mut caller: cljit::Caller<'_, cljit::StoreLimits>| -> cljit::Result<()> {
                let garbage = caller
                    .get_export("garbage")
                    .and_then(|e| e.into_func())
                    .ok_or_else(|| cljit::Error::msg("no garbage export"))?;
                // Enough garbage to collect many times below `hold`.
                garbage.call(&mut caller, &[Val::I32(200_000)], &mut [])
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let hold = instance.get_typed_func::<i32, i32>(&store, "hold").unwrap();
    let (_, before) = store.gc_heap_stats();
    for i in 0..5 {
        assert_eq!(hold.call(&mut store, 1000 + i).unwrap(), 1000 + i);
    }
    assert!(store.gc_heap_stats().1 >= before + 5, "collections ran");

    let keep = instance
        .get_typed_func::<i32, ()>(&store, "keep_and_trap")
        .unwrap();
    let error = keep.call(&mut store, 77).unwrap_err();
    assert_eq!(error.as_trap(), Some(cljit::Trap::UnreachableCodeReached));
    store.gc();
    let kept = instance.get_typed_func::<(), i32>(&store, "kept").unwrap();
    assert_eq!(kept.call(&mut store, ()).unwrap(), 77);
}

#[test]
fn stores_on_many_threads_collect_their_own_heaps() {
    let engine = engine(false);
    let module = cljit::Module::new(&engine, PROGRAMS).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || {
                let mut store = small_heap_store(&engine, 512 * 1024);
                let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
                let trees = instance
                    .get_typed_func::<(i32, i32), i32>(&store, "trees")
                    .unwrap();
                let depth = 8 + t;
                let nodes = (1 << (depth + 1)) - 1;
                assert_eq!(trees.call(&mut store, (depth, 100)).unwrap(), 101 * nodes);
                store.gc_heap_stats().1
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap() > 0, "every store collected");
    }
}

#[test]
fn the_host_reads_and_writes_fields_and_elements_of_rooted_objects() {
    let engine = engine(false);
    let (mut store, instance) = instantiate(
        &engine,
        r#"(module
            (type $pair (struct (field i32) (field (mut i64)) (field (mut i8))))
            (type $bytes (array (mut i8)))
            (type $frozen (array i32))
            (func (export "pair") (result anyref)
                (struct.new $pair (i32.const -5) (i64.const 9) (i32.const 255)))
            (func (export "bytes") (result anyref)
                (array.new $bytes (i32.const 200) (i32.const 3)))
            (func (export "frozen") (result anyref)
                (array.new_fixed $frozen 2 (i32.const 1) (i32.const 2)))
            (func (export "garbage") (param $n i32)
                (loop $l
                    (drop (struct.new $pair (i32.const 0) (i64.const 0) (i32.const 0)))
                    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#,
    );
    let get = |store: &mut cljit::Store<()>, name: &str| {
        let f = instance.get_func(&*store, name).unwrap();
        let Val::AnyRef(Some(a)) = call(store, f, &[]).unwrap() else {
            panic!("{name} returns an object");
        };
        a
    };
    let pair = get(&mut store, "pair");
    let bytes = get(&mut store, "bytes");
    let frozen = get(&mut store, "frozen");
    assert!(pair.is_struct() && !pair.is_array() && pair.is_eq());
    assert!(bytes.is_array() && !bytes.is_i31());

    assert_eq!(pair.field(&store, 0).unwrap().i32(), Some(-5));
    assert_eq!(pair.field(&store, 1).unwrap().i64(), Some(9));
    assert_eq!(
        pair.field(&store, 2).unwrap().i32(),
        Some(255),
        "packed: zero-extended"
    );
    pair.set_field(&mut store, 1, Val::I64(-1)).unwrap();
    pair.set_field(&mut store, 2, Val::I32(0x1234)).unwrap();
    assert_eq!(
        pair.field(&store, 2).unwrap().i32(),
        Some(0x34),
        "packed: truncated"
    );
    assert!(
        pair.set_field(&mut store, 0, Val::I32(1)).is_err(),
        "immutable"
    );
    assert!(
        pair.set_field(&mut store, 1, Val::I32(1)).is_err(),
        "wrong type"
    );
    assert!(pair.field(&store, 3).is_err());
    assert!(pair.array_len(&store).is_err());

    assert_eq!(bytes.array_len(&store).unwrap(), 3);
    bytes.array_set(&mut store, 2, Val::I32(7)).unwrap();
    assert_eq!(bytes.array_get(&store, 2).unwrap().i32(), Some(7));
    assert_eq!(bytes.array_get(&store, 0).unwrap().i32(), Some(200));
    assert!(bytes.array_get(&store, 3).is_err());
    assert!(
        frozen.array_set(&mut store, 0, Val::I32(5)).is_err(),
        "immutable"
    );

    // Handles made outside any scope root their objects until the store
    // ends: a collection after much garbage frees the garbage and keeps
    // them.
    let garbage = instance.get_func(&store, "garbage").unwrap();
    garbage
        .call(&mut store, &[Val::I32(100_000)], &mut [])
        .unwrap();
    assert!(store.gc() > 0, "the garbage was freed");
    assert_eq!(pair.field(&store, 1).unwrap().i64(), Some(-1));
    assert_eq!(frozen.array_get(&store, 1).unwrap().i32(), Some(2));

    // A handle belongs to its store.
    let (other, _) = instantiate(&engine, "(module)");
    assert!(pair.field(&other, 0).is_err());
}

/// A module whose `make` returns a fresh 1 KiB array, `len` an array's
/// length, and whose `visit`
/// hands `n` fresh structs to the host import `host.see`.
const HANDLES: &str = r#"(module
    (type $block (array (mut i64)))
    (type $pair (struct (field i32) (field i64)))
    (import "host" "see" (func $see (param anyref)))
    (func (export "make") (param $v i64) (result anyref)
        (array.new $block (local.get $v) (i32.const 126)))
    (func (export "len") (param anyref) (result i32)
        (array.len (ref.cast (ref $block) (local.get 0))))
    (func (export "visit") (param $n i32)
        (loop $l
            (call $see (struct.new $pair (local.get $n) (i64.const 0)))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

/// The type of `host.see`.
fn see_type() -> cljit::FuncType {
    cljit::FuncType::new([cljit::ValType::Ref(RefType::ANYREF)], [])
}

#[test]
fn handles_made_in_a_root_scope_end_with_it_and_are_refused_after() {
    let engine = engine(false);
    let module = cljit::Module::new(&engine, HANDLES).unwrap();
    let mut store = small_heap_store(&engine, 256 * 1024);
    let see = Func::new(&mut store, see_type(), |_, _, _| Ok(()));
    let instance = cljit::Instance::new(&mut store, &module, &[see.into()]).unwrap();
    let make = instance.get_func(&store, "make").unwrap();
    // 2,000 arrays of 1 KiB, 8 MB in all, each looked at through a handle:
    // without the scope every one would stay rooted and the 256 KiB heap
    // would run out.
    let mut last = None;
    for i in 0..2000i64 {
        let mut scope = cljit::RootScope::new(&mut store);
        let Val::AnyRef(Some(block)) = call(&mut scope, make, &[Val::I64(i)]).unwrap() else {
            panic!("make returns an array");
        };
        assert_eq!(block.array_len(&scope).unwrap(), 126);
        assert_eq!(block.array_get(&scope, 125).unwrap().i64(), Some(i));
        last = Some(block);
    }
    let last = last.unwrap();
    let error = last.array_len(&store).unwrap_err().to_string();
    assert!(error.contains("root ended"), "{error}");
    // Nor may wasm get it back.
    let len = instance.get_func(&store, "len").unwrap();
    let error = call(&mut store, len, &[Val::AnyRef(Some(last))]).unwrap_err();
    assert!(error.to_string().contains("root ended"), "{error}");
    assert!(store.gc_heap_stats().1 >= 10, "collections ran");

    // A handle made outside any scope lasts, and so do those made in an
    // outer scope while an inner one opens and closes.
    let Val::AnyRef(Some(kept)) = call(&mut store, make, &[Val::I64(7)]).unwrap() else {
        panic!("make returns an array");
    };
    {
        let mut outer = cljit::RootScope::new(&mut store);
        let Val::AnyRef(Some(a)) = call(&mut outer, make, &[Val::I64(1)]).unwrap() else {
            panic!("make returns an array");
        };
        {
            let mut inner = cljit::RootScope::new(&mut outer);
            let Val::AnyRef(Some(b)) = call(&mut inner, make, &[Val::I64(2)]).unwrap() else {
                panic!("make returns an array");
            };
            assert_eq!(b.array_get(&inner, 0).unwrap().i64(), Some(2));
        }
        cljit::AsContextMut::as_context_mut(&mut outer).gc();
        assert_eq!(a.array_get(&outer, 0).unwrap().i64(), Some(1));
    }
    store.gc();
    assert_eq!(kept.array_get(&store, 0).unwrap().i64(), Some(7));
}

#[test]
fn handles_a_host_function_gets_end_when_it_returns() {
    let engine = engine(false);
    let module = cljit::Module::new(&engine, HANDLES).unwrap();
    let mut store = small_heap_store(&engine, 256 * 1024);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    let see = Func::new(&mut store, see_type(), move |caller, params, _| {
        let Val::AnyRef(Some(pair)) = params[0] else {
            panic!("a struct");
        };
        assert!(pair.field(&caller, 0)?.i32().unwrap() > 0);
        keep.lock().unwrap().push(pair);
        Ok(())
    });
    let instance = cljit::Instance::new(&mut store, &module, &[see.into()]).unwrap();
    let visit = instance.get_func(&store, "visit").unwrap();
    // 20,000 structs of 24 bytes through a 256 KiB heap, each handed to
    // the host: the handles end with each call, so the structs are freed.
    visit
        .call(&mut store, &[Val::I32(20_000)], &mut [])
        .unwrap();
    assert!(store.gc_heap_stats().1 >= 1, "collections ran");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 20_000);
    // A handle kept past its call is refused, not dangling.
    let error = seen[0].field(&store, 0).unwrap_err().to_string();
    assert!(error.contains("root ended"), "{error}");
}

/// Runs `splay_run` of `benches/gc/gc.wat` (500 nodes, `rounds` rounds of
/// 80 changes) in a store of `engine` whose heap is capped at 6 MiB;
/// returns its result (the node count, or -1 if the tree is not whole)
/// and the store.
fn splay_in_six_mib(
    engine: &cljit::Engine,
    rounds: i32,
) -> (i32, cljit::Store<cljit::StoreLimits>) {
    let module = cljit::Module::new(engine, include_str!("../../benches/gc/gc.wat")).unwrap();
    let mut store = small_heap_store(engine, 6 << 20);
    let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<(i32, i32), i32>(&store, "splay_run")
        .unwrap();
    (run.call(&mut store, (500, rounds)).unwrap(), store)
}

#[test]
fn the_splay_workload_keeps_its_tree_whole_through_collections() {
    // 500 nodes of about 6.6 KB each (their payload trees): 3.3 MB live
    // in a 6 MiB heap, with 32,000 changes allocating some 200 MB more.
    // (When frames were scanned conservatively, stale slots kept removed
    // nodes alive, and through them more, until 16 MiB did not suffice.)
    let (nodes, store) = splay_in_six_mib(&engine(false), 400);
    assert_eq!(
        nodes, 500,
        "an in-order walk finds 500 nodes, keys increasing, payloads whole"
    );
    let (footprint, collections) = store.gc_heap_stats();
    assert!(
        footprint <= 6 << 20,
        "the heap kept to its limit: {footprint}"
    );
    assert!(collections >= 20, "only {collections} collections");
}

#[test]
fn a_module_without_gc_types_keeps_objects_it_holds_as_externrefs() {
    let engine = engine(false);
    // A makes boxes and hands them out as `externref`s; B, which declares
    // no struct or array type, holds one across a call that collects.
    let a = cljit::Module::new(
        &engine,
        r#"(module
            (type $box (struct (field i32)))
            (func (export "make") (param i32) (result externref)
                (extern.convert_any (struct.new $box (local.get 0))))
            (func (export "get") (param externref) (result i32)
                (struct.get $box 0 (ref.cast (ref $box) (any.convert_extern (local.get 0)))))
            (func (export "churn") (param $n i32)
                (loop $l
                    (drop (struct.new $box (local.get $n)))
                    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#,
    )
    .unwrap();
    let b = cljit::Module::new(
        &engine,
        r#"(module
            (import "a" "make" (func $make (param i32) (result externref)))
            (import "a" "get" (func $get (param externref) (result i32)))
            (import "a" "churn" (func $churn (param i32)))
            (func (export "hold") (param i32) (result i32)
                (local $e externref)
                (local.set $e (call $make (local.get 0)))
                (call $churn (i32.const 100000))
                (call $get (local.get $e))))"#,
    )
    .unwrap();
    let mut store = small_heap_store(&engine, 256 * 1024);
    let mut linker = cljit::Linker::new(&engine);
    let a = linker.instantiate(&mut store, &a).unwrap();
    linker.instance(&mut store, "a", a).unwrap();
    let b = linker.instantiate(&mut store, &b).unwrap();
    let hold = b.get_typed_func::<i32, i32>(&store, "hold").unwrap();
    let (_, before) = store.gc_heap_stats();
    for i in 0..20 {
        assert_eq!(hold.call(&mut store, 7000 + i).unwrap(), 7000 + i);
    }
    assert!(store.gc_heap_stats().1 >= before + 20, "collections ran");
}

#[test]
fn lazily_compiled_and_tiered_up_code_keeps_its_roots() {
    // `cljit run` compiles lazily; functions start in the fast tier and
    // hot ones are recompiled while their old frames are still running.
    // Both tiers' stack maps must be found.
    for threshold in [0, 50] {
        let mut config = cljit::Config::new();
        config
            .lazy_compilation(true)
            .lazy_tier_up_threshold(threshold)
            .lazy_tier_up_sync(true);
        let engine = cljit::Engine::new(&config).unwrap();
        let (nodes, store) = splay_in_six_mib(&engine, 200);
        assert_eq!(nodes, 500, "threshold {threshold}");
        assert!(store.gc_heap_stats().1 >= 10, "collections ran");

        let module = cljit::Module::new(&engine, PROGRAMS).unwrap();
        let mut store = small_heap_store(&engine, 256 * 1024);
        let instance = cljit::Instance::new(&mut store, &module, &[]).unwrap();
        let list = instance.get_typed_func::<i32, i32>(&store, "list").unwrap();
        for _ in 0..50 {
            assert_eq!(list.call(&mut store, 4000).unwrap(), 4000 * 3999 / 2);
        }
    }
}
