//! Externals: a function, global, table or memory, as imports and exports
//! carry them. Converting between an extern and its kind is the same
//! pointer (`wasm_ref_t` is every reference type), checked where the kind
//! could differ.

use crate::obj::Obj;
use crate::r#ref::{wasm_extern_t, wasm_ref_t};
use crate::types::{externkind, wasm_externtype_t};
use crate::vec::vector_functions;

/// The C kind of an extern (functions for anything else, which C cannot
/// pass as an extern without a cast the standard does not have).
fn kind(r: &wasm_ref_t) -> u8 {
    match r.obj {
        Obj::Global(_) => externkind::GLOBAL,
        Obj::Table(_) => externkind::TABLE,
        Obj::Memory(_) => externkind::MEMORY,
        _ => externkind::FUNC,
    }
}

/// `wasm_extern_kind`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_extern_kind(e: &wasm_extern_t) -> u8 {
    kind(e)
}

/// `wasm_extern_type`.
#[unsafe(no_mangle)]
pub extern "C" fn wasm_extern_type(e: &wasm_extern_t) -> Option<Box<wasm_externtype_t>> {
    let ext = e.as_extern()?;
    crate::guard(None, || {
        let ty = ext.ty(&e.store_mut().store);
        Some(Box::new(wasm_externtype_t::new(&ty)))
    })
}

/// Defines the conversions between externs and one kind of them.
macro_rules! extern_casts {
    ($kind:expr, $to:ident, $to_const:ident, $from:ident, $from_const:ident) => {
        #[doc = concat!("`", stringify!($to), "`: the same object, as an extern.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $to(r: Option<&mut wasm_ref_t>) -> Option<&mut wasm_ref_t> {
            r
        }

        #[doc = concat!("`", stringify!($to_const), "`: the same object, as an extern.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $to_const(r: Option<&wasm_ref_t>) -> Option<&wasm_ref_t> {
            r
        }

        #[doc = concat!("`", stringify!($from), "`: NULL if the extern is another kind.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $from(r: Option<&mut wasm_ref_t>) -> Option<&mut wasm_ref_t> {
            r.filter(|r| crate::r#ref::is_extern(&r.obj) && kind(r) == $kind)
        }

        #[doc = concat!("`", stringify!($from_const), "`: NULL if the extern is another kind.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $from_const(r: Option<&wasm_ref_t>) -> Option<&wasm_ref_t> {
            r.filter(|r| crate::r#ref::is_extern(&r.obj) && kind(r) == $kind)
        }
    };
}

extern_casts!(
    externkind::FUNC,
    wasm_func_as_extern,
    wasm_func_as_extern_const,
    wasm_extern_as_func,
    wasm_extern_as_func_const
);
extern_casts!(
    externkind::GLOBAL,
    wasm_global_as_extern,
    wasm_global_as_extern_const,
    wasm_extern_as_global,
    wasm_extern_as_global_const
);
extern_casts!(
    externkind::TABLE,
    wasm_table_as_extern,
    wasm_table_as_extern_const,
    wasm_extern_as_table,
    wasm_extern_as_table_const
);
extern_casts!(
    externkind::MEMORY,
    wasm_memory_as_extern,
    wasm_memory_as_extern_const,
    wasm_extern_as_memory,
    wasm_extern_as_memory_const
);

vector_functions!(
    wasm_extern_vec_t,
    Option<Box<wasm_ref_t>>,
    "wasm_extern_t*",
    wasm_extern_vec_new_empty,
    wasm_extern_vec_new_uninitialized,
    wasm_extern_vec_new,
    wasm_extern_vec_copy,
    wasm_extern_vec_delete
);
