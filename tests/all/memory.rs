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
        let ty = MemoryType {
            min_pages: 1,
            max_pages: Some(4),
            memory64: false,
            shared: false,
        };
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
    let unbounded = Memory::new(
        &mut store,
        MemoryType {
            min_pages: 1,
            max_pages: None,
            memory64: false,
            shared: false,
        },
    )
    .unwrap();
    let error = Instance::new(&mut store, &module, &[unbounded.into()]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("incompatible import type for `::mem`"),
        "{error}"
    );
}
