//! The `spectest` host module that the WebAssembly spec scripts import.
//! <https://github.com/WebAssembly/spec/tree/main/interpreter#spectest-host-module>

use cljit::{
    AsContextMut, Global, GlobalType, Linker, Memory, MemoryType, Ref, RefType, Result,
    SharedMemory, Table, TableType, Val, ValType, WasmFeatures,
};

/// Defines `spectest` in `linker`: the print functions (silent), the four
/// 666 globals, a 10..20 funcref table and a 1..2 page memory (and, with
/// the threads proposal, a shared one).
///
/// # Errors
///
/// If allocation fails or the names are already defined.
pub fn link_spectest<T: 'static>(
    linker: &mut Linker<T>,
    mut store: impl AsContextMut<Data = T>,
) -> Result<()> {
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;

    let constant = |content| GlobalType {
        content,
        mutable: false,
    };
    let globals = [
        ("global_i32", constant(ValType::I32), Val::I32(666)),
        ("global_i64", constant(ValType::I64), Val::I64(666)),
        ("global_f32", constant(ValType::F32), Val::from(666.6f32)),
        ("global_f64", constant(ValType::F64), Val::from(666.6f64)),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut store, ty, value)?;
        linker.define("spectest", name, global)?;
    }

    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Ref::Func(None),
    )?;
    linker.define("spectest", "table", table)?;

    let memory = Memory::new(&mut store, MemoryType::new(1, Some(2)))?;
    linker.define("spectest", "memory", memory)?;

    // The threads proposal's scripts import a shared one.
    let engine = store.as_context_mut().engine().clone();
    if engine.config().features().contains(WasmFeatures::THREADS) {
        let ty = MemoryType {
            shared: true,
            ..MemoryType::new(1, Some(2))
        };
        linker.define("spectest", "shared_memory", SharedMemory::new(&engine, ty)?)?;
    }
    Ok(())
}
