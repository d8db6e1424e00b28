//! Every key wasmtime's option groups know, with the kind of value each
//! takes and what cljit does with it: so a wasmtime user changes only the
//! binary's name, and a key cljit lacks is refused by name instead of
//! being unknown.
//!
//! The lists follow wasmtime's `crates/cli-flags` (`-O`, `-C`, `-D`, `-W`,
//! `-S`), plus the proposal names cljit always accepted (`mutable-global`,
//! `sign-extension`, `saturating-float-to-int`).

/// The option groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `-O`: optimisation and memory layout.
    Optimize,
    /// `-C`: code generation and the compile cache.
    Codegen,
    /// `-D`: debugging.
    Debug,
    /// `-W`: WebAssembly semantics, proposals and limits.
    Wasm,
    /// `-S`: WASI.
    Wasi,
}

impl Group {
    /// The flag's letter.
    pub fn letter(self) -> char {
        match self {
            Group::Optimize => 'O',
            Group::Codegen => 'C',
            Group::Debug => 'D',
            Group::Wasm => 'W',
            Group::Wasi => 'S',
        }
    }

    /// The keys of this group.
    pub fn keys(self) -> &'static [Key] {
        match self {
            Group::Optimize => OPTIMIZE,
            Group::Codegen => CODEGEN,
            Group::Debug => DEBUG,
            Group::Wasm => WASM,
            Group::Wasi => WASI,
        }
    }

    /// A key prefix every name under which is known (`-C cranelift-NAME`).
    pub fn prefix(self) -> Option<&'static str> {
        match self {
            Group::Codegen => Some("cranelift-"),
            _ => None,
        }
    }
}

/// The kind of value a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `y`/`n` (also `yes`, `no`, `true`, `false`); the key alone is `y`.
    Bool,
    /// A non-negative integer (decimal, `0x` hex, `_` separators).
    Integer,
    /// A byte count: an integer with an optional K, M or G suffix.
    Bytes,
    /// A duration: `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
    Duration,
    /// Any text (a name, a path, an address).
    Text,
}

impl Kind {
    /// How the kind is named in messages.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Bool => "y or n",
            Kind::Integer => "an integer",
            Kind::Bytes => "a byte count such as 65536, 64K or 4G",
            Kind::Duration => "a duration such as 10s, 500ms, 2m or a number of seconds",
            Kind::Text => "a value",
        }
    }
}

/// What cljit does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Implemented.
    Yes,
    /// A boolean cljit accepts only with this value, which is what it does
    /// anyway; the other value is not supported yet.
    Only(bool),
    /// Known, not implemented: refused whatever its value.
    No,
    /// A WebAssembly proposal, by its name in `cljit::FEATURE_NAMES`:
    /// toggles when cljit supports it, else accepted only when off.
    Proposal(&'static str),
    /// A WebAssembly proposal cljit has no name for (component model and
    /// its parts): accepted only when off.
    OtherProposal,
}

/// One known key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The key as written.
    pub name: &'static str,
    /// Its value's kind.
    pub kind: Kind,
    /// What cljit does with it.
    pub support: Support,
    /// One line for `-X help`.
    pub doc: &'static str,
}

const fn key(name: &'static str, kind: Kind, support: Support, doc: &'static str) -> Key {
    Key {
        name,
        kind,
        support,
        doc,
    }
}

use Kind::{Bool, Bytes, Duration, Integer, Text};
use Support::{No, Only, OtherProposal, Proposal, Yes};

