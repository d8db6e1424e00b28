//! Artifacts: a [`LinkedModule`] on disk, behind a header that says what
//! the code needs, so it is never run where it cannot run.
//!
//! One layout serves `cljit compile` outputs and cache entries
//! (little-endian):
//!
//! ```text
//! magic "CLJITAOT" (8) | format version u32 | header length u32 | signature (32)
//! header (postcard ArtifactHeader) | zeros up to a multiple of TEXT_ALIGN
//! payload: metadata length u64 | metadata (postcard LinkedModule)
//!          | zeros up to a multiple of TEXT_ALIGN | text
//! [only if the data section is not empty:]
//! zeros up to a multiple of TEXT_ALIGN | data section
//! ```
//!
//! The text (the machine code, linked) is stored as it is, at an offset in
//! the file that is a multiple of [`TEXT_ALIGN`] (the largest page size of
//! the supported targets): loading borrows it from the artifact's bytes,
//! and the runtime maps it from a file straight into executable memory
//! where it can, else copies it there once.
//!
//! The data section holds the bytes of the module's data segments. First
//! come the memory images ([`StoredImage`]), each at a multiple of
//! [`TEXT_ALIGN`] in the section, so that a memory can map its image
//! copy-on-write straight from the file; an active segment whose bytes lie
//! unchanged in its memory's image is not stored again (its range points
//! into the image); the other segments' bytes follow. The section is
//! outside the payload, with a hash of its own, so that a loader can read
//! the payload and map the section without reading it.
//!
//! The header names the cljit version and build, the target triple and CPU
//! features the code uses, the settings it was compiled with, a BLAKE3 hash
//! of the source wasm, and the payload's and the data section's lengths and
//! BLAKE3 hashes. Loading checks every field against the loading compiler
//! and the payload and the data section against their hashes before
//! decoding anything. The signature is a keyed BLAKE3 hash of the
//! header under a secret key (the cache's per-user key; zeros in unsigned
//! artifacts). Since the header holds the payload's hash, a valid signature
//! vouches for the whole file.

use serde::{Deserialize, Serialize};

use cranelift_entity::EntityRef as _;

use crate::abi::{Tunables, VmOffsets};
use crate::compile::Compiler;
use crate::data_image::{ImageLayout, StoredImage};
use crate::indices::DataIndex;
use crate::link::LinkedModule;
use crate::module_info::{DataSegment, ModuleInfo};
use crate::shared_bytes::{BytesOwner, SharedBytes, with_owner};
use crate::target::CodeTarget;

/// The first eight bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"CLJITAOT";
/// The layout version this build reads and writes.
pub const FORMAT_VERSION: u32 = 15;
/// The alignment of the payload and of the text, from the artifact's first
/// byte: 64 KiB, the largest page size of the targets cljit supports, so
/// the text can be mapped from the file as it lies.
pub const TEXT_ALIGN: usize = 64 << 10;
/// This cljit's version.
pub const CLJIT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// A fingerprint of the compiler build (sources, pinned dependencies, rustc,
/// target); see `build.rs`.
pub const BUILD_ID: &str = env!("CLJIT_BUILD_ID");

/// Bytes before the header: magic, version, header length, signature.
const PREFIX: usize = 8 + 4 + 4 + 32;
const SIGNATURE: std::ops::Range<usize> = 16..48;

/// A 32-byte BLAKE3 digest.
pub type Digest = [u8; 32];

/// The compiler settings that change code, as an artifact records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Settings {
    /// Code-shaping knobs (memory layout, optimisation level, ...).
    pub tunables: Tunables,
    /// The enabled wasm proposals (wasmparser's feature bits).
    pub features: u64,
}

impl Settings {
    /// The names and values of the settings that differ between `self` and
    /// `other`, as `name: self vs other`.
    pub fn differences(&self, other: &Settings) -> Vec<String> {
        let (a, b) = (&self.tunables, &other.tunables);
        let text = |x: &dyn std::fmt::Debug| format!("{x:?}");
        [
            (
                "memory-reservation",
                text(&a.memory_reservation),
                text(&b.memory_reservation),
            ),
            (
                "memory-guard-size",
                text(&a.memory_guard_size),
                text(&b.memory_guard_size),
            ),
            ("opt-level", text(&a.opt_level), text(&b.opt_level)),
            (
                "debug-verifier",
                text(&a.debug_verifier),
                text(&b.debug_verifier),
            ),
            (
                "relaxed-simd-deterministic",
                text(&a.relaxed_simd_deterministic),
                text(&b.relaxed_simd_deterministic),
            ),
            ("consume-fuel", text(&a.consume_fuel), text(&b.consume_fuel)),
            (
                "epoch-interruption",
                text(&a.epoch_interruption),
                text(&b.epoch_interruption),
            ),
            (
                "spectre-guard",
                text(&a.spectre_guard),
                text(&b.spectre_guard),
            ),
            (
                "wasm features",
                format!("{:#x}", self.features),
                format!("{:#x}", other.features),
            ),
        ]
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(name, x, y)| format!("{name} {x} (artifact) vs {y} (engine)"))
        .collect()
    }
}

