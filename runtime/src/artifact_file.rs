//! Artifact files, loaded in two parts (see the compiler's `artifact.rs`
//! for the layout): the head (header, metadata and machine code) is read
//! into this process's memory, or mapped for a cache entry; the data
//! section is mapped without being read, and the memories whose images it
//! stores map them from the file copy-on-write.
//!
//! The data section holds guest data only: the bytes of data segments and
//! memory images. The checksum check at load reads it once through the
//! mapping (from the page cache, with no copy); after that, a file
//! rewritten in place can change only what a guest memory has not yet
//! touched, and a file truncated under a running process makes the next
//! touch of the lost pages fault (a trap in wasm code; `SIGBUS` ends the
//! process in a host call). cljit never rewrites its files in place: it
//! writes a new file and renames it over the old one, which running
//! processes never see.

use std::fs::File;
use std::io;
use std::sync::Arc;

use cljit_compiler::artifact::{self, ArtifactError, Layout, TEXT_ALIGN};
use cljit_compiler::link::LinkedModule;
use cljit_compiler::shared_bytes::{BytesOwner, SharedBytes};
use cranelift_entity::EntityRef as _;

use crate::file_bytes::FileBytes;
use crate::memory::image::MemoryImage;

/// Why an artifact file could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// Reading or mapping it.
    Io(io::Error),
    /// Its header or length.
    Artifact(ArtifactError),
}

/// An artifact file, its head in memory and its data section mapped.
pub(crate) struct ArtifactFile {
    file: Arc<File>,
    /// Its bytes up to the data section: header, payload, padding.
    pub(crate) head: Arc<FileBytes>,
    data: Option<Arc<FileBytes>>,
    layout: Layout,
}

impl ArtifactFile {
    /// Opens the artifact in `file`: reads (or, with `map_head`, maps) its
    /// head and maps its data section, after checking that the file is as
    /// long as its header says. Nothing is checked against a compiler or a
    /// checksum here: [`Compiler::deserialize_split`] does that.
    ///
    /// [`Compiler::deserialize_split`]: cljit_compiler::Compiler::deserialize_split
    pub(crate) fn open(file: File, map_head: bool) -> Result<ArtifactFile, OpenError> {
        let len = file.metadata().map_err(OpenError::Io)?.len();
        let first = FileBytes::read_head(&file, len.min(TEXT_ALIGN as u64) as usize)
            .map_err(OpenError::Io)?;
        let (_, layout) = artifact::read_layout(&first).map_err(OpenError::Artifact)?;
        if len != layout.data.end as u64 {
            return Err(OpenError::Artifact(ArtifactError::Damaged(format!(
                "it is {len} bytes, its header says {}",
                layout.data.end
            ))));
        }
        let head_len = layout.data.start;
        let head = if map_head {
            FileBytes::map_range(&file, 0, head_len, true)
        } else if head_len == first.len() {
            Ok(first)
        } else {
            FileBytes::read_head(&file, head_len)
        }
        .map_err(OpenError::Io)?;
        let data = if layout.data.is_empty() {
            None
        } else {
            let offset = layout.data.start as u64;
            let data = FileBytes::map_range(&file, offset, layout.data.len(), false);
            Some(Arc::new(data.map_err(OpenError::Io)?))
        };
        Ok(ArtifactFile {
            file: Arc::new(file),
            head: Arc::new(head),
            data,
            layout,
        })
    }

    /// The file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// The head, as the owner the decoded module's tables borrow from.
    pub(crate) fn head_owner(&self) -> BytesOwner {
        self.head.clone()
    }

    /// The data section, as the bytes the module's data segments borrow.
    pub(crate) fn data(&self) -> SharedBytes {
        match &self.data {
            Some(data) => {
                let owner: BytesOwner = data.clone();
                SharedBytes::window(owner, 0..data.len()).expect("the whole section")
            }
            None => SharedBytes::default(),
        }
    }

    /// The memory images `linked` (decoded from this file) stores, by
    /// defined memory (`None` where a memory has none, or where this host's
    /// pages do not divide the image's placement).
    pub(crate) fn images(&self, linked: &LinkedModule) -> Box<[Option<Arc<MemoryImage>>]> {
        let info = &linked.info;
        let defined = info.memories.len() - info.num_imported_memories as usize;
        let mut images: Vec<Option<Arc<MemoryImage>>> = vec![None; defined];
        for stored in &linked.images {
            let (Ok(offset), Ok(len)) =
                (usize::try_from(stored.offset), usize::try_from(stored.len))
            else {
                continue;
            };
            let file_offset = self.layout.data.start as u64 + stored.at;
            let slot = stored.memory.index() - info.num_imported_memories as usize;
            images[slot] = MemoryImage::stored(&self.file, file_offset, offset, len).map(Arc::new);
        }
        images.into_boxed_slice()
    }
}
