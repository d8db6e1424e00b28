//! Host functions: typed and untyped, reaching the caller's memory,
//! returning errors, panicking, and calling back into wasm.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use cljit::{
    Caller, Error, Func, FuncType, Global, GlobalType, Instance, Linker, Module, Ref, RefType,
    Store, Table, TableType, Trap, Val, ValType,
};

use crate::engine;

#[test]
fn typed_host_functions_read_caller_memory_and_store_data() {
    let engine = engine(false);
    let mut linker: Linker<Vec<String>> = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "log",
            |mut caller: Caller<'_, Vec<String>>, ptr: u32, len: u32| -> cljit::Result<u32> {
                let memory = caller
                    .get_export("memory")
                    .and_then(|e| e.into_memory())
                    .ok_or_else(|| Error::msg("no memory"))?;
                let mut buf = vec![0; len as usize];
                memory.read(&caller, ptr as usize, &mut buf)?;
                caller
                    .data_mut()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                Ok(len * 2)
            },
        )
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "log" (func $log (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello, host")
            (func (export "run") (result i32) (call $log (i32.const 16) (i32.const 11))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), i32>(&store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 22);
    assert_eq!(store.data(), &["hello, host".to_string()]);
}

#[test]
fn host_errors_propagate_unchanged_and_the_store_recovers() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let calls = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&calls);
    let fail = Func::wrap(&mut store, move |x: i32| -> cljit::Result<i32> {
        counter.fetch_add(1, Ordering::SeqCst);
        if x < 0 {
            Err(Error::exit(3))
        } else {
            Ok(x + 1)
        }
    });
    let module = Module::new(
        &engine,
        r#"(module (import "" "f" (func $f (param i32) (result i32)))
             (func (export "g") (param i32) (result i32) (i32.mul (call $f (local.get 0)) (i32.const 10))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[fail.into()]).unwrap();
    let g = instance.get_typed_func::<i32, i32>(&store, "g").unwrap();
    let error = g.call(&mut store, -1).unwrap_err();
    assert_eq!(error.exit_status(), Some(3));
    assert_eq!(error.as_trap(), None);
    assert_eq!(g.call(&mut store, 4).unwrap(), 50);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn host_panics_resume_in_the_caller_and_the_store_recovers() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let boom = Func::wrap(&mut store, |x: i32| -> i32 {
        if x == 0 {
            panic!("host function panicked on purpose");
        }
        x
    });
    let module = Module::new(
        &engine,
        r#"(module (import "" "f" (func $f (param i32) (result i32)))
             (func (export "g") (param i32) (result i32) (call $f (local.get 0))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[boom.into()]).unwrap();
    let g = instance.get_typed_func::<i32, i32>(&store, "g").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.call(&mut store, 0)));
    let payload = caught.expect_err("the panic comes back");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"host function panicked on purpose")
    );
    assert_eq!(g.call(&mut store, 7).unwrap(), 7);
}

#[test]
fn wasm_host_wasm_reentrancy_and_nested_traps() {
    let engine = engine(false);
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "host" (func $host (param i32) (result i32)))
            (func (export "inner") (param i32) (result i32)
              (if (result i32) (i32.eqz (local.get 0)) (then unreachable) (else (i32.mul (local.get 0) (i32.const 3)))))
            (func (export "outer") (param i32) (result i32) (i32.add (call $host (local.get 0)) (i32.const 1))))"#,
    )
    .unwrap();
    let mut linker: Linker<Option<Instance>> = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "host",
            |mut caller: Caller<'_, Option<Instance>>, x: i32| -> cljit::Result<i32> {
                let instance = caller.data().expect("set before calls");
                let inner = instance.get_typed_func::<i32, i32>(&caller, "inner")?;
                inner.call(&mut caller, x)
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, None);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    *store.data_mut() = Some(instance);
    let outer = instance
        .get_typed_func::<i32, i32>(&store, "outer")
        .unwrap();
    assert_eq!(outer.call(&mut store, 5).unwrap(), 16);
    let error = outer.call(&mut store, 0).unwrap_err();
    assert_eq!(error.as_trap(), Some(Trap::UnreachableCodeReached));
    assert_eq!(outer.call(&mut store, 2).unwrap(), 7);
}

