//! Placing a linked module's text in executable memory (with
//! `cranelift-jit`) and registering it for the signal handler.
//!
//! The text arrives linked (calls between the module's functions already
//! resolved; see `cljit_compiler::link`), so it is one block to copy,
//! whatever the number of functions. `cranelift-jit` copies it into its own
//! executable memory, patches the few relocations left (calls to Cranelift's
//! library routines, whose addresses only this process knows) and makes it
//! executable. No absolute address of the runtime is baked into code.

use std::fs::File;
use std::sync::{Arc, Mutex};

use cljit_compiler::cranelift_codegen::ir::Signature;
use cljit_compiler::cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cljit_compiler::link::FunctionLoc;
use cljit_compiler::{ModuleInfo, RelocTarget, Relocation};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{Linkage, Module as _, ModuleReloc, ModuleRelocTarget};

use crate::error::{Error, Result};
use crate::file_bytes::FileBytes;
use crate::traps::registry::{self, CodeInfo, CodeKind, FunctionRange};

/// A text to load: the code, the patches it still needs, its alignment.
pub(crate) struct Text<'a> {
    pub(crate) source: TextSource<'a>,
    pub(crate) relocations: &'a [Relocation],
    pub(crate) alignment: u32,
}

/// Where a text's bytes are, which decides how they become code.
pub(crate) enum TextSource<'a> {
    /// Bytes to copy into executable memory.
    Bytes(&'a [u8]),
    /// Bytes of a file never rewritten in place (a cache entry), at
    /// `offset` in it: mapped from the file, or copied if they cannot be.
    File {
        bytes: &'a [u8],
        file: &'a File,
        offset: u64,
    },
    /// `range` of a private buffer the code takes over: made executable
    /// where it lies, or copied if it cannot be.
    Owned {
        buffer: Arc<FileBytes>,
        range: std::ops::Range<usize>,
    },
}

impl TextSource<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            TextSource::Bytes(bytes) | TextSource::File { bytes, .. } => bytes,
            TextSource::Owned { buffer, range } => &buffer[range.clone()],
        }
    }
}

/// Loaded code, freed (and unregistered) on drop.
pub(crate) struct CodeMemory {
    jit: Mutex<Option<JITModule>>,
    /// Text mapped from a file instead: its address and length.
    mapped: Option<(usize, usize)>,
    /// The buffer whose pages hold the text instead.
    _buffer: Option<Arc<FileBytes>>,
    registration: Option<usize>,
}

impl std::fmt::Debug for CodeMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMemory")
            .field("registration", &self.registration)
            .finish_non_exhaustive()
    }
}

fn jit_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::msg(format!("failed to load compiled code ({what}): {e}"))
}

/// Fails unless code for `isa` runs on this machine: an engine configured
/// for another target (`Config::target`) only precompiles. Every piece of
/// code becomes executable here, so this is the one place to check.
fn check_runs_here(isa: &OwnedTargetIsa) -> Result<()> {
    let triple = isa.triple();
    let arch = triple.architecture.to_string();
    let os = triple.operating_system.to_string();
    if arch == std::env::consts::ARCH && os == std::env::consts::OS {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "this engine compiles for {triple}, which is not this machine \
             ({}-{}): it can precompile modules but not run them",
            std::env::consts::ARCH,
            std::env::consts::OS
        )))
    }
}

