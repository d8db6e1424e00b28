//! The background compile that fills the cache after a lazily compiled
//! run (`run` again, at the lowest priority, with [`CACHE_FILL_ENV`] set),
//! and the lock that keeps it to one per module.

use std::path::Path;

/// Set in the environment of the process `spawn_cache_fill` starts.
pub(super) const CACHE_FILL_ENV: &str = "CLJIT_CACHE_FILL";

/// Starts this command again, in the background at the lowest priority, to
/// compile the lazily loaded modules whole into the cache (`run` with
/// [`CACHE_FILL_ENV`] set compiles, stores and exits), so the next run of
/// the same module is a cache hit. This process does not wait for it: it
/// may exit first, and the compile goes on.
pub(super) fn spawn_cache_fill() {
    use std::os::unix::process::CommandExt as _;
    use std::process::{Command, Stdio};
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = Command::new(exe);
    command
        .args(std::env::args_os().skip(1))
        .env(CACHE_FILL_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own process group, so a Ctrl-C at the terminal stops the run but
    // not the compile; the same session, so that the scheduler weighs it
    // against this one (a new session is a new autogroup, which would get
    // an equal share of the CPU whatever its priority).
    command.process_group(0);
    // SAFETY: between fork and exec the child only calls `nice` and
    // `sched_setscheduler` on itself, both async-signal-safe, and reads
    // only its own stack.
    #[allow(unsafe_code, reason = "lowering the child's priority before exec")]
    unsafe {
        command.pre_exec(|| {
            libc::nice(19);
            let param = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
            Ok(())
        });
    }
    if let Ok(mut child) = command.spawn() {
        // Reaped if this process outlives it; never waited for at exit.
        std::thread::spawn(move || child.wait());
    }
}

/// The lock a background compile of the module at `path` holds in the
/// cache directory `dir` (named by the file's device and inode), if no
/// other process holds it. Released when the file is closed (at exit).
pub(super) fn fill_lock(dir: &Path, path: &Path) -> Option<std::fs::File> {
    use std::os::fd::AsRawFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).ok()?;
    std::fs::create_dir_all(dir).ok()?;
    let lock = dir.join(format!("fill-{:x}-{:x}.lock", meta.dev(), meta.ino()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)
        .ok()?;
    // SAFETY: flock on a descriptor this function owns; it blocks nothing
    // (LOCK_NB) and touches no memory.
    #[allow(unsafe_code, reason = "an advisory file lock")]
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    locked.then_some(file)
}
