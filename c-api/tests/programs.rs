//! The C API's test programs: C sources in `tests/c/`, compiled with `cc`
//! against `include/` and the `libcljit.so` cargo built for this test
//! run, then run as processes. Each program prints `ok: SECTION` as it
//! passes a section; the test checks the whole list, in order. Every
//! program also runs built with AddressSanitizer and its leak checker.

mod support;

use std::path::Path;
use std::process::Output;

use support::{TempDir, assert_sections, build, crate_dir, run};

/// Each program and the sections it must pass.
const PROGRAMS: &[(&str, &[&str])] = &[
    (
        "callbacks",
        &[
            "hello",
            "env",
            "multi-value",
            "host-trap",
            "reentry",
            "finalizer",
        ],
    ),
    (
        "globals",
        &[
            "new",
            "import",
            "export",
            "refused",
            "type",
            "same",
            "link-error",
        ],
    ),
    (
        "memories",
        &[
            "new",
            "shared-data",
            "grow",
            "bounds",
            "type",
            "link-error",
            "export",
        ],
    ),
    (
        "tables",
        &["new", "indirect", "grow", "bounds", "externref"],
    ),
    (
        "traps",
        &[
            "message",
            "frames",
            "references",
            "kinds",
            "start",
            "link",
            "new",
        ],
    ),
    (
        "reflect",
        &[
            "imports",
            "exports",
            "copies",
            "constructors",
            "vectors",
            "validate",
        ],
    ),
    (
        "serialize",
        &["standard", "other-engine", "refused", "cljit", "settings"],
    ),
    ("threads", &["threads", "same", "other-engine"]),
    (
        "refs",
        &[
            "host-info",
            "externref",
            "funcref",
            "conversions",
            "module-trap",
            "finalizers",
        ],
    ),
    (
        "limits",
        &[
            "fuel",
            "epoch",
            "caps",
            "config",
            "cache",
            "lazy",
            "address-space",
        ],
    ),
    (
        "wasi",
        &[
            "capture", "exit", "limit", "args", "preopen", "inherit", "errors",
        ],
    ),
];

/// Builds `tests/c/NAME.c` with `flags` (as NAME plus `suffix`).
fn program(name: &str, suffix: &str, flags: &[&str]) -> std::path::PathBuf {
    let source = crate_dir().join(format!("tests/c/{name}.c"));
    build(&format!("{name}{suffix}"), &[source], flags)
}

/// Runs a program with what it needs: a scratch file or directory, and
/// for `wasi`, arguments the guest must see.
fn run_program(exe: &Path, name: &str) -> Output {
    let scratch = TempDir::new(name);
    let dir = scratch.path().to_str().unwrap().to_string();
    match name {
        "serialize" => run(exe, &[&format!("{dir}/module.cljit")]),
        "limits" => run(exe, &[&dir]),
        "wasi" => run(exe, &[&dir, "extra one", "två"]),
        _ => run(exe, &[]),
    }
}

fn sections(name: &str) -> &'static [&'static str] {
    PROGRAMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .expect("a known program")
}

fn check(name: &str) -> Output {
    let out = run_program(&program(name, "", &[]), name);
    assert_sections(&out, sections(name));
    out
}

#[test]
fn callbacks() {
    let out = check("callbacks");
    assert!(support::stdout(&out).starts_with("hello from C\nhello from C\n"));
}

#[test]
fn globals() {
    check("globals");
}

#[test]
fn memories() {
    check("memories");
}

#[test]
fn tables() {
    check("tables");
}

#[test]
fn traps() {
    check("traps");
}

#[test]
fn reflect() {
    check("reflect");
}

#[test]
fn serialize() {
    check("serialize");
}

#[test]
fn threads() {
    check("threads");
}

#[test]
fn refs() {
    check("refs");
}

#[test]
fn limits() {
    let cache = TempDir::new("cache");
    let out = run(
        &program("limits", "", &[]),
        &[cache.path().to_str().unwrap()],
    );
    assert_sections(&out, sections("limits"));
    // The cache kept the module the first engine compiled.
    assert!(
        !support::files_under(cache.path()).is_empty(),
        "the cache directory is empty"
    );
}

#[test]
fn wasi() {
    let out = check("wasi");
    // The inheriting guest wrote to the program's own stdout, in order.
    assert!(
        support::stdout(&out).contains("ok: preopen\nbefore the guest\nbye\nok: inherit\n"),
        "{}",
        support::stdout(&out)
    );
}

/// Every program built with AddressSanitizer: no invalid access or leak
/// on the C side, and no leak anywhere (the library allocates through the
/// malloc the sanitizer watches, so an object the C API fails to free, or
/// a program that fails to delete one, is reported).
#[test]
fn every_program_under_address_sanitizer() {
    for (name, sections) in PROGRAMS {
        let exe = program(
            name,
            "-asan",
            &["-fsanitize=address", "-fno-omit-frame-pointer"],
        );
        let out = run_program(&exe, name);
        let errors = support::stderr(&out);
        assert!(
            !errors.contains("Sanitizer"),
            "{name} under AddressSanitizer:\n{errors}"
        );
        assert_sections(&out, sections);
    }
}