/// `-O`.
#[rustfmt::skip]
pub const OPTIMIZE: &[Key] = &[
    key("opt-level", Text, Yes, "optimisation level: 0, 1, 2 or s (default 2)"),
    key("regalloc-algorithm", Text, Yes, "register allocator: backtracking (single-pass is not supported yet)"),
    key("memory-may-move", Bool, Only(true), "whether linear memories may move when they grow"),
    key("memory-reservation", Bytes, Yes, "address space reserved per memory; below 4G selects explicit bounds checks"),
    key("memory-reservation-for-growth", Bytes, No, "bytes reserved beyond a memory for growth"),
    key("memory-guard-size", Bytes, Yes, "inaccessible guard region after each memory"),
    key("memory-reservation-fallback", Bool, Yes, "cljit: explicit bounds checks when the reservation does not fit the process (default y)"),
    key("guard-before-linear-memory", Bool, Only(false), "a guard region before each memory too"),
    key("table-lazy-init", Bool, Only(false), "initialise tables lazily"),
    key("pooling-allocator", Bool, Only(false), "the pooling instance allocator"),
    key("pooling-decommit-batch-size", Integer, No, "pooling allocator: decommits per batch"),
    key("pooling-memory-keep-resident", Bytes, No, "pooling allocator: memory bytes kept resident"),
    key("pooling-table-keep-resident", Bytes, No, "pooling allocator: table bytes kept resident"),
    key("pooling-memory-protection-keys", Text, No, "pooling allocator: memory protection keys"),
    key("pooling-max-memory-protection-keys", Integer, No, "pooling allocator: most protection keys"),
    key("pooling-total-core-instances", Integer, No, "pooling allocator: most core instances"),
    key("pooling-total-component-instances", Integer, No, "pooling allocator: most component instances"),
    key("pooling-total-memories", Integer, No, "pooling allocator: most memories"),
    key("pooling-total-tables", Integer, No, "pooling allocator: most tables"),
    key("pooling-total-stacks", Integer, No, "pooling allocator: most async stacks"),
    key("pooling-max-memory-size", Bytes, No, "pooling allocator: largest memory"),
    key("pooling-table-elements", Integer, No, "pooling allocator: largest table"),
    key("pooling-max-core-instance-size", Bytes, No, "pooling allocator: largest instance metadata"),
    key("pooling-max-unused-warm-slots", Integer, No, "pooling allocator: warm slots kept"),
    key("pooling-async-stack-keep-resident", Bytes, No, "pooling allocator: stack bytes kept resident"),
    key("pooling-max-component-instance-size", Bytes, No, "pooling allocator: largest component metadata"),
    key("pooling-max-core-instances-per-component", Integer, No, "pooling allocator: instances per component"),
    key("pooling-max-memories-per-component", Integer, No, "pooling allocator: memories per component"),
    key("pooling-max-tables-per-component", Integer, No, "pooling allocator: tables per component"),
    key("pooling-max-tables-per-module", Integer, No, "pooling allocator: tables per module"),
    key("pooling-max-memories-per-module", Integer, No, "pooling allocator: memories per module"),
    key("pooling-total-gc-heaps", Integer, No, "pooling allocator: most GC heaps"),
    key("pooling-pagemap-scan", Text, No, "pooling allocator: reset memory with PAGEMAP_SCAN"),
    key("memory-init-cow", Bool, Yes, "initialise memories from copy-on-write images"),
    key("lazy", Bool, Yes, "cljit: compile each function when first called (`run`'s default)"),
    key("lazy-min-code-size", Bytes, Yes, "cljit: smaller code sections compile eagerly (default 256 KiB)"),
    key("lazy-tier-up", Integer, Yes, "cljit: calls plus loop iterations before optimising a lazy function (0: never)"),
    key("memory-guaranteed-dense-image-size", Bytes, No, "size below which memory images are dense"),
    key("signals-based-traps", Bool, Only(true), "turn hardware faults into traps with signal handlers"),
    key("dynamic-memory-guard-size", Bytes, Yes, "deprecated name of memory-guard-size"),
    key("static-memory-guard-size", Bytes, Yes, "deprecated name of memory-guard-size"),
    key("static-memory-forced", Bool, Only(false), "deprecated: memory-may-move=n"),
    key("static-memory-maximum-size", Bytes, Yes, "deprecated name of memory-reservation"),
    key("dynamic-memory-reserved-for-growth", Bytes, No, "deprecated name of memory-reservation-for-growth"),
];

/// `-C`.
#[rustfmt::skip]
pub const CODEGEN: &[Key] = &[
    key("compiler", Text, Yes, "the compiler: cranelift (winch is not supported)"),
    key("collector", Text, No, "the garbage collector (no GC support yet)"),
    key("cranelift-debug-verifier", Bool, Yes, "run Cranelift's IR verifier on every function (slow)"),
    key("cache", Bool, Yes, "use the compile cache (default y)"),
    key("cache-config", Text, Yes, "a wasmtime cache configuration file ([cache] directory, files-total-size-soft-limit)"),
    key("parallel-compilation", Bool, Yes, "compile functions on all cores (default y)"),
    key("pcc", Bool, Only(false), "proof-carrying code validation"),
    key("native-unwind-info", Bool, Only(false), "native unwind information in compiled code"),
    key("inlining", Bool, Only(false), "inline functions while compiling"),
];

