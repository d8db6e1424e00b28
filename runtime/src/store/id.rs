//! [`StoreId`]: which store a handle belongs to. A leaf module, so that
//! plain handles (such as an exception's, carried by errors) can name a
//! store without depending on the store itself.

use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a store, so handles can be checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreId(u64);

impl StoreId {
    /// A new id, never given before in this process.
    pub(crate) fn allocate() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}
