//! Vectors: `{ size, data }`, one generic layout for every element kind,
//! and the five functions `wasm.h` declares for each kind.
//!
//! A vector this library makes owns a boxed slice (`data` NULL when empty);
//! `*_vec_delete` takes it back. Vectors C builds itself (on the stack,
//! with `WASM_ARRAY_VEC`) are only ever read.

use std::mem::MaybeUninit;

/// A vector as `wasm.h` lays it out.
#[repr(C)]
#[derive(Debug)]
pub struct CVec<T> {
    /// Number of elements.
    pub size: usize,
    /// The elements (NULL when `size` is 0).
    pub data: *mut T,
}

/// What the vector functions need of an element kind.
pub trait Element: Sized {
    /// The value `*_vec_new_uninitialized` fills with.
    fn blank() -> Self;
    /// A deep copy (`*_vec_copy`).
    fn duplicate(&self) -> Self;
    /// Releases what the element owns (`*_vec_delete`).
    fn release(self);
}

impl Element for u8 {
    fn blank() -> u8 {
        0
    }
    fn duplicate(&self) -> u8 {
        *self
    }
    fn release(self) {}
}

impl<T: Clone> Element for Option<Box<T>> {
    fn blank() -> Self {
        None
    }
    fn duplicate(&self) -> Self {
        self.clone()
    }
    fn release(self) {}
}

impl<T: Element> CVec<T> {
    /// An empty vector.
    pub fn empty() -> CVec<T> {
        CVec {
            size: 0,
            data: std::ptr::null_mut(),
        }
    }

    /// A vector owning `items`.
    pub fn from_vec(items: Vec<T>) -> CVec<T> {
        if items.is_empty() {
            return CVec::empty();
        }
        let boxed = items.into_boxed_slice();
        let size = boxed.len();
        CVec {
            size,
            data: Box::into_raw(boxed).cast::<T>(),
        }
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        if self.size == 0 || self.data.is_null() {
            return &[];
        }
        // SAFETY: a non-empty vector's `data` points at `size` elements
        // (the API's contract for vectors C passes, ours for ours).
        unsafe { std::slice::from_raw_parts(self.data, self.size) }
    }

    /// The elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        if self.size == 0 || self.data.is_null() {
            return &mut [];
        }
        // SAFETY: as in `as_slice`, with exclusive access through `&mut`.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.size) }
    }

    /// Takes the elements of a vector this library made, leaving it empty.
    pub fn take(&mut self) -> Vec<T> {
        if self.size == 0 || self.data.is_null() {
            *self = CVec::empty();
            return Vec::new();
        }
        let raw = std::ptr::slice_from_raw_parts_mut(self.data, self.size);
        *self = CVec::empty();
        // SAFETY: the buffer was made by `from_vec` (`*_vec_delete` is only
        // for vectors this library made), as a boxed slice of this length.
        unsafe { Box::from_raw(raw) }.into_vec()
    }

    /// Releases the elements and the buffer.
    pub fn release(&mut self) {
        for item in self.take() {
            item.release();
        }
    }
}

/// Writes a new vector to an out-parameter.
pub(crate) fn write<T: Element>(out: &mut MaybeUninit<CVec<T>>, items: Vec<T>) {
    out.write(CVec::from_vec(items));
}

/// Defines the five functions of one vector kind (invoked beside each
/// element type).
macro_rules! vector_functions {
    ($vec:ident, $elem:ty, $name:literal,
     $new_empty:ident, $new_uninit:ident, $new:ident, $copy:ident, $delete:ident) => {
        #[doc = concat!("A vector of `", $name, "` (`wasm.h`).")]
        pub type $vec = $crate::vec::CVec<$elem>;

        #[doc = concat!("`", stringify!($new_empty), "`: an empty vector.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $new_empty(out: &mut std::mem::MaybeUninit<$vec>) {
            out.write($crate::vec::CVec::empty());
        }

        #[doc = concat!("`", stringify!($new_uninit), "`: `size` blank elements.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $new_uninit(out: &mut std::mem::MaybeUninit<$vec>, size: usize) {
            $crate::vec::write(
                out,
                (0..size)
                    .map(|_| <$elem as $crate::vec::Element>::blank())
                    .collect(),
            );
        }

        #[doc = concat!("`", stringify!($new), "`: a vector taking the `size` elements at `data`.")]
        ///
        /// # Safety
        ///
        /// `data` must point at `size` elements, whose ownership passes to
        /// the vector.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $new(
            out: &mut std::mem::MaybeUninit<$vec>,
            size: usize,
            data: *const $elem,
        ) {
            let items = (0..size)
                // SAFETY: `data` holds `size` elements, each read once and
                // then owned here (ownership passes per the contract).
                .map(|i| unsafe { data.add(i).read() })
                .collect();
            $crate::vec::write(out, items);
        }

        #[doc = concat!("`", stringify!($copy), "`: a deep copy.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $copy(out: &mut std::mem::MaybeUninit<$vec>, src: &$vec) {
            $crate::vec::write(
                out,
                src.as_slice()
                    .iter()
                    .map($crate::vec::Element::duplicate)
                    .collect(),
            );
        }

        #[doc = concat!("`", stringify!($delete), "`: releases the vector and its elements.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $delete(v: &mut $vec) {
            v.release();
        }
    };
}

vector_functions!(
    wasm_byte_vec_t,
    u8,
    "wasm_byte_t",
    wasm_byte_vec_new_empty,
    wasm_byte_vec_new_uninitialized,
    wasm_byte_vec_new,
    wasm_byte_vec_copy,
    wasm_byte_vec_delete
);

pub(crate) use vector_functions;

/// A name (byte vector) holding `bytes`.
pub(crate) fn name(bytes: &[u8]) -> wasm_byte_vec_t {
    CVec::from_vec(bytes.to_vec())
}