/// `-D`.
#[rustfmt::skip]
pub const DEBUG: &[Key] = &[
    key("debug-info", Bool, Only(false), "DWARF debug information"),
    key("guest-debug", Bool, Only(false), "guest debugging instrumentation"),
    key("address-map", Bool, Only(true), "map native code addresses to wasm offsets (for backtraces)"),
    key("logging", Bool, Only(false), "log to stderr"),
    key("log-to-files", Bool, Only(false), "log to files"),
    key("coredump", Text, No, "write a coredump to this file after a trap"),
];

/// `-W`.
#[rustfmt::skip]
pub const WASM: &[Key] = &[
    key("nan-canonicalization", Bool, Only(false), "canonicalise every NaN"),
    key("fuel", Integer, Yes, "run with N units of fuel, trapping when they are spent"),
    key("epoch-interruption", Bool, Yes, "compile checks for epoch deadlines (implied by timeout)"),
    key("max-wasm-stack", Bytes, Yes, "most bytes of stack wasm may use"),
    key("async-stack-size", Bytes, No, "size of async stacks"),
    key("async-stack-zeroing", Bool, Only(false), "zero async stacks before reuse"),
    key("unknown-exports-allow", Bool, Yes, "allow unknown exports (cljit never refuses them)"),
    key("unknown-imports-trap", Bool, Yes, "define unknown imported functions as functions that trap"),
    key("unknown-imports-default", Bool, Yes, "define unknown imported functions as returning zeros"),
    key("wmemcheck", Bool, Only(false), "memory error checking"),
    key("max-memory-size", Bytes, Yes, "largest size any linear memory may reach"),
    key("max-table-elements", Integer, Yes, "largest size any table may reach"),
    key("max-instances", Integer, Yes, "most instances the store may hold"),
    key("max-tables", Integer, Yes, "most tables the store may hold"),
    key("max-memories", Integer, Yes, "most memories the store may hold"),
    key("trap-on-grow-failure", Bool, Yes, "trap when memory.grow or table.grow fails instead of returning -1"),
    key("timeout", Duration, Yes, "interrupt the program after this long (exit 134)"),
    key("all-proposals", Bool, Yes, "every proposal (y is refused while some are unsupported)"),
    key("bulk-memory", Bool, Proposal("bulk-memory"), "the bulk memory proposal"),
    key("multi-memory", Bool, Proposal("multi-memory"), "the multi-memory proposal"),
    key("multi-value", Bool, Proposal("multi-value"), "the multi-value proposal"),
    key("reference-types", Bool, Proposal("reference-types"), "the reference types proposal"),
    key("simd", Bool, Proposal("simd"), "the SIMD proposal"),
    key("relaxed-simd", Bool, Proposal("relaxed-simd"), "the relaxed SIMD proposal"),
    key("relaxed-simd-deterministic", Bool, Yes, "relaxed SIMD with the same results on every machine"),
    key("tail-call", Bool, Proposal("tail-call"), "the tail call proposal"),
    key("threads", Bool, Proposal("threads"), "the threads proposal"),
    key("shared-memory", Bool, Only(false), "creating shared memories"),
    key("shared-everything-threads", Bool, Proposal("shared-everything-threads"), "the shared-everything-threads proposal"),
    key("memory64", Bool, Proposal("memory64"), "the memory64 proposal"),
    key("component-model", Bool, Proposal("component-model"), "the component model"),
    key("component-model-async", Bool, OtherProposal, "component model: async"),
    key("component-model-async-builtins", Bool, OtherProposal, "component model: async builtins"),
    key("component-model-async-stackful", Bool, OtherProposal, "component model: stackful async"),
    key("component-model-threading", Bool, OtherProposal, "component model: threading"),
    key("component-model-error-context", Bool, OtherProposal, "component model: error-context"),
    key("component-model-gc", Bool, OtherProposal, "component model: GC"),
    key("component-model-fixed-length-lists", Bool, OtherProposal, "component model: fixed-length lists"),
    key("function-references", Bool, Proposal("function-references"), "the typed function references proposal"),
    key("stack-switching", Bool, Proposal("stack-switching"), "the stack switching proposal"),
    key("gc", Bool, Proposal("gc"), "the GC proposal"),
    key("custom-page-sizes", Bool, Proposal("custom-page-sizes"), "the custom page sizes proposal"),
    key("wide-arithmetic", Bool, Proposal("wide-arithmetic"), "the wide arithmetic proposal"),
    key("extended-const", Bool, Proposal("extended-const"), "the extended constant expressions proposal"),
    key("exceptions", Bool, Proposal("exceptions"), "the exception handling proposal"),
    key("legacy-exceptions", Bool, Proposal("legacy-exceptions"), "the legacy exception instructions (try, catch, delegate, rethrow; off by default, as in V8)"),
    key("gc-support", Bool, Only(false), "GC infrastructure"),
    key("concurrency-support", Bool, Only(false), "concurrency infrastructure"),
    key("mutable-global", Bool, Proposal("mutable-global"), "importable mutable globals (part of 2.0)"),
    key("sign-extension", Bool, Proposal("sign-extension"), "sign-extension operators (part of 2.0)"),
    key("saturating-float-to-int", Bool, Proposal("saturating-float-to-int"), "saturating conversions (part of 2.0)"),
];

