//! The on-disk compile cache: a module is compiled once, then loaded from
//! its artifact.
//!
//! Layout of a cache directory:
//!
//! ```text
//! key-<uid>             this user's 32-byte secret key, mode 0600
//! modules/<key>.cwasm   entries: signed artifacts named by their cache key
//! hits-<uid>, misses-<uid>   counters: one byte appended per event
//! ```
//!
//! The rules that keep the cache from poisoning itself:
//!
//! - The cache key ([`Compiler::cache_key`]) covers the wasm bytes, the
//!   cljit build, the target, the CPU features and every setting that
//!   changes code, so an upgrade or another flag is another entry.
//! - Entries are written to a temporary file and renamed into place: a
//!   reader sees a whole entry or none, and a file never changes under a
//!   reader (which reads it into memory before checking it).
//! - Every entry is signed with the user's key; an entry whose signature
//!   does not verify (planted by another user who could write the
//!   directory, or damaged) is a miss. The key file must belong to the user
//!   and be unreadable to others, or the cache is not used.
//! - Any failure to load an entry is a miss: compile, then rewrite it. A
//!   directory that cannot be written only means nothing is stored.
//! - Entries are evicted least-recently-used first (a hit refreshes the
//!   file's modification time) to keep the directory under its size limit.
//!
//! [`Compiler::cache_key`]: cljit_compiler::Compiler::cache_key

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cljit_compiler::artifact::{self, ArtifactError, Digest};
use cljit_compiler::shared_bytes::SharedBytes;

use crate::artifact_file::{ArtifactFile, OpenError};
use crate::engine::{Engine, wasm_binary};
use crate::error::{Error, Result};
use crate::file_bytes::FileBytes;
use crate::module::Module;

mod sources;

/// The default size limit of a cache directory: 1 GiB.
pub const DEFAULT_CACHE_LIMIT: u64 = 1 << 30;

/// Temporary files older than this are left-overs of a killed writer.
const STALE_TEMPORARY: Duration = Duration::from_secs(600);

/// A cache directory and its size limit.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    limit: u64,
}

/// How a [`Cache::load`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The module was loaded from its entry.
    Hit,
    /// The module was compiled; `reason` says why the entry was not used and
    /// `stored` whether a new entry was written.
    Miss {
        /// Why: "no entry", or what was wrong with it.
        reason: String,
        /// Whether the fresh entry was written.
        stored: bool,
    },
}

/// What `cljit cache stats` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries in the directory.
    pub entries: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Loads served from an entry (this user's).
    pub hits: u64,
    /// Loads that compiled (this user's).
    pub misses: u64,
    /// The size limit.
    pub limit: u64,
}

/// What [`Cache::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries that are whole, signed with this user's key and named by
    /// their key.
    pub valid: u64,
    /// Entries removed, with the reason.
    pub removed: Vec<(PathBuf, String)>,
}

fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::msg(format!("{what} `{}`: {e}", path.display()))
}

