//! The process-wide registry of loaded code: which address ranges hold JIT
//! code, and for each function its trap table and address map.
//!
//! The signal handler reads the registry, so reads take no lock and do not
//! allocate: the registry is an immutable sorted table behind an
//! [`AtomicPtr`], replaced wholesale (copy, modify, publish) by writers, who
//! serialise on a mutex. A reader announces itself in [`READERS`] before
//! loading the pointer and withdraws after its last access; a writer frees the
//! table it replaced only once no reader is active, so a reader never sees
//! freed memory.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cljit_compiler::ModuleInfo;
use cljit_compiler::abi::{AddressMap, HandlerTable, Trap, TrapTable};
use cljit_compiler::indices::FuncIndex;

/// What a range of JIT code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// A wasm function of the module.
    Wasm(FuncIndex),
    /// A trampoline (not shown in backtraces).
    Trampoline,
}

/// One function's code range and metadata.
#[derive(Debug)]
pub struct FunctionRange {
    /// First byte of code.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What this code is.
    pub kind: CodeKind,
    /// Trap sites, by offset from `start`.
    pub traps: TrapTable,
    /// Code offsets to wasm offsets.
    pub address_map: AddressMap,
    /// Exception handlers of call sites, by offset from `start`.
    pub handlers: HandlerTable,
}

/// The code of one loaded module (or trampoline set).
#[derive(Debug)]
pub struct CodeInfo {
    /// The module's declarations, for names in backtraces.
    pub module: Option<Arc<ModuleInfo>>,
    /// Functions, sorted by `start`, not overlapping.
    pub functions: Vec<FunctionRange>,
    /// Functions added while the code runs (lazy compilation), in a region
    /// registered whole.
    pub lazy: Option<LazyRanges>,
}

/// The functions of a region that grows while it runs: appended in address
/// order, each published with one atomic store, so readers (the signal
/// handler among them) take no lock.
#[derive(Debug)]
pub struct LazyRanges {
    region: (usize, usize),
    entries: Box<[OnceLock<FunctionRange>]>,
    len: AtomicUsize,
    append: Mutex<()>,
}

impl LazyRanges {
    /// Room for `capacity` functions in the region `[start, end)`.
    pub fn new(start: usize, end: usize, capacity: usize) -> LazyRanges {
        LazyRanges {
            region: (start, end),
            entries: (0..capacity).map(|_| OnceLock::new()).collect(),
            len: AtomicUsize::new(0),
            append: Mutex::new(()),
        }
    }

    /// Publishes `range`, which must start after every range published so
    /// far. Fails when full or out of order.
    pub fn push(&self, range: FunctionRange) -> Result<(), &'static str> {
        let _guard = self.append.lock().unwrap_or_else(|e| e.into_inner());
        let len = self.len.load(Ordering::Acquire);
        if range.start < self.region.0 || range.end > self.region.1 {
            return Err("code outside its region");
        }
        let last = len.checked_sub(1).and_then(|i| self.entries[i].get());
        if last.is_some_and(|f| f.start >= range.start) {
            return Err("code placed out of order");
        }
        let slot = self.entries.get(len).ok_or("no room left for code")?;
        slot.set(range).map_err(|_| "a slot written twice")?;
        self.len.store(len + 1, Ordering::Release);
        Ok(())
    }

    fn function_at(&self, pc: usize) -> Option<&FunctionRange> {
        let entries = &self.entries[..self.len.load(Ordering::Acquire)];
        let i = entries.partition_point(|e| e.get().is_some_and(|f| f.start <= pc));
        let f = entries.get(i.checked_sub(1)?)?.get()?;
        (pc < f.end).then_some(f)
    }
}

impl CodeInfo {
    /// The function containing `pc`.
    pub fn function_at(&self, pc: usize) -> Option<&FunctionRange> {
        if let Some(lazy) = &self.lazy {
            return lazy.function_at(pc);
        }
        let i = match self.functions.binary_search_by_key(&pc, |f| f.start) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        let f = &self.functions[i];
        (pc < f.end).then_some(f)
    }

    /// The lowest start and highest end of the functions (of the whole
    /// region, for lazily compiled code).
    pub fn bounds(&self) -> Option<(usize, usize)> {
        if let Some(lazy) = &self.lazy {
            return Some(lazy.region);
        }
        let start = self.functions.first()?.start;
        let end = self.functions.iter().map(|f| f.end).max()?;
        Some((start, end))
    }
}

/// An immutable snapshot of all registered code.
#[derive(Debug, Default)]
pub struct Registry {
    entries: Vec<(usize, usize, Arc<CodeInfo>)>,
}

impl Registry {
    /// The code containing `pc`, and the function there.
    pub fn lookup(&self, pc: usize) -> Option<(&CodeInfo, &FunctionRange)> {
        let i = match self.entries.binary_search_by_key(&pc, |e| e.0) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        let (_, end, code) = &self.entries[i];
        if pc >= *end {
            return None;
        }
        let f = code.function_at(pc)?;
        Some((code, f))
    }

    /// The trap recorded at exactly `pc`, if `pc` is a trap site.
    pub fn trap_at(&self, pc: usize) -> Option<Trap> {
        let (_, f) = self.lookup(pc)?;
        let offset = u32::try_from(pc - f.start).ok()?;
        f.traps.lookup(offset)
    }