#[test]
fn untyped_host_functions_check_their_results() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([ValType::I64], [ValType::I64]);
    let good = Func::new(&mut store, ty.clone(), |_, params, results| {
        results[0] = Val::I64(params[0].i64().unwrap() * 2);
        Ok(())
    });
    let bad = Func::new(&mut store, ty, |_, _, results| {
        results[0] = Val::I32(1);
        Ok(())
    });
    let mut out = [Val::I64(0)];
    good.call(&mut store, &[Val::I64(21)], &mut out).unwrap();
    assert_eq!(out[0].i64(), Some(42));
    let error = bad.call(&mut store, &[Val::I64(1)], &mut out).unwrap_err();
    assert!(error.to_string().contains("expected i64"), "{error}");
}

#[test]
fn host_functions_in_tables_are_callable_indirectly() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Ref::Func(None),
    )
    .unwrap();
    // Never imported by any module: the engine compiles its wasm entry.
    let triple = Func::wrap(&mut store, |x: i64, y: f64| -> f64 { x as f64 * 3.0 + y });
    table.set(&mut store, 1, Ref::Func(Some(triple))).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "" "t" (table 2 funcref))
             (type $t (func (param i64 f64) (result f64)))
             (func (export "call") (param i32) (result f64)
               (call_indirect (type $t) (i64.const 5) (f64.const 0.5) (local.get 0))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[table.into()]).unwrap();
    let call = instance.get_typed_func::<i32, f64>(&store, "call").unwrap();
    assert_eq!(call.call(&mut store, 1).unwrap(), 15.5);
    assert_eq!(
        call.call(&mut store, 0).unwrap_err().as_trap(),
        Some(Trap::IndirectCallToNull)
    );
}

#[test]
fn host_globals_are_shared_with_wasm() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let counter = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I64,
            mutable: true,
        },
        Val::I64(40),
    )
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "" "g" (global $g (mut i64)))
             (func (export "bump") (result i64)
               (global.set $g (i64.add (global.get $g) (i64.const 1))) (global.get $g)))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[counter.into()]).unwrap();
    let bump = instance.get_typed_func::<(), i64>(&store, "bump").unwrap();
    assert_eq!(bump.call(&mut store, ()).unwrap(), 41);
    counter.set(&mut store, Val::I64(100)).unwrap();
    assert_eq!(bump.call(&mut store, ()).unwrap(), 101);
    assert_eq!(counter.get(&store).i64(), Some(101));
    let constant = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I32,
            mutable: false,
        },
        Val::I32(1),
    )
    .unwrap();
    assert!(constant.set(&mut store, Val::I32(2)).is_err());
}

