//! The runtime entry points ("builtins", or libcalls) that compiled code
//! calls through the VMContext's builtin table.
//!
//! The list is one macro, [`foreach_builtin_function!`](crate::foreach_builtin_function), so the compiler (which
//! builds call signatures) and the runtime (which provides the bodies, in
//! `runtime/src/libcalls.rs`) cannot drift apart: the runtime expands the
//! same macro to build its table, and a missing body is a compile error.
//!
//! Every builtin takes the caller's `vmctx` first and uses the platform C
//! calling convention. Fallible builtins return a status word: zero on
//! success, non-zero when the operation must trap with the builtin's
//! [`Builtin::trap`] kind; compiled code turns that into a trap at the call
//! site, so unwinding never crosses a Rust frame.

use super::trap::Trap;

/// Calls `$mac` with the list of builtins: `name(param: type, ...) -> type;`
/// where a type is one of `vmctx`, `i32`, `i64` or `pointer`.
#[macro_export]
macro_rules! foreach_builtin_function {
    ($mac:ident) => {
        $mac! {
            /// `memory.grow` (the delta zero-extended from `i32` for 32-bit memories): returns the old size in pages, `-1`, or [`GROW_TRAP`].
            memory_grow(vmctx: vmctx, memory: i32, delta: i64) -> i64;
            /// `memory.copy`: status.
            memory_copy(vmctx: vmctx, dst_memory: i32, dst: i64, src_memory: i32, src: i64, len: i64) -> i32;
            /// `memory.fill`: status.
            memory_fill(vmctx: vmctx, memory: i32, dst: i64, value: i32, len: i64) -> i32;
            /// `memory.init`: status.
            memory_init(vmctx: vmctx, memory: i32, data: i32, dst: i64, src: i32, len: i32) -> i32;
            /// `data.drop`.
            data_drop(vmctx: vmctx, data: i32);
            /// `table.grow` (indices and counts are zero-extended to `i64` for 32-bit tables): returns the old size in elements, `-1`, or [`GROW_TRAP`].
            table_grow(vmctx: vmctx, table: i32, delta: i64, init: pointer) -> i64;
            /// `table.fill`: status.
            table_fill(vmctx: vmctx, table: i32, dst: i64, value: pointer, len: i64) -> i32;
            /// `table.copy`: status.
            table_copy(vmctx: vmctx, dst_table: i32, src_table: i32, dst: i64, src: i64, len: i64) -> i32;
            /// `table.init`: status.
            table_init(vmctx: vmctx, table: i32, elem: i32, dst: i64, src: i32, len: i32) -> i32;
            /// `elem.drop`.
            elem_drop(vmctx: vmctx, elem: i32);
            /// A new exception of tag `tag` (its payload slots unwritten), owned by the store.
            exn_new(vmctx: vmctx, tag: i32) -> pointer;
            /// Frees exception `exn` after a clause took its payload, unless an `exnref` to it may exist.
            exn_release(vmctx: vmctx, exn: pointer);
            /// Throws `exn`: resumes at the handler the unwinder finds, or ends the wasm call with it as the error. Never returns; called with the `tail` convention (see [`Builtin::is_throw`]).
            throw(vmctx: vmctx, exn: pointer);
            /// The store's fuel ran out: refuel from its reserve, if it has
            /// any. Preserves every register (see
            /// [`Builtin::preserves_all_registers`]); compiled code reloads
            /// the fuel and traps if there is still none.
            out_of_fuel(vmctx: vmctx);
            /// `call_indirect` to an open (non-final) type found a function of another type: status, 0 when the function's type `actual` is a declared subtype of `expected`.
            func_subtype(vmctx: vmctx, actual: i32, expected: i32) -> i32;
            /// `ref.test`, `ref.cast` and `br_on_cast*` to an open (non-final) type found an object or function of another type: 1 when its type `actual` is a declared subtype of `expected`, else 0.
            is_subtype(vmctx: vmctx, actual: i32, expected: i32) -> i32;
            /// `struct.new` of engine type `id`, `size` bytes: a zeroed struct with its header, or null when the GC heap is full.
            struct_new(vmctx: vmctx, id: i32, size: i32) -> pointer;
            /// `array.new` of engine type `id`: a zeroed array of `len` elements of `element_size` bytes, or null when the GC heap is full.
            array_new(vmctx: vmctx, id: i32, element_size: i32, len: i32) -> pointer;
            /// `array.new_data`: the array, null when the GC heap is full, or [`ARRAY_NEW_OUT_OF_BOUNDS`] when the segment is too short.
            array_new_data(vmctx: vmctx, ty: i32, data: i32, src: i32, len: i32) -> pointer;
            /// `array.new_elem`: the array, null when the GC heap is full, or [`ARRAY_NEW_OUT_OF_BOUNDS`] when the segment is too short.
            array_new_elem(vmctx: vmctx, ty: i32, elem: i32, src: i32, len: i32) -> pointer;
            /// `array.init_data` into elements `dst..dst + len` of `array` (checked by the caller): status.
            array_init_data(vmctx: vmctx, ty: i32, array: pointer, data: i32, dst: i32, src: i32, len: i32) -> i32;
            /// `array.init_elem` into elements `dst..dst + len` of `array` (checked by the caller): status.
            array_init_elem(vmctx: vmctx, array: pointer, elem: i32, dst: i32, src: i32, len: i32) -> i32;
            /// Copies `len` bytes from `src` to `dst` (which may overlap), for `array.copy`.
            gc_memmove(vmctx: vmctx, dst: pointer, src: pointer, len: i64);
            /// `memory.atomic.wait32` on a shared memory, at native address `addr` (checked, aligned): 0 woken, 1 not equal, 2 timed out (`timeout` in nanoseconds, negative for none), or [`WAIT_INTERRUPTED`].
            memory_atomic_wait32(vmctx: vmctx, addr: pointer, expected: i32, timeout: i64) -> i32;
            /// `memory.atomic.wait64`, as `memory_atomic_wait32`.
            memory_atomic_wait64(vmctx: vmctx, addr: pointer, expected: i64, timeout: i64) -> i32;
            /// `memory.atomic.notify` on a shared memory, at native address `addr` (checked, aligned): wakes up to `count` waiters and returns how many it woke.
            memory_atomic_notify(vmctx: vmctx, addr: pointer, count: i32) -> i32;
        }
    };
}

