//! Escape attempts: every route out of a preopen, with a check that nothing
//! outside it was read, created or changed.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;

use crate::support::*;

/// Everything about a tree that an escape could change: each entry's
/// type, size, mode, modification time and contents (or link target).
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let md = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let body = if md.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if md.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else {
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
            };
            let desc = format!(
                "{body} size={} mode={:o} mtime={}.{} nlink={}",
                md.len(),
                md.mode(),
                md.mtime(),
                md.mtime_nsec(),
                md.nlink()
            );
            out.insert(rel, desc);
        }
    }
    out
}

#[test]
fn no_escape_from_a_preopen() {
    let base = TempDir::new("escape");
    let outside = base.path().join("outside");
    let sandbox = base.path().join("sandbox");
    std::fs::create_dir_all(outside.join("victim")).unwrap();
    std::fs::create_dir_all(sandbox.join("sub")).unwrap();
    std::fs::write(outside.join("secret.txt"), "TOP SECRET").unwrap();
    std::fs::write(sandbox.join("inside.txt"), "inside").unwrap();
    symlink(&outside, sandbox.join("abs_link")).unwrap();
    symlink("../outside", sandbox.join("up_link")).unwrap();
    symlink("../../outside/secret.txt", sandbox.join("sub/deep_link")).unwrap();
    let before_outside = snapshot(&outside);
    let before_base: Vec<_> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let o = run(&[
        "run",
        "--dir",
        &format!("{}::/sb", sandbox.display()),
        program("escape").to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.ends_with("read: inside\nescapes: 0\n"), "{out}");
    assert!(!out.contains("ESCAPED") && !out.contains("WRONG"), "{out}");
    assert_eq!(out.matches("blocked: ").count(), 36, "{out}");
    assert!(!out.contains("TOP SECRET") && !stderr(&o).contains("TOP SECRET"));

    // Nothing outside changed, and nothing appeared beside the sandbox.
    assert_eq!(snapshot(&outside), before_outside);
    let after_base: Vec<_> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(after_base.len(), before_base.len());
    // What the guest did inside did happen.
    assert!(sandbox.join("moved_sub/mine2").symlink_metadata().is_ok());
    assert!(sandbox.join("abs").symlink_metadata().is_err());
}

#[test]
fn a_preopen_that_is_not_a_directory_is_refused() {
    let base = TempDir::new("notdir");
    let file = base.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let o = run(&[
        "run",
        "--dir",
        file.to_str().unwrap(),
        wat("reactor").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not a directory"), "{}", stderr(&o));
    let o = run(&[
        "run",
        "--dir",
        "/nonexistent-cljit",
        wat("reactor").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("failed to open directory"),
        "{}",
        stderr(&o)
    );
}