    /// Whether `pc` lies in a wasm function (not a trampoline).
    pub fn is_wasm(&self, pc: usize) -> bool {
        matches!(self.lookup(pc), Some((_, f)) if matches!(f.kind, CodeKind::Wasm(_)))
    }
}

static CURRENT: AtomicPtr<Registry> = AtomicPtr::new(std::ptr::null_mut());
static READERS: AtomicUsize = AtomicUsize::new(0);
static WRITER: Mutex<()> = Mutex::new(());

/// Runs `f` on the current registry snapshot. Lock-free and allocation-free,
/// so it may run in a signal handler.
pub fn with<R>(f: impl FnOnce(&Registry) -> R) -> R {
    static EMPTY: Registry = Registry {
        entries: Vec::new(),
    };
    READERS.fetch_add(1, Ordering::SeqCst);
    let ptr = CURRENT.load(Ordering::SeqCst);
    // SAFETY: a non-null pointer was published by `replace` from a leaked
    // Box, and is not freed while READERS > 0 (we are counted).
    let registry = unsafe { ptr.as_ref() }.unwrap_or(&EMPTY);
    let result = f(registry);
    READERS.fetch_sub(1, Ordering::SeqCst);
    result
}

/// Publishes a modified copy of the registry.
fn replace(modify: impl FnOnce(&mut Vec<(usize, usize, Arc<CodeInfo>)>)) {
    let _guard = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let old = CURRENT.load(Ordering::SeqCst);
    // SAFETY: only writers (holding WRITER) free tables, so `old` is live.
    let mut entries = unsafe { old.as_ref() }
        .map(|r| r.entries.clone())
        .unwrap_or_default();
    modify(&mut entries);
    let new = Box::into_raw(Box::new(Registry { entries }));
    let old = CURRENT.swap(new, Ordering::SeqCst);
    // Any reader that could still hold `old` incremented READERS before
    // loading it; wait for them to finish.
    while READERS.load(Ordering::SeqCst) != 0 {
        std::thread::yield_now();
    }
    if !old.is_null() {
        // SAFETY: `old` came from Box::into_raw and is unreachable now.
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Registers code so traps in it are recognised. Returns the key to
/// unregister it with.
pub fn register(code: Arc<CodeInfo>) -> Option<usize> {
    let (start, end) = code.bounds()?;
    replace(|entries| {
        let at = entries.partition_point(|e| e.0 < start);
        entries.insert(at, (start, end, code));
    });
    Some(start)
}

/// Removes the code registered under `key`.
pub fn unregister(key: usize) {
    replace(|entries| entries.retain(|e| e.0 != key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(start: usize, len: usize) -> Arc<CodeInfo> {
        let mut traps = TrapTable::default();
        traps.push(4, Trap::UnreachableCodeReached);
        Arc::new(CodeInfo {
            module: None,
            lazy: None,
            functions: vec![FunctionRange {
                start,
                end: start + len,
                kind: CodeKind::Wasm(FuncIndex::from_u32(0)),
                traps,
                address_map: AddressMap::default(),
                handlers: HandlerTable::default(),
            }],
        })
    }

    fn range(start: usize, len: usize) -> FunctionRange {
        FunctionRange {
            start,
            end: start + len,
            kind: CodeKind::Wasm(FuncIndex::from_u32(0)),
            traps: TrapTable::default(),
            address_map: AddressMap::default(),
            handlers: HandlerTable::default(),
        }
    }

    #[test]
    fn lazy_ranges_grow_in_order() {
        let lazy = LazyRanges::new(0x1000, 0x9000, 2);
        let code = CodeInfo {
            module: None,
            functions: Vec::new(),
            lazy: Some(lazy),
        };
        let lazy = code.lazy.as_ref().expect("set");
        assert!(code.function_at(0x1000).is_none());
        lazy.push(range(0x2000, 0x10)).expect("room");
        assert_eq!(code.function_at(0x2008).map(|f| f.start), Some(0x2000));
        assert!(code.function_at(0x2010).is_none());
        assert!(code.function_at(0x1fff).is_none());
        assert_eq!(
            lazy.push(range(0x1800, 0x10)),
            Err("code placed out of order")
        );
        assert_eq!(
            lazy.push(range(0x9000, 0x10)),
            Err("code outside its region")
        );
        lazy.push(range(0x3000, 0x10)).expect("room");
        assert_eq!(code.function_at(0x3000).map(|f| f.start), Some(0x3000));
        assert_eq!(code.function_at(0x2000).map(|f| f.start), Some(0x2000));
        assert_eq!(lazy.push(range(0x4000, 0x10)), Err("no room left for code"));
        assert_eq!(code.bounds(), Some((0x1000, 0x9000)));
    }

    #[test]
    fn register_lookup_unregister() {
        let key = register(code(0x1000_0000, 0x40)).expect("non-empty");
        with(|r| {
            assert_eq!(r.trap_at(0x1000_0004), Some(Trap::UnreachableCodeReached));
            assert_eq!(r.trap_at(0x1000_0005), None);
            assert!(r.is_wasm(0x1000_003f));
            assert!(!r.is_wasm(0x1000_0040));
        });
        unregister(key);
        with(|r| assert!(r.lookup(0x1000_0004).is_none()));
    }
}