/// What an artifact says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactHeader {
    /// The cljit version that wrote it.
    pub cljit_version: String,
    /// The compiler build that wrote it ([`BUILD_ID`]).
    pub build_id: String,
    /// The machine and CPU features the code needs.
    pub target: CodeTarget,
    /// The settings the code was compiled with.
    pub settings: Settings,
    /// BLAKE3 of the wasm binary it was compiled from.
    pub source_hash: Digest,
    /// Length of the payload in bytes.
    pub payload_len: u64,
    /// BLAKE3 of the payload.
    pub payload_hash: Digest,
    /// Length of the data section in bytes.
    pub data_len: u64,
    /// BLAKE3 of the data section.
    pub data_hash: Digest,
}

/// Where an artifact's parts lie, as offsets from its first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The payload: metadata and text.
    pub payload: std::ops::Range<usize>,
    /// The data section (empty, at the payload's end, when it has none).
    pub data: std::ops::Range<usize>,
}

/// Why an artifact was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    /// The bytes do not start with [`MAGIC`].
    #[error("not a cljit artifact (it does not start with `CLJITAOT`)")]
    NotAnArtifact,
    /// Another layout version.
    #[error("artifact format version {found}, but this cljit reads version {expected}")]
    FormatVersion {
        /// The artifact's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A header field differs from what the loading compiler produces.
    #[error("the artifact's {field} is {found}, but here it is {expected}")]
    Mismatch {
        /// Which field (`cljit version`, `build id`, `target`).
        field: &'static str,
        /// The artifact's value.
        found: String,
        /// The loading compiler's value.
        expected: String,
    },
    /// The code uses a CPU feature this machine lacks.
    #[error("the artifact's code uses the CPU feature `{0}`, which this machine lacks")]
    CpuFeature(String),
    /// The code was compiled with other settings.
    #[error("the artifact was compiled with other settings: {0}")]
    Settings(String),
    /// The bytes are cut short, fail their checksum, or do not decode.
    #[error("the artifact is damaged: {0}")]
    Damaged(String),
    /// The signature does not verify under the key.
    #[error("the artifact's signature does not verify")]
    Signature,
}

/// BLAKE3 of a wasm binary, as artifacts record it.
pub fn source_hash(wasm: &[u8]) -> Digest {
    hash(wasm)
}

/// BLAKE3 of `bytes`, on every core for large inputs (modules and
/// artifacts run to tens of megabytes, and hashing them is most of a cache
/// hit's cost).
fn hash(bytes: &[u8]) -> Digest {
    let mut hasher = blake3::Hasher::new();
    if bytes.len() >= PARALLEL_HASH {
        hasher.update_rayon(bytes);
    } else {
        hasher.update(bytes);
    }
    *hasher.finalize().as_bytes()
}

/// Inputs from this size on are hashed on several threads.
const PARALLEL_HASH: usize = 1 << 20;

/// BLAKE3 of a wasm binary read from `reader`, streamed through a small
/// buffer: a large module is hashed without being held in memory.
///
/// # Errors
///
/// Read errors.
pub fn source_hash_reader(mut reader: impl std::io::Read) -> std::io::Result<Digest> {
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; PARALLEL_HASH];
    loop {
        // Fill the buffer, so each parallel update gets a large chunk.
        let mut filled = 0;
        while filled < buffer.len() {
            match reader.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == buffer.len() {
            hasher.update_rayon(&buffer);
        } else {
            hasher.update(&buffer[..filled]);
            return Ok(*hasher.finalize().as_bytes());
        }
    }
}