impl CodeMemory {
    /// Loads `text` and registers its `functions` (each with what it is).
    /// Returns the memory and the address of the text's first byte.
    pub(crate) fn load(
        isa: &OwnedTargetIsa,
        text: Text<'_>,
        functions: Vec<(CodeKind, FunctionLoc)>,
        module: Option<Arc<ModuleInfo>>,
    ) -> Result<(CodeMemory, usize)> {
        check_runs_here(isa)?;
        let code = |jit, mapped, buffer, registration| CodeMemory {
            jit: Mutex::new(jit),
            mapped,
            _buffer: buffer,
            registration,
        };
        if text.source.bytes().is_empty() {
            return Ok((code(None, None, None, None), 0));
        }
        let text = match text.source {
            TextSource::File {
                bytes,
                file,
                offset,
            } => {
                if let Some(base) = map_text(bytes.len(), text.relocations, file, offset) {
                    let registration = register(base, functions, module);
                    let mapped = Some((base, round_up_to_page(bytes.len())));
                    return Ok((code(None, mapped, None, registration), base));
                }
                Text {
                    source: TextSource::Bytes(bytes),
                    ..text
                }
            }
            TextSource::Owned { buffer, range } => {
                match adopt_text(buffer, range, text.relocations) {
                    Ok((buffer, base)) => {
                        let registration = register(base, functions, module);
                        return Ok((code(None, None, Some(buffer), registration), base));
                    }
                    Err((buffer, range)) => {
                        // Copied from the buffer below, which then goes.
                        return CodeMemory::load(
                            isa,
                            Text {
                                source: TextSource::Bytes(&buffer[range]),
                                ..text
                            },
                            functions,
                            module,
                        );
                    }
                }
            }
            TextSource::Bytes(_) => text,
        };
        let bytes = text.source.bytes();
        let page = region::page::size();
        let align = text.alignment.max(16) as usize;
        let size = (bytes.len() + align).next_multiple_of(page) + 4 * page;
        let arena =
            ArenaMemoryProvider::new_with_size(size).map_err(|e| jit_error("reserve", e))?;
        let mut builder =
            JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
        builder.memory_provider(Box::new(arena));
        let mut jit = JITModule::new(builder);

        let signature = Signature::new(CallConv::SystemV);
        let name = format!(
            "wasm[{}]::text",
            module
                .as_ref()
                .and_then(|m| m.name.as_deref())
                .unwrap_or("module")
        );
        let id = jit
            .declare_function(&name, Linkage::Local, &signature)
            .map_err(|e| jit_error("declare", e))?;
        let relocs = text
            .relocations
            .iter()
            .map(|r| match r.target {
                RelocTarget::LibCall(lc) => Ok(ModuleReloc {
                    offset: r.offset,
                    kind: r.kind,
                    name: ModuleRelocTarget::LibCall(lc),
                    addend: r.addend,
                }),
                RelocTarget::Function(f) => {
                    Err(jit_error("relocate", format!("an unlinked call to {f:?}")))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        jit.define_function_bytes(id, u64::from(text.alignment), bytes, &relocs)
            .map_err(|e| jit_error("define", e))?;
        jit.finalize_definitions()
            .map_err(|e| jit_error("finalize", e))?;
        let base = jit.get_finalized_function(id) as usize;
        let registration = register(base, functions, module);
        Ok((code(Some(jit), None, None, registration), base))
    }
}

/// Registers the functions of a text loaded at `base`.
fn register(
    base: usize,
    functions: Vec<(CodeKind, FunctionLoc)>,
    module: Option<Arc<ModuleInfo>>,
) -> Option<usize> {
    let mut ranges: Vec<FunctionRange> = functions
        .into_iter()
        .map(|(kind, f)| {
            let start = base + f.start as usize;
            FunctionRange {
                start,
                end: start + (f.len as usize).max(1),
                kind,
                traps: f.traps,
                address_map: f.address_map,
                handlers: f.handlers,
            }
        })
        .collect();
    ranges.sort_by_key(|f| f.start);
    registry::register(Arc::new(CodeInfo {
        module,
        lazy: None,
        functions: ranges,
    }))
}

fn round_up_to_page(bytes: usize) -> usize {
    bytes.next_multiple_of(region::page::size())
}

/// Maps `text` from `file` at `offset` as private pages, patches its
/// library calls (copying only the pages they are on), and makes it
/// executable. Returns its address, or `None` when it cannot be mapped
/// (an offset that is not page-aligned, a relocation of another kind, a
/// failing `mmap`): the caller copies the text instead.
fn map_text(len: usize, relocations: &[Relocation], file: &File, offset: u64) -> Option<usize> {
    let len = round_up_to_page(len);
    if !offset.is_multiple_of(region::page::size() as u64) {
        return None;
    }
    let offset = libc::off_t::try_from(offset).ok()?;
    // SAFETY: a private mapping of an open file at an address of the
    // kernel's choosing; it aliases nothing of ours.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE,
            std::os::fd::AsRawFd::as_raw_fd(file),
            offset,
        )
    };
    if ptr == libc::MAP_FAILED {
        return None;
    }
    let base = ptr as usize;
    let unmap = || {
        // SAFETY: the mapping made above, not yet handed to anyone.
        unsafe { libc::munmap(ptr, len) };
    };
    // SAFETY: the mapping made above is writable, covers the text (whose
    // validation put every relocation inside it), and nothing else refers
    // to it.
    if !unsafe { patch_and_seal(base, len, relocations) } {
        unmap();
        return None;
    }
    Some(base)
}

/// Patches the library calls of the text at `base` and makes its `len`
/// bytes (whole pages) executable and no longer writable. False if a
/// relocation cannot be patched or the protection not changed.
///
/// # Safety
///
/// `[base, base + len)` must be writable pages this caller owns, holding
/// the text the relocations describe, with no reference to them live.
unsafe fn patch_and_seal(base: usize, len: usize, relocations: &[Relocation]) -> bool {
    for r in relocations {
        let target = match r.target {
            RelocTarget::LibCall(lc) => libcall_address(lc).ok(),
            RelocTarget::Function(_) => None,
        };
        let at = base + r.offset as usize;
        // SAFETY: the relocation lies inside the text (the artifact's
        // validation checked it), which the writable pages cover.
        let patched = target.is_some_and(|target| unsafe {
            crate::arch::patch_relocation(r.kind, at as *mut u8, at, target, r.addend)
        });
        if !patched {
            return false;
        }
    }
    // SAFETY: pages this caller owns (this function's contract); nothing
    // runs in them yet.
    let sealed = unsafe {
        libc::mprotect(
            base as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_EXEC,
        ) == 0
    };
    if sealed {
        // SAFETY: the pages are mapped (just made executable), and no
        // thread has run them yet.
        unsafe { crate::arch::flush_icache(base, len) };
    }
    sealed
}

/// A buffer whose text cannot run where it lies, handed back with the
/// text's range.
type Refused = (Arc<FileBytes>, std::ops::Range<usize>);

/// Makes `range` of `buffer`, an artifact read into a private mapping,
/// executable where it lies: no second copy of the text. The pages before
/// it (the artifact's header and metadata) stay: the decoded module's
/// tables and data segments are windows onto them. Gives the buffer back,
/// with the text's address, or with the range when the text cannot be
/// used in place (not a private mapping, not page-aligned, a relocation
/// that cannot be patched).
#[allow(
    clippy::result_large_err,
    reason = "the buffer is handed back, not an error"
)]
fn adopt_text(
    buffer: Arc<FileBytes>,
    range: std::ops::Range<usize>,
    relocations: &[Relocation],
) -> std::result::Result<(Arc<FileBytes>, usize), Refused> {
    let page = region::page::size();
    let Some((ptr, mapped)) = buffer.private_mapping() else {
        return Err((buffer, range));
    };
    let base = ptr.as_ptr() as usize;
    let start = base + range.start;
    let len = round_up_to_page(range.len());
    if !start.is_multiple_of(page) || range.start + len > mapped {
        return Err((buffer, range));
    }
    // SAFETY: the pages belong to `buffer`'s private, writable mapping;
    // no slice of them is live (windows onto the buffer hold ranges of
    // its metadata, which ends before the text's first page, and make
    // slices only when read), and nothing runs in them yet.
    if !unsafe { patch_and_seal(start, len, relocations) } {
        // Some pages may be sealed already; the copy path only reads.
        return Err((buffer, range));
    }
    Ok((buffer, start))
}

/// The address of a Cranelift library routine (the C library's, by the
/// name Cranelift gives it).
pub(crate) fn libcall_address(lc: cljit_compiler::cranelift_codegen::ir::LibCall) -> Result<usize> {
    let name = (cranelift_module::default_libcall_names())(lc);
    let missing = || Error::msg(format!("no library routine `{name}` to link code with"));
    let c_name = std::ffi::CString::new(name.clone()).map_err(|_| missing())?;
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only
    // searches the loaded objects' symbol tables.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c_name.as_ptr()) };
    if address.is_null() {
        return Err(missing());
    }
    Ok(address as usize)
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(key) = self.registration.take() {
            registry::unregister(key);
        }
        if let Some((base, len)) = self.mapped.take() {
            // SAFETY: the code is unregistered, and its owner (a module) is
            // being dropped, which happens only when no store references
            // the code any more; the range is the mapping `map_text` made.
            unsafe { libc::munmap(base as *mut libc::c_void, len) };
        }
        let jit = self.jit.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(jit) = jit {
            // SAFETY: the code is unregistered, and whoever owns this memory
            // (a module, or the engine for its trampolines) is being dropped,
            // which happens only when no store references the code any more.
            unsafe { jit.free_memory() };
        }
    }
}
