//! Tables.

use crate::env::wasm_store_t;
use crate::obj::Obj;
use crate::r#ref::{wasm_ref_t, wasm_table_t};
use crate::rt::{ExternType, Ref, RefType, Table};
use crate::types::{wasm_externtype_t, wasm_tabletype_t};

fn table_of(r: &wasm_ref_t) -> Option<Table> {
    match r.obj {
        Obj::Table(t) => Some(t),
        _ => None,
    }
}

/// The table element a C reference stands for, in a table of `element`s
/// (NULL is the null reference).
fn to_ref(r: Option<&wasm_ref_t>, element: RefType) -> Result<Ref, String> {
    // Whether the element's nullability or concrete function type allows
    // it is the table's own check.
    let func = element.is_func();
    if element.is_any() {
        // The C API has no anyref objects: a foreign object stands for
        // one, as `any.convert_extern` makes it.
        return match r.map(|r| &r.obj) {
            None => Ok(Ref::Any(None)),
            Some(Obj::Foreign(e)) => Ok(Ref::Any(Some(e.to_any()))),
            Some(_) => Err("an anyref table holds only foreign objects".into()),
        };
    }
    match (func, r.map(|r| &r.obj)) {
        (true, None) => Ok(Ref::Func(None)),
        (false, None) => Ok(Ref::Extern(None)),
        (true, Some(Obj::Func(f))) => Ok(Ref::Func(Some(*f))),
        (false, Some(Obj::Foreign(e))) => Ok(Ref::Extern(Some(*e))),
        (true, Some(_)) => Err("a function table holds only functions".into()),
        (false, Some(_)) => Err("an externref table holds only foreign objects".into()),
    }
}

/// A new C reference for a table element (NULL for null).
fn from_ref(r: Ref, store: *mut wasm_store_t) -> Option<Box<wasm_ref_t>> {
    match r {
        Ref::Func(f) => f.map(|f| wasm_ref_t::boxed(store, Obj::Func(f))),
        Ref::Extern(e) => e.map(|e| wasm_ref_t::boxed(store, Obj::Foreign(e))),
        Ref::Any(a) => a.map(|a| wasm_ref_t::boxed(store, Obj::Foreign(a.to_extern()))),
    }
}

/// `wasm_table_new`: a table of type `ty`, every element `init` (NULL:
/// null). NULL (and `cljit_last_error` says why) if refused.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_table_new(
    store: &mut wasm_store_t,
    ty: &wasm_tabletype_t,
    init: Option<&wasm_ref_t>,
) -> Option<Box<wasm_table_t>> {
    crate::guard(None, || {
        let Some(ty) = ty.table_type() else {
            crate::set_last_error("not a table type");
            return None;
        };
        let init = crate::ok_or_record(to_ref(init, ty.element))?;
        let table = crate::ok_or_record(Table::new(&mut store.store, ty, init))?;
        Some(wasm_ref_t::boxed(store, Obj::Table(table)))
    })
}

/// `wasm_table_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_table_type(t: &wasm_table_t) -> Option<Box<wasm_tabletype_t>> {
    let table = table_of(t)?;
    crate::guard(None, || {
        let ty = table.ty(&t.store_mut().store);
        Some(Box::new(wasm_externtype_t::new(&ExternType::Table(ty))))
    })
}

/// `wasm_table_get`: a new reference to the element (NULL if it is null or
/// `index` is out of bounds).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_table_get(t: &wasm_table_t, index: u32) -> Option<Box<wasm_ref_t>> {
    let table = table_of(t)?;
    crate::guard(None, || {
        let element = table.get(&t.store_mut().store, u64::from(index))?;
        from_ref(element, t.store)
    })
}

/// Runs `f` with the table's store and the element `value` stands for;
/// false (and `cljit_last_error` says why) if `t` is not a table, the
/// reference does not fit it, or `f` fails.
fn with_element(
    t: &mut wasm_table_t,
    value: Option<&wasm_ref_t>,
    f: impl FnOnce(Table, &mut crate::rt::Store<crate::env::StoreData>, Ref) -> crate::rt::Result<u64>,
) -> bool {
    let Some(table) = table_of(t) else {
        crate::set_last_error("not a table");
        return false;
    };
    crate::guard(false, || {
        let store = &mut t.store_mut().store;
        let Some(element) = crate::ok_or_record(to_ref(value, table.ty(&*store).element)) else {
            return false;
        };
        crate::ok_or_record(f(table, store, element)).is_some()
    })
}

/// `wasm_table_set`: false (and `cljit_last_error` says why) if `index` is
/// out of bounds or the reference does not fit the table.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_table_set(
    t: &mut wasm_table_t,
    index: u32,
    value: Option<&wasm_ref_t>,
) -> bool {
    with_element(t, value, |table, store, element| {
        table.set(store, u64::from(index), element).map(|()| 0)
    })
}

/// `wasm_table_size`: the number of elements.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_table_size(t: &wasm_table_t) -> u32 {
    table_of(t).map_or(0, |table| {
        crate::guard(0, || {
            u32::try_from(table.size(&t.store_mut().store)).unwrap_or(u32::MAX)
        })
    })
}

/// `wasm_table_grow`: adds `delta` elements set to `init`; false (and
/// `cljit_last_error` says why) if refused.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_table_grow(
    t: &mut wasm_table_t,
    delta: u32,
    init: Option<&wasm_ref_t>,
) -> bool {
    with_element(t, init, |table, store, element| {
        table.grow(store, u64::from(delta), element)
    })
}
