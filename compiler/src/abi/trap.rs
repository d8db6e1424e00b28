//! Trap kinds and the trap table: what compiled code records about where it
//! can trap, and what the runtime reports when it does.
//!
//! Each [`Trap`] has one spec-worded message (its `Display`), so a spec
//! script's `assert_trap` is a plain substring check. The compiler records,
//! for every instruction that can trap, its code offset and `Trap` code in a
//! [`TrapTable`]; the runtime's signal handler looks the faulting PC up there.

use std::fmt;

use crate::shared_bytes::SharedBytes;

/// Every way a WebAssembly program can stop abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum Trap {
    /// The guest exceeded its stack budget (deep or infinite recursion).
    StackOverflow = 0,
    /// A load, store or bulk memory operation went past the memory's end.
    MemoryOutOfBounds = 1,
    /// `table.get`/`set`/`fill`/`copy`/`init` went past the table's end.
    TableOutOfBounds = 2,
    /// `call_indirect` with an index beyond the table's end.
    IndirectCallOutOfBounds = 3,
    /// `call_indirect` through a null table entry.
    IndirectCallToNull = 4,
    /// `call_indirect` to a function of another type.
    BadSignature = 5,
    /// Signed division overflow (`INT_MIN / -1`) or float-to-int overflow.
    IntegerOverflow = 6,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 7,
    /// Float-to-int conversion of a NaN.
    BadConversionToInteger = 8,
    /// The `unreachable` instruction was executed.
    UnreachableCodeReached = 9,
    /// Execution was interrupted: the store's epoch deadline passed (a
    /// timeout, for the CLI).
    Interrupt = 10,
    /// The store ran out of fuel.
    OutOfFuel = 11,
    /// A host function returned an error; the runtime holds the error itself.
    HostError = 12,
    /// `ref.as_non_null` of null.
    NullReference = 13,
    /// `call_ref` or `return_call_ref` of null.
    NullFunctionReference = 14,
    /// `throw_ref` of null.
    NullExceptionReference = 15,
    /// `i31.get_s` or `i31.get_u` of null.
    NullI31Reference = 16,
    /// `ref.cast` of a value not of the target type.
    CastFailure = 17,
    /// `struct.get` or `struct.set` of null.
    NullStructReference = 18,
    /// An array instruction on null.
    NullArrayReference = 19,
    /// An array access past the array's end.
    ArrayOutOfBounds = 20,
    /// A struct or array did not fit in the store's GC heap, even after a
    /// collection.
    GcHeapOutOfMemory = 21,
    /// An atomic access, wait or notify at an address that is not a
    /// multiple of its size.
    HeapMisaligned = 22,
    /// `memory.atomic.wait32`/`wait64` on a memory that is not shared.
    AtomicWaitNonSharedMemory = 23,
}

impl Trap {
    /// All trap kinds, in code order.
    pub const ALL: [Trap; 24] = [
        Trap::StackOverflow,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::IndirectCallOutOfBounds,
        Trap::IndirectCallToNull,
        Trap::BadSignature,
        Trap::IntegerOverflow,
        Trap::IntegerDivisionByZero,
        Trap::BadConversionToInteger,
        Trap::UnreachableCodeReached,
        Trap::Interrupt,
        Trap::OutOfFuel,
        Trap::HostError,
        Trap::NullReference,
        Trap::NullFunctionReference,
        Trap::NullExceptionReference,
        Trap::NullI31Reference,
        Trap::CastFailure,
        Trap::NullStructReference,
        Trap::NullArrayReference,
        Trap::ArrayOutOfBounds,
        Trap::GcHeapOutOfMemory,
        Trap::HeapMisaligned,
        Trap::AtomicWaitNonSharedMemory,
    ];

    /// The one-byte code stored in trap tables.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The trap with this code, if any.
    pub fn from_code(code: u8) -> Option<Trap> {
        Trap::ALL.get(usize::from(code)).copied()
    }