/// A tail call into a host function (direct, and through a table) passes
/// its arguments and the caller's instance, and its result and errors go
/// straight to the tail-calling function's caller, also at the end of a
/// million tail calls.
#[test]
fn tail_calls_into_host_functions() {
    let engine = engine(false);
    let mut linker: Linker<u32> = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "scale",
            |mut caller: Caller<'_, u32>, x: i32| -> cljit::Result<i32> {
                *caller.data_mut() += 1;
                let factor = caller
                    .get_export("factor")
                    .and_then(|e| e.into_global())
                    .ok_or_else(|| Error::msg("no factor"))?
                    .get(&mut caller)
                    .i32()
                    .ok_or_else(|| Error::msg("factor is not an i32"))?;
                if x < 0 {
                    return Err(Error::msg("negative"));
                }
                Ok(x * factor)
            },
        )
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "scale" (func $scale (param i32) (result i32)))
            (global (export "factor") i32 (i32.const 3))
            (type $unary (func (param i32) (result i32)))
            (table funcref (elem $scale))
            (func (export "direct") (param i32) (result i32)
              (return_call $scale (local.get 0)))
            (func (export "indirect") (param i32) (result i32)
              (return_call_indirect (type $unary) (local.get 0) (i32.const 0)))
            (func $countdown (export "countdown") (param i32) (result i32)
              (if (result i32) (local.get 0)
                (then (return_call $countdown (i32.sub (local.get 0) (i32.const 1))))
                (else (return_call $scale (i32.const 14))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, 0);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    for name in ["direct", "indirect"] {
        let f = instance.get_typed_func::<i32, i32>(&store, name).unwrap();
        assert_eq!(f.call(&mut store, 5).unwrap(), 15, "{name}");
        let error = f.call(&mut store, -1).unwrap_err();
        assert!(error.to_string().contains("negative"), "{name}: {error}");
    }
    let countdown = instance
        .get_typed_func::<i32, i32>(&store, "countdown")
        .unwrap();
    assert_eq!(countdown.call(&mut store, 1_000_000).unwrap(), 42);
    assert_eq!(*store.data(), 5);
}

/// Typed function references at the host boundary: arguments, table
/// elements and globals are checked against the concrete type and
/// nullability, and the same type spelled at another index in another
/// module is the same type.
#[test]
fn typed_function_references_are_checked_at_the_host_boundary() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (type $i2i (func (param i32) (result i32)))
            (type $void (func))
            (func $inc (export "inc") (type $i2i) (i32.add (local.get 0) (i32.const 1)))
            (func (export "nothing") (type $void))
            (func (export "apply") (param (ref $i2i)) (param i32) (result i32)
              (call_ref $i2i (local.get 1) (local.get 0)))
            (func (export "apply_or_zero") (param (ref null $i2i)) (result i32)
              (block $null
                (return (call_ref $i2i (i32.const 9) (br_on_null $null (local.get 0)))))
              (i32.const 0))
            (table (export "table") 2 (ref $i2i) (ref.func $inc))
            (global (export "global") (mut (ref null $i2i)) (ref.null $i2i)))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let inc = instance.get_func(&store, "inc").unwrap();
    let nothing = instance.get_func(&store, "nothing").unwrap();
    let apply = instance.get_func(&store, "apply").unwrap();
    let mut out = [Val::I32(0)];

    apply
        .call(
            &mut store,
            &[Val::FuncRef(Some(inc)), Val::I32(41)],
            &mut out,
        )
        .unwrap();
    assert_eq!(out[0].i32(), Some(42));
    for (what, arg) in [
        ("null", Val::FuncRef(None)),
        ("a function of another type", Val::FuncRef(Some(nothing))),
    ] {
        let error = apply
            .call(&mut store, &[arg, Val::I32(1)], &mut out)
            .unwrap_err();
        assert!(error.to_string().contains("argument 0"), "{what}: {error}");
    }
    let apply_or_zero = instance.get_func(&store, "apply_or_zero").unwrap();
    apply_or_zero
        .call(&mut store, &[Val::FuncRef(None)], &mut out)
        .unwrap();
    assert_eq!(out[0].i32(), Some(0));
    apply_or_zero
        .call(&mut store, &[Val::FuncRef(Some(inc))], &mut out)
        .unwrap();
    assert_eq!(out[0].i32(), Some(10));

    // The table's type is non-nullable: null and other types are refused,
    // and it started full of `inc`.
    let table = instance.get_table(&store, "table").unwrap();
    let element = table.ty(&store).element;
    assert!(!element.nullable);
    assert!(table.set(&mut store, 0, Ref::Func(None)).is_err());
    assert!(table.set(&mut store, 0, Ref::Func(Some(nothing))).is_err());
    table.set(&mut store, 0, Ref::Func(Some(inc))).unwrap();
    assert!(matches!(table.get(&store, 1), Some(Ref::Func(Some(_)))));
    assert!(
        Table::new(
            &mut store,
            TableType::new(element, 1, None),
            Ref::Func(None)
        )
        .is_err()
    );
    let own = Table::new(
        &mut store,
        TableType::new(element, 1, None),
        Ref::Func(Some(inc)),
    );
    assert!(own.is_ok());

    let global = instance.get_global(&store, "global").unwrap();
    assert!(global.set(&mut store, Val::FuncRef(Some(nothing))).is_err());
    global.set(&mut store, Val::FuncRef(Some(inc))).unwrap();
    global.set(&mut store, Val::FuncRef(None)).unwrap();

    // Another module names the type at another index: its import of
    // `apply` has the same engine type as the export.
    let other = Module::new(
        &engine,
        r#"(module
            (type $pad (func (param f64)))
            (type $i2i (func (param i32) (result i32)))
            (import "m" "apply" (func (param (ref $i2i)) (param i32) (result i32))))"#,
    )
    .unwrap();
    let (_, _, imported) = other.imports().next().unwrap();
    let (_, exported) = module.exports().find(|(name, _)| *name == "apply").unwrap();
    assert_eq!(imported.to_string(), exported.to_string());
    Instance::new(&mut store, &other, &[apply.into()]).unwrap();
}
