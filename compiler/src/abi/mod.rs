//! The contract between compiled code and the runtime.
//!
//! Everything both sides must agree on is defined here, once: the VMContext
//! layout ([`VmOffsets`]), trap kinds and trap tables ([`Trap`]), exception
//! handler tables ([`HandlerTable`]), the word of a GC reference
//! ([`gc`]), the list of
//! runtime entry points ([`Builtin`]) and the compile knobs ([`Tunables`]).
//! This module imports nothing from Cranelift (only our own types), so it could become a crate of
//! its own unchanged.

pub mod builtins;
pub mod gc;
pub mod handlers;
pub mod hotness;
pub mod trap;
pub mod tunables;
pub mod vmoffsets;

pub use builtins::{
    ARRAY_NEW_OUT_OF_BOUNDS, Builtin, BuiltinType, GROW_TRAP, HOST_THROWS, WAIT_INTERRUPTED,
};
pub use handlers::{HandlerClause, HandlerSite, HandlerTable};
pub use hotness::HotnessCounter;
pub use trap::{AddressMap, Trap, TrapTable};
pub use tunables::{OptLevel, Tunables};
pub use vmoffsets::{VmCounts, VmOffsets};
