//! Table storage: a vector of pointer-sized elements (null = 0) whose
//! extent compiled code reads through a `VmTableDefinition`.

use cljit_compiler::types::TableType;

use super::vmcontext::VmTableDefinition;

/// The most elements a table may hold, whatever its declared maximum, so a
/// guest cannot make the host allocate without bound.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// One table, owned by a store.
#[derive(Debug)]
pub struct TableStorage {
    ty: TableType,
    elements: Vec<usize>,
    /// Shared with compiled code; boxed so its address is stable.
    definition: Box<VmTableDefinition>,
}

impl TableStorage {
    /// Creates a table of `ty.min_elements` copies of `init`, or `None` if
    /// that exceeds [`MAX_TABLE_ELEMENTS`].
    pub fn new(ty: TableType, init: usize) -> Option<TableStorage> {
        if ty.min_elements > MAX_TABLE_ELEMENTS {
            return None;
        }
        let mut elements = vec![init; usize::try_from(ty.min_elements).ok()?];
        let definition = Box::new(VmTableDefinition {
            base: elements.as_mut_ptr(),
            current_elements: elements.len(),
        });
        Some(TableStorage {
            ty,
            elements,
            definition,
        })
    }

    /// The table's type, with its current size as the minimum.
    pub fn ty(&self) -> TableType {
        TableType {
            min_elements: self.elements.len() as u64,
            ..self.ty
        }
    }

    /// Current number of elements.
    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The elements.
    pub fn elements(&self) -> &[usize] {
        &self.elements
    }

    /// The elements, mutably.
    pub fn elements_mut(&mut self) -> &mut [usize] {
        &mut self.elements
    }

    /// The definition compiled code reads.
    pub fn definition_ptr(&mut self) -> *mut VmTableDefinition {
        &mut *self.definition
    }

    /// Grows by `delta` elements set to `init`, returning the old size, or
    /// `None` (and no change) past the maximum.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        let max = self
            .ty
            .max_elements
            .unwrap_or(u64::MAX)
            .min(MAX_TABLE_ELEMENTS);
        if new > max {
            return None;
        }
        self.elements.resize(usize::try_from(new).ok()?, init);
        self.definition.base = self.elements.as_mut_ptr();
        self.definition.current_elements = self.elements.len();
        Some(old)
    }

    /// Sets elements `[dst, dst + len)` to `value`, or returns `false` (and
    /// changes nothing) if that range is out of bounds.
    pub fn fill(&mut self, dst: u64, value: usize, len: u64) -> bool {
        match range(dst, len, self.size()) {
            Some(r) => {
                self.elements[r].fill(value);
                true
            }
            None => false,
        }
    }
}

/// `[start, start + len)` as a slice range if it lies within `size`.
pub fn range(start: u64, len: u64, size: u64) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size {
        return None;
    }
    Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cljit_compiler::types::RefType;

    #[test]
    fn grow_updates_the_definition_and_respects_max() {
        let ty = TableType::new(RefType::FUNCREF, 2, Some(4));
        let mut t = TableStorage::new(ty, 0).expect("table");
        assert_eq!(t.grow(2, 9), Some(2));
        assert_eq!(t.grow(1, 9), None);
        let def = t.definition_ptr();
        // SAFETY: the definition is owned by `t`, alive here.
        let (base, n) = unsafe { ((*def).base, (*def).current_elements) };
        assert_eq!(n, 4);
        assert_eq!(base, t.elements_mut().as_mut_ptr());
        assert_eq!(t.elements(), &[0, 0, 9, 9]);
        assert!(t.fill(1, 5, 3));
        assert!(!t.fill(3, 5, 2));
        assert_eq!(t.elements(), &[0, 5, 5, 5]);
    }

    #[test]
    fn range_rejects_overflow_and_out_of_bounds() {
        assert_eq!(range(1, 2, 3), Some(1..3));
        assert_eq!(range(2, 2, 3), None);
        assert_eq!(range(u64::MAX, 2, 3), None);
        assert_eq!(range(3, 0, 3), Some(3..3));
    }
}