    /// The message the WebAssembly spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::StackOverflow => "call stack exhausted",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "out of bounds table access",
            Trap::IndirectCallOutOfBounds => "undefined element",
            Trap::IndirectCallToNull => "uninitialized element",
            Trap::BadSignature => "indirect call type mismatch",
            Trap::IntegerOverflow => "integer overflow",
            Trap::IntegerDivisionByZero => "integer divide by zero",
            Trap::BadConversionToInteger => "invalid conversion to integer",
            Trap::UnreachableCodeReached => "unreachable executed",
            Trap::Interrupt => "interrupt",
            Trap::OutOfFuel => "all fuel consumed by WebAssembly",
            Trap::HostError => "host function error",
            Trap::NullReference => "null reference",
            Trap::NullFunctionReference => "null function reference",
            Trap::NullExceptionReference => "null exception reference",
            Trap::NullI31Reference => "null i31 reference",
            Trap::CastFailure => "cast failure",
            Trap::NullStructReference => "null structure reference",
            Trap::NullArrayReference => "null array reference",
            Trap::ArrayOutOfBounds => "out of bounds array access",
            Trap::GcHeapOutOfMemory => "GC heap out of memory",
            Trap::HeapMisaligned => "unaligned atomic",
            Trap::AtomicWaitNonSharedMemory => "expected shared memory",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

/// The trap sites of one function: code offsets (relative to the function's
/// start) paired with the trap that happens there, sorted by offset.
///
/// Kept as it is stored (little-endian offsets, one byte per trap), so an
/// artifact's tables are used where they lie, without decoding; lookups
/// (the signal handler's among them) read it in place and never allocate.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrapTable {
    /// The sites' offsets, 4 little-endian bytes each.
    offsets: SharedBytes,
    /// The sites' traps, one [`Trap::code`] byte each.
    traps: SharedBytes,
}

impl TrapTable {
    /// Records a trap site. Sites must be pushed in increasing offset order.
    ///
    /// # Panics
    ///
    /// Panics if `offset` is lower than the previous site's offset; the
    /// compiler emits sites in code order, so this is a compiler bug.
    pub fn push(&mut self, offset: u32, trap: Trap) {
        if let Some(last) = self.len().checked_sub(1) {
            assert!(self.offset(last) <= offset, "trap sites out of order");
        }
        self.offsets
            .to_mut()
            .extend_from_slice(&offset.to_le_bytes());
        self.traps.to_mut().push(trap.code());
    }

    fn offset(&self, i: usize) -> u32 {
        let bytes = &self.offsets[i * 4..i * 4 + 4];
        u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
    }

    fn trap(&self, i: usize) -> Option<Trap> {
        Trap::from_code(*self.traps.get(i)?)
    }

    /// The trap recorded at exactly this offset, if any.
    pub fn lookup(&self, offset: u32) -> Option<Trap> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.offset(mid).cmp(&offset) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return self.trap(mid),
            }
        }
        None
    }

    /// Number of trap sites.
    pub fn len(&self) -> usize {
        self.offsets.len() / 4
    }

    /// True if the function cannot trap.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the table is well formed (as `push` keeps it): whole
    /// offsets, one known trap per offset, offsets in order. Decoded tables
    /// are checked with this.
    pub fn is_well_formed(&self) -> bool {
        // On the slices, once: artifacts check every table when loaded
        // (CPython's hold hundreds of thousands of sites).
        let (offsets, traps): (&[u8], &[u8]) = (&self.offsets, &self.traps);
        offsets.len().is_multiple_of(4)
            && traps.len() == offsets.len() / 4
            && traps.iter().all(|&b| usize::from(b) < Trap::ALL.len())
            && offsets
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
                .is_sorted()
    }

    /// The sites, in offset order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Trap)> + '_ {
        (0..self.len()).filter_map(|i| Some((self.offset(i), self.trap(i)?)))
    }
}

/// The map from code offsets to WebAssembly byte offsets of one function,
/// used to put wasm offsets in backtraces.
///
/// Stored compactly (modules have an entry for nearly every wasm
/// instruction, so these maps would otherwise outweigh the code): each
/// entry is a LEB128 code-offset delta and a zigzag LEB128 wasm-offset
/// delta from the entry before. Lookups scan one function's entries, which
/// happens only when a backtrace is made.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddressMap {
    /// Every entry but the last, delta-encoded.
    encoded: SharedBytes,
    /// The last encoded entry (the base of the next delta).
    prev: (u32, u32),
    /// The newest entry, kept apart so a push at the same code offset can
    /// replace it.
    last: Option<(u32, u32)>,
    /// Number of entries.
    len: u32,
}

