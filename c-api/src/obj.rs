//! What references refer to: the objects behind `wasm_ref_t` and the data
//! the C API keeps with them (host info, a module's source, what a trap
//! says). Everything else in the crate builds on these; they build on the
//! runtime only.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};

use crate::rt::{ExternRef, FrameInfo, Func, Global, Instance, Memory, Module, Table, Tag, Trap};

/// What a reference refers to.
#[derive(Debug, Clone)]
pub(crate) enum Obj {
    Func(Func),
    Global(Global),
    Table(Table),
    Memory(Memory),
    Tag(Tag),
    Instance(Instance),
    Foreign(ExternRef),
    Module(Arc<ModuleData>),
    Trap(Arc<TrapData>),
}

/// Host info: a pointer and the function to call with it when the object
/// goes away (or the info is replaced).
#[derive(Debug)]
pub(crate) struct HostInfo {
    pub(crate) info: *mut c_void,
    pub(crate) finalizer: Option<extern "C" fn(*mut c_void)>,
}

// SAFETY: the pointer is C's; the C API leaves synchronising its use to
// the program (modules, which may be shared across threads, carry it).
unsafe impl Send for HostInfo {}
// SAFETY: shared access only reads the pointer values; what they point at
// is C's to synchronise, as the C API specifies.
unsafe impl Sync for HostInfo {}

impl Drop for HostInfo {
    fn drop(&mut self) {
        if let Some(finalizer) = self.finalizer {
            finalizer(self.info);
        }
    }
}

/// A store object, as a key for its host info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ObjectKey {
    Func(Func),
    Global(Global),
    Table(Table),
    Memory(Memory),
    Tag(Tag),
    Instance(Instance),
    Foreign(ExternRef),
}

/// Where a module came from, kept so it can be serialized.
#[derive(Debug)]
pub(crate) enum Source {
    /// A wasm binary (or text): serializing compiles it for an artifact.
    Wasm(Vec<u8>),
    /// A cljit artifact: serializing returns it.
    Artifact(Vec<u8>),
}

/// A compiled module as the C API holds it.
#[derive(Debug)]
pub struct ModuleData {
    pub(crate) module: Module,
    pub(crate) source: Source,
    pub(crate) host_info: Mutex<Option<HostInfo>>,
}

impl ModuleData {
    pub(crate) fn new(module: Module, source: Source) -> Arc<ModuleData> {
        Arc::new(ModuleData {
            module,
            source,
            host_info: Mutex::new(None),
        })
    }
}

/// What a trap says.
#[derive(Debug)]
pub struct TrapData {
    /// The message, without a terminating NUL.
    pub(crate) message: String,
    /// The wasm frames, innermost first.
    pub(crate) frames: Vec<FrameInfo>,
    /// The trap wasm raised, if it was one.
    pub(crate) trap: Option<Trap>,
    /// The status of a WASI exit.
    pub(crate) exit: Option<i32>,
    pub(crate) host_info: Mutex<Option<HostInfo>>,
}