impl Cache {
    /// A cache in `dir`, with the default size limit. Nothing is created
    /// until something is stored.
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: dir.into(),
            limit: DEFAULT_CACHE_LIMIT,
        }
    }

    /// The default directory: `$CLJIT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/cljit`, else `$HOME/.cache/cljit`; `None` when none
    /// of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("CLJIT_CACHE_DIR") {
            return Some(dir.into());
        }
        if let Some(xdg) = var("XDG_CACHE_HOME") {
            return Some(PathBuf::from(xdg).join("cljit"));
        }
        var("HOME").map(|home| PathBuf::from(home).join(".cache").join("cljit"))
    }

    /// Sets the size limit in bytes.
    pub fn with_limit(mut self, bytes: u64) -> Cache {
        self.limit = bytes;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn modules(&self) -> PathBuf {
        self.dir.join("modules")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join(format!("key-{}", uid()))
    }

    fn counter(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}-{}", uid()))
    }

    /// The entry file for a cache key.
    pub fn entry_path(&self, key: &Digest) -> PathBuf {
        self.modules().join(format!("{}.cwasm", hex(key)))
    }

    /// Reads this user's key; `Ok(None)` when there is none yet.
    fn read_key(&self) -> Result<Option<Digest>> {
        let path = self.key_path();
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot open the cache key", &path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| io_error("cannot inspect the cache key", &path, e))?;
        if meta.uid() != uid() || meta.mode() & 0o077 != 0 || !meta.is_file() {
            return Err(Error::msg(format!(
                "the cache key `{}` is not private to this user (owner {}, mode {:o}); \
                 not using the cache",
                path.display(),
                meta.uid(),
                meta.mode() & 0o7777
            )));
        }
        let mut key = [0u8; 32];
        let mut rest = Vec::new();
        file.read_exact(&mut key)
            .and_then(|()| file.read_to_end(&mut rest))
            .map_err(|e| io_error("cannot read the cache key", &path, e))?;
        if !rest.is_empty() {
            return Err(Error::msg(format!(
                "the cache key `{}` is not 32 bytes",
                path.display()
            )));
        }
        Ok(Some(key))
    }

    /// Reads this user's key, creating it (mode 0600, published with a
    /// hard link so concurrent creators agree on one) if there is none.
    fn key(&self) -> Result<Digest> {
        if let Some(key) = self.read_key()? {
            return Ok(key);
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| io_error("cannot create the cache directory", &self.dir, e))?;
        let mut key = [0u8; 32];
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .map_err(|e| Error::msg(format!("cannot read /dev/urandom: {e}")))?;
        let temporary = self.temporary(&self.dir, "key");
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut f| f.write_all(&key));
        let linked = written.and_then(|()| fs::hard_link(&temporary, self.key_path()));
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self
                .read_key()?
                .ok_or_else(|| Error::msg("the cache key vanished while being created")),
            Err(e) => Err(io_error("cannot create the cache key", &self.key_path(), e)),
        }
    }

    fn temporary(&self, dir: &Path, what: &str) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        dir.join(format!(".{what}-{}-{nanos:09}.tmp", std::process::id()))
    }

    fn count(&self, name: &str) {
        // One byte per event, appended: concurrent processes never lose a
        // count, and the count is the file's size. Failures are ignored.
        let _ = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(self.counter(name))
            .and_then(|mut f| f.write_all(b"."));
    }

    /// Loads the module compiled from `wasm` (binary or text) for
    /// `engine`: from its entry when there is a valid one, else by compiling
    /// it and storing a new entry. Problems with the cache never fail the
    /// load; they are a miss (the reason is in the [`CacheOutcome`]).
    ///
    /// # Errors
    ///
    /// Only when `wasm` does not compile.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Result<(Module, CacheOutcome)> {
        let wasm = wasm_binary(wasm)?;
        let source = artifact::source_hash(&wasm);
        let key = self.key();
        let reason = match self.lookup(engine, &key, &source) {
            Ok(module) => return Ok((module, CacheOutcome::Hit)),
            Err(reason) => reason,
        };
        self.fill(
            engine,
            SharedBytes::from(wasm.into_owned()),
            &source,
            &key,
            reason,
        )
    }

    /// [`Cache::load`] for the module in the file at `path`. A binary
    /// module is hashed as it streams from the file, so a hit never holds
    /// the module's bytes in memory.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or the module does not compile.
    pub fn load_file(&self, engine: &Engine, path: &Path) -> Result<(Module, CacheOutcome)> {
        let failed = |e: std::io::Error| io_error("failed to read", path, e);
        let mut file = File::open(path).map_err(failed)?;
        let mut magic = [0u8; 4];
        let binary = file.read_exact(&mut magic).is_ok() && magic == *b"\0asm";
        if binary {
            file.rewind().map_err(failed)?;
            let key = self.key();
            let source = self.source_hash(file, key.as_ref().ok()).map_err(failed)?;
            match self.lookup(engine, &key, &source) {
                Ok(module) => return Ok((module, CacheOutcome::Hit)),
                Err(reason) => {
                    let wasm = FileBytes::read(path).map_err(failed)?;
                    // Hash what is compiled: the file may have changed.
                    let source = artifact::source_hash(&wasm);
                    return self.fill(engine, wasm.into_shared(), &source, &key, reason);
                }
            }
        }
        let bytes = FileBytes::read(path).map_err(failed)?;
        self.load(engine, &bytes)
    }

    /// The hash of the wasm in `file`: remembered from an earlier run while
    /// the file is unchanged (see `sources.rs`), else computed, and
    /// remembered if the file has settled.
    fn source_hash(&self, mut file: File, key: Option<&Digest>) -> std::io::Result<Digest> {
        let state = sources::FileState::of(&file)?;
        let dir = self.dir.join("sources");
        if let Some(key) = key
            && let Some(source) = sources::recall(&dir, key, &state)
        {
            return Ok(source);
        }
        let source = artifact::source_hash_reader(&mut file)?;
        let unchanged = sources::FileState::of(&file).is_ok_and(|now| now == state);
        if let Some(key) = key
            && unchanged
            && state.settled(SystemTime::now())
        {
            let temporary = self.temporary(&dir, "source");
            sources::remember(&dir, temporary, key, &state, &source);
        }
        Ok(source)
    }

    /// Looks up the entry for `source`; says why there is none to use.
    fn lookup(
        &self,
        engine: &Engine,
        key: &Result<Digest>,
        source: &Digest,
    ) -> std::result::Result<Module, String> {
        let key = key.as_ref().map_err(|e| e.to_string())?;
        let path = self.entry_path(&engine.compiler().cache_key(source));
        let module = self.load_entry(engine, &path, key, source)?;
        self.count("hits");
        Ok(module)
    }

    /// Compiles `wasm` (whose hash is `source`), stores its entry, loads it.
    fn fill(
        &self,
        engine: &Engine,
        wasm: SharedBytes,
        source: &Digest,
        key: &Result<Digest>,
        reason: String,
    ) -> Result<(Module, CacheOutcome)> {
        let compiler = engine.compiler();
        if engine.compiles_lazily(cljit_compiler::code_section_bytes(&wasm)) {
            // Lazy code is not what an entry holds: the entry is left to
            // an eager compile (`cljit run` starts one in the background).
            let module = Module::from_shared_lazily(engine, wasm)?;
            self.count("misses");
            return Ok((
                module,
                CacheOutcome::Miss {
                    reason,
                    stored: false,
                },
            ));
        }
        let linked = engine.compile_linked(&wasm)?;
        let stored = match key {
            Ok(key) => {
                let mut bytes = compiler.serialize(&linked, source);
                artifact::sign(&mut bytes, key).expect("a fresh artifact");
                let path = self.entry_path(&compiler.cache_key(source));
                self.store(&path, &bytes).is_ok()
            }
            Err(_) => false,
        };
        self.count("misses");
        let module = Module::from_compiled(engine, linked)?;
        Ok((module, CacheOutcome::Miss { reason, stored }))
    }

    /// Loads one entry, or says why not.
    fn load_entry(
        &self,
        engine: &Engine,
        path: &Path,
        key: &Digest,
        source: &Digest,
    ) -> std::result::Result<Module, String> {
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("no entry".into()),
            Err(e) => return Err(format!("cannot open the entry: {e}")),
        };
        // Only our own regular files are mapped: another user's file
        // (planted in a shared directory) could be truncated under the
        // mapping. Ours are only ever replaced by a rename, never rewritten
        // in place, so what is mapped cannot change.
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot inspect the entry: {e}"))?;
        if !meta.is_file() || meta.uid() != uid() {
            return Err("the entry is not a file of this user".into());
        }
        let artifact = ArtifactFile::open(file, true).map_err(|e| match e {
            OpenError::Io(e) => format!("cannot map the entry: {e}"),
            OpenError::Artifact(e) => e.to_string(),
        })?;
        artifact::verify_signature(&artifact.head, key).map_err(|e| e.to_string())?;
        // The module's tables stay in the mapping of the head, its data
        // segments in the mapped data section, which they keep alive.
        let (header, linked, text) = engine
            .compiler()
            .deserialize_split(&artifact.head_owner(), artifact.data())
            .map_err(|e| e.to_string())?;
        if header.source_hash != *source {
            return Err("the entry was compiled from other wasm".into());
        }
        let images = artifact.images(&linked);
        // The text is mapped from the entry, not copied: entries are only
        // ever replaced by renames, and this descriptor keeps this one.
        let module = Module::from_linked(
            engine,
            linked,
            &artifact.head[text.clone()],
            Some((artifact.file(), text.start as u64)),
        )
        .map_err(|e| e.to_string())?;
        module.use_stored_images(images);
        let file = artifact.file();
        // Refresh the entry for least-recently-used eviction.
        let _ = file.set_modified(SystemTime::now());
        Ok(module)
    }

    /// Publishes `bytes` as the entry `path` (write a temporary file, then
    /// rename), then evicts to stay under the limit.
    fn store(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        if bytes.len() as u64 > self.limit {
            return Err(Error::msg("the entry alone exceeds the cache's size limit"));
        }
        let modules = self.modules();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&modules)
            .map_err(|e| io_error("cannot create", &modules, e))?;
        let temporary = self.temporary(&modules, "entry");
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut f| f.write_all(bytes))
            .and_then(|()| fs::rename(&temporary, path));
        if let Err(e) = written {
            let _ = fs::remove_file(&temporary);
            return Err(io_error("cannot write the cache entry", path, e));
        }
        self.evict(path);
        Ok(())
    }

    /// The entries: (path, size, last use), and left-over temporary files.
    fn entries(&self) -> (Vec<(PathBuf, u64, SystemTime)>, Vec<PathBuf>) {
        let mut entries = Vec::new();
        let mut temporaries = Vec::new();
        let Ok(dir) = fs::read_dir(self.modules()) else {
            return (entries, temporaries);
        };
        for entry in dir.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if path.extension().is_some_and(|e| e == "tmp") {
                temporaries.push(path);
            } else if meta.is_file() && path.extension().is_some_and(|e| e == "cwasm") {
                entries.push((path, meta.len(), modified));
            }
        }
        (entries, temporaries)
    }

    /// Removes the least recently used entries (never `keep`) until the
    /// entries fit the limit, and temporary files of killed writers.
    fn evict(&self, keep: &Path) {
        let (mut entries, temporaries) = self.entries();
        let now = SystemTime::now();
        for t in temporaries {
            let old = fs::metadata(&t)
                .and_then(|m| m.modified())
                .is_ok_and(|m| now.duration_since(m).unwrap_or_default() > STALE_TEMPORARY);
            if old {
                let _ = fs::remove_file(t);
            }
        }
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort_by_key(|e| e.2);
        for (path, size, _) in entries {
            if total <= self.limit {
                break;
            }
            if path != keep && fs::remove_file(&path).is_ok() {
                total -= size;
            }
        }
    }

    /// Counts the entries and this user's hits and misses.
    pub fn stats(&self) -> CacheStats {
        let (entries, _) = self.entries();
        let counter = |name| fs::metadata(self.counter(name)).map_or(0, |m| m.len());
        CacheStats {
            entries: entries.len() as u64,
            bytes: entries.iter().map(|e| e.1).sum(),
            hits: counter("hits"),
            misses: counter("misses"),
            limit: self.limit,
        }
    }

    /// Removes every entry and this user's counters; returns how many
    /// entries were removed.
    ///
    /// # Errors
    ///
    /// An entry that cannot be removed.
    pub fn clear(&self) -> Result<u64> {
        let (entries, temporaries) = self.entries();
        let mut removed = 0;
        for path in temporaries {
            let _ = fs::remove_file(path);
        }
        for (path, _, _) in entries {
            fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
            removed += 1;
        }
        for name in ["hits", "misses"] {
            let _ = fs::remove_file(self.counter(name));
        }
        let _ = fs::remove_dir_all(self.dir.join("sources"));
        // The CLI's background-compile locks (`fill-*.lock`).
        for lock in fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = lock.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("fill-") && name.ends_with(".lock") {
                let _ = fs::remove_file(lock.path());
            }
        }
        Ok(removed)
    }

    /// Checks every entry (signature under this user's key, format, payload
    /// checksum, that it decodes, and that its name is its key) and removes
    /// the ones that fail.
    ///
    /// # Errors
    ///
    /// When this user's key cannot be read, or a bad entry cannot be
    /// removed.
    pub fn verify(&self) -> Result<VerifyReport> {
        let key = self.read_key()?;
        let mut report = VerifyReport::default();
        for (path, _, _) in self.entries().0 {
            let problem = match (FileBytes::read(&path), &key) {
                (Err(e), _) => Some(format!("cannot read it: {e}")),
                (Ok(_), None) => Some("this user has no cache key to verify it".into()),
                (Ok(bytes), Some(key)) => check_entry(&path, &bytes, key).err(),
            };
            match problem {
                None => report.valid += 1,
                Some(reason) => {
                    fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
                    report.removed.push((path, reason));
                }
            }
        }
        Ok(report)
    }
}

/// Why an entry is bad, if it is.
fn check_entry(path: &Path, bytes: &[u8], key: &Digest) -> std::result::Result<(), String> {
    artifact::verify_signature(bytes, key).map_err(|e| e.to_string())?;
    let header = artifact::check_integrity(bytes).map_err(|e: ArtifactError| e.to_string())?;
    let name = format!("{}.cwasm", hex(&artifact::cache_key_of(&header)));
    if path.file_name().is_some_and(|n| *n != *name) {
        return Err("its name is not its cache key".into());
    }
    Ok(())
}