/// `-S`.
#[rustfmt::skip]
pub const WASI: &[Key] = &[
    key("cli", Bool, Yes, "WASI preview1 (n: link no WASI functions)"),
    key("cli-exit-with-code", Bool, Only(false), "WASI preview2 exit-with-code"),
    key("common", Bool, Yes, "deprecated name of cli"),
    key("nn", Bool, Only(false), "wasi-nn"),
    key("threads", Bool, Yes, "wasi-threads: `wasi::thread-spawn` (needs -W threads)"),
    key("http", Bool, Only(false), "wasi-http"),
    key("http-outgoing-body-buffer-chunks", Integer, No, "wasi-http: buffered writes"),
    key("http-outgoing-body-chunk-size", Bytes, No, "wasi-http: largest write"),
    key("config", Bool, Only(false), "wasi-config"),
    key("keyvalue", Bool, Only(false), "wasi-keyvalue"),
    key("listenfd", Bool, Only(false), "inherit systemd listen sockets"),
    key("tcplisten", Text, Yes, "a listening TCP socket at ADDR for sock_accept (repeatable)"),
    key("tls", Bool, Only(false), "wasi-tls"),
    key("preview2", Bool, Yes, "wasmtime's preview1 implementation choice (cljit has one; both accepted)"),
    key("nn-graph", Text, No, "wasi-nn: preload a graph"),
    key("inherit-network", Bool, Only(false), "preview2 sockets: the host's network"),
    key("allow-ip-name-lookup", Bool, Only(false), "preview2 sockets: name lookup"),
    key("tcp", Bool, Only(false), "preview2 sockets: TCP"),
    key("udp", Bool, Only(false), "preview2 sockets: UDP"),
    key("network-error-code", Bool, Only(false), "preview2 sockets: network-error-code"),
    key("preview0", Bool, Only(true), "the older wasi_unstable module"),
    key("inherit-env", Bool, Yes, "pass the host's whole environment"),
    key("config-var", Text, No, "wasi-config: a variable"),
    key("keyvalue-in-memory-data", Text, No, "wasi-keyvalue: preset data"),
    key("p3", Bool, Only(false), "WASIp3"),
    key("max-resources", Integer, No, "most resources the guest may create"),
    key("hostcall-fuel", Integer, No, "fuel for host calls"),
    key("max-random-size", Bytes, No, "largest random request"),
    key("max-http-fields-size", Bytes, No, "largest wasi-http fields"),
];

/// The key `name` of `group`, if known (a prefixed key is known under the
/// prefix's first entry's terms: not supported).
pub fn find(group: Group, name: &str) -> Option<&'static Key> {
    group.keys().iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_proposals_exist() {
        for group in [
            Group::Optimize,
            Group::Codegen,
            Group::Debug,
            Group::Wasm,
            Group::Wasi,
        ] {
            let keys = group.keys();
            for (i, k) in keys.iter().enumerate() {
                assert!(
                    keys[i + 1..].iter().all(|other| other.name != k.name),
                    "-{} {} twice",
                    group.letter(),
                    k.name
                );
                if let Support::Proposal(feature) = k.support {
                    assert!(
                        cljit::FEATURE_NAMES.iter().any(|(n, _)| *n == feature),
                        "{feature}"
                    );
                    assert_eq!(k.kind, Kind::Bool);
                }
                if let Support::Only(_) = k.support {
                    assert_eq!(k.kind, Kind::Bool, "{}", k.name);
                }
            }
        }
    }
}
