//! The `wasi_paths` target: the WASI path resolver against a real tree.

use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use cljit::wasi::path::resolve;

/// Paths that resolved and whose entry existed, so that every check ran
/// (in this process).
pub static OPENED: AtomicUsize = AtomicUsize::new(0);
/// Paths the resolver refused (in this process).
pub static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// The preopened directory and its real path.
struct Tree {
    root: PathBuf,
    fd: OwnedFd,
}

/// Names a token-mode input picks from: every entry of the tree, and the
/// components that move around it.
const TOKENS: &[&str] = &[
    "a", "b", "file", "rel", "up", "up2", "up3", "abs", "absdir", "loop1", "loop2", "self",
    "dirlink", "out", "chain", "emptydir", ".", "..", "", "secret", "dir", "missing", "outside",
    "root",
];

/// Builds, once per process, a tree under the temporary directory:
///
/// ```text
/// outside/secret  outside/dir/
/// root/                       (the preopened directory)
///   file  emptydir/  a/b/file
///   a/rel -> b/file           a/up -> ../../outside/secret (out)
///   a/b/up2 -> ../.. (root)   a/b/up3 -> ../../.. (out)
///   abs -> /etc/passwd        absdir -> /tmp
///   loop1 -> loop2 -> loop1   self -> .
///   dirlink -> a/b            out -> ../outside
///   chain -> dirlink/up2/out
/// ```
fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        remove_tree();
        let base = std::env::temp_dir().join(format!("cljit-fuzz-paths-{}", std::process::id()));
        let root = base.join("root");
        let made = (|| -> std::io::Result<()> {
            fs::create_dir_all(base.join("outside/dir"))?;
            fs::write(base.join("outside/secret"), b"outside")?;
            fs::create_dir_all(root.join("a/b"))?;
            fs::create_dir_all(root.join("emptydir"))?;
            fs::write(root.join("file"), b"inside")?;
            fs::write(root.join("a/b/file"), b"inside")?;
            for (link, target) in [
                ("a/rel", "b/file"),
                ("a/up", "../../outside/secret"),
                ("a/b/up2", "../.."),
                ("a/b/up3", "../../.."),
                ("abs", "/etc/passwd"),
                ("absdir", "/tmp"),
                ("loop1", "loop2"),
                ("loop2", "loop1"),
                ("self", "."),
                ("dirlink", "a/b"),
                ("out", "../outside"),
                ("chain", "dirlink/up2/out"),
            ] {
                symlink(target, root.join(link))?;
            }
            Ok(())
        })();
        made.unwrap_or_else(|e| panic!("building {}: {e}", base.display()));
        let root = root.canonicalize().expect("the tree's root");
        let fd = fs::File::open(&root).expect("the tree's root opens").into();
        Tree { root, fd }
    })
}

/// Removes the tree this process built, if any (for a test that ends; the
/// target itself keeps it for the process's life).
pub fn remove_tree() {
    let base = std::env::temp_dir().join(format!("cljit-fuzz-paths-{}", std::process::id()));
    let _ = fs::remove_dir_all(base);
}

/// The real path of an open descriptor.
fn real_path(fd: BorrowedFd<'_>) -> PathBuf {
    fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("/proc/self/fd")
}

fn inside(root: &Path, path: &Path) -> bool {
    path.starts_with(root)
}

/// The path an input names: after a flags byte (bit 0: follow a final
/// symlink; bit 1: token mode), either the bytes themselves or, in token
/// mode, one token per byte joined by `/`.
fn path_of(data: &[u8]) -> Option<(String, bool)> {
    let (&flags, rest) = data.split_first()?;
    let path = if flags & 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        rest.iter()
            .map(|&b| TOKENS[usize::from(b) % TOKENS.len()])
            .collect::<Vec<_>>()
            .join("/")
    };
    Some((path, flags & 1 == 1))
}

/// Resolves the path the input names beneath the preopened directory; if
/// it resolves, the directory reached and the entry named there lie inside
/// the tree's root, the name is one component, and a followed path does
/// not end on a symlink.
pub fn wasi_paths(data: &[u8]) {
    let Some((path, follow)) = path_of(data) else {
        return;
    };
    let tree = tree();
    let Ok(resolved) = resolve(tree.fd.as_fd(), &path, follow) else {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let dir = real_path(resolved.dir());
    assert!(
        inside(&tree.root, &dir),
        "{path:?} (follow {follow}) resolved to directory {}",
        dir.display()
    );
    let name = resolved.name().to_bytes();
    let bare = name.strip_suffix(b"/").unwrap_or(name);
    assert!(
        !bare.is_empty() && bare != b".." && !bare.contains(&b'/'),
        "{path:?} (follow {follow}) resolved to name {:?}",
        String::from_utf8_lossy(name)
    );
    // What the callers then open, never following a final symlink.
    // SAFETY: `openat` reads a NUL-terminated name that lives across the
    // call and a directory descriptor the resolution holds open.
    let fd = unsafe {
        libc::openat(
            resolved.dir().as_raw_fd(),
            resolved.name().as_ptr(),
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return;
    }
    // SAFETY: `fd` was just opened by us and is owned by nothing else.
    let entry = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let entry_path = real_path(entry.as_fd());
    assert!(
        inside(&tree.root, &entry_path),
        "{path:?} (follow {follow}) opened {}",
        entry_path.display()
    );
    OPENED.fetch_add(1, Ordering::Relaxed);
    if follow {
        let meta = fs::symlink_metadata(&entry_path).expect("the entry exists");
        assert!(
            !meta.file_type().is_symlink(),
            "{path:?} (follow {follow}) ended on symlink {}",
            entry_path.display()
        );
    }
}
