//! Resource limits: the [`ResourceLimiter`] a store asks before memories
//! and tables grow and before instances, memories and tables are created,
//! and [`StoreLimits`], a ready one built with [`StoreLimitsBuilder`].
//!
//! !!! This file bounds untrusted guests. Changes need a second reviewer. !!!
//!
//! Installed with [`Store::limiter`](crate::Store::limiter). A refused
//! `memory.grow` or `table.grow` returns -1 to the guest; a limiter that
//! returns an error instead makes the instruction trap with that error.
//! A refused instantiation is an error naming the limit.

use crate::error::{Error, Result};
pub use crate::gc::DEFAULT_GC_HEAP_LIMIT;

/// How many instances a store may hold when its limiter does not say.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// How many tables a store may hold when its limiter does not say.
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// How many memories a store may hold when its limiter does not say.
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether a store's memories and tables may grow and how many
/// instances, memories and tables it may hold.
pub trait ResourceLimiter {
    /// A memory is about to grow from `current` to `desired` bytes (or is
    /// being created with `desired` bytes, `current` being zero); `maximum`
    /// is its declared maximum in bytes, if any. `Ok(false)` refuses
    /// (`memory.grow` returns -1, creation fails); an error makes
    /// `memory.grow` trap with it.
    ///
    /// # Errors
    ///
    /// Whatever the limiter wants the guest to trap with.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A memory's growth that this limiter allowed failed anyway (beyond
    /// its maximum, or out of memory). Returning an error turns the failure
    /// into a trap; the default lets `memory.grow` return -1.
    ///
    /// # Errors
    ///
    /// Whatever the limiter wants the guest to trap with.
    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// As [`ResourceLimiter::memory_growing`], for a table, in elements.
    ///
    /// # Errors
    ///
    /// Whatever the limiter wants the guest to trap with.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// As [`ResourceLimiter::memory_grow_failed`], for a table.
    ///
    /// # Errors
    ///
    /// Whatever the limiter wants the guest to trap with.
    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// The most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// The most tables the store may hold.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The most memories the store may hold.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }

    /// The most bytes the store's GC heap (its structs and arrays) may
    /// take; read when the limiter is installed. An allocation that does
    /// not fit even after a collection traps (`GC heap out of memory`).
    fn gc_heap_size(&self) -> usize {
        DEFAULT_GC_HEAP_LIMIT
    }
}

/// A ready [`ResourceLimiter`]: caps on memory size, table size and the
/// number of instances, memories and tables, optionally trapping when a
/// growth is refused. Built with [`StoreLimitsBuilder`].
#[derive(Debug, Clone)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    gc_heap_size: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            gc_heap_size: DEFAULT_GC_HEAP_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

/// Builds [`StoreLimits`]; every cap is off (or the default count) until
/// set.
#[derive(Debug, Clone, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// No caps beyond the default counts.
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder::default()
    }

    /// The most bytes any one linear memory may hold.
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements any one table may hold.
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(elements);
        self
    }

    /// The most instances the store may hold.
    pub fn instances(mut self, count: usize) -> StoreLimitsBuilder {
        self.0.instances = count;
        self
    }

    /// The most tables the store may hold.
    pub fn tables(mut self, count: usize) -> StoreLimitsBuilder {
        self.0.tables = count;
        self
    }

    /// The most memories the store may hold.
    pub fn memories(mut self, count: usize) -> StoreLimitsBuilder {
        self.0.memories = count;
        self
    }

    /// The most bytes the store's GC heap may take (see
    /// [`ResourceLimiter::gc_heap_size`]).
    pub fn gc_heap_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.gc_heap_size = bytes;
        self
    }

    /// Whether a refused or failed `memory.grow`/`table.grow` traps instead
    /// of returning -1 (not what the spec says, but it shows who asked for
    /// so much, in the trap's backtrace).
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// Whether growth to `desired` stays within `cap` and the declared
/// `maximum`.
fn within(desired: usize, cap: Option<usize>, maximum: Option<usize>) -> bool {
    cap.is_none_or(|cap| desired <= cap) && maximum.is_none_or(|max| desired <= max)
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = within(desired, self.memory_size, maximum);
        if !allow && self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing trap when growing memory to {desired} bytes"
            )));
        }
        Ok(allow)
    }

    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing a memory growth failure to be a trap: {error}"
            )));
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = within(desired, self.table_elements, maximum);
        if !allow && self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing trap when growing table to {desired} elements"
            )));
        }
        Ok(allow)
    }

    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing a table growth failure to be a trap: {error}"
            )));
        }
        Ok(())
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }

    fn gc_heap_size(&self) -> usize {
        self.gc_heap_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_maximums_both_bound_growth() {
        let mut limits = StoreLimitsBuilder::new()
            .memory_size(2 << 16)
            .table_elements(10)
            .instances(3)
            .build();
        assert!(limits.memory_growing(0, 2 << 16, None).unwrap());
        assert!(!limits.memory_growing(0, 3 << 16, None).unwrap());
        assert!(!limits.memory_growing(0, 2 << 16, Some(1 << 16)).unwrap());
        assert!(limits.table_growing(0, 10, None).unwrap());
        assert!(!limits.table_growing(0, 11, None).unwrap());
        assert!(limits.memory_grow_failed(Error::msg("no")).is_ok());
        assert_eq!(limits.instances(), 3);
        assert_eq!(limits.memories(), DEFAULT_MEMORY_LIMIT);
    }

    #[test]
    fn trap_on_grow_failure_turns_refusals_into_errors() {
        let mut limits = StoreLimitsBuilder::new()
            .memory_size(1 << 16)
            .trap_on_grow_failure(true)
            .build();
        let error = limits.memory_growing(0, 2 << 16, None).unwrap_err();
        assert!(error.to_string().contains("131072 bytes"), "{error}");
        assert!(limits.memory_grow_failed(Error::msg("no")).is_err());
        assert!(limits.table_grow_failed(Error::msg("no")).is_err());
    }
}
