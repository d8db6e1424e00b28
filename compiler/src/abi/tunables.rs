//! Compile-time knobs that change the generated code.
//!
//! `Tunables` are baked into compiled code, so every field is part of the
//! artifact's identity (a cache key must cover all of them). The runtime's
//! user-facing `Config` builds a `Tunables` and must allocate memories the way
//! the tunables promised the code they would be.

use crate::types::{MemoryType, WASM_PAGE_BYTES};

/// How hard Cranelift optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OptLevel {
    /// No optimisation: fastest compile.
    None,
    /// Optimise for speed (the default).
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

/// Knobs that shape compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Tunables {
    /// Bytes of address space reserved for each linear memory. A memory whose
    /// maximum size fits in the reservation never moves, so its base address
    /// can be loaded once per function.
    pub memory_reservation: u64,
    /// Bytes of inaccessible address space after each reservation. An access
    /// whose highest possible address lands inside reservation + guard needs
    /// no explicit bounds check: it faults instead.
    pub memory_guard_size: u64,
    /// Cranelift optimisation level.
    pub opt_level: OptLevel,
    /// Run Cranelift's IR verifier on every function (slow; for debugging).
    pub debug_verifier: bool,
    /// Lower relaxed SIMD operators to their deterministic forms (the
    /// results of the matching non-relaxed operators, and fused
    /// multiply-add), the same on every machine, instead of the fastest
    /// instruction of the target.
    pub relaxed_simd_deterministic: bool,
    /// Charge fuel as code runs: every function entry and loop header
    /// checks the store's fuel, and running out traps (see
    /// `translate/limits.rs`).
    pub consume_fuel: bool,
    /// Check for an interrupt (an epoch deadline) at every function entry
    /// and loop header, with one load from the store's interrupt page.
    pub epoch_interruption: bool,
    /// After an explicit bounds check, also replace an out-of-bounds
    /// address with null by a conditional move, so that a CPU speculating
    /// past the trap cannot read or write beyond the memory (Spectre v1).
    pub spectre_guard: bool,
}

impl Default for Tunables {
    fn default() -> Tunables {
        Tunables {
            memory_reservation: 4 << 30,
            memory_guard_size: 2 << 30,
            opt_level: OptLevel::Speed,
            debug_verifier: cfg!(debug_assertions),
            relaxed_simd_deterministic: false,
            consume_fuel: false,
            epoch_interruption: false,
            spectre_guard: true,
        }
    }
}

impl Tunables {
    /// Whether a memory of this type keeps one base address for its whole
    /// life: its largest possible size fits in the reservation, or it is
    /// shared (other threads use it while it grows, so it reserves its
    /// declared maximum, which a shared memory must have, up front).
    pub fn memory_never_moves(&self, ty: &MemoryType) -> bool {
        ty.shared || self.fits_reservation(ty)
    }

    /// Whether the largest size a memory of this type can reach fits in
    /// the configured reservation.
    fn fits_reservation(&self, ty: &MemoryType) -> bool {
        ty.max_bytes() <= self.memory_reservation
    }

    /// Whether an access of `access_bytes` at static `offset` into a memory
    /// of this type needs no explicit bounds check, because every address it
    /// could form lies inside reservation + guard, where anything beyond the
    /// memory's current length is inaccessible and faults. Never for
    /// memories whose pages are smaller than the host's: their length need
    /// not end on a host page, and the bytes up to the next one are
    /// accessible.
    pub fn access_needs_no_check(&self, ty: &MemoryType, offset: u64, access_bytes: u64) -> bool {
        if ty.memory64 || !self.fits_reservation(ty) || ty.page_size() < WASM_PAGE_BYTES {
            return false;
        }
        let max_index = u64::from(u32::MAX);
        let reach = max_index
            .checked_add(offset)
            .and_then(|r| r.checked_add(access_bytes));
        let mapped = self.memory_reservation.checked_add(self.memory_guard_size);
        match (reach, mapped) {
            (Some(reach), Some(mapped)) => reach <= mapped,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(max: Option<u64>) -> MemoryType {
        MemoryType::new(1, max)
    }

    #[test]
    fn default_reservation_elides_checks_for_small_offsets() {
        let t = Tunables::default();
        assert!(t.memory_never_moves(&mem(None)));
        assert!(t.access_needs_no_check(&mem(None), 0, 8));
        assert!(t.access_needs_no_check(&mem(None), (2 << 30) - 8, 8));
        assert!(!t.access_needs_no_check(&mem(None), 2 << 30, 8));
    }

    #[test]
    fn small_reservation_needs_checks() {
        let t = Tunables {
            memory_reservation: 0,
            memory_guard_size: 0,
            ..Tunables::default()
        };
        assert!(!t.memory_never_moves(&mem(None)));
        assert!(!t.access_needs_no_check(&mem(Some(1)), 0, 1));
        let t = Tunables {
            memory_reservation: 1 << 20,
            memory_guard_size: 0,
            ..Tunables::default()
        };
        assert!(t.memory_never_moves(&mem(Some(16))));
        assert!(!t.access_needs_no_check(&mem(Some(16)), 0, 1));
    }

    #[test]
    fn one_byte_pages_always_need_checks() {
        let t = Tunables::default();
        let tiny = MemoryType {
            page_size_log2: 0,
            ..mem(Some(100))
        };
        assert!(t.memory_never_moves(&tiny));
        assert_eq!(tiny.max_bytes(), 100);
        assert!(!t.access_needs_no_check(&tiny, 0, 1));
        let unbounded = MemoryType {
            page_size_log2: 0,
            ..mem(None)
        };
        assert_eq!(unbounded.max_pages_or_limit(), u64::from(u32::MAX));
        assert_eq!(mem(None).max_pages_or_limit(), 65536);
    }

    #[test]
    fn memory64_always_needs_checks_and_may_move_unless_small() {
        let t = Tunables::default();
        let m64 = |max| MemoryType {
            memory64: true,
            ..mem(max)
        };
        assert_eq!(m64(None).max_pages_or_limit(), 1 << 48);
        assert_eq!(m64(None).max_bytes(), u64::MAX);
        assert!(!t.memory_never_moves(&m64(None)));
        assert!(t.memory_never_moves(&m64(Some(2))));
        assert!(!t.access_needs_no_check(&m64(Some(2)), 0, 1));
    }
}
