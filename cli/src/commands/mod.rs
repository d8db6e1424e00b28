//! The subcommands, one `*Command` with `execute()` each.

pub mod cache;
pub mod compile;
pub mod run;
pub mod wast;
