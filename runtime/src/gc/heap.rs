//! A store's GC heap: where structs and arrays live, and the sweeping half
//! of its collector (the marking half, which finds the roots, is in
//! `collect.rs`).
//!
//! The heap never moves an object (so references and the addresses
//! compiled code derives from them stay valid across collections). Small
//! objects sit in
//! chunks (16 to 64 KiB, by the heap's limit) of equal slots, one size
//! class per chunk; a free slot has
//! a zero header and the next free slot of its class in its second word.
//! An object larger than the largest class (8 KiB) gets an allocation of
//! its own. So the object containing any address is found in constant time
//! (a chunk by the address's high bits, a slot by division) or, for large
//! objects, by an ordered map.
//!
//! Every object is zeroed when it is handed out: fields start as zero and
//! references as null, as `struct.new_default` and `array.new_default`
//! need.
//!
//! Compiled code allocates objects of up to 128 bytes itself: it pops the
//! free list of the object's class (the heads are reachable from the
//! store's `VmRuntimeLimits`), writes the header and zeroes or stores the
//! fields. Only an empty list or a larger object calls the runtime, so the
//! collector runs when the heap would take more memory: a new chunk or a
//! large object past the threshold the last collection set.

use std::alloc::Layout;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cljit_compiler::abi::gc::{
    ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET, FREE_NEXT_OFFSET, GcKind, HEADER_KIND_OFFSET,
    HEADER_MARK_OFFSET, INLINE_ALLOC_MAX_BYTES, SIZE_CLASS_STEP, inline_size_class, storage_bytes,
    struct_layout,
};
use cljit_compiler::types::{CompositeType, HeapType, StorageType, ValType};

/// The largest chunk, the size of every chunk of a heap whose limit is at
/// least 1 MiB.
const MAX_CHUNK_BYTES: usize = 64 * 1024;

/// The smallest chunk: it still holds two slots of the largest class.
const MIN_CHUNK_BYTES: usize = 16 * 1024;

/// How many chunks a heap's limit holds at least, when chunks can be made
/// small enough. A chunk stays as long as one object in it lives, so a
/// heap of a few chunks could be filled by survivors of one size class
/// while most of it is free; sixteen keep that waste to a fraction.
const MIN_CHUNKS: usize = 16;

/// The chunk size for a heap of at most `limit` bytes: a power of two
/// between the smallest and largest.
fn chunk_bytes_for(limit: usize) -> usize {
    let want = (limit / MIN_CHUNKS).clamp(MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
    1 << want.ilog2()
}

/// The slot sizes of small objects, in bytes.
const CLASSES: [u32; 22] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512, 768, 1024, 1536, 2048, 3072,
    4096, 6144, 8192,
];

/// The index of the smallest class that holds `size` bytes, if any.
fn class_of(size: u32) -> Option<usize> {
    // The classes compiled code allocates from are 16 bytes apart, and it
    // computes them the same way.
    if let Some(class) = inline_size_class(size) {
        return Some(class as usize);
    }
    CLASSES.iter().position(|&c| c >= size)
}

/// Where the next free slot lies in a free slot.
const NEXT: usize = FREE_NEXT_OFFSET as usize;

/// The free-list heads, one per size class (0: none), in an allocation of
/// their own: compiled code reads and writes them through the pointer in
/// the store's `VmRuntimeLimits`, so they never move, and the heap too
/// goes through that pointer rather than a Rust reference.
struct FreeLists(std::ptr::NonNull<[usize; CLASSES.len()]>);

impl FreeLists {
    fn new() -> FreeLists {
        FreeLists(std::ptr::NonNull::from(Box::leak(Box::new(
            [0; CLASSES.len()],
        ))))
    }

    /// The first free slot of `class` (0: none).
    fn head(&self, class: usize) -> usize {
        // SAFETY: the heads are this heap's own allocation, alive until
        // its drop; compiled code touches them only while the store is
        // borrowed by the call it runs in, never at the same time as this.
        unsafe { (*self.0.as_ptr())[class] }
    }

