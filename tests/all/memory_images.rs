//! Copy-on-write memory images: what an instance sees when its memory
//! starts from its module's image instead of copied data segments, in both
//! bounds-check configurations, for images built in a `memfd` and images
//! mapped from an artifact file, and what a reused reservation gives the
//! next memory.

use cljit::{Config, Engine, Extern, Instance, Linker, Module, Store, Table, Trap, Val};

/// An engine whose modules map their images from the first instance on,
/// however little data they have, keeping at most `reuse` freed
/// reservations.
fn engine(explicit: bool, reuse: usize) -> Engine {
    let mut config = Config::new();
    config
        .memory_image_threshold(0)
        .memory_image_min_bytes(0)
        .memory_reuse(reuse);
    if explicit {
        config.memory_reservation(0).memory_guard_size(0);
    }
    Engine::new(&config).unwrap()
}

/// Two pages of data across three segments (the last overwrites part of
/// the first), 64 KiB in, in a memory of three pages that may grow to four.
const DATA: &str = r#"(module
  (memory (export "mem") 3 4)
  (data (i32.const 65536) "first segment")
  (data (i32.const 65542) "SEG")
  (data (i32.const 131072) "second page")
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// The module of `wat` compiled by the JIT (its images built in a `memfd`),
/// named "jit", and loaded from an artifact file (its images mapped from
/// the file), named after the file.
fn modules(engine: &Engine, wat: &str) -> [(String, Module); 2] {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "cljit-images-{}-{}.cwasm",
        std::process::id(),
        FILES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, engine.precompile_module(wat.as_bytes()).unwrap()).unwrap();
    // SAFETY: an artifact this engine just wrote.
    let loaded = unsafe { Module::deserialize_file(engine, &path) }.unwrap();
    // The mappings keep the file's pages: deleting it changes nothing.
    std::fs::remove_file(&path).unwrap();
    {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        [
            ("jit".into(), Module::new(engine, wat).unwrap()),
            (name, loaded),
        ]
    }
}

fn read(store: &mut Store<()>, instance: &Instance, at: usize, len: usize) -> Vec<u8> {
    let memory = instance.get_memory(&mut *store, "mem").unwrap();
    let mut bytes = vec![0; len];
    memory.read(&*store, at, &mut bytes).unwrap();
    bytes
}

#[test]
fn instances_see_the_segments_and_keep_their_writes_to_themselves() {
    for explicit in [false, true] {
        let engine = engine(explicit, 4);
        for (source, module) in modules(&engine, DATA) {
            let mut store = Store::new(&engine, ());
            let a = Instance::new(&mut store, &module, &[]).unwrap();
            let b = Instance::new(&mut store, &module, &[]).unwrap();
            if source != "jit" {
                assert!(maps_deleted(&source), "the image is mapped from {source}");
            }
            assert_eq!(read(&mut store, &a, 65536, 13), b"first SEGment");
            assert_eq!(read(&mut store, &a, 131072, 11), b"second page");
            assert_eq!(read(&mut store, &a, 0, 16), [0; 16], "below the image");
            assert_eq!(read(&mut store, &a, 131083, 16), [0; 16], "after the data");

            let store_a = a.get_typed_func::<(i32, i32), ()>(&store, "store").unwrap();
            store_a.call(&mut store, (65536, i32::from(b'F'))).unwrap();
            store_a.call(&mut store, (10, 7)).unwrap();
            assert_eq!(read(&mut store, &a, 65536, 5), b"First");
            assert_eq!(
                read(&mut store, &b, 65536, 5),
                b"first",
                "b has its own copy"
            );
            assert_eq!(read(&mut store, &b, 10, 1), [0]);

            // A third instance, in another store, sees the image as built.
            let mut other = Store::new(&engine, ());
            let c = Instance::new(&mut other, &module, &[]).unwrap();
            assert_eq!(read(&mut other, &c, 65536, 13), b"first SEGment");

            // Growing adds zeros after the image's pages.
            let grow = a.get_typed_func::<i32, i32>(&store, "grow").unwrap();
            assert_eq!(grow.call(&mut store, 1).unwrap(), 3);
            assert_eq!(read(&mut store, &a, 3 * 65536, 65536), vec![0; 65536]);
            assert_eq!(read(&mut store, &a, 131072, 11), b"second page");
            let load = a.get_typed_func::<i32, i32>(&store, "load").unwrap();
            assert_eq!(load.call(&mut store, 4 * 65536 - 1).unwrap(), 0);
            let trap = load.call(&mut store, 4 * 65536).unwrap_err();
            assert_eq!(trap.as_trap(), Some(Trap::MemoryOutOfBounds), "{source}");
        }
    }
}

