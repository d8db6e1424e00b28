;; Three memories in one module, one of them imported: each keeps its own
;; size, bounds (guard region or explicit check), data segments and growth,
;; and bulk operations move bytes between them.

(module $provider
  (memory (export "shared") 1 2)
  (data (i32.const 0) "from the provider"))
(register "provider" $provider)

(module
  (import "provider" "shared" (memory $shared 1 2))
  (memory $small 1 1)
  (memory $big 2)
  (data (memory $small) (i32.const 65535) "\ab")
  (data (memory $big) (i32.const 131070) "\cd\ef")
  (data $passive "passive")

  (func (export "load_small") (param i32) (result i32) (i32.load8_u $small (local.get 0)))
  (func (export "load_big") (param i32) (result i32) (i32.load8_u $big (local.get 0)))
  (func (export "load_shared") (param i32) (result i32) (i32.load8_u $shared (local.get 0)))
  (func (export "store_big") (param i32 i32) (i32.store8 $big (local.get 0) (local.get 1)))
  (func (export "sizes") (result i32 i32 i32)
    (memory.size $shared) (memory.size $small) (memory.size $big))
  (func (export "grow_small") (param i32) (result i32) (memory.grow $small (local.get 0)))
  (func (export "grow_big") (param i32) (result i32) (memory.grow $big (local.get 0)))
  ;; Copies `n` bytes from the shared memory at 0 to the big one at `dst`.
  (func (export "copy_shared_to_big") (param $dst i32) (param $n i32)
    (memory.copy $big $shared (local.get $dst) (i32.const 0) (local.get $n)))
  (func (export "fill_small") (param i32 i32 i32)
    (memory.fill $small (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_big") (param i32)
    (memory.init $big $passive (local.get 0) (i32.const 0) (i32.const 7))))

(assert_return (invoke "sizes") (i32.const 1) (i32.const 1) (i32.const 2))
(assert_return (invoke "load_small" (i32.const 65535)) (i32.const 0xab))
(assert_trap (invoke "load_small" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "load_big" (i32.const 131071)) (i32.const 0xef))
(assert_return (invoke "load_big" (i32.const 65536)) (i32.const 0))
(assert_trap (invoke "load_big" (i32.const 131072)) "out of bounds memory access")
(assert_return (invoke "load_shared" (i32.const 0)) (i32.const 0x66))

;; Growth is per memory: $small is at its maximum, $big is not.
(assert_return (invoke "grow_small" (i32.const 1)) (i32.const -1))
(assert_return (invoke "grow_big" (i32.const 1)) (i32.const 2))
(assert_return (invoke "sizes") (i32.const 1) (i32.const 1) (i32.const 3))
(assert_return (invoke "load_big" (i32.const 196607)) (i32.const 0))
(assert_trap (invoke "load_small" (i32.const 65536)) "out of bounds memory access")

;; Bulk operations name their memories.
(invoke "copy_shared_to_big" (i32.const 196600) (i32.const 4))
(assert_return (invoke "load_big" (i32.const 196600)) (i32.const 0x66))
(assert_return (invoke "load_big" (i32.const 196603)) (i32.const 0x6d))
(assert_trap (invoke "copy_shared_to_big" (i32.const 196605) (i32.const 4)) "out of bounds memory access")
(invoke "fill_small" (i32.const 10) (i32.const 7) (i32.const 3))
(assert_return (invoke "load_small" (i32.const 12)) (i32.const 7))
(assert_return (invoke "load_small" (i32.const 13)) (i32.const 0))
(invoke "init_big" (i32.const 5))
(assert_return (invoke "load_big" (i32.const 5)) (i32.const 0x70))
(assert_trap (invoke "init_big" (i32.const 196605)) "out of bounds memory access")
