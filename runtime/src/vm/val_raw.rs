//! [`ValRaw`]: one 16-byte slot of the array calling convention, the form
//! in which values cross between the host and compiled code (trampolines
//! read and write these slots; global storage uses the same encoding).

/// One 16-byte value slot of the array calling convention: every value sits
/// at the slot's start in native byte order.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ValRaw([u8; 16]);

impl std::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValRaw({:#034x})", u128::from_ne_bytes(self.0))
    }
}

impl ValRaw {
    /// A slot holding an `i32` (or `f32` bits).
    pub fn i32(v: i32) -> ValRaw {
        let mut s = [0; 16];
        s[..4].copy_from_slice(&v.to_ne_bytes());
        ValRaw(s)
    }

    /// A slot holding an `i64` (or `f64` bits).
    pub fn i64(v: i64) -> ValRaw {
        let mut s = [0; 16];
        s[..8].copy_from_slice(&v.to_ne_bytes());
        ValRaw(s)
    }

    /// A slot holding a `v128`.
    pub fn v128(v: u128) -> ValRaw {
        ValRaw(v.to_ne_bytes())
    }

    /// A slot holding a pointer-sized reference.
    pub fn pointer(p: usize) -> ValRaw {
        let mut s = [0; 16];
        s[..size_of::<usize>()].copy_from_slice(&p.to_ne_bytes());
        ValRaw(s)
    }

    /// A slot from its 16 bytes (native byte order, as compiled code and
    /// global storage hold values).
    pub fn from_bytes(bytes: [u8; 16]) -> ValRaw {
        ValRaw(bytes)
    }

    /// The slot's 16 bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The `i32` in the slot.
    pub fn get_i32(&self) -> i32 {
        i32::from_ne_bytes(self.0[..4].try_into().expect("4 bytes"))
    }

    /// The `i64` in the slot.
    pub fn get_i64(&self) -> i64 {
        i64::from_ne_bytes(self.0[..8].try_into().expect("8 bytes"))
    }

    /// The `v128` in the slot.
    pub fn get_v128(&self) -> u128 {
        u128::from_ne_bytes(self.0)
    }

    /// The pointer-sized reference in the slot.
    pub fn get_pointer(&self) -> usize {
        usize::from_ne_bytes(
            self.0[..size_of::<usize>()]
                .try_into()
                .expect("pointer-sized"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_slots_round_trip() {
        assert_eq!(ValRaw::i32(-5).get_i32(), -5);
        assert_eq!(ValRaw::i64(i64::MIN).get_i64(), i64::MIN);
        assert_eq!(ValRaw::v128(u128::MAX - 3).get_v128(), u128::MAX - 3);
        assert_eq!(ValRaw::pointer(0xdead_beef).get_pointer(), 0xdead_beef);
        assert_eq!(size_of::<ValRaw>(), 16);
        assert_eq!(align_of::<ValRaw>(), 16);
    }
}