/// Whether this process has a writable private mapping of the deleted
/// file `name`: a memory's image mapped from it.
fn maps_deleted(name: &str) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .any(|l| l.contains(" rw-p ") && l.contains(name) && l.ends_with("(deleted)"))
}

#[test]
fn a_reused_reservation_comes_back_as_the_image_or_as_zeros() {
    for explicit in [false, true] {
        // One idle reservation at most: each new memory takes the last
        // one freed.
        let engine = engine(explicit, 1);
        for (source, module) in modules(&engine, DATA) {
            {
                let mut store = Store::new(&engine, ());
                let a = Instance::new(&mut store, &module, &[]).unwrap();
                let poke = a.get_typed_func::<(i32, i32), ()>(&store, "store").unwrap();
                poke.call(&mut store, (65536, 1)).unwrap();
                poke.call(&mut store, (131080, 2)).unwrap();
                poke.call(&mut store, (20, 3)).unwrap();
            }
            // The same module again: the image as built, nothing of the last
            // guest's writes.
            {
                let mut store = Store::new(&engine, ());
                let b = Instance::new(&mut store, &module, &[]).unwrap();
                assert_eq!(read(&mut store, &b, 65536, 13), b"first SEGment");
                assert_eq!(read(&mut store, &b, 131072, 11), b"second page");
                assert_eq!(read(&mut store, &b, 20, 1), [0], "{source}");
            }
            // Another module, whose memory has the same layout and no data:
            // zeros where the image was.
            let plain = Module::new(
                &engine,
                r#"(module (memory (export "mem") 3 4)
                 (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
            )
            .unwrap();
            {
                let mut store = Store::new(&engine, ());
                let c = Instance::new(&mut store, &plain, &[]).unwrap();
                assert_eq!(read(&mut store, &c, 0, 3 * 65536), vec![0; 3 * 65536]);
            }
            // A module with another image over other pages.
            let other = Module::new(
                &engine,
                r#"(module (memory (export "mem") 3 4) (data (i32.const 4096) "other"))"#,
            )
            .unwrap();
            let mut store = Store::new(&engine, ());
            let d = Instance::new(&mut store, &other, &[]).unwrap();
            assert_eq!(read(&mut store, &d, 4096, 5), b"other");
            let mut rest = read(&mut store, &d, 0, 3 * 65536);
            rest[4096..4101].fill(0);
            assert_eq!(rest, vec![0; 3 * 65536]);
        }
    }
}

/// Instantiates `module` with a host table of `size` funcrefs (and the
/// memory `mem`, if given) as `host.table` (`host.mem`), expecting a trap
/// after its first element segment stored a function in the table's
/// slot 0; returns the trap and that function.
fn instantiate_failing(
    store: &mut Store<()>,
    module: &Module,
    size: u64,
    mem: Option<cljit::Memory>,
) -> (cljit::Error, cljit::Func) {
    let table = Table::new(
        &mut *store,
        cljit::TableType::new(cljit::RefType::FUNCREF, size, None),
        cljit::Ref::Func(None),
    )
    .unwrap();
    let mut linker = Linker::new(module.engine());
    linker.define("host", "table", table).unwrap();
    if let Some(mem) = mem {
        linker.define("host", "mem", mem).unwrap();
    }
    let trap = linker.instantiate(&mut *store, module).unwrap_err();
    let Some(cljit::Ref::Func(Some(peek))) = table.get(&mut *store, 0) else {
        panic!("the first element segment applied");
    };
    (trap, peek)
}

#[test]
fn a_failed_instantiation_leaves_its_memory_as_copying_in_order_would() {
    // The first element segment stores `$peek` in the imported table; the
    // second is out of bounds, so instantiation traps before any data
    // segment applies. `$peek` stays callable and must see zeros.
    let wat = r#"(module
      (import "host" "table" (table 2 funcref))
      (memory 1)
      (data (i32.const 0) "data")
      (func $peek (result i32) (i32.load8_u (i32.const 0)))
      (elem (i32.const 0) $peek)
      (elem (i32.const 5) $peek))"#;
    for explicit in [false, true] {
        let engine = engine(explicit, 4);
        for (source, module) in modules(&engine, wat) {
            let mut store = Store::new(&engine, ());
            let (trap, peek) = instantiate_failing(&mut store, &module, 2, None);
            assert_eq!(trap.as_trap(), Some(Trap::TableOutOfBounds));
            let mut out = [Val::I32(-1)];
            peek.call(&mut store, &[], &mut out).unwrap();
            assert!(
                matches!(out[0], Val::I32(0)),
                "{source}: data applied: {:?}",
                out[0]
            );
        }
    }
}

