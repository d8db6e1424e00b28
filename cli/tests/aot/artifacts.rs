//! `cljit compile` and running its artifacts.

use crate::support::*;

/// Compiles `wasm` to `out` with extra arguments, asserting success.
fn compile(wasm: &std::path::Path, out: &std::path::Path, extra: &[&str]) {
    let o = cljit()
        .arg("compile")
        .args(extra)
        .arg(wasm)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).is_empty() && stderr(&o).is_empty());
}

#[test]
fn an_artifact_runs_like_the_jit_with_every_run_option() {
    let scratch = TempDir::new("aot-files");
    let artifact = scratch.path().join("files.cwasm");
    compile(&program("files"), &artifact, &[]);
    let bytes = std::fs::read(&artifact).unwrap();
    assert!(bytes.starts_with(b"CLJITAOT"));

    let mut outputs = Vec::new();
    for module in [program("files"), artifact.clone()] {
        let work = TempDir::new("aot-work");
        let o = cljit()
            .env("CLJIT_TIMINGS", "1")
            .args(["run", "--no-cache", "--dir", &work.as_dir("/work")])
            .arg(&module)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let kind = crate::load_kind(&o);
        outputs.push((stdout(&o), kind));
    }
    assert_eq!(outputs[0].0, outputs[1].0);
    assert!(
        outputs[0].0.contains("ok: path_unlink_file"),
        "{}",
        outputs[0].0
    );
    assert_eq!(outputs[0].1, "off");
    assert_eq!(outputs[1].1, "artifact");

    // Arguments, environment, stdin and the exit code reach an artifact too.
    let echo = scratch.path().join("echo.cwasm");
    compile(&program("echo"), &echo, &[]);
    let mut child = cljit()
        .args([
            "run",
            "--env",
            "CLJIT_SHOW=A",
            "--env",
            "A=1",
            "--argv0",
            "prog",
        ])
        .arg(&echo)
        .args(["x", "--y"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"input\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "argv[0]=prog\nargv[1]=x\nargv[2]=--y\nenvc=2\nA=1\ninput\n"
    );

    // --invoke works on an artifact of a text module.
    let fib = scratch.path().join("fib-explicit.cwasm");
    compile(&repo().join("examples/fib.wat"), &fib, &[]);
    let o = run(&["run", "--invoke", "fib", fib.to_str().unwrap(), "20"]);
    assert_eq!(stdout(&o), "6765\n", "{}", stderr(&o));

    // The default output name is the input's stem with `.cwasm`, in the
    // current directory.
    let o = cljit()
        .current_dir(scratch.path())
        .arg("compile")
        .arg(repo().join("examples/fib.wat"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(scratch.path().join("fib.cwasm")).unwrap(),
        std::fs::read(&fib).unwrap()
    );
}

/// Runs an artifact and returns the failure message, asserting a clean
/// error (exit 1, no panic, nothing run).
fn refused(path: &std::path::Path, extra: &[&str]) -> String {
    let o = cljit().arg("run").args(extra).arg(path).output().unwrap();
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {} stderr: {err}",
        stdout(&o)
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        stdout(&o).is_empty(),
        "a refused artifact ran: {}",
        stdout(&o)
    );
    err
}

/// Replaces the first occurrence of `from` in `bytes` by `to` (same length).
fn replace(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("`{}` not found", String::from_utf8_lossy(from)));
    bytes[at..at + to.len()].copy_from_slice(to);
}