    fn set(&mut self, class: usize, slot: usize) {
        // SAFETY: the heads are this heap's own allocation, alive until
        // its drop; compiled code writes them only while the store is
        // borrowed by the call it runs in, never at the same time as this.
        unsafe { (*self.0.as_ptr())[class] = slot }
    }
}

impl Drop for FreeLists {
    fn drop(&mut self) {
        // SAFETY: made by `Box::leak` in `new`, and dropped once.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// The least a heap may grow between collections (or half its limit, if
/// that is less).
const COLLECT_MIN_BYTES: usize = 1 << 20;

/// Which words of an object of one type are references the collectors
/// follow.
#[derive(Debug)]
pub(crate) struct TypeLayout {
    /// Struct or array.
    pub(crate) kind: GcKind,
    /// A struct's size, or an array element's.
    pub(crate) size: u32,
    /// A struct's field offsets, in order (empty for an array).
    pub(crate) offsets: Vec<u32>,
    /// How each field (or the element) is stored, with engine types.
    pub(crate) fields: Vec<StorageType>,
    /// Whether each field (or the element) is mutable.
    pub(crate) mutable: Vec<bool>,
    /// Offsets of struct fields of the `any` and `extern` hierarchies.
    gc_fields: Vec<u32>,
    /// Offsets of struct fields holding exceptions.
    exn_fields: Vec<u32>,
    /// Whether an object of the type may hold an exception.
    holds_exceptions: bool,
}

/// Whether a field of `storage` may hold a reference of the `any` or
/// `extern` hierarchies, which may point into the heap.
fn holds_gc_ref(storage: StorageType) -> bool {
    matches!(storage, StorageType::Val(ValType::Ref(r)) if matches!(r.heap.top(), HeapType::Any | HeapType::Extern))
}

/// Whether a field of `storage` holds an exception.
fn holds_exn(storage: StorageType) -> bool {
    matches!(storage, StorageType::Val(ValType::Ref(r)) if r.heap.top() == HeapType::Exn)
}

impl TypeLayout {
    /// The layout of objects of struct or array type `ty` (an engine type:
    /// its references by engine type id).
    ///
    /// # Panics
    ///
    /// If `ty` is a function type.
    pub(crate) fn new(ty: &CompositeType) -> TypeLayout {
        let pointer = u8::try_from(size_of::<usize>()).expect("pointers are small");
        match ty {
            CompositeType::Struct(s) => {
                let layout = struct_layout(s, pointer);
                let fields: Vec<StorageType> = s.fields.iter().map(|f| f.storage).collect();
                let pick = |test: fn(StorageType) -> bool| {
                    fields
                        .iter()
                        .zip(&layout.offsets)
                        .filter(|(f, _)| test(**f))
                        .map(|(_, &o)| o)
                        .collect()
                };
                let exn_fields: Vec<u32> = pick(holds_exn);
                TypeLayout {
                    kind: GcKind::Struct,
                    size: layout.size,
                    mutable: s.fields.iter().map(|f| f.mutable).collect(),
                    gc_fields: pick(holds_gc_ref),
                    holds_exceptions: !exn_fields.is_empty(),
                    exn_fields,
                    offsets: layout.offsets,
                    fields,
                }
            }
            CompositeType::Array(a) => TypeLayout {
                kind: GcKind::Array,
                size: storage_bytes(a.element.storage, pointer),
                offsets: Vec::new(),
                fields: vec![a.element.storage],
                mutable: vec![a.element.mutable],
                gc_fields: Vec::new(),
                exn_fields: Vec::new(),
                holds_exceptions: holds_exn(a.element.storage),
            },
            CompositeType::Func(_) => panic!("functions are not heap objects"),
        }
    }

    /// An array's element storage.
    pub(crate) fn element(&self) -> StorageType {
        self.fields[0]
    }
}

/// Hashes chunk base addresses: they are multiples of the chunk size, so
/// the hash folds a 128-bit product, whose every bit depends on the
/// address's high bits (the standard hasher is several times slower, and
/// the collector looks chunks up for every root candidate).
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

/// Chunks by base address.
type ChunkMap = HashMap<usize, Chunk, std::hash::BuildHasherDefault<AddressHasher>>;

/// What the heap knows of a chunk.
#[derive(Debug)]
struct Chunk {
    /// The index of its size class.
    class: usize,
}

/// A store's GC heap.
pub(crate) struct GcHeap {
    /// The size and alignment of every chunk.
    chunk_bytes: usize,
    /// Chunks by base address.
    chunks: ChunkMap,
    /// Empty chunks kept for reuse, highest address first (counted in
    /// `footprint`): a heap that empties and refills chunks between
    /// collections does not go to the system (and fault in fresh pages)
    /// for each.
    spare: Vec<usize>,
    /// The objects host handles keep alive.
    pub(crate) roots: super::Roots,
    /// The first free slot of each size class.
    free: FreeLists,
    /// Large objects: address to size.
    large: BTreeMap<usize, usize>,
    /// Layouts by engine type id (ids are dense: indices into the
    /// engine's type registry).
    layouts: Vec<Option<Arc<TypeLayout>>>,
    /// Bytes of chunks and large objects.
    footprint: usize,
    /// The footprint past which the heap collects before it grows.
    collect_at: usize,
    /// The most bytes `footprint` may reach.
    limit: usize,
    /// How many collections ran.
    pub(crate) collections: u64,
}

// SAFETY: the heap's addresses are allocations it owns; moving the heap
// (with its store) to another thread moves their ownership.
unsafe impl Send for GcHeap {}

impl std::fmt::Debug for GcHeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcHeap")
            .field("chunks", &self.chunks.len())
            .field("large", &self.large.len())
            .field("footprint", &self.footprint)
            .finish_non_exhaustive()
    }
}