#[test]
fn a_segment_trapping_after_an_imaged_memory_leaves_what_came_before() {
    // Memory 1 has an image ("abc", "xyz" over part of it). The third
    // segment, into the imported memory, is out of bounds: the first two
    // must be applied in order, from the bytes the module keeps, and
    // `$peek` (in the imported table) must see them.
    let wat = r#"(module
      (import "host" "table" (table 1 funcref))
      (import "host" "mem" (memory 1))
      (memory 1)
      (data (memory 1) (i32.const 10) "abcdef")
      (data (memory 1) (i32.const 13) "xyz")
      (data (memory 0) (i32.const 65535) "no room")
      (func $peek (param i32) (result i32) (i32.load8_u 1 (local.get 0)))
      (elem (table 0) (i32.const 0) func $peek))"#;
    for explicit in [false, true] {
        let engine = engine(explicit, 4);
        for (source, module) in modules(&engine, wat) {
            let mut store = Store::new(&engine, ());
            let mem = cljit::Memory::new(&mut store, cljit::MemoryType::new(1, None)).unwrap();
            let (trap, peek) = instantiate_failing(&mut store, &module, 1, Some(mem));
            assert_eq!(trap.as_trap(), Some(Trap::MemoryOutOfBounds), "{source}");
            let seen: Vec<u8> = (9..17)
                .map(|at| {
                    let mut out = [Val::I32(-1)];
                    peek.call(&mut store, &[Val::I32(at)], &mut out).unwrap();
                    let Val::I32(byte) = out[0] else { panic!() };
                    byte as u8
                })
                .collect();
            assert_eq!(seen, b"\0abcxyz\0", "{source}");
        }
    }
}

#[test]
fn segments_into_an_imported_memory_are_copied_into_it() {
    // The exporter's memory starts from its image; the importer's own
    // segments must still land in it, and its constant-offset-less segment
    // (a global offset) is copied too.
    let importer = r#"(module
      (import "m" "mem" (memory 3 4))
      (import "m" "at" (global i32))
      (data (i32.const 100) "imported")
      (data (global.get 0) "by global"))"#;
    for explicit in [false, true] {
        let engine = engine(explicit, 4);
        for ((_, exporter), (source, importer)) in modules(&engine, DATA)
            .into_iter()
            .zip(modules(&engine, importer))
        {
            let mut store = Store::new(&engine, ());
            let a = Instance::new(&mut store, &exporter, &[]).unwrap();
            let mem = a.get_memory(&mut store, "mem").unwrap();
            let at = cljit::Global::new(
                &mut store,
                cljit::GlobalType {
                    content: cljit::ValType::I32,
                    mutable: false,
                },
                Val::I32(65536 + 6),
            )
            .unwrap();
            Instance::new(
                &mut store,
                &importer,
                &[Extern::Memory(mem), Extern::Global(at)],
            )
            .unwrap();
            assert_eq!(read(&mut store, &a, 100, 8), b"imported");
            assert_eq!(
                read(&mut store, &a, 65536, 15),
                b"first by global",
                "{source}"
            );
        }
    }
}

#[test]
fn images_of_64_bit_and_byte_paged_memories() {
    let wat = r#"(module
      (memory $m64 (export "mem") i64 2)
      (memory $tiny (export "tiny") 70000 (pagesize 1))
      (data (memory $m64) (i64.const 65540) "sixty-four")
      (data (memory $tiny) (i32.const 69990) "ten bytes!"))"#;
    for explicit in [false, true] {
        let engine = engine(explicit, 4);
        for (source, module) in modules(&engine, wat) {
            for _ in 0..2 {
                let mut store = Store::new(&engine, ());
                let i = Instance::new(&mut store, &module, &[]).unwrap();
                assert_eq!(read(&mut store, &i, 65540, 10), b"sixty-four");
                let tiny = i.get_memory(&mut store, "tiny").unwrap();
                assert_eq!(tiny.data_size(&store), 70000);
                let mut bytes = [0; 10];
                tiny.read(&store, 69990, &mut bytes).unwrap();
                assert_eq!(&bytes, b"ten bytes!");
                assert!(tiny.read(&store, 69991, &mut bytes).is_err(), "{source}");
            }
        }
    }
}
