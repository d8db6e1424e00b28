//! The C programs that cover the preview1 calls one family at a time.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

/// The sections the `files` program reports, in order.
const FILES_SECTIONS: &[&str] = &[
    "path_open",
    "fd_read fd_write fd_tell",
    "fd_pread fd_pwrite fd_seek",
    "fd_filestat_get fd_filestat_set_size fd_allocate",
    "fd_filestat_set_times",
    "fd_advise fd_datasync fd_sync",
    "fd_fdstat_get fd_fdstat_set_flags",
    "path_filestat_get path_filestat_set_times",
    "fd_renumber fd_close",
    "path_unlink_file",
];

#[test]
fn files() {
    let dir = TempDir::new("files");
    let o = run(&[
        "run",
        "--dir",
        &dir.as_dir("/work"),
        program("files").to_str().unwrap(),
    ]);
    assert_sections(&o, FILES_SECTIONS);
    // The program cleaned up after itself in the real directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `ulimit -v 2000000` leaves no room for a 6 GiB reservation per memory:
/// the engine then checks bounds explicitly, says so, and the program runs
/// as it does without the limit.
#[test]
fn files_under_a_two_gigabyte_address_space_limit() {
    let dir = TempDir::new("files-rlimit");
    let wasm = program("files");
    let mut cmd = cljit();
    cmd.env("CLJIT_TIMINGS", "1").args([
        "run",
        "--dir",
        &dir.as_dir("/work"),
        wasm.to_str().unwrap(),
    ]);
    let o = limit_address_space(&mut cmd, 2_000_000 << 10)
        .output()
        .unwrap();
    assert_sections(&o, FILES_SECTIONS);
    let err = stderr(&o);
    let why = err
        .lines()
        .find_map(|l| l.strip_prefix("cljit-memory: explicit bounds checks: "))
        .unwrap_or_else(|| panic!("no fallback line in: {err}"));
    assert!(
        why.starts_with("the address-space limit (RLIMIT_AS) leaves ")
            && why.ends_with(" MiB free, fewer than 8 reservations of 6144 MiB"),
        "{why}"
    );
    // Without the limit, guard pages: no such line.
    let o = cljit()
        .env("CLJIT_TIMINGS", "1")
        .args(["run", "--dir", &dir.as_dir("/work"), wasm.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("cljit-memory"), "{}", stderr(&o));
    // Turned off, the engine keeps its layout and the memory cannot be
    // made: a clear error, not a crash.
    let mut cmd = cljit();
    cmd.args([
        "run",
        "-O",
        "memory-reservation-fallback=n",
        wasm.to_str().unwrap(),
    ]);
    let o = limit_address_space(&mut cmd, 2_000_000 << 10)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("reserving 6144 MiB of address space for it failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn directories_and_links() {
    let dir = TempDir::new("dirs");
    let o = run(&[
        "run",
        "--dir",
        &dir.as_dir("/work"),
        program("dirs").to_str().unwrap(),
    ]);
    assert_sections(
        &o,
        &[
            "path_create_directory",
            "fd_readdir",
            "path_rename",
            "path_link",
            "path_symlink path_readlink",
            "path_remove_directory path_unlink_file",
            "fd_prestat_get fd_prestat_dir_name",
        ],
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn rights_are_enforced() {
    let work = TempDir::new("rights");
    let ro = TempDir::new("rights-ro");
    let data = ro.path().join("data.txt");
    std::fs::write(&data, "read me").unwrap();
    let before = std::fs::metadata(&data).unwrap().modified().unwrap();
    let o = run(&[
        "run",
        "--dir",
        &work.as_dir("/work"),
        "--ro-dir",
        &ro.as_dir("/ro"),
        program("rights").to_str().unwrap(),
    ]);
    assert_sections(
        &o,
        &[
            "rights from path_open",
            "fd_fdstat_set_rights",
            "directory rights",
            "read-only preopen",
        ],
    );
    // Nothing in the read-only directory changed.
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "read me");
    assert_eq!(
        std::fs::metadata(&data).unwrap().modified().unwrap(),
        before
    );
    assert_eq!(std::fs::read_dir(ro.path()).unwrap().count(), 1);
}

#[test]
fn args_env_clocks_random_and_signals() {
    let wasm = program("misc");
    let o = run(&[
        "run",
        "--env",
        "CLJIT_A=1",
        "--env",
        "CLJIT_B=x=y",
        wasm.to_str().unwrap(),
        "check",
        "one",
        "two words",
        "",
    ]);
    assert_sections(
        &o,
        &[
            "args_get args_sizes_get",
            "environ_get environ_sizes_get",
            "clock_res_get clock_time_get",
            "random_get",
            "sched_yield",
            "proc_raise (ignored signals)",
        ],
    );
}

#[test]
fn proc_exit_sets_the_exit_code() {
    let wasm = program("misc");
    for code in ["0", "3", "42", "125"] {
        let o = run(&["run", wasm.to_str().unwrap(), "exit", code]);
        assert_eq!(
            o.status.code(),
            Some(code.parse().unwrap()),
            "{}",
            stderr(&o)
        );
        assert_eq!(stderr(&o), "", "proc_exit is not an error");
    }
}

#[test]
fn proc_raise_ends_the_guest_like_the_signal() {
    let wasm = program("misc");
    // SIGTERM (WASI 15, Linux 15) ends the guest with 128 + 15.
    let o = run(&["run", wasm.to_str().unwrap(), "raise", "15"]);
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert_eq!(stdout(&o), "raising 15\n");
    // SIGUSR1 is WASI 10 but Linux 10 as well; SIGKILL is 9 in both.
    let o = run(&["run", wasm.to_str().unwrap(), "raise", "9"]);
    assert_eq!(o.status.code(), Some(137));
    // A stop signal is refused with EPERM (63) and the guest goes on.
    let o = run(&["run", wasm.to_str().unwrap(), "raise", "18"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "raising 18\nproc_raise returned 63\n");
}

#[test]
fn poll_oneoff_clocks_files_and_pipes() {
    let dir = TempDir::new("poll");
    let mut child = cljit()
        .args([
            "run",
            "--dir",
            &dir.as_dir("/work"),
            program("poll").to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "early EOF: {seen}");
        seen.push_str(&line);
        if line == "waiting for stdin\n" {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(150));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ping\n").unwrap();
    drop(stdin);
    out.read_to_string(&mut seen).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "stdout:\n{seen}\nstderr:\n{err}");
    let oks: Vec<&str> = seen
        .lines()
        .filter_map(|l| l.strip_prefix("ok: "))
        .collect();
    assert_eq!(
        oks,
        [
            "relative clock",
            "absolute clock",
            "earliest clock",
            "file and stdout readiness",
            "subscription errors",
            "stdin pipe"
        ]
    );
}

#[test]
fn sockets_accept_recv_send_shutdown() {
    // Find a free port, then hand it to cljit.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = cljit()
        .args([
            "run",
            "--tcplisten",
            &addr,
            program("sock").to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "early EOF: {seen}");
        seen.push_str(&line);
        if line == "ready\n" {
            break;
        }
    }
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(b"hello").unwrap();
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"HELLO");
    drop(conn);
    out.read_to_string(&mut seen).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{seen}\n{err}");
    let oks: Vec<&str> = seen
        .lines()
        .filter_map(|l| l.strip_prefix("ok: "))
        .collect();
    assert_eq!(
        oks,
        [
            "sock_accept errors",
            "sock_accept",
            "sock_recv",
            "sock_send",
            "sock_shutdown"
        ]
    );
}

#[test]
fn argv_env_and_stdio_reach_the_guest() {
    let wasm = program("echo");
    let wasm = wasm.to_str().unwrap();
    let mut child = cljit()
        .args([
            "run",
            "--env",
            "CLJIT_SHOW=A,B,HOME_X",
            "--env",
            "A=1",
            "--env",
            "HOME_X",
        ])
        .args([wasm, "x", "--dir", "-y"])
        .env_clear()
        .env("HOME_X", "from-host")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped input\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "argv[0]=echo.wasm\nargv[1]=x\nargv[2]=--dir\nargv[3]=-y\nenvc=3\n\
         A=1\nB=(unset)\nHOME_X=from-host\npiped input\n"
    );
    assert_eq!(stderr(&o), "to stderr\n");

    let o = cljit()
        .args(["run", "--argv0", "prog", "--inherit-env", wasm])
        .env_clear()
        .env("CLJIT_SHOW", "ONLY")
        .env("ONLY", "here")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        "argv[0]=prog\nenvc=2\nONLY=here\n",
        "{}",
        stderr(&o)
    );
}