/// What `memory_grow` and `table_grow` return when the store's resource
/// limiter turned a refused growth into an error: the error is recorded for
/// the enclosing host-to-wasm entry, and compiled code traps (with
/// [`Trap::HostError`], which stands for the recorded error). Other results
/// are the old size, or `-1` when the memory or table did not grow.
pub const GROW_TRAP: i64 = -2;

/// What `memory_atomic_wait32` and `wait64` return when the store's epoch
/// deadline passed while the thread waited (or before): compiled code
/// traps with [`Trap::Interrupt`], so a guest cannot wait its way past a
/// deadline. Other results are the instruction's own 0, 1 or 2.
pub const WAIT_INTERRUPTED: i32 = 3;

/// What `array_new_data` and `array_new_elem` return when the segment
/// holds fewer than the elements asked for: not an object's address (those
/// are aligned), and not null (a full heap).
pub const ARRAY_NEW_OUT_OF_BOUNDS: usize = 1;

/// The status a host function's array call returns when it throws a wasm
/// exception: the exception is in its first value slot, and the
/// wasm-to-host trampoline throws it on into the calling wasm (any other
/// non-zero status is a recorded error, a `HostError` trap).
pub const HOST_THROWS: u32 = 2;

/// The abstract type of a builtin's parameter or result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinType {
    /// The caller's VMContext pointer.
    VmContext,
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
    /// A pointer-sized value (a reference).
    Pointer,
}

/// One builtin: its slot in the table and its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    index: u32,
    name: &'static str,
    params: &'static [BuiltinType],
    result: Option<BuiltinType>,
}

macro_rules! builtin_type {
    (vmctx) => {
        BuiltinType::VmContext
    };
    (i32) => {
        BuiltinType::I32
    };
    (i64) => {
        BuiltinType::I64
    };
    (pointer) => {
        BuiltinType::Pointer
    };
}

