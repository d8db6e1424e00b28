//! The C API's test programs: C sources in `tests/c/`, compiled with `cc`
//! against `include/` and the `libcljit.so` cargo built for this test
//! run, then run as processes. Each program prints `ok: SECTION` as it
//! passes a section; the test checks the whole list, in order.

mod support;

use support::{assert_sections, program, run};

#[test]
fn callbacks() {
    let out = run(&program("callbacks"), &[]);
    assert_sections(
        &out,
        &[
            "hello",
            "env",
            "multi-value",
            "host-trap",
            "reentry",
            "finalizer",
        ],
    );
    assert!(support::stdout(&out).starts_with("hello from C\nhello from C\n"));
}

#[test]
fn globals() {
    let out = run(&program("globals"), &[]);
    assert_sections(
        &out,
        &[
            "new",
            "import",
            "export",
            "refused",
            "type",
            "same",
            "link-error",
        ],
    );
}

#[test]
fn memories() {
    let out = run(&program("memories"), &[]);
    assert_sections(
        &out,
        &[
            "new",
            "shared-data",
            "grow",
            "bounds",
            "type",
            "link-error",
            "export",
        ],
    );
}

#[test]
fn tables() {
    let out = run(&program("tables"), &[]);
    assert_sections(&out, &["new", "indirect", "grow", "bounds", "externref"]);
}

#[test]
fn traps() {
    let out = run(&program("traps"), &[]);
    assert_sections(
        &out,
        &[
            "message",
            "frames",
            "references",
            "kinds",
            "start",
            "link",
            "new",
        ],
    );
}

#[test]
fn reflect() {
    let out = run(&program("reflect"), &[]);
    assert_sections(
        &out,
        &[
            "imports",
            "exports",
            "copies",
            "constructors",
            "vectors",
            "validate",
        ],
    );
}

#[test]
fn serialize() {
    let scratch = support::out_dir().join("serialize.cljit");
    let out = run(&program("serialize"), &[scratch.to_str().unwrap()]);
    assert_sections(
        &out,
        &["standard", "other-engine", "refused", "cljit", "settings"],
    );
}

#[test]
fn threads() {
    let out = run(&program("threads"), &[]);
    assert_sections(&out, &["threads", "same", "other-engine"]);
}

#[test]
fn refs() {
    let out = run(&program("refs"), &[]);
    assert_sections(
        &out,
        &[
            "host-info",
            "externref",
            "funcref",
            "conversions",
            "module-trap",
            "finalizers",
        ],
    );
}

#[test]
fn limits() {
    let cache = support::TempDir::new("cache");
    let out = run(&program("limits"), &[cache.path().to_str().unwrap()]);
    assert_sections(&out, &["fuel", "epoch", "caps", "config", "cache"]);
    // The cache kept the module: one artifact, written by the first engine.
    let files = support::files_under(cache.path());
    assert!(!files.is_empty(), "the cache directory is empty");
}

#[test]
fn wasi() {
    let dir = support::TempDir::new("wasi");
    let out = run(
        &program("wasi"),
        &[dir.path().to_str().unwrap(), "extra one", "två"],
    );
    assert_sections(
        &out,
        &[
            "capture", "exit", "limit", "args", "preopen", "inherit", "errors",
        ],
    );
    // The inheriting guest wrote to the program's own stdout, in order.
    assert!(
        support::stdout(&out).contains("ok: preopen\nbefore the guest\nbye\nok: inherit\n"),
        "{}",
        support::stdout(&out)
    );
}