fn write_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl AddressMap {
    /// Records that code from `code_offset` on comes from the wasm
    /// instruction at `wasm_offset`. Entries must be pushed in order of
    /// code offset; a second push at the same offset replaces the first.
    pub fn push(&mut self, code_offset: u32, wasm_offset: u32) {
        match self.last {
            Some((c, _)) if c == code_offset => {
                self.last = Some((code_offset, wasm_offset));
                return;
            }
            Some((c, w)) => {
                let encoded = self.encoded.to_mut();
                write_leb(encoded, u64::from(c - self.prev.0));
                let delta = i64::from(w) - i64::from(self.prev.1);
                write_leb(encoded, ((delta << 1) ^ (delta >> 63)) as u64);
                self.prev = (c, w);
            }
            None => {}
        }
        self.last = Some((code_offset, wasm_offset));
        self.len += 1;
    }

    /// The entries in order (a malformed encoding ends them early).
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let mut at = 0;
        let mut current = (0u32, 0u32);
        std::iter::from_fn(move || {
            let code = read_leb(&self.encoded, &mut at)?;
            let zigzag = read_leb(&self.encoded, &mut at)?;
            let delta = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
            current = (
                current.0.wrapping_add(code as u32),
                (i64::from(current.1) + delta) as u32,
            );
            Some(current)
        })
        .chain(self.last)
    }

    /// The wasm offset of the instruction that produced the code at
    /// `code_offset`, if known.
    pub fn lookup(&self, code_offset: u32) -> Option<u32> {
        self.iter()
            .take_while(|&(c, _)| c <= code_offset)
            .last()
            .map(|(_, w)| w)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for trap in Trap::ALL {
            assert_eq!(Trap::from_code(trap.code()), Some(trap));
        }
        assert_eq!(Trap::from_code(200), None);
    }

    #[test]
    fn trap_table_lookup_is_exact() {
        let mut t = TrapTable::default();
        t.push(4, Trap::MemoryOutOfBounds);
        t.push(9, Trap::UnreachableCodeReached);
        assert_eq!(t.lookup(4), Some(Trap::MemoryOutOfBounds));
        assert_eq!(t.lookup(9), Some(Trap::UnreachableCodeReached));
        assert_eq!(t.lookup(5), None);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn address_map_finds_covering_entry() {
        let mut m = AddressMap::default();
        m.push(0, 10);
        m.push(8, 12);
        m.push(8, 13);
        m.push(20, 15);
        assert_eq!(m.lookup(0), Some(10));
        assert_eq!(m.lookup(7), Some(10));
        assert_eq!(m.lookup(8), Some(13));
        assert_eq!(m.lookup(100), Some(15));
        assert_eq!(m.len(), 3);
        assert_eq!(m.iter().collect::<Vec<_>>(), [(0, 10), (8, 13), (20, 15)]);
        assert_eq!(AddressMap::default().lookup(5), None);
    }

    #[test]
    fn address_maps_are_compact_and_exact() {
        // Wasm offsets may go backwards (code motion); deltas of any size.
        let entries = [
            (0, 500),
            (3, 490),
            (200, 70_000),
            (70_000, 5),
            (70_001, u32::MAX),
        ];
        let mut m = AddressMap::default();
        for (c, w) in entries {
            m.push(c, w);
        }
        assert_eq!(m.iter().collect::<Vec<_>>(), entries);
        assert_eq!(m.lookup(2), Some(500));
        assert_eq!(m.lookup(70_000), Some(5));
        let mut small = AddressMap::default();
        for i in 0..1000 {
            small.push(i * 4, 100 + i);
        }
        assert!(small.encoded.len() <= 2 * 1000, "{}", small.encoded.len());
        assert_eq!(small.lookup(401), Some(200));
    }
}
