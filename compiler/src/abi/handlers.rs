//! Call-site tables: for each call site inside a `try_table`, where an
//! exception thrown below it may land, and for each call across which
//! GC references live, the stack slots that hold them (its stack map).
//!
//! Compiled code records, per call site (by its return address), the size
//! of the calling frame below its frame pointer and the handler clauses in
//! order: a context clause (where the frame's vmctx is stored, relative to
//! the stack pointer at the call), then tag clauses (a module tag index and
//! the landing offset) and catch-all clauses. The runtime's unwinder
//! interprets them: the first clause whose tag, read through the frame's
//! vmctx, is the thrown exception's tag, or the first catch-all, wins.

/// One clause of a call site's handler list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HandlerClause {
    /// The frame's vmctx, for the tags that follow, is stored at this
    /// offset from the stack pointer at the call.
    Context {
        /// Offset from the call's stack pointer.
        sp_offset: u32,
    },
    /// Exceptions of the module's tag `tag` land at `landing`.
    Tag {
        /// The module's tag index.
        tag: u32,
        /// Landing pad, as an offset from the function's start.
        landing: u32,
    },
    /// Every exception lands at `landing`.
    CatchAll {
        /// Landing pad, as an offset from the function's start.
        landing: u32,
    },
}

/// What the runtime knows of one call site: its exception handlers and
/// its stack map.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandlerSite {
    /// The call's return address, as an offset from the function's start.
    pub return_offset: u32,
    /// Bytes from the frame pointer down to the stack pointer at the call:
    /// where the stack pointer must be when a handler of this site runs.
    pub frame_offset: u32,
    /// The clauses, in the order they are tried (none: the site only has
    /// a stack map).
    pub clauses: Vec<HandlerClause>,
    /// The stack map: offsets from the stack pointer at the call of the
    /// slots holding GC references (pointer-sized words) while it runs.
    pub gc_slots: Vec<u32>,
}

/// The handler sites of one function, sorted by return offset.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandlerTable {
    sites: Vec<HandlerSite>,
}

impl HandlerTable {
    /// Records a site. Sites must be pushed in increasing offset order.
    ///
    /// # Panics
    ///
    /// If `site` comes before the previous one: the compiler emits call
    /// sites in code order, so this is a compiler bug.
    pub fn push(&mut self, site: HandlerSite) {
        if let Some(last) = self.sites.last() {
            assert!(
                last.return_offset < site.return_offset,
                "handler sites out of order"
            );
        }
        self.sites.push(site);
    }

    /// The site whose call returns to `return_offset`, if it has handlers
    /// or a stack map.
    pub fn lookup(&self, return_offset: u32) -> Option<&HandlerSite> {
        self.sites
            .binary_search_by_key(&return_offset, |s| s.return_offset)
            .ok()
            .map(|i| &self.sites[i])
    }

    /// The sites, in order.
    pub fn sites(&self) -> &[HandlerSite] {
        &self.sites
    }

    /// Whether the function has no handler sites.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_exact_return_offsets() {
        let mut t = HandlerTable::default();
        let site = |return_offset| HandlerSite {
            return_offset,
            frame_offset: 32,
            clauses: vec![HandlerClause::CatchAll { landing: 100 }],
            gc_slots: vec![8],
        };
        t.push(site(10));
        t.push(site(20));
        assert_eq!(t.lookup(20).map(|s| s.return_offset), Some(20));
        assert!(t.lookup(15).is_none());
        assert!(t.lookup(0).is_none());
    }
}
