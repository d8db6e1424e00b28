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

fn call(store: &mut cljit::Store<()>, f: Func, args: &[Val]) -> cljit::Result<Val> {
    let mut results = [Val::I32(0)];
    let ty = f.ty(&*store);
    results[0] = Val::default_for(ty.results()[0]);
    f.call(&mut *store, args, &mut results)?;
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