/// The default size limit of a store's GC heap.
pub const DEFAULT_GC_HEAP_LIMIT: usize = 1 << 30;

impl Default for GcHeap {
    fn default() -> GcHeap {
        GcHeap {
            chunk_bytes: chunk_bytes_for(DEFAULT_GC_HEAP_LIMIT),
            chunks: ChunkMap::default(),
            spare: Vec::new(),
            roots: super::Roots::default(),
            free: FreeLists::new(),
            large: BTreeMap::new(),
            layouts: Vec::new(),
            footprint: 0,
            collect_at: collect_floor(DEFAULT_GC_HEAP_LIMIT),
            limit: DEFAULT_GC_HEAP_LIMIT,
            collections: 0,
        }
    }
}

/// How far a heap of at most `limit` bytes grows at least between
/// collections.
fn collect_floor(limit: usize) -> usize {
    COLLECT_MIN_BYTES.min(limit / 2)
}

/// The header byte at `offset` of object `object`.
///
/// # Safety
///
/// `object` must be an object (or slot) of a live heap.
unsafe fn header_byte(object: usize, offset: u32) -> *mut u8 {
    (object + offset as usize) as *mut u8
}

impl GcHeap {
    /// Sets the most bytes the heap may take, and (while the heap is still
    /// empty) a chunk size that suits it.
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        if self.chunks.is_empty() {
            // Spare chunks have the old size.
            self.release_spares();
            self.chunk_bytes = chunk_bytes_for(limit);
        }
        if self.collections == 0 {
            self.collect_at = collect_floor(limit);
        }
    }

    /// The layout of every chunk's allocation.
    fn chunk_layout(&self) -> Layout {
        Layout::from_size_align(self.chunk_bytes, self.chunk_bytes).expect("a valid layout")
    }

    /// The free-list heads compiled code pops small objects from, one per
    /// size class (see [`inline_size_class`]); they stay where they are as
    /// long as the heap lives.
    pub(crate) fn free_heads(&self) -> *mut usize {
        const _: () = {
            // The inline classes are the first ones, `SIZE_CLASS_STEP` apart.
            let mut i = 0;
            while i < (INLINE_ALLOC_MAX_BYTES / SIZE_CLASS_STEP) as usize {
                assert!(CLASSES[i] == SIZE_CLASS_STEP * (i as u32 + 1));
                i += 1;
            }
        };
        self.free.0.as_ptr().cast()
    }

    /// The bytes the heap takes (chunks and large objects).
    pub(crate) fn footprint(&self) -> usize {
        self.footprint
    }

    /// The layout of engine type `id`, made from `ty` the first time.
    pub(crate) fn layout(
        &mut self,
        id: u32,
        ty: impl FnOnce() -> CompositeType,
    ) -> Arc<TypeLayout> {
        let index = id as usize;
        if self.layouts.len() <= index {
            self.layouts.resize(index + 1, None);
        }
        Arc::clone(self.layouts[index].get_or_insert_with(|| Arc::new(TypeLayout::new(&ty()))))
    }

    /// The layout of an object's type.
    ///
    /// # Safety
    ///
    /// `object` must be an object of this heap.
    pub(crate) unsafe fn layout_of(&self, object: usize) -> &TypeLayout {
        // SAFETY: an object starts with its header, whose type id the
        // allocation that made it registered.
        let id = unsafe { *(object as *const u32) };
        self.layouts[id as usize]
            .as_deref()
            .expect("an object's type has a layout")
    }

    /// Whether a collection is due before an object of `bytes` is handed
    /// out: when the heap would have to grow for it (its class has no free
    /// slot, or it is large) past the threshold the last collection set.
    /// Compiled code pops free slots without asking, so growth is the one
    /// moment the runtime sees. (An allocation that finds the heap full
    /// collects whatever this says.)
    pub(crate) fn wants_collection(&self, bytes: u32) -> bool {
        let need = match class_of(bytes) {
            Some(class) if self.free.head(class) != 0 => return false,
            Some(_) if !self.spare.is_empty() => return false,
            Some(_) => self.chunk_bytes,
            None => bytes as usize,
        };
        self.footprint + need > self.collect_at
    }

    /// A zeroed object of `size` bytes with type `id` and `kind` in its
    /// header, or `None` if the heap would pass its limit.
    pub(crate) fn alloc(&mut self, size: u32, id: u32, kind: GcKind) -> Option<usize> {
        let object = match class_of(size) {
            Some(class) => self.alloc_small(class)?,
            None => self.alloc_large(size as usize)?,
        };
        // SAFETY: `object` is a fresh slot of at least 8 bytes, zeroed.
        unsafe {
            *(object as *mut u32) = id;
            *header_byte(object, HEADER_KIND_OFFSET) = kind as u8;
        }
        Some(object)
    }

    fn alloc_small(&mut self, class: usize) -> Option<usize> {
        if self.free.head(class) == 0 {
            self.new_chunk(class)?;
        }
        let slot = self.free.head(class);
        let size = CLASSES[class] as usize;
        // SAFETY: a free slot of `size` bytes owned by this heap; its
        // second word links the next free slot.
        unsafe {
            self.free.set(class, *((slot + NEXT) as *const usize));
            std::ptr::write_bytes(slot as *mut u8, 0, size);
        }
        Some(slot)
    }

    fn new_chunk(&mut self, class: usize) -> Option<()> {
        let base = match self.spare.pop() {
            Some(base) => base,
            None => {
                if self.footprint + self.chunk_bytes > self.limit {
                    return None;
                }
                // SAFETY: the layout has a non-zero size.
                let base = unsafe { std::alloc::alloc(self.chunk_layout()) } as usize;
                if base == 0 {
                    return None;
                }
                self.footprint += self.chunk_bytes;
                base
            }
        };
        self.chunks.insert(base, Chunk { class });
        let size = CLASSES[class] as usize;
        let slots = self.chunk_bytes / size;
        // Thread the slots in address order, each with a zero header (the
        // chunk is fresh, or held another class's objects).
        for i in (0..slots).rev() {
            let slot = base + i * size;
            // SAFETY: the slot lies in the chunk, which this heap owns and
            // nothing else uses.
            unsafe {
                *(slot as *mut u64) = 0;
                *((slot + NEXT) as *mut usize) = self.free.head(class);
            }
            self.free.set(class, slot);
        }
        Some(())
    }

    /// Gives the spare chunks back to the system.
    fn release_spares(&mut self) {
        let layout = self.chunk_layout();
        for base in self.spare.drain(..) {
            // SAFETY: allocated by `new_chunk` with this layout; a spare
            // chunk holds no object and no free list links into it.
            unsafe { std::alloc::dealloc(base as *mut u8, layout) };
            self.footprint -= self.chunk_bytes;
        }
    }

    fn alloc_large(&mut self, size: usize) -> Option<usize> {
        if self.footprint + size > self.limit {
            self.release_spares();
        }
        if self.footprint + size > self.limit {
            return None;
        }
        let layout = Layout::from_size_align(size, 16).ok()?;
        // SAFETY: the layout has a non-zero size (an object has a header).
        let object = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
        if object == 0 {
            return None;
        }
        self.footprint += size;
        self.large.insert(object, size);
        Some(object)
    }

    /// The object containing address `word`, if any: the heap's own
    /// lookup for a conservative root or an interior pointer.
    pub(crate) fn object_containing(&self, word: usize) -> Option<usize> {
        let base = word & !(self.chunk_bytes - 1);
        if let Some(chunk) = self.chunks.get(&base) {
            let size = CLASSES[chunk.class] as usize;
            let index = (word - base) / size;
            if (index + 1) * size > self.chunk_bytes {
                return None;
            }
            let slot = base + index * size;
            // SAFETY: the slot lies in one of this heap's chunks; a free
            // slot's kind byte is zero.
            let kind = unsafe { *header_byte(slot, HEADER_KIND_OFFSET) };
            return (kind != 0).then_some(slot);
        }
        let (&start, &size) = self.large.range(..=word).next_back()?;
        (word < start + size).then_some(start)
    }

    /// The object a reference field holds, if it is one of this heap's:
    /// not null, an `i31` or a host value. No lookup: a field holds a
    /// reference exactly (never an interior address), and host values say
    /// what they are in their header.
    ///
    /// # Safety
    ///
    /// `word` must have been read from a reference field of the `any` or
    /// `extern` hierarchies of one of this heap's objects.
    pub(crate) unsafe fn field_object(word: usize) -> Option<usize> {
        if word == 0 || word & 1 != 0 {
            return None;
        }
        // SAFETY: per the contract, a word that is neither null nor an
        // `i31` points at a header: an object of this heap (reachable, so
        // not freed) or a host value, which its store keeps while it lives.
        let kind = unsafe { *header_byte(word, HEADER_KIND_OFFSET) };
        (kind != GcKind::Extern as u8).then_some(word)
    }

    /// Marks `object` (an object of this heap); true if it was not marked
    /// yet.
    pub(crate) fn mark(&self, object: usize) -> bool {
        // SAFETY: `object` is an object of this heap (see above).
        let mark = unsafe { &mut *header_byte(object, HEADER_MARK_OFFSET) };
        let new = *mark == 0;
        *mark = 1;
        new
    }

    /// Calls `f` with every reference word `object` holds that may point
    /// into the heap.
    ///
    /// # Safety
    ///
    /// `object` must be an object of this heap.
    pub(crate) unsafe fn trace(&self, object: usize, mut f: impl FnMut(usize)) {
        // SAFETY: per the contract.
        let layout = unsafe { self.layout_of(object) };
        let read = |at: usize| {
            // SAFETY: `at` is a reference field inside the object.
            unsafe { *(at as *const usize) }
        };
        match layout.kind {
            GcKind::Array if holds_gc_ref(layout.element()) => {
                // SAFETY: an array's length follows its header.
                let len = unsafe { *((object + ARRAY_LENGTH_OFFSET as usize) as *const u32) };
                let data = object + ARRAY_DATA_OFFSET as usize;
                for i in 0..len as usize {
                    f(read(data + i * size_of::<usize>()));
                }
            }
            GcKind::Struct => {
                for &offset in &layout.gc_fields {
                    f(read(object + offset as usize));
                }
            }
            _ => {}
        }
    }

    /// Calls `f` with every exception reference any object holds (roots
    /// for the exception collector).
    pub(crate) fn exception_words(&self, mut f: impl FnMut(usize)) {
        if !self.layouts.iter().flatten().any(|l| l.holds_exceptions) {
            return;
        }
        self.for_each_object(|object| {
            // SAFETY: every object visited is one of this heap's.
            let layout = unsafe { self.layout_of(object) };
            for &offset in &layout.exn_fields {
                // SAFETY: the field lies inside the object.
                f(unsafe { *((object + offset as usize) as *const usize) });
            }
            if layout.kind == GcKind::Array && holds_exn(layout.element()) {
                // SAFETY: as in `trace`.
                let len = unsafe { *((object + ARRAY_LENGTH_OFFSET as usize) as *const u32) };
                let data = object + ARRAY_DATA_OFFSET as usize;
                for i in 0..len as usize {
                    // SAFETY: element `i` lies inside the array.
                    f(unsafe { *((data + i * size_of::<usize>()) as *const usize) });
                }
            }
        });
    }

    /// Calls `f` with every allocated object.
    fn for_each_object(&self, mut f: impl FnMut(usize)) {
        for (&base, chunk) in &self.chunks {
            let size = CLASSES[chunk.class] as usize;
            for i in 0..self.chunk_bytes / size {
                let slot = base + i * size;
                // SAFETY: the slot lies in the chunk.
                if unsafe { *header_byte(slot, HEADER_KIND_OFFSET) } != 0 {
                    f(slot);
                }
            }
        }
        for &object in self.large.keys() {
            f(object);
        }
    }

    /// Frees every unmarked object and clears the marks; returns the bytes
    /// freed. The free lists are rebuilt from the slots left free, and a
    /// chunk left empty is kept as a spare while the heap may grow into it
    /// before the next collection, or goes back to the system.
    ///
    /// Each free list runs in address order across chunks, so allocation
    /// fills the lowest chunks first: survivors gather there, and the
    /// highest chunks empty out and can be given back (or come back as
    /// another size class).
    pub(crate) fn sweep(&mut self) -> usize {
        let mut freed = 0;
        let mut live = 0;
        let mut free = [0; CLASSES.len()];
        let mut empty = Vec::new();
        let mut bases: Vec<usize> = self.chunks.keys().copied().collect();
        // Highest first, each chunk backwards: every slot is pushed on the
        // front of its list, so the lists come out lowest first.
        bases.sort_unstable_by(|a, b| b.cmp(a));
        for base in bases {
            let chunk = &self.chunks[&base];
            let size = CLASSES[chunk.class] as usize;
            let head = free[chunk.class];
            let mut kept = 0;
            for i in (0..self.chunk_bytes / size).rev() {
                let slot = base + i * size;
                // SAFETY: the slot lies in one of this heap's chunks.
                unsafe {
                    let kind = header_byte(slot, HEADER_KIND_OFFSET);
                    let mark = header_byte(slot, HEADER_MARK_OFFSET);
                    if *kind != 0 && *mark != 0 {
                        *mark = 0;
                        kept += 1;
                        continue;
                    }
                    if *kind != 0 {
                        freed += size;
                    }
                    // A zero header marks the slot free.
                    *(slot as *mut u64) = 0;
                    *((slot + NEXT) as *mut usize) = free[chunk.class];
                    free[chunk.class] = slot;
                }
            }
            if kept == 0 {
                // Unthread the chunk's slots again: it goes.
                free[chunk.class] = head;
                empty.push(base);
            }
            live += kept * size;
        }
        for &base in &empty {
            self.chunks.remove(&base);
        }
        self.spare.extend(empty);
        let mut dead = Vec::new();
        for (&object, &size) in &self.large {
            // SAFETY: a large object of this heap.
            let mark = unsafe { &mut *header_byte(object, HEADER_MARK_OFFSET) };
            if *mark != 0 {
                *mark = 0;
                live += size;
            } else {
                dead.push((object, size));
            }
        }
        for (object, size) in dead {
            self.large.remove(&object);
            // SAFETY: allocated by `alloc_large` with this layout.
            unsafe {
                std::alloc::dealloc(
                    object as *mut u8,
                    Layout::from_size_align(size, 16).expect("a valid layout"),
                );
            }
            self.footprint -= size;
            freed += size;
        }
        for (class, &slot) in free.iter().enumerate() {
            self.free.set(class, slot);
        }
        // Collect next when the heap holds twice what is live (or the live
        // bytes plus the floor), so collecting costs time in proportion to
        // allocation: the free slots of the chunks in use come first. When
        // survivors are scattered over more chunks than that, the heap
        // still grows by the floor, so a program whose objects change size
        // class does not collect for every chunk. Keep the lowest spare
        // chunks that growth would ask for again.
        let floor = collect_floor(self.limit);
        let in_use = self.footprint - self.spare.len() * self.chunk_bytes;
        self.collect_at = (live + live.max(floor)).max(in_use + floor);
        self.spare.sort_unstable_by(|a, b| b.cmp(a));
        let keep = ((self.collect_at - in_use) / self.chunk_bytes).min(self.spare.len());
        let mut kept = self.spare.split_off(self.spare.len() - keep);
        self.release_spares();
        self.spare.append(&mut kept);
        self.collections += 1;
        freed
    }
}

