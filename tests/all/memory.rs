//! Linear memory from the host side, in both bounds-check configurations.

use cljit::{Instance, Memory, MemoryType, Module, Store, Trap};

use crate::engine;

const WAT: &str = r#"(module
  (import "" "mem" (memory 1 4))
  (func (export "sum") (param i32 i32) (result i32)
    (local $s i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 1)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get 0))))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
      (br 0)))
    (local.get $s))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#;

#[test]
fn host_and_wasm_see_the_same_bytes_across_growth() {
    for explicit in [false, true] {
        let engine = engine(explicit);
        let mut store = Store::new(&engine, ());
        let ty = MemoryType::new(1, Some(4));
        let memory = Memory::new(&mut store, ty).unwrap();
        memory.write(&mut store, 100, &[1, 2, 3, 4]).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        let instance = Instance::new(&mut store, &module, &[memory.into()]).unwrap();
        let sum = instance
            .get_typed_func::<(i32, i32), i32>(&store, "sum")
            .unwrap();
        let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
        let poke = instance
            .get_typed_func::<(i32, i32), ()>(&store, "poke")
            .unwrap();
        assert_eq!(sum.call(&mut store, (100, 4)).unwrap(), 10);

        assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
        assert_eq!(memory.size(&store), 3);
        poke.call(&mut store, (3 * 65536 - 1, 9)).unwrap();
        assert_eq!(memory.data(&store)[3 * 65536 - 1], 9);
        assert_eq!(
            sum.call(&mut store, (100, 4)).unwrap(),
            10,
            "contents survive growth"
        );
        let error = poke.call(&mut store, (3 * 65536, 1)).unwrap_err();
        assert_eq!(error.as_trap(), Some(Trap::MemoryOutOfBounds));

        assert_eq!(memory.grow(&mut store, 1).unwrap(), 3);
        poke.call(&mut store, (4 * 65536 - 1, 5)).unwrap();
        assert_eq!(grow.call(&mut store, 1).unwrap(), -1, "maximum reached");
        assert!(memory.grow(&mut store, 1).is_err());
        memory.data_mut(&mut store)[0] = 200;
        assert_eq!(sum.call(&mut store, (0, 1)).unwrap(), 200);
        let mut buf = [0u8; 2];
        assert!(memory.read(&store, 4 * 65536 - 1, &mut buf).is_err());
    }
}

#[test]
fn imports_check_memory_limits() {
    let engine = engine(false);
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, WAT).unwrap();
    let unbounded = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let error = Instance::new(&mut store, &module, &[unbounded.into()]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("incompatible import type for `::mem`"),
        "{error}"
    );
}

/// A guest that fills its memory (after growing it) and counts the bytes
/// that are not zero.
const FILLER: &str = r#"(module
  (memory (export "memory") 2)
  (data (i32.const 16) "seed")
  (func (export "fill") (param $grow i32)
    (drop (memory.grow (local.get $grow)))
    (memory.fill (i32.const 0) (i32.const 0xab) (i32.mul (memory.size) (i32.const 65536))))
  (func (export "dirty") (result i32)
    (local $i i32) (local $n i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (i32.mul (memory.size) (i32.const 65536))))
      (if (i32.load8_u (local.get $i))
        (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $n))
  (func (export "pages") (result i32) (memory.size)))"#;

#[test]
fn a_reused_memory_starts_zeroed_whatever_the_last_guest_did() {
    // Zeroed by stores only, by the kernel only, and by both; memories
    // that grew past the reused part; both bounds-check modes.
    for keep_resident in [0, 64 << 10, 128 << 10, 1 << 20] {
        for explicit in [false, true] {
            let mut config = cljit::Config::new();
            config.memory_keep_resident(keep_resident).memory_reuse(2);
            if explicit {
                config.memory_reservation(0).memory_guard_size(0);
            }
            let engine = cljit::Engine::new(&config).unwrap();
            let module = Module::new(&engine, FILLER).unwrap();
            let mut base = None;
            for (round, grow) in [0, 3, 0, 1, 0].into_iter().enumerate() {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let memory = instance.get_memory(&store, "memory").unwrap();
                let dirty = instance.get_typed_func::<(), i32>(&store, "dirty").unwrap();
                let pages = instance.get_typed_func::<(), i32>(&store, "pages").unwrap();
                let what = format!("keep {keep_resident}, explicit {explicit}, round {round}");
                // Only the data segment's four bytes are set; the size is
                // the module's, whatever the last instance grew to.
                assert_eq!(pages.call(&mut store, ()).unwrap(), 2, "{what}");
                assert_eq!(dirty.call(&mut store, ()).unwrap(), 4, "{what}");
                assert_eq!(&memory.data(&store)[16..20], b"seed", "{what}");
                // Past the size is still out of bounds.
                assert!(memory.read(&store, 2 << 16, &mut [0]).is_err(), "{what}");
                let ptr = memory.data(&store).as_ptr();
                if !explicit && round > 0 {
                    assert_eq!(Some(ptr), base, "{what}: the reservation was reused");
                }
                base = Some(ptr);
                instance
                    .get_typed_func::<i32, ()>(&store, "fill")
                    .unwrap()
                    .call(&mut store, grow)
                    .unwrap();
                assert_eq!(
                    dirty.call(&mut store, ()).unwrap(),
                    (2 + grow) * 65536,
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn memories_made_by_the_host_are_reused_zeroed_too() {
    let mut config = cljit::Config::new();
    config.memory_keep_resident(4096);
    let engine = cljit::Engine::new(&config).unwrap();
    let ty = MemoryType::new(1, None);
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        let memory = Memory::new(&mut store, ty).unwrap();
        assert!(memory.data(&store).iter().all(|&b| b == 0));
        memory.grow(&mut store, 1).unwrap();
        memory.data_mut(&mut store).fill(7);
    }
}

/// A host running many small guests at once (a FaaS worker) keeps them
/// all alive in one process: with explicit bounds checks each memory
/// reserves only its own pages, so 100,000 instances, each in its own
/// store and each writing its own memory, fit.
#[test]
fn a_hundred_thousand_instances_live_at_once() {
    const COUNT: usize = 100_000;
    let engine = engine(true);
    let module = Module::new(
        &engine,
        r#"(module
          (memory 1 1)
          (func (export "set") (param i32) (i32.store (i32.const 4096) (local.get 0)))
          (func (export "get") (result i32) (i32.load (i32.const 4096))))"#,
    )
    .unwrap();
    let start = std::time::Instant::now();
    let mut live = Vec::with_capacity(COUNT);
    for i in 0..COUNT {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])
            .unwrap_or_else(|e| panic!("instance {i} of {COUNT}: {e}"));
        let set = instance.get_typed_func::<i32, ()>(&store, "set").unwrap();
        set.call(&mut store, i as i32).unwrap();
        live.push((store, instance));
    }
    eprintln!("{COUNT} instances in {:?}", start.elapsed());
    for (i, (store, instance)) in live.iter_mut().enumerate() {
        let get = instance.get_typed_func::<(), i32>(&*store, "get").unwrap();
        assert_eq!(get.call(&mut *store, ()).unwrap(), i as i32, "instance {i}");
    }
}
