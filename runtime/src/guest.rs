//! Checked views of guest linear memory for host functions.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────┐
//! │ SANDBOX BOUNDARY: every guest pointer a host function follows    │
//! │ passes through here. Changes need a second reviewer.             │
//! └──────────────────────────────────────────────────────────────────┘
//! ```
//!
//! A guest pointer is a 32-bit offset chosen by untrusted code. Host
//! functions never turn one into a Rust pointer; they ask [`GuestMemory`]
//! for the bytes at `ptr..ptr + len`, and an out-of-range request is a
//! [`GuestError`], never a host fault. Typed accesses also check natural
//! alignment (as wasmtime's wiggle does) and are little-endian, whatever
//! the host's byte order.

use std::fmt;

/// Why a guest memory access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestError {
    /// `ptr..ptr + len` does not lie inside the memory.
    OutOfBounds {
        /// The guest pointer.
        ptr: u64,
        /// The length asked for, in bytes.
        len: u64,
    },
    /// A typed access at a pointer not aligned to the type's size.
    Misaligned {
        /// The guest pointer.
        ptr: u64,
        /// The alignment the type needs, in bytes.
        align: u64,
    },
    /// Bytes that should be UTF-8 are not.
    InvalidUtf8 {
        /// The guest pointer of the string.
        ptr: u64,
    },
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GuestError::OutOfBounds { ptr, len } => {
                write!(f, "guest range {ptr:#x}+{len:#x} is out of bounds")
            }
            GuestError::Misaligned { ptr, align } => {
                write!(f, "guest pointer {ptr:#x} is not {align}-byte aligned")
            }
            GuestError::InvalidUtf8 { ptr } => write!(f, "guest string at {ptr:#x} is not UTF-8"),
        }
    }
}

impl std::error::Error for GuestError {}

/// A fixed-size little-endian value that can be read from and written to
/// guest memory.
pub trait GuestPrimitive: Copy {
    /// Size (and natural alignment) in bytes.
    const SIZE: usize;
    /// Decodes from exactly `SIZE` little-endian bytes.
    fn from_le(bytes: &[u8]) -> Self;
    /// Encodes into exactly `SIZE` little-endian bytes.
    fn to_le(self, out: &mut [u8]);
}

macro_rules! guest_primitive {
    ($($t:ty),*) => {$(
        impl GuestPrimitive for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
            fn to_le(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

guest_primitive!(u8, u16, u32, u64, i8, i16, i32, i64);

/// A checked view of one guest memory, borrowed for the length of a host
/// call.
#[derive(Debug)]
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    /// Wraps the bytes of a linear memory (from
    /// [`Memory::data_mut`](crate::Memory::data_mut)).
    pub fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    /// The memory's size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn range(&self, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, GuestError> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize);
        match end {
            Some(end) if end <= self.bytes.len() => Ok(start..end),
            _ => Err(GuestError::OutOfBounds {
                ptr: u64::from(ptr),
                len: u64::from(len),
            }),
        }
    }

    /// The bytes at `ptr..ptr + len`.
    ///
    /// # Errors
    ///
    /// [`GuestError::OutOfBounds`] if the range leaves the memory.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], GuestError> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// The bytes at `ptr..ptr + len`, mutably.
    ///
    /// # Errors
    ///
    /// [`GuestError::OutOfBounds`] if the range leaves the memory.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], GuestError> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// The UTF-8 string at `ptr..ptr + len`.
    ///
    /// # Errors
    ///
    /// Out of bounds, or not UTF-8.
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, GuestError> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| GuestError::InvalidUtf8 {
            ptr: u64::from(ptr),
        })
    }

    fn typed_range<T: GuestPrimitive>(
        &self,
        ptr: u32,
    ) -> Result<std::ops::Range<usize>, GuestError> {
        let size = T::SIZE as u32;
        // Bounds first: a pointer out of memory is a fault whatever its
        // alignment.
        let range = self.range(ptr, size)?;
        if !ptr.is_multiple_of(size) {
            return Err(GuestError::Misaligned {
                ptr: u64::from(ptr),
                align: u64::from(size),
            });
        }
        Ok(range)
    }

    /// Reads a `T` at `ptr`.
    ///
    /// # Errors
    ///
    /// Out of bounds (checked first), or `ptr` not aligned to `T::SIZE`.
    pub fn read<T: GuestPrimitive>(&self, ptr: u32) -> Result<T, GuestError> {
        let r = self.typed_range::<T>(ptr)?;
        Ok(T::from_le(&self.bytes[r]))
    }

    /// Writes `value` at `ptr`.
    ///
    /// # Errors
    ///
    /// Out of bounds, or `ptr` not aligned to `T::SIZE`.
    pub fn write<T: GuestPrimitive>(&mut self, ptr: u32, value: T) -> Result<(), GuestError> {
        let r = self.typed_range::<T>(ptr)?;
        value.to_le(&mut self.bytes[r]);
        Ok(())
    }

    /// Copies `data` to `ptr` (no alignment needed).
    ///
    /// # Errors
    ///
    /// Out of bounds.
    pub fn copy_from(&mut self, ptr: u32, data: &[u8]) -> Result<(), GuestError> {
        let len = u32::try_from(data.len()).map_err(|_| GuestError::OutOfBounds {
            ptr: u64::from(ptr),
            len: data.len() as u64,
        })?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_without_overflow() {
        let mut buf = vec![0u8; 16];
        let mut m = GuestMemory::new(&mut buf);
        assert!(m.slice(0, 16).is_ok());
        assert!(m.slice(16, 0).is_ok());
        assert_eq!(
            m.slice(16, 1),
            Err(GuestError::OutOfBounds { ptr: 16, len: 1 })
        );
        assert!(m.slice(u32::MAX, u32::MAX).is_err());
        assert!(m.slice_mut(8, 9).is_err());
        assert!(m.copy_from(12, &[1, 2, 3, 4]).is_ok());
        assert!(m.copy_from(13, &[1, 2, 3, 4]).is_err());
    }

    #[test]
    fn typed_access_is_little_endian_and_aligned() {
        let mut buf = vec![0u8; 16];
        let mut m = GuestMemory::new(&mut buf);
        m.write::<u32>(4, 0x0403_0201).unwrap();
        assert_eq!(m.slice(4, 4).unwrap(), &[1, 2, 3, 4]);
        assert_eq!(m.read::<u16>(4).unwrap(), 0x0201);
        assert_eq!(
            m.read::<u32>(2),
            Err(GuestError::Misaligned { ptr: 2, align: 4 })
        );
        assert!(m.write::<u64>(16, 1).is_err());
        assert!(m.read::<u64>(8).is_ok());
    }

    #[test]
    fn strings_must_be_utf8() {
        let mut buf = b"ok\xff".to_vec();
        let m = GuestMemory::new(&mut buf);
        assert_eq!(m.str(0, 2).unwrap(), "ok");
        assert_eq!(m.str(0, 3), Err(GuestError::InvalidUtf8 { ptr: 0 }));
    }
}
