//! The subcommands, one `*Command` with `execute()` each.

pub mod run;
pub mod wast;
