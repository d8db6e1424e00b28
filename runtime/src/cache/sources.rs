//! Remembered source hashes: a cache hit must know the BLAKE3 hash of the
//! wasm file it runs, and hashing tens of megabytes on every run is half
//! of a hit's cost for a large module (CPython's 26 MB: about 35 ms of 80
//! on the 2-core VM). So the hash of a file is remembered beside its
//! identity and state (device, inode, size, modification and change
//! times), and used again while they are unchanged.
//!
//! Any write to a file sets its change time to the current time, which no
//! one can set back. A record is only made for a file whose change time
//! was already [`SETTLED`] old when it was hashed (and which did not
//! change while it was), so a later write always gives a different change
//! time, even with the kernel's coarse clock. Records are named by device
//! and inode, written atomically, and signed with the cache's key like the
//! entries: a record that does not verify, or describes another state of
//! the file, is ignored and the file hashed.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cljit_compiler::artifact::{self, Digest};

/// How old a file's last change must be for its hash to be remembered.
pub(super) const SETTLED: Duration = Duration::from_secs(2);

/// What identifies a file and its current contents, short of reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileState {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileState {
    /// The state of the open file `file`.
    pub(super) fn of(file: &File) -> std::io::Result<FileState> {
        let m = file.metadata()?;
        Ok(FileState {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }

    /// Whether the file last changed at least [`SETTLED`] before `now`.
    pub(super) fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let (secs, nanos) = self.ctime;
        let (Ok(secs), Ok(nanos)) = (u64::try_from(secs), u32::try_from(nanos)) else {
            return false;
        };
        Duration::new(secs, nanos.min(999_999_999)) + SETTLED <= now
    }

    fn bytes(&self) -> [u8; 56] {
        let mut out = [0u8; 56];
        let words = [
            self.dev,
            self.ino,
            self.size,
            self.mtime.0 as u64,
            self.mtime.1 as u64,
            self.ctime.0 as u64,
            self.ctime.1 as u64,
        ];
        for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}

/// Bytes of a record: the state, the source hash, the signature.
const RECORD: usize = 56 + 32 + 32;

fn record_path(dir: &Path, state: &FileState) -> PathBuf {
    dir.join(format!("{:x}-{:x}", state.dev, state.ino))
}

/// The remembered hash of the file in `state`, if a record in `dir`
/// describes exactly that state and verifies under `key`.
pub(super) fn recall(dir: &Path, key: &Digest, state: &FileState) -> Option<Digest> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(record_path(dir, state))
        .ok()?;
    let mut record = [0u8; RECORD];
    file.read_exact(&mut record).ok()?;
    let (body, mac) = record.split_at(56 + 32);
    let mac: Digest = mac.try_into().ok()?;
    if !artifact::verify_mac(key, body, &mac) {
        return None;
    }
    if body[..56] != state.bytes() {
        return None;
    }
    body[56..].try_into().ok()
}

/// Remembers that the file in `state` hashes to `source` (temporary file,
/// then rename). Failing to is not an error: the next run hashes again.
pub(super) fn remember(
    dir: &Path,
    temporary: PathBuf,
    key: &Digest,
    state: &FileState,
    source: &Digest,
) {
    let mut record = Vec::with_capacity(RECORD);
    record.extend_from_slice(&state.bytes());
    record.extend_from_slice(source);
    let mac = artifact::mac(key, &record);
    record.extend_from_slice(&mac);
    let written = fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)
        })
        .and_then(|mut f| f.write_all(&record))
        .and_then(|()| fs::rename(&temporary, record_path(dir, state)));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_match_only_the_state_and_key_they_were_made_for() {
        let dir = std::env::temp_dir().join(format!("cljit-sources-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let file_path = dir.with_extension("wasm");
        fs::write(&file_path, b"\0asm\x01\0\0\0").unwrap();
        let state = FileState::of(&File::open(&file_path).unwrap()).unwrap();
        let (key, source) = ([1u8; 32], [9u8; 32]);
        assert_eq!(recall(&dir, &key, &state), None);
        remember(&dir, dir.join(".t"), &key, &state, &source);
        assert_eq!(recall(&dir, &key, &state), Some(source));
        assert_eq!(recall(&dir, &[2u8; 32], &state), None, "another key");
        let other = FileState {
            size: state.size + 1,
            ..state
        };
        assert_eq!(recall(&dir, &key, &other), None, "another state");
        let later = FileState {
            ctime: (state.ctime.0 + 1, state.ctime.1),
            ..state
        };
        assert_eq!(recall(&dir, &key, &later), None, "changed since");
        // A damaged record is ignored.
        let path = record_path(&dir, &state);
        let mut bytes = fs::read(&path).unwrap();
        bytes[60] ^= 1;
        fs::write(&path, bytes).unwrap();
        assert_eq!(recall(&dir, &key, &state), None);
        // Settled only once old enough.
        let now = SystemTime::UNIX_EPOCH + Duration::new(state.ctime.0 as u64, 0);
        assert!(!state.settled(now));
        assert!(state.settled(now + SETTLED + Duration::from_secs(1)));
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_file(&file_path);
    }
}
