//! [`SharedBytes`]: a byte string that is either owned or a window into a
//! larger buffer kept alive by reference count, so that decoding an
//! artifact borrows its tables and data from the artifact's bytes instead
//! of copying each one (CPython's artifact holds 11,448 functions' tables
//! and 7 MB of data segments).
//!
//! Serialized, it is a plain byte string. Deserialized inside
//! [`with_owner`], a byte string that lies within the owner's bytes becomes
//! a window into them; anywhere else, a copy.

use std::cell::RefCell;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Something holding bytes that windows may borrow: an artifact's file
/// bytes, for example.
pub type BytesOwner = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Owned bytes, or a window into an owner's bytes (see the module
/// documentation). Compares, hashes and prints as its bytes.
#[derive(Clone)]
pub struct SharedBytes(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Vec<u8>),
    Window {
        owner: BytesOwner,
        range: Range<usize>,
    },
}

impl SharedBytes {
    /// A window onto `range` of `owner`'s bytes (`None` past their end).
    pub fn window(owner: BytesOwner, range: Range<usize>) -> Option<SharedBytes> {
        let len = (*owner).as_ref().len();
        (range.start <= range.end && range.end <= len)
            .then_some(SharedBytes(Repr::Window { owner, range }))
    }

    /// The bytes, made owned first if they were a window, to change.
    pub fn to_mut(&mut self) -> &mut Vec<u8> {
        if let Repr::Window { .. } = self.0 {
            self.0 = Repr::Owned(self.to_vec());
        }
        match &mut self.0 {
            Repr::Owned(bytes) => bytes,
            Repr::Window { .. } => unreachable!("made owned above"),
        }
    }

    /// `bytes` as a window when they lie within the owner of the running
    /// [`with_owner`] (on this thread), else a copy.
    pub fn borrow_or_copy(bytes: &[u8]) -> SharedBytes {
        window_or_copy(bytes)
    }

    /// Whether these bytes borrow from an owner rather than own a copy.
    pub fn is_window(&self) -> bool {
        matches!(self.0, Repr::Window { .. })
    }
}

impl Default for SharedBytes {
    fn default() -> SharedBytes {
        SharedBytes(Repr::Owned(Vec::new()))
    }
}

impl From<Vec<u8>> for SharedBytes {
    fn from(bytes: Vec<u8>) -> SharedBytes {
        SharedBytes(Repr::Owned(bytes))
    }
}

impl Deref for SharedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(bytes) => bytes,
            Repr::Window { owner, range } => &(**owner).as_ref()[range.clone()],
        }
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBytes")
            .field("len", &self.len())
            .field("window", &self.is_window())
            .finish()
    }
}

impl PartialEq for SharedBytes {
    fn eq(&self, other: &SharedBytes) -> bool {
        **self == **other
    }
}

impl Eq for SharedBytes {}

impl serde::Serialize for SharedBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}

impl<'de> serde::Deserialize<'de> for SharedBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SharedBytes, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SharedBytes;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }

            fn visit_borrowed_bytes<E>(self, bytes: &'de [u8]) -> Result<SharedBytes, E> {
                Ok(window_or_copy(bytes))
            }

            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<SharedBytes, E> {
                Ok(SharedBytes(Repr::Owned(bytes.to_vec())))
            }

            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<SharedBytes, E> {
                Ok(SharedBytes(Repr::Owned(bytes)))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<SharedBytes, A::Error> {
                let mut bytes = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Ok(SharedBytes(Repr::Owned(bytes)))
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

thread_local! {
    /// The owner whose bytes windows may borrow, while [`with_owner`] runs.
    static OWNER: RefCell<Option<BytesOwner>> = const { RefCell::new(None) };
}

/// Runs `f` on `owner`'s bytes; a [`SharedBytes`] deserialized meanwhile
/// (on this thread) from within those bytes borrows them.
pub fn with_owner<R>(owner: &BytesOwner, f: impl FnOnce(&[u8]) -> R) -> R {
    struct Reset(Option<BytesOwner>);
    impl Drop for Reset {
        fn drop(&mut self) {
            OWNER.with_borrow_mut(|o| *o = self.0.take());
        }
    }
    let previous = OWNER.with_borrow_mut(|o| o.replace(Arc::clone(owner)));
    let _reset = Reset(previous);
    f((**owner).as_ref())
}

/// A window onto `bytes` if they lie within the current owner's bytes,
/// else a copy.
fn window_or_copy(bytes: &[u8]) -> SharedBytes {
    OWNER.with_borrow(|owner| {
        let Some(owner) = owner else {
            return SharedBytes(Repr::Owned(bytes.to_vec()));
        };
        let all = (**owner).as_ref();
        let base = all.as_ptr() as usize;
        let start = (bytes.as_ptr() as usize).wrapping_sub(base);
        if bytes.as_ptr() as usize >= base && start + bytes.len() <= all.len() {
            SharedBytes(Repr::Window {
                owner: Arc::clone(owner),
                range: start..start + bytes.len(),
            })
        } else {
            SharedBytes(Repr::Owned(bytes.to_vec()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_from_the_owner_are_borrowed_and_others_copied() {
        let value = SharedBytes::from(b"tables".to_vec());
        let encoded = postcard::to_allocvec(&value).unwrap();
        let owner: BytesOwner = Arc::new(encoded.clone());
        let decoded: SharedBytes = with_owner(&owner, |bytes| postcard::from_bytes(bytes).unwrap());
        assert_eq!(decoded, value);
        assert!(decoded.is_window());
        // Outside `with_owner`, and for bytes elsewhere, a copy.
        let copied: SharedBytes = postcard::from_bytes(&encoded).unwrap();
        assert!(!copied.is_window());
        let other: SharedBytes = with_owner(&owner, |_| postcard::from_bytes(&encoded).unwrap());
        assert!(!other.is_window());
        assert_eq!(copied, value);
        // Changing a window copies it first; the owner is untouched.
        let mut changed = decoded.clone();
        changed.to_mut().push(b'!');
        assert_eq!(&*changed, b"tables!");
        assert_eq!(&*decoded, b"tables");
    }
}