fn damaged(what: impl std::fmt::Display) -> ArtifactError {
    ArtifactError::Damaged(what.to_string())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// An artifact's header bytes and where its payload starts, checking the
/// magic, the format version and the zeros after the header (as far as
/// `artifact` reaches).
fn split(artifact: &[u8]) -> Result<(&[u8], usize), ArtifactError> {
    if artifact.len() < 8 || artifact[..8] != MAGIC {
        return Err(ArtifactError::NotAnArtifact);
    }
    if artifact.len() < PREFIX {
        return Err(damaged("truncated within its prefix"));
    }
    let version = u32_at(artifact, 8);
    if version != FORMAT_VERSION {
        return Err(ArtifactError::FormatVersion {
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let header_len = u32_at(artifact, 12) as usize;
    let rest = &artifact[PREFIX..];
    if header_len > rest.len() {
        return Err(damaged("truncated within its header"));
    }
    let header = &rest[..header_len];
    let payload_at = (PREFIX + header_len).next_multiple_of(TEXT_ALIGN);
    // The padding before the payload is zeros, so a header length damaged
    // into the padding (which would still decode) is caught here.
    let padding = artifact
        .get(PREFIX + header_len..payload_at.min(artifact.len()))
        .unwrap_or_default();
    if padding.iter().any(|&b| b != 0) {
        return Err(damaged("the padding after its header is not zeros"));
    }
    Ok((header, payload_at))
}

/// Where the parts of the artifact with this header lie, given where its
/// payload starts.
fn layout_from(header: &ArtifactHeader, payload_at: usize) -> Result<Layout, ArtifactError> {
    let too_long = || damaged("its header gives lengths beyond what memory holds");
    let payload_len = usize::try_from(header.payload_len).map_err(|_| too_long())?;
    let data_len = usize::try_from(header.data_len).map_err(|_| too_long())?;
    let payload_end = payload_at.checked_add(payload_len).ok_or_else(too_long)?;
    let data_at = if data_len == 0 {
        payload_end
    } else {
        payload_end
            .checked_next_multiple_of(TEXT_ALIGN)
            .ok_or_else(too_long)?
    };
    let data_end = data_at.checked_add(data_len).ok_or_else(too_long)?;
    Ok(Layout {
        payload: payload_at..payload_end,
        data: data_at..data_end,
    })
}

/// Reads an artifact's header and where its parts lie, from its first bytes
/// (at least its prefix and header), checking the magic and the format
/// version only.
///
/// # Errors
///
/// As [`read_header`].
pub fn read_layout(artifact: &[u8]) -> Result<(ArtifactHeader, Layout), ArtifactError> {
    let (header, payload_at) = split(artifact)?;
    let header = decode_header(header)?;
    let layout = layout_from(&header, payload_at)?;
    Ok((header, layout))
}

/// A whole artifact's payload and data section, checking that the file is
/// as long as its header says and that the padding between them is zeros.
fn parts<'a>(artifact: &'a [u8], layout: &Layout) -> Result<(&'a [u8], &'a [u8]), ArtifactError> {
    if artifact.len() != layout.data.end {
        return Err(damaged(format!(
            "it is {} bytes, its header says {}",
            artifact.len(),
            layout.data.end
        )));
    }
    let gap = &artifact[layout.payload.end..layout.data.start];
    if gap.iter().any(|&b| b != 0) {
        return Err(damaged("the padding after its payload is not zeros"));
    }
    Ok((
        &artifact[layout.payload.clone()],
        &artifact[layout.data.clone()],
    ))
}

/// Reads an artifact's header, checking the magic and the format version
/// only.
///
/// # Errors
///
/// [`ArtifactError::NotAnArtifact`], [`ArtifactError::FormatVersion`], or
/// [`ArtifactError::Damaged`] when the header does not decode.
pub fn read_header(artifact: &[u8]) -> Result<ArtifactHeader, ArtifactError> {
    decode_header(split(artifact)?.0)
}

/// Decodes header bytes, which must hold exactly one header.
fn decode_header(header: &[u8]) -> Result<ArtifactHeader, ArtifactError> {
    let (header, rest) =
        postcard::take_from_bytes(header).map_err(|e| damaged(format!("header: {e}")))?;
    if !rest.is_empty() {
        return Err(damaged("its header is longer than what it holds"));
    }
    Ok(header)
}

/// Checks the payload against the header's length and hash.
fn check_payload(header: &ArtifactHeader, payload: &[u8]) -> Result<(), ArtifactError> {
    if payload.len() as u64 != header.payload_len {
        return Err(damaged(format!(
            "the payload is {} bytes, its header says {}",
            payload.len(),
            header.payload_len
        )));
    }
    if blake3::Hash::from_bytes(hash(payload)) != blake3::Hash::from_bytes(header.payload_hash) {
        return Err(damaged("the payload does not match its checksum"));
    }
    Ok(())
}

/// Checks the data section against the header's length and hash.
fn check_data(header: &ArtifactHeader, data: &[u8]) -> Result<(), ArtifactError> {
    if data.len() as u64 != header.data_len {
        return Err(damaged(format!(
            "the data section is {} bytes, its header says {}",
            data.len(),
            header.data_len
        )));
    }
    if blake3::Hash::from_bytes(hash(data)) != blake3::Hash::from_bytes(header.data_hash) {
        return Err(damaged("the data section does not match its checksum"));
    }
    Ok(())
}

/// A keyed BLAKE3 hash of `bytes` under `key`: how the cache signs what it
/// writes besides artifacts.
pub fn mac(key: &Digest, bytes: &[u8]) -> Digest {
    *blake3::keyed_hash(key, bytes).as_bytes()
}

/// Whether `mac` is the keyed hash of `bytes` under `key`, compared in
/// constant time.
pub fn verify_mac(key: &Digest, bytes: &[u8], mac: &Digest) -> bool {
    blake3::keyed_hash(key, bytes) == blake3::Hash::from_bytes(*mac)
}

/// Signs an artifact in place with `key` (a keyed BLAKE3 hash of its header).
///
/// # Errors
///
/// As [`read_header`], when `artifact` is not one.
pub fn sign(artifact: &mut [u8], key: &Digest) -> Result<(), ArtifactError> {
    let (header, _) = split(artifact)?;
    let mac = blake3::keyed_hash(key, header);
    artifact[SIGNATURE].copy_from_slice(mac.as_bytes());
    Ok(())
}

/// Checks an artifact's signature under `key`, in constant time. This does
/// not check the payload: loading does that.
///
/// # Errors
///
/// [`ArtifactError::Signature`], or as [`read_header`].
pub fn verify_signature(artifact: &[u8], key: &Digest) -> Result<(), ArtifactError> {
    let (header, _) = split(artifact)?;
    let signature: Digest = artifact[SIGNATURE].try_into().expect("32 bytes");
    if blake3::keyed_hash(key, header) == blake3::Hash::from_bytes(signature) {
        Ok(())
    } else {
        Err(ArtifactError::Signature)
    }
}

/// Checks an artifact's whole integrity without a compiler: magic, format
/// version, header, payload and data checksums, and that the payload
/// decodes.
///
/// # Errors
///
/// As [`read_header`], and [`ArtifactError::Damaged`].
pub fn check_integrity(artifact: &[u8]) -> Result<ArtifactHeader, ArtifactError> {
    let (header, layout) = read_layout(artifact)?;
    let (payload, data) = parts(artifact, &layout)?;
    check_payload(&header, payload)?;
    check_data(&header, data)?;
    decode_payload(payload, SharedBytes::from(data.to_vec()))?;
    Ok(header)
}

/// Splits a checked payload into the decoded metadata and the text; the
/// module's data segments lie in `data`, the checked data section.
fn decode_payload(
    payload: &[u8],
    data: SharedBytes,
) -> Result<(LinkedModule, &[u8]), ArtifactError> {
    if payload.len() < 8 {
        return Err(damaged("the payload is cut short"));
    }
    let (len, rest) = payload.split_at(8);
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= rest.len())
        .ok_or_else(|| damaged("the metadata length exceeds the payload"))?;
    let meta = &rest[..len];
    let text = payload
        .get((8 + len).next_multiple_of(TEXT_ALIGN)..)
        .unwrap_or_default();
    let (mut module, rest): (LinkedModule, _) =
        postcard::take_from_bytes(meta).map_err(|e| damaged(format!("metadata: {e}")))?;
    if !rest.is_empty() {
        return Err(damaged("its metadata is longer than what it holds"));
    }
    if !module.info.data_bytes.is_empty() {
        return Err(damaged("its metadata holds data bytes"));
    }
    module.info.data_bytes = data;
    validate(&module, text)?;
    Ok((module, text))
}

/// Checks the invariants the loader relies on, so that even a payload with a
/// valid checksum but wrong contents is refused rather than loaded.
fn validate(m: &LinkedModule, text: &[u8]) -> Result<(), ArtifactError> {
    let pointer = u8::try_from(m.offsets.pointer_size()).map_err(|_| damaged("pointer size"))?;
    if !matches!(pointer, 4 | 8) || m.offsets != VmOffsets::new(pointer, m.info.vm_counts()) {
        return Err(damaged("its VMContext layout does not match its module"));
    }
    if m.functions.len() != m.info.num_defined_funcs() as usize {
        return Err(damaged("the number of functions does not match its module"));
    }
    if !m.info.data_ranges_are_valid() {
        return Err(damaged("a data segment lies outside the module's data"));
    }
    validate_images(m)?;
    if m.text_len != text.len() as u64 {
        return Err(damaged("the text's length does not match its metadata"));
    }
    if !m.text_alignment.is_power_of_two() || m.text_alignment > 4096 {
        return Err(damaged("the text's alignment is invalid"));
    }
    let trampolines = m.trampolines.len();
    if m.array_to_wasm
        .iter()
        .chain(&m.wasm_to_array)
        .any(|(ty, &slot)| slot >= trampolines || ty.index() >= m.info.types.len())
    {
        return Err(damaged("a trampoline index is out of range"));
    }
    let text_len = m.text_len;
    if m.functions
        .values()
        .chain(&m.trampolines)
        .any(|f| u64::from(f.start) + u64::from(f.len) > text_len || !f.traps.is_well_formed())
    {
        return Err(damaged(
            "a function lies outside the text, or its tables are malformed",
        ));
    }
    for r in &m.relocations {
        let width = match r.kind {
            cranelift_codegen::binemit::Reloc::Abs8 => 8,
            _ => 4,
        };
        if u64::from(r.offset) + width > text_len {
            return Err(damaged("a relocation lies outside the text"));
        }
        if !matches!(r.target, crate::RelocTarget::LibCall(_)) {
            return Err(damaged(
                "a relocation left for load time is not a library call",
            ));
        }
    }
    Ok(())
}

/// Checks that each stored image is of a distinct defined memory, lies in
/// the data section and within its memory's initial bytes, in whole
/// [`TEXT_ALIGN`] units.
fn validate_images(m: &LinkedModule) -> Result<(), ArtifactError> {
    let info = &m.info;
    let unit = TEXT_ALIGN as u64;
    let data_len = info.data_bytes.len() as u64;
    let mut seen = std::collections::BTreeSet::new();
    for image in &m.images {
        let ty = info
            .memories
            .get(image.memory)
            .filter(|_| image.memory.index() >= info.num_imported_memories as usize)
            .ok_or_else(|| damaged("an image is of no defined memory"))?;
        let initial = ty.bytes_of(ty.min_pages).unwrap_or(0);
        let whole = [image.offset, image.len, image.at]
            .iter()
            .all(|v| v % unit == 0)
            && image.len > 0;
        let in_data = image
            .at
            .checked_add(image.len)
            .is_some_and(|e| e <= data_len);
        let in_memory = image
            .offset
            .checked_add(image.len)
            .is_some_and(|e| e <= initial);
        if !whole || !in_data || !in_memory || !seen.insert(image.memory) {
            return Err(damaged(
                "a memory image lies outside its memory or the data",
            ));
        }
    }
    Ok(())
}

/// The data section an artifact stores for `info`: the memory images (see
/// the module documentation), then the bytes of the segments no image
/// holds unchanged; and `info`'s segments with their ranges in it.
fn data_section(
    info: &ModuleInfo,
) -> (
    Vec<u8>,
    Vec<StoredImage>,
    cranelift_entity::PrimaryMap<DataIndex, DataSegment>,
) {
    let mut section = Vec::new();
    let mut images = Vec::new();
    let mut starts: Vec<Option<usize>> = vec![None; info.data.len()];
    let defined = info
        .memories
        .iter()
        .skip(info.num_imported_memories as usize);
    for (memory, ty) in defined {
        let Some(layout) = ImageLayout::of(info, memory, ty, TEXT_ALIGN, 1) else {
            continue;
        };
        let at = section.len();
        section.resize(at + layout.len, 0);
        layout.fill(info, &mut section[at..]);
        for &(start, d) in &layout.segments {
            let bytes = info.segment_bytes(&info.data[d]);
            let pos = at + start - layout.offset;
            if section[pos..pos + bytes.len()] == *bytes {
                starts[d.index()] = Some(pos);
            }
        }
        images.push(StoredImage {
            memory,
            offset: layout.offset as u64,
            len: layout.len as u64,
            at: at as u64,
        });
    }
    let segments = info
        .data
        .iter()
        .map(|(d, segment)| {
            let start = starts[d.index()].unwrap_or_else(|| {
                let start = section.len();
                section.extend_from_slice(info.segment_bytes(segment));
                start
            });
            DataSegment {
                mode: segment.mode.clone(),
                start,
                len: segment.len,
            }
        })
        .collect();
    (section, images, segments)
}

fn key_from(
    version: &str,
    build: &str,
    target: &CodeTarget,
    settings: &Settings,
    source: &Digest,
) -> Digest {
    let identity = (FORMAT_VERSION, version, build, target, settings, source);
    let bytes = postcard::to_allocvec(&identity).expect("plain data serializes");
    *blake3::hash(&bytes).as_bytes()
}

/// The cache key of the artifact with this header: what
/// [`Compiler::cache_key`] gives for its source in the compiler that wrote it.
pub fn cache_key_of(header: &ArtifactHeader) -> Digest {
    key_from(
        &header.cljit_version,
        &header.build_id,
        &header.target,
        &header.settings,
        &header.source_hash,
    )
}

impl Compiler {
    /// The settings this compiler bakes into code.
    pub fn settings(&self) -> Settings {
        Settings {
            tunables: *self.tunables(),
            features: self.features().bits(),
        }
    }

    /// The cache key of wasm with the hash `source_hash` for this compiler:
    /// it covers the source, the cljit build, the target, the CPU features
    /// and every setting that changes code.
    pub fn cache_key(&self, source_hash: &Digest) -> Digest {
        key_from(
            CLJIT_VERSION,
            BUILD_ID,
            self.code_target(),
            &self.settings(),
            source_hash,
        )
    }

    /// Writes `module`, compiled by this compiler from wasm with the hash
    /// `source_hash`, as an unsigned artifact.
    pub fn serialize(&self, module: &LinkedModule, source_hash: &Digest) -> Vec<u8> {
        let (data, images, segments) = data_section(&module.info);
        let stored = LinkedModule {
            info: ModuleInfo {
                data: segments,
                data_bytes: SharedBytes::default(),
                ..module.info.clone()
            },
            offsets: module.offsets,
            tunables: module.tunables,
            target: module.target.clone(),
            functions: module.functions.clone(),
            trampolines: module.trampolines.clone(),
            array_to_wasm: module.array_to_wasm.clone(),
            wasm_to_array: module.wasm_to_array.clone(),
            relocations: module.relocations.clone(),
            text_alignment: module.text_alignment,
            text_len: module.text_len,
            images,
            text: Vec::new(),
        };
        let meta = postcard::to_allocvec(&stored).expect("plain data serializes");
        let text_at = (8 + meta.len()).next_multiple_of(TEXT_ALIGN);
        let mut payload = Vec::with_capacity(text_at + module.text.len());
        payload.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        payload.extend_from_slice(&meta);
        payload.resize(text_at, 0);
        payload.extend_from_slice(&module.text);
        let header = ArtifactHeader {
            cljit_version: CLJIT_VERSION.to_string(),
            build_id: BUILD_ID.to_string(),
            target: module.target.clone(),
            settings: self.settings(),
            source_hash: *source_hash,
            payload_len: payload.len() as u64,
            payload_hash: hash(&payload),
            data_len: data.len() as u64,
            data_hash: hash(&data),
        };
        let header = postcard::to_allocvec(&header).expect("plain data serializes");
        let payload_at = (PREFIX + header.len()).next_multiple_of(TEXT_ALIGN);
        let mut out = Vec::with_capacity(payload_at + payload.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(
            &u32::try_from(header.len())
                .expect("headers are small")
                .to_le_bytes(),
        );
        out.extend_from_slice(&[0; 32]);
        out.extend_from_slice(&header);
        out.resize(payload_at, 0);
        out.extend_from_slice(&payload);
        if !data.is_empty() {
            out.resize(out.len().next_multiple_of(TEXT_ALIGN), 0);
            out.extend_from_slice(&data);
        }
        out
    }

    /// Checks that this compiler's engine can run code described by
    /// `header`: same version and build, a target this machine runs, the
    /// same settings.
    ///
    /// # Errors
    ///
    /// [`ArtifactError::Mismatch`], [`ArtifactError::CpuFeature`] or
    /// [`ArtifactError::Settings`], naming the field.
    pub fn check_header(&self, header: &ArtifactHeader) -> Result<(), ArtifactError> {
        let mismatch = |field, found: &str, expected: &str| {
            if found == expected {
                Ok(())
            } else {
                Err(ArtifactError::Mismatch {
                    field,
                    found: found.to_string(),
                    expected: expected.to_string(),
                })
            }
        };
        mismatch("cljit version", &header.cljit_version, CLJIT_VERSION)?;
        mismatch("build id", &header.build_id, BUILD_ID)?;
        let host = self.code_target();
        mismatch("target", &header.target.triple, &host.triple)?;
        if let Some(missing) = header
            .target
            .cpu_features
            .iter()
            .find(|f| !host.cpu_features.contains(f))
        {
            return Err(ArtifactError::CpuFeature(missing.clone()));
        }
        let differences = header.settings.differences(&self.settings());
        if !differences.is_empty() {
            return Err(ArtifactError::Settings(differences.join(", ")));
        }
        Ok(())
    }

    /// Reads an artifact this compiler's engine can run: checks the header
    /// ([`Compiler::check_header`]), then the payload's checksum, then
    /// decodes it. Returns the header, the module (with an empty `text`)
    /// and the text, borrowed from `artifact`. Nothing of a refused artifact
    /// is used.
    ///
    /// # Errors
    ///
    /// The first check that fails, as an [`ArtifactError`].
    pub fn deserialize<'a>(
        &self,
        artifact: &'a [u8],
    ) -> Result<(ArtifactHeader, LinkedModule, &'a [u8]), ArtifactError> {
        let (header, layout) = read_layout(artifact)?;
        self.check_header(&header)?;
        let (payload, data) = parts(artifact, &layout)?;
        self.decode_checked(header, payload, SharedBytes::borrow_or_copy(data))
    }

    /// Checks `payload` and `data` against `header` (already checked
    /// against this compiler), then decodes them.
    fn decode_checked<'a>(
        &self,
        header: ArtifactHeader,
        payload: &'a [u8],
        data: SharedBytes,
    ) -> Result<(ArtifactHeader, LinkedModule, &'a [u8]), ArtifactError> {
        check_payload(&header, payload)?;
        check_data(&header, &data)?;
        let (module, text) = decode_payload(payload, data)?;
        if module.target != header.target || module.tunables != header.settings.tunables {
            return Err(damaged("the payload disagrees with its header"));
        }
        Ok((header, module, text))
    }

    /// [`Compiler::deserialize`] for an artifact loaded in two parts: `head`
    /// holds its bytes up to the end of its payload at least (see
    /// [`read_layout`]), which the decoded module's tables borrow; `data`
    /// is its data section, which its data segments borrow. Returns the
    /// text's range in `head`.
    ///
    /// # Errors
    ///
    /// As [`Compiler::deserialize`].
    pub fn deserialize_split(
        &self,
        head: &BytesOwner,
        data: SharedBytes,
    ) -> Result<(ArtifactHeader, LinkedModule, std::ops::Range<usize>), ArtifactError> {
        with_owner(head, |bytes| {
            let (header, layout) = read_layout(bytes)?;
            self.check_header(&header)?;
            let payload = bytes
                .get(layout.payload.clone())
                .ok_or_else(|| damaged("truncated within its payload"))?;
            let (header, module, text) = self.decode_checked(header, payload, data)?;
            Ok((header, module, range_in(bytes, text)))
        })
    }
}

/// Where `part` (empty, or a slice of `bytes`) lies in `bytes`.
fn range_in(bytes: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    if part.is_empty() {
        return 0..0;
    }
    let start = part.as_ptr() as usize - bytes.as_ptr() as usize;
    start..start + part.len()
}

impl Compiler {
    /// [`Compiler::deserialize`] for an artifact whose bytes `owner` holds:
    /// the decoded module's tables and data segments borrow those bytes
    /// (keeping `owner` alive) instead of copying them. Returns the text's
    /// range in the bytes.
    ///
    /// # Errors
    ///
    /// As [`Compiler::deserialize`].
    pub fn deserialize_shared(
        &self,
        owner: &BytesOwner,
    ) -> Result<(ArtifactHeader, LinkedModule, std::ops::Range<usize>), ArtifactError> {
        with_owner(owner, |bytes| {
            let (header, module, text) = self.deserialize(bytes)?;
            Ok((header, module, range_in(bytes, text)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Target, default_features};
    use std::sync::Arc;

    const SOURCE: &str = r#"(module
        (func $f (export "f") (param f32) (result f32) (f32.nearest (call $g (local.get 0))))
        (func $g (param f32) (result f32) (local.get 0)))"#;

    fn wasm() -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(SOURCE).unwrap();
        let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
        wat.encode().unwrap()
    }

    fn compiler() -> Compiler {
        Compiler::new(&Target::Host, Tunables::default(), default_features()).unwrap()
    }

    fn artifact(c: &Compiler) -> Vec<u8> {
        let m = crate::link::link(c.compile(&wasm()).unwrap()).unwrap();
        c.serialize(&m, &source_hash(&wasm()))
    }

    #[test]
    fn round_trip() {
        let c = compiler();
        let bytes = artifact(&c);
        let (header, module, text) = c.deserialize(&bytes).unwrap();
        assert_eq!(text.len() as u64, module.text_len);
        let text_at = text.as_ptr() as usize - bytes.as_ptr() as usize;
        assert_eq!(text_at % TEXT_ALIGN, 0, "the text can be mapped");
        assert_eq!(&bytes[bytes.len() - text.len()..], text);
        assert_eq!(header.source_hash, source_hash(&wasm()));
        assert_eq!(header.build_id, BUILD_ID);
        assert_eq!(module.target, *c.code_target());
        assert_eq!(check_integrity(&bytes).unwrap(), header);
        assert_eq!(
            source_hash_reader(&wasm()[..]).unwrap(),
            source_hash(&wasm())
        );
    }

    #[test]
    fn refusals_name_the_cause() {
        let c = compiler();
        let bytes = artifact(&c);
        assert_eq!(
            c.deserialize(b"\0asm").unwrap_err(),
            ArtifactError::NotAnArtifact
        );
        let mut other = bytes.clone();
        other[8] = FORMAT_VERSION as u8 + 1;
        assert_eq!(
            c.deserialize(&other).unwrap_err(),
            ArtifactError::FormatVersion {
                found: FORMAT_VERSION + 1,
                expected: FORMAT_VERSION
            }
        );
        for cut in [10, PREFIX + 2, TEXT_ALIGN + 4, bytes.len() - 1] {
            assert!(
                matches!(c.deserialize(&bytes[..cut]), Err(ArtifactError::Damaged(_))),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let e = c.deserialize(&flipped).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
    }

    #[test]
    fn signatures() {
        let c = compiler();
        let mut bytes = artifact(&c);
        let key = [7; 32];
        assert_eq!(
            verify_signature(&bytes, &key),
            Err(ArtifactError::Signature)
        );
        sign(&mut bytes, &key).unwrap();
        verify_signature(&bytes, &key).unwrap();
        assert_eq!(
            verify_signature(&bytes, &[8; 32]),
            Err(ArtifactError::Signature)
        );
    }

    #[test]
    fn cache_keys_cover_settings() {
        let a = compiler();
        let tunables = Tunables {
            relaxed_simd_deterministic: true,
            ..Tunables::default()
        };
        let b = Compiler::new(&Target::Host, tunables, default_features()).unwrap();
        let h = source_hash(&wasm());
        assert_eq!(a.cache_key(&h), compiler().cache_key(&h));
        assert_ne!(a.cache_key(&h), b.cache_key(&h));
        assert_ne!(a.cache_key(&h), a.cache_key(&source_hash(b"other")));
        let (header, _, _) = a.deserialize(&artifact(&a)).unwrap();
        assert_eq!(cache_key_of(&header), a.cache_key(&h));
        let e = b.deserialize(&artifact(&a)).unwrap_err().to_string();
        assert!(
            e.contains("relaxed-simd-deterministic false (artifact) vs true"),
            "{e}"
        );
    }

    /// A module with two memories: one whose segments form an image (the
    /// first segment partly overwritten by the third), one whose segment
    /// has a `global.get` offset; and a passive segment.
    const DATA: &str = r#"(module
        (global $g i32 (i32.const 8))
        (memory $a 3)
        (memory $b 1)
        (data (memory $a) (i32.const 70000) "hello")
        (data (memory $a) (i32.const 140000) "far")
        (data (memory $a) (i32.const 70003) "P")
        (data (memory $b) (global.get $g) "global")
        (data "passive"))"#;

    #[test]
    fn data_sections_hold_images_and_the_rest_once() {
        let c = compiler();
        let wasm = wat::parse_str(DATA).unwrap();
        let m = crate::link::link(c.compile(&wasm).unwrap()).unwrap();
        let bytes = c.serialize(&m, &source_hash(&wasm));
        let (header, layout) = read_layout(&bytes).unwrap();
        assert_eq!(
            layout.data.start % TEXT_ALIGN,
            0,
            "the images can be mapped"
        );
        assert_eq!(layout.data.end, bytes.len());
        let (_, loaded, _) = c.deserialize(&bytes).unwrap();
        let image = &loaded.images[..];
        assert_eq!(image.len(), 1, "{image:?}");
        assert_eq!(
            (
                image[0].memory.index(),
                image[0].offset,
                image[0].len,
                image[0].at
            ),
            (0, 65536, 131072, 0)
        );
        let data = &bytes[layout.data.clone()];
        assert_eq!(&data[70000 - 65536..][..5], b"helPo");
        assert_eq!(&data[140000 - 65536..][..3], b"far");
        // Every segment reads as in the module; "hello" and "global" and
        // "passive" are stored after the image, "far" and "P" are not.
        let segments: Vec<&[u8]> = loaded
            .info
            .data
            .values()
            .map(|d| loaded.info.segment_bytes(d))
            .collect();
        assert_eq!(
            segments,
            [&b"hello"[..], b"far", b"P", b"global", b"passive"]
        );
        assert_eq!(data.len(), 131072 + 5 + 6 + 7);
        assert_eq!(header.data_len, data.len() as u64);
        // Damage in the section is caught by its own checksum, also when
        // it is loaded apart from the head.
        let mut flipped = bytes.clone();
        flipped[layout.data.start + 70000 - 65536] ^= 1;
        let e = c.deserialize(&flipped).unwrap_err().to_string();
        assert!(
            e.contains("data section does not match its checksum"),
            "{e}"
        );
        let head: BytesOwner = Arc::new(bytes[..layout.data.start].to_vec());
        let split = |data: &[u8]| c.deserialize_split(&head, SharedBytes::from(data.to_vec()));
        let (_, split_module, text) = split(data).unwrap();
        assert_eq!(split_module.images, loaded.images);
        assert_eq!(text.len() as u64, split_module.text_len);
        let e = split(&flipped[layout.data.clone()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("checksum"), "{e}");
        let e = split(&data[1..]).unwrap_err().to_string();
        assert!(e.contains("data section is"), "{e}");
        // A whole artifact one byte short or long is refused.
        for wrong in [&bytes[..bytes.len() - 1], &[&bytes[..], &[0]].concat()] {
            let e = c.deserialize(wrong).unwrap_err().to_string();
            assert!(e.contains("its header says"), "{e}");
        }
        check_integrity(&bytes).unwrap();
        assert!(check_integrity(&flipped).is_err());
    }
}