impl Drop for GcHeap {
    fn drop(&mut self) {
        self.release_spares();
        let chunk = self.chunk_layout();
        for &base in self.chunks.keys() {
            // SAFETY: allocated by `new_chunk` with this layout, and no
            // reference into the heap outlives its store.
            unsafe { std::alloc::dealloc(base as *mut u8, chunk) };
        }
        for (&object, &size) in &self.large {
            // SAFETY: allocated by `alloc_large` with this layout.
            unsafe {
                std::alloc::dealloc(
                    object as *mut u8,
                    Layout::from_size_align(size, 16).expect("a valid layout"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_with_small_limits_and_keep_two_large_slots() {
        assert_eq!(chunk_bytes_for(DEFAULT_GC_HEAP_LIMIT), MAX_CHUNK_BYTES);
        assert_eq!(chunk_bytes_for(1 << 20), 64 * 1024);
        assert_eq!(chunk_bytes_for(512 * 1024), 32 * 1024);
        assert_eq!(chunk_bytes_for(256 * 1024), 16 * 1024);
        assert_eq!(chunk_bytes_for(100 * 1024), MIN_CHUNK_BYTES);
        assert_eq!(chunk_bytes_for(0), MIN_CHUNK_BYTES);
        assert!(MIN_CHUNK_BYTES / *CLASSES.last().unwrap() as usize >= 2);
    }

    /// Allocates `size`-byte objects until the heap is full; returns them.
    fn fill(heap: &mut GcHeap, size: u32) -> Vec<usize> {
        std::iter::from_fn(|| heap.alloc(size, 1, GcKind::Struct)).collect()
    }

    #[test]
    fn chunks_with_one_survivor_stay_and_empty_ones_change_class() {
        let mut heap = GcHeap::default();
        heap.set_limit(256 * 1024);
        let first = fill(&mut heap, 32);
        assert_eq!(heap.footprint(), 256 * 1024);
        assert_eq!(first.len(), 256 * 1024 / 32);
        // One survivor in every chunk: every chunk stays, and an object of
        // another class finds no room.
        let step = heap.chunk_bytes / 32;
        let survivors: Vec<usize> = first.iter().step_by(step).copied().collect();
        assert_eq!(survivors.len(), 16);
        for &s in &survivors {
            heap.mark(s);
        }
        assert_eq!(heap.sweep(), (first.len() - 16) * 32);
        assert_eq!(heap.chunks.len(), 16);
        // The slots come back lowest first, around the survivors.
        let again = fill(&mut heap, 32);
        assert_eq!(again.len(), first.len() - 16);
        assert!(again.is_sorted());
        assert!(again.iter().all(|a| !survivors.contains(a)));
        assert_eq!(heap.alloc(528, 1, GcKind::Array), None);
        // Survivors only in the two lowest chunks: the rest go back, and
        // their room serves other classes and large objects.
        for &object in &again[..2 * step - 2] {
            heap.mark(object);
        }
        heap.sweep();
        assert_eq!(heap.chunks.len(), 2);
        // Of the fourteen empty chunks, as many as the heap may grow by
        // before its next collection (half its limit) stay as spares.
        assert_eq!(heap.spare.len(), 8);
        assert_eq!(heap.footprint(), 10 * heap.chunk_bytes);
        assert!(!heap.wants_collection(528));
        assert!(heap.alloc(528, 1, GcKind::Array).is_some());
        assert_eq!(heap.chunks.len(), 3);
        assert_eq!(heap.footprint(), 10 * heap.chunk_bytes);
        // A large object that needs their room gets it.
        assert!(heap.alloc(150_000, 1, GcKind::Array).is_some());
        assert!(heap.spare.is_empty());
        assert_eq!(heap.footprint(), 3 * heap.chunk_bytes + 150_000);
    }

    #[test]
    fn scattered_survivors_do_not_raise_the_next_collection_by_the_live_size() {
        let mut heap = GcHeap::default();
        // 4 MiB of 64-byte objects, one in four kept: every chunk stays.
        let objects: Vec<usize> = (0..65_536)
            .map(|_| heap.alloc(64, 1, GcKind::Struct).expect("room"))
            .collect();
        for &o in objects.iter().step_by(4) {
            heap.mark(o);
        }
        heap.sweep();
        let in_use = heap.chunks.len() * heap.chunk_bytes;
        assert_eq!(in_use, 4 << 20);
        // 1 MiB live: the next collection comes when the free slots and
        // one more MiB (the floor) are used, not another live size later.
        assert_eq!(heap.collect_at, in_use + COLLECT_MIN_BYTES);
        // All of it live: the heap may grow to twice that.
        let mut heap = GcHeap::default();
        for _ in 0..65_536 {
            let o = heap.alloc(64, 1, GcKind::Struct).expect("room");
            heap.mark(o);
        }
        heap.sweep();
        assert_eq!(heap.collect_at, 2 * (4 << 20));
    }

    #[test]
    fn a_rolling_live_set_packs_into_the_lowest_chunks() {
        let mut heap = GcHeap::default();
        heap.set_limit(256 * 1024);
        // A program that keeps its last 1,000 small objects (32 KB, two
        // chunks' worth) and drops the rest, over many collections.
        let mut recent = std::collections::VecDeque::new();
        for _ in 0..200 {
            while !heap.wants_collection(32) {
                let object = heap.alloc(32, 1, GcKind::Struct).expect("room");
                recent.push_back(object);
                if recent.len() > 1000 {
                    recent.pop_front();
                }
            }
            for &object in &recent {
                heap.mark(object);
            }
            heap.sweep();
        }
        // Garbage fills the rest between collections, but a collection
        // leaves the live set in few chunks and the rest free.
        assert!(heap.chunks.len() <= 4, "{} chunks", heap.chunks.len());
        assert!(heap.alloc(8000, 1, GcKind::Array).is_some());
    }
}
