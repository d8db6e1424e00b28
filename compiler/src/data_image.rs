//! Memory images' layout: which defined memory can start from an image of
//! its active data segments, over which bytes, and what the image holds.
//!
//! A memory gets an image when every active data segment for it has a
//! constant offset (no `global.get`) and ends within the memory's initial
//! size, and the segments are dense enough that the image is not mostly
//! zeros. The image holds what applying those segments in order to a
//! zeroed memory gives, over the granules they touch. The runtime builds
//! images for JIT-compiled modules in a sealed `memfd` (with the host's
//! page as the granule); artifacts store them with a 64 KiB granule, so
//! they map on any supported host (see `artifact.rs`).
//!
//! Since an image holds every active segment of its memory, an instance
//! whose memory starts from it applies none of them; the runtime decides
//! at instantiation whether it may (no segment of the instance traps).

use crate::indices::{DataIndex, MemoryIndex};
use crate::types::{ConstExpr, ConstOp, MemoryType};
use crate::{ModuleInfo, SegmentMode};

/// An image is not made for a span above this many times its data plus one
/// MiB (sparse segments would make the image mostly zeros).
const MAX_SPARSENESS: usize = 2;

/// Where a memory's image lies in the memory, and the segments it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLayout {
    /// Where the image starts in the memory (a multiple of the granule).
    pub offset: usize,
    /// The image's length (a non-zero multiple of the granule).
    pub len: usize,
    /// The non-empty active segments for the memory, in order, with where
    /// each starts in the memory.
    pub segments: Vec<(usize, DataIndex)>,
}

impl ImageLayout {
    /// The layout of memory `index` of `info` (a defined memory of type
    /// `ty`) in `granule`-sized units (a power of two), or `None` when its
    /// segments do not qualify (see the module documentation) or hold
    /// fewer than `min_bytes`.
    pub fn of(
        info: &ModuleInfo,
        index: MemoryIndex,
        ty: &MemoryType,
        granule: usize,
        min_bytes: usize,
    ) -> Option<ImageLayout> {
        debug_assert!(granule.is_power_of_two());
        let initial = ty.bytes_of(ty.min_pages)?;
        let mut segments = Vec::new();
        let mut data = 0usize;
        let (mut first, mut last) = (usize::MAX, 0usize);
        for (d, segment) in info.data.iter() {
            let SegmentMode::Active { target, offset } = &segment.mode else {
                continue;
            };
            if *target != index {
                continue;
            }
            let start = constant_offset(offset, ty.memory64)?;
            let end = start.checked_add(segment.len as u64)?;
            if end > initial {
                return None;
            }
            if segment.len != 0 {
                let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
                segments.push((start, d));
                data += segment.len;
                first = first.min(start);
                last = last.max(end);
            }
        }
        if segments.is_empty() {
            return None;
        }
        let offset = first & !(granule - 1);
        let end = last.checked_next_multiple_of(granule)?;
        // Rounding up to the granule must not reach past the memory's
        // initial bytes, which a mapping of the image would then cover.
        if end as u64 > initial {
            return None;
        }
        let len = end - offset;
        if data < min_bytes || len > MAX_SPARSENESS * data + (1 << 20) {
            return None;
        }
        Some(ImageLayout {
            offset,
            len,
            segments,
        })
    }

    /// Writes the image into `out` (`len` bytes of zeros): the segments
    /// applied in order.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than the image.
    pub fn fill(&self, info: &ModuleInfo, out: &mut [u8]) {
        for &(start, d) in &self.segments {
            let bytes = info.segment_bytes(&info.data[d]);
            let at = start - self.offset;
            out[at..at + bytes.len()].copy_from_slice(bytes);
        }
    }
}

/// A memory image an artifact stores in its data section (see
/// `artifact.rs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredImage {
    /// The defined memory it is the image of.
    pub memory: MemoryIndex,
    /// Where it starts in the memory (a multiple of 64 KiB).
    pub offset: u64,
    /// Its length (a non-zero multiple of 64 KiB).
    pub len: u64,
    /// Where it starts in the data section (a multiple of 64 KiB).
    pub at: u64,
}

/// The value of an offset expression made of constants only (including
/// extended-const arithmetic), as an unsigned offset.
pub fn constant_offset(expr: &ConstExpr, memory64: bool) -> Option<u64> {
    let mut stack: Vec<i64> = Vec::new();
    for op in &expr.ops {
        let value = match *op {
            ConstOp::I32Const(v) => i64::from(v),
            ConstOp::I64Const(v) => v,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (b, a) = (stack.pop()? as i32, stack.pop()? as i32);
                i64::from(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (b, a) = (stack.pop()?, stack.pop()?);
                match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }
            }
            _ => return None,
        };
        stack.push(value);
    }
    let [value] = stack[..] else { return None };
    Some(if memory64 {
        value as u64
    } else {
        u64::from(value as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_fold_constants_and_refuse_globals() {
        let e = |ops: &[ConstOp]| ConstExpr { ops: ops.to_vec() };
        assert_eq!(
            constant_offset(&e(&[ConstOp::I32Const(-1)]), false),
            Some(0xffff_ffff)
        );
        assert_eq!(
            constant_offset(
                &e(&[
                    ConstOp::I32Const(4096),
                    ConstOp::I32Const(8),
                    ConstOp::I32Add
                ]),
                false
            ),
            Some(4104)
        );
        assert_eq!(
            constant_offset(&e(&[ConstOp::I64Const(1 << 40)]), true),
            Some(1 << 40)
        );
        assert_eq!(constant_offset(&e(&[ConstOp::GlobalGet(0)]), false), None);
    }

    fn info_of(wat: &str) -> ModuleInfo {
        let wasm = wat::parse_str(wat).unwrap();
        crate::module_info::parse(&wasm, crate::default_features())
            .unwrap()
            .info
    }

    #[test]
    fn layouts_cover_the_segments_in_whole_granules() {
        let info = info_of(
            r#"(module (memory 2)
                (data (i32.const 70000) "late")
                (data (i32.const 5) "ab")
                (data (i32.const 6) "X"))"#,
        );
        let (index, ty) = info.memories.iter().next().unwrap();
        let l = ImageLayout::of(&info, index, ty, 4096, 1).unwrap();
        assert_eq!((l.offset, l.len), (0, 73728));
        let mut image = vec![0; l.len];
        l.fill(&info, &mut image);
        assert_eq!(&image[5..7], b"aX", "later segments win");
        assert_eq!(&image[70000..70004], b"late");
        // A 64 KiB granule still fits the two initial pages; a third
        // segment's granule would not.
        assert_eq!(
            ImageLayout::of(&info, index, ty, 65536, 1).unwrap().len,
            131072
        );
        assert!(
            ImageLayout::of(&info, index, ty, 4096, 8).is_none(),
            "min_bytes"
        );
        for refused in [
            r#"(module (memory 1) (global i32 (i32.const 0)) (data (global.get 0) "x"))"#,
            r#"(module (memory 1) (data (i32.const 65535) "xy"))"#,
            r#"(module (memory 1) (data (i32.const 0) ""))"#,
            r#"(module (memory 1 1 (pagesize 1)) (data (i32.const 0) "x"))"#,
        ] {
            let info = info_of(refused);
            let (index, ty) = info.memories.iter().next().unwrap();
            assert_eq!(
                ImageLayout::of(&info, index, ty, 4096, 1),
                None,
                "{refused}"
            );
        }
    }
}
