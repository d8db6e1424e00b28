use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;

use super::*;

struct Sandbox {
    root: std::path::PathBuf,
    fd: OwnedFd,
}

fn sandbox(tag: &str) -> Sandbox {
    let base = std::env::temp_dir().join(format!("cljit-path-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let root = base.join("root");
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::write(root.join("a/b/file"), b"inside").unwrap();
    fs::write(base.join("secret"), b"outside").unwrap();
    symlink("b/file", root.join("a/rel")).unwrap();
    symlink("../../secret", root.join("a/up")).unwrap();
    symlink("/etc/passwd", root.join("abs")).unwrap();
    symlink("loop2", root.join("loop1")).unwrap();
    symlink("loop1", root.join("loop2")).unwrap();
    symlink("a/b", root.join("dirlink")).unwrap();
    let fd = fs::File::open(&root).unwrap().into();
    Sandbox { root, fd }
}

fn name(r: &Resolved<'_>) -> String {
    r.name().to_str().unwrap().to_string()
}

#[test]
fn plain_and_dotted_paths_stay_inside() {
    let s = sandbox("plain");
    let r = resolve(s.fd.as_fd(), "a/./b/../b/file", false).unwrap();
    assert_eq!(name(&r), "file");
    let r = resolve(s.fd.as_fd(), "a/..", false).unwrap();
    assert_eq!(name(&r), ".");
    let r = resolve(s.fd.as_fd(), ".", false).unwrap();
    assert_eq!(name(&r), ".");
    let r = resolve(s.fd.as_fd(), "a/b/", false).unwrap();
    assert_eq!(name(&r), "b/");
    fs::remove_dir_all(s.root.parent().unwrap()).unwrap();
}

#[test]
fn escapes_are_refused() {
    let s = sandbox("escape");
    let fd = s.fd.as_fd();
    assert_eq!(resolve(fd, "..", false).unwrap_err(), Errno::Notcapable);
    assert_eq!(
        resolve(fd, "a/../../secret", false).unwrap_err(),
        Errno::Notcapable
    );
    assert_eq!(
        resolve(fd, "/etc/passwd", false).unwrap_err(),
        Errno::Notcapable
    );
    // A symlink to an absolute path, followed at the end or in the middle.
    assert_eq!(resolve(fd, "abs", true).unwrap_err(), Errno::Notcapable);
    // A relative symlink that climbs out.
    assert_eq!(resolve(fd, "a/up", true).unwrap_err(), Errno::Notcapable);
    // Not following leaves the link itself as the last component.
    assert_eq!(name(&resolve(fd, "a/up", false).unwrap()), "up");
    assert_eq!(resolve(fd, "", false).unwrap_err(), Errno::Noent);
    assert_eq!(resolve(fd, "a\0b", false).unwrap_err(), Errno::Inval);
    fs::remove_dir_all(s.root.parent().unwrap()).unwrap();
}

#[test]
fn symlinks_inside_are_followed() {
    let s = sandbox("follow");
    let fd = s.fd.as_fd();
    let r = resolve(fd, "a/rel", true).unwrap();
    assert_eq!(name(&r), "file");
    let r = resolve(fd, "dirlink/file", false).unwrap();
    assert_eq!(name(&r), "file");
    let st = sys::fstatat(r.dir(), r.name(), false).unwrap();
    assert_eq!(st.st_size, 6);
    assert_eq!(resolve(fd, "loop1", true).unwrap_err(), Errno::Loop);
    assert_eq!(resolve(fd, "loop1/x", false).unwrap_err(), Errno::Loop);
    // A trailing slash on a symlink asks for a directory.
    assert_eq!(resolve(fd, "dirlink/", false).unwrap_err(), Errno::Notdir);
    assert_eq!(name(&resolve(fd, "dirlink/", true).unwrap()), "b/");
    fs::remove_dir_all(s.root.parent().unwrap()).unwrap();
}