#[test]
fn damaged_and_foreign_artifacts_are_refused_with_the_reason() {
    let scratch = TempDir::new("aot-refuse");
    let good = scratch.path().join("good.cwasm");
    compile(&program("echo"), &good, &[]);
    let bytes = std::fs::read(&good).unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = scratch.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };

    let truncated = write("truncated.cwasm", &bytes[..bytes.len() / 2]);
    let e = refused(&truncated, &[]);
    assert!(e.contains("the artifact is damaged"), "{e}");

    let tiny = write("tiny.cwasm", &bytes[..20]);
    let e = refused(&tiny, &[]);
    assert!(e.contains("damaged: truncated"), "{e}");

    let mut flipped = bytes.clone();
    let at = bytes.len() - 100;
    flipped[at] ^= 0x40;
    let e = refused(&write("flipped.cwasm", &flipped), &[]);
    assert!(e.contains("does not match its checksum"), "{e}");

    // Without the magic it is not an artifact: it is read as wasm, which
    // it is not either.
    let mut magic = bytes.clone();
    magic[0] = b'X';
    let e = refused(&write("magic.cwasm", &magic), &[]);
    assert!(e.contains("failed to compile"), "{e}");

    let mut version = bytes.clone();
    version[8] = 99;
    let e = refused(&write("version.cwasm", &version), &[]);
    assert!(
        e.contains("artifact format version 99, but this cljit reads version 15"),
        "{e}"
    );

    // A CPU feature the host lacks, simulated by renaming one the header
    // lists (same length, so the header still decodes).
    let mut cpu = bytes.clone();
    let (listed, absent): (&[u8], &str) = if cfg!(target_arch = "x86_64") {
        (b"has_sse41", "has_zzz41")
    } else {
        (b"has_lse", "has_zzz")
    };
    replace(&mut cpu, listed, absent.as_bytes());
    let e = refused(&write("cpu.cwasm", &cpu), &[]);
    assert!(
        e.contains(&format!(
            "uses the CPU feature `{absent}`, which this machine lacks"
        )),
        "{e}"
    );

    // Another build of cljit.
    let mut build = bytes.clone();
    let header = String::from_utf8_lossy(&bytes[..200]).into_owned();
    let id: String = header
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 32)
        .expect("a 32-digit build id in the header")
        .to_string();
    let other: String = id.chars().rev().collect();
    replace(&mut build, id.as_bytes(), other.as_bytes());
    let e = refused(&write("build.cwasm", &build), &[]);
    assert!(
        e.contains(&format!("build id is {other}, but here it is {id}")),
        "{e}"
    );

    // Other settings than the engine's.
    let e = refused(&good, &["-W", "relaxed-simd-deterministic"]);
    assert!(
        e.contains("compiled with other settings: relaxed-simd-deterministic false (artifact) vs true (engine)"),
        "{e}"
    );
    let e = refused(&good, &["-O", "memory-reservation=0"]);
    assert!(
        e.contains("memory-reservation 4294967296 (artifact) vs 0"),
        "{e}"
    );

    // None of these changed the good one, which still runs.
    let o = run(&["run", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn cross_compiles_for_the_other_architecture() {
    let (here, other) = if cfg!(target_arch = "x86_64") {
        ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu")
    } else {
        ("aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu")
    };
    let scratch = TempDir::new("aot-cross");
    let foreign = scratch.path().join("echo-other.cwasm");
    compile(&program("echo"), &foreign, &["--target", other]);
    let host = scratch.path().join("echo.cwasm");
    compile(&program("echo"), &host, &[]);
    let (foreign_bytes, host_bytes) = (
        std::fs::read(&foreign).unwrap(),
        std::fs::read(&host).unwrap(),
    );
    assert!(foreign_bytes.starts_with(b"CLJITAOT"));
    assert_ne!(foreign_bytes, host_bytes);
    // The artifact is whole (its checksum holds) but refused for its target.
    let e = refused(&foreign, &[]);
    assert!(
        e.contains(&format!("target is {other}, but here it is {here}")),
        "{e}"
    );

    let o = run(&[
        "compile",
        "--target",
        "mips-unknown-linux-gnu",
        program("echo").to_str().unwrap(),
        "-o",
        scratch.path().join("mips.cwasm").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("mips-unknown-linux-gnu"),
        "{}",
        stderr(&o)
    );
    assert!(!scratch.path().join("mips.cwasm").exists());
}

#[test]
fn compile_errors_are_clean() {
    let scratch = TempDir::new("aot-errors");
    let out = scratch.path().join("x.cwasm");
    let o = run(&["compile", "/no/such.wasm", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("failed to read `/no/such.wasm`"),
        "{}",
        stderr(&o)
    );
    let bad = scratch.path().join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0\x01").unwrap();
    let o = run(&[
        "compile",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: failed to compile"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = run(&[
        "compile",
        &repo().join("examples/fib.wat").to_string_lossy(),
        "-o",
        "/no/such/dir/x.cwasm",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("failed to write `/no/such/dir/x.cwasm`"),
        "{}",
        stderr(&o)
    );
}

/// The machine code and metadata of an artifact are read before anything
/// runs; its data section (memory images, segment bytes) is mapped. So a
/// file renamed over or deleted changes nothing, one rewritten in place
/// changes at most the initial data of pages not yet touched (here none
/// the program reads), and one truncated in place loses those pages: the
/// run then ends with an error (a trap, or `SIGBUS` in a host call), never
/// running anything else.
#[test]
fn a_running_artifact_survives_its_file_being_replaced_deleted_or_rewritten() {
    use std::io::{BufRead as _, BufReader, Write as _};
    let scratch = TempDir::new("aot-replace");
    let app = scratch.path().join("app.cwasm");
    let other = scratch.path().join("other.cwasm");
    // The same program with 5 MiB of data: an artifact that large is read
    // into a mapping of its own, whose code pages then run in place.
    let large = scratch.path().join("large.wat");
    let text = std::fs::read_to_string(wat("ready_echo")).unwrap();
    let data = format!("(data (i32.const 65536) \"{}\")\n", "x".repeat(5 << 20));
    let text = text
        .replace(
            "(memory (export \"memory\") 1)",
            "(memory (export \"memory\") 100)",
        )
        .replacen("(data ", &format!("{data}(data "), 1);
    std::fs::write(&large, text).unwrap();
    let cases = [
        "renamed over",
        "deleted",
        "rewritten in place",
        "truncated in place",
    ]
    .into_iter()
    .flat_map(|how| [(how, wat("ready_echo")), (how, large.clone())]);
    for (how, source) in cases {
        compile(&source, &app, &[]);
        compile(&wat("reactor"), &other, &[]);
        let mut child = cljit()
            .env("CLJIT_TIMINGS", "1")
            .arg("run")
            .arg(&app)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n", "{how}");
        let case = format!("{how}, {}", source.display());
        match how {
            "renamed over" => std::fs::rename(&other, &app).unwrap(),
            "deleted" => std::fs::remove_file(&app).unwrap(),
            "rewritten in place" => {
                let len = std::fs::metadata(&app).unwrap().len() as usize;
                let mut file = std::fs::OpenOptions::new().write(true).open(&app).unwrap();
                file.write_all(&vec![0xcc; len]).unwrap();
            }
            _ => {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&app)
                    .unwrap();
                file.write_all(&vec![0xcc; 1 << 16]).unwrap();
            }
        }
        let mut stdin = child.stdin.take().unwrap();
        let written = stdin.write_all(b"still running\n");
        // A truncated artifact's lost pages may end the run before it reads
        // (under qemu, whose `read` checks the buffer first, it does).
        if how != "truncated in place" {
            written.unwrap();
        }
        drop(stdin);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        let o = child.wait_with_output().unwrap();
        if how == "truncated in place" {
            use std::os::unix::process::ExitStatusExt as _;
            let trapped = o.status.code() == Some(134) && stderr(&o).contains("wasm trap");
            let bus = o.status.signal() == Some(libc::SIGBUS);
            assert!(trapped || bus, "{case}: {:?} {}", o.status, stderr(&o));
            assert_eq!(rest, "", "{case}");
            continue;
        }
        assert_eq!(rest, "still running\n", "{case}");
        assert_eq!(o.status.code(), Some(0), "{case}: {}", stderr(&o));
        assert_eq!(crate::load_kind(&o), "artifact");
    }
}
