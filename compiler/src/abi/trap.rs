//! Trap kinds and the trap table: what compiled code records about where it
//! can trap, and what the runtime reports when it does.
//!
//! Each [`Trap`] has one spec-worded message (its `Display`), so a spec
//! script's `assert_trap` is a plain substring check. The compiler records,
//! for every instruction that can trap, its code offset and `Trap` code in a
//! [`TrapTable`]; the runtime's signal handler looks the faulting PC up there.

use std::fmt;

/// Every way a WebAssembly program can stop abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Execution was interrupted (epoch deadline or timeout). Reserved: not
    /// raised until epoch interruption exists.
    Interrupt = 10,
    /// The store ran out of fuel. Reserved: not raised until fuel metering
    /// exists.
    OutOfFuel = 11,
    /// A host function returned an error; the runtime holds the error itself.
    HostError = 12,
}

impl Trap {
    /// All trap kinds, in code order.
    pub const ALL: [Trap; 13] = [
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
            Trap::OutOfFuel => "all fuel consumed",
            Trap::HostError => "host function error",
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrapTable {
    offsets: Vec<u32>,
    traps: Vec<Trap>,
}

impl TrapTable {
    /// Records a trap site. Sites must be pushed in increasing offset order.
    ///
    /// # Panics
    ///
    /// Panics if `offset` is lower than the previous site's offset; the
    /// compiler emits sites in code order, so this is a compiler bug.
    pub fn push(&mut self, offset: u32, trap: Trap) {
        if let Some(&last) = self.offsets.last() {
            assert!(last <= offset, "trap sites out of order");
        }
        self.offsets.push(offset);
        self.traps.push(trap);
    }

    /// The trap recorded at exactly this offset, if any.
    pub fn lookup(&self, offset: u32) -> Option<Trap> {
        self.offsets
            .binary_search(&offset)
            .ok()
            .map(|i| self.traps[i])
    }

    /// Number of trap sites.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True if the function cannot trap.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The sites, in offset order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Trap)> + '_ {
        self.offsets.iter().copied().zip(self.traps.iter().copied())
    }
}

/// The map from code offsets to WebAssembly byte offsets of one function,
/// used to put wasm offsets in backtraces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressMap {
    code_offsets: Vec<u32>,
    wasm_offsets: Vec<u32>,
}

impl AddressMap {
    /// Records that code from `code_offset` on comes from the wasm
    /// instruction at `wasm_offset`. Entries must be pushed in order.
    pub fn push(&mut self, code_offset: u32, wasm_offset: u32) {
        if self.code_offsets.last() == Some(&code_offset) {
            *self.wasm_offsets.last_mut().expect("parallel vectors") = wasm_offset;
            return;
        }
        self.code_offsets.push(code_offset);
        self.wasm_offsets.push(wasm_offset);
    }

    /// The wasm offset of the instruction that produced the code at
    /// `code_offset`, if known.
    pub fn lookup(&self, code_offset: u32) -> Option<u32> {
        let i = match self.code_offsets.binary_search(&code_offset) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        Some(self.wasm_offsets[i])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.code_offsets.len()
    }

    /// True if the map is empty.
    pub fn is_empty(&self) -> bool {
        self.code_offsets.is_empty()
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
    }
}