macro_rules! define_builtins {
    ($( $(#[$attr:meta])* $name:ident( $($pname:ident: $pty:ident),* ) $(-> $rty:ident)?; )*) => {
        define_builtins!(@consts 0u32; $( $(#[$attr])* $name ( $($pty),* ) $(-> $rty)?; )*);

        impl Builtin {
            /// Every builtin, in table order.
            pub const ALL: &'static [Builtin] = &[ $( Builtin::$name, )* ];
        }
    };
    (@consts $idx:expr; $(#[$attr:meta])* $name:ident ( $($pty:ident),* ) $(-> $rty:ident)?; $($rest:tt)*) => {
        impl Builtin {
            $(#[$attr])*
            #[allow(non_upper_case_globals, reason = "builtin constants share the runtime function names")]
            pub const $name: Builtin = Builtin {
                index: $idx,
                name: stringify!($name),
                params: &[ $( builtin_type!($pty) ),* ],
                result: define_builtins!(@result $($rty)?),
            };
        }
        define_builtins!(@consts $idx + 1; $($rest)*);
    };
    (@consts $idx:expr;) => {};
    (@result) => { None };
    (@result $rty:ident) => { Some(builtin_type!($rty)) };
}

foreach_builtin_function!(define_builtins);

impl Builtin {
    /// Number of builtins, which is the length of the builtin table.
    pub const COUNT: u32 = Builtin::ALL.len() as u32;

    /// Slot of this builtin in the table.
    pub fn index(self) -> u32 {
        self.index
    }

    /// Name, as in the runtime's function.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// Parameter types (the first is always the VMContext).
    pub fn params(self) -> &'static [BuiltinType] {
        self.params
    }

    /// Result type, if any.
    pub fn result(self) -> Option<BuiltinType> {
        self.result
    }

    /// Whether the builtin preserves every register (Cranelift's
    /// `preserve_all` convention; the runtime enters it through an adapter
    /// that saves what the platform convention would clobber). Such calls
    /// sit on cold paths inside hot loops, where a call that clobbers
    /// registers would push the loop's values into callee-saved registers
    /// and stack slots even though it never runs.
    pub fn preserves_all_registers(self) -> bool {
        self.name == "out_of_fuel"
    }

    /// Whether this is `throw`, which compiled code calls with Cranelift's
    /// `tail` convention (every register clobbered on the exceptional
    /// edge, payload in the first return register) and may call with
    /// `try_call`.
    pub fn is_throw(self) -> bool {
        self.name == "throw"
    }

    /// For builtins that return a status word, the trap a non-zero status
    /// stands for.
    pub fn trap(self) -> Option<Trap> {
        match self.name {
            "memory_copy" | "memory_fill" | "memory_init" => Some(Trap::MemoryOutOfBounds),
            "table_fill" | "table_copy" | "table_init" => Some(Trap::TableOutOfBounds),
            "func_subtype" => Some(Trap::BadSignature),
            "array_init_data" => Some(Trap::MemoryOutOfBounds),
            "array_init_elem" => Some(Trap::TableOutOfBounds),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_dense_and_in_order() {
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(b.index() as usize, i);
            assert_eq!(b.params()[0], BuiltinType::VmContext);
        }
        assert_eq!(Builtin::COUNT, 26);
        assert_eq!(Builtin::table_grow.result(), Some(BuiltinType::I64));
        assert_eq!(Builtin::data_drop.result(), None);
    }

    #[test]
    fn status_builtins_name_their_trap() {
        assert_eq!(Builtin::memory_fill.trap(), Some(Trap::MemoryOutOfBounds));
        assert_eq!(Builtin::table_copy.trap(), Some(Trap::TableOutOfBounds));
        assert_eq!(Builtin::memory_grow.trap(), None);
        assert_eq!(Builtin::out_of_fuel.result(), None);
        assert!(Builtin::out_of_fuel.preserves_all_registers());
        assert!(!Builtin::memory_fill.preserves_all_registers());
    }
}
